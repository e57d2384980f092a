//! Every state change of a run, as past-tense events in envelopes, and their binary log.
//!
//! An [`Envelope`] carries a gapless sequence number, the tick it happened in, and the sequence
//! number of the event that caused it (a liquidation → its order → its trades). The ledger changes
//! only by applying these events ([`crate::ledger::Ledger::apply`]), live and in replay alike.

mod export;
mod log;

pub use export::{Cell, ExportFormat, Exporter, column_names, event_cells};
pub use log::{LOG_FORMAT_VERSION, LogError, LogHeader, LogReader, LogWriter};

use crate::book::{AccountId, NewOrder, OrderId};
use crate::units::{Money, Price, Qty, Rate, Side};
use serde::{Deserialize, Serialize};

/// Sequence number of an event within a run's log (0-based, gapless).
pub type Seq = u64;

/// An event with its place in the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: Seq,
    pub tick: u64,
    /// The event that caused this one, if any.
    pub cause: Option<Seq>,
    pub event: Event,
}

/// Why an order left the book without filling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CancelReason {
    /// The owner asked.
    Requested,
    /// The unfilled rest of an IOC or market order.
    Unfilled,
    /// A post-only order that would have taken liquidity.
    PostOnlyWouldCross,
    /// Self-trade prevention expired the resting order.
    SelfTrade,
    /// The owner is being liquidated: the engine cancels all its orders.
    Liquidation,
}

impl CancelReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CancelReason::Requested => "requested",
            CancelReason::Unfilled => "unfilled",
            CancelReason::PostOnlyWouldCross => "post_only_would_cross",
            CancelReason::SelfTrade => "self_trade",
            CancelReason::Liquidation => "liquidation",
        }
    }
}

/// Why the insurance fund changed outside a liquidation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InsuranceReason {
    /// Money put into the fund from outside (its starting capital).
    Deposit,
    /// What was left in the funding pool after paying the receivers (rounding dust).
    FundingRemainder,
}

impl InsuranceReason {
    pub fn as_str(self) -> &'static str {
        match self {
            InsuranceReason::Deposit => "deposit",
            InsuranceReason::FundingRemainder => "funding_remainder",
        }
    }
}

/// Every state change the simulator makes, in the past tense.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// An account was opened with a deposit from outside and a leverage setting.
    AccountOpened { account: AccountId, deposit: Money, leverage: u32 },
    /// More money came into an account's free balance from outside.
    Deposited { account: AccountId, amount: Money },
    /// Free balance moved into (positive) or out of (negative) the account's isolated margin.
    MarginAdded { account: AccountId, amount: Money },
    /// A position pair was seeded at `price`, as if traded off-book between `long` and `short`
    /// before the run started, each posting the margin given from its free balance.
    PositionSeeded {
        long: AccountId,
        short: AccountId,
        qty: Qty,
        price: Price,
        long_margin: Money,
        short_margin: Money,
    },
    /// An order reached the book.
    OrderPlaced { order: NewOrder },
    /// An order left the book with `remaining` lots unfilled.
    OrderCancelled { order: OrderId, account: AccountId, remaining: Qty, reason: CancelReason },
    /// A resting order was moved to a new price and/or size.
    OrderAmended { order: OrderId, account: AccountId, price: Price, qty: Qty },
    /// A resting (maker) order and an incoming (taker) order matched at the maker's price.
    Traded {
        maker_order: OrderId,
        maker: AccountId,
        taker_order: OrderId,
        taker: AccountId,
        taker_side: Side,
        price: Price,
        qty: Qty,
        maker_fee: Money,
        taker_fee: Money,
        /// The taker was a liquidation order.
        liquidation: bool,
    },
    /// New index, mark and last prices.
    MarkUpdated { index: Price, mark: Price, last: Price },
    /// A funding rate was fixed for the interval that just ended.
    FundingRateSet { rate: Rate, mark: Price },
    /// One account's funding moved between its margin and the funding pool (positive: received).
    FundingPaid { account: AccountId, amount: Money },
    /// The insurance fund changed outside a liquidation.
    InsuranceFundChanged { delta: Money, reason: InsuranceReason },
    /// An account breached maintenance at `mark` and the engine took it over.
    LiquidationTriggered {
        account: AccountId,
        mark: Price,
        position: Qty,
        maintenance: Money,
        equity: Money,
        liquidation_price: Price,
        bankruptcy_price: Price,
    },
    /// A position was closed against an opposite position at the bankruptcy price, because the
    /// book and the insurance fund could not absorb it.
    AutoDeleveraged { account: AccountId, counterparty: AccountId, qty: Qty, price: Price },
    /// A liquidation finished. In full: the position is flat and the whole remaining margin went
    /// to the insurance fund (`insurance_delta`: a gain, or a loss the fund paid as far as its
    /// balance went, the venue the rest as the ledger's shortfall), `fee` of it as
    /// the clearance fee. In part (a large position cut to a lower tier): `closed` lots were
    /// sold, the account keeps the rest and its margin, and only `fee` went to the fund.
    Liquidated { account: AccountId, closed: Qty, fee: Money, insurance_delta: Money },
    /// A tick ended.
    TickClosed { tick: u64 },
}

