//! Monte Carlo pictures: the price fan chart (quantile bands of the price path over time),
//! histograms of outcomes, and a sweep's heatmap of one outcome over two grid axes. Same style
//! and embedded font as the run pictures.

use super::stats::quantile_sorted;
use super::{Manifest, RunOutcome};
use crate::report::ReportError;
use crate::report::fmt::clock_minutes;
use crate::report::plots::{
    DrawResult, Mark, SERIES, draw_legend, err, price_label, render, time_axis, wrap_label,
};
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
            format!(
                "Price paths — {}, {runs} runs, master seed {} (p5–p95, p25–p75, median)",
                m.scenario, m.master_seed
            ),
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(time_axis(t_end), lo..hi)
        .map_err(err)?;
    let span = hi - lo;
    chart
        .configure_mesh()
        .x_desc("time from the start (HH:MM)")
        .y_desc("last price (USD)")
        .x_label_formatter(&|m| clock_minutes(*m))
        .y_label_formatter(&|p| price_label(*p, span))
        .draw()
        .map_err(err)?;
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
            .draw_series(DashedLineSeries::new(
                [(0.0, level), (t_end, level)],
                8,
                6,
                GREY_600.stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("watch {}", price_label(level, span)),
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

/// How a histogram shows its values.
#[derive(Clone, Debug, PartialEq)]
enum Bars {
    /// Every run gave the same value.
    Constant(f64),
    /// Few distinct values: one bar each, (value, runs).
    Discrete(Vec<(f64, u32)>),
    /// Equal bins from `lo`, `width` wide.
    Binned { lo: f64, width: f64, counts: Vec<u32> },
}

/// Most distinct values drawn one bar each.
const MAX_DISCRETE: usize = 12;

fn bars_of(finite: &[f64]) -> Bars {
    let mut sorted = finite.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut distinct: Vec<(f64, u32)> = Vec::new();
    for &v in &sorted {
        match distinct.last_mut() {
            Some(last) if last.0 == v => last.1 += 1,
            _ => distinct.push((v, 1)),
        }
    }
    match distinct.len() {
        0 => Bars::Constant(0.0),
        1 => Bars::Constant(distinct[0].0),
        // Few values among many runs (counts, or a metric that only takes a few values).
        n if n <= MAX_DISCRETE && n * 2 <= sorted.len() => Bars::Discrete(distinct),
        _ => {
            // About √runs bins (5 to 30): enough to show a shape, few enough not to leave most
            // bins holding one run.
            let bins = ((sorted.len() as f64).sqrt().ceil() as usize).clamp(5, 30);
            let (lo, hi) = (sorted[0], sorted[sorted.len() - 1]);
            let width = (hi - lo) / bins as f64;
            let mut counts = vec![0u32; bins];
            for v in &sorted {
                counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
            }
            Bars::Binned { lo, width, counts }
        }
    }
}

/// Writes a histogram of `values` as PNG: `title` above, `x_desc` (the metric and its unit)
/// under the x axis, runs up the y axis in whole numbers; a constant metric is one bar with
/// its value written, a metric with few distinct values one bar per value, any other
/// about √runs equal bins; the median is a dashed line.
pub fn histogram(title: &str, x_desc: &str, values: &[f64], png: &Path) -> Result<(), ReportError> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let bars = bars_of(&finite);
    let mut sorted = finite.clone();
    sorted.sort_by(f64::total_cmp);
    let median = quantile_sorted(&sorted, 0.5);
    let h = Hist { title, x_desc, bars: &bars, runs: finite.len(), median };
    render(Some(png), None, (1000, 600), |a| draw_hist(a, &h), |_| Ok(()))
}

struct Hist<'a> {
    title: &'a str,
    x_desc: &'a str,
    bars: &'a Bars,
    runs: usize,
    median: Option<f64>,
}

/// A value on a histogram's axis: separators, and decimals only where the span needs them.
fn value_label(v: f64, span: f64) -> String {
    let decimals = if span >= 50.0 || v.fract() == 0.0 {
        0
    } else if span >= 1.0 {
        1
    } else {
        3
    };
    crate::report::fmt::thousands(v, decimals)
}

