//! Watch levels: for each price level of interest (the seed's 85K, 90K, 95K, 100K and their
//! mirrors below), whether price reached it, when, and what happened there — computed after the
//! run from the tick series and the liquidations in [`Metrics`].
//!
//! Verdicts, for a level above the start (mirrored for one below; "through" means further in the
//! direction of the crossing):
//! - `Accelerated`: a trade or the mark reached it, price velocity over `window_secs` after the
//!   first touch is through and above `accel_factor` × the velocity over the `window_secs` before, and
//!   liquidations were triggered within `band` of the level;
//! - `Absorbed`: reached it without that (the momentum flattened, or carried on unchanged);
//! - `Rejected`: never reached it, came within `band`, then reversed by at least `reversal`
//!   from its closest approach;
//! - `Untouched`: none of these.

use super::Metrics;
use serde::{Deserialize, Serialize};

/// The analysis windows and thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LevelRules {
    /// The velocity windows before and after the first touch, seconds (whole ticks, at least one).
    pub window_secs: u64,
    pub accel_factor: f64,
    /// Fraction of the level: "near" for liquidations and approaches.
    pub band: f64,
    /// Fraction of the level price must retreat from its closest approach to count as rejected.
    pub reversal: f64,
}

impl Default for LevelRules {
    /// One-minute windows, 1.5x acceleration, a 0.5% band, a 1% reversal.
    fn default() -> LevelRules {
        LevelRules { window_secs: 60, accel_factor: 1.5, band: 0.005, reversal: 0.01 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Accelerated,
    Absorbed,
    Rejected,
    Untouched,
}

/// One watch level's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelReport {
    /// The level, USD (`price` in summaries, as scripts expect).
    #[serde(rename = "price")]
    pub level: f64,
    pub touched: bool,
    pub first_tick: Option<u64>,
    pub verdict: Verdict,
    /// Velocity of last price through the level (positive = continuing through), % of the level
    /// per minute, over the window before and after the first touch.
    pub velocity_before_pct_min: f64,
    pub velocity_after_pct_min: f64,
    /// Liquidated notional with liquidation prices within `band` of the level, USD.
    pub liquidated_near_usd: f64,
    /// Closest approach of the traded range or mark, as a fraction of the level (0 once touched), and the
    /// tick of it.
    pub closest_gap: f64,
    pub closest_tick: u64,
}

/// Evaluates each level against the run so far. Ticks are one row each; `tick_secs` converts to
/// minutes.
pub fn evaluate(
    levels: &[f64],
    start: f64,
    m: &Metrics,
    rules: &LevelRules,
    tick_secs: u64,
) -> Vec<LevelReport> {
    levels
        .iter()
        .filter(|l| l.is_finite() && **l > 0.0)
        .map(|&l| one(l, start, m, rules, tick_secs))
        .collect()
}

fn one(level: f64, start: f64, m: &Metrics, r: &LevelRules, tick_secs: u64) -> LevelReport {
    let dir = if level >= start { 1.0 } else { -1.0 };
    let rows = &m.rows;
    // Progress toward the level: how far through (≥ 0 once reached) each row got, by the tick's
    // traded range (a trade at the level touches it, whatever the close) or its mark.
    let through = |i: usize| {
        let row = &rows[i];
        let best = if dir > 0.0 { row.high.max(row.mark) } else { row.low.min(row.mark) };
        (best - level) * dir
    };
    let first = (0..rows.len()).find(|&i| through(i) >= 0.0);
    let (mut closest_gap, mut closest_i) = (f64::INFINITY, 0usize);
    for i in 0..rows.len() {
        let gap = (-through(i)).max(0.0) / level;
        if gap < closest_gap {
            (closest_gap, closest_i) = (gap, i);
        }
    }
    if rows.is_empty() {
        closest_gap = ((level - start) * dir).max(0.0) / level;
    }
    let per_min = 60.0 / tick_secs.max(1) as f64;
    // The window in whole ticks, to the nearest (as validation converts durations), at least one.
    let t = tick_secs.max(1);
    let w = ((r.window_secs + t / 2) / t).max(1) as usize;
    let velocity = |a: usize, b: usize| -> f64 {
        if b <= a || b >= rows.len() {
            return 0.0;
        }
        (rows[b].last - rows[a].last) * dir / level * 100.0 / (b - a) as f64 * per_min
    };
    let (mut before, mut after) = (0.0, 0.0);
    if let Some(i) = first {
        let start_before = i.saturating_sub(w);
        before = if i > 0 { velocity(start_before, i) } else { 0.0 };
        let end_after = (i + w).min(rows.len().saturating_sub(1));
        after = velocity(i, end_after);
    }
    let near = |p: f64| (p - level).abs() <= r.band * level;
    let liquidated_near_usd: f64 =
        m.liquidation_usd.iter().filter(|(_, liq)| near(*liq)).fold(0.0, |acc, (usd, _)| acc + usd);
    let verdict = match first {
        Some(_) if after > 0.0 && after > r.accel_factor * before.max(0.0) && liquidated_near_usd > 0.0 => {
            Verdict::Accelerated
        }
        Some(_) => Verdict::Absorbed,
        None => {
            // The retreat is read on closes from the closest approach's tick on: a tick that
            // traded near the level and closed far back from it is a rejection (its wick).
            let approached = closest_gap <= r.band;
            let retreat = rows
                .iter()
                .skip(closest_i)
                .map(|row| (level - row.last) * dir / level - closest_gap)
                .fold(0.0f64, f64::max);
            if approached && retreat >= r.reversal { Verdict::Rejected } else { Verdict::Untouched }
        }
    };
    LevelReport {
        level,
        touched: first.is_some(),
        first_tick: first.map(|i| rows[i].tick),
        verdict,
        velocity_before_pct_min: before,
        velocity_after_pct_min: after,
        liquidated_near_usd,
        closest_gap: if first.is_some() { 0.0 } else { closest_gap },
        closest_tick: match first {
            Some(i) => rows[i].tick,
            None => rows.get(closest_i).map(|r| r.tick).unwrap_or(0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::TickRow;
    use crate::units::{Instrument, Side};

    fn metrics(path: &[f64], liqs: &[(usize, f64, f64)]) -> Metrics {
        let inst = Instrument::btcusdt();
        let mut m = Metrics::new(inst.price(path[0]).unwrap());
        for (t, &p) in path.iter().enumerate() {
            m.rows.push(TickRow {
                tick: t as u64 + 1,
                last: p,
                low: p,
                high: p,
                mark: p,
                index: p,
                volume_btc: 0.0,
                open_interest_btc: 0.0,
                liquidated_long_usd: 0.0,
                liquidated_short_usd: 0.0,
                insurance_fund_usd: 0.0,
                funding_rate: 0.0,
            });
        }
        for &(t, liq, usd) in liqs {
            let p = inst.price(liq).unwrap();
            m.liquidations.push((t as u64, Side::Sell, p, p));
            m.liquidation_usd.push((usd, liq));
        }
        m
    }

    #[test]
    fn verdicts_follow_the_path() {
        let r = LevelRules { window_secs: 10, ..LevelRules::default() };
        // Climbs 10/tick to 85,000, then 50/tick with liquidations at the level.
        let mut path: Vec<f64> = (0..100).map(|i| 84_010.0 + 10.0 * i as f64).collect();
        path.extend((1..50).map(|i| 85_000.0 + 50.0 * i as f64));
        let m = metrics(&path, &[(101, 85_050.0, 1e8)]);
        let rep = evaluate(&[85_000.0], 80_000.0, &m, &r, 1);
        assert_eq!(rep[0].verdict, Verdict::Accelerated, "{rep:?}");
        assert!(rep[0].velocity_after_pct_min > 3.0 * rep[0].velocity_before_pct_min);
        assert_eq!(rep[0].liquidated_near_usd, 1e8);
        // The same path with no liquidations there: absorbed (no forced flow behind it).
        let quiet = metrics(&path, &[]);
        assert_eq!(evaluate(&[85_000.0], 80_000.0, &quiet, &r, 1)[0].verdict, Verdict::Absorbed);
        // Up to 89,700 then back to 85,000: 90K rejected, 95K untouched.
        let mut back: Vec<f64> = (0..50).map(|i| 85_000.0 + 94.0 * i as f64).collect();
        back.extend((0..50).map(|i| 89_606.0 - 92.0 * i as f64));
        let m = metrics(&back, &[]);
        let rep = evaluate(&[90_000.0, 95_000.0], 85_000.0, &m, &r, 1);
        assert_eq!(rep[0].verdict, Verdict::Rejected, "{rep:?}");
        assert!(!rep[0].touched && rep[0].closest_gap < 0.005);
        assert_eq!(rep[1].verdict, Verdict::Untouched);
        // Mirror below: a fall through 60K is touched, first tick recorded.
        let down: Vec<f64> = (0..30).map(|i| 61_000.0 - 50.0 * i as f64).collect();
        let rep = evaluate(&[60_000.0], 61_000.0, &metrics(&down, &[]), &r, 1);
        assert!(rep[0].touched);
        assert_eq!(rep[0].first_tick, Some(21));
    }

    #[test]
    fn a_wick_within_a_tick_touches_a_level_its_close_never_reached() {
        let r = LevelRules::default();
        // Closes from 61,000 down to 60,100, where they stay; one tick traded down to 59,900.
        let path: Vec<f64> = (0..20).map(|i| 61_000.0 - 100.0 * (i as f64).min(9.0)).collect();
        let mut m = metrics(&path, &[]);
        assert!(!evaluate(&[60_000.0], 61_000.0, &m, &r, 1)[0].touched, "the closes stay above 60K");
        m.rows[12].low = 59_900.0;
        let rep = evaluate(&[60_000.0], 61_000.0, &m, &r, 1);
        assert!(rep[0].touched, "{rep:?}");
        assert_eq!(rep[0].first_tick, Some(13));
        assert_eq!(rep[0].closest_gap, 0.0);
    }

    #[test]
    fn the_velocity_windows_are_seconds_whatever_the_tick() {
        let r = LevelRules { window_secs: 10, ..LevelRules::default() };
        // Flat at 84,800 for 200 s, 20/s for 10 s to 85,000, then 50/s; sampled each second and
        // every other second.
        let at = |t: u64| match t {
            0..=200 => 84_800.0,
            201..=210 => 84_800.0 + 20.0 * (t - 200) as f64,
            _ => 85_000.0 + 50.0 * (t - 210) as f64,
        };
        let one: Vec<f64> = (1..=300).map(at).collect();
        let two: Vec<f64> = (1..=150).map(|k| at(2 * k)).collect();
        let a = &evaluate(&[85_000.0], 84_000.0, &metrics(&one, &[]), &r, 1)[0];
        let b = &evaluate(&[85_000.0], 84_000.0, &metrics(&two, &[]), &r, 2)[0];
        // 20/s and 50/s of 85,000, per minute, at both ticks (ten rows of the flat stretch in a
        // 2 s tick's window would halve the first).
        for rep in [a, b] {
            assert!((rep.velocity_before_pct_min - 20.0 * 60.0 / 850.0).abs() < 1e-9, "{rep:?}");
            assert!((rep.velocity_after_pct_min - 50.0 * 60.0 / 850.0).abs() < 1e-9, "{rep:?}");
        }
    }
}