/// The kinds of event, for filtering exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    AccountOpened,
    Deposited,
    MarginAdded,
    PositionSeeded,
    OrderPlaced,
    OrderCancelled,
    OrderAmended,
    Traded,
    MarkUpdated,
    FundingRateSet,
    FundingPaid,
    InsuranceFundChanged,
    LiquidationTriggered,
    AutoDeleveraged,
    Liquidated,
    TickClosed,
}

impl EventKind {
    pub const ALL: [EventKind; 16] = [
        EventKind::AccountOpened,
        EventKind::Deposited,
        EventKind::MarginAdded,
        EventKind::PositionSeeded,
        EventKind::OrderPlaced,
        EventKind::OrderCancelled,
        EventKind::OrderAmended,
        EventKind::Traded,
        EventKind::MarkUpdated,
        EventKind::FundingRateSet,
        EventKind::FundingPaid,
        EventKind::InsuranceFundChanged,
        EventKind::LiquidationTriggered,
        EventKind::AutoDeleveraged,
        EventKind::Liquidated,
        EventKind::TickClosed,
    ];

    /// The event's type name as written in exports.
    pub fn name(self) -> &'static str {
        match self {
            EventKind::AccountOpened => "AccountOpened",
            EventKind::Deposited => "Deposited",
            EventKind::MarginAdded => "MarginAdded",
            EventKind::PositionSeeded => "PositionSeeded",
            EventKind::OrderPlaced => "OrderPlaced",
            EventKind::OrderCancelled => "OrderCancelled",
            EventKind::OrderAmended => "OrderAmended",
            EventKind::Traded => "Traded",
            EventKind::MarkUpdated => "MarkUpdated",
            EventKind::FundingRateSet => "FundingRateSet",
            EventKind::FundingPaid => "FundingPaid",
            EventKind::InsuranceFundChanged => "InsuranceFundChanged",
            EventKind::LiquidationTriggered => "LiquidationTriggered",
            EventKind::AutoDeleveraged => "AutoDeleveraged",
            EventKind::Liquidated => "Liquidated",
            EventKind::TickClosed => "TickClosed",
        }
    }

    /// Coarse groups a user filters by (`--kind trade`): `account`, `order`, `trade`, `price`,
    /// `funding`, `insurance`, `liquidation` (triggers, ADL and closings), `tick`.
    pub fn group(self) -> &'static str {
        match self {
            EventKind::AccountOpened
            | EventKind::Deposited
            | EventKind::MarginAdded
            | EventKind::PositionSeeded => "account",
            EventKind::OrderPlaced | EventKind::OrderCancelled | EventKind::OrderAmended => "order",
            EventKind::Traded => "trade",
            EventKind::MarkUpdated => "price",
            EventKind::FundingRateSet | EventKind::FundingPaid => "funding",
            EventKind::InsuranceFundChanged => "insurance",
            EventKind::LiquidationTriggered | EventKind::AutoDeleveraged | EventKind::Liquidated => {
                "liquidation"
            }
            EventKind::TickClosed => "tick",
        }
    }

    /// Parse a filter: a group name (`trade`) or an exact type name (`Traded`).
    pub fn parse_filter(text: &str) -> Option<Vec<EventKind>> {
        let exact: Vec<_> = EventKind::ALL.into_iter().filter(|k| k.name() == text).collect();
        if !exact.is_empty() {
            return Some(exact);
        }
        let group: Vec<_> = EventKind::ALL.into_iter().filter(|k| k.group() == text).collect();
        (!group.is_empty()).then_some(group)
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::AccountOpened { .. } => EventKind::AccountOpened,
            Event::Deposited { .. } => EventKind::Deposited,
            Event::MarginAdded { .. } => EventKind::MarginAdded,
            Event::PositionSeeded { .. } => EventKind::PositionSeeded,
            Event::OrderPlaced { .. } => EventKind::OrderPlaced,
            Event::OrderCancelled { .. } => EventKind::OrderCancelled,
            Event::OrderAmended { .. } => EventKind::OrderAmended,
            Event::Traded { .. } => EventKind::Traded,
            Event::MarkUpdated { .. } => EventKind::MarkUpdated,
            Event::FundingRateSet { .. } => EventKind::FundingRateSet,
            Event::FundingPaid { .. } => EventKind::FundingPaid,
            Event::InsuranceFundChanged { .. } => EventKind::InsuranceFundChanged,
            Event::LiquidationTriggered { .. } => EventKind::LiquidationTriggered,
            Event::AutoDeleveraged { .. } => EventKind::AutoDeleveraged,
            Event::Liquidated { .. } => EventKind::Liquidated,
            Event::TickClosed { .. } => EventKind::TickClosed,
        }
    }
}
