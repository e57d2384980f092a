//! Sensitivity analysis (`liqsim sensitivity`): the scenario's `sensitivity:` parameters varied
//! over their ranges (see [`crate::scenario::sensitivity`]), a Monte Carlo at every point, and
//! how each chosen outcome responds.
//!
//! # Designs
//! - **One at a time.** Each parameter takes `points` values from `low` to `high` (evenly
//!   spaced, or evenly in the logarithm for scales and sizes), every other parameter at the
//!   scenario's own (base) value; the base scenario itself is a point too.
//! - **Morris elementary effects** (optional). `trajectories` random paths on a grid of
//!   `levels` values per parameter (fractions `j/(levels−1)` of each range, in its spacing). A
//!   path starts at a random grid point and moves one parameter at a time, in a random order,
//!   by `Δ = levels / (2(levels−1))` of its range (up when it can, else down), so it has
//!   `parameters + 1` points. An elementary effect is the step's change of the outcome over
//!   `±Δ`: the outcome's change per whole range. Per parameter and outcome: `mu*` (the mean of
//!   the effects' absolute values: importance), `mu` (their mean: direction) and `sigma` (their
//!   sample standard deviation: interactions or a bent response). The paths are drawn with
//!   SplitMix64 seeded with the master seed xor [`MORRIS_SALT`], so they depend on the seed only.
//!
//! # Common random numbers
//! Every point is a Monte Carlo of the same runs: run `i` has seed `run_seed(master, i)` at every
//! point, so two points differ only by their parameters, not by luck. A parameter that cannot
//! change a run has exactly zero swing. A point shared by the designs (the base, a one-at-a-time
//! value on Morris's grid) is run once; a design that wants fewer runs reads the first ones.
//!
//! # Estimates
//! A numeric outcome's estimate at a point is its median over the runs (type 7), with the
//! distribution-free 95% interval of the median from order statistics: `x(j)..x(n+1−j)` for the
//! largest `j` with `P(Binomial(n, ½) ≤ j−1) ≤ 0.025` (the sample's range below 6 runs, whose
//! coverage is lower). An event's estimate (`p_` metrics) is its probability with the 95% Wilson
//! interval. Estimates are computed from the runs in run order, so the outputs are the same bytes
//! whatever the thread count.
//!
//! # Folder
//! `sensitivity.csv`, `morris.csv` (with a Morris design), `sensitivity.txt`, `tornado.png`,
//! `scenario.json` (the base scenario's canonical form), then `summary.json` last (the mark of a finished analysis). Nothing is journalled: an
//! interrupted analysis leaves no output, and is run again from the start.

use super::stats::quantile_sorted;
use super::{McError, McOptions, RunOutcome, manifest, numeric_columns, simulate, summarize};
use crate::report::plots::{DrawResult, err, render};
use crate::report::{self, lock::open_output};
use crate::scenario::sensitivity::{self as spec_fns, MAX_POINTS};
use crate::scenario::{self, Spacing, SweepValue, Validated, sweep};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::full_palette::{BLUE_600, ORANGE_700};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Mixed into the master seed for Morris's paths.
pub const MORRIS_SALT: u64 = 0x4d4f_5252_4953_2131;

/// The metrics reported when the scenario names none.
pub const DEFAULT_METRICS: &[&str] =
    &["p_squeeze_up", "p_squeeze_down", "max_price", "min_price", "liquidated_notional_short", "hunter_pnl"];

/// The files an analysis writes besides `summary.json` (written last); the Parquet ones only with
/// `--format parquet`. All are removed before an analysis starts and when one is interrupted.
pub const OUTPUT_FILES: &[&str] = &[
    "sensitivity.csv",
    "morris.csv",
    "sensitivity.parquet",
    "morris.parquet",
    "sensitivity.txt",
    "tornado.png",
    "scenario.json",
];

/// How to run a sensitivity analysis.
#[derive(Clone, Debug)]
pub struct SensitivityOptions {
    /// Runs per point (overrides `sensitivity.runs`, else `monte_carlo.runs`).
    pub runs: Option<u32>,
    /// Values per parameter (overrides `sensitivity.points`).
    pub points: Option<u32>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out: PathBuf,
    pub progress: bool,
    /// Also `sensitivity.parquet` and `morris.parquet` beside their CSVs.
    pub parquet: bool,
}

/// What an outcome's number is, for labels and formatting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// USD per BTC.
    Price,
    /// USD, shown in millions.
    Usd,
    Percent,
    Probability,
    Number,
}

impl Unit {
    fn of(metric: &str) -> Unit {
        if metric.starts_with("p_") {
            Unit::Probability
        } else if metric.ends_with("_price") || metric.ends_with("_mark") {
            Unit::Price
        } else if metric.ends_with("_pct") {
            Unit::Percent
        } else if ["notional", "pnl", "usd", "insurance_fund", "shortfall"].iter().any(|k| metric.contains(k))
        {
            Unit::Usd
        } else {
            Unit::Number
        }
    }

    /// The factor a value is shown with and the axis's unit.
    fn display(self) -> (f64, &'static str) {
        match self {
            Unit::Price => (1.0, "USD"),
            Unit::Usd => (1e-6, "USD M"),
            Unit::Percent => (1.0, "%"),
            Unit::Probability => (1.0, "probability"),
            Unit::Number => (1.0, ""),
        }
    }

