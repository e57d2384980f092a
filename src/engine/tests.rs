//! Engine tests: liquidations through the book, ADL when the book cannot take them, partial
//! liquidation, and the insurance fund's floor — each checked against the ledger's invariants.

use super::*;
use crate::book::{AccountId, OrderKind};
use crate::events::{Envelope, Event, EventKind, LogReader};
use crate::margin::{self, MarginMode};
use crate::units::{Money, Price, Qty, Rate, Side};
use crate::venue::{LiquidationRules, VenuePreset};
use std::io::Write;
use std::sync::{Arc, Mutex};

/// A `Write` the test can read back after the exchange has finished with it.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const P70K: Price = Price(700_000);

struct Fixture {
    ex: Exchange,
    buf: SharedBuf,
    /// The current tick, and whether it has been closed (the next event opens another).
    tick: u64,
    closed: bool,
    long: AccountId,
    short: AccountId,
    lp: AccountId,
}

/// A long of `btc` at 70,000 with `margin_usd`, against a 1x short; an LP account with cash.
fn fixture(cfg: ExchangeConfig, btc: i64, margin_usd: i64, insurance_usd: i64) -> Fixture {
    let buf = SharedBuf::default();
    let out: Box<dyn Write + Send + Sync> = Box::new(buf.clone());
    let log = LogTarget { out, scenario_hash: [0; 32], seed: 1 };
    let mut ex = Exchange::new(cfg, P70K, Some(log)).unwrap();
    ex.fund_insurance(Money::usd(insurance_usd)).unwrap();
    let qty = Qty(btc * 1_000);
    let notional = ex.instrument().notional(P70K, qty).unwrap();
    let long = ex.open_account(Money::usd(margin_usd), 100).unwrap();
    let short = ex.open_account(notional, 1).unwrap();
    ex.record(
        Event::PositionSeeded {
            long,
            short,
            qty,
            price: P70K,
            long_margin: Money::usd(margin_usd),
            short_margin: notional,
        },
        None,
    )
    .unwrap();
    let lp = ex.open_account(Money::usd(10_000_000_000), 10).unwrap();
    ex.refresh_liquidation_index().unwrap();
    Fixture { ex, buf, tick: 0, closed: true, long, short, lp }
}

impl Fixture {
    /// Begins the next tick if the current one is closed: every event belongs to an open tick.
    fn open_tick(&mut self) {
        if self.closed {
            self.tick += 1;
            self.ex.begin_tick(self.tick);
            self.closed = false;
        }
    }

    fn bid(&mut self, usd: f64, btc: f64) {
        self.quote(Side::Buy, usd, btc);
    }

    /// The LP rests a GTC order on `side`, which must be accepted.
    fn quote(&mut self, side: Side, usd: f64, btc: f64) {
        self.open_tick();
        let inst = *self.ex.instrument();
        let req = OrderRequest {
            account: self.lp,
            side,
            kind: OrderKind::Gtc,
            price: inst.price(usd).unwrap(),
            qty: inst.qty(btc).unwrap(),
            reduce_only: false,
        };
        assert!(matches!(self.ex.submit(req, None).unwrap(), Submitted::Accepted { .. }));
    }

    /// Moves the market to `usd`: a small trade prints there (so last moves) and an ask rests
    /// just above (so mid is defined); then the index sits at `usd` for `ticks` ticks, which
    /// brings the mark there over the premium window. Conservation is checked every tick.
    fn drive(&mut self, usd: f64, ticks: u64) {
        self.open_tick();
        let inst = *self.ex.instrument();
        let index = inst.price(usd).unwrap();
        let seller = self.ex.open_account(Money::usd(1_000_000), 10).unwrap();
        let buyer = self.ex.open_account(Money::usd(1_000_000), 10).unwrap();
        for (account, side, kind, price) in [
            (seller, Side::Sell, OrderKind::Gtc, index),
            (buyer, Side::Buy, OrderKind::Ioc, index),
            (seller, Side::Sell, OrderKind::Gtc, Price(index.0 + 100)),
        ] {
            let req = OrderRequest { account, side, kind, price, qty: Qty(1), reduce_only: false };
            assert!(matches!(self.ex.submit(req, None).unwrap(), Submitted::Accepted { .. }));
        }
        assert_eq!(self.ex.last(), index);
        let shortfall = self.ex.ledger().insurance_shortfall();
        for _ in 0..ticks {
            self.open_tick();
            let seq = self.ex.update_prices(index).unwrap();
            self.ex.run_liquidations(seq).unwrap();
            self.ex.offload_insurance().unwrap();
            self.ex.close_tick(self.tick).unwrap();
            self.closed = true;
            let l = self.ex.ledger();
            assert_eq!(l.total_money(), l.deposits());
            let (long, short) = l.open_interest();
            assert_eq!(long, short);
            assert!(!l.insurance_fund().is_negative());
            // Liquidations keep their losses within the fund: no new shortfall.
            assert_eq!(l.insurance_shortfall(), shortfall);
        }
    }

    /// Seeds another long of `btc` at 70,000 with `margin_usd` against a short at `short_leverage`
    /// (posting its full notional at 1x); returns both.
    fn seed_pair(&mut self, btc: i64, margin_usd: i64, short_leverage: i64) -> (AccountId, AccountId) {
        self.open_tick();
        let qty = Qty(btc * 1_000);
        let notional = self.ex.instrument().notional(P70K, qty).unwrap();
        let short_margin = Money(notional.0 / short_leverage);
        let long = self.ex.open_account(Money::usd(margin_usd), 100).unwrap();
        let short = self.ex.open_account(short_margin, short_leverage as u32).unwrap();
        let ev = Event::PositionSeeded {
            long,
            short,
            qty,
            price: P70K,
            long_margin: Money::usd(margin_usd),
            short_margin,
        };
        self.ex.record(ev, None).unwrap();
        self.ex.refresh_liquidation_index().unwrap();
        (long, short)
    }

