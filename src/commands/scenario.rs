//! `validate` and `run`: one scenario file, checked, or run once with its outputs written.

use super::{bad, load, within_budget};
use crate::cli::{BudgetArgs, RunArgs, TableFormat};
use anyhow::Result;
use liqsim::budget::{self, Bytes};
use liqsim::runner::{RunError, RunOptions, run_scenario};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn validate(file: &Path, limits: &BudgetArgs) -> Result<ExitCode> {
    let v = load(file)?;
    let estimate = budget::run(&v);
    within_budget(limits, &estimate)?;
    println!(
        "{}: ok ({} ticks of {}s, {} map accounts, scenario hash {}; a run takes about {} of memory, {} of disk and {} of computing)",
        file.display(),
        v.sim.ticks,
        v.sim.exchange.tick_secs,
        v.sim.map.map_accounts(),
        &v.hash[..16],
        Bytes(estimate.memory()),
        Bytes(estimate.disk()),
        budget::Secs(estimate.seconds())
    );
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: RunArgs) -> Result<ExitCode> {
    let RunArgs { file, budget: limits, seed, out, report: with_report, format, quiet } = args;
    let v = load(&file)?;
    within_budget(&limits, &budget::run(&v))?;
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(&v.scenario.name));
    let report = run_scenario(
        &v,
        &RunOptions { seed, out: out.clone(), progress: !quiet, parquet: format == TableFormat::Parquet },
    )
    .map_err(|e| match e {
        RunError::Folder(f) if f.is_bad_input() => bad(f.to_string()),
        // The map cannot be laid out as the scenario asks (it names the field): bad input.
        RunError::Sim(e @ liqsim::sim::SimError::Map(_)) => bad(format!("{}: {e}", file.display())),
        other => other.into(),
    })?;
    if !quiet {
        print_summary(&report, &out, v.sim.exchange.tick_secs.max(1));
    }
    super::report::at_end(with_report, &out, quiet)?;
    Ok(ExitCode::SUCCESS)
}

fn print_summary(r: &liqsim::runner::RunReport, out: &Path, tick_secs: u64) {
    print!("{}", liqsim::runner::text::run_summary(r, tick_secs, out));
}
