//! Monte Carlo: many independent worlds of one scenario, their outcomes, and statistics of them.
//!
//! # Seeds
//! Run `i` (0-based) of a Monte Carlo with master seed `S` uses seed [`run_seed`]`(S, i)`: the
//! `(i+1)`-th output of SplitMix64 seeded with `S` (`z = S + (i+1)·0x9E3779B97F4A7C15`, then
//! SplitMix64's finaliser). It depends on `(S, i)` only, so run `i` is the same alone, in any
//! thread pool, and in any shard.
//!
//! # Parallelism
//! Runs are spread over a rayon pool, one world per task, each world single-threaded. As each
//! run finishes its [`RunOutcome`] is appended as one JSON line to `runs.jsonl` and flushed to
//! disk (`fsync`), so an interrupted Monte Carlo keeps every finished run; `resume` computes only
//! the missing ones. Final outputs are computed from the journal's records sorted by run index
//! (the journal itself is rewritten sorted at the end), so they are byte-identical whatever the
//! thread count, the order runs finished in, interruptions, or sharding.
//!
//! # Shards
//! Shard `K/N` computes exactly the runs `i` with `i mod N == K` into its own folder;
//! [`merge`] checks that shards agree (scenario hash, master seed, run count, shard count), that
//! together they hold every run exactly once, and writes the same outputs a single process would.
//!
//! # Folder
//! `mc.json` (what is being computed), `runs.jsonl` (the journal), then for a whole Monte Carlo
//! `outcomes.csv`, `summary.json`, `fan.png`/`fan.svg` and `hist_*.png`, each written atomically;
//! with `keep_logs`, `logs/run-NNNNNN.events.log`.

pub mod plots;
pub mod stats;
pub mod sweep;

use crate::engine::LogTarget;
use crate::report::{self, ReportError};
use crate::scenario::Validated;
use crate::sim::{SimConfig, SimError, Simulation, Verdict};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use stats::{Probability, Summary};
use std::fs::{self, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Version of the folder format (`mc.json`, `runs.jsonl`).
pub const FORMAT: u32 = 1;

/// How run seeds are derived, as recorded in `summary.json`.
pub const SEED_DERIVATION: &str = "seed of run i = (i+1)-th output of SplitMix64 seeded with master_seed (depends on master_seed and i only)";

/// How quantiles are defined, as recorded in `summary.json`.
pub const QUANTILE_DEFINITION: &str =
    "type 7 (linear interpolation between order statistics, numpy's default): h = (n-1)p";

/// A move of at least this fraction of the start price (max above or min below) is "a 10% move".
pub const MOVE_FRACTION: f64 = 0.10;
/// An up squeeze: max price ≥ start × (1 + this) and at least [`SQUEEZE_USD`] of shorts
/// liquidated; a down squeeze mirrors it with longs.
pub const SQUEEZE_PRICE_FRACTION: f64 = 0.05;
pub const SQUEEZE_USD: f64 = 100e6;

/// The seed of run `run` of a Monte Carlo with master seed `master` (see the module docs).
pub fn run_seed(master: u64, run: u32) -> u64 {
    let mut z = master.wrapping_add((run as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Shard `index` of `count`: the runs `i` with `i mod count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` (0 ≤ K < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text.split_once('/').ok_or_else(|| format!("--shard: expected K/N, got {text:?}"))?;
        let k: u32 = k.trim().parse().map_err(|_| format!("--shard: K must be a whole number, got {k:?}"))?;
        let n: u32 = n.trim().parse().map_err(|_| format!("--shard: N must be a whole number, got {n:?}"))?;
        if n == 0 || k >= n {
            return Err(format!("--shard: need 0 ≤ K < N, got {k}/{n}"));
        }
        Ok(Shard { index: k, count: n })
    }

    pub fn contains(&self, run: u32) -> bool {
        run % self.count == self.index
    }
}

/// What a Monte Carlo folder computes (`mc.json`): everything the final outputs depend on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub scenario: String,
    pub scenario_hash: String,
    pub master_seed: u64,
    pub runs: u32,
    pub start_price: f64,
    pub watch_levels: Vec<f64>,
    /// Minutes between points of each run's price path.
    pub path_minutes: f64,
    pub shard: Option<Shard>,
}

impl Manifest {
    /// The runs this folder is to hold.
    pub fn wanted(&self) -> Vec<u32> {
        (0..self.runs).filter(|&r| self.shard.is_none_or(|s| s.contains(r))).collect()
    }

    /// The manifest of the whole Monte Carlo this one is part of.
    pub fn whole(&self) -> Manifest {
        Manifest { shard: None, ..self.clone() }
    }
}

/// One watch level in one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelOutcome {
    pub level: f64,
    /// Minutes from the start to the first touch; `None` if untouched.
    pub minutes: Option<f64>,
    pub verdict: Verdict,
}

/// One run's outcome: `summary.json`'s numeric fields (same names), plus drawdown, run-up,
/// watch levels and the downsampled price path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub run: u32,
    pub seed: u64,
    pub ticks: u64,
    pub final_price: f64,
    pub max_price: f64,
    pub min_price: f64,
    pub max_mark: f64,
    pub min_mark: f64,
    pub liquidated_accounts_long: u64,
    pub liquidated_accounts_short: u64,
    pub liquidated_notional_long: f64,
    pub liquidated_notional_short: f64,
    pub cascade_count: u64,
    pub largest_cascade_usd: f64,
    pub insurance_fund_min: f64,
    pub insurance_fund_final: f64,
    /// Losses beyond the insurance fund, absorbed by the venue (USD).
    #[serde(default)]
    pub insurance_shortfall: f64,
    pub adl_count: u64,
    pub hunter_pnl: f64,
    /// Largest fall of last price from a running peak, and largest rise from a running trough,
    /// percent.
    pub max_drawdown_pct: f64,
    pub max_runup_pct: f64,
    pub events: u64,
    pub final_state_hash: String,
    pub levels: Vec<LevelOutcome>,
    /// Last price at the start and then every `path_minutes`.
    pub path: Vec<f64>,
}

