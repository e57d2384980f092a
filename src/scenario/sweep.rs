//! Sweep grids: the parameters an axis may vary, how a value is applied to a scenario, and the
//! checks that name `sweep.axes[i]` when an axis cannot be used.
//!
//! Parameters (values are numbers unless said otherwise):
//! - `map.imbalance`: scales every short band's notional so Σ short : Σ long = value (> 0);
//!   accounts per band are unchanged, so each run costs the same;
//! - `map.max_leverage`: caps every band's leverage mix at value (an integer ≥ 1), merging the
//!   weight of higher settings into the cap;
//! - `hunters.mode`: `"none"` (no hunters), `"up"`, `"down"`, `"adaptive"`, `"expected"` or `"random"`; every
//!   hunter takes that mode, and a scenario without hunters gets one default hunter;
//! - `liquidity.depth_scale`, `liquidity.reach_pct`, `index.drift_pct`, `index.spot_depth_scale`,
//!   `index.volatility_pct_per_hour`, `value.max_position_usd`, `insurance_fund_usd`: set the
//!   field;
//! - `hunters.budget_usd`, `hunters.max_distance`, `hunters.cluster_usd`,
//!   `hunters.pace_usd_per_second`: set the field of every hunter's `hunting` (a scenario
//!   without hunters cannot take them);
//! - `monte_carlo.runs`: runs per cell (an integer ≥ 1).
//!
//! The numbers that are not whole ([`continuous`]) can also be a sensitivity analysis's
//! parameters (see [`crate::mc::sensitivity`]); [`base_value`] reads a scenario's value of one,
//! and [`multiplicative`] says which are scales or sizes, whose natural spacing is logarithmic.

use super::HunterSpec;
use super::{Problem, Scenario};
use crate::agents::hunter::HuntMode;
use crate::population::PositionSide;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One value of a sweep axis: a number, or a name (`hunters.mode`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SweepValue {
    Number(f64),
    Name(String),
}

impl fmt::Display for SweepValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepValue::Number(v) => write!(f, "{v}"),
            SweepValue::Name(s) => f.write_str(s),
        }
    }
}

/// The parameters a sweep may vary.
pub const PARAMETERS: &[&str] = &[
    "map.imbalance",
    "map.max_leverage",
    "hunters.mode",
    "hunters.budget_usd",
    "hunters.max_distance",
    "hunters.cluster_usd",
    "hunters.pace_usd_per_second",
    "value.max_position_usd",
    "liquidity.depth_scale",
    "liquidity.reach_pct",
    "index.drift_pct",
    "index.spot_depth_scale",
    "index.volatility_pct_per_hour",
    "insurance_fund_usd",
    "monte_carlo.runs",
];

/// Whether `parameter` takes any number in a range (not a name, not a whole number).
pub fn continuous(parameter: &str) -> bool {
    PARAMETERS.contains(&parameter)
        && !matches!(parameter, "map.max_leverage" | "hunters.mode" | "monte_carlo.runs")
}

/// Whether `parameter` is a scale or a size (positive, and what matters is its ratio): its
/// natural spacing over a range is logarithmic. The others (distances, percentages, a drift
/// that may be negative) are spaced evenly.
pub fn multiplicative(parameter: &str) -> bool {
    matches!(
        parameter,
        "map.imbalance"
            | "hunters.budget_usd"
            | "hunters.cluster_usd"
            | "hunters.pace_usd_per_second"
            | "value.max_position_usd"
            | "liquidity.depth_scale"
            | "index.spot_depth_scale"
            | "index.volatility_pct_per_hour"
            | "insurance_fund_usd"
    )
}

/// The side totals of the map's bands: (Σ long, Σ short) notional.
fn sides(s: &Scenario) -> (f64, f64) {
    let sum = |side| s.map.bands.iter().filter(|b| b.side == side).map(|b| b.notional_usd).sum::<f64>();
    (sum(PositionSide::Long), sum(PositionSide::Short))
}

