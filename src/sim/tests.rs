//! Whole-world tests: cascades emerge, money is conserved, runs are deterministic and replay.

use super::*;
use crate::events::{CancelReason, Envelope, Event};
use crate::population::PositionSide;

pub(crate) fn seed_config(accounts: u32, ticks: u64, drift_total: f64) -> SimConfig {
    SimConfig::btc_14_to_1(accounts, ticks, drift_total)
}

fn without(mut cfg: SimConfig, side: PositionSide) -> SimConfig {
    cfg.map.bands.retain(|b| b.side != side);
    cfg
}

fn run(cfg: &SimConfig) -> (RunSummary, Metrics) {
    let mut sim = Simulation::new(cfg, None).expect("world builds");
    let summary = sim.run(|_| {}).expect("run completes");
    (summary, sim.metrics().clone())
}

#[test]
fn an_upward_push_into_the_seed_map_cascades_through_the_shorts() {
    // The index trends +22% over two hours: it reaches the 84K–100K short clusters.
    let cfg = seed_config(2_000, 7_200, 0.22);
    let (treated, metrics) = run(&cfg);
    let (control, _) = run(&without(cfg.clone(), PositionSide::Short));
    assert!(treated.liquidated_accounts_short >= 50, "{treated:?}");
    assert!(treated.liquidated_notional_short > 5e8, "{treated:?}");
    assert_eq!(treated.liquidated_accounts_long, 0);
    // Liquidation is judged on mark: every short went at a mark at or above its price.
    assert_eq!(metrics.liquidations.len() as u64, treated.liquidated_accounts_short);
    for &(_, side, mark, liq) in &metrics.liquidations {
        match side {
            Side::Sell => assert!(mark >= liq, "short liquidated at mark {mark:?} below {liq:?}"),
            Side::Buy => assert!(mark <= liq, "long liquidated at mark {mark:?} above {liq:?}"),
        }
    }
    assert!(
        treated.max_mark > control.max_mark,
        "cascade {} vs push alone {}",
        treated.max_mark,
        control.max_mark
    );
    assert!(
        treated.max_price > control.max_price,
        "cascade {} vs push alone {}",
        treated.max_price,
        control.max_price
    );
    assert!(!treated.cascades.is_empty());
}

#[test]
fn the_same_seed_gives_the_same_run_and_the_event_stream_replays() {
    let cfg = seed_config(1_000, 600, 0.05);
    let (a, _) = run(&cfg);
    let (b, _) = run(&cfg);
    assert_eq!(a.event_stream_hash, b.event_stream_hash);
    assert_eq!(a.final_state_hash, b.final_state_hash);
    let mut other = cfg.clone();
    other.seed += 1;
    assert_ne!(run(&other).0.event_stream_hash, a.event_stream_hash);
}

fn map_accounts(sim: &Simulation) -> impl Iterator<Item = crate::ledger::Account> + '_ {
    let ex = sim.exchange();
    let mut q = sim.world.try_query::<(&Trader, &PositionHolder)>().expect("holders are registered");
    let ids: Vec<AccountId> = q.iter(&sim.world).map(|(t, _)| t.account).collect();
    ids.into_iter().filter_map(move |a| ex.ledger().account(a).copied())
}

#[test]
fn holders_close_top_up_and_re_enter_on_their_own_schedule() {
    let mut cfg = seed_config(1_000, 3_600, 0.0);
    cfg.holders = HolderConfig {
        close_per_day: 24.0 * 0.3, // ~30% of positions close within the hour
        add_margin_per_day: 24.0 * 0.3,
        add_margin_fraction: 0.5,
        reenter_per_day: 24.0 * 2.0,
        reserve_fraction: 1.0,
    };
    let mut sim = Simulation::new(&cfg, None).unwrap();
    let start: Vec<_> = map_accounts(&sim).collect();
    // Conservation and balanced open interest after every tick (release builds too, not only
    // through the Record set's debug assertion).
    while sim.step().unwrap() {
        let l = sim.exchange().ledger();
        assert_eq!(l.total_money(), l.deposits());
        let (long, short) = l.open_interest();
        assert_eq!(long, short);
    }
    let end: Vec<_> = map_accounts(&sim).collect();
    let changed_qty = start.iter().zip(&end).filter(|(a, b)| a.position.qty != b.position.qty).count();
    let topped_up = start
        .iter()
        .zip(&end)
        .filter(|(a, b)| a.position.qty == b.position.qty && b.position.margin > a.position.margin)
        .count();
    let reentered = start
        .iter()
        .zip(&end)
        .filter(|(a, b)| {
            a.position.qty.0.signum() == b.position.qty.0.signum()
                && a.position.qty != b.position.qty
                && !b.position.qty.is_zero()
        })
        .count();
    assert!(changed_qty > 100, "closes and re-entries: {changed_qty}");
    assert!(topped_up > 100, "top-ups: {topped_up}");
    assert!(reentered > 10, "re-entries: {reentered}");
    let (long, short) = sim.exchange().ledger().open_interest();
    assert_eq!(long, short);
    assert_eq!(sim.exchange().ledger().total_money(), sim.exchange().ledger().deposits());
}

