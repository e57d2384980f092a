//! `liqsim compare`: two or more run folders, or two or more Monte Carlo folders, side by side.
//!
//! - **Runs** (folders `liqsim run` wrote): each headline number of `summary.json` per run and
//!   each run's difference from the first (single runs: no intervals), the watch levels'
//!   verdicts, and `price.png`: the last prices and the cumulative liquidated notional overlaid.
//! - **Monte Carlo folders** (whole ones, `liqsim mc` or `liqsim merge`): per numeric outcome the
//!   median with its p5–p95 range; the difference of medians from the first folder with a 95%
//!   percentile-bootstrap interval ([`RESAMPLES`] resamples of each folder's runs, drawn with
//!   replacement, by a SplitMix64 stream seeded from the outcome's name, so the output is the
//!   same bytes every time); per probability its Wilson interval and the difference's 95%
//!   Newcombe hybrid score interval (method 10 of Newcombe 1998, built from the two Wilson
//!   intervals). Pictures: `fan.png`, the fan charts overlaid, and `hist_<outcome>.png`,
//!   histograms on shared bins.
//!
//! Everything printed is written to `compare.txt`, the numbers to `compare.csv`, in `--out`.

use crate::mc::{self, Manifest, McError, McSummary, RunOutcome, numeric_columns, stats};
use crate::report::fmt::{clock_minutes, thousands};
use crate::report::lock::open_output;
use crate::report::{self, ReportError};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Bootstrap resamples per difference of medians.
pub const RESAMPLES: usize = 2000;

/// Why a comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The user's input cannot be used (exit 2).
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Folder(crate::report::lock::FolderError),
}

fn input(msg: impl Into<String>) -> CompareError {
    CompareError::Input(msg.into())
}

/// A run folder: its summary and its tick series.
#[derive(Clone, Debug)]
pub struct RunFolder {
    pub dir: PathBuf,
    pub scenario: String,
    pub seed: u64,
    pub summary: serde_json::Value,
    pub minutes: Vec<f64>,
    pub last: Vec<f64>,
    /// Liquidated notional (longs and shorts) at each tick, USD.
    pub liquidated_usd: Vec<f64>,
}

/// A whole Monte Carlo folder: its manifest, its runs and their statistics.
#[derive(Clone, Debug)]
pub struct McFolder {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub runs: Vec<RunOutcome>,
    pub summary: McSummary,
}

/// What was compared.
#[derive(Clone, Debug)]
pub enum Folders {
    Runs(Vec<RunFolder>),
    Mcs(Vec<McFolder>),
}

/// The result: the text printed (and written to `compare.txt`) and the files written.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub text: String,
    pub files: Vec<String>,
}

/// Folder `i`'s label in tables and legends: A, B, C, …
pub fn label(i: usize) -> String {
    let letters = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    match letters.get(i) {
        Some(&c) => (c as char).to_string(),
        None => format!("F{}", i + 1),
    }
}

/// Reads the folders: all runs, or all Monte Carlo folders.
pub fn load(dirs: &[PathBuf]) -> Result<Folders, CompareError> {
    if dirs.len() < 2 {
        return Err(input("compare: name two or more folders (runs, or Monte Carlo folders)"));
    }
    let mut runs = Vec::new();
    let mut mcs = Vec::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(input(format!("{}: no such folder", dir.display())));
        }
        if dir.join("mc.json").is_file() {
            mcs.push(load_mc(dir)?);
        } else if dir.join("summary.json").is_file() || dir.join("ticks.csv").is_file() {
            runs.push(load_run(dir)?);
        } else {
            return Err(input(format!(
                "{}: neither a run folder (summary.json, ticks.csv) nor a Monte Carlo folder (mc.json, runs.jsonl)",
                dir.display()
            )));
        }
    }
    match (runs.is_empty(), mcs.is_empty()) {
        (_, true) => Ok(Folders::Runs(runs)),
        (true, _) => Ok(Folders::Mcs(mcs)),
        _ => Err(input(format!(
            "compare: {} is a run folder and {} a Monte Carlo folder; compare runs with runs, Monte Carlo folders \
             with Monte Carlo folders",
            runs[0].dir.display(),
            mcs[0].dir.display()
        ))),
    }
}

fn mc_input(e: McError) -> CompareError {
    input(e.to_string())
}

