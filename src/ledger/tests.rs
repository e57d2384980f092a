//! Ledger tests: given events, when one more is applied, then the state (or the error) is this.

use super::*;
use crate::book::{NewOrder, OrderFlags, OrderId, OrderKind};
use crate::events::{CancelReason, Envelope, LogHeader, LogReader, LogWriter, TriggerReason};
use crate::margin::{AdlScore, MarginMode};
use proptest::prelude::*;

const P: Price = Price(700_000); // 70,000 USD at tick 0.1

fn inst() -> Instrument {
    Instrument::btcusdt()
}

fn given(events: &[Event]) -> Ledger {
    let mut l = Ledger::new(inst(), TierTable::binance_btcusdt());
    for e in events {
        l.apply_stated(e).unwrap_or_else(|err| panic!("given {e:?}: {err}"));
    }
    l
}

/// A trade with the margin it moves stated as the engine states it (from a preview of each
/// side), so tests can write trades without working the margin out by hand. A side whose
/// preview fails keeps what it said, and the apply reports the failure.
fn stated(l: &Ledger, e: &Event) -> Event {
    let mut e = e.clone();
    if let Event::Traded {
        maker,
        taker,
        taker_side,
        price,
        qty,
        maker_fee,
        taker_fee,
        maker_margin,
        taker_margin,
        ..
    } = &mut e
    {
        if let Ok(m) = l.preview_fill(*maker, taker_side.opposite(), *qty, *price, *maker_fee) {
            *maker_margin = m;
        }
        if let Ok(m) = l.preview_fill(*taker, *taker_side, *qty, *price, *taker_fee) {
            *taker_margin = m;
        }
    }
    e
}

trait ApplyStated {
    fn apply_stated(&mut self, e: &Event) -> Result<()>;
}

impl ApplyStated for Ledger {
    fn apply_stated(&mut self, e: &Event) -> Result<()> {
        let e = stated(self, e);
        self.apply(&e)
    }
}

fn open(id: u32, usd: i64, leverage: u32) -> Event {
    Event::AccountOpened {
        account: AccountId(id),
        deposit: Money::usd(usd),
        leverage,
        mode: MarginMode::Isolated,
    }
}

fn open_cross(id: u32, usd: i64, leverage: u32) -> Event {
    Event::AccountOpened {
        account: AccountId(id),
        deposit: Money::usd(usd),
        leverage,
        mode: MarginMode::Cross,
    }
}

fn trade(maker: u32, taker: u32, taker_side: Side, price: Price, qty: i64) -> Event {
    Event::Traded {
        maker_order: OrderId(1),
        maker: AccountId(maker),
        taker_order: OrderId(2),
        taker: AccountId(taker),
        taker_side,
        price,
        qty: Qty(qty),
        maker_fee: Money::ZERO,
        taker_fee: Money::ZERO,
        maker_margin: Money::ZERO,
        taker_margin: Money::ZERO,
        liquidation: false,
    }
}

fn assert_invariants(l: &Ledger) {
    assert_eq!(l.total_money(), l.deposits(), "money drifted");
    let (long, short) = l.open_interest();
    assert_eq!(long, short, "open interest unbalanced");
    let longs: i64 = l.accounts().iter().map(|a| a.position.qty.0.max(0)).sum();
    let shorts: i64 = l.accounts().iter().map(|a| (-a.position.qty.0).max(0)).sum();
    assert_eq!((Qty(longs), Qty(shorts)), (long, short), "tracked open interest is stale");
    for (i, a) in l.accounts().iter().enumerate() {
        assert!(!a.balance.is_negative(), "account {i} balance negative");
        if a.liquidating.is_none() {
            assert!(!a.position.margin.is_negative(), "account {i} margin negative");
        }
        if a.position.qty.is_zero() {
            assert!(a.position.cost.is_zero(), "account {i} flat with cost");
        }
    }
    assert!(!l.insurance_fund().is_negative());
}

#[test]
fn opening_a_position_posts_initial_margin_from_the_balance() {
    let mut l = given(&[open(0, 10_000, 10), open(1, 10_000, 5)]);
    // 1 BTC at 70,000: 7,000 margin at 10x, 14,000 at 5x (more than account 1 has).
    // Account 1 cannot afford 5x on 1 BTC: it posts all it has and is more levered for it.
    l.apply_stated(&trade(0, 1, Side::Sell, P, 1_000)).unwrap();
    let short = l.account(AccountId(1)).unwrap();
    assert_eq!((short.balance, short.position.margin), (Money::ZERO, Money::usd(10_000)));
    assert_invariants(&l);
    let mut l = given(&[open(0, 10_000, 10), open(1, 20_000, 5)]);
    l.apply_stated(&trade(0, 1, Side::Sell, P, 1_000)).unwrap();
    let maker = l.account(AccountId(0)).unwrap();
    assert_eq!(
        maker.position,
        Position { qty: Qty(1_000), cost: Money::usd(70_000), margin: Money::usd(7_000) }
    );
    assert_eq!(maker.balance, Money::usd(3_000));
    let taker = l.account(AccountId(1)).unwrap();
    assert_eq!(
        taker.position,
        Position { qty: Qty(-1_000), cost: Money::usd(-70_000), margin: Money::usd(14_000) }
    );
    assert_invariants(&l);
}

