//! Pictures: the liquidation heatmap (price buckets × time, the way vendors draw it, with the
//! price path over it), the price chart with liquidation bars, and the starting liquidation map;
//! the heatmap and the map show pending stop orders beside the liquidations when a run has them.
//! Drawn with plotters' pure-Rust backends and an embedded font, so no system library is needed.

use super::{ReportError, atomic_path, finish_atomic};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::full_palette::{BLUE_600, GREEN_600, GREEN_800, GREY_600, RED_600, RED_800};
use plotters::style::{FontStyle, register_font};
use std::path::Path;
use std::sync::Once;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

pub(crate) fn ensure_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The font is compiled in and known good; a failure would only cost text, not the plot.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A liquidation heatmap: `cells[t][b]` is the liquidatable notional (USD) with liquidation
/// prices in bucket `b` (starting at `price_lo + b·bucket_usd`) at column `t`; `stops[t][b]`,
/// when there are stops, the notional of the stop orders waiting there.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heatmap {
    /// Minutes since the start, one per column.
    pub minutes: Vec<f64>,
    pub price_lo: f64,
    pub bucket_usd: f64,
    pub cells: Vec<Vec<f64>>,
    /// Pending stop orders by trigger, in the cells' grid (USD at their triggers); empty when
    /// the run has none.
    pub stops: Vec<Vec<f64>>,
    /// Last price at each column.
    pub path: Vec<f64>,
    /// Liquidations: (minute, price, long?).
    pub liquidations: Vec<(f64, f64, bool)>,
    /// Stops triggered: (minute, the price that reached the trigger).
    pub stop_triggers: Vec<(f64, f64)>,
}

impl Heatmap {
    fn has_stops(&self) -> bool {
        self.stops.iter().flatten().any(|&v| v > 0.0) || !self.stop_triggers.is_empty()
    }
}

/// One bar of the starting liquidation map (or of its stop orders).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapBar {
    pub price: f64,
    pub notional_usd: f64,
    /// Below the price: a long's liquidation, or a sell stop.
    pub long: bool,
}

/// The colour of stop orders in every picture, apart from both sides' liquidations.
const STOP_COLOUR: RGBColor = RGBColor(255, 150, 20);

/// The price chart's series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PriceSeries {
    pub minutes: Vec<f64>,
    pub last: Vec<f64>,
    pub mark: Vec<f64>,
    pub index: Vec<f64>,
    pub liquidated_long_usd: Vec<f64>,
    pub liquidated_short_usd: Vec<f64>,
}

pub(crate) type DrawResult = Result<(), String>;

pub(crate) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// Renders with `draw` to both PNG and SVG (either path may be None), each written atomically.
pub(crate) fn render(
    png: Option<&Path>,
    svg: Option<&Path>,
    size: (u32, u32),
    draw: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> DrawResult + Copy,
    draw_svg: impl Fn(&DrawingArea<SVGBackend, Shift>) -> DrawResult,
) -> Result<(), ReportError> {
    ensure_font();
    if let Some(path) = png {
        let tmp = atomic_path(path);
        {
            let root = BitMapBackend::new(&tmp, size).into_drawing_area();
            draw(&root)
                .and_then(|_| root.present().map_err(err))
                .map_err(|msg| ReportError::Plot { path: path.to_path_buf(), msg })?;
        }
        finish_atomic(&tmp, path)?;
    }
    if let Some(path) = svg {
        let tmp = atomic_path(path);
        {
            let root = SVGBackend::new(&tmp, size).into_drawing_area();
            draw_svg(&root)
                .and_then(|_| root.present().map_err(err))
                .map_err(|msg| ReportError::Plot { path: path.to_path_buf(), msg })?;
        }
        finish_atomic(&tmp, path)?;
    }
    Ok(())
}

/// Writes the liquidation heatmap.
pub fn heatmap(hm: &Heatmap, png: Option<&Path>, svg: Option<&Path>) -> Result<(), ReportError> {
    render(png, svg, (1400, 800), |a| draw_heatmap(a, hm), |a| draw_heatmap(a, hm))
}

