//! `liqsim report`: one self-contained HTML page (`report.html`) for a finished output folder —
//! a run, a Monte Carlo, a sweep or a sensitivity analysis, told apart by the files it holds.
//!
//! The page is made only from what the folder holds (`summary.json`, `scenario.json`, the tables
//! and the pictures), so it can be made again at any time and says nothing the folder does not.
//! Pictures are embedded as data URIs and the chart script is inline: the page needs no network.
//! A run's price path is drawn by the page's own script (hover for values, drag to zoom); the
//! rest are the folder's PNGs. Headline numbers carry their `summary.json` value (see
//! [`crate::report::html`]).

use crate::mc::{LevelStats, McSummary};
use crate::report::html::{self, cards, escape, folded, number, picture, table};
use crate::report::lock::{FolderError, open_output};
use crate::report::{ReportError, fmt};
use crate::runner::RunReport;
use crate::scenario::Scenario;
use crate::sim::Verdict;
use serde_json::Value;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::report::REPORT_FILE;

/// Most stretches of the price path the page draws: a longer run is drawn by each stretch's
/// lowest and highest price, the stretches [`STRETCH_SECS`] long.
const PATH_POINTS: usize = 1500;
const STRETCH_SECS: [u64; 13] = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800];
/// Cascades listed one by one.
const CASCADES_LISTED: usize = 10;

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// The folder is not one a report can be made of (exit 2).
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error(transparent)]
    Write(#[from] ReportError),
}

impl PageError {
    /// The user's doing (a folder of the wrong kind, a damaged file, a folder in use).
    pub fn is_bad_input(&self) -> bool {
        match self {
            PageError::Input(_) => true,
            PageError::Folder(f) => f.is_bad_input(),
            PageError::Write(_) => false,
        }
    }
}

/// What a folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    MonteCarlo,
    Sweep,
    Sensitivity,
}

/// Writes `dir/report.html` (atomically, holding the folder's lock) and returns its path.
pub fn write_report(dir: &Path) -> Result<PathBuf, PageError> {
    if !dir.is_dir() {
        let what = if dir.exists() { "is a file, not an output folder" } else { "no such folder" };
        return Err(PageError::Input(format!("{}: {what}", dir.display())));
    }
    let _lock = open_output(dir, "report", &[])?;
    let page = render(dir)?;
    let path = dir.join(REPORT_FILE);
    crate::report::write_atomic(&path, |w| w.write_all(page.as_bytes()))?;
    Ok(path)
}

/// Which kind of folder `dir` is, from its files.
pub fn kind(dir: &Path) -> Result<Kind, PageError> {
    let summary = dir.join("summary.json");
    if summary.exists() {
        let v: Value = parse(&summary, &read(&summary)?)?;
        let has = |k: &str| v.get(k).is_some();
        return if has("one_at_a_time") {
            Ok(Kind::Sensitivity)
        } else if has("probabilities") && has("outcomes") {
            Ok(Kind::MonteCarlo)
        } else if has("final_state_hash") {
            Ok(Kind::Run)
        } else {
            Err(PageError::Input(format!(
                "{}: not the summary of a run, a Monte Carlo or a sensitivity analysis (it has none of \
                 final_state_hash, probabilities or one_at_a_time)",
                summary.display()
            )))
        };
    }
    if dir.join("sweep.csv").exists() {
        return Ok(Kind::Sweep);
    }
    if dir.join("mc.json").exists() {
        return Err(PageError::Input(format!(
            "{}: no summary.json: a Monte Carlo shard or one not finished; merge the shards \
             (`liqsim merge`) or finish it (`liqsim mc ... --resume`), then make its report",
            dir.display()
        )));
    }
    Err(PageError::Input(format!(
        "{}: not a liqsim output folder: no summary.json (a run, Monte Carlo or sensitivity analysis) \
         and no sweep.csv (a sweep)",
        dir.display()
    )))
}

/// The page for `dir`.
pub fn render(dir: &Path) -> Result<String, PageError> {
    let (title, body) = match kind(dir)? {
        Kind::Run => run_page(dir)?,
        Kind::MonteCarlo => mc_page(dir)?,
        Kind::Sweep => sweep_page(dir)?,
        Kind::Sensitivity => sensitivity_page(dir)?,
    };
    let footer = format!(
        "<footer>Made by liqsim {} (<code>liqsim report {}</code>) from the files of this folder.</footer>\n",
        env!("CARGO_PKG_VERSION"),
        escape(&dir.display().to_string())
    );
    Ok(html::page(&title, &(body + &footer)))
}

