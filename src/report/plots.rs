//! Pictures: the liquidation heatmap (price buckets × time, the way vendors draw it, with the
//! price path over it), the price chart with liquidation bars, and the starting liquidation map;
//! the heatmap and the map show pending stop orders beside the liquidations when a run has them.
//! Every picture names its scenario and seed, reads time as a clock from the start (HH:MM) and
//! prices with thousands separators, and explains every mark in a legend beside the data. A run
//! with nothing to draw (no leveraged positions) gets a picture that says so.
//! Drawn with plotters' pure-Rust backends and an embedded font, so no system library is needed.

use super::fmt::{clock_minutes, thousands, time_ticks, usd};
use super::{ReportError, atomic_path, finish_atomic};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::full_palette::{GREEN_600, GREEN_800, GREY_600, RED_600, RED_800};
use plotters::style::text_anchor::{HPos, Pos, VPos};
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
/// prices in bucket `b` (starting at `price_lo + b·bucket_usd`) at column `t`, `cells_long[t][b]`
/// the longs' part of it; `stops[t][b]`, when there are stops, the notional of the stop orders
/// waiting there.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Heatmap {
    /// What the picture is of: the scenario's name and seed ("btc_14_to_1, seed 42").
    pub title: String,
    /// Minutes since the start, one per column.
    pub minutes: Vec<f64>,
    pub price_lo: f64,
    pub bucket_usd: f64,
    pub cells: Vec<Vec<f64>>,
    /// The longs' share of `cells` (the rest is shorts'); empty means all of it is unsided and
    /// drawn as the side of the price it lies on.
    pub cells_long: Vec<Vec<f64>>,
    /// Pending stop orders by trigger, in the cells' grid (USD at their triggers); empty when
    /// the run has none.
    pub stops: Vec<Vec<f64>>,
    /// Last price at each column.
    pub path: Vec<f64>,
    /// Liquidations: (minute, price, long?).
    pub liquidations: Vec<(f64, f64, bool)>,
    /// Stops triggered: (minute, the price that reached the trigger).
    pub stop_triggers: Vec<(f64, f64)>,
    /// The scenario's watch levels (USD), drawn as dashed lines where they fall in the picture.
    pub watch_levels: Vec<f64>,
}

impl Heatmap {
    fn has_stops(&self) -> bool {
        self.stops.iter().flatten().any(|&v| v > 0.0) || !self.stop_triggers.is_empty()
    }

    fn is_empty(&self) -> bool {
        !self.cells.iter().flatten().any(|&v| v > 0.0) && self.liquidations.is_empty() && !self.has_stops()
    }

    /// The longs' part of cell (t, b): from `cells_long`, or by the side of the price.
    fn long_part(&self, t: usize, b: usize, v: f64) -> f64 {
        match self.cells_long.get(t).and_then(|c| c.get(b)) {
            Some(&l) => l,
            None => {
                let price = self.price_lo + (b as f64 + 0.5) * self.bucket_usd;
                if self.path.get(t).is_some_and(|&p| price < p) { v } else { 0.0 }
            }
        }
    }
}

/// One bar of the starting liquidation map (or of its stop orders).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapBar {
    pub price: f64,
    pub notional_usd: f64,
    /// Below the price: a long's liquidation, or a sell stop.
    pub long: bool,
    /// The accounts' leverage setting (0: not known, drawn as one colour).
    pub leverage: u32,
}

/// The colour of stop orders in every picture, apart from both sides' liquidations.
const STOP_COLOUR: RGBColor = RGBColor(190, 110, 255);
/// The heatmap's background.
const NIGHT: RGBColor = RGBColor(12, 8, 30);
/// Longs' and shorts' liquidations, in the marks of every picture.
const LONG_COLOUR: RGBColor = RGBColor(255, 70, 70);
const SHORT_COLOUR: RGBColor = RGBColor(60, 220, 120);

/// The price chart's series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PriceSeries {
    /// The scenario's name and seed.
    pub title: String,
    pub minutes: Vec<f64>,
    pub last: Vec<f64>,
    /// Each tick's lowest and highest trade (`last` where nothing traded): the wicks.
    pub low: Vec<f64>,
    pub high: Vec<f64>,
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

/// The time axis of a run of `t_end` minutes: labels on whole clock steps (every 1, 2, 5, …
/// minutes or whole hours), read as HH:MM from the start.
#[derive(Clone)]
pub(crate) struct TimeAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

pub(crate) fn time_axis(t_end: f64) -> TimeAxis {
    let t_end = t_end.max(1e-6);
    TimeAxis { inner: (0.0..t_end).into(), ticks: time_ticks(t_end, 13) }
}

impl Ranged for TimeAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for TimeAxis {
    fn format(value: &f64) -> String {
        clock_minutes(*value)
    }
}

/// A price axis label: whole dollars with separators, cents on a cheap asset.
pub(crate) fn price_label(v: f64, span: f64) -> String {
    thousands(v, if span >= 20.0 { 0 } else { 2 })
}

/// Compact USD for colour-bar ticks: "$1K", "$10M", "$1B".
fn usd_tick(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("${}B", v / 1e9),
        v if v >= 1e6 => format!("${}M", v / 1e6),
        v if v >= 1e3 => format!("${}K", v / 1e3),
        v => format!("${v}"),
    }
}