    fn events(mut self) -> (Exchange, Vec<Envelope>) {
        self.ex.finish().unwrap();
        let bytes = self.buf.0.lock().unwrap().clone();
        let events = LogReader::new(&bytes[..]).unwrap().map(|e| e.unwrap()).collect();
        (self.ex, events)
    }
}

/// Replaying the log rebuilds the exchange exactly: ledger, book and queue order.
fn assert_replays(ex: &Exchange, events: &[Envelope]) {
    let mut state = ExchangeState::new(ex.config(), P70K);
    for e in events {
        state.apply(e).unwrap_or_else(|err| panic!("event {}: {err}", e.seq));
    }
    assert_eq!(state.ledger().state_hash(), ex.ledger().state_hash());
    for side in [Side::Buy, Side::Sell] {
        let live: Vec<_> = ex.book().resting_orders(side).collect();
        let rebuilt: Vec<_> = state.book().resting_orders(side).collect();
        assert_eq!(rebuilt, live, "{side:?} book");
    }
    assert_eq!(state.state_hash(), ex.state_hash());
}

#[test]
fn a_breached_long_is_sold_into_the_book_and_its_surplus_feeds_the_insurance_fund() {
    // 1 BTC long at 70,000 with 3,500 margin (20x): liquidation near 66,800.
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 3_500, 1_000);
    let liq = f.ex.liquidation_index().get(f.long).unwrap().price;
    // The book bids well above bankruptcy (66,500): the fill leaves a surplus.
    f.bid(66_700.0, 5.0);
    f.drive(66_700.0, 40);
    assert!(f.ex.mark() <= liq, "mark {:?} never reached {liq:?}", f.ex.mark());
    let long = f.long;
    let insurance_before = Money::usd(1_000);
    let (ex, events) = f.events();
    let acct = ex.ledger().account(long).unwrap();
    assert!(acct.position.qty.is_zero());
    assert!(ex.ledger().insurance_fund() > insurance_before, "a fill above bankruptcy pays the fund");
    assert_eq!((ex.stats().accounts_long, ex.stats().adl_events), (1, 0));
    // The causal chain: trigger → liquidation order → its trade; the closing event names the trigger.
    let trigger = events.iter().find(|e| e.event.kind() == EventKind::LiquidationTriggered).unwrap();
    let Event::LiquidationTriggered { mark, liquidation_price, .. } = trigger.event else { unreachable!() };
    assert!(mark <= liquidation_price);
    let order = events
        .iter()
        .find(|e| matches!(e.event, Event::OrderPlaced { order } if order.flags.liquidation))
        .unwrap();
    assert_eq!(order.cause, Some(trigger.seq));
    let trade = events.iter().find(|e| matches!(e.event, Event::Traded { liquidation: true, .. })).unwrap();
    assert_eq!(trade.cause, Some(order.seq));
    let closed = events.iter().find(|e| e.event.kind() == EventKind::Liquidated).unwrap();
    assert_eq!(closed.cause, Some(trigger.seq));
    assert_replays(&ex, &events);
}

#[test]
fn what_the_book_cannot_take_is_deleveraged_at_the_bankruptcy_price() {
    let mut f = fixture(ExchangeConfig::btcusdt(), 2, 7_000, 10);
    // Only a sliver of bids, far below bankruptcy: the fund (10 USD) allows almost no slippage.
    f.bid(66_800.0, 0.001);
    f.bid(60_000.0, 50.0);
    f.drive(66_800.0, 40);
    let (long, short) = (f.long, f.short);
    let (ex, events) = f.events();
    assert!(ex.stats().adl_events >= 1, "{:?}", ex.stats());
    let adl = events.iter().find(|e| e.event.kind() == EventKind::AutoDeleveraged).unwrap();
    let Event::AutoDeleveraged { counterparty, price, .. } = adl.event else { unreachable!() };
    assert_eq!(counterparty, short, "the only opposite position is the 1x short");
    let Event::LiquidationTriggered { bankruptcy_price, .. } =
        events.iter().find(|e| e.event.kind() == EventKind::LiquidationTriggered).unwrap().event
    else {
        unreachable!()
    };
    assert_eq!(price, bankruptcy_price);
    assert!(ex.ledger().account(long).unwrap().position.qty.is_zero());
    // No fill happened at 60,000: the limit kept the fund's worst case covered.
    assert!(!events.iter().any(|e| matches!(e.event, Event::Traded { price, .. } if price < Price(660_000))));
    assert!(!ex.ledger().insurance_fund().is_negative());
    assert_replays(&ex, &events);
}

