//! A sensitivity analysis's section (`sensitivity:`): its parameters, their ranges and spacing,
//! and the checks that name `sensitivity.parameters[i].low` when something cannot be used. The
//! analysis itself (the designs, the runs, the outputs) is [`crate::mc::sensitivity`]'s.
//!
//! A parameter is one of the sweep parameters that take any number ([`sweep::continuous`]);
//! its values run from `low` to `high`, spaced evenly or, for scales and sizes
//! ([`sweep::multiplicative`]), evenly in the logarithm unless `spacing` says otherwise. Each
//! end is applied to the scenario alone and the result validated, so a range that leaves the
//! scenario unusable is refused before anything runs.

use super::sweep::{self, SweepValue};
use super::{Problem, Scenario, SensitivityParameter, Spacing};

/// The most points a one-at-a-time range may have.
pub const MAX_POINTS: u32 = 1_000;
/// The most Morris trajectories and levels.
pub const MAX_TRAJECTORIES: u32 = 1_000;
pub const MAX_LEVELS: u32 = 100;

/// The spacing `p` is varied with: its own, else logarithmic for scales and sizes.
pub fn spacing(p: &SensitivityParameter) -> Spacing {
    p.spacing.unwrap_or(if sweep::multiplicative(&p.name) { Spacing::Log } else { Spacing::Linear })
}

/// The value a fraction `f` (0: low, 1: high) of the way along `p`'s range, in its spacing; the
/// ends are `low` and `high` exactly, the values between rounded to 12 significant digits (so
/// that 1e8 is not 100000000.00000018).
pub fn at_fraction(p: &SensitivityParameter, f: f64) -> f64 {
    if f <= 0.0 {
        return p.low;
    }
    if f >= 1.0 {
        return p.high;
    }
    let x = match spacing(p) {
        Spacing::Linear => p.low + f * (p.high - p.low),
        Spacing::Log => (p.low.ln() + f * (p.high.ln() - p.low.ln())).exp(),
    };
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// `points` values from `low` to `high`, evenly spaced in `p`'s spacing.
pub fn values(p: &SensitivityParameter, points: u32) -> Vec<f64> {
    let n = points.max(2);
    (0..n).map(|k| at_fraction(p, k as f64 / (n - 1) as f64)).collect()
}

/// Applies `value` of parameter `name` to a copy of `s` without its sweep and sensitivity
/// sections and validates it; the problems, if any, in one line.
fn applies(file: &str, s: &Scenario, name: &str, value: f64) -> Result<(), String> {
    let mut trial = s.clone();
    trial.sweep = None;
    trial.sensitivity = None;
    sweep::apply(&mut trial, name, &SweepValue::Number(value))?;
    super::validate(file, &trial).map(|_| ()).map_err(|e| {
        let prefix = format!("{file}: ");
        let all: Vec<String> = e
            .problems()
            .iter()
            .map(|p| format!("{}: {}", p.location.strip_prefix(&prefix).unwrap_or(&p.location), p.message))
            .collect();
        format!("at {value} the scenario is invalid: {}", all.join("; "))
    })
}

/// Checks the section (see the module docs).
pub(super) fn check(file: &str, s: &Scenario, problems: &mut Vec<Problem>) {
    let Some(spec) = &s.sensitivity else { return };
    let mut fail = |path: String, message: String| {
        problems.push(Problem { location: format!("{file}: {path}"), message });
    };
    if spec.parameters.is_empty() {
        fail("sensitivity.parameters".into(), "needs at least one parameter".into());
    }
    for (i, p) in spec.parameters.iter().enumerate() {
        let at = |field: &str| format!("sensitivity.parameters[{i}].{field}");
        if !sweep::continuous(&p.name) {
            let numeric: Vec<&str> =
                sweep::PARAMETERS.iter().copied().filter(|n| sweep::continuous(n)).collect();
            fail(at("name"), format!("unknown parameter {:?}; one of: {}", p.name, numeric.join(", ")));
            continue;
        }
        if spec.parameters[..i].iter().any(|q| q.name == p.name) {
            fail(at("name"), format!("{} is already a parameter", p.name));
            continue;
        }
        if let Err(e) = sweep::base_value(s, &p.name) {
            fail(at("name"), e);
            continue;
        }
        let mut ends_ok = true;
        for (field, v) in [("low", p.low), ("high", p.high)] {
            if !v.is_finite() {
                fail(at(field), format!("must be a finite number, got {v}"));
                ends_ok = false;
            }
        }
        if !ends_ok {
            continue;
        }
        if p.low >= p.high {
            fail(at("high"), format!("must be above low ({}), got {}", p.low, p.high));
            continue;
        }
        if spacing(p) == Spacing::Log && p.low <= 0.0 {
            let why = if p.spacing.is_some() { "Log spacing" } else { "its default Log spacing" };
            fail(
                at("low"),
                format!(
                    "{} uses {why}, so low must be above 0, got {} (or set spacing: Linear)",
                    p.name, p.low
                ),
            );
            continue;
        }
        for (field, v) in [("low", p.low), ("high", p.high)] {
            if let Err(e) = applies(file, s, &p.name, v) {
                fail(at(field), e);
            }
        }
    }
    if !(2..=MAX_POINTS).contains(&spec.points) {
        fail("sensitivity.points".into(), format!("must be 2..={MAX_POINTS}, got {}", spec.points));
    }
    if let Some(r) = spec.runs
        && !(1..=1_000_000).contains(&r)
    {
        fail("sensitivity.runs".into(), format!("must be 1..=1000000, got {r}"));
    }
    if let Some(m) = &spec.metrics
        && m.is_empty()
    {
        fail(
            "sensitivity.metrics".into(),
            "needs at least one metric (or leave it out for the headline set)".into(),
        );
    }
    if let Some(m) = &spec.morris {
        if !(1..=MAX_TRAJECTORIES).contains(&m.trajectories) {
            fail(
                "sensitivity.morris.trajectories".into(),
                format!("must be 1..={MAX_TRAJECTORIES}, got {}", m.trajectories),
            );
        }
        if m.levels < 2 || m.levels > MAX_LEVELS || m.levels % 2 != 0 {
            fail(
                "sensitivity.morris.levels".into(),
                format!("must be an even number from 2 to {MAX_LEVELS}, got {}", m.levels),
            );
        }
        if let Some(r) = m.runs
            && !(1..=1_000_000).contains(&r)
        {
            fail("sensitivity.morris.runs".into(), format!("must be 1..=1000000, got {r}"));
        }
    }
}