/// A picture that says there is nothing to draw, and why, instead of empty axes.
pub(crate) fn draw_nothing<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    lines: &[&str],
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (w, h) = root.dim_in_pixel();
    let centred = |size: i32, colour: &RGBColor| {
        ("sans-serif", size).into_font().color(colour).pos(Pos::new(HPos::Center, VPos::Center))
    };
    root.draw_text(title, &centred(26, &BLACK), (w as i32 / 2, h as i32 / 3)).map_err(err)?;
    for (i, line) in lines.iter().enumerate() {
        let y = h as i32 / 3 + 60 + 32 * i as i32;
        root.draw_text(line, &centred(18, &GREY_600), (w as i32 / 2, y)).map_err(err)?;
    }
    Ok(())
}

/// A legend drawn beside the data: one row per entry, its mark then its words.
pub(crate) enum Mark {
    Line(RGBColor, u32),
    Dashed(RGBColor),
    Dot(RGBColor),
    Triangle(RGBColor),
    Swatch(RGBColor),
}

pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    at: (i32, i32),
    entries: &[(Mark, String)],
    text: &RGBColor,
) -> Result<i32, String> {
    let (x, mut y) = at;
    let font = ("sans-serif", 14).into_font().color(text).pos(Pos::new(HPos::Left, VPos::Center));
    for (mark, words) in entries {
        match *mark {
            Mark::Line(c, w) => area.draw(&PathElement::new([(x, y), (x + 22, y)], c.stroke_width(w))),
            Mark::Dashed(c) => area
                .draw(&PathElement::new([(x, y), (x + 6, y)], c.stroke_width(2)))
                .and_then(|_| area.draw(&PathElement::new([(x + 9, y), (x + 14, y)], c.stroke_width(2))))
                .and_then(|_| area.draw(&PathElement::new([(x + 17, y), (x + 22, y)], c.stroke_width(2)))),
            Mark::Dot(c) => area
                .draw(&Circle::new((x + 11, y), 4, c.filled()))
                .and_then(|_| area.draw(&Circle::new((x + 11, y), 4, WHITE.stroke_width(1)))),
            Mark::Triangle(c) => area.draw(&TriangleMarker::new((x + 11, y), 6, c.filled())),
            Mark::Swatch(c) => area.draw(&Rectangle::new([(x, y - 6), (x + 22, y + 6)], c.filled())),
        }
        .map_err(err)?;
        // Long words wrap at a comma-free break: the legend is narrow.
        for (i, line) in words.split('\n').enumerate() {
            area.draw_text(line, &font, (x + 30, y + 17 * i as i32)).map_err(err)?;
        }
        y += 17 * words.split('\n').count() as i32 + 10;
    }
    Ok(y)
}

/// The heatmap's colour ramps, `t` in 0..=1 of the log scale: longs warm (dark red to pale
/// yellow), shorts cool (dark teal to pale green), as the map's red longs and green shorts.
fn ramp(long: bool, t: f64) -> RGBColor {
    const LONG: [(f64, [f64; 3]); 4] = [
        (0.0, [60.0, 10.0, 40.0]),
        (0.45, [175.0, 25.0, 60.0]),
        (0.8, [255.0, 120.0, 50.0]),
        (1.0, [255.0, 235.0, 140.0]),
    ];
    const SHORT: [(f64, [f64; 3]); 4] = [
        (0.0, [10.0, 40.0, 70.0]),
        (0.45, [0.0, 125.0, 125.0]),
        (0.8, [50.0, 205.0, 130.0]),
        (1.0, [215.0, 255.0, 190.0]),
    ];
    let stops = if long { &LONG } else { &SHORT };
    let t = t.clamp(0.0, 1.0);
    let i = stops.windows(2).position(|w| t <= w[1].0).unwrap_or(stops.len() - 2);
    let ((a, ca), (b, cb)) = (stops[i], stops[i + 1]);
    let f = if b > a { (t - a) / (b - a) } else { 0.0 };
    let mix = |k: usize| (ca[k] + (cb[k] - ca[k]) * f).round() as u8;
    RGBColor(mix(0), mix(1), mix(2))
}

/// Writes the liquidation heatmap.
pub fn heatmap(hm: &Heatmap, png: Option<&Path>, svg: Option<&Path>) -> Result<(), ReportError> {
    render(png, svg, (1500, 820), |a| draw_heatmap(a, hm), |a| draw_heatmap(a, hm))
}