#[test]
fn closing_realises_exact_pnl_and_frees_margin() {
    let mut l = given(&[
        open(0, 10_000, 10),
        open(1, 10_000, 10),
        open(2, 10_000, 10),
        trade(0, 1, Side::Sell, P, 1_000),
    ]);
    // Account 0 sells its long to account 2 at 71,000: +1,000 USD.
    l.apply_stated(&trade(2, 0, Side::Sell, Price(710_000), 1_000)).unwrap();
    let a = l.account(AccountId(0)).unwrap();
    assert_eq!(a.position, Position::default());
    assert_eq!(a.balance, Money::usd(11_000));
    assert_invariants(&l);
    // A third of a position: cost and margin leave pro rata, truncated, exactly.
    l.apply_stated(&trade(1, 2, Side::Sell, Price(710_000), 333)).unwrap();
    assert_invariants(&l);
}

#[test]
fn fees_move_to_the_fee_pool() {
    let mut l = given(&[open(0, 10_000, 10), open(1, 10_000, 10)]);
    let mut t = trade(0, 1, Side::Buy, P, 100);
    if let Event::Traded { maker_fee, taker_fee, .. } = &mut t {
        *maker_fee = Money(1_400_000);
        *taker_fee = Money(3_500_000);
    }
    l.apply_stated(&t).unwrap();
    assert_eq!(l.fees_collected(), Money(4_900_000));
    assert_invariants(&l);
}

#[test]
fn nonsense_is_refused_and_changes_nothing() {
    let base = given(&[open(0, 10_000, 10), open(1, 10_000, 10)]);
    type Expect = fn(&LedgerError) -> bool;
    let cases: Vec<(Event, Expect)> = vec![
        (open(5, 1, 10), |e| matches!(e, LedgerError::AccountOutOfOrder { .. })),
        (open(2, 1, 0), |e| matches!(e, LedgerError::BadLeverage(0))),
        (
            Event::AccountOpened {
                account: AccountId(2),
                deposit: Money(-1),
                leverage: 1,
                mode: MarginMode::Isolated,
            },
            |e| matches!(e, LedgerError::Negative { .. }),
        ),
        (trade(0, 0, Side::Buy, P, 1), |e| matches!(e, LedgerError::SelfTrade(_))),
        (Event::Deposited { account: AccountId(0), amount: Money::ZERO }, |e| {
            matches!(e, LedgerError::NotPositive { .. })
        }),
        (Event::Deposited { account: AccountId(5), amount: Money(1) }, |e| {
            matches!(e, LedgerError::UnknownAccount(_))
        }),
        (trade(0, 1, Side::Buy, P, 0), |e| matches!(e, LedgerError::NotPositive { .. })),
        (trade(0, 1, Side::Buy, P, -5), |e| matches!(e, LedgerError::NotPositive { .. })),
        (trade(0, 1, Side::Buy, Price(0), 1), |e| matches!(e, LedgerError::NotPositive { .. })),
        (trade(0, 9, Side::Buy, P, 1), |e| matches!(e, LedgerError::UnknownAccount(AccountId(9)))),
        (
            Event::PositionSeeded {
                long: AccountId(0),
                short: AccountId(1),
                qty: Qty(1),
                price: P,
                long_margin: Money::usd(10_001),
                short_margin: Money::ZERO,
            },
            |e| matches!(e, LedgerError::InsufficientFunds { .. }),
        ),
        (Event::MarginAdded { account: AccountId(0), amount: Money::usd(20_000) }, |e| {
            matches!(e, LedgerError::Overdraft(_))
        }),
        (Event::MarginAdded { account: AccountId(0), amount: Money::usd(-1) }, |e| {
            matches!(e, LedgerError::Overdraft(_))
        }),
        (Event::FundingPaid { account: AccountId(0), amount: Money(5) }, |e| {
            matches!(e, LedgerError::NoPosition(_))
        }),
        (
            Event::LiquidationTriggered {
                account: AccountId(0),
                reason: TriggerReason::Maintenance,
                mark: P,
                position: Qty(1),
                maintenance: Money::ZERO,
                equity: Money::ZERO,
                liquidation_price: P,
                bankruptcy_price: P,
            },
            |e| matches!(e, LedgerError::NoPosition(_)),
        ),
        (
            Event::Liquidated {
                account: AccountId(0),
                closed: Qty(0),
                mark: P,
                fee: Money::ZERO,
                insurance_delta: Money::ZERO,
                partial: false,
            },
            |e| matches!(e, LedgerError::NotInLiquidation(_)),
        ),
        (
            Event::AutoDeleveraged {
                account: AccountId(0),
                counterparty: AccountId(1),
                qty: Qty(1),
                price: P,
                score: AdlScore::default(),
            },
            |e| matches!(e, LedgerError::NotInLiquidation(_)),
        ),
        (Event::InsuranceFundChanged { delta: Money(-1), reason: InsuranceReason::Deposit }, |e| {
            matches!(e, LedgerError::NotPositive { .. })
        }),
        (Event::InsuranceFundChanged { delta: Money(3), reason: InsuranceReason::FundingRemainder }, |e| {
            matches!(e, LedgerError::FundingPoolNotSettled(_))
        }),
        (
            Event::OrderPlaced {
                order: NewOrder {
                    id: OrderId(1),
                    owner: AccountId(7),
                    side: Side::Buy,
                    kind: OrderKind::Gtc,
                    price: P,
                    qty: Qty(1),
                    flags: OrderFlags::default(),
                },
            },
            |e| matches!(e, LedgerError::UnknownAccount(_)),
        ),
        (
            Event::OrderCancelled {
                order: OrderId(1),
                account: AccountId(7),
                remaining: Qty(1),
                reason: CancelReason::Requested,
            },
            |e| matches!(e, LedgerError::UnknownAccount(_)),
        ),
        (Event::MarkUpdated { index: Price(-1), mark: P, last: P, round: 0, sample: None }, |e| {
            matches!(e, LedgerError::NotPositive { .. })
        }),
    ];
    for (event, expected) in cases {
        let mut l = base.clone();
        let err = l.apply_stated(&event).expect_err(&format!("{event:?} should be refused"));
        assert!(expected(&err), "{event:?} gave {err:?}");
        assert_eq!(l.state_hash(), base.state_hash(), "{event:?} changed state though refused");
    }
}

