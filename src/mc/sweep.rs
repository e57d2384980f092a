//! Sweeps: a Monte Carlo per cell of the scenario's grid (`sweep.axes`, see
//! [`crate::scenario::sweep`] for the parameters), then heatmaps, `scenario.json` (the scenario's
//! canonical form) and `sweep.csv` (last: the mark of a finished sweep), and a table.
//!
//! Cells are numbered row-major (the first axis varies slowest). Every cell uses the same master
//! seed, so run `i` of each cell sees the same random streams (common random numbers: differences
//! between cells come from the parameters, not from luck). Each cell is an ordinary Monte Carlo
//! folder `cell-NNN/` (so a sweep resumes like a Monte Carlo); a cell's scenario hash is blake3 of
//! the file's hash and the cell's settings.

use super::stats::Probability;
use super::{McError, McOptions, McSummary, level_label, manifest, plots, run_mc, summarize};
use crate::report;
use crate::scenario::{self, SweepValue, Validated};
use std::path::{Path, PathBuf};

/// One cell of the grid.
#[derive(Clone, Debug)]
pub struct Cell {
    pub index: usize,
    /// (parameter, value) per axis.
    pub settings: Vec<(String, SweepValue)>,
    pub scenario: Validated,
}

impl Cell {
    pub fn label(&self) -> String {
        self.settings.iter().map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(", ")
    }
}

/// The cells of `v`'s sweep grid, each validated; `file` names the scenario in messages.
pub fn cells(v: &Validated, file: &str) -> Result<Vec<Cell>, McError> {
    let Some(sweep) = &v.scenario.sweep else {
        return Err(McError::Input(format!(
            "{file}: sweep: the scenario has no sweep grid (add sweep: (axes: [...]))"
        )));
    };
    let mut cells = Vec::new();
    let sizes: Vec<usize> = sweep.axes.iter().map(|a| a.values.len()).collect();
    let total: usize = sizes.iter().product();
    for index in 0..total {
        let mut rest = index;
        let mut pick = vec![0; sizes.len()];
        for (a, &size) in sizes.iter().enumerate().rev() {
            pick[a] = rest % size;
            rest /= size;
        }
        let mut s = v.scenario.clone();
        // A cell is a Monte Carlo: the file's sensitivity ranges are not its to check (a cell
        // without hunters cannot take the hunters' ranges).
        s.sweep = None;
        s.sensitivity = None;
        let mut settings = Vec::new();
        for (a, axis) in sweep.axes.iter().enumerate() {
            let value = &axis.values[pick[a]];
            scenario::sweep::apply(&mut s, &axis.parameter, value)
                .map_err(|e| McError::Input(format!("{file}: sweep.axes[{a}].values[{}]: {e}", pick[a])))?;
            settings.push((axis.parameter.clone(), value.clone()));
        }
        let label = settings.iter().map(|(p, v)| format!("{p}={v}")).collect::<Vec<_>>().join(", ");
        let hash = blake3::hash(format!("{}\n{label}", v.hash).as_bytes()).to_hex().to_string();
        let name = format!("{file} (sweep cell {index}: {label})");
        let scenario =
            scenario::validate_scenario(&name, s, hash).map_err(|e| McError::Input(e.to_string()))?;
        cells.push(Cell { index, settings, scenario });
    }
    Ok(cells)
}

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Runs per cell, for cells whose runs are not an axis.
    pub runs: Option<u32>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out: PathBuf,
    pub resume: bool,
    pub progress: bool,
    /// The sweep.csv column the heatmaps show.
    pub metric: String,
    /// The axes (parameters) across and up the heatmaps; default the first two.
    pub x: Option<String>,
    pub y: Option<String>,
    /// Also `sweep.parquet` beside `sweep.csv`, and each cell's `outcomes.parquet`.
    pub parquet: bool,
}

/// One cell's row of `sweep.csv`.
#[derive(Clone, Debug)]
pub struct CellResult {
    pub cell: Cell,
    pub summary: McSummary,
}