fn read(path: &Path) -> Result<String, PageError> {
    fs::read_to_string(path)
        .map_err(|e| PageError::Input(format!("{}: cannot read it ({e})", path.display())))
}

/// JSON of `path`, or where and what is wrong with it.
fn parse<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, PageError> {
    serde_json::from_str(text).map_err(|e| {
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        PageError::Input(format!("{}:{}:{}: {what}", path.display(), e.line(), e.column()))
    })
}

/// The folder's `summary.json`, as a type and as a value (for the headline numbers' keys).
fn summary<T: serde::de::DeserializeOwned>(dir: &Path) -> Result<(T, Value), PageError> {
    let path = dir.join("summary.json");
    let text = read(&path)?;
    Ok((parse(&path, &text)?, parse(&path, &text)?))
}

/// The headline number at the JSON pointer `key` of `summary`, shown by `show`.
fn headline(summary: &Value, label: &str, key: &str, show: impl Fn(f64) -> String) -> (String, String) {
    let value = summary.pointer(key).cloned().unwrap_or(Value::Null);
    let shown = value.as_f64().map_or_else(|| "–".to_string(), show);
    (label.to_string(), number(key, &value, &shown))
}

/// A section with a heading.
fn section(heading: &str, body: &str) -> String {
    format!("<section><h2>{}</h2>\n{body}</section>\n", escape(heading))
}

/// The folder's PNGs among `names` (missing ones are left out: pictures can be turned off).
fn pictures(dir: &Path, names: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (file, caption) in names {
        if let Ok(bytes) = fs::read(dir.join(file)) {
            out.push_str(&picture(&bytes, &format!("{caption} ({file})")));
        }
    }
    if out.is_empty() {
        out = "<p>No pictures in this folder (the scenario's <code>outputs.pictures</code> is off).</p>\n"
            .into();
    }
    out
}

/// The scenario as the folder stores it (`scenario.json`, its canonical form), folded.
fn scenario_section(dir: &Path) -> String {
    match fs::read_to_string(dir.join("scenario.json")) {
        Ok(text) => section(
            "Scenario",
            &format!(
                "<p>Its canonical form (every default filled in), as stored in the folder.</p>\n{}",
                folded("scenario.json", &text)
            ),
        ),
        Err(_) => section("Scenario", "<p>This folder does not store its scenario (scenario.json).</p>\n"),
    }
}

// ---- a run ----------------------------------------------------------------------------------

fn run_page(dir: &Path) -> Result<(String, String), PageError> {
    let (r, v): (RunReport, Value) = summary(dir)?;
    let scenario_path = dir.join("scenario.json");
    if !scenario_path.exists() {
        return Err(PageError::Input(format!(
            "{}: missing: this run folder does not store its scenario (made by an older liqsim); run the \
             scenario again to report on it",
            scenario_path.display()
        )));
    }
    let scenario: Scenario = parse(&scenario_path, &read(&scenario_path)?)?;
    let tick_secs = scenario.tick.secs().max(1);
    let s = &r.summary;
    let mut heads = vec![
        headline(&v, "final price", "/final_price", fmt::price),
        headline(&v, "high", "/max_price", fmt::price),
        headline(&v, "low", "/min_price", fmt::price),
        headline(&v, "longs liquidated", "/liquidated_notional_long", fmt::usd),
        headline(&v, "shorts liquidated", "/liquidated_notional_short", fmt::usd),
    ];
    if !s.hunters.is_empty() {
        heads.push(headline(&v, "hunters' PnL", "/hunter_pnl", fmt::usd));
    }
    heads.push(headline(&v, "insurance fund at the end", "/insurance_fund_final", fmt::usd));
    heads.push(headline(&v, "events", "/events", |x| fmt::thousands(x, 0)));
    let mut body = format!(
        "<p class=\"lead\">One run of <b>{}</b>, seed {}, {} simulated in ticks of {} s.</p>\n{}",
        escape(&r.scenario),
        r.seed,
        fmt::duration(s.ticks * tick_secs),
        tick_secs,
        cards(&heads)
    );
    let words = crate::runner::text::run_summary(&r, tick_secs, dir);
    body += &section("In words", &format!("<pre class=\"words\">{}</pre>\n", escape(&words)));
    body += &section("Price", &price_chart(dir, tick_secs, &scenario.watch_levels)?);
    body += &section("Watch levels", &levels_table(&r, tick_secs));
    body += &section("Biggest cascades", &cascades_table(&r, tick_secs));
    body += &section(
        "Pictures",
        &pictures(
            dir,
            &[
                ("heatmap.png", "Liquidation heatmap over time"),
                ("price.png", "Last, mark and index price, liquidations per minute"),
                ("map.png", "Liquidation map at the start, by leverage"),
                ("belief.png", "What the hunter believed the map was, beside the true one"),
            ],
        ),
    );
    body += &scenario_section(dir);
    Ok((format!("{} — run, seed {}", r.scenario, r.seed), body))
}

