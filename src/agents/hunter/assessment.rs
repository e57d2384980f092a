//! What each direction offers a hunter now: the hunted-side liquidation notional in reach (fuel)
//! against what pushing price to the nearest dense cluster through the book would cost, and the
//! choice of direction for a new campaign.

use super::{Direction, HuntMode, HunterParams, MapBucket};
use serde::{Deserialize, Serialize};

/// What one direction offers now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    pub direction: Direction,
    /// Hunted-side liquidation notional within `max_distance`, each bucket weighted by
    /// 1 − distance/max_distance.
    pub fuel_usd: f64,
    /// The nearest price by which `cluster_usd` of hunted notional has accumulated, if within
    /// reach.
    pub target_usd: Option<f64>,
    /// Notional to take to push the touch to the target (visible book, extrapolated beyond).
    pub cost_usd: f64,
    pub ratio: f64,
}

/// Fuel, target and cost of `direction` from `price_usd`; `cost_to(target)` prices the push.
pub fn assess(
    map: &[MapBucket],
    price_usd: f64,
    direction: Direction,
    p: &HunterParams,
    cost_to: impl FnOnce(f64) -> f64,
) -> Assessment {
    let side = direction.hunted_side();
    let reach = p.max_distance.max(0.0);
    let mut near: Vec<(f64, f64, f64)> = Vec::new(); // (distance, price, notional)
    for b in map.iter().filter(|b| b.side == side && b.notional_usd > 0.0) {
        let d = (b.price_usd - price_usd) * direction.sign() / price_usd;
        if d >= 0.0 && d <= reach && d.is_finite() {
            near.push((d, b.price_usd, b.notional_usd));
        }
    }
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    let fuel_usd: f64 = near.iter().map(|&(d, _, n)| n * (1.0 - d / reach.max(f64::MIN_POSITIVE))).sum();
    let mut acc = 0.0;
    let mut target_usd = None;
    for &(_, price, n) in &near {
        acc += n;
        if acc >= p.cluster_usd {
            target_usd = Some(price);
            break;
        }
    }
    let cost_usd = target_usd.map(|t| cost_to(t).max(0.0)).unwrap_or(0.0);
    let ratio = if target_usd.is_some() { fuel_usd / cost_usd.max(1.0) } else { 0.0 };
    Assessment { direction, fuel_usd, target_usd, cost_usd, ratio }
}

/// The cost of moving the touch from `from_usd` to `target_usd` when the visible book on the path
/// holds `visible_usd` of liquidity out to `visible_edge_usd`: the visible part, plus the rest of
/// the way at the visible density (books are refilled as price moves; what is not shown yet is
/// assumed like what is).
pub fn path_cost(visible_usd: f64, from_usd: f64, visible_edge_usd: f64, target_usd: f64) -> f64 {
    let seen = (visible_edge_usd - from_usd).abs();
    let want = (target_usd - from_usd).abs();
    if seen <= 0.0 || want <= seen || !visible_usd.is_finite() {
        return visible_usd.max(0.0);
    }
    visible_usd.max(0.0) * want / seen
}

