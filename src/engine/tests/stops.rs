//! Stop orders through the engine: a gap through the stop, several stops at one price, mark
//! against last, a stop that starts a liquidation cascade, and replay refusing a trigger out of
//! line.

use super::*;
use crate::book::{StopId, StopKind, TriggerSource};
use crate::events::{CancelReason, RejectReason, Seq, TriggerReason};

fn usd(f: &Fixture, usd: f64) -> Price {
    f.ex.instrument().price(usd).unwrap()
}

fn btc(f: &Fixture, btc: f64) -> Qty {
    f.ex.instrument().qty(btc).unwrap()
}

impl Fixture {
    /// A reduce-only sell stop-market of `qty` lots for `account`, which must be accepted.
    fn sell_stop(&mut self, account: AccountId, source: TriggerSource, trigger: Price, qty: Qty) -> StopId {
        self.open_tick();
        let req = StopRequest {
            account,
            side: Side::Sell,
            kind: StopKind::StopMarket,
            source,
            trigger,
            qty,
            reduce_only: true,
        };
        match self.ex.place_stop(req, None).unwrap() {
            StopSubmitted::Accepted(id) => id,
            StopSubmitted::Rejected(r) => panic!("stop refused: {r:?}"),
        }
    }

    /// The LP bids `btc` at `price`.
    fn bid_at(&mut self, price: Price, btc: f64) {
        self.open_tick();
        let qty = self.ex.instrument().qty(btc).unwrap();
        let req = OrderRequest {
            account: self.lp,
            side: Side::Buy,
            kind: OrderKind::Gtc,
            price,
            qty,
            reduce_only: false,
        };
        assert!(matches!(self.ex.submit(req, None).unwrap(), Submitted::Accepted { .. }));
    }

    /// A fresh account sells `btc` at market: the trade that moves last.
    fn market_sell(&mut self, btc: f64) {
        self.open_tick();
        let seller = self.ex.open_account(Money::usd(1_000_000), 10).unwrap();
        let qty = self.ex.instrument().qty(btc).unwrap();
        let req = OrderRequest {
            account: seller,
            side: Side::Sell,
            kind: OrderKind::Market,
            price: Price::ZERO,
            qty,
            reduce_only: false,
        };
        assert!(matches!(self.ex.submit(req, None).unwrap(), Submitted::Accepted { .. }));
    }

    /// One tick with the index at `usd`: prices, liquidations, the fund's offload, close.
    fn step(&mut self, usd: f64) {
        self.open_tick();
        let index = self.ex.instrument().price(usd).unwrap();
        let seq = self.ex.update_prices(index).unwrap();
        self.ex.run_liquidations(seq).unwrap();
        self.ex.offload_insurance().unwrap();
        self.ex.close_tick(self.tick).unwrap();
        self.closed = true;
        let l = self.ex.ledger();
        assert_eq!(l.total_money(), l.deposits(), "money not conserved");
        let (long, short) = l.open_interest();
        assert_eq!(long, short);
    }
}

/// The triggers in the log, in order: (seq, the stop, the price that reached it, cause).
fn triggers(events: &[Envelope]) -> Vec<(Seq, crate::book::NewStop, Price, Option<Seq>)> {
    events
        .iter()
        .filter_map(|e| match e.event {
            Event::StopTriggered { stop, price } => Some((e.seq, stop, price, e.cause)),
            _ => None,
        })
        .collect()
}

/// Each trigger is followed at once by its market order, caused by it; returns the prices that
/// order traded at.
fn fills_of_trigger(events: &[Envelope], trigger: Seq) -> Vec<Price> {
    let i = events.iter().position(|e| e.seq == trigger).unwrap();
    let order = &events[i + 1];
    let Event::OrderPlaced { order: o } = order.event else { panic!("after the trigger: {:?}", order.event) };
    assert_eq!(order.cause, Some(trigger));
    assert_eq!(o.kind, OrderKind::Market);
    events
        .iter()
        .filter_map(|e| match e.event {
            Event::Traded { taker_order, price, .. } if taker_order == o.id => Some(price),
            _ => None,
        })
        .collect()
}

fn liquidation_of(events: &[Envelope], account: AccountId) -> Option<Seq> {
    events.iter().find_map(|e| match e.event {
        Event::LiquidationTriggered { account: a, reason: TriggerReason::Maintenance, .. }
            if a == account =>
        {
            Some(e.seq)
        }
        _ => None,
    })
}