#[test]
fn a_large_position_is_first_cut_to_a_lower_tier() {
    let mut cfg = ExchangeConfig::btcusdt();
    // Above tier index 3 (12M cap, MMR 1%) the position is cut to that cap first.
    cfg.partial_liquidation_tier = Some(3);
    // 300 BTC at 70,000 = 21M notional (tier 4: MMR 2%), 5% margin.
    let mut f = fixture(cfg, 300, 1_050_000, 1_000_000);
    let liq = f.ex.liquidation_index().get(f.long).unwrap().price;
    let liq_usd = f.ex.instrument().price_f64(liq);
    // Deep bids a little under the liquidation price absorb the cut without reaching bankruptcy.
    f.bid(liq_usd - 20.0, 400.0);
    f.drive(liq_usd - 20.0, 40);
    let long = f.long;
    let (ex, events) = f.events();
    assert_eq!(ex.stats().partial_liquidations, 1, "{:?}", ex.stats());
    let left = ex.ledger().account(long).unwrap().position.qty;
    assert!(left.is_positive(), "the cut leaves a position");
    let left_value = ex.instrument().notional(ex.mark(), left).unwrap();
    assert!(left_value <= ex.config().tiers.tiers()[3].notional_cap);
    let closing = events.iter().find(|e| e.event.kind() == EventKind::Liquidated).unwrap();
    let Event::Liquidated { closed, fee, insurance_delta, .. } = closing.event else { unreachable!() };
    assert_eq!(closed, Qty(300_000).checked_sub(left).unwrap());
    assert_eq!(fee, insurance_delta);
    assert_replays(&ex, &events);
}

#[test]
fn an_unbreached_account_is_left_alone() {
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 3_500, 1_000);
    f.bid(69_000.0, 5.0);
    f.drive(69_000.0, 40);
    let long = f.long;
    let (ex, _) = f.events();
    assert_eq!(ex.stats().accounts_long, 0);
    assert_eq!(ex.ledger().account(long).unwrap().position.qty, Qty(1_000));
}

#[test]
fn funding_moves_money_from_longs_to_shorts_when_the_perp_trades_rich() {
    let mut cfg = ExchangeConfig::btcusdt();
    cfg.tick_secs = 60;
    cfg.funding_interval_secs = 3_600;
    let mut f = fixture(cfg, 1, 3_500, 1_000);
    // The book sits 100–150 USD above the 70,000 index: a positive premium.
    f.bid(70_100.0, 5.0);
    let inst = *f.ex.instrument();
    let ask = OrderRequest {
        account: f.lp,
        side: Side::Sell,
        kind: OrderKind::Gtc,
        price: inst.price(70_150.0).unwrap(),
        qty: inst.qty(5.0).unwrap(),
        reduce_only: false,
    };
    f.ex.submit(ask, None).unwrap();
    let (long, short) = (f.long, f.short);
    let before = |ex: &Exchange, a: AccountId| ex.ledger().account(a).unwrap().position.margin;
    let (long_before, short_before) = (before(&f.ex, long), before(&f.ex, short));
    let mut rate = None;
    for t in 1..=60 {
        f.ex.begin_tick(t);
        let seq = f.ex.update_prices(P70K).unwrap();
        f.ex.run_liquidations(seq).unwrap();
        if let Some(r) = f.ex.settle_funding_if_due().unwrap() {
            assert_eq!(t, 60, "funding falls due once an hour");
            rate = Some(r);
        }
        f.ex.close_tick(t).unwrap();
    }
    // Premium (70,100 − 70,000)/70,000 = 0.142857%; F = [P + clamp(0.01% − P, ±0.05%)] / 8
    // = (0.142857% − 0.05%) / 8 = 0.01160712% (truncated to 1e-8).
    assert_eq!(rate, Some(crate::units::Rate(11_607)));
    let paid = long_before.checked_sub(before(&f.ex, long)).unwrap();
    let received = before(&f.ex, short).checked_sub(short_before).unwrap();
    // 1 BTC × 70,000 × 0.00011607 = 8.1249 USD; the payer rounds up, the receiver down.
    assert_eq!(paid, Money(8_124_900));
    assert_eq!(received, Money(8_124_900));
    let l = f.ex.ledger();
    assert!(l.funding_pool().is_zero());
    assert_eq!(l.total_money(), l.deposits());
}

/// One hour of funding at `tick_secs` (see [`an_interval_of_funding`]).
fn an_hour_of_funding(tick_secs: u64) -> (Vec<Envelope>, Rate, Exchange) {
    an_interval_of_funding(tick_secs, 3_600)
}

/// One funding interval of `interval_secs` at `tick_secs` with the book at 70,100 / 70,150 (the
/// LP's 5 BTC each side): the index sits at 70,000 for the first half of the interval and at
/// 70,050 for the second. Returns the funding events, the accrued rate just before the
/// settlement, and the exchange.
fn an_interval_of_funding(tick_secs: u64, interval_secs: u64) -> (Vec<Envelope>, Rate, Exchange) {
    let mut cfg = ExchangeConfig::btcusdt();
    cfg.tick_secs = tick_secs;
    cfg.funding_interval_secs = interval_secs;
    let mut f = fixture(cfg, 1, 3_500, 1_000);
    f.bid(70_100.0, 5.0);
    let inst = *f.ex.instrument();
    let ask = OrderRequest {
        account: f.lp,
        side: Side::Sell,
        kind: OrderKind::Gtc,
        price: inst.price(70_150.0).unwrap(),
        qty: inst.qty(5.0).unwrap(),
        reduce_only: false,
    };
    f.ex.submit(ask, None).unwrap();
    f.ex.close_tick(f.tick).unwrap();
    let ticks = interval_secs / tick_secs;
    let mut accrued = Rate::ZERO;
    for t in 1..=ticks {
        let tick = f.tick + t;
        f.ex.begin_tick(tick);
        let index = if t * tick_secs <= interval_secs / 2 { P70K } else { Price(700_500) };
        let seq = f.ex.update_prices(index).unwrap();
        f.ex.run_liquidations(seq).unwrap();
        if t == ticks {
            accrued = f.ex.funding_rate_accrued().unwrap();
        }
        let settled = f.ex.settle_funding_if_due().unwrap();
        assert_eq!(settled.is_some(), t == ticks, "funding falls due once, at the interval's end");
        f.ex.close_tick(tick).unwrap();
    }
    f.closed = true;
    let (ex, events) = f.events();
    assert_replays(&ex, &events);
    (events, accrued, ex)
}