/// The scenario's own value of a [`continuous`] parameter: the field, Σ short : Σ long for
/// `map.imbalance`, the first hunter's for `hunters.*`.
pub fn base_value(s: &Scenario, parameter: &str) -> Result<f64, String> {
    let hunter = |get: fn(&HunterSpec) -> f64| {
        s.hunters.first().map(get).ok_or_else(|| format!("{parameter}: the scenario has no hunters"))
    };
    Ok(match parameter {
        "map.imbalance" => {
            let (long, short) = sides(s);
            if long <= 0.0 || short <= 0.0 {
                return Err("map.imbalance needs both long and short bands in map.bands".into());
            }
            short / long
        }
        "hunters.budget_usd" => hunter(|h| h.hunting.budget_usd)?,
        "hunters.max_distance" => hunter(|h| h.hunting.max_distance)?,
        "hunters.cluster_usd" => hunter(|h| h.hunting.cluster_usd)?,
        "hunters.pace_usd_per_second" => hunter(|h| h.hunting.pace_usd_per_second)?,
        "value.max_position_usd" => s.value.max_position_usd,
        "liquidity.depth_scale" => s.liquidity.depth_scale,
        "liquidity.reach_pct" => s.liquidity.reach_pct,
        "index.drift_pct" => s.index.drift_pct,
        "index.spot_depth_scale" => s.index.spot_depth_scale,
        "index.volatility_pct_per_hour" => s.index.volatility_pct_per_hour,
        "insurance_fund_usd" => s.insurance_fund_usd,
        other => {
            let numeric: Vec<&str> = PARAMETERS.iter().copied().filter(|p| continuous(p)).collect();
            return Err(format!("unknown parameter {other:?}; one of: {}", numeric.join(", ")));
        }
    })
}

fn number(parameter: &str, v: &SweepValue) -> Result<f64, String> {
    match v {
        SweepValue::Number(x) if x.is_finite() => Ok(*x),
        SweepValue::Number(x) => Err(format!("{parameter} needs a finite number, got {x}")),
        SweepValue::Name(s) => Err(format!("{parameter} needs a number, got {s:?}")),
    }
}

fn whole(parameter: &str, v: &SweepValue, max: f64) -> Result<u32, String> {
    let x = number(parameter, v)?;
    if x.fract() != 0.0 || x < 1.0 || x > max {
        return Err(format!("{parameter} needs a whole number from 1 to {max}, got {x}"));
    }
    Ok(x as u32)
}