    fn format(self, v: Option<f64>) -> String {
        let Some(v) = v else { return "-".into() };
        // No "-0.000".
        let v = v + 0.0;
        match self {
            Unit::Price => format!("{v:.0}"),
            Unit::Usd => format!("{:.1}M", v / 1e6),
            Unit::Percent => format!("{v:.2}%"),
            Unit::Probability => format!("{v:.3}"),
            Unit::Number => format!("{v:.4}"),
        }
    }
}

/// How a metric is read from a point's runs.
#[derive(Clone, Debug)]
enum Kind {
    /// The median of a numeric column.
    Median(fn(&RunOutcome) -> f64),
    /// A probability of `summary.json`, by its name there.
    Probability(String),
}

/// A chosen outcome.
#[derive(Clone, Debug)]
struct Metric {
    name: String,
    kind: Kind,
    unit: Unit,
    /// What it is, in words.
    definition: String,
}

/// A metric's estimate at a point.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Estimate {
    pub estimate: Option<f64>,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

/// A parameter of the analysis, resolved.
#[derive(Clone, Debug, Serialize)]
pub struct Parameter {
    pub name: String,
    pub low: f64,
    pub high: f64,
    pub spacing: Spacing,
    /// The scenario's own value.
    pub base: f64,
    /// The one-at-a-time values.
    pub values: Vec<f64>,
}

/// One point of a design: every parameter's value.
#[derive(Clone, Debug)]
struct Point {
    values: Vec<f64>,
    /// The runs it needs (the most any design reading it wants).
    runs: u32,
    scenario: Option<Validated>,
}

/// One Morris path: its points (indices) and, per step, the parameter moved and the sign of Δ.
#[derive(Clone, Debug)]
struct Trajectory {
    points: Vec<usize>,
    steps: Vec<(usize, f64)>,
}

/// A planned analysis: the designs and their points, each validated; nothing run yet.
#[derive(Clone, Debug)]
pub struct Plan {
    scenario: String,
    scenario_hash: String,
    master_seed: u64,
    runs: u32,
    morris_runs: u32,
    levels: u32,
    parameters: Vec<Parameter>,
    metrics: Vec<Metric>,
    points: Vec<Point>,
    base: usize,
    /// `oat[i][k]`: the point of parameter `i` at its `k`-th value.
    oat: Vec<Vec<usize>>,
    trajectories: Vec<Trajectory>,
    base_scenario: Validated,
}

impl Plan {
    /// The simulations the analysis runs (points × their runs).
    pub fn simulations(&self) -> u64 {
        self.points.iter().map(|p| u64::from(p.runs)).sum()
    }

    /// The distinct points.
    pub fn points(&self) -> usize {
        self.points.len()
    }
}

/// The points of `k` Morris paths on a grid of `levels` (even) for `d` parameters: per path,
/// the start's grid levels, the order the parameters move in, and each move's sign.
fn morris_paths(seed: u64, k: u32, levels: u32, d: usize) -> Vec<(Vec<u32>, Vec<usize>, Vec<f64>)> {
    let mut rng = super::SplitMix64(seed ^ MORRIS_SALT);
    let jump = levels / 2;
    (0..k)
        .map(|_| {
            let start: Vec<u32> = (0..d).map(|_| rng.below(u64::from(levels)) as u32).collect();
            let mut order: Vec<usize> = (0..d).collect();
            for i in (1..d).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                order.swap(i, j);
            }
            let signs = order.iter().map(|&i| if start[i] + jump < levels { 1.0 } else { -1.0 }).collect();
            (start, order, signs)
        })
        .collect()
}

/// The metric named `name`, or why not.
fn metric(name: &str, probabilities: &[(String, String)]) -> Result<Metric, String> {
    if let Some(p) = name.strip_prefix("p_")
        && let Some((n, def)) = probabilities.iter().find(|(n, _)| n == p)
    {
        return Ok(Metric {
            name: name.into(),
            kind: Kind::Probability(n.clone()),
            unit: Unit::Probability,
            definition: format!("P({def})"),
        });
    }
    if let Some((n, get)) = numeric_columns().into_iter().find(|(n, _)| *n == name) {
        let (_, unit) = Unit::of(n).display();
        let unit = if unit.is_empty() { String::new() } else { format!(" ({unit})") };
        return Ok(Metric {
            name: name.into(),
            kind: Kind::Median(get),
            unit: Unit::of(n),
            definition: format!("median {}{unit}", n.replace('_', " ")),
        });
    }
    let mut names: Vec<String> = probabilities.iter().map(|(n, _)| format!("p_{n}")).collect();
    names.extend(numeric_columns().into_iter().map(|(n, _)| n.to_string()));
    Err(format!("unknown metric {name:?}; one of: {}", names.join(", ")))
}