/// A numeric outcome's name and how to read it.
pub type Column = (&'static str, fn(&RunOutcome) -> f64);

/// The numeric outcomes summarised with quantiles, in order.
pub const NUMERIC: [Column; 19] = [
    ("final_price", |o| o.final_price),
    ("max_price", |o| o.max_price),
    ("min_price", |o| o.min_price),
    ("max_mark", |o| o.max_mark),
    ("min_mark", |o| o.min_mark),
    ("liquidated_accounts_long", |o| o.liquidated_accounts_long as f64),
    ("liquidated_accounts_short", |o| o.liquidated_accounts_short as f64),
    ("liquidated_notional_long", |o| o.liquidated_notional_long),
    ("liquidated_notional_short", |o| o.liquidated_notional_short),
    ("cascade_count", |o| o.cascade_count as f64),
    ("largest_cascade_usd", |o| o.largest_cascade_usd),
    ("insurance_fund_min", |o| o.insurance_fund_min),
    ("insurance_fund_final", |o| o.insurance_fund_final),
    ("adl_count", |o| o.adl_count as f64),
    ("hunter_pnl", |o| o.hunter_pnl),
    ("max_drawdown_pct", |o| o.max_drawdown_pct),
    ("max_runup_pct", |o| o.max_runup_pct),
    ("events", |o| o.events as f64),
    ("insurance_shortfall", |o| o.insurance_shortfall),
];

/// Why a Monte Carlo could not be done.
#[derive(Debug, thiserror::Error)]
pub enum McError {
    /// The user's input cannot be used (exit 2).
    #[error("{0}")]
    Input(String),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("run {run} (seed {seed}): {source}")]
    Sim { run: u32, seed: u64, source: SimError },
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("event log: {0}")]
    Log(#[from] crate::events::LogError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> McError + '_ {
    move |source| McError::Io { path: path.to_path_buf(), source }
}

/// How to run a Monte Carlo.
#[derive(Clone, Debug)]
pub struct McOptions {
    /// Overrides `monte_carlo.runs`.
    pub runs: Option<u32>,
    /// Overrides the master seed (`monte_carlo.seed`, else the scenario's seed).
    pub seed: Option<u64>,
    /// Worker threads (`None`: rayon's default, one per core).
    pub threads: Option<usize>,
    pub out: PathBuf,
    pub keep_logs: bool,
    /// Keep the finished runs already in `out` (they must belong to the same Monte Carlo).
    pub resume: bool,
    pub shard: Option<Shard>,
    /// Draw a progress bar (on a terminal only).
    pub progress: bool,
}

