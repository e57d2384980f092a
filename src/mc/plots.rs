//! Monte Carlo pictures: the price fan chart (quantile bands of the price path over time),
//! histograms of outcomes, and a sweep's heatmap of one outcome over two grid axes. Same style
//! and embedded font as the run pictures.

use super::stats::quantile_sorted;
use super::{Manifest, RunOutcome};
use crate::report::ReportError;
use crate::report::plots::{DrawResult, err, render};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::full_palette::{BLUE_200, BLUE_600, BLUE_900, GREY_600};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// Per path point: p5, p25, p50, p75, p95 over runs.
pub fn fan_bands(runs: &[RunOutcome]) -> Vec<[f64; 5]> {
    let len = runs.iter().map(|r| r.path.len()).min().unwrap_or(0);
    (0..len)
        .map(|i| {
            let mut col: Vec<f64> = runs.iter().map(|r| r.path[i]).filter(|v| v.is_finite()).collect();
            col.sort_by(f64::total_cmp);
            let q = |p| quantile_sorted(&col, p).unwrap_or(0.0);
            [q(0.05), q(0.25), q(0.5), q(0.75), q(0.95)]
        })
        .collect()
}

/// Writes the fan chart of the runs' price paths.
pub fn fan_chart(
    m: &Manifest,
    runs: &[RunOutcome],
    png: Option<&Path>,
    svg: Option<&Path>,
) -> Result<(), ReportError> {
    let bands = fan_bands(runs);
    render(
        png,
        svg,
        (1400, 800),
        |a| draw_fan(a, m, runs.len(), &bands),
        |a| draw_fan(a, m, runs.len(), &bands),
    )
}

fn draw_fan<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    m: &Manifest,
    runs: usize,
    bands: &[[f64; 5]],
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let minute = |i: usize| i as f64 * m.path_minutes;
    let t_end = minute(bands.len().saturating_sub(1)).max(1.0);
    let (lo, hi) = bands.iter().fold((m.start_price, m.start_price), |(a, b), q| (a.min(q[0]), b.max(q[4])));
    let pad = ((hi - lo) * 0.08).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{}: price path over {runs} runs (p5–p95, p25–p75, median)", m.scenario),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..t_end, lo..hi)
        .map_err(err)?;
    chart.configure_mesh().x_desc("minutes").y_desc("last price (USD)").draw().map_err(err)?;
    for (a, b, color, name) in [(0, 4, BLUE_200.mix(0.5), "p5–p95"), (1, 3, BLUE_600.mix(0.45), "p25–p75")]
    {
        let mut pts: Vec<(f64, f64)> = bands.iter().enumerate().map(|(i, q)| (minute(i), q[b])).collect();
        pts.extend(bands.iter().enumerate().rev().map(|(i, q)| (minute(i), q[a])));
        chart
            .draw_series(std::iter::once(Polygon::new(pts, color.filled())))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 16, y + 5)], color.filled()));
    }
    chart
        .draw_series(LineSeries::new(
            bands.iter().enumerate().map(|(i, q)| (minute(i), q[2])),
            BLUE_900.stroke_width(2),
        ))
        .map_err(err)?
        .label("median")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE_900));
    for &level in m.watch_levels.iter().filter(|&&l| l > lo && l < hi) {
        chart
            .draw_series(LineSeries::new([(0.0, level), (t_end, level)], GREY_600.mix(0.7).stroke_width(1)))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("{level}"),
                (t_end * 0.005, level),
                ("sans-serif", 13).into_font().color(&GREY_600),
            )))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Writes a histogram of `values` (30 equal bins between their min and max) as PNG.
pub fn histogram(title: &str, values: &[f64], png: &Path) -> Result<(), ReportError> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let (lo, hi) = finite.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo > hi {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    const BINS: usize = 30;
    let w = (hi - lo) / BINS as f64;
    let mut counts = [0u32; BINS];
    for v in &finite {
        counts[(((v - lo) / w) as usize).min(BINS - 1)] += 1;
    }
    render(Some(png), None, (1000, 600), |a| draw_hist(a, title, lo, w, &counts), |_| Ok(()))
}

fn draw_hist<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    lo: f64,
    w: f64,
    counts: &[u32],
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64 * 1.1;
    let hi = lo + w * counts.len() as f64;
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(err)?;
    chart.configure_mesh().y_desc("runs").draw().map_err(err)?;
    chart
        .draw_series(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, &c)| {
            let x = lo + i as f64 * w;
            Rectangle::new([(x, 0.0), (x + w * 0.95, c as f64)], BLUE_600.filled())
        }))
        .map_err(err)?;
    Ok(())
}

/// A heatmap of one outcome over two grid axes: `values[y][x]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    pub title: String,
    pub x_name: String,
    pub y_name: String,
    pub x_labels: Vec<String>,
    pub y_labels: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
}

/// Writes a sweep heatmap as PNG and SVG.
pub fn grid_heatmap(g: &Grid, png: Option<&Path>, svg: Option<&Path>) -> Result<(), ReportError> {
    render(png, svg, (1200, 700), |a| draw_grid(a, g), |a| draw_grid(a, g))
}

fn draw_grid<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, g: &Grid) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (nx, ny) = (g.x_labels.len().max(1) as i32, g.y_labels.len().max(1) as i32);
    let mut chart = ChartBuilder::on(root)
        .caption(&g.title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(50)
        .y_label_area_size(110)
        .build_cartesian_2d((0..nx - 1).into_segmented(), (0..ny - 1).into_segmented())
        .map_err(err)?;
    let label = |labels: &[String], v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(g.x_name.as_str())
        .y_desc(g.y_name.as_str())
        .x_labels(nx as usize + 1)
        .y_labels(ny as usize + 1)
        .x_label_formatter(&|v| label(&g.x_labels, v))
        .y_label_formatter(&|v| label(&g.y_labels, v))
        .label_style(("sans-serif", 15))
        .draw()
        .map_err(err)?;
    let all = g.values.iter().flatten().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    for (y, row) in g.values.iter().enumerate() {
        for (x, v) in row.iter().enumerate() {
            let (x, y) = (x as i32, y as i32);
            let cell = [
                (SegmentValue::Exact(x), SegmentValue::Exact(y)),
                (SegmentValue::Exact(x + 1), SegmentValue::Exact(y + 1)),
            ];
            let Some(v) = v.filter(|v| v.is_finite()) else {
                chart
                    .draw_series(std::iter::once(Rectangle::new(cell, GREY_600.mix(0.2).filled())))
                    .map_err(err)?;
                continue;
            };
            let t = ((v - lo) / span).clamp(0.0, 1.0);
            chart
                .draw_series(std::iter::once(Rectangle::new(cell, ViridisRGB::get_color(t).filled())))
                .map_err(err)?;
            let text = if v.abs() >= 1e6 {
                format!("{:.0}M", v / 1e6)
            } else if v.abs() >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            };
            let color = if t > 0.6 { BLACK } else { WHITE };
            let style =
                ("sans-serif", 16).into_font().color(&color).pos(Pos::new(HPos::Center, VPos::Center));
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (SegmentValue::CenterOf(x), SegmentValue::CenterOf(y)),
                    style,
                )))
                .map_err(err)?;
        }
    }
    Ok(())
}
