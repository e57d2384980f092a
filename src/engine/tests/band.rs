//! Market-order price protection: an ordinary market order fills no further from the mark than
//! the venue's band and the rest expires; an order that opens exposure is checked against the
//! worst fill the band allows, so its own fills never take its account below zero.

use super::*;
use crate::events::{CancelReason, RejectReason};

fn usd(f: &Fixture, usd: f64) -> Price {
    f.ex.instrument().price(usd).unwrap()
}

impl Fixture {
    fn market(&mut self, account: AccountId, side: Side, btc: f64) -> Submitted {
        self.open_tick();
        let qty = self.ex.instrument().qty(btc).unwrap();
        let req = OrderRequest {
            account,
            side,
            kind: OrderKind::Market,
            price: Price::ZERO,
            qty,
            reduce_only: false,
        };
        self.ex.submit(req, None).unwrap()
    }
}

/// The traded prices of the events, in order.
fn trade_prices(events: &[Envelope]) -> Vec<Price> {
    events
        .iter()
        .filter_map(|e| if let Event::Traded { price, .. } = e.event { Some(price) } else { None })
        .collect()
}

#[test]
fn a_market_order_that_would_sweep_past_the_band_stops_at_it_and_the_rest_expires() {
    // The mark is 70,000 and the band 5%: a buy may pay up to 73,500, a sell down to 66,500.
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 3_500, 1_000);
    assert_eq!(f.ex.protection_price(Side::Buy), usd(&f, 73_500.0));
    assert_eq!(f.ex.protection_price(Side::Sell), usd(&f, 66_500.0));
    for (price, btc) in [(70_000.0, 1.0), (73_500.0, 1.0), (73_500.1, 1.0), (90_000.0, 5.0)] {
        f.quote(Side::Sell, price, btc);
    }
    for (price, btc) in [(69_999.9, 1.0), (66_500.0, 1.0), (66_499.9, 1.0), (50_000.0, 5.0)] {
        f.bid(price, btc);
    }
    let buyer = f.ex.open_account(Money::usd(10_000_000), 10).unwrap();
    let seller = f.ex.open_account(Money::usd(10_000_000), 10).unwrap();
    let inst = *f.ex.instrument();
    for (who, side) in [(buyer, Side::Buy), (seller, Side::Sell)] {
        match f.market(who, side, 8.0) {
            Submitted::Accepted { filled, rested, .. } => {
                assert_eq!((filled, rested), (inst.qty(2.0).unwrap(), Qty::ZERO), "{side:?}");
            }
            other => panic!("{side:?}: {other:?}"),
        }
    }
    // What lies beyond the band is still there.
    assert_eq!(f.ex.book().best(Side::Sell), Some(usd(&f, 73_500.1)));
    assert_eq!(f.ex.book().best(Side::Buy), Some(usd(&f, 66_499.9)));
    let l = f.ex.ledger();
    assert_eq!(l.total_money(), l.deposits());
    let (ex, events) = f.events();
    let prices: Vec<f64> = trade_prices(&events).iter().map(|p| ex.instrument().price_f64(*p)).collect();
    assert_eq!(prices, [70_000.0, 73_500.0, 69_999.9, 66_500.0]);
    // Each order carries its protection price, and its unfilled 6 BTC expire.
    let placed: Vec<Price> = events
        .iter()
        .filter_map(|e| match e.event {
            Event::OrderPlaced { order } if order.kind == OrderKind::Market => Some(order.price),
            _ => None,
        })
        .collect();
    assert_eq!(placed, [ex.instrument().price(73_500.0).unwrap(), ex.instrument().price(66_500.0).unwrap()]);
    let expired = events
        .iter()
        .filter(|e| {
            matches!(e.event, Event::OrderCancelled { reason: CancelReason::Unfilled, remaining, .. }
                if remaining == Qty(6_000))
        })
        .count();
    assert_eq!(expired, 2);
    assert_replays(&ex, &events);
}

/// A 1 BTC long at 70,000 with 2,000 of margin (35x; the mark is 70,000, far from its
/// liquidation) and `balance_usd` beside it sells 2 BTC at market into a single bid of 2 BTC at
/// 66,600, within the band: one fill closes the long 3,400 below its entry and opens a short.
fn turn_a_thin_long_short(balance_usd: i64) -> (Fixture, AccountId, Submitted) {
    let mut f = fixture(ExchangeConfig::btcusdt(), 1, 2_000, 1_000);
    let long = f.long;
    f.open_tick();
    f.ex.record(Event::Deposited { account: long, amount: Money::usd(balance_usd) }, None).unwrap();
    f.bid(66_600.0, 2.0);
    let submitted = f.market(long, Side::Sell, 2.0);
    (f, long, submitted)
}

#[test]
fn an_order_that_turns_a_position_must_cover_the_loss_its_margin_cannot_at_the_band() {
    // Before the band and the open loss, this order passed the check (the short's margin, 666,
    // and the fee fit in 1,000) and its fill halted the run: 3,400 of loss against 2,000 of
    // margin and 1,000 beside it is below zero outside the bankruptcy path. Now it needs the
    // short's margin (666) and the fee on 2 BTC at the best bid (66.60) and the loss at the band
    // (66,500: 3,500) beyond the margin (1,500): 2,232.60.
    let (f, long, submitted) = turn_a_thin_long_short(1_000);
    assert_eq!(submitted, Submitted::Rejected(RejectReason::InsufficientMargin));
    let a = f.ex.ledger().account(long).unwrap();
    assert_eq!((a.position.qty, a.balance), (Qty(1_000), Money::usd(1_000)));
    let (ex, events) = f.events();
    assert_replays(&ex, &events);

    // With 2,233 beside the margin it goes through, and the account ends above zero: the loss
    // beyond the margin, the short's margin and the fee all came out of what it had.
    let (f, long, submitted) = turn_a_thin_long_short(2_233);
    assert!(matches!(submitted, Submitted::Accepted { filled: Qty(2_000), .. }), "{submitted:?}");
    let l = f.ex.ledger();
    let a = l.account(long).unwrap();
    assert_eq!(a.position.qty, Qty(-1_000));
    assert!(!a.balance.is_negative() && a.position.margin.is_positive(), "{a:?}");
    // 2,233 + 2,000 − 3,400 of loss − 66.60 of fee = 766.40, of which 666 is the short's margin.
    assert_eq!(a.position.margin, Money::usd(666));
    assert_eq!(a.balance.checked_add(a.position.margin).unwrap(), Money(766_400_000));
    assert_eq!(l.total_money(), l.deposits());
    let (ex, events) = f.events();
    assert_replays(&ex, &events);
}
