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
pub mod sensitivity;
pub mod stats;
mod summary;
pub mod sweep;

pub use journal::{
    FORMAT, JournalRead, Manifest, Shard, canonical, differences, meaning, read_journal, read_manifest,
};
pub use outcomes::{Column, Headline, LevelOutcome, RunOutcome, numeric_columns, simulate};
pub use seeds::{SEED_DERIVATION, SplitMix64, run_seed};
pub use summary::{
    LevelStats, MOVE_FRACTION, McSummary, NamedProbability, NamedSummary, OUTPUT_FILES, QUANTILE_DEFINITION,
    SQUEEZE_PRICE_FRACTION, SQUEEZE_USD, level_label, summarize, table, write_outputs,
};

use crate::report::lock::{FolderError, open_output};
use crate::report::{self, ReportError};
use crate::scenario::Validated;
use crate::sim::SimError;
use indicatif::{ProgressBar, ProgressStyle};
use journal::{CANONICAL, DROPPED, JOURNAL, MANIFEST, exactly, write_journal, write_manifest};
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
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("{path}: {cause}")]
    Io { path: PathBuf, cause: std::io::Error },
    #[error("run {run} (seed {seed}): {cause}")]
    Sim { run: u32, seed: u64, cause: SimError },
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("event log: {0}")]
    Log(crate::events::LogError),
    #[error(transparent)]
    Folder(FolderError),
}

crate::units::from_cause!(McError::Log(crate::events::LogError));

/// A folder in use or a file named as one is the user's input; the rest fails the run.
fn folder_err(e: FolderError) -> McError {
    if e.is_bad_input() { McError::Input(e.to_string()) } else { McError::Folder(e) }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> McError + '_ {
    move |cause| McError::Io { path: path.to_path_buf(), cause }
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
    /// Also write `outcomes.parquet` beside `outcomes.csv`.
    pub parquet: bool,
}

