//! `belief.png`: the liquidation map a hunter believed (a heatmap vendor's estimate) beside the
//! exchange's own at the start, on one price axis and one scale, longs and shorts in their own
//! colours.

use super::ReportError;
use super::plots::render;
use crate::agents::hunter::MapBucket;
use crate::units::Side;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::full_palette::{GREEN_600, GREY_600, RED_600};
use std::path::Path;

/// What to draw: the exchange's map, the believed one (as the hunter reads it at the start: longs
/// below the price, shorts above), the start price and who believed it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BeliefMap {
    pub price: f64,
    pub truth: Vec<MapBucket>,
    pub believed: Vec<MapBucket>,
    /// e.g. "the hunting maker on account 9".
    pub who: String,
}

/// Bins across ±45% of the price.
const BINS: usize = 180;
const REACH: f64 = 0.45;

/// USD millions of longs and of shorts per bin, over `[lo, hi)`.
fn binned(map: &[MapBucket], lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>) {
    let (mut longs, mut shorts) = (vec![0.0; BINS], vec![0.0; BINS]);
    let w = (hi - lo) / BINS as f64;
    for b in map.iter().filter(|b| b.price_usd >= lo && b.price_usd < hi && b.notional_usd > 0.0) {
        let k = (((b.price_usd - lo) / w) as usize).min(BINS - 1);
        match b.side {
            Side::Buy => longs[k] += b.notional_usd / 1e6,
            Side::Sell => shorts[k] += b.notional_usd / 1e6,
        }
    }
    (longs, shorts)
}

/// Draws `b` into `png` (and `svg`): two panels, the exchange's map above, the believed one below.
pub fn belief_map(b: &BeliefMap, png: Option<&Path>, svg: Option<&Path>) -> Result<(), ReportError> {
    render(png, svg, (1400, 900), |a| draw(a, b), |a| draw(a, b))
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, b: &BeliefMap) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let (lo, hi) = (b.price * (1.0 - REACH), b.price * (1.0 + REACH));
    let panels = [
        ("the exchange's map at the start (what is there)", binned(&b.truth, lo, hi)),
        (
            &*format!("the map {} believed: a vendor-style estimate (who is long is a guess)", b.who),
            binned(&b.believed, lo, hi),
        ),
    ];
    let top =
        panels.iter().flat_map(|(_, (l, s))| l.iter().zip(s).map(|(a, b)| a + b)).fold(1.0_f64, f64::max)
            * 1.1;
    let w = (hi - lo) / BINS as f64;
    let areas = root.split_evenly((2, 1));
    for (area, (title, (longs, shorts))) in areas.iter().zip(&panels) {
        let mut chart = ChartBuilder::on(area)
            .caption(*title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(42)
            .y_label_area_size(70)
            .build_cartesian_2d(lo..hi, 0.0..top)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("liquidation price, USD")
            .y_desc("USD M per bin")
            .x_label_formatter(&|x| thousands(*x))
            .y_label_formatter(&|y| thousands(*y))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        // Stacked where a bin holds both: longs from 0, shorts on top of them.
        let none = vec![0.0; BINS];
        for (series, base, colour, label) in
            [(longs, &none, RED_600, "longs"), (shorts, longs, GREEN_600, "shorts")]
        {
            chart
                .draw_series(series.iter().zip(base).enumerate().filter(|(_, (v, _))| **v > 0.0).map(
                    |(k, (&v, &under))| {
                        let x = lo + k as f64 * w;
                        Rectangle::new([(x, under), (x + w * 0.9, under + v)], colour.filled())
                    },
                ))
                .map_err(err)?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
        }
        chart
            .draw_series(LineSeries::new([(b.price, 0.0), (b.price, top)], GREY_600.stroke_width(2)))
            .map_err(err)?
            .label(format!("price at the start, {}", thousands(b.price)))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], GREY_600.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

/// `71450.3` → `71,450`.
fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_keep_sides_apart_and_drop_what_is_out_of_range() {
        let m = [
            MapBucket { side: Side::Buy, price_usd: 60_000.0, notional_usd: 2e6 },
            MapBucket { side: Side::Sell, price_usd: 60_000.0, notional_usd: 3e6 },
            MapBucket { side: Side::Sell, price_usd: 10_000.0, notional_usd: 9e9 },
        ];
        let (l, s) = binned(&m, 46_000.0, 96_000.0);
        assert_eq!(l.iter().sum::<f64>(), 2.0);
        assert_eq!(s.iter().sum::<f64>(), 3.0);
        assert_eq!(l.iter().position(|v| *v > 0.0), s.iter().position(|v| *v > 0.0));
        assert_eq!(thousands(71_450.3), "71,450");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
    }
}
