//! The pieces of a self-contained HTML page (the report of [`crate::page`]): escaped text,
//! pictures as data URIs, tables, data for the page's own script, and headline numbers marked
//! for machines.
//!
//! A headline number is `<b data-key="/final_price" data-value="70595.3">$70,595.3</b>`:
//! `data-key` is a JSON pointer (RFC 6901) into the folder's `summary.json` and `data-value` the
//! value as it is there, so a check can compare the page with the summary
//! (`tools/report_check.py`); the text between the tags is for people.

use std::fmt::Write;

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Standard base64 (RFC 4648, with padding), for data URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A PNG picture embedded in the page, with its caption.
pub fn picture(png: &[u8], caption: &str) -> String {
    format!(
        "<figure><img alt=\"{c}\" src=\"data:image/png;base64,{}\"><figcaption>{c}</figcaption></figure>\n",
        base64(png),
        c = escape(caption)
    )
}

/// A table; the header is text, the cells already HTML (escape what is text).
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    // Wide tables scroll sideways inside the page.
    let mut t = String::from("<div class=\"wide\"><table><thead><tr>");
    for h in header {
        let _ = write!(t, "<th>{}</th>", escape(h));
    }
    t.push_str("</tr></thead><tbody>\n");
    for row in rows {
        t.push_str("<tr>");
        for cell in row {
            let _ = write!(t, "<td>{cell}</td>");
        }
        t.push_str("</tr>\n");
    }
    t.push_str("</tbody></table></div>\n");
    t
}

/// A headline number: `shown` for people, `value` (found at the JSON pointer `key` of
/// `summary.json`) for machines.
pub fn number(key: &str, value: &serde_json::Value, shown: &str) -> String {
    let raw = match value {
        serde_json::Value::String(s) => s.clone(),
        v => v.to_string(),
    };
    format!("<b data-key=\"{}\" data-value=\"{}\">{}</b>", escape(key), escape(&raw), escape(shown))
}

/// A row of headline cards: (label, a [`number`] or other HTML).
pub fn cards(items: &[(String, String)]) -> String {
    let mut t = String::from("<div class=\"cards\">");
    for (label, value) in items {
        let _ = write!(t, "<div class=\"card\"><span>{}</span>{value}</div>", escape(label));
    }
    t.push_str("</div>\n");
    t
}

/// JSON for the page's script, in a `<script type="application/json">` that the JSON cannot
/// close early.
pub fn json_data(id: &str, json: &str) -> String {
    let safe = json.replace("</", "<\\/").replace("<!--", "<\\!--");
    format!("<script type=\"application/json\" id=\"{}\">{safe}</script>\n", escape(id))
}

/// Long text (a scenario, a table) folded under a summary line.
pub fn folded(summary: &str, text: &str) -> String {
    format!("<details><summary>{}</summary><pre>{}</pre></details>\n", escape(summary), escape(text))
}

/// The whole page: a title, the body's HTML, the stylesheet and the chart script inline.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t}</title>\n<style>\n{}</style>\n</head>\n<body>\n<h1>{t}</h1>\n{body}\
         <script>\n{}</script>\n</body>\n</html>\n",
        include_str!("report.css"),
        include_str!("report.js"),
        t = escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_bytes_encode_as_base64() {
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
        let n = number("/final_price", &serde_json::json!(70595.3), "$70,595.3");
        assert_eq!(n, "<b data-key=\"/final_price\" data-value=\"70595.3\">$70,595.3</b>");
        let hostile = json_data("d", "{\"name\":\"</script><script>alert(1)</script>\"}");
        assert_eq!(hostile.matches("</script>").count(), 1, "{hostile}");
    }
}