fn draw_hist<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, h: &Hist) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    // The x range and each bar as (from, to, runs).
    let (lo, hi, rects): (f64, f64, Vec<(f64, f64, u32)>) = match h.bars {
        Bars::Constant(v) => {
            let half = (v.abs() * 0.01).max(0.5);
            (v - 2.0 * half, v + 2.0 * half, vec![(v - half * 0.4, v + half * 0.4, h.runs as u32)])
        }
        Bars::Discrete(values) => {
            let gap = values.windows(2).map(|w| w[1].0 - w[0].0).fold(f64::MAX, f64::min);
            let gap = if gap.is_finite() && gap > 0.0 { gap } else { 1.0 };
            let (first, last) = (values[0].0, values[values.len() - 1].0);
            let bars = values.iter().map(|&(v, n)| (v - gap * 0.35, v + gap * 0.35, n)).collect();
            (first - gap, last + gap, bars)
        }
        Bars::Binned { lo, width, counts } => {
            let bars = counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(|(i, &c)| (lo + i as f64 * width, lo + (i as f64 + 0.96) * width, c))
                .collect();
            let pad = width * counts.len() as f64 * 0.02;
            (lo - pad, lo + width * counts.len() as f64 + pad, bars)
        }
    };
    let top = rects.iter().map(|r| r.2).max().unwrap_or(1).max(1);
    // Whole runs up the axis: at most about ten labels.
    let top_axis = top + (top / 10).max(1);
    let mut chart = ChartBuilder::on(root)
        .caption(h.title, ("sans-serif", 20))
        .margin(16)
        .margin_right(40)
        .x_label_area_size(56)
        .y_label_area_size(70)
        .build_cartesian_2d(lo..hi, 0u32..top_axis)
        .map_err(err)?;
    let span = hi - lo;
    let x_label = |v: &f64| value_label(*v, span);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(h.x_desc)
        .y_desc("runs")
        .x_label_formatter(&x_label)
        .y_labels((top_axis as usize + 1).min(11))
        .light_line_style(WHITE)
        .axis_desc_style(("sans-serif", 16));
    match h.bars {
        // One value: it is written over its bar; an axis around it would only invent a spread.
        Bars::Constant(_) => {
            mesh.x_labels(0);
        }
        Bars::Discrete(values) => {
            mesh.x_labels(values.len() + 2);
        }
        Bars::Binned { .. } => {}
    }
    mesh.draw().map_err(err)?;
    chart
        .draw_series(rects.iter().map(|&(a, b, n)| Rectangle::new([(a, 0), (b, n)], BLUE_600.filled())))
        .map_err(err)?;
    let label = ("sans-serif", 15).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
    match h.bars {
        Bars::Constant(v) => {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("every one of the {} runs: {}", h.runs, value_label(*v, v.abs().max(50.0))),
                    (*v, top),
                    label,
                )))
                .map_err(err)?;
        }
        Bars::Discrete(values) => {
            chart
                .draw_series(values.iter().map(|&(v, n)| {
                    Text::new(format!("{} ({n})", value_label(v, span)), (v, n), label.clone())
                }))
                .map_err(err)?;
        }
        Bars::Binned { .. } => {
            if let Some(m) = h.median {
                let style = BLUE_900.stroke_width(2);
                chart
                    .draw_series(DashedLineSeries::new([(m, 0), (m, top_axis)], 6, 4, style))
                    .map_err(err)?
                    .label(format!("median {}", value_label(m, span)))
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], style));
                chart
                    .configure_series_labels()
                    .position(SeriesLabelPosition::UpperRight)
                    .background_style(WHITE.mix(0.9))
                    .border_style(BLACK)
                    .draw()
                    .map_err(err)?;
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_handle_constant_discrete_and_spread_metrics() {
        assert_eq!(bars_of(&[0.0; 20]), Bars::Constant(0.0));
        assert_eq!(bars_of(&[]), Bars::Constant(0.0));
        let discrete: Vec<f64> = (0..20).map(|i| f64::from(i % 3)).collect();
        assert_eq!(bars_of(&discrete), Bars::Discrete(vec![(0.0, 7), (1.0, 7), (2.0, 6)]));
        // Twenty different values: √20 → 5 bins, every run counted once.
        let spread: Vec<f64> = (0..20).map(|i| 70_000.0 + 37.0 * f64::from(i)).collect();
        let Bars::Binned { counts, .. } = bars_of(&spread) else { panic!("not binned") };
        assert_eq!(counts.len(), 5);
        assert_eq!(counts.iter().sum::<u32>(), 20);
        let dir = std::env::temp_dir().join(format!("liqsim-hist-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, values) in [("constant", vec![0.0; 20]), ("discrete", discrete), ("spread", spread)] {
            let path = dir.join(format!("{name}.png"));
            histogram(name, "value (unit)", &values, &path).unwrap();
            assert!(std::fs::read(&path).unwrap().starts_with(b"\x89PNG"));
        }
    }
}