/// The premium index is sampled every 5 seconds of simulated time whatever the tick: 720
/// samples an hour, with ticks of 1 s, 5 s, 10 s or 60 s (a long tick takes all the samples
/// that fall in it, at its prices), and the same weighted average and rate come out.
///
/// Worked by hand: impact bid 70,100 and ask 70,150 (5 BTC a side, far more than the 25,000
/// USD impact notional) against index 70,000 give P = 100/70,000 = 0.142857% (142,857e-8)
/// for samples 1–360, against 70,050 P = 50/70,050 = 0.071377% for samples 361–720. Weights:
/// Σ 1..360 = 64,980, Σ 361..720 = 194,580, Σ 1..720 = 259,560, so
/// P_avg = (142,857·64,980 + 71,377·194,580)/259,560 = 23,171,384,520/259,560 = 89,271.79… →
/// 0.089271% (the plain mean would be 0.107117%: the later, cheaper half weighs more).
/// F(8 h) = P + clamp(0.01% − P, ±0.05%) = 0.089271% − 0.05% = 0.039271%; for a 1-hour interval
/// × 1/8 = 0.004908875% → 0.004908% (truncated).
#[test]
fn the_premium_is_sampled_every_5_seconds_and_averaged_with_increasing_weights() {
    let mut rates = Vec::new();
    for tick_secs in [1, 5, 10, 60] {
        let (events, accrued, ex) = an_hour_of_funding(tick_secs);
        let set: Vec<_> = kinds(&events, EventKind::FundingRateSet);
        let [Event::FundingRateSet { rate, premium, samples, .. }] = &set[..] else {
            panic!("one funding rate, got {set:?}")
        };
        assert_eq!((*samples, *premium, *rate), (720, Rate(89_271), Rate(4_908)), "{tick_secs} s ticks");
        // What the series reported just before the settlement is the rate it fixed.
        assert_eq!(accrued, *rate, "{tick_secs} s ticks");
        let sampled: u64 = events
            .iter()
            .filter_map(|e| match e.event {
                Event::MarkUpdated { sample: Some(s), round, .. } => {
                    assert_eq!(round, 0, "samples come with the tick's price update");
                    Some(u64::from(s.samples))
                }
                _ => None,
            })
            .sum();
        assert_eq!(sampled, 720);
        // Right after the settlement the accrued rate is the one just fixed.
        assert_eq!(ex.funding_rate_accrued().unwrap(), *rate);
        assert_eq!(ex.state().funding_premium().samples(), 0);
        rates.push(*rate);
    }
    assert!(rates.iter().all(|r| *r == rates[0]));
}

/// 4- and 8-hour intervals, the book and index as in the hourly test (the index steps up half
/// way): 2,880 and 5,760 samples by 60-second ticks, one settlement at the interval's end, the
/// rate scaled by N/8. By hand, with h = n/2 samples at 0.142857% and h at 0.071377%:
///
/// ```text
/// n = 2,880: Σ1..1,440 = 1,037,520, Σ1..2,880 = 4,148,640;
///   P_avg = (142,857·1,037,520 + 71,377·3,111,120)/4,148,640 = 370,279,406,880/4,148,640
///         = 89,253.20… → 0.089253%;  F = (0.089253% − 0.05%)·4/8 = 0.0196265% → 0.019626%
/// n = 5,760: Σ1..2,880 = 4,148,640, Σ1..5,760 = 16,591,680;
///   P_avg = 1,480,809,130,560/16,591,680 = 89,250.10… → 0.089250%;  F = 0.089250% − 0.05% = 0.039250%
/// ```
#[test]
fn four_and_eight_hour_intervals_pay_once_at_their_end_from_all_their_samples() {
    for (hours, samples_want, premium_want, rate_want) in
        [(4, 2_880, 89_253, 19_626), (8, 5_760, 89_250, 39_250)]
    {
        let (events, accrued, _) = an_interval_of_funding(60, hours * 3_600);
        let set: Vec<_> = kinds(&events, EventKind::FundingRateSet);
        let [Event::FundingRateSet { rate, premium, samples, .. }] = &set[..] else {
            panic!("one funding rate in {hours} h, got {set:?}")
        };
        assert_eq!(
            (*samples, *premium, *rate),
            (samples_want, Rate(premium_want), Rate(rate_want)),
            "{hours} h"
        );
        assert_eq!(accrued, *rate, "{hours} h");
        // Paid on notional at the mark: the fixture's long pays, the shorts receive.
        assert!(!kinds(&events, EventKind::FundingPaid).is_empty(), "{hours} h");
    }
}