fn load_mc(dir: &Path) -> Result<McFolder, CompareError> {
    let manifest = mc::read_manifest(dir).map_err(mc_input)?;
    if let Some(s) = manifest.shard {
        return Err(input(format!(
            "{}: shard {}/{} of a Monte Carlo; merge the shards first (`liqsim merge`)",
            dir.display(),
            s.index,
            s.count
        )));
    }
    if !dir.join("runs.jsonl").is_file() {
        return Err(input(format!("{}: no runs.jsonl (the Monte Carlo's journal)", dir.display())));
    }
    let runs = mc::intact(dir).map_err(mc_input)?;
    if runs.len() != manifest.runs as usize {
        return Err(input(format!(
            "{}: holds {} of its {} runs (unfinished: `liqsim mc ... --resume` computes the rest)",
            dir.join("runs.jsonl").display(),
            runs.len(),
            manifest.runs
        )));
    }
    let summary = mc::summarize(&manifest, &runs);
    Ok(McFolder { dir: dir.to_path_buf(), manifest, runs, summary })
}

fn load_run(dir: &Path) -> Result<RunFolder, CompareError> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        input(format!(
            "{}: {e} (a run folder's summary is written last: did the run finish?)",
            path.display()
        ))
    })?;
    let summary: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| input(format!("{}: {e}", path.display())))?;
    let field = |key: &str| {
        summary.get(key).ok_or_else(|| {
            input(format!(
                "{}: no {key:?} (not a run's summary, or one written by an older liqsim: run it again)",
                path.display()
            ))
        })
    };
    let scenario = field("scenario")?.as_str().unwrap_or_default().to_string();
    let seed = field("seed")?.as_u64().unwrap_or_default();
    let tick_secs = field("tick_secs")?.as_u64().filter(|&t| t > 0).ok_or_else(|| {
        input(format!("{}: tick_secs: expected a whole number of seconds ≥ 1", path.display()))
    })?;
    let ticks = dir.join("ticks.csv");
    let text = std::fs::read_to_string(&ticks).map_err(|e| input(format!("{}: {e}", ticks.display())))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let col = |name: &str| {
        header.iter().position(|h| *h == name).ok_or_else(|| {
            input(format!("{}:1: no column {name:?} (header: {})", ticks.display(), header.join(",")))
        })
    };
    let (tick, last, long, short) =
        (col("tick")?, col("last")?, col("liquidated_long_usd")?, col("liquidated_short_usd")?);
    let mut run = RunFolder {
        dir: dir.to_path_buf(),
        scenario,
        seed,
        summary,
        minutes: Vec::new(),
        last: Vec::new(),
        liquidated_usd: Vec::new(),
    };
    for (i, line) in lines.enumerate() {
        let cells: Vec<&str> = line.split(',').collect();
        let num = |c: usize| -> Result<f64, CompareError> {
            let cell = cells.get(c).copied().unwrap_or("");
            cell.parse::<f64>().map_err(|_| {
                input(format!(
                    "{}:{}: column {:?}: {cell:?} is not a number",
                    ticks.display(),
                    i + 2,
                    header[c]
                ))
            })
        };
        run.minutes.push(num(tick)? * tick_secs as f64 / 60.0);
        run.last.push(num(last)?);
        run.liquidated_usd.push(num(long)? + num(short)?);
    }
    if run.minutes.is_empty() {
        return Err(input(format!("{}: no rows", ticks.display())));
    }
    Ok(run)
}