#[test]
fn a_gap_through_a_stop_triggers_it_at_the_price_gapped_to_and_it_fills_below_its_trigger() {
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 20_000, 1_000);
    let (long, trigger) = (f.long, usd(&f, 69_000.0));
    let (other, _) = f.seed_pair(1, 20_000, 1);
    let by_last = f.sell_stop(long, TriggerSource::Last, trigger, btc(&f, 1.0));
    let by_mark = f.sell_stop(other, TriggerSource::Mark, trigger, btc(&f, 1.0));
    // Nothing bid between 70,000 and 68,000: the next trade gaps through 69,000.
    f.bid(68_000.0, 0.01);
    f.bid(67_900.0, 5.0);
    f.market_sell(0.01);
    assert_eq!(f.ex.last(), usd(&f, 67_900.0), "the stop's sale moved last");
    assert!(f.ex.state().stops().get(by_last).is_none());
    assert!(f.ex.ledger().account(long).unwrap().position.qty.is_zero(), "the stop closed the long");
    // The mark has not moved: the stop watching it waits, though last is far below it.
    assert!(f.ex.state().stops().get(by_mark).is_some());
    assert_eq!(f.ex.stops_triggered(), 1);
    // Once the mark follows (the index and trades at 68,500), it triggers on the mark.
    f.drive(68_500.0, 40);
    assert!(f.ex.state().stops().is_empty(), "the mark reached the second stop");
    assert!(f.ex.ledger().account(other).unwrap().position.qty.is_zero());
    let (ex, events) = f.events();
    let t = triggers(&events);
    assert_eq!(t.len(), 2);
    let (seq, stop, price, cause) = t[0];
    assert_eq!((stop.id, stop.owner, stop.source), (by_last, long, TriggerSource::Last));
    assert_eq!(price, Price(680_000), "triggered at the price the market gapped to, not at its trigger");
    let gap_trade = events.iter().find(|e| Some(e.seq) == cause).unwrap();
    assert!(
        matches!(gap_trade.event, Event::Traded { price: p, .. } if p == Price(680_000)),
        "caused by the gap"
    );
    // A stop-market guarantees execution, not price: it sold below its trigger.
    assert_eq!(fills_of_trigger(&events, seq), [Price(679_000)]);
    let (seq, stop, price, cause) = t[1];
    assert_eq!((stop.id, stop.source), (by_mark, TriggerSource::Mark));
    assert!(price <= trigger && price >= Price(685_000), "the mark {price:?} that reached it");
    let mark = events.iter().find(|e| Some(e.seq) == cause).unwrap();
    assert!(matches!(mark.event, Event::MarkUpdated { mark: m, .. } if m == price), "caused by that mark");
    assert_eq!(fills_of_trigger(&events, seq), [Price(679_000)]);
    assert_replays(&ex, &events);
}