#[test]
fn a_forged_premium_sample_or_funding_rate_does_not_replay() {
    let (events, _, ex) = an_hour_of_funding(60);
    let replay = |events: &[Envelope]| {
        let mut state = ExchangeState::new(ex.config(), P70K);
        events.iter().try_for_each(|e| state.apply(e).map_err(|err| (e.seq, err)))
    };
    assert!(replay(&events).is_ok());
    // Edits the first event `edit` changes; returns where the replay stopped, the edited
    // event's seq, and why.
    let forge = |edit: &dyn Fn(&mut Event) -> bool| {
        let mut forged = events.clone();
        let i = forged.iter_mut().position(|e| edit(&mut e.event)).expect("an event to forge");
        let seq = forged[i].seq;
        let (at, err) = replay(&forged).unwrap_err();
        (at, seq, err)
    };
    let sample = |e: &mut Event, f: &dyn Fn(&mut crate::events::PremiumSample)| match e {
        Event::MarkUpdated { sample: Some(s), .. } => {
            f(s);
            true
        }
        _ => false,
    };
    // An impact price the book did not give, a premium its prices do not give: refused there.
    let (at, seq, err) = forge(&|e| sample(e, &|s| s.impact_bid.0 += 1));
    assert!(at == seq && matches!(err, StateError::Mismatch { .. }), "{err}");
    let (at, seq, err) = forge(&|e| sample(e, &|s| s.premium.0 += 1));
    assert!(at == seq && matches!(err, StateError::Funding { .. }), "{err}");
    // One sample too many: the rate then disagrees with the samples.
    let (at, seq, err) = forge(&|e| sample(e, &|s| s.samples += 1));
    assert!(at > seq && matches!(err, StateError::Funding { .. }), "{err}");
    // A rate or an average off by 1e-8, a sample count that is not the interval's.
    for field in 0..3 {
        let (at, seq, err) = forge(&|e| match e {
            Event::FundingRateSet { rate, premium, samples, .. } => {
                match field {
                    0 => rate.0 += 1,
                    1 => premium.0 -= 1,
                    _ => *samples -= 1,
                }
                true
            }
            _ => false,
        });
        assert!(at == seq && matches!(err, StateError::Funding { .. }), "{err}");
    }
}

/// 1 BTC long at 70,000 margined cross: 3,500 posted and 3,500 free, a wallet of 7,000, beside
/// the fixture's isolated long with the same 3,500 margin. Returns the cross account.
fn seed_cross_long(f: &mut Fixture) -> AccountId {
    f.open_tick();
    let qty = Qty(1_000);
    let notional = f.ex.instrument().notional(P70K, qty).unwrap();
    let cross = f.ex.open_account_in(MarginMode::Cross, Money::usd(7_000), 100).unwrap();
    let short = f.ex.open_account(notional, 1).unwrap();
    let ev = Event::PositionSeeded {
        long: cross,
        short,
        qty,
        price: P70K,
        long_margin: Money::usd(3_500),
        short_margin: notional,
    };
    f.ex.record(ev, None).unwrap();
    f.ex.refresh_liquidation_index().unwrap();
    cross
}

/// The same position and the same 3,500 margin: isolated, it is liquidated near 66,784; cross,
/// its free 3,500 backs it too and it survives the move, to be liquidated at the cross price.
///
/// Worked by hand (Binance's cross formula with no other position, tier 2 at 70,000 notional:
/// MMR 0.5%, cum 50): isolated LP = (3,500 + 50 − 70,000)/(0.005 − 1) = 66,783.92 → 66,784.0;
/// cross LP = (WB − TMM1 + UPNL1 + cum − s·EP)/(|s|·MMR − s) = (7,000 − 0 + 0 + 50 − 70,000)/
/// (0.005 − 1) = 63,266.33 → 63,266.4 (longs round up to the 0.1 tick); bankruptcy
/// 70,000 − 7,000 = 63,000.
#[test]
fn a_cross_account_survives_a_move_that_liquidates_the_isolated_one_and_falls_at_the_cross_price() {
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 3_500, 1_000);
    let cross = seed_cross_long(&mut f);
    let (isolated, lp) = (f.long, f.lp);
    let index = |f: &Fixture, a| f.ex.liquidation_index().get(a).unwrap().price;
    assert_eq!(index(&f, isolated), Price(667_840));
    assert_eq!(index(&f, cross), Price(632_664));
    let a = *f.ex.ledger().account(cross).unwrap();
    let by_formula = margin::liquidation_price_cross_tiered(
        f.ex.instrument(),
        &f.ex.config().tiers,
        a.position.qty,
        a.position.cost,
        Money::usd(7_000),
        margin::CrossOthers::default(),
    );
    assert_eq!(by_formula, Ok(Some(Price(632_664))));

    f.bid(66_700.0, 5.0);
    f.drive(66_700.0, 40);
    assert!(f.ex.ledger().account(isolated).unwrap().position.qty.is_zero(), "isolated: liquidated");
    let a = *f.ex.ledger().account(cross).unwrap();
    assert_eq!(a.position.qty, Qty(1_000), "cross: its free balance carries it through");
    assert_eq!(f.ex.stats().accounts_long, 1);

    // Take the old bids away, bid at 63,200 and bring the mark there.
    f.open_tick();
    let resting: Vec<_> = f.ex.book().orders_of(lp).map(|o| o.id).collect();
    for id in resting {
        assert!(f.ex.cancel(lp, id, None).unwrap());
    }
    f.bid(63_200.0, 5.0);
    f.drive(63_200.0, 40);
    let fund_before = Money::usd(1_000);
    let (ex, events) = f.events();
    let a = *ex.ledger().account(cross).unwrap();
    assert!(a.position.qty.is_zero());
    // The whole wallet went down with the position: nothing is left free.
    assert_eq!((a.balance, a.position.margin), (Money::ZERO, Money::ZERO));
    let trigger = events
        .iter()
        .find_map(|e| match e.event {
            Event::LiquidationTriggered {
                account,
                liquidation_price,
                bankruptcy_price,
                mark,
                equity,
                ..
            } if account == cross => Some((liquidation_price, bankruptcy_price, mark, equity)),
            _ => None,
        })
        .expect("the cross account is liquidated");
    let (liquidation_price, bankruptcy_price, mark, equity) = trigger;
    assert_eq!((liquidation_price, bankruptcy_price), (Price(632_664), Price(630_000)));
    assert!(mark <= liquidation_price);
    // Equity on the whole wallet: 7,000 + (mark − 70,000) for 1 BTC.
    let upnl = ex.instrument().notional(mark, Qty(1_000)).unwrap().0 - Money::usd(70_000).0;
    assert_eq!(equity, Money(Money::usd(7_000).0 + upnl));
    // Sold at 63,200, 200 above bankruptcy: the 200 left of the wallet went to the fund, besides
    // what the isolated long's liquidation left it.
    let closed = events
        .iter()
        .find_map(|e| match e.event {
            Event::Liquidated { account, insurance_delta, .. } if account == cross => Some(insurance_delta),
            _ => None,
        })
        .unwrap();
    assert_eq!(closed, Money::usd(200));
    assert!(ex.ledger().insurance_fund() > fund_before.checked_add(closed).unwrap());
    assert_replays(&ex, &events);
}

