//! The liquidation map a hunter reads: the exchange's own buckets, or an estimate drawn the way
//! heatmap vendors draw theirs: from where open interest was added (the price of each
//! open-interest increase, which is public) and an assumed leverage mix and long share (which
//! are not).

use crate::units::Side;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The map a hunter reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum MapView {
    /// The exchange's own liquidation buckets.
    #[default]
    Exact,
    /// A vendor-style estimate from the open interest added at each price (see
    /// [`estimate_map`]).
    Estimated(EstimateParams),
}

impl MapView {
    pub fn is_estimated(&self) -> bool {
        matches!(self, MapView::Estimated(_))
    }
}

/// One bucket of a liquidation map: positions of `side` (`Buy` = longs) liquidated from
/// `price_usd`, `notional_usd` of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapBucket {
    pub side: Side,
    pub price_usd: f64,
    pub notional_usd: f64,
}

/// The vendor-style estimator's assumptions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct EstimateParams {
    /// Assumed leverage buckets and their shares of open interest.
    pub leverage: Vec<(u32, f64)>,
    /// Share of open interest assumed long (vendors rarely know it; 0.5).
    pub long_share: f64,
    /// Each price where open interest was added is smeared uniformly over ±`entry_spread`
    /// (fraction) at `entry_points` prices (a vendor sees a candle's range, not the fill).
    pub entry_spread: f64,
    pub entry_points: u32,
    /// Log-normal noise on each bucket's notional (sigma), mean preserving.
    pub noise_sigma: f64,
    /// Maintenance margin rate assumed in the liquidation price.
    pub mmr: f64,
    pub bucket_usd: f64,
}

impl Default for EstimateParams {
    /// Leverage buckets 10/25/50/100x weighted 40/30/20/10 (the buckets Coinglass-style maps
    /// draw), half long, each entry smeared over ±2%, 30% noise, 0.4% MMR, $100 buckets.
    fn default() -> EstimateParams {
        EstimateParams {
            leverage: vec![(10, 0.4), (25, 0.3), (50, 0.2), (100, 0.1)],
            long_share: 0.5,
            entry_spread: 0.02,
            entry_points: 5,
            noise_sigma: 0.3,
            mmr: 0.004,
            bucket_usd: 100.0,
        }
    }
}

/// What a heatmap vendor would draw knowing only where open interest was added: `entries` is
/// (price, USD of open interest added there), one side's notional. Each is smeared over
/// ±`entry_spread`, split long/short by `long_share`, and each half spread over the leverage
/// buckets: a long at leverage L entered at e liquidates near e·(1 − 1/L + mmr), a short near
/// e·(1 + 1/L − mmr). Each bucket gets independent log-normal noise. Sorted by side, then price.
/// Entries with a price or size that is not positive and finite are skipped.
pub fn estimate_map(entries: &[(f64, f64)], p: &EstimateParams, rng: &mut impl Rng) -> Vec<MapBucket> {
    let mut out: Vec<MapBucket> = Vec::new();
    let total_w: f64 = p.leverage.iter().map(|&(_, w)| w.max(0.0)).sum();
    if total_w <= 0.0 {
        return out;
    }
    let points = p.entry_points.max(1);
    let bucket = if p.bucket_usd > 0.0 { p.bucket_usd } else { 100.0 };
    let spread = p.entry_spread.clamp(0.0, 0.5);
    let long_share = p.long_share.clamp(0.0, 1.0);
    let sigma = p.noise_sigma.max(0.0);
    let mut raw: Vec<(Side, i64, f64)> = Vec::new();
    let sound =
        |&&(price, usd): &&(f64, f64)| price > 0.0 && usd > 0.0 && price.is_finite() && usd.is_finite();
    for &(reference_usd, open_interest_usd) in entries.iter().filter(sound) {
        for k in 0..points {
            let f = if points == 1 { 0.0 } else { -spread + 2.0 * spread * k as f64 / (points - 1) as f64 };
            let entry = reference_usd * (1.0 + f);
            for &(lev, w) in &p.leverage {
                if lev == 0 || w <= 0.0 {
                    continue;
                }
                let inv = 1.0 / lev as f64;
                let each = open_interest_usd * w / total_w / points as f64;
                for (side, share, price) in [
                    (Side::Buy, long_share, entry * (1.0 - inv + p.mmr)),
                    (Side::Sell, 1.0 - long_share, entry * (1.0 + inv - p.mmr)),
                ] {
                    let z: f64 = StandardNormal.sample(rng);
                    let noise = (sigma * z - sigma * sigma / 2.0).exp();
                    if price > 0.0 {
                        raw.push((side, (price / bucket).floor() as i64, each * share * noise));
                    }
                }
            }
        }
    }
    raw.sort_by_key(|a| (side_key(a.0), a.1));
    for (side, b, n) in raw {
        let price_usd = b as f64 * bucket;
        match out.last_mut() {
            Some(last) if last.side == side && last.price_usd == price_usd => last.notional_usd += n,
            _ => out.push(MapBucket { side, price_usd, notional_usd: n }),
        }
    }
    out
}