/// Plans the analysis of `v`'s `sensitivity:` section: its parameters, metrics and points,
/// each point's scenario validated. `file` names the scenario in messages.
pub fn plan(v: &Validated, file: &str, opts: &SensitivityOptions) -> Result<Plan, McError> {
    let input = |m: String| McError::Input(m);
    let Some(spec) = &v.scenario.sensitivity else {
        return Err(input(format!(
            "{file}: sensitivity: the scenario has no sensitivity section (add sensitivity: (parameters: [...]))"
        )));
    };
    let points = opts.points.unwrap_or(spec.points);
    if !(2..=MAX_POINTS).contains(&points) {
        return Err(input(format!("--points: must be 2..={MAX_POINTS}, got {points}")));
    }
    let runs = opts.runs.or(spec.runs).unwrap_or(v.scenario.monte_carlo.runs);
    if !(1..=1_000_000).contains(&runs) {
        return Err(input(format!("--runs: must be 1..=1000000, got {runs}")));
    }
    let master_seed = opts.seed.or(v.scenario.monte_carlo.seed).unwrap_or(v.scenario.seed);
    let mut parameters = Vec::new();
    for (i, p) in spec.parameters.iter().enumerate() {
        let base = sweep::base_value(&v.scenario, &p.name)
            .map_err(|e| input(format!("{file}: sensitivity.parameters[{i}].name: {e}")))?;
        parameters.push(Parameter {
            name: p.name.clone(),
            low: p.low,
            high: p.high,
            spacing: spec_fns::spacing(p),
            base,
            values: spec_fns::values(p, points),
        });
    }
    // The metrics, by the names a summary gives its probabilities.
    let m = manifest(v, &McOptions::probe());
    let probabilities: Vec<(String, String)> =
        summarize(&m, &[]).probabilities.into_iter().map(|p| (p.name, p.definition)).collect();
    let names: Vec<String> = match &spec.metrics {
        Some(list) => list.clone(),
        None => DEFAULT_METRICS.iter().map(|s| s.to_string()).collect(),
    };
    let mut metrics = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let m = metric(name, &probabilities)
            .map_err(|e| input(format!("{file}: sensitivity.metrics[{i}]: {e}")))?;
        if metrics.iter().any(|x: &Metric| x.name == m.name) {
            return Err(input(format!("{file}: sensitivity.metrics[{i}]: {name} is already a metric")));
        }
        metrics.push(m);
    }
    let base_values: Vec<f64> = parameters.iter().map(|p| p.base).collect();
    let mut design: Vec<Point> = Vec::new();
    let mut index: BTreeMap<Vec<u64>, usize> = BTreeMap::new();
    let mut add = |values: Vec<f64>, runs: u32| -> usize {
        let key: Vec<u64> = values.iter().map(|x| x.to_bits()).collect();
        let i = *index.entry(key).or_insert_with(|| {
            design.push(Point { values, runs: 0, scenario: None });
            design.len() - 1
        });
        design[i].runs = design[i].runs.max(runs);
        i
    };
    let base = add(base_values.clone(), runs);
    let oat: Vec<Vec<usize>> = parameters
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.values
                .iter()
                .map(|&x| {
                    let mut values = base_values.clone();
                    values[i] = x;
                    add(values, runs)
                })
                .collect()
        })
        .collect();
    let (mut trajectories, mut morris_runs, mut levels) = (Vec::new(), 0, 0);
    if let Some(ms) = &spec.morris {
        morris_runs = ms.runs.unwrap_or(runs);
        levels = ms.levels;
        let frac = |j: u32| f64::from(j) / f64::from(levels - 1);
        let value = |i: usize, j: u32| spec_fns::at_fraction(&spec.parameters[i], frac(j));
        for (start, order, signs) in morris_paths(master_seed, ms.trajectories, levels, parameters.len()) {
            let mut at = start.clone();
            let mut pts = vec![add((0..at.len()).map(|i| value(i, at[i])).collect(), morris_runs)];
            for (&i, &s) in order.iter().zip(&signs) {
                at[i] = if s > 0.0 { at[i] + levels / 2 } else { at[i] - levels / 2 };
                pts.push(add((0..at.len()).map(|i| value(i, at[i])).collect(), morris_runs));
            }
            trajectories.push(Trajectory { points: pts, steps: order.into_iter().zip(signs).collect() });
        }
    }
    // Every point's scenario: the file's, with the parameters that differ from the base set.
    let mut plain = v.scenario.clone();
    plain.sweep = None;
    plain.sensitivity = None;
    for point in &mut design {
        let mut s = plain.clone();
        let mut settings = Vec::new();
        for (p, (&x, &b)) in parameters.iter().zip(point.values.iter().zip(&base_values)) {
            if x.to_bits() != b.to_bits() {
                sweep::apply(&mut s, &p.name, &SweepValue::Number(x))
                    .map_err(|e| input(format!("{file}: sensitivity: {}={x}: {e}", p.name)))?;
                settings.push(format!("{}={x}", p.name));
            }
        }
        let label = if settings.is_empty() { "base".to_string() } else { settings.join(", ") };
        let hash = blake3::hash(format!("{}\nsensitivity\n{label}", v.hash).as_bytes()).to_hex().to_string();
        let name = format!("{file} (sensitivity point {label})");
        point.scenario = Some(scenario::validate_scenario(&name, s, hash).map_err(|e| input(e.to_string()))?);
    }
    let base_scenario = design[base].scenario.clone().unwrap_or_else(|| v.clone());
    Ok(Plan {
        scenario: v.scenario.name.clone(),
        scenario_hash: v.hash.clone(),
        master_seed,
        runs,
        morris_runs,
        levels,
        parameters,
        metrics,
        points: design,
        base,
        oat,
        trajectories,
        base_scenario,
    })
}

