//! `mc`, `merge` and `sweep`: Monte Carlo runs of a scenario, their shards combined, and grids
//! of them.

use super::{bad, load, within_budget};
use crate::cli::{McArgs, MergeArgs, SensitivityArgs, SweepArgs, TableFormat};
use anyhow::Result;
use liqsim::mc::{self, McError, McOptions, Shard, sensitivity::SensitivityOptions, sweep::SweepOptions};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn mc(args: McArgs) -> Result<ExitCode> {
    let McArgs {
        file,
        budget: limits,
        runs,
        threads,
        seed,
        out,
        keep_logs,
        resume,
        shard,
        report,
        format,
        quiet,
    } = args;
    let v = load(&file)?;
    let shard = shard.map(|s| Shard::parse(&s)).transpose().map_err(bad)?;
    if report && shard.is_some() {
        return Err(bad(
            "--report: a shard has no report of its own; merge the shards (`liqsim merge --report`) for one",
        ));
    }
    if format == TableFormat::Parquet && shard.is_some() {
        return Err(bad(
            "--format parquet: a shard writes no outcomes of its own; merge the shards (`liqsim merge --format parquet`) for them",
        ));
    }
    if threads == Some(0) {
        return Err(bad("--threads: must be at least 1"));
    }
    let total = runs.unwrap_or(v.scenario.monte_carlo.runs);
    let mine = shard.map_or(total, |s| total.div_ceil(s.count));
    within_budget(&limits, &estimate(&v, u64::from(mine), threads, keep_logs))?;
    let out = out.unwrap_or_else(|| {
        let base = PathBuf::from("out").join(&v.scenario.name).join("mc");
        match shard {
            Some(s) => base.join(format!("shard-{}-of-{}", s.index, s.count)),
            None => base,
        }
    });
    let opts = McOptions {
        runs,
        seed,
        threads,
        out: out.clone(),
        keep_logs,
        resume,
        shard,
        progress: !quiet,
        parquet: format == TableFormat::Parquet,
    };
    let r = mc::run_mc(&v, &opts).map_err(mc_error)?;
    if !quiet {
        match &r.summary {
            Some(s) => print!("{}", mc::table(s)),
            None => println!(
                "liqsim mc: shard {}/{} of {}: {} runs ({} computed now); merge the shards with `liqsim merge`",
                r.manifest.shard.map_or(0, |s| s.index),
                r.manifest.shard.map_or(1, |s| s.count),
                r.manifest.scenario,
                r.outcomes.len(),
                r.computed
            ),
        }
        println!("outputs: {}", out.display());
    }
    super::report::at_end(report, &out, quiet)?;
    Ok(ExitCode::SUCCESS)
}

pub fn merge(args: MergeArgs) -> Result<ExitCode> {
    let MergeArgs { dirs, out, report, format, quiet } = args;
    let out = match out {
        Some(o) => o,
        None => {
            let first = dirs.first().ok_or_else(|| bad("merge: name at least one folder"))?;
            let m = mc::read_manifest(first).map_err(mc_error)?;
            PathBuf::from("out").join(m.scenario).join("mc")
        }
    };
    let r = mc::merge(&dirs, &out, format == TableFormat::Parquet).map_err(mc_error)?;
    if !quiet && let Some(s) = &r.summary {
        print!("{}", mc::table(s));
        println!("outputs: {}", out.display());
    }
    super::report::at_end(report, &out, quiet)?;
    Ok(ExitCode::SUCCESS)
}

pub fn sweep(args: SweepArgs) -> Result<ExitCode> {
    let parquet = args.format == TableFormat::Parquet;
    let SweepArgs {
        file, budget: limits, runs, threads, seed, out, resume, metric, x, y, report, quiet, ..
    } = args;
    let v = load(&file)?;
    if threads == Some(0) {
        return Err(bad("--threads: must be at least 1"));
    }
    let cells =
        v.scenario.sweep.as_ref().map_or(1, |s| s.axes.iter().map(|a| a.values.len() as u64).product());
    let per_cell = u64::from(runs.unwrap_or(v.scenario.monte_carlo.runs));
    within_budget(&limits, &estimate(&v, per_cell.saturating_mul(cells), threads, false))?;
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(&v.scenario.name).join("sweep"));
    super::out_folder(&out)?;
    let opts = SweepOptions {
        runs,
        seed,
        threads,
        out: out.clone(),
        resume,
        progress: !quiet,
        metric,
        x,
        y,
        parquet,
    };
    let results = mc::sweep::run_sweep(&v, &file.display().to_string(), &opts).map_err(mc_error)?;
    if !quiet {
        print!("{}", mc::sweep::table(&results));
        println!("outputs: {}", out.display());
    }
    super::report::at_end(report, &out, quiet)?;
    Ok(ExitCode::SUCCESS)
}

pub fn sensitivity(args: SensitivityArgs) -> Result<ExitCode> {
    let parquet = args.format == TableFormat::Parquet;
    let SensitivityArgs { file, budget: limits, runs, points, threads, seed, out, report, quiet, .. } = args;
    let v = load(&file)?;
    if threads == Some(0) {
        return Err(bad("--threads: must be at least 1"));
    }
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(&v.scenario.name).join("sensitivity"));
    super::out_folder(&out)?;
    let opts =
        SensitivityOptions { runs, points, seed, threads, out: out.clone(), progress: !quiet, parquet };
    let plan = mc::sensitivity::plan(&v, &file.display().to_string(), &opts).map_err(mc_error)?;
    within_budget(&limits, &estimate(&v, plan.simulations(), threads, false))?;
    let analysis = mc::sensitivity::run_sensitivity(&plan, &opts).map_err(mc_error)?;
    if !quiet {
        print!("{}", mc::sensitivity::table(&analysis));
        println!("outputs: {}", out.display());
    }
    super::report::at_end(report, &out, quiet)?;
    Ok(ExitCode::SUCCESS)
}

/// A Monte Carlo's resources: one world per thread (one per core by default).
fn estimate(
    v: &liqsim::scenario::Validated,
    runs: u64,
    threads: Option<usize>,
    keep_logs: bool,
) -> liqsim::budget::Estimate {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = threads.unwrap_or(cores).min(runs.max(1) as usize) as u64;
    liqsim::budget::monte_carlo(v, runs, threads, keep_logs)
}

/// A Monte Carlo's bad input exits 2; anything else 1.
fn mc_error(e: McError) -> anyhow::Error {
    match e {
        McError::Input(msg) => bad(msg),
        // The map cannot be laid out as the scenario asks (it names the field): bad input.
        McError::Sim { cause: e @ liqsim::sim::SimError::Map(_), .. } => bad(e.to_string()),
        other => other.into(),
    }
}