/// The mirror of the seed's map: a heavy long side stacked below price (denser lower), a thin
/// short side above.
fn long_heavy_config(accounts: u32, ticks: u64, drift_total: f64) -> SimConfig {
    use crate::population::{Band, LeverageWeight, MapConfig, Shape};
    let mut cfg = seed_config(accounts, ticks, drift_total);
    let lev = |mix: &[(u32, f64)]| {
        mix.iter().map(|&(leverage, weight)| LeverageWeight { leverage, weight }).collect()
    };
    let longs = accounts * 7 / 10;
    let bands = vec![
        Band {
            side: PositionSide::Long,
            liq_low_usd: 52_000.0,
            liq_high_usd: 60_500.0,
            notional_usd: 14e9,
            shape: Shape::Falling,
            leverage: lev(&[(3, 2.0), (5, 3.0), (10, 3.0)]),
            accounts: longs,
            stop_loss: None,
            cross_share: 0.0,
        },
        Band {
            side: PositionSide::Short,
            liq_low_usd: 73_000.0,
            liq_high_usd: 80_000.0,
            notional_usd: 0.9e9,
            shape: Shape::Falling,
            leverage: lev(&[(10, 3.0), (20, 3.0), (25, 2.0)]),
            accounts: accounts - longs,
            stop_loss: None,
            cross_share: 0.0,
        },
    ];
    // The seed's counterparties (1x), these bands.
    let map = MapConfig { bands, ..crate::population::seed_map_btc_14_to_1(accounts) };
    cfg.map = map.plan(&cfg.exchange.instrument).unwrap();
    cfg
}

#[test]
fn a_downward_push_into_a_long_heavy_map_cascades_through_the_longs() {
    // The index trends down over two hours (log drift −0.32, part of it eaten by the pull
    // toward the perp) into the 52K–60.5K long clusters.
    let cfg = long_heavy_config(2_000, 7_200, -0.32);
    let (treated, metrics) = run(&cfg);
    let (control, _) = run(&without(cfg.clone(), PositionSide::Long));
    assert!(treated.liquidated_accounts_long >= 50, "{treated:?}");
    assert!(treated.liquidated_notional_long > 5e8, "{treated:?}");
    assert_eq!(treated.liquidated_accounts_short, 0);
    assert_eq!(metrics.liquidations.len() as u64, treated.liquidated_accounts_long);
    for &(_, side, mark, liq) in &metrics.liquidations {
        assert_eq!(side, Side::Buy);
        assert!(mark <= liq, "long liquidated at mark {mark:?} above {liq:?}");
    }
    assert!(
        treated.min_mark < control.min_mark,
        "cascade {} vs push alone {}",
        treated.min_mark,
        control.min_mark
    );
    assert!(
        treated.min_price < control.min_price,
        "cascade {} vs push alone {}",
        treated.min_price,
        control.min_price
    );
}

/// A shared in-memory log sink.
#[derive(Clone, Default)]
struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn run_logged(cfg: &SimConfig) -> (Simulation, RunSummary, Vec<u8>) {
    let buf = SharedBuf::default();
    let out: Box<dyn std::io::Write + Send + Sync> = Box::new(buf.clone());
    let log = LogTarget { out, scenario_hash: [3; 32], seed: cfg.seed };
    let mut sim = Simulation::new(cfg, Some(log)).unwrap();
    let summary = sim.run(|_| {}).unwrap();
    let bytes = buf.0.lock().unwrap().clone();
    (sim, summary, bytes)
}

