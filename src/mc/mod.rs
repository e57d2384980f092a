//! Monte Carlo: many independent worlds of one scenario, their outcomes, and statistics of them.
//!
//! # Seeds
//! Run `i` of a Monte Carlo with master seed `S` uses seed [`run_seed`]`(S, i)`, which depends on
//! `(S, i)` only, so run `i` is the same alone, in any thread pool, and in any shard.
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

mod journal;
mod outcomes;
pub mod plots;
mod seeds;
pub mod stats;
mod summary;
pub mod sweep;

pub use journal::{FORMAT, Manifest, Shard, read_journal, read_manifest};
pub use outcomes::{Column, Headline, LevelOutcome, RunOutcome, numeric_columns, simulate};
pub use seeds::{SEED_DERIVATION, run_seed};
pub use summary::{
    LevelStats, MOVE_FRACTION, McSummary, NamedProbability, NamedSummary, OUTPUT_FILES, QUANTILE_DEFINITION,
    SQUEEZE_PRICE_FRACTION, SQUEEZE_USD, level_label, summarize, table, write_outputs,
};

use crate::report::lock::{FolderError, open_output};
use crate::report::{self, ReportError};
use crate::scenario::Validated;
use crate::sim::SimError;
use indicatif::{ProgressBar, ProgressStyle};
use journal::{JOURNAL, MANIFEST, exactly, write_journal, write_manifest};
use outcomes::path_every;
use rayon::prelude::*;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

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
    #[error(transparent)]
    Folder(FolderError),
}

/// A folder in use or a file named as one is the user's input; the rest fails the run.
fn folder_err(e: FolderError) -> McError {
    if e.is_bad_input() { McError::Input(e.to_string()) } else { McError::Folder(e) }
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

/// The manifest of a Monte Carlo of `v` with these options.
pub fn manifest(v: &Validated, opts: &McOptions) -> Manifest {
    let tick_secs = v.sim.exchange.tick_secs.max(1);
    Manifest {
        format: FORMAT,
        scenario: v.scenario.name.clone(),
        scenario_hash: v.hash.clone(),
        master_seed: opts.seed.or(v.scenario.monte_carlo.seed).unwrap_or(v.scenario.seed),
        runs: opts.runs.unwrap_or(v.scenario.monte_carlo.runs),
        start_price: v.sim.start_price_usd(),
        watch_levels: v.sim.watch_levels_usd(),
        path_minutes: (path_every(&v.sim) * tick_secs) as f64 / 60.0,
        shard: opts.shard,
    }
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
    let _lock = open_output(out, "mc", &["logs"]).map_err(folder_err)?;
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
        let _ = fs::remove_file(out.join("summary.json"));
        for f in std::iter::once(JOURNAL).chain(OUTPUT_FILES.iter().copied()) {
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
    let _lock = open_output(out, "merge", &[]).map_err(folder_err)?;
    let _ = fs::remove_file(out.join("summary.json"));
    for f in OUTPUT_FILES {
        let _ = fs::remove_file(out.join(f));
    }
    write_manifest(out, &whole)?;
    write_journal(out, &runs)?;
    let summary = write_outputs(out, &whole, &runs)?;
    Ok(McResult { manifest: whole, computed: 0, outcomes: runs, summary: Some(summary) })
}