/// One Monte Carlo of an overlaid fan chart.
#[derive(Clone, Debug, PartialEq)]
pub struct FanLayer {
    /// "A: btc_14_to_1, 100 runs".
    pub label: String,
    /// Minutes between path points.
    pub path_minutes: f64,
    /// [`fan_bands`] of its runs.
    pub bands: Vec<[f64; 5]>,
}

/// Writes Monte Carlo folders' fan charts overlaid (`liqsim compare`): per folder, in its colour,
/// the p25–p75 band filled, p5 and p95 dashed, the median a thick line.
pub fn fan_overlay(layers: &[FanLayer], png: &Path) -> Result<(), ReportError> {
    render(Some(png), None, (1400, 800), |a| draw_fan_overlay(a, layers), |_| Ok(()))
}

fn draw_fan_overlay<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, layers: &[FanLayer]) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (left, panel) = root.split_horizontally(1400 - 270);
    let minute = |l: &FanLayer, i: usize| i as f64 * l.path_minutes;
    let t_end = layers.iter().map(|l| minute(l, l.bands.len().saturating_sub(1))).fold(1.0, f64::max);
    // When the medians make their biggest move early (a crash in the first minutes of a
    // six-hour run), a second panel shows the start: four times as long as it took them to get
    // there, at least 20 minutes, in whole 10 minutes.
    let extreme = |l: &FanLayer| {
        let start = l.bands.first().map_or(0.0, |q| q[2]);
        let k = (0..l.bands.len()).max_by(|&a, &b| {
            (l.bands[a][2] - start).abs().total_cmp(&(l.bands[b][2] - start).abs()).then(b.cmp(&a))
        });
        k.map_or(0.0, |k| minute(l, k))
    };
    let t_zoom = (layers.iter().map(extreme).fold(0.0, f64::max) * 4.0).max(20.0);
    let t_zoom = (t_zoom / 10.0).ceil() * 10.0;
    if t_zoom * 2.0 <= t_end {
        let (top, bottom) = left.split_vertically(420);
        draw_fan_panel(&top, layers, t_end, "Price paths of the Monte Carlo folders overlaid")?;
        let caption = format!("The first {} (zoomed)", crate::report::fmt::duration((t_zoom * 60.0) as u64));
        draw_fan_panel(&bottom, layers, t_zoom, &caption)?;
    } else {
        draw_fan_panel(&left, layers, t_end, "Price paths of the Monte Carlo folders overlaid")?;
    }
    let colour = |i: usize| SERIES[i % SERIES.len()];
    let mut legend: Vec<(Mark, String)> = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let end = l.bands.last().map_or(f64::NAN, |q| q[2]);
        legend.push((
            Mark::Line(colour(i), 3),
            format!("{}\nmedian, ends at {}", wrap_label(&l.label), price_label(end, 100.0)),
        ));
        legend.push((Mark::Swatch(tint(colour(i), 0.22)), "p25–p75 of the runs".into()));
        legend.push((Mark::Dashed(colour(i)), "p5 and p95".into()));
    }
    draw_legend(&panel, (10, 60), &legend, &BLACK)?;
    Ok(())
}