/// Picks the direction for a new campaign, or none. A team's direction, when given, overrides
/// the hunter's own mode (team-mates push together). `coin` is a uniform draw in [0, 1).
pub fn choose(
    p: &HunterParams,
    up: &Assessment,
    down: &Assessment,
    team: Option<Direction>,
    coin: f64,
) -> Option<Direction> {
    let has = |a: &Assessment| a.target_usd.is_some();
    let pick = match (team, p.mode) {
        (Some(d), _) => d,
        (None, HuntMode::Up) => Direction::Up,
        (None, HuntMode::Down) => Direction::Down,
        (None, HuntMode::Random) => {
            if coin < 0.5 {
                Direction::Up
            } else {
                Direction::Down
            }
        }
        (None, HuntMode::Adaptive) => match (has(up), has(down)) {
            (true, true) if up.ratio >= down.ratio => Direction::Up,
            (true, true) => Direction::Down,
            (true, false) => Direction::Up,
            (false, true) => Direction::Down,
            (false, false) => return None,
        },
    };
    let a = if pick == Direction::Up { up } else { down };
    let enough = team.is_some() || matches!(p.mode, HuntMode::Up | HuntMode::Down) || a.ratio >= p.min_ratio;
    (has(a) && enough).then_some(pick)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::Side;

    fn bucket(side: Side, price_usd: f64, notional_usd: f64) -> MapBucket {
        MapBucket { side, price_usd, notional_usd }
    }

    /// A book of `density` USD per USD of move in both directions.
    fn linear_cost(from: f64, density: f64) -> impl Fn(f64) -> f64 {
        move |t: f64| (t - from).abs() * density
    }

    /// The January 2025 shape: a small long cluster just below, a large short cluster far above.
    fn near_longs_far_shorts() -> Vec<MapBucket> {
        let mut m = Vec::new();
        for k in 0..30 {
            m.push(bucket(Side::Buy, 66_000.0 + 100.0 * k as f64, 50e6)); // $1.5B at 66–69K
        }
        for k in 0..70 {
            m.push(bucket(Side::Sell, 88_000.0 + 100.0 * k as f64, 86e6)); // $6B at 88–95K
        }
        m
    }

    #[test]
    fn fuel_weights_proximity_and_the_target_is_the_nearest_dense_point() {
        let p = HunterParams::default();
        let map = near_longs_far_shorts();
        let down = assess(&map, 71_450.0, Direction::Down, &p, linear_cost(71_450.0, 267e3));
        let up = assess(&map, 71_450.0, Direction::Up, &p, linear_cost(71_450.0, 267e3));
        // $250M of longs has gathered by 68,500 (counting down from 68,900).
        assert_eq!(down.target_usd, Some(68_500.0));
        assert!(down.fuel_usd > 1.0e9 && down.fuel_usd < 1.5e9, "{down:?}");
        assert!(up.fuel_usd < down.fuel_usd, "far fuel is discounted: {up:?}");
        assert!(up.target_usd.is_some_and(|t| (88_000.0..89_000.0).contains(&t)));
        assert!(down.ratio > 3.0 * up.ratio, "{down:?} vs {up:?}");
        assert_eq!(choose(&p, &up, &down, None, 0.0), Some(Direction::Down));
        // Mirror: large near shorts, small far longs → up.
        let mirror: Vec<MapBucket> = vec![
            bucket(Side::Sell, 74_000.0, 3e9),
            bucket(Side::Sell, 75_000.0, 3e9),
            bucket(Side::Buy, 52_000.0, 1.5e9),
        ];
        let up = assess(&mirror, 71_450.0, Direction::Up, &p, linear_cost(71_450.0, 267e3));
        let down = assess(&mirror, 71_450.0, Direction::Down, &p, linear_cost(71_450.0, 267e3));
        assert_eq!(choose(&p, &up, &down, None, 0.0), Some(Direction::Up));
        // Fixed modes and teams override; nothing in reach means no campaign.
        let up_only = HunterParams { mode: HuntMode::Down, ..p.clone() };
        assert_eq!(choose(&up_only, &up, &down, None, 0.0), Some(Direction::Down));
        assert_eq!(choose(&p, &up, &down, Some(Direction::Down), 0.0), Some(Direction::Down));
        let rnd = HunterParams { mode: HuntMode::Random, ..p.clone() };
        assert_eq!(choose(&rnd, &up, &down, None, 0.2), Some(Direction::Up));
        assert_eq!(choose(&rnd, &up, &down, None, 0.7), Some(Direction::Down));
        let none = assess(&[], 71_450.0, Direction::Up, &p, |_| 1.0);
        assert_eq!(choose(&p, &none, &none, None, 0.0), None);
    }

    #[test]
    fn path_cost_extrapolates_beyond_the_visible_book() {
        assert_eq!(path_cost(100.0, 70_000.0, 71_000.0, 70_500.0), 100.0);
        assert!((path_cost(100.0, 70_000.0, 71_000.0, 74_000.0) - 400.0).abs() < 1e-9);
        assert!((path_cost(100.0, 70_000.0, 69_000.0, 66_000.0) - 400.0).abs() < 1e-9);
        assert_eq!(path_cost(0.0, 70_000.0, 70_000.0, 80_000.0), 0.0);
    }
}