/// The result of [`run_mc`].
#[derive(Clone, Debug)]
pub struct McResult {
    pub manifest: Manifest,
    /// Runs computed now (the rest were already in the folder).
    pub computed: usize,
    /// Every run of the folder, in run order.
    pub outcomes: Vec<RunOutcome>,
    /// The statistics, for a whole Monte Carlo (not for a shard).
    pub summary: Option<McSummary>,
}

/// Ticks between path points: one a minute (at least one per tick).
fn path_every(cfg: &SimConfig) -> u64 {
    (60 / cfg.exchange.tick_secs.max(1)).max(1)
}

/// The manifest of a Monte Carlo of `v` with these options.
pub fn manifest(v: &Validated, opts: &McOptions) -> Manifest {
    let tick_secs = v.sim.exchange.tick_secs.max(1);
    Manifest {
        format: FORMAT,
        scenario: v.scenario.name.clone(),
        scenario_hash: v.hash.clone(),
        master_seed: opts.seed.or(v.scenario.monte_carlo.seed).unwrap_or(v.scenario.seed),
        runs: opts.runs.unwrap_or(v.scenario.monte_carlo.runs),
        start_price: v.sim.start_price_usd,
        watch_levels: v.sim.watch_levels.clone(),
        path_minutes: (path_every(&v.sim) * tick_secs) as f64 / 60.0,
        shard: opts.shard,
    }
}

/// Runs one world of the Monte Carlo: run `run` with its derived seed.
pub fn simulate(
    v: &Validated,
    master_seed: u64,
    run: u32,
    log: Option<&Path>,
) -> Result<RunOutcome, McError> {
    let mut cfg = v.sim.clone();
    cfg.seed = run_seed(master_seed, run);
    let seed = cfg.seed;
    let sim_err = |source| McError::Sim { run, seed, source };
    let sink = match log {
        Some(path) => {
            let mut hash = [0u8; 32];
            if let Ok(h) = blake3::Hash::from_hex(&v.hash) {
                hash = *h.as_bytes();
            }
            let file = fs::File::create(path).map_err(io_err(path))?;
            let out: Box<dyn Write + Send + Sync> = Box::new(BufWriter::new(file));
            Some(LogTarget { out, scenario_hash: hash, seed })
        }
        None => None,
    };
    let mut sim = Simulation::new(&cfg, sink).map_err(sim_err)?;
    let every = path_every(&cfg);
    let mut path = vec![cfg.start_price_usd];
    let mut tick = 0u64;
    while sim.step().map_err(sim_err)? {
        tick += 1;
        if tick.is_multiple_of(every)
            && let Some(row) = sim.metrics().rows.last()
        {
            path.push(row.last);
        }
    }
    let summary = sim.finish().map_err(sim_err)?;
    let (mut peak, mut trough) = (cfg.start_price_usd, cfg.start_price_usd);
    let (mut drawdown, mut runup) = (0.0_f64, 0.0_f64);
    for row in &sim.metrics().rows {
        peak = peak.max(row.last);
        trough = trough.min(row.last);
        drawdown = drawdown.max((peak - row.last) / peak);
        runup = runup.max((row.last - trough) / trough);
    }
    let tick_secs = cfg.exchange.tick_secs.max(1);
    Ok(RunOutcome {
        run,
        seed,
        ticks: summary.ticks,
        final_price: summary.final_price,
        max_price: summary.max_price,
        min_price: summary.min_price,
        max_mark: summary.max_mark,
        min_mark: summary.min_mark,
        liquidated_accounts_long: summary.liquidated_accounts_long,
        liquidated_accounts_short: summary.liquidated_accounts_short,
        liquidated_notional_long: summary.liquidated_notional_long,
        liquidated_notional_short: summary.liquidated_notional_short,
        cascade_count: summary.cascades.len() as u64,
        largest_cascade_usd: summary.cascades.iter().map(|c| c.notional_usd).fold(0.0, f64::max),
        insurance_fund_min: summary.insurance_fund_min,
        insurance_fund_final: summary.insurance_fund_final,
        insurance_shortfall: summary.insurance_shortfall,
        adl_count: summary.adl_count,
        // An empty sum is −0: report 0.
        hunter_pnl: summary.hunter_pnl + 0.0,
        max_drawdown_pct: drawdown * 100.0,
        max_runup_pct: runup * 100.0,
        events: summary.events,
        final_state_hash: summary.final_state_hash,
        levels: summary
            .levels
            .iter()
            .map(|l| LevelOutcome {
                level: l.level,
                minutes: l.first_tick.map(|t| (t * tick_secs) as f64 / 60.0),
                verdict: l.verdict,
            })
            .collect(),
        path,
    })
}