/// Account 0 long 1 BTC at 70,000 with 7,000 margin (bankruptcy 63,000) against account 1's
/// short, account 2 with cash, a fund of `insurance_usd`; then account 0's liquidation starts.
fn long_0_in_liquidation(insurance_usd: i64) -> Ledger {
    let mut l = given(&[
        open(0, 10_000, 10),
        open(1, 20_000, 10),
        open(2, 20_000, 10),
        Event::InsuranceFundChanged { delta: Money::usd(insurance_usd), reason: InsuranceReason::Deposit },
        trade(1, 0, Side::Buy, P, 1_000),
    ]);
    l.apply_stated(&Event::LiquidationTriggered {
        account: AccountId(0),
        reason: TriggerReason::Maintenance,
        mark: Price(635_000),
        position: Qty(1_000),
        maintenance: Money::usd(254),
        equity: Money::usd(500),
        liquidation_price: Price(632_530),
        bankruptcy_price: Price(630_000),
    })
    .unwrap();
    l
}

/// A liquidation sale of account 0's long into account 2's bid.
fn liquidation_sale(price: Price, qty: i64) -> Event {
    let mut t = trade(2, 0, Side::Sell, price, qty);
    if let Event::Traded { liquidation, .. } = &mut t {
        *liquidation = true;
    }
    t
}

#[test]
fn liquidation_settles_margin_with_the_insurance_fund() {
    let mut l = long_0_in_liquidation(1_000);
    // While liquidated, the account may only reduce.
    assert_eq!(l.apply_stated(&trade(2, 0, Side::Buy, P, 1)), Err(LedgerError::NotReducing(AccountId(0))));
    // The book takes half at 62,900 (below bankruptcy 63,000): margin goes negative.
    l.apply_stated(&liquidation_sale(Price(629_000), 500)).unwrap();
    assert_eq!(l.account(AccountId(0)).unwrap().position.margin, Money::usd(7_000 - 3_550));
    // The rest is deleveraged against account 1's short at the bankruptcy price.
    l.apply_stated(&Event::AutoDeleveraged {
        account: AccountId(0),
        counterparty: AccountId(1),
        qty: Qty(500),
        price: Price(630_000),
        score: AdlScore::default(),
    })
    .unwrap();
    let margin = l.account(AccountId(0)).unwrap().position.margin;
    assert_eq!(margin, Money::usd(-50));
    assert!(matches!(
        l.apply_stated(&Event::Liquidated {
            account: AccountId(0),
            closed: Qty(1_000),
            mark: P,
            fee: Money::ZERO,
            insurance_delta: Money::usd(-49),
            partial: false,
        }),
        Err(LedgerError::LiquidationAmount { .. })
    ));
    l.apply_stated(&Event::Liquidated {
        account: AccountId(0),
        closed: Qty(1_000),
        mark: P,
        fee: Money::ZERO,
        insurance_delta: margin,
        partial: false,
    })
    .unwrap();
    assert_eq!(l.insurance_fund(), Money::usd(950));
    assert_eq!(l.account(AccountId(0)).unwrap().position, Position::default());
    assert_invariants(&l);
}