/// The numeric columns of `sweep.csv` after the axes, for a summary.
pub fn metrics(s: &McSummary) -> Vec<(String, Option<f64>)> {
    let mut out: Vec<(String, Option<f64>)> = vec![("runs".into(), Some(s.runs as f64))];
    let prob = |out: &mut Vec<(String, Option<f64>)>, name: &str, p: Option<&Probability>| {
        out.push((format!("p_{name}"), p.map(|p| p.p)));
        out.push((format!("p_{name}_lo"), p.map(|p| p.lo)));
        out.push((format!("p_{name}_hi"), p.map(|p| p.hi)));
    };
    for name in ["squeeze_up", "squeeze_down", "up_10pct", "down_10pct", "move_10pct"] {
        prob(&mut out, name, s.probability(name));
    }
    for (name, field) in [
        ("final_price", "p50"),
        ("max_price", "p50"),
        ("max_price", "p95"),
        ("min_price", "p50"),
        ("liquidated_notional_short", "mean"),
        ("liquidated_notional_short", "p95"),
        ("liquidated_notional_long", "mean"),
        ("largest_cascade_usd", "p95"),
        ("max_runup_pct", "p50"),
        ("max_drawdown_pct", "p50"),
        ("hunter_pnl", "mean"),
        ("insurance_fund_min", "p5"),
        ("adl_count", "mean"),
    ] {
        let q = s.outcome(name);
        let v = q.and_then(|q| match field {
            "p5" => q.p5,
            "p50" => q.p50,
            "p95" => q.p95,
            _ => q.mean,
        });
        out.push((format!("{name}_{field}"), v));
    }
    for l in &s.levels {
        let label = level_label(l.level);
        out.push((format!("p_touch_{label}"), Some(l.touched.p)));
        out.push((format!("minutes_to_{label}_p50"), l.minutes_to_touch.p50));
    }
    // Appended last, so that the earlier columns keep their places; empty without hunters.
    for name in ["hunter_loss", "hunter_up", "hunter_down"] {
        prob(&mut out, name, s.probability(name));
    }
    out
}

/// Runs every cell's Monte Carlo, then writes `sweep.csv` and the heatmaps into `opts.out`.
pub fn run_sweep(v: &Validated, file: &str, opts: &SweepOptions) -> Result<Vec<CellResult>, McError> {
    let cells = cells(v, file)?;
    let axes: Vec<String> =
        cells.first().map(|c| c.settings.iter().map(|s| s.0.clone()).collect()).unwrap_or_default();
    let axis_of = |name: &Option<String>, default: usize, flag: &str| -> Result<Option<usize>, McError> {
        match name {
            Some(n) => axes.iter().position(|a| a == n).map(Some).ok_or_else(|| {
                McError::Input(format!(
                    "{flag}: {n:?} is not an axis of the sweep (axes: {})",
                    axes.join(", ")
                ))
            }),
            None => Ok((default < axes.len()).then_some(default)),
        }
    };
    let x = axis_of(&opts.x, 0, "--x")?.unwrap_or(0);
    let y = axis_of(&opts.y, if x == 1 { 0 } else { 1 }, "--y")?;
    if y == Some(x) {
        return Err(McError::Input("--x and --y must name different axes".into()));
    }
    // The metric must be a column before any cell runs.
    if let Some(c) = cells.first() {
        let probe = McOptions::probe();
        let names: Vec<String> =
            metrics(&summarize(&manifest(&c.scenario, &probe), &[])).into_iter().map(|(n, _)| n).collect();
        if !names.contains(&opts.metric) {
            return Err(McError::Input(format!(
                "--metric: unknown {:?}; one of: {}",
                opts.metric,
                names.join(", ")
            )));
        }
    }
    // The sweep's own folder is held too; `sweep.csv` (its finish mark) goes first and comes
    // back last, after the heatmaps.
    let _lock = report::lock::open_output(&opts.out, "sweep", &[]).map_err(super::folder_err)?;
    let _ = std::fs::remove_file(opts.out.join("sweep.csv"));
    let _ = std::fs::remove_file(opts.out.join("sweep.parquet"));
    let _ = std::fs::remove_file(opts.out.join(report::REPORT_FILE));
    let mut results: Vec<CellResult> = Vec::new();
    for cell in &cells {
        let runs_is_axis = cell.settings.iter().any(|(p, _)| p == "monte_carlo.runs");
        let mc = McOptions {
            runs: if runs_is_axis { None } else { opts.runs },
            seed: opts.seed,
            threads: opts.threads,
            out: opts.out.join(format!("cell-{:03}", cell.index)),
            keep_logs: false,
            resume: opts.resume,
            shard: None,
            progress: opts.progress,
            parquet: opts.parquet,
        };
        if opts.progress {
            eprintln!("cell {}/{}: {}", cell.index + 1, cells.len(), cell.label());
        }
        let r = run_mc(&cell.scenario, &mc)?;
        let summary = r.summary.ok_or_else(|| McError::Input("a sweep cell produced no summary".into()))?;
        results.push(CellResult { cell: cell.clone(), summary });
    }
    write_heatmaps(&opts.out, &axes, &results, &opts.metric, x, y)?;
    let scenario = super::canonical(&v.scenario);
    report::write_atomic(&opts.out.join("scenario.json"), |w| {
        use std::io::Write;
        writeln!(w, "{scenario}")
    })?;
    if opts.parquet {
        write_sweep_parquet(&opts.out.join("sweep.parquet"), &axes, &results)?;
    }
    write_sweep_csv(&opts.out.join("sweep.csv"), &axes, &results)?;
    Ok(results)
}

