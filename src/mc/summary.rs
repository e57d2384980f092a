//! The statistics of a whole Monte Carlo: type-7 quantiles of every numeric outcome, Wilson
//! intervals of the event probabilities (touches, 10% moves, squeezes), per watch level the
//! touches and verdicts; written as `summary.json` beside `outcomes.csv` and the pictures, and
//! printed as the stdout table.

use super::stats::{self, Probability, Summary};
use super::{Manifest, McError, RunOutcome, SEED_DERIVATION, numeric_columns, plots};
use crate::report;
use crate::report::table::{self, Column as TableColumn, ColumnType, Value};
use crate::sim::Verdict;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// How quantiles are defined, as recorded in `summary.json`.
pub const QUANTILE_DEFINITION: &str =
    "type 7 (linear interpolation between order statistics, numpy's default): h = (n-1)p";

/// A move of at least this fraction of the start price (max above or min below) is "a 10% move".
pub const MOVE_FRACTION: f64 = 0.10;
/// An up squeeze: max price ≥ start × (1 + this) and at least [`SQUEEZE_USD`] of shorts
/// liquidated; a down squeeze mirrors it with longs.
pub const SQUEEZE_PRICE_FRACTION: f64 = 0.05;
pub const SQUEEZE_USD: f64 = 100e6;

/// A numeric outcome's statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedSummary {
    pub name: String,
    #[serde(flatten)]
    pub stats: Summary,
}

/// A probability and its name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NamedProbability {
    pub name: String,
    pub definition: String,
    #[serde(flatten)]
    pub probability: Probability,
}