/// The distribution-free 95% interval of the median of sorted values (see the module docs).
pub fn median_interval(sorted: &[f64]) -> Option<(f64, f64)> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let ln_2n = n as f64 * std::f64::consts::LN_2;
    let (mut cdf, mut ln_choose, mut j) = (0.0, 0.0_f64, 0);
    for i in 0..n {
        cdf += (ln_choose - ln_2n).exp();
        if cdf > 0.025 {
            break;
        }
        j = i + 1;
        ln_choose += ((n - i) as f64 / (i + 1) as f64).ln();
    }
    Some(if j == 0 { (sorted[0], sorted[n - 1]) } else { (sorted[j - 1], sorted[n - j]) })
}

/// Every metric's estimate over `runs` (in run order).
fn estimates(plan: &Plan, metrics: &[Metric], runs: &[RunOutcome]) -> Vec<Estimate> {
    let m = manifest(&plan.base_scenario, &McOptions { runs: Some(runs.len() as u32), ..McOptions::probe() });
    let summary = metrics.iter().any(|x| matches!(x.kind, Kind::Probability(_))).then(|| summarize(&m, runs));
    metrics
        .iter()
        .map(|x| match &x.kind {
            Kind::Median(get) => {
                let mut v: Vec<f64> = runs.iter().map(get).filter(|v| v.is_finite()).collect();
                v.sort_by(f64::total_cmp);
                let ci = median_interval(&v);
                Estimate { estimate: quantile_sorted(&v, 0.5), lo: ci.map(|c| c.0), hi: ci.map(|c| c.1) }
            }
            Kind::Probability(name) => {
                let p = summary.as_ref().and_then(|s| s.probability(name));
                Estimate { estimate: p.map(|p| p.p), lo: p.map(|p| p.lo), hi: p.map(|p| p.hi) }
            }
        })
        .collect()
}

/// One row of the one-at-a-time table.
#[derive(Clone, Debug, Serialize)]
pub struct OatRow {
    pub parameter: String,
    pub value: f64,
    pub metric: String,
    #[serde(flatten)]
    pub estimate: Estimate,
}

/// A parameter's swing on a metric over its one-at-a-time values.
#[derive(Clone, Debug, Serialize)]
pub struct Swing {
    pub metric: String,
    pub parameter: String,
    pub at_low: Option<f64>,
    pub at_high: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// max − min.
    pub swing: Option<f64>,
}

/// A parameter's elementary effects on a metric.
#[derive(Clone, Debug, Serialize)]
pub struct Effect {
    pub parameter: String,
    pub metric: String,
    pub mu_star: Option<f64>,
    pub mu: Option<f64>,
    pub sigma: Option<f64>,
    /// Effects averaged (trajectories whose two points both had an estimate).
    pub effects: usize,
}

/// The Morris design's settings and results.
#[derive(Clone, Debug, Serialize)]
pub struct MorrisReport {
    pub trajectories: usize,
    pub levels: u32,
    /// The step, as a fraction of each range.
    pub delta: f64,
    pub runs_per_point: u32,
    pub path_seed: String,
    pub units: String,
    pub effects: Vec<Effect>,
}

/// A metric as reported.
#[derive(Clone, Debug, Serialize)]
pub struct MetricInfo {
    pub name: String,
    pub definition: String,
    pub unit: Unit,
    /// Its estimate in the base scenario.
    pub base: Estimate,
}

/// `summary.json` of a sensitivity analysis.
#[derive(Clone, Debug, Serialize)]
pub struct SensitivityReport {
    pub scenario: String,
    pub scenario_hash: String,
    pub master_seed: u64,
    pub seed_derivation: String,
    pub runs_per_point: u32,
    pub points_per_parameter: usize,
    pub distinct_points: usize,
    pub simulations: u64,
    pub estimates: String,
    pub parameters: Vec<Parameter>,
    pub metrics: Vec<MetricInfo>,
    pub one_at_a_time: Vec<OatRow>,
    pub swings: Vec<Swing>,
    pub morris: Option<MorrisReport>,
}