/// Compares the folders and writes `compare.txt`, `compare.csv` and the pictures into `out`.
pub fn compare(dirs: &[PathBuf], out: &Path) -> Result<Comparison, CompareError> {
    let folders = load(dirs)?;
    // The comparison's pictures (fan.png, hist_*.png, price.png) have the names a run's or a
    // Monte Carlo's own have: writing them into a folder being compared, or into any run or
    // Monte Carlo folder, would replace its pictures.
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if dirs.iter().any(|d| same(d, out)) || out.join("summary.json").exists() || out.join("mc.json").exists()
    {
        return Err(input(format!(
            "--out {}: is a run or Monte Carlo folder, whose pictures the comparison's would replace; name another folder",
            out.display()
        )));
    }
    let lock = open_output(out, "compare", &[])
        .map_err(|e| if e.is_bad_input() { input(e.to_string()) } else { CompareError::Folder(e) })?;
    lock.on_interrupt(&["compare.txt", "compare.csv"], None);
    // An earlier comparison's files would be read as this one's (a histogram of an outcome that
    // is constant now): they go first.
    if let Ok(entries) = std::fs::read_dir(out) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let ours = matches!(name.as_str(), "compare.txt" | "compare.csv" | "fan.png" | "price.png")
                || (name.starts_with("hist_") && name.ends_with(".png"));
            if ours {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let (text, rows, mut files) = match &folders {
        Folders::Runs(runs) => compare_runs(runs, out)?,
        Folders::Mcs(mcs) => compare_mcs(mcs, out)?,
    };
    let header = ["kind", "name", "label", "folder", "value", "lo", "hi", "interval"];
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| csv_cell(c)).collect()).collect();
    report::write_csv(&out.join("compare.csv"), &header, rows.iter().map(|r| r.iter().map(String::as_str)))?;
    report::write_atomic(&out.join("compare.txt"), |w| w.write_all(text.as_bytes()))?;
    files.insert(0, "compare.csv".into());
    files.insert(0, "compare.txt".into());
    Ok(Comparison { text, files })
}

type Rows = Vec<[String; 8]>;

/// A CSV cell, quoted when it holds a comma, a quote or a line break (a folder's path may).
fn csv_cell(c: &str) -> String {
    if c.contains([',', '"', '\n', '\r']) { format!("\"{}\"", c.replace('"', "\"\"")) } else { c.to_string() }
}

fn num(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { String::new() }
}

/// A number for the table: compact for large amounts ("904.2M", "1.36B"), separators for
/// prices, decimals for small ones.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "-".into()
    } else if a >= 999.95e6 {
        format!("{:.2}B", v / 1e9)
    } else if a >= 999_999.5 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1000.0 || v.fract() == 0.0 {
        thousands(v, 0)
    } else if a >= 10.0 {
        thousands(v, 1)
    } else {
        format!("{v:.2}")
    }
}

/// A difference: with its sign always.
fn signed(v: f64) -> String {
    let s = compact(v);
    if v > 0.0 && s != "0" { format!("+{s}") } else { s }
}

fn folder_list(t: &mut String, names: &[(String, String)]) {
    for (i, (dir, what)) in names.iter().enumerate() {
        let _ = writeln!(t, "  {}  {dir}  ({what})", label(i));
    }
}

/// Pads `cells` into columns: the first left-aligned, the rest right-aligned.
fn columns(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..n)
        .map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0))
        .collect();
    let mut t = String::new();
    for r in rows {
        for (c, cell) in r.iter().enumerate() {
            let pad = width[c] - cell.chars().count();
            if c == 0 {
                t.push_str(cell);
                t.push_str(&" ".repeat(pad));
            } else {
                t.push_str("   ");
                t.push_str(&" ".repeat(pad));
                t.push_str(cell);
            }
        }
        t.push('\n');
    }
    t
}

// ---------------------------------------------------------------------------------------------
// Runs

/// A run's headline numbers: (name, value).
fn run_numbers(s: &serde_json::Value) -> Vec<(&'static str, f64)> {
    let f = |k: &str| s.get(k).and_then(serde_json::Value::as_f64).unwrap_or(f64::NAN);
    let cascades = s.get("cascades").and_then(serde_json::Value::as_array);
    let largest = cascades.map_or(f64::NAN, |c| {
        c.iter().filter_map(|x| x.get("notional_usd").and_then(serde_json::Value::as_f64)).fold(0.0, f64::max)
    });
    vec![
        ("final_price", f("final_price")),
        ("max_price", f("max_price")),
        ("min_price", f("min_price")),
        ("liquidated_notional_long", f("liquidated_notional_long")),
        ("liquidated_notional_short", f("liquidated_notional_short")),
        ("liquidated_accounts_long", f("liquidated_accounts_long")),
        ("liquidated_accounts_short", f("liquidated_accounts_short")),
        ("cascade_count", cascades.map_or(f64::NAN, |c| c.len() as f64)),
        ("largest_cascade_usd", largest),
        ("insurance_fund_min", f("insurance_fund_min")),
        ("insurance_shortfall", f("insurance_shortfall")),
        ("adl_count", f("adl_count")),
        ("hunter_pnl", f("hunter_pnl")),
        ("events", f("events")),
    ]
}