fn draw_heatmap<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, hm: &Heatmap) -> DrawResult {
    if hm.is_empty() {
        return draw_nothing(
            root,
            &format!("Liquidation heatmap — {}", hm.title),
            &[
                "Nothing to draw: no leveraged position had a liquidation price within",
                "half to one and a half times the start price, and none was liquidated.",
                "(A scenario whose map has no bands — map: (bands: []) — has no leveraged accounts.)",
                "price.png shows the run's prices.",
            ],
        );
    }
    root.fill(&NIGHT).map_err(err)?;
    let (main, panel) = root.split_horizontally(1500 - 270);
    let buckets = hm.cells.first().map_or(0, Vec::len);
    let dt = if hm.minutes.len() > 1 { hm.minutes[1] - hm.minutes[0] } else { 1.0 };
    let t_end = hm.minutes.last().copied().unwrap_or(0.0) + dt;
    let p_lo = hm.price_lo;
    let p_hi = hm.price_lo + hm.bucket_usd * buckets.max(1) as f64;
    let white = |size| ("sans-serif", size).into_font().color(&WHITE);
    let mut chart = ChartBuilder::on(&main)
        .caption(format!("Liquidation heatmap — {}", hm.title), white(24))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(86)
        .build_cartesian_2d(time_axis(t_end), p_lo..p_hi)
        .map_err(err)?;
    let span = p_hi - p_lo;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("time from the start (HH:MM)")
        .y_desc("liquidation price (USD)")
        .x_label_formatter(&|m| clock_minutes(*m))
        .y_label_formatter(&|p| price_label(*p, span))
        .axis_style(WHITE.mix(0.6))
        .label_style(white(14))
        .axis_desc_style(white(15))
        .draw()
        .map_err(err)?;
    let max = hm.cells.iter().flatten().copied().fold(0.0_f64, f64::max).max(1.0);
    let scale = |v: f64| ((1.0 + v).ln() / (1.0 + max).ln()).clamp(0.0, 1.0);
    for (t, column) in hm.cells.iter().enumerate() {
        let x0 = hm.minutes.get(t).copied().unwrap_or(0.0);
        let cells = column.iter().enumerate().filter(|(_, v)| **v > 0.0).map(|(b, &v)| {
            let y0 = p_lo + b as f64 * hm.bucket_usd;
            // A bucket holding both sides takes the colour of the larger.
            let long = hm.long_part(t, b, v) * 2.0 >= v;
            Rectangle::new([(x0, y0), (x0 + dt, y0 + hm.bucket_usd)], ramp(long, scale(v)).filled())
        });
        chart.draw_series(cells).map_err(err)?;
    }
    let levels: Vec<f64> = hm.watch_levels.iter().copied().filter(|l| (p_lo..=p_hi).contains(l)).collect();
    for &level in &levels {
        chart
            .draw_series(DashedLineSeries::new(
                [(0.0, level), (t_end, level)],
                8,
                6,
                WHITE.mix(0.7).stroke_width(1),
            ))
            .map_err(err)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("watch {}", price_label(level, span)),
                (t_end * 0.005, level),
                white(13).pos(Pos::new(HPos::Left, VPos::Bottom)),
            )))
            .map_err(err)?;
    }
    // Segment by segment: a thick polyline's mitres shoot out where the price turns sharply.
    let path: Vec<(f64, f64)> = hm.minutes.iter().copied().zip(hm.path.iter().copied()).collect();
    chart
        .draw_series(path.windows(2).map(|w| PathElement::new(vec![w[0], w[1]], WHITE.stroke_width(2))))
        .map_err(err)?;
    chart
        .draw_series(hm.liquidations.iter().map(|&(t, p, long)| {
            let c = if long { LONG_COLOUR } else { SHORT_COLOUR };
            Circle::new((t, p), 3, c.filled())
        }))
        .map_err(err)?;
    if hm.has_stops() {
        draw_heatmap_stops(&mut chart, hm, dt)?;
    }
    // Beside the data: what each mark is, then the colour scale.
    let mut legend = vec![
        (Mark::Line(WHITE, 2), "last price".to_string()),
        (Mark::Dot(LONG_COLOUR), "a long liquidated\n(at the mark price)".to_string()),
        (Mark::Dot(SHORT_COLOUR), "a short liquidated\n(at the mark price)".to_string()),
    ];
    if !levels.is_empty() {
        legend.push((Mark::Dashed(WHITE), "watch level".to_string()));
    }
    if hm.has_stops() {
        legend
            .push((Mark::Swatch(STOP_COLOUR), "stop orders waiting\n(right third of a bucket)".to_string()));
        legend.push((Mark::Triangle(STOP_COLOUR), "stop orders (triangles: triggered)".to_string()));
    }
    let y = draw_legend(&panel, (8, 70), &legend, &WHITE)?;
    draw_colour_bars(&panel, y + 10, max, hm.bucket_usd)
}