#[test]
fn a_deficit_beyond_the_fund_is_the_venues_shortfall() {
    // Account 0's long sold in liquidation at 62,900, 100 USD below its bankruptcy price: a
    // 100 USD deficit against a fund of 30.
    let mut l = long_0_in_liquidation(30);
    l.apply_stated(&liquidation_sale(Price(629_000), 1_000)).unwrap();
    let margin = l.account(AccountId(0)).unwrap().position.margin;
    assert_eq!(margin, Money::usd(-100));
    let liquidated = Event::Liquidated {
        account: AccountId(0),
        closed: Qty(1_000),
        mark: P,
        fee: Money::ZERO,
        insurance_delta: margin,
        partial: false,
    };
    l.apply_stated(&liquidated).unwrap();
    assert_eq!((l.insurance_fund(), l.insurance_shortfall()), (Money::ZERO, Money::usd(70)));
    assert_invariants(&l);
    // Later money into the fund does not repay the venue: the shortfall is a record.
    l.apply_stated(&Event::InsuranceFundChanged { delta: Money::usd(500), reason: InsuranceReason::Deposit })
        .unwrap();
    assert_eq!((l.insurance_fund(), l.insurance_shortfall()), (Money::usd(500), Money::usd(70)));
    assert_invariants(&l);
}

#[test]
fn funding_flows_through_the_pool_and_must_settle_by_tick_end() {
    let mut l = given(&[open(0, 10_000, 10), open(1, 10_000, 10), trade(0, 1, Side::Sell, P, 1_000)]);
    l.apply_stated(&Event::FundingPaid { account: AccountId(0), amount: Money(-7_000_001) }).unwrap();
    assert_eq!(
        l.apply_stated(&Event::TickClosed { tick: 1 }),
        Err(LedgerError::FundingPoolNotSettled(Money(7_000_001)))
    );
    assert!(matches!(
        l.apply_stated(&Event::FundingPaid { account: AccountId(1), amount: Money(7_000_002) }),
        Err(LedgerError::FundingPoolOverdraft { .. })
    ));
    l.apply_stated(&Event::FundingPaid { account: AccountId(1), amount: Money(7_000_000) }).unwrap();
    l.apply_stated(&Event::InsuranceFundChanged {
        delta: Money(1),
        reason: InsuranceReason::FundingRemainder,
    })
    .unwrap();
    l.apply_stated(&Event::TickClosed { tick: 1 }).unwrap();
    assert_eq!(l.insurance_fund(), Money(1));
    assert_invariants(&l);
}

#[test]
fn state_hash_is_stable_and_sensitive() {
    let events = [open(0, 10_000, 10), open(1, 10_000, 10), trade(0, 1, Side::Sell, P, 1_000)];
    let a = given(&events);
    let b = given(&events);
    assert_eq!(a.state_hash(), b.state_hash());
    assert_eq!(a.state_hash().len(), 64);
    let c = given(&events[..2]);
    assert_ne!(a.state_hash(), c.state_hash());
    // The format is fixed: a change breaks every recorded summary and log footer (changed last
    // when the insurance fund's position joined the state).
    assert_eq!(a.state_hash(), "d5e8296daefbf10b0b49086126e9a21d0ee3489dab04ce5dfaf4a4f6bb7c50dc");
}

/// 1 BTC long at 70,000 from a deposit of 10,000 at 10x (7,000 posted, 3,000 free) in `mode`,
/// against account 1; account 2 has cash to bid; a fund of 1,000.
fn long_0_with_3_000_free(cross: bool) -> Ledger {
    let first = if cross { open_cross(0, 10_000, 10) } else { open(0, 10_000, 10) };
    given(&[
        first,
        open(1, 20_000, 10),
        open(2, 1_000_000, 10),
        Event::InsuranceFundChanged { delta: Money::usd(1_000), reason: InsuranceReason::Deposit },
        trade(1, 0, Side::Buy, P, 1_000),
    ])
}

#[test]
fn a_cross_position_is_backed_by_the_whole_wallet() {
    // Worked by hand (Binance cross, no other position, tier 2 at 70,000 notional: MMR 0.5%,
    // cum 50): LP = (WB + cum − s·EP)/(|s|·MMR − s) = (10,000 + 50 − 70,000)/(0.005 − 1)
    // = 60,251.256… → 60,251.3 (long: rounded up to the 0.1 tick). The isolated position with the
    // same 7,000 margin: (7,000 + 50 − 70,000)/(0.005 − 1) = 63,266.331… → 63,266.4.
    let (inst, tiers) = (inst(), TierTable::binance_btcusdt());
    let cross = long_0_with_3_000_free(true);
    let isolated = long_0_with_3_000_free(false);
    let (c, i) = (*cross.account(AccountId(0)).unwrap(), *isolated.account(AccountId(0)).unwrap());
    // The same books: 7,000 posted, 3,000 free. Only what backs the position differs.
    assert_eq!((c.position, c.balance), (i.position, i.balance));
    assert_eq!((c.position.margin, c.balance), (Money::usd(7_000), Money::usd(3_000)));
    assert_eq!((c.mode, i.mode), (MarginMode::Cross, MarginMode::Isolated));
    assert_eq!((c.wallet(), i.wallet()), (Money::usd(10_000), Money::usd(7_000)));
    let lp = |a: &Account| {
        margin::liquidation_price_tiered(&inst, &tiers, a.position.qty, a.position.cost, a.wallet()).unwrap()
    };
    assert_eq!(lp(&c), Some(Price(602_513)));
    assert_eq!(lp(&i), Some(Price(632_664)));
    let bp =
        |a: &Account| margin::bankruptcy_price(&inst, a.position.qty, a.position.cost, a.wallet()).unwrap();
    assert_eq!(bp(&c), Price(600_000), "70,000 − 10,000");
    assert_eq!(bp(&i), Price(630_000), "70,000 − 7,000");
    // The mode is part of the state.
    assert_ne!(cross.state_hash(), isolated.state_hash());
}