/// The price path for the page's chart, from `ticks.csv`, thinned to [`PATH_POINTS`]: each
/// stretch gives its lowest and highest trade (a tick's `low` and `high`; its `last` in a
/// `ticks.csv` written before those columns were), in time order, with the liquidations summed
/// over the stretch.
fn price_chart(dir: &Path, tick_secs: u64, levels: &[f64]) -> Result<String, PageError> {
    let path = dir.join("ticks.csv");
    let text = read(&path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let names =
        ["tick", "last", "mark", "index", "liquidated_long_usd", "liquidated_short_usd", "low", "high"];
    let mut at = [0usize; 8];
    for (i, n) in names.iter().enumerate() {
        at[i] = match header.iter().position(|h| h == n) {
            Some(k) => k,
            // No range columns: each tick's range is its close.
            None if i >= 6 => at[1],
            None => {
                return Err(PageError::Input(format!("{}:1: no column {n:?} in the header", path.display())));
            }
        };
    }
    let mut rows: Vec<[f64; 8]> = Vec::new();
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let mut row = [0.0; 8];
        for (k, &c) in at.iter().enumerate() {
            row[k] = cells.get(c).and_then(|x| x.parse().ok()).filter(|x: &f64| x.is_finite()).ok_or_else(
                || PageError::Input(format!("{}:{}: {} is not a number", path.display(), i + 2, names[k])),
            )?;
        }
        rows.push(row);
    }
    if rows.is_empty() {
        return Ok("<p>No ticks to draw (ticks.csv is empty).</p>\n".into());
    }
    // Stretches of a round length, at most PATH_POINTS of them.
    let run_secs = rows.len() as u64 * tick_secs;
    let step_secs = STRETCH_SECS
        .iter()
        .copied()
        .find(|s| run_secs.div_ceil(*s) <= PATH_POINTS as u64)
        .unwrap_or_else(|| run_secs.div_ceil(PATH_POINTS as u64));
    let step = step_secs.div_ceil(tick_secs).max(1) as usize;
    let mut series: [Vec<f64>; 6] = Default::default();
    for chunk in rows.chunks(step) {
        // The stretch's lowest and highest trade, in time order, so that no spike is lost (a
        // watch level is touched by a trade); its liquidations go on the first of them.
        let low = chunk.iter().min_by(|a, b| a[6].total_cmp(&b[6])).copied().unwrap_or(chunk[0]);
        let high = chunk.iter().max_by(|a, b| a[7].total_cmp(&b[7])).copied().unwrap_or(chunk[0]);
        let (low, high) = ((low, low[6]), (high, high[7]));
        let mut points = if low.0[0] <= high.0[0] { vec![low, high] } else { vec![high, low] };
        points.dedup_by(|a, b| a.0[0] == b.0[0] && a.1 == b.1);
        for (i, (p, traded)) in points.iter().enumerate() {
            series[0].push(p[0] * tick_secs as f64 / 60.0);
            series[1].push(*traded);
            for k in 2..4 {
                series[k].push(p[k]);
            }
            for k in 4..6 {
                series[k].push(if i == 0 { chunk.iter().map(|r| r[k]).sum() } else { 0.0 });
            }
        }
    }
    let [minutes, last, mark, index, long, short] = series;
    let data = serde_json::json!({
        "step_secs": step as u64 * tick_secs,
        "minutes": minutes, "last": last, "mark": mark, "index": index,
        "long": long, "short": short, "levels": levels,
    });
    Ok(format!(
        "<p class=\"note\">Hover for values; drag across to zoom, double-click to zoom out.</p>\n\
         <div class=\"chart\" id=\"price-chart\"></div>\n{}",
        html::json_data("price-data", &data.to_string())
    ))
}

