//! World tests of hunters on the seed's map and on "magnet" maps.

use super::*;
use crate::agents::hunter::{Direction, HuntMode};
use crate::population::{Band, LeverageWeight, MapConfig, PositionSide, Shape};
use crate::sim::tests::seed_config;
use crate::sim::{LevelCrossing, RunSummary, SimConfig, Simulation};
use crate::units::Side;

fn hunter(mode: HuntMode) -> HunterConfig {
    // Insiders: these tests are about the mechanics of a hunt, not about reading the map.
    let hunting =
        HunterParams { mode, map: crate::agents::hunter::MapView::Exact, ..HunterParams::default() };
    HunterConfig { hunting, ..HunterConfig::default() }
}

/// The seed's world (2,000 accounts, no index drift) with one hunter, on a thin perp alone: no
/// spot venues and no arbitrage desks (the index is the perp's own mid, and the provider's
/// anchor follows wherever the hunter takes it), and a quarter of Binance's depth. These tests
/// are about how hunters and the liquidation chain behave once price can be pushed; whether a
/// $5B hunter can push the calibrated market is a finding (docs/market.md: mostly not), not a
/// premise.
pub(crate) fn hunted(mode: HuntMode, seed: u64, ticks: u64) -> SimConfig {
    let mut cfg = seed_config(2_000, ticks, 0.0);
    cfg.seed = seed;
    cfg.index.venues.clear();
    cfg.arbitrageurs.clear();
    cfg.liquidity.depth = cfg.liquidity.depth.map(|c| c.scaled(0.25));
    // One LP account stands for the whole market-making community; at 5x a billion-dollar
    // inventory puts it in the 25–50% maintenance tiers and gets it liquidated. At 1x it
    // absorbs the hunters' flow without becoming fuel itself.
    cfg.liquidity.leverage = 1;
    cfg.hunters.push(hunter(mode));
    cfg
}

fn run(cfg: &SimConfig) -> (RunSummary, Simulation) {
    let mut sim = Simulation::new(cfg, None).expect("world builds");
    let summary = sim.run(|_| {}).expect("run completes");
    (summary, sim)
}

fn direction(s: &RunSummary) -> Direction {
    s.hunters[0].campaigns[0].direction
}

#[test]
fn up_hunters_squeeze_shorts_and_down_hunters_flush_longs_reproducibly() {
    let (up, _) = run(&hunted(HuntMode::Up, 11, 1_200));
    assert_eq!(direction(&up), Direction::Up);
    assert!(up.liquidated_notional_short > 2e8, "{up:?}");
    assert_eq!(up.liquidated_accounts_long, 0, "nothing but shorts goes on the way up");
    assert!(up.max_mark > 84_000.0, "the push reaches the short clusters: {}", up.max_mark);
    let (again, _) = run(&hunted(HuntMode::Up, 11, 1_200));
    assert_eq!(again.event_stream_hash, up.event_stream_hash);
    assert_eq!(again.hunter_pnl, up.hunter_pnl);

    let (down, _) = run(&hunted(HuntMode::Down, 11, 1_200));
    assert_eq!(direction(&down), Direction::Down);
    assert!(down.liquidated_notional_long > 1e8, "{down:?}");
    assert_eq!(down.liquidated_accounts_short, 0);
    assert!(down.min_mark < 70_000.0, "{}", down.min_mark);
    let (again, _) = run(&hunted(HuntMode::Down, 11, 1_200));
    assert_eq!(again.event_stream_hash, down.event_stream_hash);
    // Each hunter ends flat with its PnL reported.
    for s in [&up, &down] {
        assert_eq!(s.hunters.len(), 1);
        assert_eq!(s.hunters[0].final_position_btc, 0.0, "{:?}", s.hunters[0]);
        assert_eq!(s.hunter_pnl, s.hunters[0].pnl_usd);
        assert!(s.hunter_pnl.is_finite());
    }
}