/// A busy market for replay tests: the full agent mix (FCN and noise traders, makers, a hunter,
/// the liquidity provider, holders that close, top up and re-enter) on a small seed map, with
/// the index trending up into the shorts so there are liquidations too.
fn busy_config() -> SimConfig {
    let mut cfg = SimConfig::full_mix(1_000, 1_200);
    cfg.index.drift_per_day = 0.15 / (1_200.0 / 86_400.0);
    cfg.holders.close_per_day = 50.0;
    cfg.holders.add_margin_per_day = 50.0;
    cfg.holders.reenter_per_day = 100.0;
    cfg
}

fn record_of(summary: &RunSummary, seed: u64) -> crate::engine::RunRecord {
    crate::engine::RunRecord {
        final_state_hash: summary.final_state_hash.clone(),
        event_stream_hash: summary.event_stream_hash.clone(),
        events: summary.events,
        seed,
        scenario_hash: "03".repeat(32),
        funding_rate_accrued: summary.funding_rate_accrued,
    }
}

#[test]
fn a_run_log_replays_to_the_same_book_and_state_and_is_byte_identical_per_seed() {
    let cfg = busy_config();
    let (sim, summary, log_a) = run_logged(&cfg);
    let (_, _, log_b) = run_logged(&cfg);
    assert_eq!(log_a, log_b, "same seed, same bytes");
    let reader = crate::events::LogReader::new(&log_a[..]).unwrap();
    let replayed = crate::engine::replay(reader).unwrap();
    // The same book, order by order in queue order, and the same state hash.
    let live = sim.exchange();
    assert!(live.book().order_count() > 100, "a busy book: {}", live.book().order_count());
    for side in [Side::Buy, Side::Sell] {
        let rebuilt: Vec<_> = replayed.state.book().resting_orders(side).collect();
        let expected: Vec<_> = live.book().resting_orders(side).collect();
        assert_eq!(rebuilt, expected, "{side:?} side of the book");
    }
    assert_eq!(replayed.state_hash(), live.state_hash());
    assert_eq!(replayed.mismatches(&record_of(&summary, cfg.seed)), vec![]);
    // The funding rate accrued in these 20 minutes (no interval ends) is the rebuilt state's
    // too: a summary that states another by 1e-8 is caught.
    assert_ne!(summary.funding_rate_accrued, 0.0);
    let mut wrong = record_of(&summary, cfg.seed);
    wrong.funding_rate_accrued += 1e-8;
    let keys: Vec<_> = replayed.mismatches(&wrong).into_iter().map(|m| m.key).collect();
    assert_eq!(keys, ["funding_rate_accrued"]);
    // The run did exercise what the book must replay.
    let envs: Vec<_> = crate::events::LogReader::new(&log_a[..]).unwrap().map(|e| e.unwrap()).collect();
    let count = |f: &dyn Fn(&Event) -> bool| envs.iter().filter(|e| f(&e.event)).count();
    assert!(count(&|e| matches!(e, Event::Traded { .. })) > 1_000);
    assert!(count(&|e| matches!(e, Event::OrderAmended { .. })) > 100);
    assert!(count(&|e| matches!(e, Event::OrderCancelled { reason: CancelReason::Requested, .. })) > 100);
    assert!(count(&|e| matches!(e, Event::OrderCancelled { reason: CancelReason::Unfilled, .. })) > 10);
    assert!(count(&|e| matches!(e, Event::LiquidationTriggered { .. })) > 0, "{summary:?}");
}

/// The busy market with stop-losses in every band: half the longs' just in front of their
/// liquidation prices watching last, half the shorts' 0.5–4% above the price watching the mark.
fn busy_config_with_stops() -> SimConfig {
    use crate::book::TriggerSource;
    use crate::population::{StopDistance, StopLoss};
    let mut cfg = busy_config();
    for b in &mut cfg.map.bands {
        b.stop_loss = Some(match b.side {
            PositionSide::Long => StopLoss {
                share: 0.5,
                distance: StopDistance::BeforeLiquidation { low_pct: 0.2, high_pct: 1.5 },
                trigger: TriggerSource::Last,
            },
            PositionSide::Short => StopLoss {
                share: 0.5,
                distance: StopDistance::FromPrice { low_pct: 0.5, high_pct: 4.0 },
                trigger: TriggerSource::Mark,
            },
        });
    }
    cfg
}