fn draw_heatmap<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, hm: &Heatmap) -> DrawResult {
    root.fill(&RGBColor(12, 8, 30)).map_err(err)?;
    let buckets = hm.cells.first().map_or(0, Vec::len);
    let t_end = hm.minutes.last().copied().unwrap_or(1.0).max(1.0);
    let dt = if hm.minutes.len() > 1 { hm.minutes[1] - hm.minutes[0] } else { 1.0 };
    let p_lo = hm.price_lo;
    let p_hi = hm.price_lo + hm.bucket_usd * buckets.max(1) as f64;
    let mut chart = ChartBuilder::on(root)
        .caption("Liquidation heatmap", ("sans-serif", 24).into_font().color(&WHITE))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..t_end + dt, p_lo..p_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("minutes")
        .y_desc("price (USD)")
        .axis_style(WHITE.mix(0.6))
        .label_style(("sans-serif", 14).into_font().color(&WHITE))
        .draw()
        .map_err(err)?;
    let max = hm.cells.iter().flatten().copied().fold(0.0_f64, f64::max).max(1.0);
    let scale = |v: f64| ((1.0 + v).ln() / (1.0 + max).ln()).clamp(0.0, 1.0);
    for (t, column) in hm.cells.iter().enumerate() {
        let x0 = hm.minutes.get(t).copied().unwrap_or(0.0);
        for (b, &v) in column.iter().enumerate() {
            if v <= 0.0 {
                continue;
            }
            let y0 = p_lo + b as f64 * hm.bucket_usd;
            let color = ViridisRGB::get_color(scale(v));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, y0), (x0 + dt, y0 + hm.bucket_usd)],
                    color.filled(),
                )))
                .map_err(err)?;
        }
    }
    chart
        .draw_series(LineSeries::new(
            hm.minutes.iter().zip(&hm.path).map(|(&t, &p)| (t, p)),
            WHITE.stroke_width(2),
        ))
        .map_err(err)?;
    chart
        .draw_series(hm.liquidations.iter().map(|&(t, p, long)| {
            let c = if long { RGBColor(255, 80, 80) } else { RGBColor(80, 220, 120) };
            Circle::new((t, p), 3, c.filled())
        }))
        .map_err(err)?;
    if hm.has_stops() {
        draw_heatmap_stops(&mut chart, hm, dt)?;
    }
    Ok(())
}

/// Stop clusters beside the liquidation clusters: in each column the right third of a bucket
/// holding stops, orange, its opacity by the stops' notional; each stop that triggered an orange
/// triangle; and a legend telling them apart.
fn draw_heatmap_stops<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    hm: &Heatmap,
    dt: f64,
) -> DrawResult {
    let max = hm.stops.iter().flatten().copied().fold(0.0_f64, f64::max).max(1.0);
    let scale = |v: f64| ((1.0 + v).ln() / (1.0 + max).ln()).clamp(0.15, 1.0);
    for (t, column) in hm.stops.iter().enumerate() {
        let x0 = hm.minutes.get(t).copied().unwrap_or(0.0);
        let cells = column.iter().enumerate().filter(|(_, v)| **v > 0.0).map(|(b, &v)| {
            let y0 = hm.price_lo + b as f64 * hm.bucket_usd;
            Rectangle::new(
                [(x0 + dt * 2.0 / 3.0, y0), (x0 + dt, y0 + hm.bucket_usd)],
                STOP_COLOUR.mix(scale(v)).filled(),
            )
        });
        chart.draw_series(cells).map_err(err)?;
    }
    chart
        .draw_series(
            hm.stop_triggers.iter().map(|&(t, p)| TriangleMarker::new((t, p), 5, STOP_COLOUR.filled())),
        )
        .map_err(err)?;
    // The legend's entries: empty series that only name the colours.
    let viridis = ViridisRGB::get_color(0.8);
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
        .map_err(err)?
        .label("liquidation clusters")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], viridis.filled()));
    chart
        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
        .map_err(err)?
        .label("stop orders (triangles: triggered)")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], STOP_COLOUR.filled()));
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 14).into_font().color(&WHITE))
        .background_style(RGBColor(12, 8, 30).mix(0.8))
        .border_style(WHITE.mix(0.6))
        .draw()
        .map_err(err)
}