#[test]
fn liquidating_a_cross_account_hands_its_whole_wallet_to_the_chain() {
    for cross in [true, false] {
        let mut l = long_0_with_3_000_free(cross);
        let (mark, bankruptcy) = if cross { (602_000, 600_000) } else { (632_000, 630_000) };
        l.apply_stated(&Event::LiquidationTriggered {
            account: AccountId(0),
            reason: TriggerReason::Maintenance,
            mark: Price(mark),
            position: Qty(1_000),
            maintenance: Money::ZERO,
            equity: Money::ZERO,
            liquidation_price: Price(mark),
            bankruptcy_price: Price(bankruptcy),
        })
        .unwrap();
        let a = *l.account(AccountId(0)).unwrap();
        // Cross: the free 3,000 joined the margin; isolated: it stays out of reach.
        let (margin, free) = if cross { (10_000, 0) } else { (7_000, 3_000) };
        assert_eq!((a.position.margin, a.balance), (Money::usd(margin), Money::usd(free)), "cross {cross}");
        // Sold 100 USD above bankruptcy: 100 USD of margin is left, and goes to the fund.
        l.apply_stated(&liquidation_sale(Price(bankruptcy + 1_000), 1_000)).unwrap();
        assert_eq!(l.account(AccountId(0)).unwrap().position.margin, Money::usd(100));
        l.apply_stated(&Event::Liquidated {
            account: AccountId(0),
            closed: Qty(1_000),
            mark: Price(mark),
            fee: Money::usd(100),
            insurance_delta: Money::usd(100),
            partial: false,
        })
        .unwrap();
        let a = *l.account(AccountId(0)).unwrap();
        assert_eq!((a.position, a.balance), (Position::default(), Money::usd(free)));
        assert_eq!(l.insurance_fund(), Money::usd(1_100));
        assert_invariants(&l);
    }
}

#[test]
fn a_cross_account_pays_funding_from_its_wallet_and_receives_it_into_the_free_balance() {
    let mut l = long_0_with_3_000_free(true);
    // Paid from the free balance first, then from the margin.
    l.apply_stated(&Event::FundingPaid { account: AccountId(0), amount: Money::usd(-4_000) }).unwrap();
    let a = *l.account(AccountId(0)).unwrap();
    assert_eq!((a.balance, a.position.margin), (Money::ZERO, Money::usd(6_000)));
    l.apply_stated(&Event::FundingPaid { account: AccountId(1), amount: Money::usd(4_000) }).unwrap();
    l.apply_stated(&Event::FundingPaid { account: AccountId(1), amount: Money::usd(-500) }).unwrap();
    l.apply_stated(&Event::FundingPaid { account: AccountId(0), amount: Money::usd(500) }).unwrap();
    let a = *l.account(AccountId(0)).unwrap();
    assert_eq!((a.balance, a.position.margin), (Money::usd(500), Money::usd(6_000)));
    l.apply_stated(&Event::TickClosed { tick: 1 }).unwrap();
    assert_invariants(&l);
    // Never more than the wallet: 6,500 USD and one micro-USD is refused and changes nothing.
    let before = l.state_hash();
    assert_eq!(
        l.apply_stated(&Event::FundingPaid { account: AccountId(0), amount: Money(-6_500_000_001) }),
        Err(LedgerError::Overdraft(AccountId(0)))
    );
    assert_eq!(l.state_hash(), before);
}

/// What the property test does, in exchange terms.
#[derive(Clone, Debug)]
enum Op {
    Open { deposit_usd: u32, leverage: u8, cross: bool },
    Trade { maker: u8, taker: u8, buy: bool, offset: i16, lots: u16, fee_bps: u8 },
    Margin { account: u8, usd: i32 },
    Deposit { account: u8, usd: i32 },
    Funding { rate_bps: i8 },
    Liquidate { account: u8, offset: i16, book_share: u8 },
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => (1_000u32..2_000_000, 1u8..=125, any::<bool>())
            .prop_map(|(deposit_usd, leverage, cross)| Op::Open { deposit_usd, leverage, cross }),
        8 => (any::<u8>(), any::<u8>(), any::<bool>(), -20_000i16..20_000, 1u16..3_000, 0u8..10)
            .prop_map(|(maker, taker, buy, offset, lots, fee_bps)| Op::Trade { maker, taker, buy, offset, lots, fee_bps }),
        1 => (any::<u8>(), -50_000i32..50_000).prop_map(|(account, usd)| Op::Margin { account, usd }),
        1 => (any::<u8>(), -10i32..100_000).prop_map(|(account, usd)| Op::Deposit { account, usd }),
        1 => (-100i8..100).prop_map(|rate_bps| Op::Funding { rate_bps }),
        2 => (any::<u8>(), -20_000i16..20_000, 0u8..=100)
            .prop_map(|(account, offset, book_share)| Op::Liquidate { account, offset, book_share }),
        1 => Just(Op::Tick),
    ]
}