#[test]
fn a_hunts_lows_are_its_lowest_trades_not_its_closes() {
    let (down, sim) = run(&hunted(HuntMode::Down, 11, 1_200));
    let rows = &sim.metrics().rows;
    for r in rows {
        assert!(r.low <= r.last && r.last <= r.high, "tick {}: {} ≤ {} ≤ {}", r.tick, r.low, r.last, r.high);
    }
    let lowest = rows.iter().map(|r| r.low).fold(f64::INFINITY, f64::min);
    let highest = rows.iter().map(|r| r.high).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(down.min_price, lowest.min(down.start_price));
    assert_eq!(down.max_price, highest.max(down.start_price));
    // Market orders walk the book within a tick: some ticks trade below where they close.
    let wicks = rows.iter().filter(|r| r.low < r.last).count();
    assert!(wicks > 0, "no tick traded below its close");
    let fall = 1.0 - lowest.min(down.start_price) / down.start_price;
    assert!(sim.metrics().swings().drawdown >= fall - 1e-12, "{:?} against {fall}", sim.metrics().swings());
}

#[test]
fn money_is_conserved_and_open_interest_balanced_through_a_hunt() {
    let mut cfg = hunted(HuntMode::Up, 5, 900);
    // A second hunter on the same team follows the first one's direction.
    let mut mate = hunter(HuntMode::Down);
    mate.team = Some(1);
    mate.hunting.budget_usd = 1e9;
    cfg.hunters[0].team = Some(1);
    cfg.hunters.push(mate);
    let mut sim = Simulation::new(&cfg, None).unwrap();
    while sim.step().unwrap() {
        let l = sim.exchange().ledger();
        assert_eq!(l.total_money(), l.deposits());
        let (long, short) = l.open_interest();
        assert_eq!(long, short);
    }
    let s = sim.finish().unwrap();
    assert!(s.liquidated_notional_short > 0.0);
    assert_eq!(s.hunters.len(), 2);
    for h in &s.hunters {
        assert_eq!(h.campaigns[0].direction, Direction::Up, "team-mates push together: {h:?}");
    }
    assert!((s.hunter_pnl - s.hunters.iter().map(|h| h.pnl_usd).sum::<f64>()).abs() < 1e-6);
}

fn lev(mix: &[(u32, f64)]) -> Vec<LeverageWeight> {
    mix.iter().map(|&(leverage, weight)| LeverageWeight { leverage, weight }).collect()
}

/// Two clusters around 71,450: longs liquidating in `longs` (low, high, notional), shorts in
/// `shorts`.
fn magnet_map(
    longs: (f64, f64, f64),
    shorts: (f64, f64, f64),
    lev_long: &[(u32, f64)],
    lev_short: &[(u32, f64)],
) -> MapConfig {
    let band = |side, (lo, hi, n): (f64, f64, f64), l: &[(u32, f64)], accounts| Band {
        side,
        liq_low_usd: lo,
        liq_high_usd: hi,
        notional_usd: n,
        shape: Shape::Flat,
        leverage: lev(l),
        accounts,
        stop_loss: None,
        cross_share: 0.0,
    };
    let bands = vec![
        band(PositionSide::Long, longs, lev_long, 1_000),
        band(PositionSide::Short, shorts, lev_short, 1_000),
    ];
    MapConfig { counterparty_leverage: 1, ..MapConfig::new(71_450.0, bands) }
}

fn adaptive(map: MapConfig, seed: u64) -> RunSummary {
    let mut cfg = hunted(HuntMode::Adaptive, seed, 900);
    cfg.map = map.plan(&cfg.exchange.instrument).unwrap();
    run(&cfg).0
}

#[test]
fn adaptive_hunters_go_for_the_magnet_not_the_biggest_cluster() {
    // January 2025: a small long cluster just below ($1.5B at 66–69K) and a large short one far
    // above ($6B at 88–95K). The near one pays better per dollar pushed: down.
    let jan = magnet_map(
        (66_000.0, 69_000.0, 1.5e9),
        (88_000.0, 95_000.0, 6e9),
        &[(10, 3.0), (20, 3.0), (25, 2.0)],
        &[(2, 2.0), (3, 3.0), (5, 3.0)],
    );
    let s = adaptive(jan, 3);
    let c = &s.hunters[0].campaigns[0];
    assert_eq!(c.direction, Direction::Down, "{c:?}");
    assert!(c.assessment.ratio > 0.5, "{c:?}");
    assert!(s.liquidated_notional_long > 1e8, "{s:?}");
    assert_eq!(s.liquidated_accounts_short, 0);
    // The mirror: a small short cluster just above, a large long one far below: up.
    let mirror = magnet_map(
        (47_000.0, 54_000.0, 6e9),
        (74_000.0, 77_000.0, 1.5e9),
        &[(2, 2.0), (3, 3.0), (5, 3.0)],
        &[(10, 3.0), (20, 3.0), (25, 2.0)],
    );
    let s = adaptive(mirror, 3);
    let c = &s.hunters[0].campaigns[0];
    assert_eq!(c.direction, Direction::Up, "{c:?}");
    assert!(s.liquidated_notional_short > 1e8, "{s:?}");
    assert_eq!(s.liquidated_accounts_long, 0);
}