/// Two colour bars, longs and shorts, on the heatmap's shared log scale, ticked in USD.
fn draw_colour_bars<DB: DrawingBackend>(
    panel: &DrawingArea<DB, Shift>,
    top: i32,
    max: f64,
    bucket: f64,
) -> DrawResult {
    let text = |size| ("sans-serif", size).into_font().color(&WHITE).pos(Pos::new(HPos::Left, VPos::Center));
    let words = [
        "Colour: liquidatable notional".to_string(),
        format!("per ${} price bucket,", thousands(bucket, if bucket >= 10.0 { 0 } else { 2 })),
        "log scale: ln(1 + USD)".to_string(),
    ];
    for (i, w) in words.iter().enumerate() {
        panel.draw_text(w, &text(14), (8, top + 17 * i as i32)).map_err(err)?;
    }
    let (_, h) = panel.dim_in_pixel();
    let (y0, y1) = (top + 17 * words.len() as i32 + 28, h as i32 - 60);
    if y1 - y0 < 60 {
        return Ok(());
    }
    panel.draw_text("longs", &text(13), (14, y0 - 14)).map_err(err)?;
    panel.draw_text("shorts", &text(13), (58, y0 - 14)).map_err(err)?;
    let scale = |v: f64| (1.0 + v).ln() / (1.0 + max).ln();
    let y_of = |t: f64| y1 - ((y1 - y0) as f64 * t).round() as i32;
    for px in y0..y1 {
        let t = (y1 - px) as f64 / (y1 - y0) as f64;
        for (x, long) in [(14, true), (58, false)] {
            panel.draw(&Rectangle::new([(x, px), (x + 34, px + 1)], ramp(long, t).filled())).map_err(err)?;
        }
    }
    let mut v = 1e3;
    while v <= max {
        let y = y_of(scale(v));
        panel.draw(&PathElement::new([(92, y), (100, y)], WHITE.stroke_width(1))).map_err(err)?;
        panel.draw_text(&usd_tick(v), &text(13), (104, y)).map_err(err)?;
        v *= 10.0;
    }
    panel.draw_text(&format!("top: {}", usd(max)), &text(13), (110, y0)).map_err(err)?;
    panel.draw_text("$0 (none): background", &text(13), (14, y1 + 16)).map_err(err)
}

/// Stop clusters beside the liquidation clusters: in each column the right third of a bucket
/// holding stops, violet, its opacity by the stops' notional; each stop that triggered a violet
/// triangle (the legend beside the picture tells them apart).
fn draw_heatmap_stops<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<TimeAxis, RangedCoordf64>>,
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
    Ok(())
}

/// Writes the price chart: last, mark and index, with liquidated notional bars by side below.
pub fn price_chart(s: &PriceSeries, png: Option<&Path>, svg: Option<&Path>) -> Result<(), ReportError> {
    render(png, svg, (1500, 900), |a| draw_price(a, s), |a| draw_price(a, s))
}

/// Liquidated USD summed into bars of `width` minutes (one minute, or wider on a long run so a
/// bar stays at least about three pixels wide): (bar start, USD).
fn per_bin(minutes: &[f64], usd: &[f64], width: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (&t, &v) in minutes.iter().zip(usd).filter(|p| *p.1 > 0.0) {
        let start = (t / width).floor() * width;
        match out.last_mut() {
            Some(last) if last.0 == start => last.1 += v,
            _ => out.push((start, v)),
        }
    }
    out
}