fn levels_table(r: &RunReport, tick_secs: u64) -> String {
    let s = &r.summary;
    if s.levels.is_empty() {
        return "<p>The scenario watches no levels.</p>\n".into();
    }
    let at = |tick: u64| fmt::clock(tick * tick_secs);
    let mut levels: Vec<_> = s.levels.iter().collect();
    levels.sort_by(|a, b| b.level.total_cmp(&a.level));
    let rows: Vec<Vec<String>> = levels
        .iter()
        .map(|l| {
            let verdict = match l.verdict {
                Verdict::Accelerated => "accelerated through it",
                Verdict::Absorbed => "absorbed",
                Verdict::Rejected => "rejected short of it",
                Verdict::Untouched => "not touched",
            };
            let touched = l.first_tick.filter(|_| l.touched).map_or_else(|| "–".to_string(), at);
            let closest = if l.touched {
                "–".to_string()
            } else {
                format!("{:.1}% away, at {}", l.closest_gap * 100.0, at(l.closest_tick))
            };
            let velocity = if l.touched {
                format!("{:+.2}% / {:+.2}%", l.velocity_before_pct_min, l.velocity_after_pct_min)
            } else {
                "–".to_string()
            };
            vec![
                escape(&level(l.level)),
                format!("<span class=\"verdict {}\">{verdict}</span>", verdict_class(l.verdict)),
                touched,
                closest,
                velocity,
                escape(&fmt::usd(l.liquidated_near_usd)),
            ]
        })
        .collect();
    table(
        &[
            "level",
            "verdict",
            "first touch",
            "closest approach",
            "velocity before / after (per min)",
            "liquidated near it",
        ],
        &rows,
    )
}

/// A watch level as the scenario writes it, with separators: "$65,000", "$57,900.5".
fn level(price: f64) -> String {
    format!("${}", fmt::thousands(price, if price.fract() == 0.0 { 0 } else { 1 }))
}

fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Accelerated => "accelerated",
        Verdict::Absorbed => "absorbed",
        Verdict::Rejected => "rejected",
        Verdict::Untouched => "untouched",
    }
}

fn cascades_table(r: &RunReport, tick_secs: u64) -> String {
    let s = &r.summary;
    if s.cascades.is_empty() {
        return "<p>No cascades.</p>\n".into();
    }
    let mut cascades: Vec<_> = s.cascades.iter().collect();
    cascades.sort_by(|a, b| b.notional_usd.total_cmp(&a.notional_usd));
    let rows: Vec<Vec<String>> = cascades
        .iter()
        .take(CASCADES_LISTED)
        .map(|c| {
            let secs = (c.end_tick.saturating_sub(c.start_tick) + 1) * tick_secs;
            let who = if c.net_short_usd > 0.0 { "shorts (squeeze up)" } else { "longs (flush down)" };
            vec![
                fmt::clock(c.start_tick * tick_secs),
                fmt::duration(secs),
                escape(&fmt::usd(c.notional_usd)),
                fmt::thousands(c.accounts as f64, 0),
                who.to_string(),
                escape(&format!("{} → {}", fmt::price(c.price_before), fmt::price(c.price_after))),
            ]
        })
        .collect();
    let total: f64 = cascades.iter().map(|c| c.notional_usd).sum();
    let which = if rows.len() < cascades.len() {
        format!("the {} largest", rows.len())
    } else {
        "largest first".to_string()
    };
    let noun = if cascades.len() == 1 { "cascade" } else { "cascades" };
    let mut t = format!(
        "<p>{} {noun}, {} liquidated in them; {which}:</p>\n",
        cascades.len(),
        escape(&fmt::usd(total)),
    );
    t +=
        &table(&["from", "lasting", "liquidated", "accounts", "mostly", "last price, before → after"], &rows);
    t
}

// ---- a Monte Carlo --------------------------------------------------------------------------