/// Stops of four accounts at one trigger, placed b, a, c, with one nearer the price placed last
/// and one farther: the nearest triggers first, then those at one price in the order placed, and
/// each market order takes the book after the one before — earlier in line, better fill.
#[test]
fn several_stops_at_one_price_trigger_in_price_then_time_order() {
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 20_000, 1_000);
    let (a, _) = f.seed_pair(1, 20_000, 1);
    let (b, _) = f.seed_pair(1, 20_000, 1);
    let (c, _) = f.seed_pair(1, 20_000, 1);
    let (d, _) = f.seed_pair(1, 20_000, 1);
    let (at, one) = (usd(&f, 69_000.0), btc(&f, 1.0));
    let sb = f.sell_stop(b, TriggerSource::Last, at, one);
    let sa = f.sell_stop(a, TriggerSource::Last, at, one);
    let sc = f.sell_stop(c, TriggerSource::Last, at, one);
    let long = f.long;
    let nearer = f.sell_stop(long, TriggerSource::Last, usd(&f, 69_500.0), one);
    let farther = f.sell_stop(d, TriggerSource::Last, usd(&f, 68_000.0), one);
    assert!(f.ex.state().stops().is_first_in_line(nearer));
    f.bid(68_900.0, 0.01);
    for px in [68_800.0, 68_700.0, 68_600.0, 68_500.0] {
        f.bid(px, 1.0);
    }
    f.market_sell(0.01);
    assert_eq!(f.ex.stops_triggered(), 4);
    assert!(f.ex.state().stops().get(farther).is_some(), "68,500 never reached 68,000");
    let (ex, events) = f.events();
    let t = triggers(&events);
    assert_eq!(t.iter().map(|x| x.1.id).collect::<Vec<_>>(), [nearer, sb, sa, sc]);
    // The gap trade reached all four; each then triggers at last as the one before left it
    // (caused by that one's trade), as its own market order in turn.
    assert_eq!(
        t.iter().map(|x| x.2).collect::<Vec<_>>(),
        [Price(689_000), Price(688_000), Price(687_000), Price(686_000)]
    );
    let gap = events.iter().find(|e| Some(e.seq) == t[0].3).unwrap();
    assert!(matches!(gap.event, Event::Traded { price: p, .. } if p == Price(689_000)));
    let fills: Vec<Vec<Price>> = t.iter().map(|x| fills_of_trigger(&events, x.0)).collect();
    assert_eq!(fills, [[Price(688_000)], [Price(687_000)], [Price(686_000)], [Price(685_000)]]);

    // Replay refuses the same log with a trigger out of line: `a`'s stop first of the three.
    let first = events.iter().position(|e| e.seq == t[1].0).unwrap();
    let mut state = ExchangeState::new(ex.config(), P70K);
    for e in &events[..first] {
        state.apply(e).unwrap();
    }
    let mut forged = events[first].clone();
    let Event::StopTriggered { price, .. } = forged.event else { unreachable!() };
    forged.event = Event::StopTriggered { stop: *state.stops().get(sa).unwrap(), price };
    let err = state.apply(&forged).unwrap_err();
    assert!(err.to_string().contains("first in line"), "{err}");
    assert_replays(&ex, &events);
}

/// Stop-losses just above a leveraged long's liquidation price: a gap trigger's sale drives the
/// mark to it, its liquidation's sale reaches the next stop, whose sale liquidates the next long.
/// Without the stops the same trade liquidates no one.
#[test]
fn a_stop_triggers_a_liquidation_cascade() {
    fn run(with_stops: bool) -> (Exchange, Vec<Envelope>, [AccountId; 4]) {
        // A one-tick premium window and no asks: the mark follows last at each update.
        let cfg = ExchangeConfig { premium_window_secs: 1, ..ExchangeConfig::btcusdt() };
        let mut f = fixture(cfg, 1, 3_000, 1_000_000);
        let liq = f.ex.liquidation_index().get(f.long).unwrap().price;
        let (l2, _) = f.seed_pair(5, 100_000, 1);
        let (l3, _) = f.seed_pair(2, 100_000, 1);
        let (l4, _) = f.seed_pair(1, 3_200, 1);
        let liq4 = f.ex.liquidation_index().get(l4).unwrap().price;
        let usd_ticks = |u: i64| u * 10;
        assert!(
            liq4 < Price(liq.0 - usd_ticks(100)) && liq4 > Price(liq.0 - usd_ticks(400)),
            "{liq:?} {liq4:?}"
        );
        let long = f.long;
        if with_stops {
            let trigger = usd(&f, 69_000.0);
            f.sell_stop(l2, TriggerSource::Last, trigger, btc(&f, 5.0));
            f.sell_stop(l3, TriggerSource::Last, Price(liq.0 - usd_ticks(50)), btc(&f, 2.0));
            // The long's own stop-loss sits below its liquidation price: cancelled when taken over.
            f.sell_stop(long, TriggerSource::Mark, Price(liq.0 - usd_ticks(200)), btc(&f, 1.0));
        }
        f.bid(68_950.0, 0.01);
        f.bid_at(Price(liq.0 - usd_ticks(10)), 5.0); // l2's stop sells here, just under `liq`
        f.bid_at(Price(liq.0 - usd_ticks(100)), 1.0); // the long's liquidation, above bankruptcy
        f.bid_at(Price(liq4.0 - usd_ticks(10)), 2.0); // l3's stop, just under l4's liquidation
        f.bid_at(Price(liq4.0 - usd_ticks(100)), 1.0); // l4's liquidation
        f.market_sell(0.01);
        f.step(70_000.0);
        f.step(70_000.0);
        let (ex, events) = f.events();
        (ex, events, [long, l2, l3, l4])
    }

    let (ex, events, _) = run(false);
    assert_eq!(ex.stats().accounts_long, 0, "without stops the gap trade liquidates no one");
    assert_replays(&ex, &events);

    let (ex, events, [long, l2, l3, l4]) = run(true);
    let t = triggers(&events);
    assert_eq!(t.iter().map(|x| x.1.owner).collect::<Vec<_>>(), [l2, l3]);
    let liq1 = liquidation_of(&events, long).expect("the first stop's sale liquidates the long");
    let liq2 = liquidation_of(&events, l4).expect("the second stop's sale liquidates l4");
    // The chain: stop → liquidation → (its trade) stop → liquidation.
    assert!(t[0].0 < liq1 && liq1 < t[1].0 && t[1].0 < liq2, "{:?} {liq1} {liq2}", t);
    let liq_trade = events.iter().find(|e| Some(e.seq) == t[1].3).unwrap();
    assert!(
        matches!(liq_trade.event, Event::Traded { liquidation: true, maker: _, .. }),
        "the second stop was triggered by the liquidation's trade: {:?}",
        liq_trade.event
    );
    assert!(events.iter().any(|e| matches!(e.event,
        Event::StopCancelled { account, reason: CancelReason::Liquidation, .. } if account == long)
        && e.cause == Some(liq1)));
    assert!(ex.state().stops().is_empty());
    assert_eq!(ex.stats().accounts_long, 2);
    assert_replays(&ex, &events);
}