fn venue(preset: VenuePreset) -> ExchangeConfig {
    ExchangeConfig { liquidation: LiquidationRules::of(preset), ..ExchangeConfig::btcusdt() }
}

fn kinds(events: &[Envelope], kind: EventKind) -> Vec<&Event> {
    events.iter().filter(|e| e.event.kind() == kind).map(|e| &e.event).collect()
}

fn liquidation_fills(events: &[Envelope]) -> usize {
    events.iter().filter(|e| matches!(e.event, Event::Traded { liquidation: true, .. })).count()
}

/// Binance: the liquidation order is limited at the bankruptcy price, so bids below it are left
/// alone; the insurance fund takes the whole position over at the bankruptcy price (it can
/// afford it) and works it off into the book afterwards. No ADL.
#[test]
fn binance_never_fills_worse_than_bankruptcy_and_the_fund_takes_over_and_offloads() {
    // 2 BTC long at 70,000 with 7,000 margin: bankruptcy at 66,500.
    let mut f = fixture(venue(VenuePreset::Binance), 2, 7_000, 1_000_000);
    f.bid(66_450.0, 5.0);
    f.drive(66_450.0, 120);
    let long = f.long;
    let (ex, events) = f.events();
    assert_eq!(liquidation_fills(&events), 0, "no fill below the bankruptcy price");
    let takeovers = kinds(&events, EventKind::InsuranceTakeover);
    assert_eq!(
        takeovers,
        [&Event::InsuranceTakeover { account: long, qty: Qty(2_000), price: Price(665_000) }]
    );
    assert!(kinds(&events, EventKind::AutoDeleveraged).is_empty(), "the fund could absorb it: no ADL");
    assert!(ex.ledger().account(long).unwrap().position.qty.is_zero());
    // The fund offloads into the 66,450 bids (within 1% of the mark), a few lots a tick.
    let held = ex.ledger().insurance_position().qty;
    assert!(held.is_positive() && held < Qty(2_000), "fund still holds {held:?}");
    let offloaded: Vec<_> = events
        .iter()
        .filter_map(|e| match e.event {
            Event::Traded { taker, price, qty, .. } if taker == AccountId::INSURANCE_FUND => {
                Some((price, qty))
            }
            _ => None,
        })
        .collect();
    assert!(offloaded.len() > 50, "one offload a tick: {}", offloaded.len());
    assert!(offloaded.iter().all(|&(p, _)| p == Price(664_500)));
    // Bought at 66,500, sold at 66,450 plus taker fees: the fund is losing on it.
    assert!(ex.fund_pnl().unwrap() < 0);
    assert_eq!(ex.stats().insurance_takeovers, 1);
    assert_replays(&ex, &events);
}

/// Binance: the fund's net position is capped at its balance; only what would exceed the cap
/// is auto-deleveraged, and an empty fund takes nothing.
#[test]
fn adl_takes_only_what_the_funds_cap_or_an_empty_fund_leaves() {
    for (fund_usd, takeover_lots) in [(1_000, 15), (0, 0)] {
        let mut f = fixture(venue(VenuePreset::Binance), 2, 7_000, fund_usd);
        f.drive(66_450.0, 40);
        let (long, short) = (f.long, f.short);
        let (ex, events) = f.events();
        let taken: i64 = kinds(&events, EventKind::InsuranceTakeover)
            .iter()
            .map(|e| match e {
                Event::InsuranceTakeover { qty, .. } => qty.0,
                _ => 0,
            })
            .sum();
        // 1,000 USD of fund at a mark near 66,450 (66.45 USD a lot): 15 lots.
        assert_eq!(taken, takeover_lots, "fund {fund_usd}");
        let adl: i64 = kinds(&events, EventKind::AutoDeleveraged)
            .iter()
            .map(|e| match e {
                Event::AutoDeleveraged { counterparty, qty, .. } => {
                    assert_eq!(*counterparty, short);
                    qty.0
                }
                _ => 0,
            })
            .sum();
        assert_eq!(adl, 2_000 - takeover_lots, "fund {fund_usd}: ADL exactly what the fund could not take");
        assert!(ex.ledger().account(long).unwrap().position.qty.is_zero());
        assert_replays(&ex, &events);
    }
}