const MANIFEST: &str = "mc.json";
const JOURNAL: &str = "runs.jsonl";

/// Reads a folder's manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest, McError> {
    let path = dir.join(MANIFEST);
    let text = fs::read_to_string(&path)
        .map_err(|e| McError::Input(format!("{}: not a Monte Carlo folder ({e})", path.display())))?;
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| McError::Input(format!("{}: {e}", path.display())))?;
    if let Some(s) = m.shard
        && (s.count == 0 || s.index >= s.count)
    {
        return Err(McError::Input(format!(
            "{}: shard {}/{} is impossible",
            path.display(),
            s.index,
            s.count
        )));
    }
    if m.runs == 0 || m.runs > 1_000_000 {
        return Err(McError::Input(format!("{}: runs must be 1..=1000000, got {}", path.display(), m.runs)));
    }
    if m.format != FORMAT {
        return Err(McError::Input(format!(
            "{}: format {} is not the {FORMAT} this liqsim reads",
            path.display(),
            m.format
        )));
    }
    Ok(m)
}

/// Reads a folder's journal: the finished runs, in the order they finished. A torn last line
/// (the process was killed while writing it) is dropped and cut from the file.
pub fn read_journal(dir: &Path) -> Result<Vec<RunOutcome>, McError> {
    let path = dir.join(JOURNAL);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(McError::Io { path, source: e }),
    };
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for (n, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let rec: RunOutcome = serde_json::from_slice(line)
            .map_err(|e| McError::Input(format!("{}: line {}: {e}", path.display(), n + 1)))?;
        out.push(rec);
    }
    if complete < bytes.len() {
        let f = OpenOptions::new().write(true).open(&path).map_err(io_err(&path))?;
        f.set_len(complete as u64).map_err(io_err(&path))?;
        f.sync_all().map_err(io_err(&path))?;
    }
    Ok(out)
}

/// Sorts runs by index and checks that they are exactly `wanted` (no gaps, no duplicates).
fn exactly(mut runs: Vec<RunOutcome>, wanted: &[u32], what: &str) -> Result<Vec<RunOutcome>, McError> {
    runs.sort_by_key(|r| r.run);
    let got: Vec<u32> = runs.iter().map(|r| r.run).collect();
    if let Some(w) = got.windows(2).find(|w| w[0] == w[1]) {
        return Err(McError::Input(format!("{what}: run {} appears more than once", w[0])));
    }
    if got != wanted {
        let missing: Vec<String> =
            wanted.iter().filter(|r| got.binary_search(r).is_err()).take(10).map(u32::to_string).collect();
        let extra: Vec<String> =
            got.iter().filter(|r| wanted.binary_search(r).is_err()).take(10).map(u32::to_string).collect();
        return Err(McError::Input(format!(
            "{what}: runs do not match the Monte Carlo (missing: [{}], unexpected: [{}])",
            missing.join(", "),
            extra.join(", ")
        )));
    }
    Ok(runs)
}

fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), McError> {
    let json = serde_json::to_string_pretty(m).unwrap_or_default();
    report::write_atomic(&dir.join(MANIFEST), |w| writeln!(w, "{json}"))?;
    Ok(())
}