/// Sets `parameter` to `value` in `s`, or says why it cannot.
pub fn apply(s: &mut Scenario, parameter: &str, value: &SweepValue) -> Result<(), String> {
    match parameter {
        "map.imbalance" => {
            let ratio = number(parameter, value)?;
            if ratio <= 0.0 {
                return Err(format!("map.imbalance must be positive, got {ratio}"));
            }
            let (long, short) = sides(s);
            if long <= 0.0 || short <= 0.0 {
                return Err("map.imbalance needs both long and short bands in map.bands".into());
            }
            let scale = ratio * long / short;
            for b in s.map.bands.iter_mut().filter(|b| b.side == PositionSide::Short) {
                b.notional_usd *= scale;
            }
        }
        "map.max_leverage" => {
            let cap = whole(parameter, value, crate::ledger::MAX_LEVERAGE as f64)?;
            for band in &mut s.map.bands {
                let mut capped: Vec<crate::population::LeverageWeight> = Vec::new();
                for lw in &band.leverage {
                    let leverage = lw.leverage.min(cap);
                    match capped.iter_mut().find(|c| c.leverage == leverage) {
                        Some(c) => c.weight += lw.weight,
                        None => {
                            capped.push(crate::population::LeverageWeight { leverage, weight: lw.weight })
                        }
                    }
                }
                band.leverage = capped;
            }
        }
        "hunters.mode" => {
            let name = match value {
                SweepValue::Name(n) => n.to_ascii_lowercase(),
                SweepValue::Number(x) => return Err(format!("hunters.mode needs a name, got {x}")),
            };
            let mode = match name.as_str() {
                "none" => {
                    s.hunters.clear();
                    return Ok(());
                }
                "up" => HuntMode::Up,
                "down" => HuntMode::Down,
                "adaptive" => HuntMode::Adaptive,
                "random" => HuntMode::Random,
                "expected" => HuntMode::Expected,
                other => {
                    return Err(format!(
                        "hunters.mode must be none, up, down, adaptive, expected or random, got {other:?}"
                    ));
                }
            };
            if s.hunters.is_empty() {
                s.hunters.push(HunterSpec::default());
            }
            for h in &mut s.hunters {
                h.hunting.mode = mode;
            }
        }
        "hunters.budget_usd"
        | "hunters.max_distance"
        | "hunters.cluster_usd"
        | "hunters.pace_usd_per_second" => {
            let x = number(parameter, value)?;
            if s.hunters.is_empty() {
                return Err(format!("{parameter}: the scenario has no hunters"));
            }
            for h in &mut s.hunters {
                let field = match parameter {
                    "hunters.budget_usd" => &mut h.hunting.budget_usd,
                    "hunters.max_distance" => &mut h.hunting.max_distance,
                    "hunters.cluster_usd" => &mut h.hunting.cluster_usd,
                    _ => &mut h.hunting.pace_usd_per_second,
                };
                *field = x;
            }
        }
        "value.max_position_usd" => s.value.max_position_usd = number(parameter, value)?,
        "insurance_fund_usd" => s.insurance_fund_usd = number(parameter, value)?,
        "liquidity.depth_scale" => s.liquidity.depth_scale = number(parameter, value)?,
        "liquidity.reach_pct" => s.liquidity.reach_pct = number(parameter, value)?,
        "index.drift_pct" => s.index.drift_pct = number(parameter, value)?,
        "index.spot_depth_scale" => s.index.spot_depth_scale = number(parameter, value)?,
        "index.volatility_pct_per_hour" => s.index.volatility_pct_per_hour = number(parameter, value)?,
        "monte_carlo.runs" => s.monte_carlo.runs = whole(parameter, value, 1_000_000.0)?,
        other => {
            return Err(format!("unknown parameter {other:?}; one of: {}", PARAMETERS.join(", ")));
        }
    }
    Ok(())
}

/// Checks the grid's shape and that every value applies to the scenario on its own (a cell's
/// combined values are validated again when the cell is built).
pub(super) fn check(file: &str, s: &Scenario, problems: &mut Vec<Problem>) {
    let Some(sweep) = &s.sweep else { return };
    let mut fail = |path: String, message: String| {
        problems.push(Problem { location: format!("{file}: {path}"), message });
    };
    if sweep.axes.is_empty() {
        fail("sweep.axes".into(), "needs at least one axis".into());
    }
    let mut cells: u64 = 1;
    for (i, axis) in sweep.axes.iter().enumerate() {
        if !PARAMETERS.contains(&axis.parameter.as_str()) {
            fail(
                format!("sweep.axes[{i}].parameter"),
                format!("unknown parameter {:?}; one of: {}", axis.parameter, PARAMETERS.join(", ")),
            );
            continue;
        }
        if sweep.axes[..i].iter().any(|a| a.parameter == axis.parameter) {
            fail(format!("sweep.axes[{i}].parameter"), format!("{} is already an axis", axis.parameter));
        }
        if axis.values.is_empty() {
            fail(format!("sweep.axes[{i}].values"), "needs at least one value".into());
        }
        for (j, v) in axis.values.iter().enumerate() {
            let mut trial = s.clone();
            if let Err(e) = apply(&mut trial, &axis.parameter, v) {
                fail(format!("sweep.axes[{i}].values[{j}]"), e);
            }
        }
        cells = cells.saturating_mul(axis.values.len() as u64);
    }
    if cells > 10_000 {
        fail("sweep.axes".into(), format!("{cells} cells is more than the 10000 a sweep may have"));
    }
}
