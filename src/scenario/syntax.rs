//! Where a syntax error is, as a field path: RON's parser says `file:line:column` and what it
//! expected, but not in which field; reading the text up to that place gives it
//! (`map.bands[0].leverage[0].leverage`), so a number of the wrong kind is named like any
//! other invalid value.

/// One open bracket on the way to the error.
enum Frame {
    /// `(`: a struct (its current field, once named) or a tuple, or `Some(`.
    Paren(Option<String>),
    /// `[`: a list and the index of its current element.
    Bracket(usize),
    /// `{`: a map.
    Brace,
}

/// The byte offset of a 1-based `line` and `column` (in characters) in `text`.
pub fn offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let start: usize = text.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum::<usize>();
    let rest = text.get(start..)?;
    let within = rest.char_indices().nth(column.checked_sub(1)?).map_or(rest.len(), |(i, _)| i);
    Some(start + within)
}

/// The literal around `at` (a number, a word), e.g. `-3`.
pub fn token_at(text: &str, at: usize) -> &str {
    let part = |c: char| c.is_ascii_alphanumeric() || "+-._".contains(c);
    let at = at.min(text.len());
    let start = text[..at].rfind(|c: char| !part(c)).map_or(0, |i| i + 1);
    let end = text[at..].find(|c: char| !part(c)).map_or(text.len(), |i| at + i);
    &text[start..end]
}

/// The field path of the value at byte `at` of a RON text, if it is inside a field.
pub fn field_path(text: &str, at: usize) -> Option<String> {
    let bytes = text.as_bytes();
    let end = at.min(bytes.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut word = String::new();
    let mut i = 0;
    while i < end {
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < end && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < end && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'"' => {
                i += 1;
                while i < end && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                word.clear();
            }
            b'(' => stack.push(Frame::Paren(None)),
            b'[' => stack.push(Frame::Bracket(0)),
            b'{' => stack.push(Frame::Brace),
            b')' | b']' | b'}' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Paren(field)) => *field = None,
                Some(Frame::Bracket(n)) => *n += 1,
                _ => {}
            },
            b':' => {
                if let Some(Frame::Paren(field)) = stack.last_mut()
                    && !word.is_empty()
                {
                    *field = Some(std::mem::take(&mut word));
                }
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' => {
                if i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
                    word.clear();
                }
                word.push(c as char);
                i += 1;
                continue;
            }
            _ if c.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            _ => {}
        }
        if c != b':' {
            word.clear();
        }
        i += 1;
    }
    let mut path = String::new();
    for f in &stack {
        match f {
            Frame::Paren(Some(field)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(field);
            }
            Frame::Bracket(n) => path.push_str(&format!("[{n}]")),
            Frame::Paren(None) | Frame::Brace => {}
        }
    }
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_of_a_place_in_the_text() {
        let text = "(\n  // a comment: (with [brackets]\n  map: (bands: [(side: Short), (leverage: [(leverage: 3, \
                    weight: 1.0), (leverage: -3, weight: 1.0)])]),\n  background: (noise: Some((agents: 5))),\n)";
        let at = text.find("-3").unwrap();
        assert_eq!(field_path(text, at).as_deref(), Some("map.bands[1].leverage[1].leverage"));
        assert_eq!(token_at(text, at + 1), "-3");
        let at = text.find("5))").unwrap();
        assert_eq!(field_path(text, at).as_deref(), Some("background.noise.agents"));
        assert_eq!(field_path(text, 1), None);
        let line3 = text.lines().nth(2).unwrap();
        assert_eq!(offset(text, 3, 3), Some(text.find(line3).unwrap() + 2));
    }
}