fn write_journal(dir: &Path, runs: &[RunOutcome]) -> Result<(), McError> {
    report::write_atomic(&dir.join(JOURNAL), |w| {
        for r in runs {
            serde_json::to_writer(&mut *w, r)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    })?;
    Ok(())
}

fn progress_bar(show: bool, len: u64) -> ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} runs (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Runs (or resumes) a Monte Carlo of `v` into `opts.out`; for a whole Monte Carlo, writes the
/// final outputs.
pub fn run_mc(v: &Validated, opts: &McOptions) -> Result<McResult, McError> {
    let m = manifest(v, opts);
    if m.runs == 0 || m.runs > 1_000_000 {
        return Err(McError::Input(format!("--runs: must be 1..=1000000, got {}", m.runs)));
    }
    let out = &opts.out;
    fs::create_dir_all(out).map_err(io_err(out))?;
    let mut done = Vec::new();
    if opts.resume && out.join(MANIFEST).exists() {
        let old = read_manifest(out)?;
        if old != m {
            return Err(McError::Input(format!(
                "--resume: {} holds another Monte Carlo (scenario {} hash {}…, master seed {}, {} runs, shard {:?}); \
                 this one is scenario {} hash {}…, master seed {}, {} runs, shard {:?}",
                out.display(),
                old.scenario,
                old.scenario_hash.get(..12).unwrap_or(""),
                old.master_seed,
                old.runs,
                old.shard.map(|s| format!("{}/{}", s.index, s.count)),
                m.scenario,
                m.scenario_hash.get(..12).unwrap_or(""),
                m.master_seed,
                m.runs,
                m.shard.map(|s| format!("{}/{}", s.index, s.count)),
            )));
        }
        done = read_journal(out)?;
    } else {
        // A fresh start: nothing of an earlier Monte Carlo may be mistaken for this one's.
        for f in [JOURNAL, "outcomes.csv", "summary.json"] {
            let _ = fs::remove_file(out.join(f));
        }
        write_manifest(out, &m)?;
    }
    let wanted = m.wanted();
    // Runs already finished (a torn duplicate cannot happen: each line is written once).
    done.sort_by_key(|r| r.run);
    done.dedup_by_key(|r| r.run);
    if let Some(r) = done.iter().find(|r| wanted.binary_search(&r.run).is_err()) {
        return Err(McError::Input(format!(
            "{}: run {} does not belong to this Monte Carlo",
            out.join(JOURNAL).display(),
            r.run
        )));
    }
    let missing: Vec<u32> =
        wanted.iter().copied().filter(|r| done.binary_search_by_key(r, |d| d.run).is_err()).collect();
    let logs = out.join("logs");
    if opts.keep_logs {
        fs::create_dir_all(&logs).map_err(io_err(&logs))?;
    }
    let journal_path = out.join(JOURNAL);
    let journal =
        OpenOptions::new().create(true).append(true).open(&journal_path).map_err(io_err(&journal_path))?;
    let journal = Mutex::new(journal);
    // Over the runs still to compute, so the ETA is not skewed by the ones already done.
    let bar = progress_bar(opts.progress, missing.len() as u64);
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = opts.threads {
        builder = builder.num_threads(t.max(1));
    }
    let pool = builder.build().map_err(|e| McError::Input(format!("--threads: {e}")))?;
    let one = |run: u32| -> Result<(), McError> {
        let log_path = logs.join(format!("run-{run:06}.events.log"));
        let tmp = report::atomic_path(&log_path);
        let outcome = simulate(v, m.master_seed, run, opts.keep_logs.then_some(tmp.as_path()));
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if opts.keep_logs {
            report::finish_atomic(&tmp, &log_path)?;
        }
        let mut line = serde_json::to_vec(&outcome)
            .map_err(|e| McError::Io { path: journal_path.clone(), source: std::io::Error::other(e) })?;
        line.push(b'\n');
        {
            // One write of the whole line, then to disk, before the run counts as done.
            let mut f = journal.lock().unwrap_or_else(|e| e.into_inner());
            f.write_all(&line).map_err(io_err(&journal_path))?;
            f.sync_data().map_err(io_err(&journal_path))?;
        }
        bar.inc(1);
        Ok(())
    };
    pool.install(|| missing.par_iter().with_max_len(1).try_for_each(|&run| one(run)))?;
    bar.finish_and_clear();
    drop(journal);
    let runs = exactly(read_journal(out)?, &wanted, &journal_path.display().to_string())?;
    // The journal, sorted: the same bytes however the runs were computed.
    write_journal(out, &runs)?;
    let summary = if m.shard.is_none() { Some(write_outputs(out, &m, &runs)?) } else { None };
    Ok(McResult { manifest: m, computed: missing.len(), outcomes: runs, summary })
}

/// Combines shard folders into the outputs of the whole Monte Carlo, written into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<McResult, McError> {
    let Some(first) = dirs.first() else {
        return Err(McError::Input("merge: name at least one shard folder".into()));
    };
    let m0 = read_manifest(first)?;
    let whole = m0.whole();
    let mut shards: Vec<(Shard, &PathBuf)> = Vec::new();
    let mut all = Vec::new();
    for dir in dirs {
        let m = read_manifest(dir)?;
        if m.whole() != whole {
            return Err(McError::Input(format!(
                "{}: not a shard of the same Monte Carlo as {} (scenario {} hash {}…, master seed {}, {} runs; \
                 expected scenario {} hash {}…, master seed {}, {} runs)",
                dir.display(),
                first.display(),
                m.scenario,
                m.scenario_hash.get(..12).unwrap_or(""),
                m.master_seed,
                m.runs,
                whole.scenario,
                whole.scenario_hash.get(..12).unwrap_or(""),
                whole.master_seed,
                whole.runs,
            )));
        }
        let shard = m.shard.unwrap_or(Shard { index: 0, count: 1 });
        if let Some((s, other)) = shards.iter().find(|(s, _)| s.count != shard.count) {
            return Err(McError::Input(format!(
                "{}: shard {}/{} cannot be merged with {} (shard {}/{}): different shard counts",
                dir.display(),
                shard.index,
                shard.count,
                other.display(),
                s.index,
                s.count
            )));
        }
        if let Some((_, other)) = shards.iter().find(|(s, _)| *s == shard) {
            return Err(McError::Input(format!(
                "{}: shard {}/{} overlaps {} (the same shard)",
                dir.display(),
                shard.index,
                shard.count,
                other.display()
            )));
        }
        shards.push((shard, dir));
        let what = format!(
            "{} (an unfinished shard: finish it with `liqsim mc ... --shard {}/{} --resume`)",
            dir.join(JOURNAL).display(),
            shard.index,
            shard.count
        );
        all.extend(exactly(read_journal(dir)?, &m.wanted(), &what)?);
    }
    let count = shards[0].0.count;
    let mut have: Vec<u32> = shards.iter().map(|(s, _)| s.index).collect();
    have.sort_unstable();
    let gaps: Vec<String> =
        (0..count).filter(|k| have.binary_search(k).is_err()).map(|k| format!("{k}/{count}")).collect();
    if !gaps.is_empty() {
        return Err(McError::Input(format!("merge: missing shards {}", gaps.join(", "))));
    }
    let runs = exactly(all, &whole.wanted(), "merge")?;
    fs::create_dir_all(out).map_err(io_err(out))?;
    for f in ["outcomes.csv", "summary.json"] {
        let _ = fs::remove_file(out.join(f));
    }
    write_manifest(out, &whole)?;
    write_journal(out, &runs)?;
    let summary = write_outputs(out, &whole, &runs)?;
    Ok(McResult { manifest: whole, computed: 0, outcomes: runs, summary: Some(summary) })
}