#[test]
fn map_holders_stop_losses_trigger_are_cancelled_with_a_close_and_replay() {
    let cfg = busy_config_with_stops();
    let (sim, summary, log) = run_logged(&cfg);
    let replayed = crate::engine::replay(crate::events::LogReader::new(&log[..]).unwrap()).unwrap();
    assert_eq!(replayed.state_hash(), sim.exchange().state_hash());
    assert_eq!(replayed.mismatches(&record_of(&summary, cfg.seed)), vec![]);
    let envs: Vec<_> = crate::events::LogReader::new(&log[..]).unwrap().map(|e| e.unwrap()).collect();
    let count = |f: &dyn Fn(&Event) -> bool| envs.iter().filter(|e| f(&e.event)).count() as u64;
    let placed = count(&|e| matches!(e, Event::StopPlaced { .. }));
    let holders = sim.world.try_query::<&PositionHolder>().unwrap().iter(&sim.world).count() as u64;
    assert!(
        placed * 10 > holders * 4 && placed * 10 < holders * 6,
        "about half of {holders} hold one: {placed}"
    );
    assert_eq!(
        count(&|e| matches!(e, Event::StopRejected { .. })),
        0,
        "every drawn stop lies in front of the price"
    );
    let triggered = count(&|e| matches!(e, Event::StopTriggered { .. }));
    assert!(triggered > 0 && triggered == summary.stops_triggered, "{summary:?}");
    assert_eq!(sim.metrics().stop_triggers.len() as u64, triggered);
    assert!(count(&|e| matches!(e, Event::StopCancelled { reason: CancelReason::Requested, .. })) > 0);
    // Every stop ends one way or another, or is still pending.
    let ended = triggered + count(&|e| matches!(e, Event::StopCancelled { .. }));
    assert_eq!(placed, ended + sim.exchange().state().stops().len() as u64);
    // Holders' stops are drawn from a stream of their own: until the first one triggers, the
    // run is the run without stops, event for event, but for the stop events.
    let (_, _, plain) = run_logged(&busy_config());
    let plain: Vec<_> =
        crate::events::LogReader::new(&plain[..]).unwrap().map(|e| e.unwrap().event).collect();
    let first = envs.iter().position(|e| matches!(e.event, Event::StopTriggered { .. })).unwrap();
    let before: Vec<_> =
        envs[..first].iter().map(|e| e.event.clone()).filter(|e| e.kind().group() != "stop").collect();
    assert_eq!(before[..], plain[..before.len()]);
}

/// Edits one number of one event — an order id, a price, a size or a tick — as a forger who
/// re-encodes the log (checksums repaired) would. `None` if the event has no such field.
fn edit(env: &Envelope, what: usize) -> Option<Envelope> {
    let mut e = env.clone();
    match (what, &mut e.event) {
        (0, Event::OrderPlaced { order }) => order.id.0 += 1,
        (1, Event::OrderPlaced { order }) if order.kind != crate::book::OrderKind::Market => {
            order.price.0 += 1
        }
        (2, Event::OrderPlaced { order }) => order.qty.0 += 1,
        (3, Event::Traded { price, .. }) => price.0 -= 1,
        (4, Event::Traded { qty, .. }) => qty.0 += 1,
        (5, Event::Traded { maker_order, .. }) => maker_order.0 += 1,
        (6, Event::OrderCancelled { order, .. }) => order.0 += 1,
        (7, Event::OrderCancelled { remaining, .. }) => remaining.0 += 1,
        (8, Event::OrderAmended { price, .. }) => price.0 += 1,
        (9, Event::OrderAmended { qty, .. }) => qty.0 += 1,
        (10, _) if env.tick > 1 => e.tick -= 1,
        (11, _) => e.tick += 1,
        _ => return None,
    }
    Some(e)
}