#[test]
fn the_estimated_map_drives_a_campaign_too() {
    let mut cfg = hunted(HuntMode::Adaptive, 7, 300);
    cfg.hunters[0].hunting.map = crate::agents::hunter::MapView::Estimated(Default::default());
    let (s, _) = run(&cfg);
    let c = &s.hunters[0].campaigns[0];
    // The vendor picture: clusters either side of each entry at ±(1/L − mmr), whoever is long.
    assert!(c.assessment.target_usd.is_some() && c.assessment.fuel_usd > 0.0, "{c:?}");
}

/// Figures of one hunt: liquidated notional on the hunted side, the largest move of the mark
/// from the start (fraction, in the hunt's direction), and the ticks from the campaign start
/// to 90% of that move.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HuntFigures {
    pub liquidated_usd: f64,
    pub max_move: f64,
    pub ticks_to_move: u64,
    /// The largest move of the mark over any 60 ticks (fraction, in the hunt's direction).
    pub peak_minute_move: f64,
    pub pnl_usd: f64,
    pub spent_usd: f64,
}

pub(crate) fn figures(cfg: &SimConfig) -> HuntFigures {
    let (s, sim) = run(cfg);
    let Some(c) = s.hunters.first().and_then(|h| h.campaigns.first()) else { return HuntFigures::default() };
    let sign = c.direction.sign();
    let start = s.start_price;
    let rows = &sim.metrics().rows;
    let moves: Vec<f64> = rows.iter().map(|r| (r.mark - start) * sign / start).collect();
    let max_move = moves.iter().cloned().fold(0.0, f64::max);
    let at = moves.iter().position(|&m| m >= 0.9 * max_move).map(|i| rows[i].tick).unwrap_or(0);
    let liquidated_usd =
        if c.direction == Direction::Up { s.liquidated_notional_short } else { s.liquidated_notional_long };
    let peak_minute_move = moves.windows(61).map(|w| w[60] - w[0]).fold(0.0, f64::max);
    HuntFigures {
        liquidated_usd,
        peak_minute_move,
        max_move,
        ticks_to_move: at.saturating_sub(c.start_tick),
        pnl_usd: s.hunter_pnl,
        spent_usd: c.spent_usd,
    }
}

/// The seed's world where the liquidity provider stops replenishing a side that one-sided flow
/// keeps taking ($2M a second averaged over ten seconds), until it has been calm for a minute.
pub(crate) fn withdrawing(mode: HuntMode, seed: u64, ticks: u64) -> SimConfig {
    let mut cfg = hunted(mode, seed, ticks);
    cfg.liquidity.withdraw_flow_per_sec = Money::usd(2_000_000);
    cfg.liquidity.withdraw_secs = 60;
    cfg
}

/// Up- vs down-hunting at equal budget over `seeds`: per seed (up, down).
fn asymmetry(seeds: std::ops::RangeInclusive<u64>) -> Vec<(u64, HuntFigures, HuntFigures)> {
    seeds
        .map(|seed| {
            (
                seed,
                figures(&withdrawing(HuntMode::Up, seed, 1_800)),
                figures(&withdrawing(HuntMode::Down, seed, 1_800)),
            )
        })
        .collect()
}