fn draw_price<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, s: &PriceSeries) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (left, panel) = root.split_horizontally(1500 - 230);
    let (top, bottom) = left.split_vertically(600);
    let t_end = s.minutes.last().copied().unwrap_or(1.0).max(1.0);
    let all = s.last.iter().chain(&s.low).chain(&s.high).chain(&s.mark).chain(&s.index).copied();
    let (lo, hi) = all.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-4).max(1e-6);
    let span = hi - lo + 2.0 * pad;
    let mut chart = ChartBuilder::on(&top)
        .caption(format!("Prices — {}", s.title), ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(86)
        .build_cartesian_2d(time_axis(t_end), (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .y_desc("USD")
        .x_label_formatter(&|m| clock_minutes(*m))
        .y_label_formatter(&|p| price_label(*p, span))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    // Under each other, widest first, so each stays visible where they coincide: the index a
    // broad orange band, the mark a blue line, the last price a thin black line on top.
    let index = RGBColor(255, 150, 0);
    let mark = RGBColor(30, 90, 230);
    // Thick lines go segment by segment: plotters joins a thick polyline with mitres, which
    // shoot far out of the chart where a price reverses within a tick or two.
    for (series, style) in [(&s.index, index.mix(0.55).stroke_width(6)), (&s.mark, mark.stroke_width(2))] {
        let points: Vec<(f64, f64)> = s.minutes.iter().copied().zip(series.iter().copied()).collect();
        chart
            .draw_series(points.windows(2).map(|w| PathElement::new(vec![w[0], w[1]], style)))
            .map_err(err)?;
    }
    // A tick whose trades went beyond where it closed: its range, a grey stroke under the last
    // price (a watch level is touched by a trade, so a wick that reaches it shows here).
    let wick = RGBColor(110, 110, 110);
    let ranges = s.minutes.iter().zip(s.low.iter().zip(&s.high)).zip(&s.last);
    let wicks: Vec<(f64, f64, f64)> = ranges
        .filter(|((_, (lo, hi)), last)| lo < last || hi > last)
        .map(|((&t, (&lo, &hi)), _)| (t, lo, hi))
        .collect();
    chart
        .draw_series(
            wicks.iter().map(|&(t, lo, hi)| PathElement::new(vec![(t, lo), (t, hi)], wick.stroke_width(1))),
        )
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            s.minutes.iter().zip(&s.last).map(|(&t, &p)| (t, p)),
            BLACK.stroke_width(1),
        ))
        .map_err(err)?;
    let width = (t_end / 400.0).max(1.0).ceil();
    let unit = if width == 1.0 { "minute".to_string() } else { format!("{width:.0} minutes") };
    let shorts = per_bin(&s.minutes, &s.liquidated_short_usd, width);
    let longs = per_bin(&s.minutes, &s.liquidated_long_usd, width);
    let max_usd = shorts.iter().chain(&longs).map(|b| b.1).fold(0.0_f64, f64::max);
    let max_liq = max_usd.max(1.0) / 1e6 * 1.08;
    let caption = if max_usd > 0.0 {
        format!("Liquidated notional, $M per {unit}: shorts up, longs down")
    } else {
        "Liquidated notional: none in this run".to_string()
    };
    let mut bars = ChartBuilder::on(&bottom)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(86)
        .build_cartesian_2d(time_axis(t_end), -max_liq..max_liq)
        .map_err(err)?;
    // Magnitudes both ways (longs are drawn down), with as many decimals as the scale needs,
    // and no scale at all when nothing was liquidated.
    let decimals = if max_liq >= 10.0 { 0 } else { (1.0 - max_liq.log10()).ceil().clamp(1.0, 8.0) as usize };
    let magnitude = |v: &f64| format!("${}M", thousands(v.abs(), decimals));
    let y_labels = if max_usd > 0.0 { 9 } else { 0 };
    bars.configure_mesh()
        .x_desc("time from the start (HH:MM)")
        .y_desc(format!("$M per {unit}"))
        .x_label_formatter(&|m| clock_minutes(*m))
        .y_labels(y_labels)
        .y_label_formatter(&magnitude)
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    let w = width * 0.9;
    bars.draw_series(
        shorts.iter().map(|&(t, v)| Rectangle::new([(t, 0.0), (t + w, v / 1e6)], GREEN_600.filled())),
    )
    .map_err(err)?;
    bars.draw_series(
        longs.iter().map(|&(t, v)| Rectangle::new([(t, -v / 1e6), (t + w, 0.0)], RED_600.filled())),
    )
    .map_err(err)?;
    let biggest = |b: &[(f64, f64)]| b.iter().copied().max_by(|x, y| x.1.total_cmp(&y.1));
    let mut legend = vec![
        (Mark::Line(BLACK, 1), "last price (trades)".to_string()),
        (Mark::Line(mark, 2), "mark price\n(what liquidates)".to_string()),
        (Mark::Line(RGBColor(255, 190, 110), 6), "index (spot venues)".to_string()),
    ];
    if !wicks.is_empty() {
        legend.insert(
            1,
            (Mark::Line(wick, 1), "a tick's range of\ntrades, where it\nwent past its close".to_string()),
        );
    }
    legend.push((Mark::Swatch(GREEN_600), "shorts liquidated".to_string()));
    legend.push((Mark::Swatch(RED_600), "longs liquidated".to_string()));
    let y = draw_legend(&panel, (10, 60), &legend, &BLACK)?;
    let text = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let mut y = y + 10;
    for (name, b) in [("longs", biggest(&longs)), ("shorts", biggest(&shorts))] {
        if let Some((t, v)) = b {
            for line in [format!("biggest {unit} of {name}:"), format!("{} at {}", usd(v), clock_minutes(t))]
            {
                panel.draw_text(&line, &text, (10, y)).map_err(err)?;
                y += 17;
            }
            y += 6;
        }
    }
    Ok(())
}

/// A colour per leverage setting, low to high (no violet: that is the stop orders').
const LEVERAGE_PALETTE: [RGBColor; 8] = [
    RGBColor(120, 170, 230),
    RGBColor(60, 110, 200),
    RGBColor(90, 180, 120),
    RGBColor(230, 190, 60),
    RGBColor(240, 130, 50),
    RGBColor(210, 60, 60),
    RGBColor(140, 90, 50),
    RGBColor(70, 70, 70),
];

/// The leverage classes the map's stacks show: each setting on its own when there are few,
/// otherwise ranges: (lowest, highest) of each class.
fn leverage_classes(bars: &[MapBar]) -> Vec<(u32, u32)> {
    let mut settings: Vec<u32> = bars.iter().map(|b| b.leverage).collect();
    settings.sort_unstable();
    settings.dedup();
    if settings.len() <= LEVERAGE_PALETTE.len() {
        return settings.into_iter().map(|l| (l, l)).collect();
    }
    let edges = [(0, 2), (3, 5), (6, 10), (11, 20), (21, 25), (26, 50), (51, 75), (76, u32::MAX)];
    edges.into_iter().filter(|&(a, b)| settings.iter().any(|l| (a..=b).contains(l))).collect()
}

fn class_name((a, b): (u32, u32)) -> String {
    match (a, b) {
        (0, 0) => "liquidations".to_string(),
        (a, b) if a == b => format!("{a}x"),
        (a, u32::MAX) => format!("{a}x and more"),
        (a, b) => format!("{a}–{b}x"),
    }
}