#[test]
fn any_edit_of_an_order_id_price_size_or_tick_fails_verification() {
    let cfg = busy_config();
    let (_, summary, log) = run_logged(&cfg);
    let reader = crate::events::LogReader::new(&log[..]).unwrap();
    let header = reader.header().clone();
    let envs: Vec<Envelope> = reader.map(|e| e.unwrap()).collect();
    let record = record_of(&summary, cfg.seed);
    let (mut tried, mut refused_by_replay) = (0, 0);
    // Walk the log with a stride that lands on events of every kind; try each edit in turn.
    let mut i = envs.len() / 3;
    while tried < 60 {
        i = (i + 7_919) % envs.len();
        let Some(edited) = edit(&envs[i], tried % 12) else { continue };
        tried += 1;
        let mut w = crate::events::LogWriter::new(Vec::new(), &header).unwrap();
        for (j, env) in envs.iter().enumerate() {
            w.append(if j == i { &edited } else { env }).unwrap();
        }
        let bytes = w.finish().unwrap();
        match crate::engine::replay(crate::events::LogReader::new(&bytes[..]).unwrap()) {
            Err(_) => refused_by_replay += 1,
            Ok(r) => {
                assert!(!r.mismatches(&record).is_empty(), "edit {} of event {i} went unnoticed", tried % 12)
            }
        }
    }
    eprintln!("{refused_by_replay} of {tried} edits refused by replay itself; the rest by the run's hashes");
    // Most edits break the book's own story (a fill it did not make, an order that is not
    // there, a tick out of order) and the log does not even replay; the rest change the
    // rebuilt state or the stream hash the run recorded.
    assert!(refused_by_replay * 2 > tried, "{refused_by_replay} of {tried} refused by replay itself");
}

/// The same scenario and seed give the same event stream in every process, on every machine of
/// this kind: a golden hash. If a change alters behaviour on purpose, update it and say why.
#[test]
fn golden_event_stream_hash() {
    let mut cfg = seed_config(500, 600, 0.05);
    cfg.holders.close_per_day = 20.0;
    let (summary, _) = run(&cfg);
    assert_eq!(summary.event_stream_hash, GOLDEN_STREAM_HASH, "{summary:?}");
}

const GOLDEN_STREAM_HASH: &str = "88c15f109ffb67461f044fc4fa05ed6b2ac428937a0ce07669b793474d1341a9";

/// The shock queue hands out what is due, market by market, in time order and, at equal ticks,
/// in the order queued: as a partition of the whole queue would, which it replaced.
#[test]
fn the_shock_queue_hands_out_the_due_front_in_order() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
    let shock = |rng: &mut rand::rngs::ChaCha8Rng, n: i64| Shock {
        tick: rng.random_range(0..50),
        side: Side::Sell,
        market: if rng.random_bool(0.5) { ShockMarket::Perp } else { ShockMarket::Spot },
        notional: Money(n),
    };
    let initial: Vec<Shock> = (0..300).map(|n| shock(&mut rng, n)).collect();
    let mut queue = ShockQueue::new(crate::book::AccountId(0), initial.clone());
    let mut reference = initial;
    reference.sort_by_key(|s| s.tick);
    for tick in 0..60 {
        for market in [ShockMarket::Spot, ShockMarket::Perp] {
            let (due, rest): (Vec<Shock>, Vec<Shock>) = std::mem::take(&mut reference)
                .into_iter()
                .partition(|s| s.tick <= tick && s.market == market);
            reference = rest;
            assert_eq!(queue.take_due(tick, market), due, "tick {tick}");
        }
        // What the band left is queued again for the next tick.
        let again = Shock { tick: tick + 1, ..shock(&mut rng, 1_000 + tick as i64) };
        queue.push(again.clone());
        reference.push(again);
    }
}