fn report(rows: &[(u64, HuntFigures, HuntFigures)]) {
    let n = rows.len() as f64;
    let mean = |f: &dyn Fn(&HuntFigures) -> f64, up: bool| {
        rows.iter().map(|(_, u, d)| f(if up { u } else { d })).sum::<f64>() / n
    };
    for (seed, u, d) in rows {
        println!("seed {seed:>2} up: {u:?}\n        down: {d:?}");
    }
    for (name, f) in [
        ("liquidated $B", &(|f: &HuntFigures| f.liquidated_usd / 1e9) as &dyn Fn(&HuntFigures) -> f64),
        ("max move %", &|f: &HuntFigures| f.max_move * 100.0),
        ("ticks to 90% of it", &|f: &HuntFigures| f.ticks_to_move as f64),
        ("peak 1-min move %", &|f: &HuntFigures| f.peak_minute_move * 100.0),
        ("spent $B", &|f: &HuntFigures| f.spent_usd / 1e9),
        ("hunter PnL $M", &|f: &HuntFigures| f.pnl_usd / 1e6),
    ] {
        println!("mean {name:<20} up {:>10.3}  down {:>10.3}", mean(f, true), mean(f, false));
    }
}

/// Pushing up into the 14:1 map liquidates more and moves price further and faster than pushing
/// down, at equal budget. Since liquidations stop at the bankruptcy price and the insurance fund
/// takes over the rest, a squeeze can also stall: the claim is on the 16 seeds together, and per
/// seed only that up beats down.
fn check_asymmetry(rows: &[(u64, HuntFigures, HuntFigures)]) {
    let n = rows.len() as f64;
    let mean = |f: fn(&HuntFigures) -> f64, up: bool| {
        rows.iter().map(|(_, u, d)| f(if up { u } else { d })).sum::<f64>() / n
    };
    let liquidated = |f: &HuntFigures| f.liquidated_usd;
    let moved = |f: &HuntFigures| f.max_move;
    let fastest = |f: &HuntFigures| f.peak_minute_move;
    assert!(mean(liquidated, true) > 5.0 * mean(liquidated, false), "mean liquidated");
    assert!(mean(moved, true) > 1.5 * mean(moved, false), "mean max move");
    assert!(mean(fastest, true) > mean(fastest, false), "mean peak one-minute move");
    for (seed, up, down) in rows {
        assert!(up.liquidated_usd > 2.0 * down.liquidated_usd, "seed {seed}: {up:?} vs {down:?}");
        assert!(up.max_move > down.max_move, "seed {seed}: {up:?} vs {down:?}");
    }
    // Most up-hunts still run through the whole short stack (~$14B).
    let through = rows.iter().filter(|(_, up, _)| up.liquidated_usd > 12e9).count();
    assert!(through * 4 >= rows.len() * 3, "only {through} of {} up-hunts ran through the stack", rows.len());
}

/// `cargo test --lib asymmetry_over_16_seeds -- --nocapture` prints the figures.
#[test]
fn asymmetry_over_16_seeds() {
    let rows = asymmetry(1..=16);
    report(&rows);
    check_asymmetry(&rows);
}

#[test]
fn a_withdrawing_liquidity_provider_stops_refilling_the_side_being_taken() {
    // An up-hunter lifts the asks $10M a tick from tick 60; look at the run to tick 150.
    let book_at_150 = |withdraw: i64| {
        // The calibrated book and desks on a thin index (one Binance spot pair per venue): the
        // up-hunt's buying meets depth that is put back, or not, without a cascade swamping it.
        let mut cfg = hunted(HuntMode::Up, 11, 150);
        let calibrated = seed_config(2_000, 150, 0.0);
        cfg.index = calibrated.index;
        for v in &mut cfg.index.venues {
            v.depth = crate::liquidity::DepthCurve::binance_btc_spot();
        }
        cfg.arbitrageurs = calibrated.arbitrageurs;
        cfg.liquidity.depth = calibrated.liquidity.depth;
        cfg.index.volatility_per_sqrt_day = 0.0;
        cfg.liquidity.withdraw_flow_per_sec = Money::usd(withdraw);
        cfg.liquidity.withdraw_secs = 60;
        let mut sim = Simulation::new(&cfg, None).unwrap();
        let summary = sim.run(|_| {}).unwrap();
        let ex = sim.exchange();
        let mut q = sim.world.try_query::<(&crate::sim::Trader, &crate::sim::LiquidityProvider)>().unwrap();
        let (account, pulled) =
            q.iter(&sim.world).next().map(|(t, lp)| (t.account, lp.pulled_side())).unwrap();
        // The provider's own bids, wherever its centre has got to: the side it keeps quoting.
        let inst = *ex.instrument();
        let bids: f64 = ex
            .book()
            .orders_of(account)
            .filter(|o| o.side == Side::Buy)
            .map(|o| inst.price_f64(o.price) * inst.qty_f64(o.qty))
            .sum();
        (summary.max_price, bids, pulled)
    };
    let (high_on, bids_on, none) = book_at_150(0);
    let (high_off, bids_off, pulled) = book_at_150(2_000_000);
    assert_eq!(none, None);
    assert_eq!(pulled, Some(Side::Sell), "its asks are being lifted");
    // Asks that are not put back let the same buying take price further.
    assert!(high_off > high_on + 100.0, "withdrawn: high {high_off:.0} vs refilled {high_on:.0}");
    assert!(bids_off > 0.5 * bids_on, "bids keep quoting: {bids_off:.0} vs {bids_on:.0}");
}