/// Bybit: the liquidation engine takes the position over at the bankruptcy price at once; the
/// account sends no order of its own even with bids above its bankruptcy price, and the fund
/// earns the difference when it works the position off into them.
#[test]
fn bybit_takes_over_at_bankruptcy_at_once_and_the_fund_earns_the_book_s_better_price() {
    let mut f = fixture(venue(VenuePreset::Bybit), 2, 7_000, 1_000_000);
    f.bid(66_700.0, 5.0);
    f.drive(66_700.0, 60);
    let long = f.long;
    let (ex, events) = f.events();
    assert!(
        !events.iter().any(|e| matches!(e.event, Event::OrderPlaced { order } if order.flags.liquidation))
    );
    assert_eq!(
        kinds(&events, EventKind::InsuranceTakeover),
        [&Event::InsuranceTakeover { account: long, qty: Qty(2_000), price: Price(665_000) }]
    );
    assert!(ex.fund_pnl().unwrap() > 0, "bought at 66,500, sold at 66,700");
    assert_replays(&ex, &events);
}

/// Bybit: while the fund is more than 30% below its highest balance of the last 8 hours, what
/// the market does not close is deleveraged, not taken over.
#[test]
fn bybit_deleverages_instead_while_the_fund_is_in_a_deep_drawdown() {
    // A tick with the fund at 10,000; then it pays 6,512 for a fill beyond bankruptcy: a 65%
    // drawdown from its highest balance of the last 8 hours.
    let mut f = fixture(venue(VenuePreset::Bybit), 1, 3_500, 10_000);
    f.drive(69_990.0, 1);
    sell_beyond_bankruptcy(&mut f);
    assert_eq!(f.ex.ledger().insurance_fund(), Money::usd(10_000 - 6_512));
    let (long2, short2) = f.seed_pair(1, 3_500, 100);
    f.drive(66_500.0, 40);
    let (ex, events) = f.events();
    assert!(kinds(&events, EventKind::InsuranceTakeover).is_empty(), "the fund is in drawdown");
    let adl = kinds(&events, EventKind::AutoDeleveraged);
    assert!(!adl.is_empty());
    assert!(ex.ledger().account(long2).unwrap().position.qty.is_zero());
    let _ = short2;
    assert_replays(&ex, &events);
}

/// Hyperliquid: the liquidation is a market order, so it fills below the bankruptcy price (the
/// fund pays the difference); with an empty book, the backstop takes over only once equity is
/// below two-thirds of maintenance, and until then the account keeps its position.
#[test]
fn hyperliquid_sells_at_market_and_the_backstop_waits_for_two_thirds_of_maintenance() {
    let mut f = fixture(venue(VenuePreset::Hyperliquid), 2, 7_000, 1_000);
    f.bid(66_450.0, 5.0);
    f.drive(66_450.0, 40);
    let (ex, events) = f.events();
    assert_eq!(liquidation_fills(&events), 1, "the market order sells into the bids below bankruptcy");
    let Event::Liquidated { insurance_delta, .. } = kinds(&events, EventKind::Liquidated)[0] else {
        unreachable!()
    };
    assert_eq!(*insurance_delta, Money::usd(-100), "2 BTC × 50 USD below bankruptcy, paid by the fund");
    assert_replays(&ex, &events);

    // 2 BTC at 70,000 with 7,000: maintenance ~618 near 66,800; two-thirds of it ~410, reached
    // near 66,700. With no bids at all, at 66,780 the account is liquidated but keeps its
    // position; at 66,600 the backstop takes it over.
    let mut f = fixture(venue(VenuePreset::Hyperliquid), 2, 7_000, 1_000_000);
    let long = f.long;
    f.drive(66_780.0, 40);
    assert_eq!(f.ex.ledger().account(long).unwrap().position.qty, Qty(2_000), "kept above 2/3 MM");
    assert!(f.ex.stats().liquidations_long >= 1);
    assert!(f.ex.ledger().insurance_position().qty.is_zero());
    f.drive(66_600.0, 40);
    assert!(f.ex.ledger().account(long).unwrap().position.qty.is_zero(), "taken over below 2/3 MM");
    let (ex, events) = f.events();
    assert_eq!(kinds(&events, EventKind::InsuranceTakeover).len(), 1);
    assert_eq!(ex.stats().accounts_long, 1, "one account, however many times it was triggered");
    assert_replays(&ex, &events);
}

/// 1 BTC long at 70,000 with 3,500 margin and a fund of `insurance_usd`; the long rests a sell
/// at 60,000 (10,000 below entry) and a buyer lifts it: a loss of 6,500 beyond the margin plus
/// a 12 USD maker fee (0.02% of 60,000). Returns the fixture and the long.
fn fill_a_sell_beyond_bankruptcy(cfg: ExchangeConfig, insurance_usd: i64) -> (Fixture, AccountId) {
    let mut f = fixture(cfg, 1, 3_500, insurance_usd);
    let long = f.long;
    sell_beyond_bankruptcy(&mut f);
    (f, long)
}