/// A $2B market sell on the spot venues takes the index, and the perp with it, far below the
/// fair value (two thirds of a taker's impact stays); the value traders buy the perp's
/// discount, the desks carry their buying to spot, and the index gives back more of its fall
/// with them than without.
#[test]
fn value_traders_buy_a_deep_discount_and_the_fall_retraces() {
    let mut cfg = seed_config(1_000, 1_200, 0.0);
    let notional = Money::usd(2_000_000_000);
    cfg.shocks = vec![Shock { tick: 60, side: Side::Sell, market: ShockMarket::Spot, notional }];
    let (with, m_with) = run(&cfg);
    let mut alone = cfg.clone();
    alone.value_traders.clear();
    let (_, m_without) = run(&alone);
    let start = cfg.start_price_usd();
    let low = |m: &Metrics| m.rows.iter().map(|r| r.index).fold(f64::INFINITY, f64::min);
    // The shock takes both below the lowest entry discount (2%) ...
    assert!(1.0 - low(&m_without) / start > 0.03, "{:?}", low(&m_without));
    assert!(1.0 - low(&m_with) / start > 0.03, "{:?}", low(&m_with));
    // ... and the value traders hold what they bought.
    assert!(with.value_position_usd > 1e8, "{with:?}");
    // At the end, the index has given back more of its fall with them (0.45 against 0.36 of
    // it: part of their buying is on the perp, which reaches spot only through the desks).
    let retrace = |m: &Metrics| (m.rows.last().unwrap().index - low(m)) / (start - low(m));
    let (r_with, r_without) = (retrace(&m_with), retrace(&m_without));
    assert!(r_with > r_without + 0.05, "retrace with {r_with:.3}, without {r_without:.3}");
}

#[test]
fn the_liquidity_provider_rebuilds_binance_like_depth() {
    let mut cfg = seed_config(1_000, 60, 0.0);
    cfg.index.volatility_per_sqrt_day = 0.0;
    let mut sim = Simulation::new(&cfg, None).unwrap();
    for _ in 0..40 {
        assert!(sim.step().unwrap());
    }
    let ex = sim.exchange();
    let tlv = ex.instrument().tick_lot_value() as i128;
    for side in [Side::Buy, Side::Sell] {
        let best = ex.book().best(side).unwrap();
        let within = ex.book().depth_notional_within(side, Price(best.0 / 100)) * tlv;
        let usd = within as f64 / 1e6;
        // The calibrated curve's $184M within 1% from the start: the level at the edge holds
        // out to halfway to the next one (12.5 bps further), and makers add a little.
        let c = crate::liquidity::DepthCurve::binance_btcusdt_perp();
        let (lo, hi) = (0.97 * c.depth_within(0.01), 1.05 * c.depth_within(0.01125));
        assert!(usd > lo && usd < hi, "{side:?}: {usd:.0} USD within 1%, want {lo:.0}–{hi:.0}");
    }
}

/// The shocks' seller: the one account opened with a trillion.
fn shock_seller(sim: &Simulation) -> AccountId {
    let ledger = sim.exchange().ledger();
    (0..ledger.accounts().len())
        .map(|i| AccountId(i as u32))
        .find(|&a| ledger.account(a).unwrap().balance >= Money::usd(1_000_000_000_000))
        .unwrap()
}

/// A provider that takes what it crosses (`LevelCrossing::Take`) buys what is offered under its bids.
/// A market sell takes its bids down; an ask then sent where they stood (under its anchor, over
/// what is left of the bids) rests, and the levels the provider refills there in the same tick
/// buy it, and rest above its price again. Post-only (`Refuse`), the book refuses every level
/// the ask lies under and the ask stays: the depth between it and the anchor is missing from the
/// book, not taken. Sliding (`Slide`, the default), those levels rest one tick under the ask
/// instead, and go back to their prices once it is gone.
#[test]
fn an_ask_left_under_the_provider_s_bids_is_bought_refused_or_slid_behind() {
    for crossing in [LevelCrossing::Take, LevelCrossing::Refuse, LevelCrossing::Slide] {
        ask_under_the_bids(crossing);
    }
}