#[test]
fn stops_the_venue_would_refuse_are_rejected_and_logged() {
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 20_000, 1_000);
    f.open_tick();
    let base = StopRequest {
        account: f.long,
        side: Side::Sell,
        kind: StopKind::StopMarket,
        source: TriggerSource::Last,
        trigger: usd(&f, 69_000.0),
        qty: btc(&f, 1.0),
        reduce_only: true,
    };
    let short = f.short;
    let cases = [
        (StopRequest { trigger: usd(&f, 70_000.0), ..base }, RejectReason::WouldTriggerImmediately),
        (StopRequest { kind: StopKind::TakeProfit, ..base }, RejectReason::WouldTriggerImmediately),
        (StopRequest { account: short, ..base }, RejectReason::NothingToReduce),
        (StopRequest { qty: Qty(0), ..base }, RejectReason::BadQuantity),
        (StopRequest { account: AccountId(999), ..base }, RejectReason::UnknownAccount),
    ];
    for (req, reason) in cases {
        assert_eq!(f.ex.place_stop(req, None).unwrap(), StopSubmitted::Rejected(reason), "{req:?}");
    }
    // A take-profit above the price, and a buy stop above it for the short, are fine.
    let tp = StopRequest { kind: StopKind::TakeProfit, trigger: usd(&f, 75_000.0), ..base };
    let buy_stop = StopRequest { account: short, side: Side::Buy, trigger: usd(&f, 71_000.0), ..base };
    for req in [tp, buy_stop] {
        assert!(matches!(f.ex.place_stop(req, None).unwrap(), StopSubmitted::Accepted(_)), "{req:?}");
    }
    assert!(f.ex.cancel_stop(f.long, StopId(0), None).unwrap());
    assert!(!f.ex.cancel_stop(f.long, StopId(0), None).unwrap(), "already gone");
    assert!(!f.ex.cancel_stop(f.long, StopId(1), None).unwrap(), "not its stop");
    let (ex, events) = f.events();
    assert_eq!(kinds(&events, EventKind::StopRejected).len(), 5);
    assert_eq!(ex.state().stops().len(), 1);
    assert_replays(&ex, &events);

    // Hyperliquid triggers on the mark only.
    let mut f = fixture(venue(VenuePreset::Hyperliquid), 1, 20_000, 1_000);
    f.open_tick();
    let req = StopRequest { account: f.long, ..base };
    assert_eq!(
        f.ex.place_stop(req, None).unwrap(),
        StopSubmitted::Rejected(RejectReason::TriggerSourceUnsupported)
    );
    let by_mark = StopRequest { source: TriggerSource::Mark, ..req };
    assert!(matches!(f.ex.place_stop(by_mark, None).unwrap(), StopSubmitted::Accepted(_)));
}