/// One panel of [`fan_overlay`]: minutes 0 to `t_to`.
fn draw_fan_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    layers: &[FanLayer],
    t_to: f64,
    caption: &str,
) -> DrawResult {
    let minute = |l: &FanLayer, i: usize| i as f64 * l.path_minutes;
    // Each layer's points up to `t_to`.
    let shown =
        |l: &FanLayer| l.bands.iter().enumerate().take_while(|(k, _)| minute(l, *k) <= t_to + 1e-9).count();
    let all = layers.iter().flat_map(|l| l.bands[..shown(l)].iter().flat_map(|q| [q[0], q[4]]));
    let (lo, hi) = all.filter(|v| v.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(time_axis(t_to), lo..hi)
        .map_err(err)?;
    let span = hi - lo;
    chart
        .configure_mesh()
        .x_desc("time from the start (HH:MM)")
        .y_desc("last price (USD)")
        .x_label_formatter(&|m| clock_minutes(*m))
        .y_label_formatter(&|p| price_label(*p, span))
        .y_labels(8)
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    let colour = |i: usize| SERIES[i % SERIES.len()];
    // Bands first, every folder's, so no band covers another's median.
    for (i, l) in layers.iter().enumerate() {
        let b = &l.bands[..shown(l)];
        let mut pts: Vec<(f64, f64)> = b.iter().enumerate().map(|(k, q)| (minute(l, k), q[3])).collect();
        pts.extend(b.iter().enumerate().rev().map(|(k, q)| (minute(l, k), q[1])));
        chart.draw_series(std::iter::once(Polygon::new(pts, colour(i).mix(0.22).filled()))).map_err(err)?;
    }
    for (i, l) in layers.iter().enumerate() {
        let b = &l.bands[..shown(l)];
        for q in [0, 4] {
            let pts: Vec<(f64, f64)> = b.iter().enumerate().map(|(k, x)| (minute(l, k), x[q])).collect();
            chart.draw_series(DashedLineSeries::new(pts, 6, 5, colour(i).stroke_width(1))).map_err(err)?;
        }
        let pts = b.iter().enumerate().map(|(k, q)| (minute(l, k), q[2]));
        chart.draw_series(LineSeries::new(pts, colour(i).stroke_width(3))).map_err(err)?;
    }
    Ok(())
}

/// One Monte Carlo of an overlaid histogram: its label and its runs' values.
#[derive(Clone, Debug, PartialEq)]
pub struct HistLayer {
    pub label: String,
    pub values: Vec<f64>,
}

/// Writes one outcome of several Monte Carlo folders as histograms on shared bins, side by side
/// in each bin, as the share of each folder's runs (folders may differ in run count); each
/// folder's median a dashed line. Few distinct values are drawn one bar group per value.
pub fn histogram_overlay(
    title: &str,
    x_desc: &str,
    layers: &[HistLayer],
    png: &Path,
) -> Result<(), ReportError> {
    render(Some(png), None, (1100, 620), |a| draw_hist_overlay(a, title, x_desc, layers), |_| Ok(()))
}

fn draw_hist_overlay<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    x_desc: &str,
    layers: &[HistLayer],
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let finite: Vec<Vec<f64>> =
        layers.iter().map(|l| l.values.iter().copied().filter(|v| v.is_finite()).collect()).collect();
    let mut all: Vec<f64> = finite.iter().flatten().copied().collect();
    all.sort_by(f64::total_cmp);
    all.dedup();
    // Bins: one per distinct value when there are few, else about √(runs per folder) equal bins.
    let per_folder = finite.iter().map(Vec::len).max().unwrap_or(1);
    let (lo, width, bins, discrete) = if all.len() <= MAX_DISCRETE && all.len() * 2 <= per_folder.max(2) {
        let gap = all.windows(2).map(|w| w[1] - w[0]).fold(f64::MAX, f64::min);
        let gap = if gap.is_finite() && gap > 0.0 {
            gap
        } else {
            (all.first().copied().unwrap_or(0.0).abs() * 0.01).max(1.0)
        };
        (
            all.first().copied().unwrap_or(0.0) - gap / 2.0,
            gap,
            ((all.last().copied().unwrap_or(0.0) - all[0]) / gap).round() as usize + 1,
            true,
        )
    } else {
        let bins = ((per_folder as f64).sqrt().ceil() as usize).clamp(5, 30);
        let (a, b) = (all[0], all[all.len() - 1]);
        (a, (b - a) / bins as f64, bins, false)
    };
    let bin_of = |v: f64| (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
    let shares: Vec<Vec<f64>> = finite
        .iter()
        .map(|vs| {
            let mut counts = vec![0.0; bins];
            for &v in vs {
                counts[bin_of(v)] += 1.0;
            }
            counts.iter().map(|c| 100.0 * c / vs.len().max(1) as f64).collect()
        })
        .collect();
    let top = shares.iter().flatten().copied().fold(1.0, f64::max) * 1.12;
    let (x0, x1) = (lo - width * 0.1, lo + width * bins as f64 + width * 0.1);
    let (left, panel) = root.split_horizontally(1100 - 250);
    let mut chart = ChartBuilder::on(&left)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .margin_right(30)
        .x_label_area_size(56)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0.0..top)
        .map_err(err)?;
    let span = x1 - x0;
    let x_label = |v: &f64| axis_label(*v, span);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x_desc)
        .y_desc("% of the folder's runs")
        .x_label_formatter(&x_label)
        .y_label_formatter(&|v| format!("{v:.0}%"))
        .light_line_style(WHITE)
        .axis_desc_style(("sans-serif", 16));
    if discrete {
        mesh.x_labels(bins + 2);
    }
    mesh.draw().map_err(err)?;
    // Each folder's bars span their whole bin, see-through, then every outline on top: where
    // folders share a bin, the outlines show each one's height.
    let bar = |b: usize| (lo + b as f64 * width, lo + (b as f64 + 1.0) * width);
    for (i, s) in shares.iter().enumerate() {
        let c = SERIES[i % SERIES.len()];
        chart
            .draw_series(s.iter().enumerate().filter(|(_, v)| **v > 0.0).map(|(b, &v)| {
                let (a, z) = bar(b);
                Rectangle::new([(a, 0.0), (z, v)], c.mix(0.3).filled())
            }))
            .map_err(err)?;
    }
    for (i, s) in shares.iter().enumerate() {
        let c = SERIES[i % SERIES.len()];
        chart
            .draw_series(s.iter().enumerate().filter(|(_, v)| **v > 0.0).map(|(b, &v)| {
                let (a, z) = bar(b);
                Rectangle::new([(a, 0.0), (z, v)], c.stroke_width(2))
            }))
            .map_err(err)?;
    }
    let mut legend: Vec<(Mark, String)> = Vec::new();
    for (i, vs) in finite.iter().enumerate() {
        let c = SERIES[i % SERIES.len()];
        let mut sorted = vs.clone();
        sorted.sort_by(f64::total_cmp);
        if let Some(m) = quantile_sorted(&sorted, 0.5) {
            chart
                .draw_series(DashedLineSeries::new([(m, 0.0), (m, top)], 7, 5, c.stroke_width(2)))
                .map_err(err)?;
            legend.push((
                Mark::Swatch(tint(c, 0.45)),
                format!("{}\n{} runs", wrap_label(&layers[i].label), vs.len()),
            ));
            legend.push((Mark::Dashed(c), format!("median {}", axis_label(m, span))));
        }
    }
    draw_legend(&panel, (10, 60), &legend, &BLACK)?;
    Ok(())
}

/// `c` drawn at opacity `a` over white, as a solid colour (for legend swatches).
fn tint(c: RGBColor, a: f64) -> RGBColor {
    let mix = |v: u8| (255.0 - (255.0 - f64::from(v)) * a).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// A value on an overlaid histogram's axis: millions and billions compact ("540M", "1.2B"), the
/// rest as [`value_label`].
fn axis_label(v: f64, span: f64) -> String {
    let big = v.abs().max(span);
    let (unit, div) = if big >= 5e9 {
        ("B", 1e9)
    } else if big >= 5e6 {
        ("M", 1e6)
    } else {
        ("", 1.0)
    };
    if unit.is_empty() {
        return value_label(v, span);
    }
    let decimals = if span / div >= 20.0 {
        0
    } else if span / div >= 2.0 {
        1
    } else {
        2
    };
    format!("{}{unit}", crate::report::fmt::thousands(v / div, decimals))
}