fn ask_under_the_bids(crossing: LevelCrossing) {
    let mut cfg = seed_config(1_000, 200, 0.0);
    cfg.index.volatility_per_sqrt_day = 0.0;
    // Nobody else who could take the ask: only the provider, the map's holders and the seller.
    cfg.hunters.clear();
    cfg.makers.clear();
    cfg.arbitrageurs.clear();
    cfg.value_traders.clear();
    cfg.background.fcn = None;
    cfg.background.noise = None;
    cfg.liquidity.withdraw_flow_per_sec = Money::ZERO;
    cfg.liquidity.crossing = crossing;
    let notional = Money::usd(150_000_000);
    cfg.shocks = vec![Shock { tick: 40, side: Side::Sell, market: ShockMarket::Perp, notional }];
    let mut sim = Simulation::new(&cfg, None).unwrap();
    let seller = shock_seller(&sim);
    let best = |sim: &Simulation, side| sim.exchange().book().best(side).unwrap();
    let provider = {
        let mut q =
            sim.world.try_query::<(&Trader, &LiquidityProvider)>().expect("the provider is registered");
        q.iter(&sim.world).map(|(t, _)| t.account).next().expect("one provider")
    };
    let held = |sim: &Simulation, a| sim.exchange().ledger().account(a).unwrap().position.qty;
    let position = |sim: &Simulation| held(sim, seller);
    for _ in 0..39 {
        assert!(sim.step().unwrap());
    }
    let (bid_before, ask_before) = (best(&sim, Side::Buy), best(&sim, Side::Sell));
    assert!(sim.step().unwrap());
    let bid_after = best(&sim, Side::Buy);
    // The sell took the bids down by more than 0.2%: room for an ask between.
    assert!(bid_after.0 * 1000 < bid_before.0 * 998, "{bid_before:?} -> {bid_after:?}");
    assert!(best(&sim, Side::Sell) >= ask_before);
    let price = Price((bid_before.0 + bid_after.0) / 2);
    let qty = sim.exchange().instrument().qty_floor(2.0).unwrap();
    let (sold, bought) = (position(&sim), held(&sim, provider));
    let req = crate::engine::OrderRequest {
        account: seller,
        side: Side::Sell,
        kind: OrderKind::Gtc,
        price,
        qty,
        reduce_only: false,
    };
    // Matched first in the next tick, before the agents' orders: it rests over the bids left.
    sim.world.write_message(OrderIntent(req));
    assert!(sim.step().unwrap());
    let provider_bids = |sim: &Simulation, from: Price| -> Qty {
        let book = sim.exchange().book();
        Qty(book
            .orders_of(provider)
            .filter(|o| o.side == Side::Buy && o.price >= from)
            .map(|o| o.qty.0)
            .sum())
    };
    if crossing != LevelCrossing::Take {
        assert_eq!(position(&sim), sold, "nobody bought the ask");
        assert_eq!(held(&sim, provider), bought);
        assert_eq!(best(&sim, Side::Sell), price);
    }
    if crossing == LevelCrossing::Refuse {
        assert!(best(&sim, Side::Buy) < price);
        // The levels the ask lies under are not in the book: within 0.1% under the ask the
        // provider has only what has refilled of the levels the sell took there (9 BTC measured;
        // sliding, the levels over the ask's price rest there too: 44 BTC measured, below).
        let near = provider_bids(&sim, Price(price.0 - price.0 / 1000));
        assert!(near.0 < sim.exchange().instrument().qty_floor(20.0).unwrap().0, "{near:?}");
    } else if crossing == LevelCrossing::Slide {
        // They rest one tick under the ask, holding what they have refilled since the sell took
        // them (a 20 s half-life puts back 3.4% of a level's deficit a second): 44 BTC measured.
        let under = Price(price.0 - 1);
        assert_eq!(best(&sim, Side::Buy), under);
        let stacked = provider_bids(&sim, under);
        assert!(stacked.0 > sim.exchange().instrument().qty_floor(20.0).unwrap().0, "{stacked:?}");
        // Once the ask is gone, they move back up to their levels, over its price.
        // (The seller's buy meets its own ask, which self-trade prevention cancels.)
        let buy = crate::engine::OrderRequest { side: Side::Buy, kind: OrderKind::Ioc, qty: Qty(1), ..req };
        sim.world.write_message(OrderIntent(buy));
        assert!(sim.step().unwrap());
        assert!(best(&sim, Side::Sell) > price, "the ask is gone");
        assert!(best(&sim, Side::Buy) > price, "{:?} after the ask left", best(&sim, Side::Buy));
        assert!(provider_bids(&sim, price) >= stacked, "none of the slid depth was lost");
        // Every one of its orders rests at its own level again.
        let mut q = sim.world.try_query::<(&LiquidityProvider, &AgentOrders)>().expect("registered");
        let (_, orders) = q.iter(&sim.world).next().expect("one provider");
        let book = sim.exchange().book();
        assert!(!orders.live.is_empty());
        for o in &orders.live {
            assert_eq!(book.order(o.id).map(|r| r.price), Some(o.price), "{o:?}");
        }
    } else {
        assert_eq!(position(&sim), Qty(sold.0 - qty.0), "the ask was bought ...");
        assert_eq!(held(&sim, provider), Qty(bought.0 + qty.0), "... by the provider");
        assert!(best(&sim, Side::Buy) > price, "the provider's bids rest above the ask's price again");
        assert!(best(&sim, Side::Sell) > price);
    }
    sim.finish().unwrap();
}