/// A numeric outcome's statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedSummary {
    pub name: String,
    #[serde(flatten)]
    pub stats: Summary,
}

/// A probability and its name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NamedProbability {
    pub name: String,
    pub definition: String,
    #[serde(flatten)]
    pub probability: Probability,
}

/// A watch level across runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LevelStats {
    pub level: f64,
    pub touched: Probability,
    /// Minutes to the first touch, over the runs that touched it.
    pub minutes_to_touch: Summary,
    pub accelerated: u64,
    pub absorbed: u64,
    pub rejected: u64,
    pub untouched: u64,
}

/// `summary.json` of a Monte Carlo.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct McSummary {
    pub scenario: String,
    pub scenario_hash: String,
    pub master_seed: u64,
    pub runs: u32,
    pub seed_derivation: String,
    pub quantile_definition: String,
    pub interval: String,
    pub start_price: f64,
    pub outcomes: Vec<NamedSummary>,
    pub probabilities: Vec<NamedProbability>,
    pub levels: Vec<LevelStats>,
}

impl McSummary {
    pub fn outcome(&self, name: &str) -> Option<&Summary> {
        self.outcomes.iter().find(|o| o.name == name).map(|o| &o.stats)
    }
    pub fn probability(&self, name: &str) -> Option<&Probability> {
        self.probabilities.iter().find(|p| p.name == name).map(|p| &p.probability)
    }
}

/// The label of a level in column names: `85000`, `57900.5`.
pub fn level_label(level: f64) -> String {
    format!("{level}")
}