/// A run's watch levels: (price, "verdict at HH:MM").
fn run_levels(r: &RunFolder) -> Vec<(f64, String)> {
    let tick_secs = r.summary.get("tick_secs").and_then(serde_json::Value::as_u64).unwrap_or(1);
    let levels = r.summary.get("levels").and_then(serde_json::Value::as_array);
    levels
        .into_iter()
        .flatten()
        .filter_map(|l| {
            let price = l.get("price")?.as_f64()?;
            let verdict = l.get("verdict").and_then(serde_json::Value::as_str).unwrap_or("?");
            let at = l.get("first_tick").and_then(serde_json::Value::as_u64);
            Some((
                price,
                match at {
                    Some(t) => format!("{verdict} at {}", clock_minutes((t * tick_secs) as f64 / 60.0)),
                    None => verdict.to_string(),
                },
            ))
        })
        .collect()
}

fn compare_runs(runs: &[RunFolder], out: &Path) -> Result<(String, Rows, Vec<String>), CompareError> {
    let mut t = format!("liqsim compare: {} runs\n", runs.len());
    let names: Vec<(String, String)> = runs
        .iter()
        .map(|r| (r.dir.display().to_string(), format!("{}, seed {}", r.scenario, r.seed)))
        .collect();
    folder_list(&mut t, &names);
    t.push_str("\nOne run each: differences from A without intervals (a Monte Carlo gives those).\n\n");
    let numbers: Vec<Vec<(&str, f64)>> = runs.iter().map(|r| run_numbers(&r.summary)).collect();
    let mut table = vec![{
        let mut h = vec!["outcome".to_string()];
        h.extend((0..runs.len()).map(label));
        h.extend((1..runs.len()).map(|i| format!("{} − A", label(i))));
        h
    }];
    let mut rows = Rows::new();
    for (k, &(name, _)) in numbers[0].iter().enumerate() {
        let values: Vec<f64> = numbers.iter().map(|n| n[k].1).collect();
        let mut row = vec![name.to_string()];
        row.extend(values.iter().map(|&v| compact(v)));
        row.extend(values[1..].iter().map(|&v| signed(v - values[0])));
        table.push(row);
        for (i, (&v, r)) in values.iter().zip(runs).enumerate() {
            let folder = r.dir.display().to_string();
            rows.push([
                "run".into(),
                name.into(),
                label(i),
                folder.clone(),
                num(v),
                String::new(),
                String::new(),
                String::new(),
            ]);
            if i > 0 {
                let d = v - values[0];
                rows.push([
                    "run_diff".into(),
                    name.into(),
                    format!("{}-A", label(i)),
                    folder,
                    num(d),
                    String::new(),
                    String::new(),
                    "none (single runs)".into(),
                ]);
            }
        }
    }
    t.push_str(&columns(&table));
    // Watch levels: the union of the runs' levels, each run's verdict.
    let levels: Vec<Vec<(f64, String)>> = runs.iter().map(run_levels).collect();
    let mut prices: Vec<f64> = levels.iter().flatten().map(|l| l.0).collect();
    prices.sort_by(f64::total_cmp);
    prices.dedup();
    if !prices.is_empty() {
        let mut table = vec![{
            let mut h = vec!["watch level".to_string()];
            h.extend((0..runs.len()).map(label));
            h
        }];
        for p in prices {
            let mut row = vec![thousands(p, 0)];
            row.extend(
                levels
                    .iter()
                    .map(|ls| ls.iter().find(|l| l.0 == p).map_or_else(|| "-".into(), |l| l.1.clone())),
            );
            table.push(row);
        }
        t.push('\n');
        t.push_str(&columns(&table));
    }
    let layers: Vec<report::plots::PathLayer> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| report::plots::PathLayer {
            label: format!("{}: {}, seed {}", label(i), r.scenario, r.seed),
            minutes: r.minutes.clone(),
            last: r.last.clone(),
            liquidated_usd: r.liquidated_usd.clone(),
        })
        .collect();
    report::plots::price_overlay(&layers, &out.join("price.png"))?;
    t.push_str("\nprice.png: the runs' last prices and cumulative liquidated notional, overlaid\n");
    Ok((t, rows, vec!["price.png".into()]))
}

// ---------------------------------------------------------------------------------------------
// Monte Carlo folders

fn median_of(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    stats::quantile_sorted(values, 0.5).unwrap_or(f64::NAN)
}