/// The fixture's long rests a sell at 60,000 and a buyer lifts it.
fn sell_beyond_bankruptcy(f: &mut Fixture) {
    f.open_tick();
    let inst = *f.ex.instrument();
    let long = f.long;
    let sell = OrderRequest {
        account: long,
        side: Side::Sell,
        kind: OrderKind::Gtc,
        price: inst.price(60_000.0).unwrap(),
        qty: Qty(1_000),
        reduce_only: true,
    };
    assert!(matches!(f.ex.submit(sell, None).unwrap(), Submitted::Accepted { rested: Qty(1_000), .. }));
    let buyer = f.ex.open_account(Money::usd(100_000), 10).unwrap();
    let buy = OrderRequest {
        account: buyer,
        side: Side::Buy,
        kind: OrderKind::Market,
        price: Price::ZERO,
        qty: Qty(1_000),
        reduce_only: false,
    };
    f.ex.submit(buy, None).unwrap();
}

#[test]
fn a_resting_order_filled_beyond_bankruptcy_takes_the_bankruptcy_path_instead_of_halting() {
    // The fill cannot be refused (the book matched it), so the account is taken over first and
    // the fund pays the deficit.
    let (f, long) = fill_a_sell_beyond_bankruptcy(ExchangeConfig::btcusdt(), 10_000);
    let l = f.ex.ledger();
    assert_eq!(l.total_money(), l.deposits());
    assert_eq!(f.ex.stats().bankrupt_fills, 1);
    assert_eq!(f.ex.stats().accounts_long, 1);
    assert!(l.account(long).unwrap().position.qty.is_zero());
    // 10,000 loss − 3,500 margin + 12 maker fee: the fund pays 6,512.
    assert_eq!(l.insurance_fund(), Money::usd(10_000 - 6_512));
    assert!(l.insurance_shortfall().is_zero());
    let (ex, events) = f.events();
    assert_replays(&ex, &events);
}

#[test]
fn a_deficit_beyond_the_insurance_fund_is_absorbed_by_the_venue_not_a_halt() {
    // The same 6,512 deficit against a fund of 1,000: the fund pays all it has, the venue the
    // other 5,512, and money is still conserved to the unit.
    let (mut f, long) = fill_a_sell_beyond_bankruptcy(ExchangeConfig::btcusdt(), 1_000);
    let l = f.ex.ledger();
    assert!(l.account(long).unwrap().position.qty.is_zero());
    assert_eq!((l.insurance_fund(), l.insurance_shortfall()), (Money::ZERO, Money::usd(5_512)));
    assert_eq!(l.total_money(), l.deposits());
    // The engine goes on trading with an empty fund.
    f.drive(69_000.0, 5);
    let l = f.ex.ledger();
    assert_eq!(l.total_money(), l.deposits());
    let (ex, events) = f.events();
    assert_replays(&ex, &events);
}

/// At every tier boundary, new exposure is margined at the maximum leverage of the tier the
/// position lands in, whatever leverage the account asks for (125x here): exactly at a cap the
/// tier's own leverage applies, one lot over it the next tier's. The check and the margin the
/// fill posts agree to the micro-USD.
#[test]
fn new_exposure_is_margined_at_the_tier_cap_at_every_boundary() {
    let cfg = ExchangeConfig::btcusdt();
    let tiers = cfg.tiers.clone();
    let inst = cfg.instrument;
    let price = Price(1_000_000); // 100,000 USD: one lot is worth 100 USD
    let lot_value = inst.notional(price, Qty(1)).unwrap().0;
    let rows = tiers.tiers();
    for (i, tier) in rows.iter().enumerate() {
        let at_cap = Qty(tier.notional_cap.0 / lot_value);
        let mut cases = vec![(at_cap, tier.max_leverage)];
        if let Some(next) = rows.get(i + 1) {
            cases.push((Qty(at_cap.0 + 1), next.max_leverage));
        }
        for (lots, leverage) in cases {
            let notional = inst.notional(price, lots).unwrap();
            let margin = Money((notional.0 + leverage as i64 - 1) / leverage as i64);
            let needed = margin.checked_add(crate::margin::fee(notional, cfg.taker_fee).unwrap()).unwrap();
            for (balance, accepted) in [(Money(needed.0 - 1), false), (needed, true)] {
                let mut ex = Exchange::new(cfg.clone(), price, None).unwrap();
                let lp = ex.open_account(Money::usd(10_000_000_000), 1).unwrap();
                let ask = OrderRequest {
                    account: lp,
                    side: Side::Sell,
                    kind: OrderKind::Gtc,
                    price,
                    qty: lots,
                    reduce_only: false,
                };
                assert!(matches!(ex.submit(ask, None).unwrap(), Submitted::Accepted { .. }));
                let taker = ex.open_account(balance, 125).unwrap();
                let buy = OrderRequest {
                    account: taker,
                    side: Side::Buy,
                    kind: OrderKind::Ioc,
                    price,
                    qty: lots,
                    reduce_only: false,
                };
                let what = format!("tier {i}, {lots:?} ({notional:?}) at {leverage}x with {balance:?}");
                match ex.submit(buy, None).unwrap() {
                    Submitted::Accepted { filled, .. } => {
                        assert!(accepted, "{what}: accepted one micro-USD short");
                        assert_eq!(filled, lots, "{what}");
                        assert_eq!(ex.ledger().account(taker).unwrap().position.margin, margin, "{what}");
                    }
                    Submitted::Rejected(reason) => {
                        assert!(!accepted, "{what}: rejected ({reason:?}) with exactly enough");
                        assert_eq!(reason, RejectReason::InsufficientMargin, "{what}");
                    }
                }
            }
        }
    }
}

mod band;
mod stops;