#[test]
fn makers_quote_then_pull_when_a_hunt_turns_the_flow_toxic_and_levels_get_verdicts() {
    let mut cfg = withdrawing(HuntMode::Up, 2, 1_200);
    cfg.makers.push(crate::sim::MakerConfig::default());
    let mut sim = Simulation::new(&cfg, None).unwrap();
    let mut quoted_before_hunt = false;
    while sim.step().unwrap() {
        let l = sim.exchange().ledger();
        assert_eq!(l.total_money(), l.deposits());
        let (long, short) = l.open_interest();
        assert_eq!(long, short);
        if sim.world.resource::<crate::sim::Clock>().tick == 50 {
            let mut q =
                sim.world.try_query::<(&crate::sim::MarketMaker, &crate::sim::AgentOrders)>().unwrap();
            quoted_before_hunt = q.iter(&sim.world).any(|(_, o)| o.live.len() == 10);
        }
    }
    assert!(quoted_before_hunt, "a full ladder of 5 a side in calm markets");
    let mut q = sim.world.try_query::<&crate::sim::MarketMaker>().unwrap();
    let mm = q.iter(&sim.world).next().unwrap().state.clone();
    assert!(mm.withdrawals >= 1 && mm.pulled_ticks > 0, "{mm:?}");
    let s = sim.finish().unwrap();
    assert_eq!(s.levels.len(), 8);
    let at = |l: f64| s.levels.iter().find(|r| r.level == l).unwrap();
    // The squeeze reaches the first short cluster and liquidates there. (How far it runs past
    // it depends on how much forced flow reaches the book: since liquidation orders stop at the
    // bankruptcy price and the insurance fund takes over the rest, this seed stalls near 88.6K;
    // the 16-seed asymmetry test measures the extent statistically.)
    assert!(at(85_000.0).touched, "{:?}", at(85_000.0));
    assert!(at(85_000.0).liquidated_near_usd > 0.0, "{:?}", at(85_000.0));
    for r in &s.levels {
        assert_eq!(r.touched, r.first_tick.is_some(), "{r:?}");
        assert_eq!(r.touched, r.verdict != crate::sim::Verdict::Untouched, "{r:?}");
    }
    assert!(!at(52_900.0).touched);
    assert_eq!(at(52_900.0).verdict, crate::sim::Verdict::Untouched);
    assert_eq!(at(52_900.0).liquidated_near_usd, 0.0);
    assert!(at(52_900.0).liquidated_near_usd.is_sign_positive());
}

