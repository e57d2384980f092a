//! `validate` and `run`: one scenario file, checked, or run once with its outputs written.

use super::{bad, load, within_budget};
use crate::cli::{BudgetArgs, RunArgs};
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
    let RunArgs { file, budget: limits, seed, out, quiet } = args;
    let v = load(&file)?;
    within_budget(&limits, &budget::run(&v))?;
    let out = out.unwrap_or_else(|| PathBuf::from("out").join(&v.scenario.name));
    let report =
        run_scenario(&v, &RunOptions { seed, out: out.clone(), progress: !quiet }).map_err(|e| match e {
            RunError::Folder(f) if f.is_bad_input() => bad(f.to_string()),
            // The map cannot be laid out as the scenario asks (it names the field): bad input.
            RunError::Sim(e @ liqsim::sim::SimError::Map(_)) => bad(format!("{}: {e}", file.display())),
            other => other.into(),
        })?;
    if !quiet {
        print_summary(&report, &out);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_summary(r: &liqsim::runner::RunReport, out: &Path) {
    let s = &r.summary;
    let usd = |v: f64| format!("{v:>18.0}");
    println!("liqsim run: {} (seed {})", r.scenario, r.seed);
    println!("  ticks                       {:>18}", s.ticks);
    println!("  start price                 {}", usd(s.start_price));
    println!("  final / max / min price     {:.1} / {:.1} / {:.1}", s.final_price, s.max_price, s.min_price);
    println!("  max / min mark              {:.1} / {:.1}", s.max_mark, s.min_mark);
    println!(
        "  liquidated longs            {:>18} accounts {} USD",
        s.liquidated_accounts_long,
        usd(s.liquidated_notional_long).trim()
    );
    println!(
        "  liquidated shorts           {:>18} accounts {} USD",
        s.liquidated_accounts_short,
        usd(s.liquidated_notional_short).trim()
    );
    println!("  cascades                    {:>18}", s.cascades.len());
    if let Some(c) = s.cascades.iter().max_by(|a, b| a.notional_usd.total_cmp(&b.notional_usd)) {
        println!(
            "  largest cascade             {:.0} USD, {} accounts, ticks {}–{}, {:.1} → {:.1}",
            c.notional_usd, c.accounts, c.start_tick, c.end_tick, c.price_before, c.price_after
        );
    }
    println!("  insurance fund min / final  {:.2} / {:.2} USD", s.insurance_fund_min, s.insurance_fund_final);
    if s.insurance_shortfall > 0.0 {
        println!("  beyond the fund (venue)     {:.2} USD", s.insurance_shortfall);
    }
    println!(
        "  taken over by the fund      {:>18} positions {} USD, fund PnL {:.0} USD",
        s.insurance_takeovers,
        usd(s.insurance_takeover_notional).trim(),
        s.insurance_fund_pnl
    );
    println!("  ADL events                  {:>18} ({} USD)", s.adl_count, usd(s.adl_notional).trim());
    // A fraction per interval: for a run shorter than the interval, the rate it would have paid.
    println!("  funding rate accrued        {:>17.6}% per interval", s.funding_rate_accrued * 100.0);
    println!("  events                      {:>18}", s.events);
    println!("  final state hash            {}", s.final_state_hash);
    println!("  outputs                     {}", out.display());
}