/// Runs a planned analysis and writes its outputs into `opts.out` (see the module docs).
pub fn run_sensitivity(plan: &Plan, opts: &SensitivityOptions) -> Result<SensitivityReport, McError> {
    let out = &opts.out;
    let lock = open_output(out, "sensitivity", &[]).map_err(super::folder_err)?;
    let mut unfinished: Vec<&str> = vec!["summary.json"];
    unfinished.extend_from_slice(OUTPUT_FILES);
    lock.on_interrupt(&unfinished, Some("nothing is kept: run `liqsim sensitivity` again".into()));
    // Nothing of an earlier analysis may be mistaken for this one's.
    for f in unfinished.iter().chain([&report::REPORT_FILE]) {
        let _ = std::fs::remove_file(out.join(f));
    }
    let jobs: Vec<(usize, u32)> =
        plan.points.iter().enumerate().flat_map(|(p, pt)| (0..pt.runs).map(move |r| (p, r))).collect();
    let bar = super::progress_bar(opts.progress, jobs.len() as u64);
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = opts.threads {
        builder = builder.num_threads(t.max(1));
    }
    let pool = builder.build().map_err(|e| McError::Input(format!("--threads: {e}")))?;
    let outcomes: Vec<RunOutcome> = pool.install(|| {
        jobs.par_iter()
            .with_max_len(1)
            .map(|&(p, run)| {
                let v = plan.points[p].scenario.as_ref().unwrap_or(&plan.base_scenario);
                let mut o = simulate(v, plan.master_seed, run, None)?;
                o.path = Vec::new();
                bar.inc(1);
                Ok(o)
            })
            .collect::<Result<Vec<_>, McError>>()
    })?;
    bar.finish_and_clear();
    // The runs of point p start at offset[p].
    let mut offset = Vec::with_capacity(plan.points.len());
    let mut at = 0usize;
    for pt in &plan.points {
        offset.push(at);
        at += pt.runs as usize;
    }
    let runs_of = |p: usize, n: u32| &outcomes[offset[p]..offset[p] + n as usize];
    let mut cache: BTreeMap<(usize, u32), Vec<Estimate>> = BTreeMap::new();
    let mut est = |p: usize, n: u32| -> Vec<Estimate> {
        cache.entry((p, n)).or_insert_with(|| estimates(plan, &plan.metrics, runs_of(p, n))).clone()
    };
    let base = est(plan.base, plan.runs);
    let mut rows = Vec::new();
    let mut swings = Vec::new();
    for (mi, m) in plan.metrics.iter().enumerate() {
        for (i, p) in plan.parameters.iter().enumerate() {
            let at: Vec<Option<f64>> =
                plan.oat[i].iter().map(|&pt| est(pt, plan.runs)[mi].estimate).collect();
            let finite: Vec<f64> = at.iter().flatten().copied().collect();
            let min = finite.iter().copied().reduce(f64::min);
            let max = finite.iter().copied().reduce(f64::max);
            swings.push(Swing {
                metric: m.name.clone(),
                parameter: p.name.clone(),
                at_low: at.first().copied().flatten(),
                at_high: at.last().copied().flatten(),
                min,
                max,
                swing: min.zip(max).map(|(a, b)| b - a),
            });
        }
    }
    for (i, p) in plan.parameters.iter().enumerate() {
        for (k, &value) in p.values.iter().enumerate() {
            let e = est(plan.oat[i][k], plan.runs);
            for (mi, m) in plan.metrics.iter().enumerate() {
                rows.push(OatRow {
                    parameter: p.name.clone(),
                    value,
                    metric: m.name.clone(),
                    estimate: e[mi],
                });
            }
        }
    }
    let morris = (!plan.trajectories.is_empty()).then(|| {
        let delta = f64::from(plan.levels / 2) / f64::from(plan.levels - 1);
        let mut effects = Vec::new();
        for (i, p) in plan.parameters.iter().enumerate() {
            for (mi, m) in plan.metrics.iter().enumerate() {
                let mut ee = Vec::new();
                for t in &plan.trajectories {
                    for (s, &(moved, sign)) in t.steps.iter().enumerate() {
                        if moved != i {
                            continue;
                        }
                        let before = est(t.points[s], plan.morris_runs)[mi].estimate;
                        let after = est(t.points[s + 1], plan.morris_runs)[mi].estimate;
                        if let (Some(a), Some(b)) = (before, after) {
                            // + 0.0: no effect down a step is 0, not −0.
                            ee.push((b - a) / (sign * delta) + 0.0);
                        }
                    }
                }
                let n = ee.len();
                let mean = |f: &dyn Fn(f64) -> f64| (n > 0).then(|| ee.iter().map(|&x| f(x)).sum::<f64>() / n as f64);
                let mu = mean(&|x| x).map(|m| m + 0.0);
                let sigma = mu.filter(|_| n > 1).map(|mu| {
                    (ee.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / (n - 1) as f64).sqrt()
                });
                effects.push(Effect {
                    parameter: p.name.clone(),
                    metric: m.name.clone(),
                    mu_star: mean(&f64::abs),
                    mu,
                    sigma,
                    effects: n,
                });
            }
        }
        MorrisReport {
            trajectories: plan.trajectories.len(),
            levels: plan.levels,
            delta,
            runs_per_point: plan.morris_runs,
            path_seed: format!("SplitMix64 seeded with master_seed xor {MORRIS_SALT:#x}"),
            units: "an effect is the metric's change per whole range of the parameter (low to high, in its spacing)"
                .into(),
            effects,
        }
    });
    let report = SensitivityReport {
        scenario: plan.scenario.clone(),
        scenario_hash: plan.scenario_hash.clone(),
        master_seed: plan.master_seed,
        seed_derivation: format!(
            "run i of every point has seed run_seed(master_seed, i) (common random numbers): {}",
            super::SEED_DERIVATION
        ),
        runs_per_point: plan.runs,
        points_per_parameter: plan.parameters.first().map_or(0, |p| p.values.len()),
        distinct_points: plan.points.len(),
        simulations: plan.simulations(),
        estimates: "numeric metrics: median (type 7) with the distribution-free 95% interval of the median \
                    (order statistics, binomial); p_ metrics: probability with the 95% Wilson interval"
            .into(),
        parameters: plan.parameters.clone(),
        metrics: plan
            .metrics
            .iter()
            .zip(&base)
            .map(|(m, b)| MetricInfo {
                name: m.name.clone(),
                definition: m.definition.clone(),
                unit: m.unit,
                base: *b,
            })
            .collect(),
        one_at_a_time: rows,
        swings,
        morris,
    };
    write_outputs(out, plan, &report, opts.parquet)?;
    Ok(report)
}

