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
    /// What a campaign this way is expected to earn (USD), by [`expected_pnl`]; only an
    /// `Expected` hunter works it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<Expectation>,
}

/// A campaign's expected outcome by the hunter's own model of the book ([`expected_pnl`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Whether its pace outruns the book's refill all the way to the target.
    pub reachable: bool,
    /// What it expects to take on the way (USD), refill included.
    pub push_usd: f64,
    /// Hunted notional it expects the cascade to force into the book (USD), and the price the
    /// cascade carries the touch to.
    pub forced_usd: f64,
    pub peak_usd: f64,
    pub pnl_usd: f64,
}

/// How a hunter models the book it pushes: the depth it sees refills with `half_life_ticks`
/// (the liquidity provider's refill), what the cascade leaves of the move while it unwinds the
/// rest is `retention`, and it pays `fee` (a fraction: the venue's taker fee) on what it trades.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BookModel {
    pub half_life_ticks: f64,
    pub retention: f64,
    pub fee: f64,
}

impl BookModel {
    /// The hunter's assumptions at a venue charging `fee`.
    pub fn of(p: &HunterParams, fee: f64) -> BookModel {
        BookModel { half_life_ticks: p.book_half_life_ticks, retention: p.unwind_retention, fee }
    }
}

/// The expected PnL of a campaign from `price_usd` toward the assessment's target, when the book
/// holds `density` USD of liquidity per USD of price (the visible book's, as `cost_usd` prices
/// it):
///
/// - **Push.** Taking at `pace` a tick against depth that refills with half-life h, the deficit
///   X it has taken grows as dX/dt = pace − X·ln2/h and stops at X* = pace·h/ln2: the touch can
///   be held no further than X*/D. Pushing a distance Δ (a deficit DΔ < X*) takes
///   S = −X*·ln(1 − DΔ/X*); it is reachable when DΔ < X* and S is within the budget and the
///   inventory room. The book's DΔ is bought on average at P0 + Δ/2, the refill at the far touch.
/// - **Cascade.** From the target on, the hunted positions are forced into the book, and each
///   USD of it moves the touch 1/D further: the cascade runs on while the hunted notional
///   reached so far outruns the distance (within `max_distance`), to a peak.
/// - **Exit.** It sells (buys back) into the forced flow, as much as that flow is, at the
///   midpoint of target and peak; the rest it unwinds once price has retained `retention` of the
///   move from the start, at its unwind pace against the same refill: its own selling holds the
///   price back by up to `unwind pace`·h/ln2 over D, half that on average. Fees on both legs.
/// - **Unreachable.** It gives up when budget or room run out: it expects to buy the distance it
///   can hold and sell it back after the book refills, losing half that distance and the fees on
///   what it spent.
pub fn expected_pnl(
    map: &[MapBucket],
    price_usd: f64,
    a: &Assessment,
    p: &HunterParams,
    book: &BookModel,
) -> Expectation {
    let sign = a.direction.sign();
    let nothing =
        Expectation { reachable: false, push_usd: 0.0, forced_usd: 0.0, peak_usd: price_usd, pnl_usd: 0.0 };
    let Some(target) = a.target_usd else { return nothing };
    let delta = (target - price_usd) * sign;
    if !(price_usd > 0.0 && delta.is_finite() && delta >= 0.0) {
        return nothing;
    }
    let density = if delta > 0.0 { a.cost_usd / delta } else { 0.0 };
    let fee = book.fee.max(0.0);
    let pace = p.pace_usd_per_tick.max(f64::MIN_POSITIVE);
    let h = book.half_life_ticks.max(f64::MIN_POSITIVE);
    let ln2 = std::f64::consts::LN_2;
    let limit = p.budget_usd.min(p.max_inventory_usd).max(0.0);
    // The deficit X it has taken out of the book grows as dX/dt = pace − X·ln2/h, toward
    // X* = pace·h/ln2: reaching DΔ takes t = −(h/ln2)·ln(1 − DΔ/X*), so it spends pace·t.
    let ceiling = pace * h / ln2;
    let strain = density * delta / ceiling;
    // (A book that never refills against it, h = ∞, costs only what it shows.)
    let push_usd = if !ceiling.is_finite() {
        density * delta
    } else if strain < 1.0 {
        -ceiling * (1.0 - strain).ln()
    } else {
        f64::INFINITY
    };
    if push_usd.is_nan() || push_usd > limit {
        // It holds what its pace can against the refill, buys that, and sells it back.
        let held = if density > 0.0 { (pace * h / ln2 / density).min(delta) } else { delta };
        let spent = limit;
        let pnl_usd = -spent * (held / 2.0 / price_usd) - 2.0 * fee * spent;
        return Expectation {
            reachable: false,
            push_usd: spent,
            forced_usd: 0.0,
            peak_usd: price_usd + sign * held,
            pnl_usd,
        };
    }
    // The cascade from the target: hunted buckets in the push's way, nearest first.
    let side = a.direction.hunted_side();
    let reach = price_usd * (1.0 + sign * p.max_distance.max(0.0));
    let mut ahead: Vec<(f64, f64)> = map
        .iter()
        .filter(|b| b.side == side && b.notional_usd > 0.0)
        .map(|b| (b.price_usd, b.notional_usd))
        .filter(|&(px, _)| (px - price_usd) * sign >= 0.0 && (reach - px) * sign >= 0.0)
        .collect();
    ahead.sort_by(|x, y| ((x.0 - price_usd) * sign).total_cmp(&((y.0 - price_usd) * sign)));
    let mut forced = 0.0;
    let mut peak = target;
    for &(px, n) in &ahead {
        if (px - peak) * sign > 0.0 {
            break; // the cascade stopped short of this bucket
        }
        forced += n;
        if density > 0.0 {
            peak = (target + sign * forced / density).clamp(reach.min(price_usd), reach.max(price_usd));
        }
    }
    // The book's own depth is bought on the way (on average halfway); the refill is bought near
    // the far touch, where it is taken.
    let visible = (density * delta).min(push_usd);
    let qty = visible / (price_usd + sign * delta / 2.0) + (push_usd - visible) / (price_usd + sign * delta);
    let exit_at = (target + peak) / 2.0;
    let fed_qty = qty.min(forced / exit_at.max(f64::MIN_POSITIVE));
    // The rest goes back into the book at its unwind pace, against the same refill: its own
    // impact holds the price back by up to pace·h/ln2 over the density, half that on average.
    let retained = price_usd + book.retention.clamp(0.0, 1.0) * (peak - price_usd);
    let rest_usd = (qty - fed_qty) * retained;
    let held =
        if density > 0.0 { rest_usd.min(p.unwind_per_tick_usd.max(0.0) * h / ln2) / density } else { 0.0 };
    let unwind_at = (retained - sign * held / 2.0).max(0.0);
    let proceeds = fed_qty * exit_at + (qty - fed_qty) * unwind_at;
    // Long the push up: proceeds − cost; short the push down: cost − proceeds.
    let pnl_usd = sign * (proceeds - push_usd) - fee * (push_usd + proceeds);
    Expectation { reachable: true, push_usd, forced_usd: forced, peak_usd: peak, pnl_usd }
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
    Assessment { direction, fuel_usd, target_usd, cost_usd, ratio, expected: None }
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
        (None, HuntMode::Expected) => {
            let pnl = |a: &Assessment| a.expected.filter(|_| has(a)).map(|e| e.pnl_usd);
            match (pnl(up), pnl(down)) {
                (Some(u), Some(d)) if u >= d && u > p.min_expected_pnl_usd => Direction::Up,
                (Some(_), Some(d)) if d > p.min_expected_pnl_usd => Direction::Down,
                (Some(u), None) if u > p.min_expected_pnl_usd => Direction::Up,
                (None, Some(d)) if d > p.min_expected_pnl_usd => Direction::Down,
                _ => return None,
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
    let enough = team.is_some()
        || matches!(p.mode, HuntMode::Up | HuntMode::Down | HuntMode::Expected)
        || a.ratio >= p.min_ratio;
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
    fn expected_pnl_weighs_reach_cascade_and_unwind() {
        let p = HunterParams { budget_usd: 5e9, max_inventory_usd: 6e9, ..HunterParams::default() };
        let book = BookModel { half_life_ticks: 20.0, retention: 1.0, fee: 0.0 };
        // A book of $100K per dollar of move; $1B of shorts 5% up, then $3B packed beyond it.
        let mut map = vec![bucket(Side::Sell, 75_000.0, 1e9)];
        for k in 0..30 {
            map.push(bucket(Side::Sell, 75_100.0 + 100.0 * k as f64, 1e8));
        }
        let from = 71_450.0;
        let a = assess(&map, from, Direction::Up, &p, linear_cost(from, 1e5));
        assert_eq!(a.target_usd, Some(75_000.0));
        // Δ = 3,550: $355M of book; a $10M-a-tick pace against h = 20 ticks can hold at most
        // X* = $289M out of it, so it never gets there; at $20M a tick (X* = $577M) it does,
        // spending more than the book shows, and less than twice the book.
        let unreachable = expected_pnl(&map, from, &a, &p, &book);
        assert!(!unreachable.reachable && unreachable.pnl_usd < 0.0, "{unreachable:?}");
        // A book that never pulls back (h = ∞) costs only what it shows.
        let free = BookModel { half_life_ticks: f64::INFINITY, ..book };
        assert!((expected_pnl(&map, from, &a, &p, &free).push_usd - 355e6).abs() < 1.0);
        let p = HunterParams { pace_usd_per_tick: 20e6, ..p };
        let e = expected_pnl(&map, from, &a, &p, &book);
        let ceiling = 20e6 * 20.0 / std::f64::consts::LN_2;
        assert!(e.reachable && (e.push_usd + ceiling * (1.0 - 355e6 / ceiling).ln()).abs() < 1.0, "{e:?}");
        assert!(e.push_usd > 355e6 && e.push_usd < 710e6, "{e:?}");
        // Each forced dollar moves the touch 1/D: the $4B carries it through all of its buckets.
        assert!((e.forced_usd - 4e9).abs() < 1.0 && e.peak_usd > 77_900.0, "{e:?}");
        assert!(e.pnl_usd > 0.0, "{e:?}");
        // The same push to a $300M cluster with nothing beyond earns less: the forced flow takes
        // only part of what it bought. With the move given back before it unwinds the rest
        // (retention 0), the push loses.
        let thin = vec![bucket(Side::Sell, 75_000.0, 3e8)];
        let t = expected_pnl(&thin, from, &a, &p, &book);
        assert!(t.pnl_usd < e.pnl_usd, "{t:?} vs {e:?}");
        let gone = BookModel { retention: 0.0, ..book };
        assert!(expected_pnl(&thin, from, &a, &p, &gone).pnl_usd < 0.0);
        // Fees are paid on both legs.
        let fees = BookModel { fee: 0.0005, ..book };
        assert!(expected_pnl(&map, from, &a, &p, &fees).pnl_usd < e.pnl_usd);
        // Mirrored (longs as far below as the shorts were above, the same book): the down-hunt
        // expects about what the up-hunt does (a short gains on a fall what a long gains on the
        // same rise, in USD a little less).
        let mirror: Vec<MapBucket> =
            map.iter().map(|b| bucket(Side::Buy, 2.0 * from - b.price_usd, b.notional_usd)).collect();
        let down = assess(&mirror, from, Direction::Down, &p, linear_cost(from, 1e5));
        assert_eq!(down.target_usd, Some(2.0 * from - 75_000.0));
        let d = expected_pnl(&mirror, from, &down, &p, &book);
        assert!(d.reachable && (d.push_usd - e.push_usd).abs() < 1.0, "{d:?} vs {e:?}");
        assert!((d.peak_usd - (2.0 * from - e.peak_usd)).abs() < 1.0, "{d:?} vs {e:?}");
        assert!(d.pnl_usd > 0.0 && (d.pnl_usd / e.pnl_usd - 1.0).abs() < 0.15, "{d:?} vs {e:?}");
        // Expected hunters choose the better expectation, or nothing below their threshold.
        let ev = HunterParams { mode: HuntMode::Expected, ..p.clone() };
        let with =
            |a: &Assessment, pnl: f64| Assessment { expected: Some(Expectation { pnl_usd: pnl, ..e }), ..*a };
        let down = Assessment { direction: Direction::Down, ..a };
        assert_eq!(choose(&ev, &with(&a, 5e6), &with(&down, 9e6), None, 0.0), Some(Direction::Down));
        assert_eq!(choose(&ev, &with(&a, 9e6), &with(&down, 5e6), None, 0.0), Some(Direction::Up));
        assert_eq!(choose(&ev, &with(&a, -1.0), &with(&down, -2.0), None, 0.0), None);
        let picky = HunterParams { min_expected_pnl_usd: 1e7, ..ev };
        assert_eq!(choose(&picky, &with(&a, 9e6), &with(&down, 5e6), None, 0.0), None);
    }

    #[test]
    fn path_cost_extrapolates_beyond_the_visible_book() {
        assert_eq!(path_cost(100.0, 70_000.0, 71_000.0, 70_500.0), 100.0);
        assert!((path_cost(100.0, 70_000.0, 71_000.0, 74_000.0) - 400.0).abs() < 1e-9);
        assert!((path_cost(100.0, 70_000.0, 69_000.0, 66_000.0) - 400.0).abs() < 1e-9);
        assert_eq!(path_cost(0.0, 70_000.0, 70_000.0, 80_000.0), 0.0);
    }
}