/// Turns ops into events, applies them, and checks the invariants after every event.
struct Harness {
    ledger: Ledger,
    log: Vec<Event>,
    rejected: usize,
}

impl Harness {
    fn new() -> Harness {
        let mut h = Harness {
            ledger: Ledger::new(inst(), TierTable::binance_btcusdt()),
            log: Vec::new(),
            rejected: 0,
        };
        h.apply(Event::InsuranceFundChanged { delta: Money::usd(100_000), reason: InsuranceReason::Deposit });
        h
    }

    fn apply(&mut self, event: Event) -> bool {
        let event = stated(&self.ledger, &event);
        let before = self.ledger.state_hash();
        match self.ledger.apply(&event) {
            Ok(()) => {
                self.log.push(event);
                assert_invariants(&self.ledger);
                true
            }
            Err(_) => {
                assert_eq!(self.ledger.state_hash(), before, "refused {event:?} changed state");
                self.rejected += 1;
                false
            }
        }
    }

    fn account(&self, n: u8) -> Option<AccountId> {
        let len = self.ledger.accounts().len();
        (len > 0).then(|| AccountId((n as usize % len) as u32))
    }

    fn run(&mut self, op: &Op) {
        let n = self.ledger.accounts().len() as u32;
        match *op {
            Op::Open { deposit_usd, leverage, cross } => {
                self.apply(Event::AccountOpened {
                    account: AccountId(n),
                    deposit: Money::usd(deposit_usd.into()),
                    leverage: leverage.into(),
                    mode: if cross { MarginMode::Cross } else { MarginMode::Isolated },
                });
            }
            Op::Trade { maker, taker, buy, offset, lots, fee_bps } => {
                let (Some(m), Some(t)) = (self.account(maker), self.account(taker)) else {
                    return;
                };
                let price = Price(P.0 + offset as i64);
                let notional = inst().notional(price, Qty(lots.into())).unwrap();
                let fee = Money(notional.0 * fee_bps as i64 / 10_000);
                self.apply(Event::Traded {
                    maker_order: OrderId(0),
                    maker: m,
                    taker_order: OrderId(1),
                    taker: t,
                    taker_side: if buy { Side::Buy } else { Side::Sell },
                    price,
                    qty: Qty(lots.into()),
                    maker_fee: fee,
                    taker_fee: fee,
                    maker_margin: Money::ZERO,
                    taker_margin: Money::ZERO,
                    liquidation: false,
                });
            }
            Op::Margin { account, usd } => {
                let Some(a) = self.account(account) else {
                    return;
                };
                self.apply(Event::MarginAdded { account: a, amount: Money::usd(usd.into()) });
            }
            Op::Deposit { account, usd } => {
                let Some(a) = self.account(account) else { return };
                self.apply(Event::Deposited { account: a, amount: Money::usd(usd.into()) });
            }
            Op::Funding { rate_bps } => self.funding(rate_bps),
            Op::Liquidate { account, offset, book_share } => {
                let Some(a) = self.account(account) else {
                    return;
                };
                self.liquidate(a, Price(P.0 + offset as i64), book_share);
            }
            Op::Tick => {
                let tick = self.ledger.tick() + 1;
                self.apply(Event::TickClosed { tick });
            }
        }
    }

    /// Payers (ceil) into the pool first, then receivers (floor), then the dust to insurance.
    fn funding(&mut self, rate_bps: i8) {
        let rate = rate_bps as i128;
        let mut payments: Vec<(AccountId, Money)> = Vec::new();
        for (i, a) in self.ledger.accounts().iter().enumerate() {
            if a.position.qty.is_zero() || a.liquidating.is_some() {
                continue;
            }
            let notional = inst().notional_wide(P, a.position.qty).unwrap();
            let owed = -notional * rate; // positive: receives, in units of 1e-4 micro-USD
            let amount = if owed < 0 { -((-owed + 9_999) / 10_000) } else { owed / 10_000 };
            if amount != 0 {
                payments.push((AccountId(i as u32), Money(amount as i64)));
            }
        }
        payments.sort_by_key(|(_, m)| *m);
        // Payers first; a payer whose margin cannot cover is refused (the engine would have
        // liquidated it), and a receiver the pool cannot pay is refused too.
        for (account, amount) in payments {
            self.apply(Event::FundingPaid { account, amount });
        }
        let pool = self.ledger.funding_pool();
        if !pool.is_zero() {
            assert!(self.apply(Event::InsuranceFundChanged {
                delta: pool,
                reason: InsuranceReason::FundingRemainder
            }));
        }
    }