fn write_outputs(out: &Path, plan: &Plan, r: &SensitivityReport, parquet: bool) -> Result<(), McError> {
    write_tables(out, r, parquet)?;
    let text = table(r);
    report::write_atomic(&out.join("sensitivity.txt"), |w| {
        use std::io::Write;
        w.write_all(text.as_bytes())
    })?;
    tornado(plan, r, &out.join("tornado.png"))?;
    let scenario = super::canonical(&plan.base_scenario.scenario);
    report::write_atomic(&out.join("scenario.json"), |w| {
        use std::io::Write;
        writeln!(w, "{scenario}")
    })?;
    let json = serde_json::to_string_pretty(r).unwrap_or_default();
    report::write_summary(out, &json)?;
    Ok(())
}

/// `sensitivity.csv` and `morris.csv` (with a Morris design), and when `parquet` the same tables as
/// Parquet, written first: names as strings, the parameter's value and the estimates as doubles
/// (empty, or null, where there is none: the base rows' value, an estimate no run gave), Morris's
/// count of elementary effects as a uint64.
fn write_tables(out: &Path, r: &SensitivityReport, parquet: bool) -> Result<(), McError> {
    use crate::report::table::{Column, ColumnType, Value, write_table};
    let formats: &[(&str, bool)] =
        if parquet { &[("parquet", true), ("csv", false)] } else { &[("csv", false)] };
    let float = |v: Option<f64>| v.map_or(Value::Null, Value::Float);
    let columns = [
        Column::new("parameter", ColumnType::Text),
        Column::optional("value", ColumnType::Float),
        Column::new("metric", ColumnType::Text),
        Column::optional("estimate", ColumnType::Float),
        Column::optional("lo", ColumnType::Float),
        Column::optional("hi", ColumnType::Float),
    ];
    let rows = || {
        let base = r.metrics.iter().map(|m| (Value::Text("base"), Value::Null, &m.name, &m.base));
        let oat = r
            .one_at_a_time
            .iter()
            .map(|o| (Value::Text(&o.parameter), Value::Float(o.value), &o.metric, &o.estimate));
        base.chain(oat).map(|(parameter, value, metric, e)| {
            vec![parameter, value, Value::Text(metric), float(e.estimate), float(e.lo), float(e.hi)]
        })
    };
    for &(ext, as_parquet) in formats {
        write_table(&out.join(format!("sensitivity.{ext}")), &columns, rows(), as_parquet)?;
    }
    if let Some(m) = &r.morris {
        let columns = [
            Column::new("parameter", ColumnType::Text),
            Column::new("metric", ColumnType::Text),
            Column::optional("mu_star", ColumnType::Float),
            Column::optional("mu", ColumnType::Float),
            Column::optional("sigma", ColumnType::Float),
            Column::new("effects", ColumnType::UInt),
        ];
        let rows = || {
            m.effects.iter().map(|e| {
                let (parameter, metric) = (Value::Text(&e.parameter), Value::Text(&e.metric));
                let effects = Value::UInt(e.effects as u64);
                vec![parameter, metric, float(e.mu_star), float(e.mu), float(e.sigma), effects]
            })
        };
        for &(ext, as_parquet) in formats {
            write_table(&out.join(format!("morris.{ext}")), &columns, rows(), as_parquet)?;
        }
    }
    Ok(())
}

/// A metric's swings, largest first (ties in the scenario's order).
fn sorted_swings<'a>(r: &'a SensitivityReport, metric: &str) -> Vec<&'a Swing> {
    let mut s: Vec<&Swing> = r.swings.iter().filter(|s| s.metric == metric).collect();
    s.sort_by(|a, b| b.swing.unwrap_or(f64::NEG_INFINITY).total_cmp(&a.swing.unwrap_or(f64::NEG_INFINITY)));
    s
}

fn range_text(p: &Parameter) -> String {
    let spacing = match p.spacing {
        Spacing::Linear => "",
        Spacing::Log => ", log",
    };
    format!("{} to {}{spacing}", short_number(p.low), short_number(p.high))
}

/// A parameter value, briefly: 2500000000 → 2.5e9.
fn short_number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if x.abs() >= 1e5 || x.abs() < 1e-3 {
        return format!("{x:e}");
    }
    // Six significant digits, trailing zeros dropped.
    let decimals = (5 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// The readable table (`sensitivity.txt`, and stdout): per metric, parameters by swing.
pub fn table(r: &SensitivityReport) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "liqsim sensitivity: {} ({} parameters x {} points, {} runs per point, master seed {}; the same run \
         seeds at every point)",
        r.scenario,
        r.parameters.len(),
        r.points_per_parameter,
        r.runs_per_point,
        r.master_seed
    );
    let _ = writeln!(t, "{} distinct points, {} simulations", r.distinct_points, r.simulations);
    let _ = writeln!(t, "\nparameters (base value: the scenario's own):");
    for p in &r.parameters {
        let _ = writeln!(t, "  {:<32} base {:<14} range {}", p.name, short_number(p.base), range_text(p));
    }
    let morris = r.morris.as_ref();
    for m in &r.metrics {
        let u = m.unit;
        let _ = writeln!(
            t,
            "\n{} = {}: base {} [{}, {}]",
            m.name,
            m.definition,
            u.format(m.base.estimate),
            u.format(m.base.lo),
            u.format(m.base.hi)
        );
        let _ = write!(t, "  {:<32}{:>14}{:>14}{:>14}", "parameter", "at low", "at high", "swing");
        if morris.is_some() {
            let _ = write!(t, "{:>14}{:>14}{:>14}", "morris mu*", "mu", "sigma");
        }
        t.push('\n');
        for s in sorted_swings(r, &m.name) {
            let _ = write!(
                t,
                "  {:<32}{:>14}{:>14}{:>14}",
                s.parameter,
                u.format(s.at_low),
                u.format(s.at_high),
                u.format(s.swing)
            );
            if let Some(mo) = morris
                && let Some(e) = mo.effects.iter().find(|e| e.metric == m.name && e.parameter == s.parameter)
            {
                let _ =
                    write!(t, "{:>14}{:>14}{:>14}", u.format(e.mu_star), u.format(e.mu), u.format(e.sigma));
            }
            t.push('\n');
        }
    }
    let _ = writeln!(
        t,
        "\nat low / at high: the metric with the parameter at the low / high end of its range, the others at base;\n\
         swing: the largest minus the smallest over the parameter's points."
    );
    if let Some(mo) = morris {
        let _ = writeln!(
            t,
            "Morris: {} trajectories on {} levels (step {:.3} of each range), {} runs per point; mu* and mu in the \
             metric's units per whole range, sigma their spread.",
            mo.trajectories, mo.levels, mo.delta, mo.runs_per_point
        );
    }
    t
}