impl McOptions {
    /// Options for a manifest that is only read (which names a summary has, what a run means):
    /// one run, nothing written, quiet.
    pub(crate) fn probe() -> McOptions {
        McOptions {
            runs: Some(1),
            seed: None,
            threads: None,
            out: PathBuf::new(),
            keep_logs: false,
            resume: false,
            shard: None,
            progress: false,
            parquet: false,
        }
    }
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
    // A Monte Carlo never reads the sensitivity section: editing it does not change what the
    // runs mean (resume and merge keep accepting the folder).
    let mut meant = v.scenario.clone();
    meant.sensitivity = None;
    Manifest {
        format: FORMAT,
        scenario: v.scenario.name.clone(),
        scenario_hash: v.hash.clone(),
        scenario_meaning: meaning(&canonical(&meant)),
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

/// Shard as `K/N`, for messages.
fn shard_text(s: Option<Shard>) -> String {
    s.map_or_else(|| "none".into(), |s| format!("{}/{}", s.index, s.count))
}

/// Why `old` (a folder's manifest) is not the Monte Carlo `new` asks for, run count aside;
/// `None` if it is. `changed` names the scenario's fields that differ, when known.
fn clash(old: &Manifest, new: &Manifest, changed: &[String]) -> Option<String> {
    let mut why = Vec::new();
    if old.scenario != new.scenario {
        why.push(format!("scenario name {:?}, now {:?}", old.scenario, new.scenario));
    }
    // Format 1 knew the file's bytes only.
    let bytes_only = old.scenario_meaning.is_empty() || new.scenario_meaning.is_empty();
    let same_scenario = if bytes_only {
        old.scenario_hash == new.scenario_hash
    } else {
        old.scenario_meaning == new.scenario_meaning
    };
    if !same_scenario {
        let detail = if changed.is_empty() {
            format!(
                "meaning {}…, now {}…",
                old.scenario_meaning.get(..12).unwrap_or(""),
                new.scenario_meaning.get(..12).unwrap_or("")
            )
        } else {
            format!("changed: {}", changed.join("; "))
        };
        if bytes_only {
            why.push(format!(
                "the scenario file's bytes differ (a folder of an older liqsim: hash {}…)",
                old.scenario_hash.get(..12).unwrap_or("")
            ));
        } else {
            why.push(format!("the scenario's parameters differ ({detail})"));
        }
    }
    if old.master_seed != new.master_seed {
        why.push(format!("master seed {}, now {}", old.master_seed, new.master_seed));
    }
    if old.shard != new.shard {
        why.push(format!("shard {}, now {}", shard_text(old.shard), shard_text(new.shard)));
    }
    if old.start_price != new.start_price
        || old.watch_levels != new.watch_levels
        || old.path_minutes != new.path_minutes
    {
        why.push("its start price, watch levels or path interval differ".into());
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// Tells the user something about the folder that is not an error (what a resume dropped).
fn warn(msg: &str) {
    eprintln!("liqsim mc: {msg}");
}

/// Runs (or resumes, or extends) a Monte Carlo of `v` into `opts.out`; for a whole Monte Carlo,
/// writes the final outputs.
pub fn run_mc(v: &Validated, opts: &McOptions) -> Result<McResult, McError> {
    let mut m = manifest(v, opts);
    if m.runs == 0 || m.runs > 1_000_000 {
        return Err(McError::Input(format!("--runs: must be 1..=1000000, got {}", m.runs)));
    }
    let out = &opts.out;
    let lock = open_output(out, "mc", &["logs"]).map_err(folder_err)?;
    let mut unfinished: Vec<&str> = vec!["summary.json"];
    unfinished.extend_from_slice(OUTPUT_FILES);
    lock.on_interrupt(&unfinished, Some("`liqsim mc ... --resume` computes only the missing runs".into()));
    let canonical_form = canonical(&v.scenario);
    let mut done = Vec::new();
    let mut recovered = None;
    if opts.resume && out.join(MANIFEST).exists() {
        let old = read_manifest(out)?;
        let changed = fs::read_to_string(out.join(CANONICAL))
            .map(|before| differences(&before, &canonical_form, 5))
            .unwrap_or_default();
        if let Some(why) = clash(&old, &m, &changed) {
            return Err(McError::Input(format!(
                "--resume: {} holds another Monte Carlo ({why}); resume it with the scenario and options it was \
                 started with, or choose another --out",
                out.display()
            )));
        }
        // Without --runs, the folder's count; with it, as many or more (an extension).
        m.runs = opts.runs.unwrap_or(old.runs);
        if m.runs < old.runs {
            return Err(McError::Input(format!(
                "--runs {}: {} holds a Monte Carlo of {} runs; a resume can extend it (more runs) but not cut it",
                m.runs,
                out.display(),
                old.runs
            )));
        }
        // The folder's identity stays the one it was started with.
        m.scenario_hash = old.scenario_hash.clone();
        let read = read_journal(out, old.format >= 2)?;
        if let Some(damage) = read.damage() {
            let kept = out.join(DROPPED);
            if !read.dropped_bytes.is_empty() {
                let mut f =
                    OpenOptions::new().create(true).append(true).open(&kept).map_err(io_err(&kept))?;
                f.write_all(&read.dropped_bytes).and_then(|()| f.sync_all()).map_err(io_err(&kept))?;
            }
            recovered = Some(format!(
                "{}: {damage}; kept {} intact record(s){}",
                out.join(JOURNAL).display(),
                read.runs.len(),
                if read.dropped_bytes.is_empty() {
                    String::new()
                } else {
                    format!(" (the dropped lines are saved in {})", kept.display())
                }
            ));
        }
        if read.untidy() || old.format != FORMAT {
            // A clean journal of the kept records (with checksums) before anything is appended.
            write_journal(out, &read.runs)?;
        }
        done = read.runs;
        // Outputs of the folder's last finish are written again at the end, the summary last.
        for f in unfinished.iter().chain([&report::REPORT_FILE]) {
            let _ = fs::remove_file(out.join(f));
        }
        if m.runs > old.runs {
            warn(&format!(
                "{}: extending the Monte Carlo from {} to {} runs",
                out.display(),
                old.runs,
                m.runs
            ));
        }
        write_text(&out.join(CANONICAL), &canonical_form)?;
        if old != m {
            write_manifest(out, &m)?;
        }
    } else {
        if opts.resume && fs::metadata(out.join(JOURNAL)).is_ok_and(|md| md.len() > 0) {
            return Err(McError::Input(format!(
                "--resume: {} has a journal (runs.jsonl) but no mc.json, so which Monte Carlo it holds is unknown; \
                 nothing was changed: move runs.jsonl away, or run without --resume to start again",
                out.display()
            )));
        }
        // A fresh start: nothing of an earlier Monte Carlo may be mistaken for this one's.
        let _ = fs::remove_file(out.join("summary.json"));
        for f in [JOURNAL, DROPPED, report::REPORT_FILE].into_iter().chain(OUTPUT_FILES.iter().copied()) {
            let _ = fs::remove_file(out.join(f));
        }
        write_text(&out.join(CANONICAL), &canonical_form)?;
        write_manifest(out, &m)?;
    }
    let wanted = m.wanted();
    if let Some(r) = done.iter().find(|r| wanted.binary_search(&r.run).is_err()) {
        return Err(McError::Input(format!(
            "{}: run {} does not belong to this Monte Carlo",
            out.join(JOURNAL).display(),
            r.run
        )));
    }
    let missing: Vec<u32> =
        wanted.iter().copied().filter(|r| done.binary_search_by_key(r, |d| d.run).is_err()).collect();
    if let Some(note) = recovered {
        let list: Vec<String> = missing.iter().take(20).map(u32::to_string).collect();
        let more =
            if missing.len() > 20 { format!(" and {} more", missing.len() - 20) } else { String::new() };
        warn(&format!("{note}; computing the missing runs: {}{more}", list.join(", ")));
    }
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
        let line = journal::encode(&outcome);
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
    let runs = exactly(intact(out)?, &wanted, &journal_path.display().to_string())?;
    // The journal, sorted: the same bytes however the runs were computed.
    write_journal(out, &runs)?;
    let summary = if m.shard.is_none() { Some(write_outputs(out, &m, &runs, opts.parquet)?) } else { None };
    Ok(McResult { manifest: m, computed: missing.len(), outcomes: runs, summary })
}

/// A folder's journal, which must be intact (every line a checked record).
pub fn intact(dir: &Path) -> Result<Vec<RunOutcome>, McError> {
    let format = read_manifest(dir)?.format;
    let read = read_journal(dir, format >= 2)?;
    match read.damage() {
        Some(damage) if !read.dropped.is_empty() => Err(McError::Input(format!(
            "{}: {damage}; `liqsim mc ... --resume` on that folder keeps the intact records and computes the rest",
            dir.join(JOURNAL).display()
        ))),
        _ => Ok(read.runs),
    }
}

/// Writes a text file atomically.
fn write_text(path: &Path, text: &str) -> Result<(), McError> {
    report::write_atomic(path, |w| writeln!(w, "{text}"))?;
    Ok(())
}

/// Combines shard folders into the outputs of the whole Monte Carlo, written into `out` (with
/// `outcomes.parquet` when `parquet`).
pub fn merge(dirs: &[PathBuf], out: &Path, parquet: bool) -> Result<McResult, McError> {
    let Some(first) = dirs.first() else {
        return Err(McError::Input("merge: name at least one shard folder".into()));
    };
    let m0 = read_manifest(first)?;
    let whole = m0.whole();
    let mut shards: Vec<(Shard, &PathBuf)> = Vec::new();
    let mut all = Vec::new();
    for dir in dirs {
        let m = read_manifest(dir)?;
        if let Some(why) = clash(&m.whole(), &whole, &[])
            .or_else(|| (m.runs != whole.runs).then(|| format!("{} runs, not {}", m.runs, whole.runs)))
        {
            return Err(McError::Input(format!(
                "{}: not a shard of the same Monte Carlo as {} ({why})",
                dir.display(),
                first.display(),
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
        all.extend(exactly(intact(dir)?, &m.wanted(), &what)?);
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
    let lock = open_output(out, "merge", &[]).map_err(folder_err)?;
    let mut unfinished: Vec<&str> = vec!["summary.json", MANIFEST, JOURNAL, CANONICAL];
    unfinished.extend_from_slice(OUTPUT_FILES);
    lock.on_interrupt(&unfinished, None);
    let _ = fs::remove_file(out.join("summary.json"));
    for f in OUTPUT_FILES.iter().chain([&report::REPORT_FILE]) {
        let _ = fs::remove_file(out.join(f));
    }
    write_manifest(out, &whole)?;
    if let Ok(form) = fs::read_to_string(first.join(CANONICAL)) {
        write_text(&out.join(CANONICAL), form.trim_end())?;
    }
    write_journal(out, &runs)?;
    let summary = write_outputs(out, &whole, &runs, parquet)?;
    Ok(McResult { manifest: whole, computed: 0, outcomes: runs, summary: Some(summary) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(meaning: &str, hash: &str) -> Manifest {
        Manifest {
            format: if meaning.is_empty() { 1 } else { FORMAT },
            scenario: "s".into(),
            scenario_hash: hash.into(),
            scenario_meaning: meaning.into(),
            master_seed: 1,
            runs: 10,
            start_price: 1.0,
            watch_levels: vec![],
            path_minutes: 1.0,
            shard: None,
        }
    }

    #[test]
    fn a_clash_is_on_meaning_and_falls_back_to_bytes_for_format_1() {
        let (a, b) = (manifest("m1", "h1"), manifest("m1", "h2"));
        assert_eq!(clash(&a, &b, &[]), None, "reformatted: the same meaning");
        let c = manifest("m2", "h1");
        assert!(clash(&a, &c, &[]).unwrap().contains("parameters differ"));
        // A folder of format 1 beside one of format 2, either way round: the file's bytes decide.
        for (x, y) in [(manifest("", "h1"), a.clone()), (a.clone(), manifest("", "h1"))] {
            assert_eq!(clash(&x, &y, &[]), None);
        }
        assert!(clash(&manifest("", "h9"), &a, &[]).unwrap().contains("bytes differ"));
        assert!(clash(&a, &manifest("", "h9"), &[]).unwrap().contains("bytes differ"));
        let seeded = Manifest { master_seed: 2, ..a.clone() };
        assert_eq!(clash(&a, &seeded, &[]).as_deref(), Some("master seed 1, now 2"));
    }
}