fn side_key(s: Side) -> u8 {
    match s {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn the_estimated_map_puts_leverage_buckets_either_side_and_keeps_the_total() {
        let p = EstimateParams { noise_sigma: 0.0, ..EstimateParams::default() };
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        let m = estimate_map(&[(70_000.0, 10e9)], &p, &mut rng);
        let total: f64 = m.iter().map(|b| b.notional_usd).sum();
        assert!((total - 10e9).abs() < 1.0, "{total}");
        // 10x longs near 70K·(1 − 0.1 + 0.004) ≈ 63.3K, 100x shorts just above 70K.
        assert!(m.iter().any(|b| b.side == Side::Buy && (62_000.0..64_700.0).contains(&b.price_usd)));
        assert!(m.iter().any(|b| b.side == Side::Sell && (69_000.0..72_000.0).contains(&b.price_usd)));
        // Entries span 68.6K–71.4K: longs liquidate below the highest entry, shorts above the lowest.
        assert!(m.iter().all(|b| if b.side == Side::Buy {
            b.price_usd < 71_400.0
        } else {
            b.price_usd >= 69_000.0
        }));
        let noisy = estimate_map(&[(70_000.0, 10e9)], &EstimateParams::default(), &mut rng);
        assert_ne!(noisy, m);
        assert!(estimate_map(&[(70_000.0, -1.0)], &p, &mut rng).is_empty());
        assert!(estimate_map(&[(70_000.0, f64::NAN), (f64::INFINITY, 1e9)], &p, &mut rng).is_empty());
    }

    #[test]
    fn the_estimate_follows_where_open_interest_was_added_not_who_added_it() {
        // Open interest added at 60K and at 90K: a vendor draws each entry's clusters either
        // side of it, whoever holds the positions.
        let p = EstimateParams {
            noise_sigma: 0.0,
            entry_spread: 0.0,
            entry_points: 1,
            ..EstimateParams::default()
        };
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        let m = estimate_map(&[(60_000.0, 4e9), (90_000.0, 2e9)], &p, &mut rng);
        let near = |side: Side, price: f64| -> f64 {
            m.iter()
                .filter(|b| b.side == side && (b.price_usd - price).abs() < 200.0)
                .map(|b| b.notional_usd)
                .sum()
        };
        // 10x (40%): longs near e·0.904, shorts near e·1.096; half of each entry long.
        assert!((near(Side::Buy, 54_240.0) - 4e9 * 0.4 * 0.5).abs() < 1.0);
        assert!((near(Side::Sell, 65_760.0) - 4e9 * 0.4 * 0.5).abs() < 1.0);
        assert!((near(Side::Buy, 81_360.0) - 2e9 * 0.4 * 0.5).abs() < 1.0);
        assert!((near(Side::Sell, 98_640.0) - 2e9 * 0.4 * 0.5).abs() < 1.0);
        let total: f64 = m.iter().map(|b| b.notional_usd).sum();
        assert!((total - 6e9).abs() < 1.0, "{total}");
    }
}