/// An axis label: no decimals beyond what the number needs.
fn axis_number(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 1000.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// The tornado's heading's height, pixels.
const HEAD: u32 = 118;
/// The base's interval behind the bars.
const BASE_BAND: RGBColor = RGBColor(215, 215, 215);

/// One tornado panel's data, in display units.
struct Panel {
    title: String,
    x_desc: String,
    base: Option<f64>,
    /// The base's 95% interval.
    base_interval: Option<(f64, f64)>,
    /// Largest swing first.
    bars: Vec<Bar>,
}

/// A parameter's bar: its label, the metric at the low and the high end, and at the points
/// between.
struct Bar {
    label: String,
    at_low: Option<f64>,
    at_high: Option<f64>,
    between: Vec<f64>,
}

fn tornado(plan: &Plan, r: &SensitivityReport, png: &Path) -> Result<(), McError> {
    let panels: Vec<Panel> = r
        .metrics
        .iter()
        .map(|m| {
            let (factor, unit) = m.unit.display();
            let scale = |v: Option<f64>| v.map(|x| x * factor);
            let bars = sorted_swings(r, &m.name)
                .into_iter()
                .map(|s| {
                    let p = plan.parameters.iter().find(|p| p.name == s.parameter);
                    let label =
                        p.map_or_else(|| s.parameter.clone(), |p| format!("{} [{}]", p.name, range_text(p)));
                    let k = p.map_or(0, |p| p.values.len());
                    let between: Vec<f64> = r
                        .one_at_a_time
                        .iter()
                        .filter(|row| row.metric == m.name && row.parameter == s.parameter)
                        .enumerate()
                        .filter(|(i, _)| *i > 0 && *i + 1 < k)
                        .filter_map(|(_, row)| scale(row.estimate.estimate))
                        .collect();
                    Bar { label, at_low: scale(s.at_low), at_high: scale(s.at_high), between }
                })
                .collect();
            Panel {
                title: format!("{}: {}", m.name, m.definition),
                x_desc: if unit.is_empty() { m.name.clone() } else { format!("{} ({unit})", m.name) },
                base: scale(m.base.estimate),
                base_interval: scale(m.base.lo).zip(scale(m.base.hi)),
                bars,
            }
        })
        .collect();
    let cols = if panels.len() > 1 { 2 } else { 1 };
    let rows = panels.len().div_ceil(cols);
    let panel_h = (130 + 46 * plan.parameters.len()).max(320) as u32;
    let size = ((1000 * cols as u32).max(1500), HEAD + panel_h * rows as u32);
    let title = format!(
        "{}: one-at-a-time sensitivity ({} points per range, {} runs per point, the same seeds at every point)",
        r.scenario, r.points_per_parameter, r.runs_per_point
    );
    let draw = |root: &DrawingArea<BitMapBackend, Shift>| draw_tornado(root, &title, &panels, (rows, cols));
    render(Some(png), None, size, draw, |_| Ok(()))?;
    Ok(())
}

fn draw_tornado<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    panels: &[Panel],
    (rows, cols): (usize, usize),
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (head, body) = root.split_vertically(HEAD);
    head.draw(&Text::new(title, (20, 14), ("sans-serif", 24).into_font())).map_err(err)?;
    let low_colour = BLUE_600;
    let high_colour = ORANGE_700;
    let mut x = 20;
    let font = ("sans-serif", 18);
    for (text, key) in [
        ("parameter at the low end of its range", 0),
        ("at the high end", 1),
        ("points between", 2),
        ("base scenario", 3),
        ("its 95% interval", 4),
    ] {
        match key {
            0 => head.draw(&Rectangle::new([(x, 56), (x + 26, 74)], low_colour.filled())).map_err(err)?,
            1 => head.draw(&Rectangle::new([(x, 56), (x + 26, 74)], high_colour.filled())).map_err(err)?,
            2 => head.draw(&Circle::new((x + 13, 65), 5, BLACK.filled())).map_err(err)?,
            3 => head
                .draw(&PathElement::new([(x + 13, 52), (x + 13, 78)], BLACK.stroke_width(2)))
                .map_err(err)?,
            _ => head.draw(&Rectangle::new([(x, 56), (x + 26, 74)], BASE_BAND.filled())).map_err(err)?,
        }
        head.draw(&Text::new(text, (x + 34, 56), font.into_font())).map_err(err)?;
        x += 50 + 9 * text.len() as i32;
    }
    head.draw(&Text::new(
        "Bars run from the base to the metric at each end of the parameter's range, the others at base; \
         the longest swing is on top.",
        (20, 88),
        font.into_font(),
    ))
    .map_err(err)?;
    let areas = body.split_evenly((rows, cols));
    for (panel, area) in panels.iter().zip(areas.iter()) {
        draw_panel(area, panel, low_colour, high_colour)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    low_colour: RGBColor,
    high_colour: RGBColor,
) -> DrawResult {
    let n = p.bars.len().max(1) as i32;
    let mut all: Vec<f64> = p.base.into_iter().collect();
    all.extend(p.base_interval.iter().flat_map(|&(a, b)| [a, b]));
    for Bar { at_low: lo, at_high: hi, between, .. } in &p.bars {
        all.extend(lo.iter().chain(hi.iter()).chain(between.iter()).copied());
    }
    let (mut lo, mut hi) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    if lo > hi {
        (lo, hi) = (0.0, 1.0);
    }
    let pad = if hi > lo { (hi - lo) * 0.08 } else { lo.abs().max(1.0) * 0.05 };
    let (lo, hi) = (lo - pad, hi + pad);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, ("sans-serif", 19))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(330)
        .build_cartesian_2d(lo..hi, (0..n - 1).into_segmented())
        .map_err(err)?;
    // Row 0 (the bottom) is the smallest swing.
    let row = |rank: usize| n - 1 - rank as i32;
    let labels: Vec<String> = p.bars.iter().map(|b| b.label.clone()).collect();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .x_desc(p.x_desc.as_str())
        .x_labels(8)
        .x_label_formatter(&|v| axis_number(*v))
        .y_labels(n as usize + 1)
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get((n - 1 - *i) as usize).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(err)?;
    let band = (chart.plotting_area().dim_in_pixel().1 as f64 / f64::from(n)).max(4.0);
    let (edge, mid) = ((band * 0.14) as u32, (band * 0.5) as u32);
    let Some(base) = p.base else { return Ok(()) };
    if let Some((a, b)) = p.base_interval {
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(a, SegmentValue::Exact(0)), (b, SegmentValue::Exact(n))],
                BASE_BAND.filled(),
            )))
            .map_err(err)?;
    }
    for (rank, Bar { at_low, at_high, between, .. }) in p.bars.iter().enumerate() {
        let y = row(rank);
        // The high end's bar in the upper half of the row, the low end's in the lower half.
        for (value, colour, margins) in [
            (at_high, high_colour, (edge, mid.saturating_sub(1))),
            (at_low, low_colour, (mid.saturating_sub(1), edge)),
        ] {
            let Some(v) = value else { continue };
            let mut r = Rectangle::new(
                [(base.min(*v), SegmentValue::Exact(y + 1)), (base.max(*v), SegmentValue::Exact(y))],
                colour.filled(),
            );
            r.set_margin(margins.0, margins.1, 0, 0);
            chart.draw_series(std::iter::once(r)).map_err(err)?;
        }
        chart
            .draw_series(
                between.iter().map(|&v| Circle::new((v, SegmentValue::CenterOf(y)), 4, BLACK.filled())),
            )
            .map_err(err)?;
    }
    chart
        .draw_series(std::iter::once(PathElement::new(
            [(base, SegmentValue::Exact(0)), (base, SegmentValue::Exact(n))],
            BLACK.stroke_width(2),
        )))
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_interval_is_the_binomial_order_statistics() {
        // n = 50: x(18)..x(33) (P(B ≤ 17) = 0.0164, P(B ≤ 18) = 0.0325).
        let v: Vec<f64> = (1..=50).map(f64::from).collect();
        assert_eq!(median_interval(&v), Some((18.0, 33.0)));
        // n = 10: x(2)..x(9) (P(B ≤ 1) = 0.0107, P(B ≤ 2) = 0.0547).
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_interval(&v), Some((2.0, 9.0)));
        // Below 6 runs: the range.
        assert_eq!(median_interval(&[3.0, 4.0, 5.0]), Some((3.0, 5.0)));
        assert_eq!(median_interval(&[]), None);
    }

    #[test]
    fn morris_paths_move_each_parameter_once_by_half_the_grid() {
        let paths = morris_paths(42, 20, 4, 5);
        assert_eq!(paths, morris_paths(42, 20, 4, 5), "the same seed, the same paths");
        assert_ne!(paths, morris_paths(43, 20, 4, 5));
        for (start, order, signs) in &paths {
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(sorted, vec![0, 1, 2, 3, 4]);
            for (&i, &s) in order.iter().zip(signs) {
                let to = i64::from(start[i]) + 2 * s as i64;
                assert!((0..4).contains(&to), "{start:?} {order:?} {signs:?}");
            }
        }
        // Every level is a start of some path and both directions occur.
        assert!((0..4).all(|l| paths.iter().any(|(s, _, _)| s.contains(&l))));
        assert!(
            paths.iter().any(|(_, _, s)| s.contains(&-1.0)) && paths.iter().any(|(_, _, s)| s.contains(&1.0))
        );
    }
}