/// Writes the starting liquidation map: notional per price bucket stacked by leverage setting,
/// longs below the price and shorts above, each side on its own scale (with its total written
/// large, so the imbalance still reads), and cumulative curves away from the price; and, when
/// `stops` has any, the stop orders per bucket beside the liquidations, in their own colour.
pub fn liquidation_map(
    title: &str,
    bars: &[MapBar],
    stops: &[MapBar],
    bucket_usd: f64,
    price: f64,
    png: Option<&Path>,
    svg: Option<&Path>,
) -> Result<(), ReportError> {
    let m = MapPicture { title, bars, stops, bucket: bucket_usd, price };
    render(png, svg, (1500, 820), |a| draw_map(a, &m), |a| draw_map(a, &m))
}

struct MapPicture<'a> {
    title: &'a str,
    bars: &'a [MapBar],
    stops: &'a [MapBar],
    bucket: f64,
    price: f64,
}

fn draw_map<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, m: &MapPicture) -> DrawResult {
    let title = format!("Liquidation map at the start — {}", m.title);
    if m.bars.is_empty() && m.stops.is_empty() {
        return draw_nothing(
            root,
            &title,
            &[
                "Nothing to draw: no leveraged position had a liquidation price within",
                "half to one and a half times the start price.",
                "(A scenario whose map has no bands — map: (bands: []) — has no leveraged accounts.)",
            ],
        );
    }
    root.fill(&WHITE).map_err(err)?;
    let (title_area, rest) = root.split_vertically(44);
    title_area
        .draw_text(
            &title,
            &("sans-serif", 24).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
            (title_area.dim_in_pixel().0 as i32 / 2, 24),
        )
        .map_err(err)?;
    let (plots, panel) = rest.split_horizontally(1500 - 280);
    let classes = leverage_classes(m.bars);
    let all = || m.bars.iter().chain(m.stops);
    let lo = all().filter(|b| b.long).map(|b| b.price).fold(m.price, f64::min) - m.bucket;
    let hi = all().filter(|b| !b.long).map(|b| b.price + m.bucket).fold(m.price, f64::max) + m.bucket;
    // Each side gets its width in proportion to its price span, so the price axis keeps one
    // scale across both; at least a fifth each.
    let (w, _) = plots.dim_in_pixel();
    let share = ((m.price - lo) / (hi - lo)).clamp(0.2, 0.8);
    let (left, right) = plots.split_horizontally((w as f64 * share) as u32);
    let mut totals = Vec::new();
    for (area, long) in [(&left, true), (&right, false)] {
        totals.push(draw_map_side(
            area,
            m,
            &classes,
            long,
            if long { (lo, m.price) } else { (m.price, hi) },
        )?);
    }
    let mut legend: Vec<(Mark, String)> = classes
        .iter()
        .enumerate()
        .map(|(i, &c)| (Mark::Swatch(LEVERAGE_PALETTE[i % LEVERAGE_PALETTE.len()]), class_name(c)))
        .collect();
    if !m.stops.is_empty() {
        legend.push((Mark::Swatch(STOP_COLOUR), "stop orders (at their triggers)".to_string()));
    }
    legend.push((Mark::Line(RED_800, 2), "cumulative longs\n(from the price down)".to_string()));
    legend.push((Mark::Line(GREEN_800, 2), "cumulative shorts\n(from the price up)".to_string()));
    legend.push((Mark::Line(BLACK, 2), format!("price {}", thousands(m.price, 0))));
    let font = ("sans-serif", 15).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    panel.draw_text("Leverage setting", &font, (10, 40)).map_err(err)?;
    // The two sides' scales differ (read each axis); their totals say how they compare.
    let note = ("sans-serif", 13).into_font().color(&GREY_600).pos(Pos::new(HPos::Left, VPos::Center));
    let y = draw_legend(&panel, (10, 66), &legend, &BLACK)?;
    let bold = ("sans-serif", 16).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    // The larger side first: "shorts : longs = 15.6 : 1", "longs : shorts = 6.0 : 1".
    let ratio = match (totals[0], totals[1]) {
        (l, s) if l > 0.0 && s >= l => format!("shorts : longs = {:.1} : 1", s / l),
        (l, s) if s > 0.0 && l > s => format!("longs : shorts = {:.1} : 1", l / s),
        _ => String::new(),
    };
    for (i, line) in
        [format!("longs  {}", usd(totals[0])), format!("shorts {}", usd(totals[1])), ratio].iter().enumerate()
    {
        panel.draw_text(line, &bold, (10, y + 20 + 22 * i as i32)).map_err(err)?;
    }
    for (i, line) in ["Each side has its own scale:", "read its axes; the totals", "above compare them."]
        .iter()
        .enumerate()
    {
        panel.draw_text(line, &note, (10, y + 100 + 17 * i as i32)).map_err(err)?;
    }
    Ok(())
}