/// The seed's thin world of [`hunted`] on `map`, hunted by no standalone hunter but by one market
/// maker that reads the map: $3B at 1x, a $2B push budget and $2.5B of inventory room. Each tick
/// checks that, while it pushes, its ladder quotes only the side it takes (leaned), and counts
/// the ticks it did; returns the run and that count.
fn maker_hunt(map: MapConfig, seed: u64) -> (RunSummary, u64) {
    let mut cfg = hunted(HuntMode::Adaptive, seed, 900);
    cfg.hunters.clear();
    cfg.map = map.plan(&cfg.exchange.instrument).unwrap();
    let hunting = HunterParams {
        budget_usd: 2e9,
        max_inventory_usd: 2.5e9,
        map: crate::agents::hunter::MapView::Exact,
        ..HunterParams::default()
    };
    cfg.makers.push(crate::sim::MakerConfig {
        deposit: Money::usd(3_000_000_000),
        leverage: 1,
        hunting: Some(hunting),
        ..crate::sim::MakerConfig::default()
    });
    let mut sim = Simulation::new(&cfg, None).unwrap();
    let mut leaned_ticks = 0;
    while sim.step().unwrap() {
        let l = sim.exchange().ledger();
        assert_eq!(l.total_money(), l.deposits());
        let mut q =
            sim.world.try_query::<(&crate::sim::MarketMaker, &Hunter, &crate::sim::AgentOrders)>().unwrap();
        let tick = sim.world.resource::<crate::sim::Clock>().tick;
        for (_, h, orders) in q.iter(&sim.world) {
            let Some(c) = h.state.current() else { continue };
            // It quotes before it decides: the tick a campaign starts, its ladder is still full.
            if h.state.phase != crate::agents::hunter::Phase::Push || c.start_tick == tick {
                continue;
            }
            // What rests in the book (the live list still holds this tick's cancels until the
            // next tick prunes them).
            let book = sim.exchange().book();
            let ladder: Vec<_> = orders
                .live
                .iter()
                .filter(|o| o.tag == crate::sim::makers::LADDER && book.order(o.id).is_some())
                .collect();
            let push = c.direction.taker_side();
            assert!(
                ladder.iter().all(|o| o.side == push),
                "pushing {:?} at tick {tick} (from {}): {ladder:?}",
                c.direction,
                c.start_tick
            );
            if !ladder.is_empty() {
                leaned_ticks += 1;
            }
        }
    }
    (sim.finish().unwrap(), leaned_ticks)
}

#[test]
fn a_map_reading_maker_leans_and_pushes_toward_the_nearer_worthwhile_cluster_up_or_down() {
    // January's shape (near longs, far shorts): the maker hunts down.
    let jan = magnet_map(
        (66_000.0, 69_000.0, 1.5e9),
        (88_000.0, 95_000.0, 6e9),
        &[(10, 3.0), (20, 3.0), (25, 2.0)],
        &[(2, 2.0), (3, 3.0), (5, 3.0)],
    );
    let (down, leaned_down) = maker_hunt(jan, 3);
    // Its mirror (near shorts, far longs): up.
    let mirror = magnet_map(
        (47_000.0, 54_000.0, 6e9),
        (74_000.0, 77_000.0, 1.5e9),
        &[(2, 2.0), (3, 3.0), (5, 3.0)],
        &[(10, 3.0), (20, 3.0), (25, 2.0)],
    );
    let (up, leaned_up) = maker_hunt(mirror, 3);
    for (s, d, leaned) in [(&down, Direction::Down, leaned_down), (&up, Direction::Up, leaned_up)] {
        assert_eq!(s.hunters.len(), 1, "one hunter: the maker");
        let h = &s.hunters[0];
        assert!(h.maker, "{h:?}");
        let c = &h.campaigns[0];
        assert_eq!(c.direction, d, "{c:?}");
        assert!(c.spent_usd > 1e8, "it pushed with its own takes: {c:?}");
        assert!(leaned > 10, "it leaned its ladder while pushing: {leaned} ticks");
        let hunted =
            if d == Direction::Up { s.liquidated_notional_short } else { s.liquidated_notional_long };
        println!(
            "{d:?}: spent ${:.0}M, hunted ${:.0}M liquidated, PnL ${:.1}M, leaned {leaned} ticks, {:?}",
            c.spent_usd / 1e6,
            hunted / 1e6,
            h.pnl_usd / 1e6,
            c.outcome
        );
        assert!(hunted > 1e8, "the push reached the cluster: {s:?}");
        assert!(c.feed_tick.is_some(), "it fed the forced flow it set off: {c:?}");
    }
    assert_eq!(down.liquidated_accounts_short, 0);
    assert_eq!(up.liquidated_accounts_long, 0);
}

