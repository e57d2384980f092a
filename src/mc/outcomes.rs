//! One world of a Monte Carlo and what is kept of it: [`simulate`] runs world `i` with its derived
//! seed, and its [`RunOutcome`] (headline numbers, watch levels, the price path once a minute)
//! becomes one line of `runs.jsonl` and one row of `outcomes.csv`, whose [`NUMERIC`] columns are
//! also what `summary.json` summarises.

use super::{McError, io_err, run_seed};
use crate::events::{LogHeader, LogWriter};
use crate::scenario::Validated;
use crate::sim::{SimConfig, Simulation, Verdict};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::Path;

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

/// Ticks between path points: one a minute (at least one per tick).
pub(super) fn path_every(cfg: &SimConfig) -> u64 {
    (60 / cfg.exchange.tick_secs.max(1)).max(1)
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
            let w: Box<dyn Write + Send + Sync> = Box::new(BufWriter::new(file));
            Some(LogWriter::new(w, &LogHeader::new(hash, seed, cfg.exchange.instrument))?)
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