/// One side of the map on its own scale; returns the side's total notional.
fn draw_map_side<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    m: &MapPicture,
    classes: &[(u32, u32)],
    long: bool,
    (x_lo, x_hi): (f64, f64),
) -> Result<f64, String> {
    let bars: Vec<&MapBar> = m.bars.iter().filter(|b| b.long == long).collect();
    let stops: Vec<&MapBar> = m.stops.iter().filter(|b| b.long == long).collect();
    // Per bucket: the stack's height.
    let mut heights: Vec<(f64, f64)> = Vec::new();
    for b in &bars {
        match heights.iter_mut().find(|h| h.0 == b.price) {
            Some(h) => h.1 += b.notional_usd,
            None => heights.push((b.price, b.notional_usd)),
        }
    }
    let max =
        heights.iter().map(|h| h.1).chain(stops.iter().map(|s| s.notional_usd)).fold(1.0_f64, f64::max) / 1e6;
    // Cumulative notional from the price outward.
    heights.sort_by(|a, b| if long { b.0.total_cmp(&a.0) } else { a.0.total_cmp(&b.0) });
    let mut acc = 0.0;
    let mut cum = vec![(m.price, 0.0)];
    // A staircase: flat across the gap to each bucket, then the step at its far edge.
    for &(p, v) in &heights {
        let far = if long { p } else { p + m.bucket };
        cum.push((far, acc));
        acc += v / 1e9;
        cum.push((far, acc));
    }
    cum.push((if long { x_lo } else { x_hi }, acc));
    let total = acc * 1e9;
    let cum_max = (acc * 1.1).max(1e-3);
    let side = if long { "Longs below" } else { "Shorts above the price" };
    let caption = format!("{side}: {}", usd(total));
    let mut builder = ChartBuilder::on(area);
    builder.caption(caption, ("sans-serif", 17)).margin(10).x_label_area_size(40);
    // The per-bucket scale on the outer edge, the cumulative one on the inner edge.
    if long {
        builder.y_label_area_size(76).right_y_label_area_size(60);
    } else {
        builder.y_label_area_size(60).right_y_label_area_size(76);
    }
    let (primary, secondary) = if long { (max * 1.1, cum_max) } else { (cum_max, max * 1.1) };
    let mut chart = builder
        .build_cartesian_2d(x_lo..x_hi, 0.0..primary)
        .map_err(err)?
        .set_secondary_coord(x_lo..x_hi, 0.0..secondary);
    let span = x_hi - x_lo;
    let bucket_words =
        format!("$M per ${} bucket", thousands(m.bucket, if m.bucket >= 10.0 { 0 } else { 2 }));
    let cum_words = "cumulative, $B";
    let fmt_m = |v: &f64| thousands(*v, if max >= 10.0 { 0 } else { 1 });
    let fmt_b = |v: &f64| thousands(*v, if cum_max >= 10.0 { 0 } else { 1 });
    let fmt_p = |p: &f64| price_label(*p, span);
    let mut mesh = chart.configure_mesh();
    mesh.x_desc("liquidation price (USD)").x_label_formatter(&fmt_p).x_labels(if long { 5 } else { 8 });
    if long {
        mesh.y_desc(bucket_words.as_str()).y_label_formatter(&fmt_m);
    } else {
        mesh.y_desc(cum_words).y_label_formatter(&fmt_b);
    }
    mesh.light_line_style(WHITE).draw().map_err(err)?;
    // The secondary axes carry the other scale; on the short side the two swap so that the
    // per-bucket scale sits on the outer edge (see above).
    if long {
        chart.configure_secondary_axes().y_desc(cum_words).y_label_formatter(&fmt_b).draw().map_err(err)?;
    } else {
        chart
            .configure_secondary_axes()
            .y_desc(bucket_words.as_str())
            .y_label_formatter(&fmt_m)
            .draw()
            .map_err(err)?;
    }
    // Stacks by leverage class; with stops, each bucket holds two bars: liquidations, then stops.
    let width = if m.stops.is_empty() { 0.9 } else { 0.45 };
    let class_of = |lev: u32| classes.iter().position(|&(a, b)| (a..=b).contains(&lev)).unwrap_or(0);
    let mut stacked: Vec<(f64, f64)> = Vec::new();
    let mut sorted = bars.clone();
    sorted.sort_by_key(|b| b.leverage);
    let mut rects = Vec::new();
    for b in sorted {
        let base = match stacked.iter_mut().find(|s| s.0 == b.price) {
            Some(s) => {
                let base = s.1;
                s.1 += b.notional_usd / 1e6;
                base
            }
            None => {
                stacked.push((b.price, b.notional_usd / 1e6));
                0.0
            }
        };
        let colour = LEVERAGE_PALETTE[class_of(b.leverage) % LEVERAGE_PALETTE.len()];
        rects.push(Rectangle::new(
            [(b.price, base), (b.price + m.bucket * width, base + b.notional_usd / 1e6)],
            colour.filled(),
        ));
    }
    let stop_rects: Vec<_> = stops
        .iter()
        .map(|b| {
            let x0 = b.price + m.bucket * 0.45;
            Rectangle::new([(x0, 0.0), (x0 + m.bucket * 0.45, b.notional_usd / 1e6)], STOP_COLOUR.filled())
        })
        .collect();
    let line = if long { RED_800 } else { GREEN_800 };
    let price_line = [(m.price, 0.0), (m.price, max * 1.1)];
    if long {
        chart.draw_series(rects).map_err(err)?;
        chart.draw_series(stop_rects).map_err(err)?;
        chart.draw_secondary_series(LineSeries::new(cum, line.stroke_width(2))).map_err(err)?;
        chart.draw_series(LineSeries::new(price_line, BLACK.stroke_width(2))).map_err(err)?;
    } else {
        // The primary coordinates are the cumulative scale here: draw the bars on the secondary.
        chart.draw_secondary_series(rects).map_err(err)?;
        chart.draw_secondary_series(stop_rects).map_err(err)?;
        chart.draw_series(LineSeries::new(cum, line.stroke_width(2))).map_err(err)?;
        chart.draw_secondary_series(LineSeries::new(price_line, BLACK.stroke_width(2))).map_err(err)?;
    }
    Ok(total)
}