/// The difference of medians `median(b) − median(a)` and its 95% percentile-bootstrap interval:
/// [`RESAMPLES`] times, each folder's runs resampled with replacement (independently), the
/// difference of the resamples' medians; the interval is those differences' 2.5% and 97.5%
/// quantiles. The stream is seeded from `name`, so the same inputs give the same bytes.
pub fn bootstrap_median_difference(name: &str, a: &[f64], b: &[f64]) -> (f64, f64, f64) {
    let a: Vec<f64> = a.iter().copied().filter(|v| v.is_finite()).collect();
    let b: Vec<f64> = b.iter().copied().filter(|v| v.is_finite()).collect();
    if a.is_empty() || b.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let d = median_of(&mut b.clone()) - median_of(&mut a.clone());
    let hash = blake3::hash(name.as_bytes());
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&hash.as_bytes()[..8]);
    let mut rng = crate::mc::SplitMix64(u64::from_le_bytes(seed));
    let (mut ra, mut rb) = (vec![0.0; a.len()], vec![0.0; b.len()]);
    let mut diffs = Vec::with_capacity(RESAMPLES);
    for _ in 0..RESAMPLES {
        for x in ra.iter_mut() {
            *x = a[rng.below(a.len() as u64) as usize];
        }
        for x in rb.iter_mut() {
            *x = b[rng.below(b.len() as u64) as usize];
        }
        diffs.push(median_of(&mut rb) - median_of(&mut ra));
    }
    diffs.sort_by(f64::total_cmp);
    let q = |p| stats::quantile_sorted(&diffs, p).unwrap_or(f64::NAN);
    // `+ 0.0`: no "-0" when both medians are equal.
    (d + 0.0, q(0.025) + 0.0, q(0.975) + 0.0)
}

/// The difference of two probabilities `p2 − p1` and its 95% Newcombe hybrid score interval,
/// from each one's Wilson interval: `d − √((p2−l2)² + (u1−p1)²)`, `d + √((u2−p2)² + (p1−l1)²)`.
pub fn newcombe(a: &stats::Probability, b: &stats::Probability) -> (f64, f64, f64) {
    let d = b.p - a.p;
    let lo = d - ((b.p - b.lo).powi(2) + (a.hi - a.p).powi(2)).sqrt();
    let hi = d + ((b.hi - b.p).powi(2) + (a.p - a.lo).powi(2)).sqrt();
    (d + 0.0, lo.max(-1.0) + 0.0, hi.min(1.0) + 0.0)
}

/// A difference with its interval, starred when the interval leaves out 0.
fn with_interval((d, lo, hi): (f64, f64, f64)) -> String {
    if !d.is_finite() {
        return "-".into();
    }
    let star = if lo > 0.0 || hi < 0.0 { " *" } else { "  " };
    format!("{} [{}, {}]{star}", signed(d), compact(lo), compact(hi))
}

/// The outcomes drawn as overlaid histograms (those not equal and constant in every folder).
const HISTOGRAMS: [(&str, &str); 9] = [
    ("final_price", "final last price (USD)"),
    ("max_price", "highest last price (USD)"),
    ("min_price", "lowest last price (USD)"),
    ("liquidated_notional_long", "longs liquidated (USD)"),
    ("liquidated_notional_short", "shorts liquidated (USD)"),
    ("largest_cascade_usd", "largest cascade (USD)"),
    ("max_drawdown_pct", "largest fall from a peak (%)"),
    ("max_runup_pct", "largest rise from a trough (%)"),
    ("hunter_pnl", "hunters' PnL (USD)"),
];

