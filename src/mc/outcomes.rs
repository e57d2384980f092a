//! One world of a Monte Carlo and what is kept of it: [`simulate`] runs world `i` with its derived
//! seed, and its [`RunOutcome`] (headline numbers, watch levels, the price path once a minute)
//! becomes one line of `runs.jsonl` and one row of `outcomes.csv`. Its headline numbers are
//! declared once, in one list: their keys, their columns and how each is read from the run.

use super::{McError, io_err, run_seed};
use crate::engine::LogTarget;
use crate::scenario::Validated;
use crate::sim::{RunSummary, SimConfig, Simulation, Swings, Verdict};
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

/// One run's outcome, one line of `runs.jsonl`: its headline numbers, the hash of its final
/// state, its watch levels and its price path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunOutcome {
    pub run: u32,
    pub seed: u64,
    #[serde(flatten)]
    pub headline: Headline,
    pub final_state_hash: String,
    pub levels: Vec<LevelOutcome>,
    /// Last price at the start and then every `path_minutes`.
    pub path: Vec<f64>,
}

/// Which numeric columns of `outcomes.csv` (and entries of `summary.json`) a headline number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Columns {
    /// None: it is kept in the journal only.
    JournalOnly,
    /// One of the columns `outcomes.csv` was first published with, in list order.
    Published,
    /// A column added since: after the published ones, so that those keep their places.
    Appended,
}

/// A headline number as a column value.
trait ColumnValue {
    /// Whether the column holds whole numbers (an `int64` column in Parquet).
    const INTEGER: bool;
    fn column_value(self) -> f64;
}

impl ColumnValue for u64 {
    const INTEGER: bool = true;
    fn column_value(self) -> f64 {
        self as f64
    }
}

impl ColumnValue for f64 {
    const INTEGER: bool = false;
    fn column_value(self) -> f64 {
        self
    }
}

/// A headline number's name, which columns it is, and its value in a run's outcome.
struct Listed {
    name: &'static str,
    columns: Columns,
    integer: bool,
    value: fn(&RunOutcome) -> f64,
}