/// The colours of compared folders (A, B, C, …), in order: distinct on white and for the
/// commonest colour blindness (blue, orange, then green, purple, brown, grey).
pub(crate) const SERIES: [RGBColor; 6] = [
    RGBColor(31, 100, 200),
    RGBColor(240, 120, 0),
    RGBColor(40, 150, 60),
    RGBColor(150, 80, 180),
    RGBColor(140, 90, 50),
    RGBColor(90, 90, 90),
];

/// One run of an overlaid price chart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PathLayer {
    /// "A: btc_14_to_1, seed 42".
    pub label: String,
    pub minutes: Vec<f64>,
    pub last: Vec<f64>,
    /// Liquidated notional at each point (longs and shorts), USD.
    pub liquidated_usd: Vec<f64>,
}

/// Writes runs' last prices overlaid, with their cumulative liquidated notional below (`liqsim
/// compare` of run folders).
pub fn price_overlay(layers: &[PathLayer], png: &Path) -> Result<(), ReportError> {
    render(Some(png), None, (1500, 900), |a| draw_price_overlay(a, layers), |_| Ok(()))
}

fn draw_price_overlay<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, layers: &[PathLayer]) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let (left, panel) = root.split_horizontally(1500 - 260);
    let (top, bottom) = left.split_vertically(580);
    let t_end = layers.iter().filter_map(|l| l.minutes.last().copied()).fold(1.0, f64::max);
    let prices = layers.iter().flat_map(|l| l.last.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = prices.fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo <= hi { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.05).max(hi.abs() * 1e-4).max(1e-6);
    let span = hi - lo + 2.0 * pad;
    let mut chart = ChartBuilder::on(&top)
        .caption("Last price — the runs overlaid", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(30)
        .y_label_area_size(86)
        .build_cartesian_2d(time_axis(t_end), (lo - pad)..(hi + pad))
        .map_err(err)?;
    chart
        .configure_mesh()
        .y_desc("USD")
        .x_label_formatter(&|m| clock_minutes(*m))
        .y_label_formatter(&|p| price_label(*p, span))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    let cumulative: Vec<Vec<f64>> = layers
        .iter()
        .map(|l| {
            l.liquidated_usd
                .iter()
                .scan(0.0, |sum, v| {
                    *sum += v;
                    Some(*sum / 1e6)
                })
                .collect()
        })
        .collect();
    for (i, l) in layers.iter().enumerate() {
        let c = SERIES[i % SERIES.len()];
        chart
            .draw_series(LineSeries::new(
                l.minutes.iter().copied().zip(l.last.iter().copied()),
                c.stroke_width(2),
            ))
            .map_err(err)?;
    }
    let max_liq = cumulative.iter().flatten().copied().fold(0.0_f64, f64::max);
    let caption = if max_liq > 0.0 {
        "Liquidated notional so far (longs and shorts), $M"
    } else {
        "Liquidated notional: none in these runs"
    };
    let top_liq = max_liq.max(1e-6) * 1.08;
    let mut bars = ChartBuilder::on(&bottom)
        .caption(caption, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(86)
        .build_cartesian_2d(time_axis(t_end), 0.0..top_liq)
        .map_err(err)?;
    let decimals = if top_liq >= 10.0 { 0 } else { (1.0 - top_liq.log10()).ceil().clamp(1.0, 8.0) as usize };
    bars.configure_mesh()
        .x_desc("time from the start (HH:MM)")
        .y_desc("$M")
        .x_label_formatter(&|m| clock_minutes(*m))
        .y_labels(if max_liq > 0.0 { 7 } else { 0 })
        .y_label_formatter(&|v| format!("${}M", thousands(*v, decimals)))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    for (i, (l, cum)) in layers.iter().zip(&cumulative).enumerate() {
        let c = SERIES[i % SERIES.len()];
        bars.draw_series(LineSeries::new(
            l.minutes.iter().copied().zip(cum.iter().copied()),
            c.stroke_width(2),
        ))
        .map_err(err)?;
    }
    let legend: Vec<(Mark, String)> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let total = cumulative[i].last().copied().unwrap_or(0.0) * 1e6;
            let last = l.last.last().copied().unwrap_or(f64::NAN);
            (
                Mark::Line(SERIES[i % SERIES.len()], 3),
                format!(
                    "{}\nends at {}\nliquidated {}",
                    wrap_label(&l.label),
                    price_label(last, span),
                    usd(total)
                ),
            )
        })
        .collect();
    draw_legend(&panel, (10, 60), &legend, &BLACK)?;
    Ok(())
}

/// A legend label split at ", " so it fits the narrow legend column.
pub(crate) fn wrap_label(label: &str) -> String {
    label.replacen(", ", ",\n", 1)
}