/// Computes the statistics of `runs` (in run order).
pub fn summarize(m: &Manifest, runs: &[RunOutcome]) -> McSummary {
    let n = runs.len() as u64;
    let outcomes = NUMERIC
        .iter()
        .map(|(name, get)| NamedSummary {
            name: name.to_string(),
            stats: stats::summarize(&runs.iter().map(get).collect::<Vec<_>>()),
        })
        .collect();
    let start = m.start_price;
    let count = |f: &dyn Fn(&RunOutcome) -> bool| runs.iter().filter(|r| f(r)).count() as u64;
    let up = |r: &RunOutcome| r.max_price >= start * (1.0 + MOVE_FRACTION);
    let down = |r: &RunOutcome| r.min_price <= start * (1.0 - MOVE_FRACTION);
    let squeeze_up = |r: &RunOutcome| {
        r.max_price >= start * (1.0 + SQUEEZE_PRICE_FRACTION) && r.liquidated_notional_short >= SQUEEZE_USD
    };
    let squeeze_down = |r: &RunOutcome| {
        r.min_price <= start * (1.0 - SQUEEZE_PRICE_FRACTION) && r.liquidated_notional_long >= SQUEEZE_USD
    };
    let pct = MOVE_FRACTION * 100.0;
    let sq = SQUEEZE_PRICE_FRACTION * 100.0;
    let usd_m = SQUEEZE_USD / 1e6;
    let mut probabilities = Vec::new();
    for (i, &level) in m.watch_levels.iter().enumerate() {
        let touched = count(&|r| r.levels.get(i).is_some_and(|l| l.minutes.is_some()));
        probabilities.push(NamedProbability {
            name: format!("touch_{}", level_label(level)),
            definition: format!("last or mark reached {level}"),
            probability: stats::probability(touched, n),
        });
    }
    for (name, definition, k) in [
        (
            "move_10pct",
            format!("max price ≥ start +{pct}% or min price ≤ start −{pct}%"),
            count(&|r| up(r) || down(r)),
        ),
        ("up_10pct", format!("max price ≥ start +{pct}%"), count(&up)),
        ("down_10pct", format!("min price ≤ start −{pct}%"), count(&down)),
        (
            "squeeze_up",
            format!("max price ≥ start +{sq}% and ≥ {usd_m} M USD of shorts liquidated"),
            count(&squeeze_up),
        ),
        (
            "squeeze_down",
            format!("min price ≤ start −{sq}% and ≥ {usd_m} M USD of longs liquidated"),
            count(&squeeze_down),
        ),
    ] {
        probabilities.push(NamedProbability {
            name: name.into(),
            definition,
            probability: stats::probability(k, n),
        });
    }
    let levels = m
        .watch_levels
        .iter()
        .enumerate()
        .map(|(i, &level)| {
            let at = |r: &RunOutcome| r.levels.get(i).cloned();
            let verdicts = |v: Verdict| count(&|r| at(r).is_some_and(|l| l.verdict == v));
            let minutes: Vec<f64> = runs.iter().filter_map(|r| at(r).and_then(|l| l.minutes)).collect();
            LevelStats {
                level,
                touched: stats::probability(minutes.len() as u64, n),
                minutes_to_touch: stats::summarize(&minutes),
                accelerated: verdicts(Verdict::Accelerated),
                absorbed: verdicts(Verdict::Absorbed),
                rejected: verdicts(Verdict::Rejected),
                untouched: verdicts(Verdict::Untouched),
            }
        })
        .collect();
    McSummary {
        scenario: m.scenario.clone(),
        scenario_hash: m.scenario_hash.clone(),
        master_seed: m.master_seed,
        runs: m.runs,
        seed_derivation: SEED_DERIVATION.into(),
        quantile_definition: QUANTILE_DEFINITION.into(),
        interval: "95% Wilson score interval (z = 1.959963984540054)".into(),
        start_price: m.start_price,
        outcomes,
        probabilities,
        levels,
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// Writes `outcomes.csv`, `summary.json` and the pictures; returns the statistics.
pub fn write_outputs(dir: &Path, m: &Manifest, runs: &[RunOutcome]) -> Result<McSummary, McError> {
    let mut header: Vec<String> = vec!["run".into(), "seed".into()];
    header.extend(NUMERIC.iter().map(|(n, _)| n.to_string()));
    header.push("final_state_hash".into());
    for &level in &m.watch_levels {
        header.push(format!("minutes_to_{}", level_label(level)));
        header.push(format!("verdict_{}", level_label(level)));
    }
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let mut row = vec![r.run.to_string(), r.seed.to_string()];
            row.extend(NUMERIC.iter().map(|(_, get)| get(r).to_string()));
            row.push(r.final_state_hash.clone());
            for i in 0..m.watch_levels.len() {
                let l = r.levels.get(i);
                row.push(opt(l.and_then(|l| l.minutes)));
                row.push(l.map(|l| format!("{:?}", l.verdict)).unwrap_or_default());
            }
            row
        })
        .collect();
    let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
    report::write_csv(
        &dir.join("outcomes.csv"),
        &header_refs,
        rows.iter().map(|r| r.iter().map(String::as_str)),
    )?;
    let summary = summarize(m, runs);
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    report::write_atomic(&dir.join("summary.json"), |w| writeln!(w, "{json}"))?;
    plots::fan_chart(m, runs, Some(&dir.join("fan.png")), Some(&dir.join("fan.svg")))?;
    for (file, title, get) in [
        (
            "hist_final_price.png",
            "Final price (USD)",
            (|r: &RunOutcome| r.final_price) as fn(&RunOutcome) -> f64,
        ),
        ("hist_max_price.png", "Max price (USD)", |r| r.max_price),
        ("hist_liquidated_short.png", "Liquidated short notional (USD M)", |r| {
            r.liquidated_notional_short / 1e6
        }),
        ("hist_liquidated_long.png", "Liquidated long notional (USD M)", |r| {
            r.liquidated_notional_long / 1e6
        }),
    ] {
        let values: Vec<f64> = runs.iter().map(get).collect();
        plots::histogram(title, &values, &dir.join(file))?;
    }
    Ok(summary)
}