/// Declares [`Headline`] from one list, so that a headline number is added in one place. Each
/// line gives a number's name (its key in `runs.jsonl`, its column in `outcomes.csv`, its entry
/// in `summary.json`), its type, how it is read from the run's [`RunSummary`] and
/// [`PriceSwings`], and which columns it is.
macro_rules! headline {
    (|$summary:ident, $swings:ident|
        $($(#[$attr:meta])* $name:ident: $ty:ty = $read:expr, $columns:ident;)*) => {
        /// A run's headline numbers, in `runs.jsonl` order.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct Headline {
            $($(#[$attr])* pub $name: $ty,)*
        }

        impl Headline {
            fn read($summary: &RunSummary, $swings: &PriceSwings) -> Headline {
                Headline { $($name: $read,)* }
            }
        }

        const LISTED: &[Listed] = &[$(Listed {
            name: stringify!($name),
            columns: Columns::$columns,
            integer: <$ty as ColumnValue>::INTEGER,
            value: |o| o.headline.$name.column_value(),
        },)*];
    };
}

// The order is that of `runs.jsonl`'s keys; a new number goes last, as an `Appended` column.
headline! { |summary, swings|
    /// Ticks run: the horizon, the same in every run.
    ticks: u64 = summary.ticks, JournalOnly;
    final_price: f64 = summary.final_price, Published;
    max_price: f64 = summary.max_price, Published;
    min_price: f64 = summary.min_price, Published;
    max_mark: f64 = summary.max_mark, Published;
    min_mark: f64 = summary.min_mark, Published;
    liquidated_accounts_long: u64 = summary.liquidated_accounts_long, Published;
    liquidated_accounts_short: u64 = summary.liquidated_accounts_short, Published;
    liquidated_notional_long: f64 = summary.liquidated_notional_long, Published;
    liquidated_notional_short: f64 = summary.liquidated_notional_short, Published;
    cascade_count: u64 = summary.cascades.len() as u64, Published;
    largest_cascade_usd: f64 =
        summary.cascades.iter().map(|c| c.notional_usd).fold(0.0, f64::max), Published;
    insurance_fund_min: f64 = summary.insurance_fund_min, Published;
    insurance_fund_final: f64 = summary.insurance_fund_final, Published;
    /// Losses beyond the insurance fund, absorbed by the venue (USD); 0 in older journals.
    #[serde(default)]
    insurance_shortfall: f64 = summary.insurance_shortfall, Appended;
    adl_count: u64 = summary.adl_count, Published;
    // An empty sum is −0: report 0.
    hunter_pnl: f64 = summary.hunter_pnl + 0.0, Published;
    max_drawdown_pct: f64 = swings.max_drawdown_pct, Published;
    max_runup_pct: f64 = swings.max_runup_pct, Published;
    events: u64 = summary.events, Published;
    /// Liquidation triggers, takeovers by the fund, ADL notional and the fund's PnL; absent
    /// (0) in older journals.
    #[serde(default)]
    liquidations_long: u64 = summary.liquidations_long, Appended;
    #[serde(default)]
    liquidations_short: u64 = summary.liquidations_short, Appended;
    #[serde(default)]
    insurance_takeovers: u64 = summary.insurance_takeovers, Appended;
    #[serde(default)]
    insurance_takeover_notional: f64 = summary.insurance_takeover_notional, Appended;
    #[serde(default)]
    adl_notional: f64 = summary.adl_notional, Appended;
    #[serde(default)]
    insurance_fund_pnl: f64 = summary.insurance_fund_pnl, Appended;
    /// The funding rate accrued at the end of the run (fraction per interval); 0 in older
    /// journals.
    #[serde(default)]
    funding_rate_accrued: f64 = summary.funding_rate_accrued, Appended;
    /// The way the run's first hunting campaign pushed (a hunter's or a hunting maker's):
    /// 1 up, −1 down, 0 no campaign; 0 in older journals.
    #[serde(default)]
    hunter_direction: f64 = summary.first_hunt_direction(), Appended;
    /// Hunters and hunting makers in the run; 0 in older journals.
    #[serde(default)]
    hunters: u64 = summary.hunters.len() as u64, Appended;
}

/// A numeric column's name and how to read it from a run's outcome.
pub type Column = (&'static str, fn(&RunOutcome) -> f64);

/// The numeric columns of `outcomes.csv`, summarised with quantiles in `summary.json`, in order.
pub fn numeric_columns() -> Vec<Column> {
    let of = |columns| LISTED.iter().filter(move |l| l.columns == columns).map(|l| (l.name, l.value));
    of(Columns::Published).chain(of(Columns::Appended)).collect()
}

/// Whether a numeric column of `outcomes.csv` holds whole numbers (counts).
pub fn integer_column(name: &str) -> bool {
    LISTED.iter().any(|l| l.name == name && l.integer)
}

/// How far the traded price swung over a run, percent: its largest fall from a running peak
/// (drawdown) and its largest rise from a running trough (run-up), trade by trade.
struct PriceSwings {
    max_drawdown_pct: f64,
    max_runup_pct: f64,
}

impl PriceSwings {
    fn of(swings: Swings) -> PriceSwings {
        PriceSwings { max_drawdown_pct: swings.drawdown * 100.0, max_runup_pct: swings.runup * 100.0 }
    }
}

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
    let sim_err = |cause| McError::Sim { run, seed, cause };
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
    // The outcome keeps the final state hash, not the stream hash: skip hashing the stream.
    let mut sim = Simulation::new_without_stream_hash(&cfg, sink).map_err(sim_err)?;
    let every = path_every(&cfg);
    let mut path = vec![cfg.start_price_usd()];
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
    let swings = PriceSwings::of(sim.metrics().swings());
    let tick_secs = cfg.exchange.tick_secs.max(1);
    Ok(RunOutcome {
        run,
        seed,
        headline: Headline::read(&summary, &swings),
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