fn compare_mcs(mcs: &[McFolder], out: &Path) -> Result<(String, Rows, Vec<String>), CompareError> {
    let mut t = format!("liqsim compare: {} Monte Carlo folders\n", mcs.len());
    let names: Vec<(String, String)> = mcs
        .iter()
        .map(|m| {
            (
                m.dir.display().to_string(),
                format!(
                    "{}, {} runs, master seed {}",
                    m.manifest.scenario, m.manifest.runs, m.manifest.master_seed
                ),
            )
        })
        .collect();
    folder_list(&mut t, &names);
    let _ = write!(
        t,
        "\nOutcomes: median [p5, p95] of each folder's runs; X − A: the difference of medians with its 95% \
         percentile-bootstrap\ninterval ({RESAMPLES} resamples of each folder's runs, a fixed seed per outcome). \
         Probabilities: p [95% Wilson interval];\nX − A with its 95% Newcombe hybrid score interval. * : the \
         interval leaves out 0. Outcomes equal and constant\nin every folder are left out here (they are in \
         compare.csv).\n\n"
    );
    let n = mcs.len();
    let mut table = vec![{
        let mut h = vec!["outcome".to_string()];
        h.extend((0..n).map(|i| format!("{} median [p5, p95]", label(i))));
        h.extend((1..n).map(|i| format!("{} − A [95% interval]", label(i))));
        h
    }];
    let mut rows = Rows::new();
    let mut histograms = Vec::new();
    for (name, get) in numeric_columns() {
        let values: Vec<Vec<f64>> = mcs.iter().map(|m| m.runs.iter().map(get).collect()).collect();
        let stats: Vec<&stats::Summary> = mcs
            .iter()
            .map(|m| m.summary.outcome(name).expect("every numeric column is summarised"))
            .collect();
        let constant = {
            let mut all = values.iter().flatten().filter(|v| v.is_finite());
            let first = all.next().copied();
            all.all(|v| Some(*v) == first)
        };
        let diffs: Vec<(f64, f64, f64)> =
            (1..n).map(|i| bootstrap_median_difference(name, &values[0], &values[i])).collect();
        for (i, (s, m)) in stats.iter().zip(mcs).enumerate() {
            let folder = m.dir.display().to_string();
            let v = |o: Option<f64>| o.map_or_else(String::new, num);
            rows.push([
                "outcome".into(),
                name.into(),
                label(i),
                folder.clone(),
                v(s.p50),
                v(s.p5),
                v(s.p95),
                "p50 with p5 and p95 of the runs".into(),
            ]);
            if i > 0 {
                let (d, lo, hi) = diffs[i - 1];
                rows.push([
                    "outcome_diff".into(),
                    name.into(),
                    format!("{}-A", label(i)),
                    folder,
                    num(d),
                    num(lo),
                    num(hi),
                    format!(
                        "difference of medians with its 95% percentile bootstrap ({RESAMPLES} resamples)"
                    ),
                ]);
            }
        }
        if constant {
            continue;
        }
        let mut row = vec![name.to_string()];
        row.extend(stats.iter().map(|s| match (s.p50, s.p5, s.p95) {
            (Some(m), Some(a), Some(b)) => format!("{} [{}, {}]", compact(m), compact(a), compact(b)),
            _ => "-".into(),
        }));
        row.extend(diffs.iter().map(|&d| with_interval(d)));
        table.push(row);
        if let Some((_, desc)) = HISTOGRAMS.iter().find(|h| h.0 == name) {
            histograms.push((name, *desc, values));
        }
    }
    t.push_str(&columns(&table));
    // Probabilities: the union of the folders' names, in order of appearance.
    let mut prob_names: Vec<&str> = Vec::new();
    for m in mcs {
        for p in &m.summary.probabilities {
            if !prob_names.contains(&p.name.as_str()) {
                prob_names.push(&p.name);
            }
        }
    }
    let mut table = vec![{
        let mut h = vec!["probability".to_string()];
        h.extend((0..n).map(|i| format!("{} p [Wilson]", label(i))));
        h.extend((1..n).map(|i| format!("{} − A [Newcombe]", label(i))));
        h
    }];
    for name in prob_names {
        let ps: Vec<Option<&stats::Probability>> = mcs.iter().map(|m| m.summary.probability(name)).collect();
        let mut row = vec![name.to_string()];
        for (i, (p, m)) in ps.iter().zip(mcs).enumerate() {
            let folder = m.dir.display().to_string();
            row.push(p.map_or_else(
                || "-".into(),
                |p| format!("{:.3} [{:.3}, {:.3}] ({}/{})", p.p, p.lo, p.hi, p.count, p.runs),
            ));
            if let Some(p) = p {
                rows.push([
                    "probability".into(),
                    name.into(),
                    label(i),
                    folder.clone(),
                    num(p.p),
                    num(p.lo),
                    num(p.hi),
                    "95% Wilson".into(),
                ]);
            }
            if i > 0
                && let (Some(a), Some(b)) = (ps[0], p)
            {
                let (d, lo, hi) = newcombe(a, b);
                rows.push([
                    "probability_diff".into(),
                    name.into(),
                    format!("{}-A", label(i)),
                    folder,
                    num(d),
                    num(lo),
                    num(hi),
                    "95% Newcombe hybrid score".into(),
                ]);
            }
        }
        for p in &ps[1..] {
            row.push(match (ps[0], p) {
                (Some(a), Some(b)) => {
                    let (d, lo, hi) = newcombe(a, b);
                    let star = if lo > 0.0 || hi < 0.0 { " *" } else { "  " };
                    let d = if d == 0.0 { "0.000".to_string() } else { format!("{d:+.3}") };
                    format!("{d} [{lo:.3}, {hi:.3}]{star}")
                }
                _ => "-".into(),
            });
        }
        table.push(row);
    }
    t.push('\n');
    t.push_str(&columns(&table));
    // Pictures.
    let mut files = vec!["fan.png".to_string()];
    let layers: Vec<mc::plots::FanLayer> = mcs
        .iter()
        .enumerate()
        .map(|(i, m)| mc::plots::FanLayer {
            label: format!("{}: {}, {} runs", label(i), m.manifest.scenario, m.manifest.runs),
            path_minutes: m.manifest.path_minutes,
            bands: mc::plots::fan_bands(&m.runs),
        })
        .collect();
    mc::plots::fan_overlay(&layers, &out.join("fan.png"))?;
    for (name, desc, values) in histograms {
        let layers: Vec<mc::plots::HistLayer> = mcs
            .iter()
            .zip(values)
            .enumerate()
            .map(|(i, (m, values))| mc::plots::HistLayer {
                label: format!("{}: {}", label(i), m.manifest.scenario),
                values,
            })
            .collect();
        let file = format!("hist_{name}.png");
        let title = format!("{desc}: {}", if mcs.len() == 2 { "A vs B" } else { "the folders overlaid" });
        mc::plots::histogram_overlay(&title, desc, &layers, &out.join(&file))?;
        files.push(file);
    }
    let _ = writeln!(t, "\npictures: {}", files.join(", "));
    Ok((t, rows, files))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bootstrap_is_deterministic_and_covers_a_clear_shift() {
        let a: Vec<f64> = (0..50).map(|i| 100.0 + (i % 10) as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v + 20.0).collect();
        let (d, lo, hi) = bootstrap_median_difference("x", &a, &b);
        assert_eq!(d, 20.0);
        assert!(lo <= 20.0 && hi >= 20.0 && lo > 0.0, "[{lo}, {hi}]");
        assert_eq!(bootstrap_median_difference("x", &a, &b), (d, lo, hi), "same inputs, same numbers");
        // The same runs: an interval around 0.
        let (d, lo, hi) = bootstrap_median_difference("y", &a, &a);
        assert_eq!(d, 0.0);
        assert!(lo <= 0.0 && hi >= 0.0, "[{lo}, {hi}]");
        // Equal constants: exactly 0, and never "-0".
        assert_eq!(bootstrap_median_difference("z", &[5.0; 4], &[5.0; 7]), (0.0, 0.0, 0.0));
        assert_eq!(format!("{}", bootstrap_median_difference("z", &[5.0; 4], &[5.0; 7]).1), "0");
    }

    #[test]
    fn newcombe_matches_the_published_example() {
        // Newcombe (1998), Table II, example (a): 56/70 vs 48/80: 0.2, 95% CI 0.0524 to 0.3339.
        let a = stats::probability(48, 80);
        let b = stats::probability(56, 70);
        let (d, lo, hi) = newcombe(&a, &b);
        assert!((d - 0.2).abs() < 1e-12);
        assert!((lo - 0.0524).abs() < 5e-4 && (hi - 0.3339).abs() < 5e-4, "[{lo}, {hi}]");
        // 0 of 20 vs 0 of 20: 0, an interval on both sides.
        let z = stats::probability(0, 20);
        let (d, lo, hi) = newcombe(&z, &z);
        assert_eq!(d, 0.0);
        assert!(lo < 0.0 && hi > 0.0);
    }

    #[test]
    fn compact_numbers_read_as_a_trader_reads_them() {
        assert_eq!(compact(904_214_121.0), "904.2M");
        assert_eq!(compact(1.36e9), "1.36B");
        assert_eq!(compact(71_450.0), "71,450");
        assert_eq!(compact(4.5678), "4.57");
        assert_eq!(compact(12.34), "12.3");
        assert_eq!(signed(5.0), "+5");
        assert_eq!(signed(-5.0), "-5");
        assert_eq!(signed(0.0), "0");
        assert_eq!(label(0), "A");
        assert_eq!(label(26), "F27");
    }
}