/// The stdout table of a Monte Carlo's statistics.
pub fn table(s: &McSummary) -> String {
    let mut t = String::new();
    let f = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |x| format!("{x:.1}"));
    t.push_str(&format!(
        "liqsim mc: {} ({} runs, master seed {})\n\n{:<28}{:>14}{:>14}{:>14}{:>14}{:>14}{:>14}\n",
        s.scenario, s.runs, s.master_seed, "outcome", "p5", "p25", "p50", "p75", "p95", "mean"
    ));
    for o in &s.outcomes {
        let q = &o.stats;
        t.push_str(&format!(
            "{:<28}{:>14}{:>14}{:>14}{:>14}{:>14}{:>14}\n",
            o.name,
            f(q.p5),
            f(q.p25),
            f(q.p50),
            f(q.p75),
            f(q.p95),
            f(q.mean)
        ));
    }
    t.push_str(&format!("\n{:<28}{:>10}{:>22}  definition\n", "probability", "p", "95% Wilson interval"));
    for p in &s.probabilities {
        let q = &p.probability;
        t.push_str(&format!(
            "{:<28}{:>10.3}    [{:.3}, {:.3}] ({:>4}/{})  {}\n",
            p.name, q.p, q.lo, q.hi, q.count, q.runs, p.definition
        ));
    }
    if !s.levels.is_empty() {
        t.push_str(&format!(
            "\n{:<12}{:>10}{:>18}{:>13}{:>10}{:>10}{:>11}\n",
            "level", "P(touch)", "min to touch p50", "accelerated", "absorbed", "rejected", "untouched"
        ));
        for l in &s.levels {
            t.push_str(&format!(
                "{:<12}{:>10.3}{:>18}{:>13}{:>10}{:>10}{:>11}\n",
                l.level,
                l.touched.p,
                f(l.minutes_to_touch.p50),
                l.accelerated,
                l.absorbed,
                l.rejected,
                l.untouched
            ));
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_seeds_are_splitmix64_outputs() {
        // SplitMix64 seeded with 0: its first outputs are these (the reference sequence).
        assert_eq!(run_seed(0, 0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(run_seed(0, 1), 0x6E78_9E6A_A1B9_65F4);
        assert_ne!(run_seed(1, 0), run_seed(0, 0));
    }

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "1", "a/3", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let m = Manifest {
            format: FORMAT,
            scenario: "s".into(),
            scenario_hash: "h".into(),
            master_seed: 1,
            runs: 10,
            start_price: 1.0,
            watch_levels: vec![],
            path_minutes: 1.0,
            shard: None,
        };
        let mut all: Vec<u32> = (0..3)
            .flat_map(|k| Manifest { shard: Some(Shard { index: k, count: 3 }), ..m.clone() }.wanted())
            .collect();
        all.sort_unstable();
        assert_eq!(all, m.wanted());
    }
}