fn mc_page(dir: &Path) -> Result<(String, String), PageError> {
    let (s, v): (McSummary, Value) = summary(dir)?;
    let outcome = |name: &str| s.outcomes.iter().position(|o| o.name == name);
    let probability = |name: &str| s.probabilities.iter().position(|p| p.name == name);
    let mut heads = vec![headline(&v, "runs", "/runs", |x| fmt::thousands(x, 0))];
    for (label, name) in
        [("final price, median", "final_price"), ("max drawdown, median", "max_drawdown_pct")]
    {
        if let Some(i) = outcome(name) {
            heads.push(headline(&v, label, &format!("/outcomes/{i}/p50"), |x| show(name, x)));
        }
    }
    for (label, name) in [
        ("P(squeeze up)", "squeeze_up"),
        ("P(squeeze down)", "squeeze_down"),
        ("P(10% move)", "move_10pct"),
        ("P(hunters lose)", "hunter_loss"),
    ] {
        if let Some(i) = probability(name) {
            heads.push(headline(&v, label, &format!("/probabilities/{i}/p"), |x| {
                format!("{:.1}%", x * 100.0)
            }));
        }
    }
    let mut body = format!(
        "<p class=\"lead\">A Monte Carlo of <b>{}</b>: {} runs, master seed {}.</p>\n{}",
        escape(&s.scenario),
        s.runs,
        s.master_seed,
        cards(&heads)
    );
    body += &section("In words", &mc_words(&s));
    let rows: Vec<Vec<String>> = s
        .probabilities
        .iter()
        .map(|p| {
            let q = &p.probability;
            vec![
                format!("<code>{}</code>", escape(&p.name)),
                format!("{:.1}%", q.p * 100.0),
                interval_bar(q.p, q.lo, q.hi),
                format!("{} / {}", q.count, q.runs),
                escape(&p.definition),
            ]
        })
        .collect();
    let intervals = format!("<p>Intervals: the {}.</p>\n", escape(&s.interval));
    body += &section(
        "Probabilities, with 95% intervals",
        &(intervals + &table(&["event", "p", "interval", "runs", "definition"], &rows)),
    );
    if !s.levels.is_empty() {
        body += &section("Watch levels", &mc_levels(&s.levels));
    }
    let rows: Vec<Vec<String>> = s
        .outcomes
        .iter()
        .map(|o| {
            let q = &o.stats;
            let mut row = vec![format!("<code>{}</code>", escape(&o.name))];
            for x in [q.p5, q.p25, q.p50, q.p75, q.p95, q.mean] {
                row.push(escape(&x.map_or_else(|| "–".to_string(), |x| show(&o.name, x))));
            }
            row
        })
        .collect();
    let mut dist = pictures(dir, &[("fan.png", "Price paths: median and quantile bands over time")]);
    let histograms = pictures(
        dir,
        &[
            ("hist_final_price.png", "Final price"),
            ("hist_max_price.png", "Highest price"),
            ("hist_liquidated_long.png", "Longs liquidated"),
            ("hist_liquidated_short.png", "Shorts liquidated"),
        ],
    );
    dist += &format!("<div class=\"grid\">{histograms}</div>\n");
    dist += &format!("<p>{}.</p>\n", escape(&s.quantile_definition));
    dist += &table(&["outcome", "p5", "p25", "p50", "p75", "p95", "mean"], &rows);
    body += &section("Distributions", &dist);
    body += &scenario_section(dir);
    Ok((format!("{} — Monte Carlo of {} runs", s.scenario, s.runs), body))
}

/// A few sentences on a Monte Carlo's main outcomes.
fn mc_words(s: &McSummary) -> String {
    let mut t = String::new();
    let pct = |p: f64| format!("{:.1}%", p * 100.0);
    if let Some(q) = s.outcome("final_price")
        && let (Some(p5), Some(p50), Some(p95)) = (q.p5, q.p50, q.p95)
    {
        t += &format!(
            "From {}, the price ended at {} in the median run, between {} and {} in 90% of runs. ",
            fmt::price(s.start_price),
            fmt::price(p50),
            fmt::price(p5),
            fmt::price(p95)
        );
    }
    for (name, what) in [("squeeze_up", "squeezed the shorts up"), ("squeeze_down", "flushed the longs down")]
    {
        if let Some(p) = s.probability(name) {
            t += &format!(
                "{} of {} runs {what} ({}, 95% interval {}–{}). ",
                p.count,
                p.runs,
                pct(p.p),
                pct(p.lo),
                pct(p.hi)
            );
        }
    }
    if let Some(p) = s.probability("hunter_loss") {
        t += &format!("The hunters lost money in {} of {} runs. ", p.count, p.runs);
    }
    format!("<p>{}</p>\n", escape(t.trim_end()))
}