    /// Trigger, sell a share into "the book" (another account), deleverage the rest against
    /// opposite positions, settle with the insurance fund.
    fn liquidate(&mut self, a: AccountId, price: Price, book_share: u8) {
        let Some(acct) = self.ledger.account(a).copied() else {
            return;
        };
        let position = acct.position.qty;
        if position.is_zero() || acct.liquidating.is_some() {
            return;
        }
        let trigger = Event::LiquidationTriggered {
            account: a,
            reason: TriggerReason::Maintenance,
            mark: price,
            position,
            maintenance: Money::ZERO,
            equity: Money::ZERO,
            liquidation_price: price,
            bankruptcy_price: price,
        };
        assert!(self.apply(trigger));
        let side = if position.is_positive() { Side::Sell } else { Side::Buy };
        let to_book = position.abs().0 * book_share as i64 / 100;
        if to_book > 0 {
            let maker = (0..self.ledger.accounts().len() as u32).map(AccountId).find(|&m| {
                m != a
                    && self
                        .ledger
                        .account(m)
                        .is_some_and(|x| x.liquidating.is_none() && x.balance.0 > 1_000_000_000_000)
            });
            if let Some(maker) = maker {
                self.apply(Event::Traded {
                    maker_order: OrderId(0),
                    maker,
                    taker_order: OrderId(1),
                    taker: a,
                    taker_side: side,
                    price,
                    qty: Qty(to_book),
                    maker_fee: Money::ZERO,
                    taker_fee: Money::ZERO,
                    maker_margin: Money::ZERO,
                    taker_margin: Money::ZERO,
                    liquidation: true,
                });
            }
        }
        let holders: Vec<AccountId> = (0..self.ledger.accounts().len() as u32).map(AccountId).collect();
        for c in holders {
            let left = self.ledger.account(a).unwrap().position.qty;
            if left.is_zero() {
                break;
            }
            let cp = *self.ledger.account(c).unwrap();
            if c == a || cp.liquidating.is_some() || cp.position.qty.0.signum() != -left.0.signum() {
                continue;
            }
            let qty = Qty(left.0.abs().min(cp.position.qty.0.abs()));
            self.apply(Event::AutoDeleveraged {
                account: a,
                counterparty: c,
                qty,
                price,
                score: AdlScore::default(),
            });
        }
        let acct = *self.ledger.account(a).unwrap();
        if acct.position.qty.is_zero() {
            let margin = acct.position.margin;
            let fee = Money(margin.0.max(0) / 200);
            self.apply(Event::Liquidated {
                account: a,
                closed: position,
                mark: P,
                fee,
                insurance_delta: margin,
                partial: false,
            });
        }
    }
}

fn write_log(events: &[Event]) -> Vec<u8> {
    let header = LogHeader::new([1; 32], 7, P, crate::venue::ExchangeConfig::btcusdt());
    let mut w = LogWriter::new(Vec::new(), &header).unwrap();
    for (seq, event) in events.iter().enumerate() {
        w.append(&Envelope { seq: seq as u64, tick: 0, cause: None, event: event.clone() }).unwrap();
    }
    w.finish().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Money is conserved to the micro-USD and open interest balanced after every event; a
    /// refused event changes nothing; replaying the log gives the same state hash.
    #[test]
    fn conservation_and_replay(ops in prop::collection::vec(op(), 1..300)) {
        let mut h = Harness::new();
        for i in 0..4 {
            h.run(&Op::Open { deposit_usd: 5_000_000, leverage: 20, cross: i % 2 == 1 });
        }
        for op in &ops {
            h.run(op);
        }
        let bytes = write_log(&h.log);
        let mut replayed = Ledger::new(inst(), TierTable::binance_btcusdt());
        for env in LogReader::new(&bytes[..]).unwrap() {
            replayed.apply(&env.unwrap().event).unwrap();
        }
        prop_assert_eq!(replayed.state_hash(), h.ledger.state_hash());
    }
}

#[test]
fn the_property_harness_exercises_every_path() {
    // Guard against a harness whose events are all refused: a deterministic run must reach
    // trades, closes, funding, liquidations with book fills and ADL, and insurance changes.
    let mut h = Harness::new();
    for _ in 0..6 {
        h.run(&Op::Open { deposit_usd: 5_000_000, leverage: 20, cross: false });
    }
    let script = [
        Op::Trade { maker: 0, taker: 1, buy: true, offset: 0, lots: 2_000, fee_bps: 2 },
        Op::Trade { maker: 2, taker: 3, buy: false, offset: 500, lots: 1_500, fee_bps: 5 },
        Op::Trade { maker: 0, taker: 2, buy: false, offset: -900, lots: 700, fee_bps: 0 },
        Op::Funding { rate_bps: 7 },
        Op::Tick,
        Op::Liquidate { account: 1, offset: 9_000, book_share: 40 },
        Op::Liquidate { account: 2, offset: -19_000, book_share: 0 },
        Op::Funding { rate_bps: -3 },
        Op::Tick,
    ];
    for op in &script {
        h.run(op);
    }
    let kinds: std::collections::BTreeSet<_> = h.log.iter().map(Event::kind).collect();
    use crate::events::EventKind as K;
    for k in
        [K::Traded, K::FundingPaid, K::LiquidationTriggered, K::AutoDeleveraged, K::Liquidated, K::TickClosed]
    {
        assert!(kinds.contains(&k), "{k:?} never happened; log: {:?}", h.log);
    }
    assert!(h.log.iter().any(|e| matches!(e, Event::Traded { liquidation: true, .. })));
    assert_eq!(h.rejected, 0, "the scripted run should be all valid");
}

