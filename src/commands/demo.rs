//! `demo`: the exact core's seeded short squeeze, its event log, and a replay of it.

use super::log::replay_log;
use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;

pub fn demo(seed: u64, out: &Path) -> Result<ExitCode> {
    super::out_folder(out)?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let final_path = out.join("events.log");
    let tmp_path = liqsim::report::atomic_path(&final_path);
    let file = File::create(&tmp_path).with_context(|| format!("cannot write {}", tmp_path.display()))?;
    let sink: Box<dyn Write + Send + Sync> = Box::new(BufWriter::new(file));
    let report = match liqsim::demo::run_demo(seed, Some(sink)) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp_path);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp_path, &final_path)?;
    let replayed = replay_log(&final_path)?;
    let verified = replayed.state_hash() == report.final_state_hash;
    println!("liqsim core demo (seed {})", report.seed);
    println!("  ticks                    {:>14}", report.ticks);
    println!("  start price              {:>14.1}", report.start_price);
    println!("  max price                {:>14.1}", report.max_price);
    println!("  final price              {:>14.1}", report.final_price);
    println!("  shorts liquidated        {:>14}", report.liquidated_shorts);
    println!("  short notional liquidated{:>14.0} USD", report.liquidated_notional_short_usd);
    println!("  ADL events               {:>14}", report.adl_events);
    println!("  insurance fund           {:>14.2} USD", report.insurance_fund_usd);
    println!("  events                   {:>14}", report.events);
    println!("  final state hash         {}", report.final_state_hash);
    println!("  event log                {}", final_path.display());
    println!("  replay                   {}", if verified { "same state hash" } else { "MISMATCH" });
    Ok(if verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