/// `sweep.csv` as Parquet: the cell (`uint64`), each axis (`double`, or `string` for a named
/// value such as a hunting mode), and the metrics (`double`, null where the CSV is empty).
fn write_sweep_parquet(path: &Path, axes: &[String], results: &[CellResult]) -> Result<(), McError> {
    use crate::report::table::{self, Column, ColumnType, Value};
    let numeric: Vec<bool> = (0..axes.len())
        .map(|a| results.iter().all(|r| matches!(r.cell.settings[a].1, SweepValue::Number(_))))
        .collect();
    let mut columns = vec![Column::new("cell", ColumnType::UInt)];
    for (name, &number) in axes.iter().zip(&numeric) {
        columns.push(Column::new(name.clone(), if number { ColumnType::Float } else { ColumnType::Text }));
    }
    if let Some(r) = results.first() {
        columns.extend(metrics(&r.summary).into_iter().map(|(n, _)| Column::optional(n, ColumnType::Float)));
    }
    let texts: Vec<Vec<String>> =
        results.iter().map(|r| r.cell.settings.iter().map(|(_, v)| v.to_string()).collect()).collect();
    let rows = results.iter().zip(&texts).map(|(r, text)| {
        let mut row = vec![Value::UInt(r.cell.index as u64)];
        for ((setting, t), &number) in r.cell.settings.iter().zip(text).zip(&numeric) {
            row.push(match setting.1 {
                SweepValue::Number(x) if number => Value::Float(x),
                _ => Value::Text(t),
            });
        }
        row.extend(metrics(&r.summary).into_iter().map(|(_, v)| v.map_or(Value::Null, Value::Float)));
        row
    });
    table::write_table(path, &columns, rows, true)?;
    Ok(())
}

fn write_sweep_csv(path: &Path, axes: &[String], results: &[CellResult]) -> Result<(), McError> {
    let mut header: Vec<String> = vec!["cell".into()];
    header.extend(axes.iter().cloned());
    if let Some(r) = results.first() {
        header.extend(metrics(&r.summary).into_iter().map(|(n, _)| n));
    }
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|r| {
            let mut row = vec![r.cell.index.to_string()];
            row.extend(r.cell.settings.iter().map(|(_, v)| v.to_string()));
            row.extend(
                metrics(&r.summary).into_iter().map(|(_, v)| v.map(|x| x.to_string()).unwrap_or_default()),
            );
            row
        })
        .collect();
    let h: Vec<&str> = header.iter().map(String::as_str).collect();
    report::write_csv(path, &h, rows.iter().map(|r| r.iter().map(String::as_str)))?;
    Ok(())
}