fn mc_levels(levels: &[LevelStats]) -> String {
    let rows: Vec<Vec<String>> = levels
        .iter()
        .map(|l| {
            let q = &l.touched;
            let minutes = l.minutes_to_touch.p50.map_or_else(|| "–".to_string(), fmt::clock_minutes);
            vec![
                escape(&level(l.level)),
                format!("{:.1}%", q.p * 100.0),
                interval_bar(q.p, q.lo, q.hi),
                minutes,
                format!("{} / {} / {} / {}", l.accelerated, l.absorbed, l.rejected, l.untouched),
            ]
        })
        .collect();
    table(
        &[
            "level",
            "P(touch)",
            "interval",
            "time to touch, median (HH:MM)",
            "accelerated / absorbed / rejected / untouched",
        ],
        &rows,
    )
}

/// A probability's 95% interval drawn as a bar on 0–100%, with the numbers beside it.
fn interval_bar(p: f64, lo: f64, hi: f64) -> String {
    let c = |x: f64| x.clamp(0.0, 1.0) * 100.0;
    format!(
        "<span class=\"interval\" title=\"{:.1}% [{:.1}%, {:.1}%]\"><span class=\"range\" style=\"left:{:.2}%;width:{:.2}%\">\
         </span><span class=\"point\" style=\"left:{:.2}%\"></span></span> {:.1}–{:.1}%",
        c(p),
        c(lo),
        c(hi),
        c(lo),
        (c(hi) - c(lo)).max(0.5),
        c(p),
        c(lo),
        c(hi)
    )
}

/// A Monte Carlo number by what its name says it is: prices, USD, percentages, counts.
fn show(name: &str, x: f64) -> String {
    if name.contains("price") || name.ends_with("_mark") {
        fmt::price(x)
    } else if name.ends_with("_pct") {
        format!("{x:.1}%")
    } else if name == "funding_rate_accrued" {
        format!("{:.4}%", x * 100.0)
    } else if name.contains("notional")
        || name.contains("usd")
        || name.contains("pnl")
        || name.contains("fund")
    {
        fmt::usd(x)
    } else if x.fract() == 0.0 || x.abs() >= 100.0 {
        fmt::thousands(x, 0)
    } else {
        fmt::thousands(x, 2)
    }
}

// ---- a sweep and a sensitivity analysis -----------------------------------------------------