#[test]
fn a_market_without_leverage_runs_with_no_map() {
    let mut cfg = seed_config(1_000, 120, 0.0);
    cfg.map.bands.clear();
    let (summary, _) = run(&cfg);
    assert_eq!(summary.ticks, 120);
    assert_eq!(summary.liquidated_accounts_long + summary.liquidated_accounts_short, 0);
}

/// The first error halts the run and stays its cause: systems that run later in the same tick
/// and fail because of it (a tick that cannot close) do not replace it.
#[test]
fn a_halt_keeps_its_first_error() {
    use crate::book::BookError;
    let mut halt = super::Halt::default();
    halt.stop(BookError::ZeroOrNegativeQty(crate::units::Qty(0)));
    halt.stop(BookError::SizeOverflow);
    assert!(
        matches!(halt.0, Some(crate::engine::EngineError::Book(BookError::ZeroOrNegativeQty(_)))),
        "{:?}",
        halt.0
    );
}

/// A perp shock larger than the book holds within the price band: the band stops each of its
/// market orders short and the seller sends what is left again the next tick, until its notional
/// is sold. Nothing fills beyond the band of the mark of the moment.
#[test]
fn a_shock_the_band_stops_short_is_sent_again_until_it_is_sold() {
    let mut cfg = seed_config(1_000, 600, 0.0);
    let notional = Money::usd(3_000_000_000);
    cfg.shocks = vec![Shock { tick: 60, side: Side::Sell, market: ShockMarket::Perp, notional }];
    let mut sim = Simulation::new(&cfg, None).unwrap();
    let seller = shock_seller(&sim);
    let sold = |sim: &Simulation| -sim.exchange().ledger().account(seller).unwrap().position.cost.0;
    while sold(&sim) == 0 {
        assert!(sim.step().unwrap(), "the shock never traded");
    }
    let first = sold(&sim);
    while sim.step().unwrap() {}
    let all = sold(&sim);
    // The first order took what the book held within 5% of the mark: well under the $3B.
    assert!(first > 0 && first < notional.0 * 3 / 4, "first tick sold {first}");
    // The rest followed, each order's share of the notional at the price of its tick: all of
    // it, less the prices falling under the shock.
    assert!(all > notional.0 * 9 / 10 && all <= notional.0, "sold {all} of {}", notional.0);
    sim.finish().unwrap();
}

/// The provider's levels sorted through packed integers come out as sorting the pairs gives:
/// buys before sells, each by price, across the whole range of positive prices.
#[test]
fn packed_levels_sort_as_the_pairs_do() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    for n in [0, 1, 2, 17, 300] {
        let live: Vec<(crate::book::OrderId, Side, Price, Qty)> = (0..n)
            .map(|i| {
                let side = if rng.random_bool(0.5) { Side::Buy } else { Side::Sell };
                let price = match i % 3 {
                    0 => Price(rng.random_range(1..2_000_000)),
                    1 => Price(i64::MAX - rng.random_range(0..5)),
                    _ => Price(1 + rng.random_range(0..5)),
                };
                (crate::book::OrderId(i), side, price, Qty(1))
            })
            .collect();
        let mut pairs: Vec<(Side, Price)> = live.iter().map(|l| (l.1, l.2)).collect();
        pairs.sort();
        assert_eq!(super::agents::sorted_levels(&live), pairs, "{n} levels");
    }
}