#[test]
fn partial_liquidation_keeps_the_rest_and_pays_only_the_fee() {
    let mut l = given(&[
        open(0, 10_000, 10),
        open(1, 20_000, 10),
        open(2, 20_000, 10),
        trade(1, 0, Side::Buy, P, 1_000),
        Event::LiquidationTriggered {
            account: AccountId(0),
            reason: TriggerReason::Maintenance,
            mark: Price(635_000),
            position: Qty(1_000),
            maintenance: Money::usd(254),
            equity: Money::usd(500),
            liquidation_price: Price(632_530),
            bankruptcy_price: Price(630_000),
        },
        Event::Traded {
            maker_order: OrderId(1),
            maker: AccountId(2),
            taker_order: OrderId(2),
            taker: AccountId(0),
            taker_side: Side::Sell,
            price: Price(635_000),
            qty: Qty(400),
            maker_fee: Money::ZERO,
            taker_fee: Money::ZERO,
            maker_margin: Money::ZERO,
            taker_margin: Money::ZERO,
            liquidation: true,
        },
    ]);
    // 400 lots sold at 63,500: margin 7,000 − 2,600 = 4,400 stays with the 600 lots left.
    assert_eq!(l.account(AccountId(0)).unwrap().position.margin, Money::usd(4_400));
    let wrong = Event::Liquidated {
        account: AccountId(0),
        closed: Qty(400),
        mark: P,
        fee: Money::usd(10),
        insurance_delta: Money::usd(4_400),
        partial: true,
    };
    assert!(matches!(l.apply_stated(&wrong), Err(LedgerError::LiquidationAmount { .. })));
    let wrong_qty = Event::Liquidated {
        account: AccountId(0),
        closed: Qty(1_000),
        mark: P,
        fee: Money::usd(10),
        insurance_delta: Money::usd(10),
        partial: true,
    };
    assert!(matches!(l.apply_stated(&wrong_qty), Err(LedgerError::PositionMismatch { .. })));
    let not_partial = Event::Liquidated {
        account: AccountId(0),
        closed: Qty(400),
        mark: P,
        fee: Money::usd(10),
        insurance_delta: Money::usd(10),
        partial: false,
    };
    assert!(matches!(l.apply(&not_partial), Err(LedgerError::PartialMismatch { .. })));
    l.apply_stated(&Event::Liquidated {
        account: AccountId(0),
        closed: Qty(400),
        mark: P,
        fee: Money::usd(10),
        insurance_delta: Money::usd(10),
        partial: true,
    })
    .unwrap();
    let a = l.account(AccountId(0)).unwrap();
    assert_eq!((a.position.qty, a.position.margin, a.liquidating), (Qty(600), Money::usd(4_390), None));
    assert_eq!(l.insurance_fund(), Money::usd(10));
    assert_invariants(&l);
}

#[test]
fn a_trade_must_state_the_margin_it_moves() {
    let l = given(&[open(0, 10_000, 10), open(1, 10_000, 10)]);
    let right = stated(&l, &trade(0, 1, Side::Sell, P, 1_000));
    let Event::Traded { maker_margin, taker_margin, .. } = right else { unreachable!() };
    // 1 BTC at 70,000 and 10x: 7,000 USD each side, from the free balance into the margin.
    assert_eq!((maker_margin, taker_margin), (Money::usd(7_000), Money::usd(7_000)));
    let mut wrong = right.clone();
    if let Event::Traded { taker_margin, .. } = &mut wrong {
        *taker_margin = Money::usd(6_999);
    }
    let mut l2 = l.clone();
    assert_eq!(
        l2.apply(&wrong),
        Err(LedgerError::MarginMismatch {
            account: AccountId(1),
            stated: Money::usd(6_999),
            computed: Money::usd(7_000)
        })
    );
    assert_eq!(l2.state_hash(), l.state_hash(), "a refused trade changes nothing");
}

#[test]
fn margin_is_posted_at_the_tiers_leverage_cap() {
    // 100x asked, but 1,000 BTC at 70,000 (70M notional) sits in the 25x tier: 4% margin.
    let l = given(&[open(0, 10_000_000, 100), open(1, 100_000_000, 1)]);
    let Event::Traded { taker_margin, maker_margin, .. } = stated(&l, &trade(1, 0, Side::Buy, P, 1_000_000))
    else {
        unreachable!()
    };
    assert_eq!(taker_margin, Money::usd(2_800_000), "70M at 25x");
    assert_eq!(maker_margin, Money::usd(70_000_000), "70M at 1x");
    // 0.5 BTC (35,000 notional) is in the first tier (125x): the account's own 100x applies.
    let Event::Traded { taker_margin, .. } = stated(&l, &trade(1, 0, Side::Buy, P, 500)) else {
        unreachable!()
    };
    assert_eq!(taker_margin, Money::usd(350));
}