/// The grid of maps on which an adaptive or expected-PnL hunter's choice is checked against the
/// better of the forced directions: long and short clusters near or far, small or large (16
/// maps).
pub(crate) fn map_grid() -> Vec<(String, MapConfig)> {
    let mix = [(5, 1.0), (10, 1.0), (20, 1.0)];
    let mut out = Vec::new();
    for (ln, longs) in [("near", (66_000.0, 69_000.0)), ("far", (50_000.0, 56_000.0))] {
        for long_usd in [0.8e9, 3e9] {
            for (sn, shorts) in [("near", (74_000.0, 77_000.0)), ("far", (88_000.0, 95_000.0))] {
                for short_usd in [0.8e9, 6e9] {
                    let name =
                        format!("longs {ln} ${:.1}B, shorts {sn} ${:.1}B", long_usd / 1e9, short_usd / 1e9);
                    let map =
                        magnet_map((longs.0, longs.1, long_usd), (shorts.0, shorts.1, short_usd), &mix, &mix);
                    out.push((name, map));
                }
            }
        }
    }
    out
}

/// Mean hunter PnL of `mode` on `map` over `seeds`, and the first campaign's directions.
fn mean_pnl(map: &MapConfig, mode: HuntMode, seeds: &[u64]) -> (f64, Vec<Option<Direction>>) {
    let mut total = 0.0;
    let mut dirs = Vec::new();
    for &seed in seeds {
        let mut cfg = hunted(mode, seed, 900);
        cfg.map = map.plan(&cfg.exchange.instrument).unwrap();
        // This thin perp has no index of its own (it is its own mid) and its provider re-centres
        // wherever price is taken: its refill does not pull the price back (an infinite
        // half-life, as the hunter models it), and a move stays while the hunter unwinds.
        cfg.hunters[0].hunting.book_half_life_ticks = f64::INFINITY;
        cfg.hunters[0].hunting.unwind_retention = 1.0;
        // The rule the grid was built and its 90% set on: a provider whose post-only levels are
        // refused where the touch has moved through them. Under the default `Slide` the
        // expected-PnL hunter picks the better direction on 12 of the 16 maps (docs/market.md,
        // "Makers that hunt, and hunts that fail"): it misses where the two directions' PnLs
        // lie within a fifth of each other.
        cfg.liquidity.crossing = LevelCrossing::Refuse;
        let (s, _) = run(&cfg);
        total += s.hunter_pnl;
        dirs.push(s.hunters[0].campaigns.first().map(|c| c.direction));
    }
    (total / seeds.len() as f64, dirs)
}

/// On each map of the grid, the mean PnL of forced up and down hunts over four seeds, and the
/// directions the adaptive (fuel/cost) and expected-PnL hunters choose. The expected-PnL hunter
/// must choose the better forced direction (by mean PnL; none when both lose) in at least 90% of
/// the maps, by a majority of its seeds. `cargo test --release --lib direction_grid --
/// --nocapture` prints the table.
#[test]
fn direction_grid_expected_pnl_hunters_choose_the_better_forced_direction() {
    let seeds = [1, 2, 3, 4];
    let (mut adaptive_right, mut expected_right) = (0, 0);
    let grid = map_grid();
    for (name, map) in &grid {
        let (up, _) = mean_pnl(map, HuntMode::Up, &seeds);
        let (down, _) = mean_pnl(map, HuntMode::Down, &seeds);
        let (ad, ad_dirs) = mean_pnl(map, HuntMode::Adaptive, &seeds);
        let (ex, ex_dirs) = mean_pnl(map, HuntMode::Expected, &seeds);
        let best = if up.max(down) <= 0.0 {
            None
        } else if up >= down {
            Some(Direction::Up)
        } else {
            Some(Direction::Down)
        };
        let right = |dirs: &[Option<Direction>]| dirs.iter().filter(|d| **d == best).count() * 2 > dirs.len();
        adaptive_right += usize::from(right(&ad_dirs));
        expected_right += usize::from(right(&ex_dirs));
        println!(
            "{name:<34} up {:>7.1}M down {:>7.1}M best {best:?} | adaptive {:>7.1}M {ad_dirs:?} | expected {:>7.1}M {ex_dirs:?}",
            up / 1e6,
            down / 1e6,
            ad / 1e6,
            ex / 1e6
        );
    }
    let n = grid.len();
    println!("better direction chosen: adaptive {adaptive_right}/{n}, expected {expected_right}/{n}");
    assert!(expected_right * 10 >= n * 9, "expected-PnL hunters right on {expected_right} of {n} maps");
}