/// Writes the price chart: last, mark and index, with liquidated notional bars by side below.
pub fn price_chart(s: &PriceSeries, png: Option<&Path>, svg: Option<&Path>) -> Result<(), ReportError> {
    render(png, svg, (1400, 900), |a| draw_price(a, s), |a| draw_price(a, s))
}

fn draw_price<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &PriceSeries) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (top, bottom) = root.split_vertically(620);
    let t_end = s.minutes.last().copied().unwrap_or(1.0).max(1.0);
    let all = s.last.iter().chain(&s.mark).chain(&s.index).copied();
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(1.0);
    let mut chart = ChartBuilder::on(&top)
        .caption("Price: last, mark, index", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..t_end, (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart.configure_mesh().y_desc("USD").draw().map_err(err)?;
    for (series, color, name) in
        [(&s.index, GREY_600, "index"), (&s.mark, BLUE_600, "mark"), (&s.last, BLACK, "last")]
    {
        chart
            .draw_series(LineSeries::new(
                s.minutes.iter().zip(series).map(|(&t, &p)| (t, p)),
                color.stroke_width(1),
            ))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    let max_usd =
        s.liquidated_long_usd.iter().chain(&s.liquidated_short_usd).copied().fold(0.0_f64, f64::max);
    let max_liq = max_usd.max(1.0) / 1e6;
    let caption = if max_usd > 0.0 {
        "Liquidated notional (USD M): shorts up, longs down"
    } else {
        "Liquidated notional: none in this run"
    };
    let mut bars = ChartBuilder::on(&bottom)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..t_end, -max_liq..max_liq)
        .map_err(err)?;
    // Magnitudes both ways (longs are drawn down), with as many decimals as the scale needs,
    // and no scale at all when nothing was liquidated.
    let decimals = if max_liq >= 10.0 { 0 } else { (1.0 - max_liq.log10()).ceil().clamp(1.0, 8.0) as usize };
    let magnitude = |v: &f64| format!("{:.*}", decimals, v.abs());
    let y_labels = if max_usd > 0.0 { 10 } else { 0 };
    bars.configure_mesh()
        .x_desc("minutes")
        .y_labels(y_labels)
        .y_label_formatter(&magnitude)
        .draw()
        .map_err(err)?;
    let w = if s.minutes.len() > 1 { s.minutes[1] - s.minutes[0] } else { 1.0 };
    bars.draw_series(
        s.minutes
            .iter()
            .zip(&s.liquidated_short_usd)
            .filter(|p| *p.1 > 0.0)
            .map(|(&t, &v)| Rectangle::new([(t, 0.0), (t + w, v / 1e6)], GREEN_600.filled())),
    )
    .map_err(err)?;
    bars.draw_series(
        s.minutes
            .iter()
            .zip(&s.liquidated_long_usd)
            .filter(|p| *p.1 > 0.0)
            .map(|(&t, &v)| Rectangle::new([(t, -v / 1e6), (t + w, 0.0)], RED_600.filled())),
    )
    .map_err(err)?;
    Ok(())
}

/// Writes the starting liquidation map: notional per price bucket (shorts above the price,
/// longs below), the current price, and cumulative curves away from it; and, when `stops` has
/// any, the stop orders per bucket beside the liquidations, in their own colour.
pub fn liquidation_map(
    bars: &[MapBar],
    stops: &[MapBar],
    bucket_usd: f64,
    price: f64,
    png: Option<&Path>,
    svg: Option<&Path>,
) -> Result<(), ReportError> {
    render(
        png,
        svg,
        (1400, 800),
        |a| draw_map(a, bars, stops, bucket_usd, price),
        |a| draw_map(a, bars, stops, bucket_usd, price),
    )
}

fn draw_map<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    bars: &[MapBar],
    stops: &[MapBar],
    bucket: f64,
    price: f64,
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let all = || bars.iter().chain(stops);
    let lo = all().map(|b| b.price).fold(price, f64::min) - bucket;
    let hi = all().map(|b| b.price + bucket).fold(price, f64::max) + bucket;
    let max = all().map(|b| b.notional_usd).fold(1.0_f64, f64::max) / 1e6;
    // Cumulative notional from the price outward, per side.
    let mut longs: Vec<_> = bars.iter().filter(|b| b.long).collect();
    longs.sort_by(|a, b| b.price.total_cmp(&a.price));
    let mut shorts: Vec<_> = bars.iter().filter(|b| !b.long).collect();
    shorts.sort_by(|a, b| a.price.total_cmp(&b.price));
    let cumulate = |v: &[&MapBar], top: bool| {
        let mut acc = 0.0;
        let mut out = vec![(price, 0.0)];
        // A staircase: flat across the gap to each bucket, then the step at its far edge.
        for b in v {
            let far = if top { b.price + bucket } else { b.price };
            out.push((far, acc));
            acc += b.notional_usd / 1e9;
            out.push((far, acc));
        }
        out
    };
    let (cum_long, cum_short) = (cumulate(&longs, false), cumulate(&shorts, true));
    let cum_max = cum_long.iter().chain(&cum_short).map(|p| p.1).fold(0.001_f64, f64::max);
    let mut chart = ChartBuilder::on(root)
        .caption("Liquidation map: notional by liquidation price", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(80)
        .right_y_label_area_size(80)
        .build_cartesian_2d(lo..hi, 0.0..max * 1.1)
        .map_err(err)?
        .set_secondary_coord(lo..hi, 0.0..cum_max * 1.1);
    chart
        .configure_mesh()
        .x_desc("liquidation price (USD)")
        .y_desc("USD M per bucket")
        .draw()
        .map_err(err)?;
    chart.configure_secondary_axes().y_desc("cumulative USD B").draw().map_err(err)?;
    // With stops, each bucket holds two bars side by side: liquidations, then stops.
    let width = if stops.is_empty() { 0.9 } else { 0.45 };
    chart
        .draw_series(bars.iter().map(|b| {
            let c = if b.long { RGBColor(220, 70, 70) } else { RGBColor(40, 160, 90) };
            Rectangle::new([(b.price, 0.0), (b.price + bucket * width, b.notional_usd / 1e6)], c.filled())
        }))
        .map_err(err)?;
    if !stops.is_empty() {
        for (long, name) in [(true, "long liquidations"), (false, "short liquidations")] {
            let c = if long { RGBColor(220, 70, 70) } else { RGBColor(40, 160, 90) };
            chart
                .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                .map_err(err)?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], c.filled()));
        }
        chart
            .draw_series(stops.iter().map(|b| {
                let x0 = b.price + bucket * 0.45;
                Rectangle::new([(x0, 0.0), (x0 + bucket * 0.45, b.notional_usd / 1e6)], STOP_COLOUR.filled())
            }))
            .map_err(err)?
            .label("stop orders (at their triggers)")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], STOP_COLOUR.filled()));
    }
    for (cum, color, name) in
        [(cum_long, RED_800, "cumulative longs"), (cum_short, GREEN_800, "cumulative shorts")]
    {
        chart
            .draw_secondary_series(LineSeries::new(cum, color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], color));
    }
    chart
        .draw_series(LineSeries::new([(price, 0.0), (price, max * 1.1)], BLACK.stroke_width(2)))
        .map_err(err)?
        .label(format!("price {price:.0}"))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
}