/// One heatmap of `metric` over axes `x` (across) and `y` (up) per combination of the other
/// axes' values: `heatmap_<metric>.png` (and `_<k>` suffixes when there are other axes).
fn write_heatmaps(
    out: &Path,
    axes: &[String],
    results: &[CellResult],
    metric: &str,
    x: usize,
    y: Option<usize>,
) -> Result<(), McError> {
    if results.is_empty() {
        return Ok(());
    }
    let values_of = |a: usize| -> Vec<String> {
        let mut v: Vec<String> = Vec::new();
        for r in results {
            let s = r.cell.settings[a].1.to_string();
            if !v.contains(&s) {
                v.push(s);
            }
        }
        v
    };
    let xs = values_of(x);
    let ys = y.map(values_of).unwrap_or_else(|| vec![String::new()]);
    let others: Vec<usize> = (0..axes.len()).filter(|&a| a != x && Some(a) != y).collect();
    let key = |r: &CellResult| {
        others.iter().map(|&a| format!("{}={}", axes[a], r.cell.settings[a].1)).collect::<Vec<_>>()
    };
    let mut groups: Vec<Vec<String>> = Vec::new();
    for r in results {
        let k = key(r);
        if !groups.contains(&k) {
            groups.push(k);
        }
    }
    for (g, group) in groups.iter().enumerate() {
        let mut values = vec![vec![None; xs.len()]; ys.len()];
        for r in results.iter().filter(|r| key(r) == *group) {
            let xi = xs.iter().position(|v| *v == r.cell.settings[x].1.to_string()).unwrap_or(0);
            let yi =
                y.and_then(|y| ys.iter().position(|v| *v == r.cell.settings[y].1.to_string())).unwrap_or(0);
            values[yi][xi] = metrics(&r.summary).into_iter().find(|(n, _)| n == metric).and_then(|(_, v)| v);
        }
        let mut title =
            format!("{metric} by {}{}", axes[x], y.map(|y| format!(" × {}", axes[y])).unwrap_or_default());
        if !group.is_empty() {
            title.push_str(&format!(" ({})", group.join(", ")));
        }
        let grid = plots::Grid {
            title,
            x_name: axes[x].clone(),
            y_name: y.map(|y| axes[y].clone()).unwrap_or_default(),
            x_labels: xs.clone(),
            y_labels: ys.clone(),
            values,
        };
        let stem =
            if groups.len() > 1 { format!("heatmap_{metric}_{g}") } else { format!("heatmap_{metric}") };
        plots::grid_heatmap(
            &grid,
            Some(&out.join(format!("{stem}.png"))),
            Some(&out.join(format!("{stem}.svg"))),
        )?;
    }
    Ok(())
}

/// The stdout table of a sweep: per cell, its settings and the headline numbers.
pub fn table(results: &[CellResult]) -> String {
    let mut t = String::new();
    let Some(first) = results.first() else { return t };
    let axes: Vec<&str> = first.cell.settings.iter().map(|(p, _)| p.as_str()).collect();
    for a in &axes {
        t.push_str(&format!("{:>16}", short(a)));
    }
    t.push_str(&format!(
        "{:>6}{:>22}{:>22}{:>12}{:>14}{:>14}\n",
        "runs", "P(squeeze up) [95%]", "P(squeeze down) [95%]", "max p50", "liq short avg", "hunter pnl"
    ));
    let f = |v: Option<f64>| v.map_or_else(|| "-".into(), |x| format!("{x:.0}"));
    let p = |p: Option<&Probability>| {
        p.map_or_else(|| "-".into(), |p| format!("{:.2} [{:.2},{:.2}]", p.p, p.lo, p.hi))
    };
    for r in results {
        for (_, v) in &r.cell.settings {
            t.push_str(&format!("{:>16}", v.to_string()));
        }
        let s = &r.summary;
        t.push_str(&format!(
            "{:>6}{:>22}{:>22}{:>12}{:>13}M{:>13}M\n",
            s.runs,
            p(s.probability("squeeze_up")),
            p(s.probability("squeeze_down")),
            f(s.outcome("max_price").and_then(|q| q.p50)),
            f(s.outcome("liquidated_notional_short").and_then(|q| q.mean).map(|v| v / 1e6)),
            f(s.outcome("hunter_pnl").and_then(|q| q.mean).map(|v| v / 1e6)),
        ));
    }
    t
}

fn short(parameter: &str) -> &str {
    parameter.rsplit('.').next().unwrap_or(parameter)
}