fn sweep_page(dir: &Path) -> Result<(String, String), PageError> {
    let path = dir.join("sweep.csv");
    let text = read(&path)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    let rows: Vec<Vec<String>> = lines
        .map(|l| {
            l.split(',')
                .map(|c| match c.parse::<f64>() {
                    Ok(x) if x.fract() != 0.0 => format!("{x:.4}"),
                    _ => escape(c),
                })
                .collect()
        })
        .collect();
    let name = fs::read_to_string(dir.join("scenario.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| dir.display().to_string());
    let mut heatmaps: Vec<String> = fs::read_dir(dir)
        .map_err(|e| PageError::Input(format!("{}: cannot list it ({e})", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.starts_with("heatmap_") && n.ends_with(".png"))
        .collect();
    heatmaps.sort();
    let names: Vec<(&str, &str)> =
        heatmaps.iter().map(|n| (n.as_str(), "The sweep's metric by its axes")).collect();
    let mut body = format!(
        "<p class=\"lead\">A sweep of <b>{}</b>: a Monte Carlo in each of {} cells (their folders are \
         <code>cell-NNN/</code>, each with a report of its own: <code>liqsim report DIR/cell-000</code>).</p>\n",
        escape(&name),
        rows.len()
    );
    body += &section("Cells", &table(&header, &rows));
    body += &section("Pictures", &pictures(dir, &names));
    body += &scenario_section(dir);
    Ok((format!("{name} — sweep of {} cells", rows.len()), body))
}

fn sensitivity_page(dir: &Path) -> Result<(String, String), PageError> {
    let (v, _): (Value, Value) = summary(dir)?;
    let name = v.get("scenario").and_then(Value::as_str).unwrap_or("?").to_string();
    let heads = vec![
        headline(&v, "values per parameter", "/points_per_parameter", |x| fmt::thousands(x, 0)),
        headline(&v, "distinct points", "/distinct_points", |x| fmt::thousands(x, 0)),
        headline(&v, "runs per point", "/runs_per_point", |x| fmt::thousands(x, 0)),
        headline(&v, "simulations", "/simulations", |x| fmt::thousands(x, 0)),
    ];
    let mut body = format!(
        "<p class=\"lead\">A sensitivity analysis of <b>{}</b>, master seed {}: every point runs the same \
         seeds.</p>\n{}",
        escape(&name),
        escape(&v.get("master_seed").map(Value::to_string).unwrap_or_default()),
        cards(&heads)
    );
    let table_text = fs::read_to_string(dir.join("sensitivity.txt")).unwrap_or_default();
    body += &section("Swings", &format!("<pre class=\"words\">{}</pre>\n", escape(&table_text)));
    body += &section("Pictures", &pictures(dir, &[("tornado.png", "Each parameter's swing of each metric")]));
    body += &scenario_section(dir);
    Ok((format!("{name} — sensitivity analysis"), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("liqsim-page-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The chart's traded series of a page's price section.
    fn traded(html: &str) -> Vec<f64> {
        let from = html.find("\"last\":[").unwrap() + 8;
        let to = from + html[from..].find(']').unwrap();
        html[from..to].split(',').map(|x| x.parse().unwrap()).collect()
    }

    #[test]
    fn the_price_chart_draws_each_stretch_s_lowest_and_highest_trade() {
        let dir = temp_dir("wicks");
        let head = "tick,last,mark,index,liquidated_long_usd,liquidated_short_usd";
        // Ten one-second ticks, one stretch each (under the chart's points): the third traded
        // down to 95 and closed at 100.
        let rows: Vec<String> =
            (1..=10).map(|t| format!("{t},100,100,100,0,0,{},100", if t == 3 { 95 } else { 100 })).collect();
        fs::write(dir.join("ticks.csv"), format!("{head},low,high\n{}\n", rows.join("\n"))).unwrap();
        let drawn = traded(&price_chart(&dir, 1, &[]).unwrap());
        assert_eq!(drawn.iter().copied().fold(f64::INFINITY, f64::min), 95.0, "{drawn:?}");
        // A ticks.csv without the range columns draws its closes.
        let rows: Vec<String> = (1..=10).map(|t| format!("{t},{},101,102,0,0", 100 + t)).collect();
        fs::write(dir.join("ticks.csv"), format!("{head}\n{}\n", rows.join("\n"))).unwrap();
        let drawn = traded(&price_chart(&dir, 1, &[]).unwrap());
        assert_eq!(drawn, (1..=10).map(|t| 100.0 + t as f64).collect::<Vec<_>>());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_folder_of_no_known_kind_or_with_a_damaged_summary_is_named_with_what_is_wrong() {
        let dir = temp_dir("kinds");
        let e = write_report(&dir).unwrap_err();
        assert!(e.is_bad_input() && e.to_string().contains("not a liqsim output folder"), "{e}");
        fs::write(dir.join("summary.json"), "{\"runs\": 3,\n \"oops\"").unwrap();
        let e = write_report(&dir).unwrap_err().to_string();
        assert!(e.contains("summary.json:2:") && e.contains("EOF"), "{e}");
        fs::write(dir.join("summary.json"), "{\"runs\": 3}").unwrap();
        let e = write_report(&dir).unwrap_err().to_string();
        assert!(e.contains("not the summary of a run"), "{e}");
        // A run's summary without its fields: where and what.
        fs::write(dir.join("summary.json"), "{\"final_state_hash\": \"x\", \"ticks\": 1}").unwrap();
        fs::write(dir.join("scenario.json"), "{}").unwrap();
        let e = write_report(&dir).unwrap_err().to_string();
        assert!(e.contains("summary.json:1:") && e.contains("missing field `scenario`"), "{e}");
        assert!(!dir.join(REPORT_FILE).exists());
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "nothing else left behind: {names:?}");
    }

    #[test]
    fn a_scenario_reads_back_from_its_canonical_form() {
        let v = crate::scenario::load(Path::new("scenarios/btc_14_to_1.ron")).unwrap();
        let back: Scenario = serde_json::from_str(&crate::scenario::canonical(&v.scenario)).unwrap();
        assert_eq!(back, v.scenario);
    }
}