/// A watch level across runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
    let outcomes = numeric_columns()
        .into_iter()
        .map(|(name, get)| NamedSummary {
            name: name.to_string(),
            stats: stats::summarize(&runs.iter().map(get).collect::<Vec<_>>()),
        })
        .collect();
    let start = m.start_price;
    let count = |f: &dyn Fn(&RunOutcome) -> bool| runs.iter().filter(|r| f(r)).count() as u64;
    let up = |r: &RunOutcome| r.headline.max_price >= start * (1.0 + MOVE_FRACTION);
    let down = |r: &RunOutcome| r.headline.min_price <= start * (1.0 - MOVE_FRACTION);
    let squeeze_up = |r: &RunOutcome| {
        r.headline.max_price >= start * (1.0 + SQUEEZE_PRICE_FRACTION)
            && r.headline.liquidated_notional_short >= SQUEEZE_USD
    };
    let squeeze_down = |r: &RunOutcome| {
        r.headline.min_price <= start * (1.0 - SQUEEZE_PRICE_FRACTION)
            && r.headline.liquidated_notional_long >= SQUEEZE_USD
    };
    let pct = MOVE_FRACTION * 100.0;
    let sq = SQUEEZE_PRICE_FRACTION * 100.0;
    let usd_m = SQUEEZE_USD / 1e6;
    let mut probabilities = Vec::new();
    for (i, &level) in m.watch_levels.iter().enumerate() {
        let touched = count(&|r| r.levels.get(i).is_some_and(|l| l.minutes.is_some()));
        probabilities.push(NamedProbability {
            name: format!("touch_{}", level_label(level)),
            definition: format!("a trade or the mark reached {level}"),
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
    // Hunters' outcomes, when the runs have any (hunters or hunting makers); with no runs at all
    // (a caller asking which names there are) they are listed too.
    if runs.is_empty() || runs.iter().any(|r| r.headline.hunters > 0) {
        for (name, definition, k) in [
            (
                "hunter_loss",
                "the hunters' total PnL (realised + unrealised at the final mark, after fees) < 0"
                    .to_string(),
                count(&|r| r.headline.hunter_pnl < 0.0),
            ),
            (
                "hunter_up",
                "the first hunting campaign pushed up".into(),
                count(&|r| r.headline.hunter_direction > 0.0),
            ),
            (
                "hunter_down",
                "the first hunting campaign pushed down".into(),
                count(&|r| r.headline.hunter_direction < 0.0),
            ),
        ] {
            probabilities.push(NamedProbability {
                name: name.into(),
                definition,
                probability: stats::probability(k, n),
            });
        }
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

/// The files [`write_outputs`] writes besides `summary.json`.
pub const OUTPUT_FILES: &[&str] = &[
    "outcomes.csv",
    "outcomes.parquet",
    "fan.png",
    "fan.svg",
    "hist_final_price.png",
    "hist_max_price.png",
    "hist_liquidated_short.png",
    "hist_liquidated_long.png",
];

/// The columns of `outcomes.csv` (and `outcomes.parquet`) for a Monte Carlo watching `levels`:
/// `run`, `seed`, the numeric outcomes (counts as integers), `final_state_hash`, then per watch
/// level the minutes to its first touch (empty if untouched) and its verdict.
pub fn outcome_columns(levels: &[f64]) -> Vec<TableColumn> {
    let mut columns =
        vec![TableColumn::new("run", ColumnType::Int), TableColumn::new("seed", ColumnType::UInt)];
    columns.extend(numeric_columns().into_iter().map(|(name, _)| {
        let ty = if super::outcomes::integer_column(name) { ColumnType::Int } else { ColumnType::Float };
        TableColumn::new(name, ty)
    }));
    columns.push(TableColumn::new("final_state_hash", ColumnType::Text));
    for &level in levels {
        columns.push(TableColumn::optional(format!("minutes_to_{}", level_label(level)), ColumnType::Float));
        columns.push(TableColumn::optional(format!("verdict_{}", level_label(level)), ColumnType::Text));
    }
    columns
}

/// Writes `outcomes.csv` (and `outcomes.parquet` when `parquet`) and the pictures, each on disk,
/// then `summary.json` last; returns the statistics.
pub fn write_outputs(
    dir: &Path,
    m: &Manifest,
    runs: &[RunOutcome],
    parquet: bool,
) -> Result<McSummary, McError> {
    let columns = outcome_columns(&m.watch_levels);
    let numeric = numeric_columns();
    let verdicts: Vec<Vec<Option<String>>> = runs
        .iter()
        .map(|r| {
            (0..m.watch_levels.len()).map(|i| r.levels.get(i).map(|l| format!("{:?}", l.verdict))).collect()
        })
        .collect();
    let rows = || {
        runs.iter().zip(&verdicts).map(|(r, verdicts)| {
            let mut row = vec![Value::Int(i64::from(r.run)), Value::UInt(r.seed)];
            row.extend(numeric.iter().map(|&(name, get)| {
                let v = get(r);
                // Counts are whole numbers well inside f64's exact range.
                if super::outcomes::integer_column(name) { Value::Int(v as i64) } else { Value::Float(v) }
            }));
            row.push(Value::Text(&r.final_state_hash));
            for (i, verdict) in verdicts.iter().enumerate() {
                row.push(r.levels.get(i).and_then(|l| l.minutes).map_or(Value::Null, Value::Float));
                row.push(verdict.as_deref().map_or(Value::Null, Value::Text));
            }
            row
        })
    };
    table::write_table(&dir.join("outcomes.csv"), &columns, rows(), false)?;
    if parquet {
        table::write_table(&dir.join("outcomes.parquet"), &columns, rows(), true)?;
    }
    plots::fan_chart(m, runs, Some(&dir.join("fan.png")), Some(&dir.join("fan.svg")))?;
    for (file, what, unit, get) in [
        (
            "hist_final_price.png",
            "Final price",
            "last price at the end (USD)",
            (|r: &RunOutcome| r.headline.final_price) as fn(&RunOutcome) -> f64,
        ),
        ("hist_max_price.png", "Highest price", "highest last price of the run (USD)", |r| {
            r.headline.max_price
        }),
        ("hist_liquidated_short.png", "Shorts liquidated", "short notional liquidated ($M)", |r| {
            r.headline.liquidated_notional_short / 1e6
        }),
        ("hist_liquidated_long.png", "Longs liquidated", "long notional liquidated ($M)", |r| {
            r.headline.liquidated_notional_long / 1e6
        }),
    ] {
        let values: Vec<f64> = runs.iter().map(get).collect();
        let title = format!("{what} — {}, {} runs, master seed {}", m.scenario, runs.len(), m.master_seed);
        plots::histogram(&title, unit, &values, &dir.join(file))?;
    }
    let summary = summarize(m, runs);
    let json = serde_json::to_string_pretty(&summary).unwrap_or_default();
    report::write_summary(dir, &json)?;
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
