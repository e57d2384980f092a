//! Every state change of a run, as past-tense events in envelopes, and their binary log.
//!
//! An [`Envelope`] carries a gapless sequence number, the tick it happened in, and the sequence
//! number of the event that caused it (a liquidation → its order → its trades). The exchange's
//! state — ledger and book — changes only by applying these events
//! ([`crate::engine::ExchangeState::apply`]), live and in replay alike.

mod export;
mod log;

pub use export::{
    Cell, ExportFormat, Exporter, TableExporter, column_names, envelope_columns, event_cells, kind_columns,
    table_file_name,
};
pub(crate) use log::{HASH_BLOCK, hash_whole_blocks};
pub use log::{LOG_FORMAT_VERSION, LogError, LogHeader, LogReader, LogWriter};

use crate::book::{AccountId, NewOrder, NewStop, OrderId, OrderKind, StopId, StopKind, TriggerSource};
use crate::margin::{AdlScore, MarginMode};
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

/// Why an order was turned away before reaching the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectReason {
    UnknownAccount,
    BadQuantity,
    BadPrice,
    /// The account is being liquidated.
    Liquidating,
    /// A reduce-only order with nothing to reduce.
    NothingToReduce,
    /// Not enough free balance for the margin and fee of the new exposure.
    InsufficientMargin,
    /// A stop whose trigger its price has already reached (Binance refuses it: error -2021,
    /// "Order would immediately trigger").
    WouldTriggerImmediately,
    /// A stop watching a price the venue does not trigger on (Hyperliquid triggers on the mark
    /// only).
    TriggerSourceUnsupported,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::UnknownAccount => "unknown_account",
            RejectReason::BadQuantity => "bad_quantity",
            RejectReason::BadPrice => "bad_price",
            RejectReason::Liquidating => "liquidating",
            RejectReason::NothingToReduce => "nothing_to_reduce",
            RejectReason::InsufficientMargin => "insufficient_margin",
            RejectReason::WouldTriggerImmediately => "would_trigger_immediately",
            RejectReason::TriggerSourceUnsupported => "trigger_source_unsupported",
        }
    }
}

/// Why the engine took an account over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TriggerReason {
    /// Equity at the mark fell to the maintenance margin.
    Maintenance,
    /// A fill of the account's own resting order would have taken it below zero (the mark
    /// lagged the trade price): the bankruptcy path.
    BankruptFill,
}

impl TriggerReason {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerReason::Maintenance => "maintenance",
            TriggerReason::BankruptFill => "bankrupt_fill",
        }
    }
}

/// The funding premium index sampled with a tick's price update (Binance: every 5 seconds of
/// simulated time). `samples` is how many 5-second sampling times fell in the tick: 1 with ticks of
/// up to 5 s, more with longer ticks, all taken at this tick's prices. `premium` is
/// `[max(0, impact_bid − index) − max(0, index − impact_ask)] / index`, with the index of the
/// event that carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PremiumSample {
    /// Average price of selling the venue's impact notional into the bids (the index where they
    /// hold less).
    pub impact_bid: Price,
    /// Average price of buying the impact notional from the asks (the index where they hold less).
    pub impact_ask: Price,
    pub premium: Rate,
    pub samples: u32,
}

/// Defines [`Event`] and, from the same list, [`EventKind`] with one kind per variant, so the
/// two can never drift apart.
macro_rules! define_events {
    ($( $(#[$doc:meta])* $name:ident { $($fields:tt)* } ),+ $(,)?) => {
        /// Every state change the simulator makes, in the past tense.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Event {
            $( $(#[$doc])* $name { $($fields)* } ),+
        }

        /// The kinds of event, one per variant of [`Event`], for filtering exports.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum EventKind {
            $( $name ),+
        }

        impl EventKind {
            /// Every kind, in the order of [`Event`]'s variants.
            pub const ALL: &'static [EventKind] = &[ $( EventKind::$name ),+ ];

            /// The event's type name as written in exports.
            pub fn name(self) -> &'static str {
                match self {
                    $( EventKind::$name => stringify!($name) ),+
                }
            }
        }

        impl Event {
            pub fn kind(&self) -> EventKind {
                match self {
                    $( Event::$name { .. } => EventKind::$name ),+
                }
            }
        }
    };
}

define_events! {
    /// An account was opened with a deposit from outside, a leverage setting, and how its
    /// position is margined (isolated: by its posted margin; cross: by its whole wallet).
    AccountOpened { account: AccountId, deposit: Money, leverage: u32, mode: MarginMode },
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
    /// An order was turned away before reaching the book.
    OrderRejected {
        account: AccountId,
        side: Side,
        kind: OrderKind,
        price: Price,
        qty: Qty,
        reduce_only: bool,
        reason: RejectReason,
    },
    /// An order reached the book: it matches against the opposite side in price-time priority
    /// (the `Traded` and self-trade `OrderCancelled` events that follow say how), and what is
    /// left of a GTC or post-only order rests.
    OrderPlaced { order: NewOrder },
    /// An order left the book with `remaining` lots unfilled.
    OrderCancelled { order: OrderId, account: AccountId, remaining: Qty, reason: CancelReason },
    /// A resting order was moved to a new price and/or size (and matches if it now crosses).
    OrderAmended { order: OrderId, account: AccountId, price: Price, qty: Qty },
    /// A resting (maker) order and an incoming (taker) order matched at the maker's price.
    /// `maker_margin` and `taker_margin` are what the fill moved from each side's free balance
    /// into its isolated margin (negative: released back to the balance).
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
        maker_margin: Money,
        taker_margin: Money,
        /// The taker was a liquidation order.
        liquidation: bool,
    },
    /// New index, mark and last prices. `round` 0 is the tick's price update, which carries the
    /// funding premium `sample` when a sampling time fell in the tick; round `n > 0` is the
    /// refresh after the tick's `n`-th liquidation round (never a sample).
    MarkUpdated { index: Price, mark: Price, last: Price, round: u32, sample: Option<PremiumSample> },
    /// A funding rate was fixed for the interval that just ended, from `premium` (the weighted
    /// average of the interval's `samples` premium samples, per 8 hours) by the clamp formula;
    /// payments are on notional at `mark`.
    FundingRateSet { rate: Rate, premium: Rate, samples: u64, mark: Price },
    /// One account's funding moved between its margin and the funding pool (positive: received).
    FundingPaid { account: AccountId, amount: Money },
    /// The insurance fund changed outside a liquidation.
    InsuranceFundChanged { delta: Money, reason: InsuranceReason },
    /// The engine took an account over: its equity at `mark` fell to its maintenance margin
    /// (`reason` maintenance), or a fill of its own would have taken it below zero (`reason`
    /// bankrupt fill).
    LiquidationTriggered {
        account: AccountId,
        reason: TriggerReason,
        mark: Price,
        position: Qty,
        maintenance: Money,
        equity: Money,
        liquidation_price: Price,
        bankruptcy_price: Price,
    },
    /// The insurance fund took `qty` of a liquidated account's position over at `price` (its
    /// bankruptcy price): the account closes that much, the fund now holds it, and offloads it
    /// onto the book later under [`AccountId::INSURANCE_FUND`].
    InsuranceTakeover { account: AccountId, qty: Qty, price: Price },
    /// A position was closed against an opposite position at the bankruptcy price, because the
    /// book and the insurance fund could not absorb it. `score` is the counterparty's ADL
    /// ranking score (BitMEX: PnL% × effective leverage, fixed point, see
    /// [`crate::margin::AdlScore`]) in the ranking it was chosen from.
    AutoDeleveraged { account: AccountId, counterparty: AccountId, qty: Qty, price: Price, score: AdlScore },
    /// A liquidation finished. In full: the position is flat and the whole remaining margin went
    /// to the insurance fund (`insurance_delta`: a gain, or a loss the fund paid as far as its
    /// balance went, the venue the rest as the ledger's shortfall), `fee` of it as
    /// the clearance fee. In part (`partial`, a large position cut to a lower tier): `closed`
    /// lots were sold, the account keeps the rest and its margin, and only `fee` went to the
    /// fund. `mark` is the mark price of the trigger.
    Liquidated {
        account: AccountId,
        closed: Qty,
        mark: Price,
        fee: Money,
        insurance_delta: Money,
        partial: bool,
    },
    /// A tick ended.
    TickClosed { tick: u64 },
    // The stop events come last so that every earlier event keeps its encoding (a variant is
    // encoded by its position): a run without stops logs the same bytes as before they existed.
    /// A stop order was placed: held outside the book until `stop.source`'s price reaches
    /// `stop.trigger` (at or below it for a sell stop-market or a buy take-profit, at or above
    /// it for the others).
    StopPlaced { stop: NewStop },
    /// A stop order was turned away.
    StopRejected {
        account: AccountId,
        side: Side,
        kind: StopKind,
        source: TriggerSource,
        trigger: Price,
        qty: Qty,
        reduce_only: bool,
        reason: RejectReason,
    },
    /// A pending stop order was cancelled: by its owner, or because its owner is being
    /// liquidated.
    StopCancelled { stop: StopId, account: AccountId, reason: CancelReason },
    /// A stop's price reached its trigger: `price` is that price (last or mark, as the stop
    /// watches). It leaves the stop book and becomes a market order: the next event is that
    /// order's `OrderPlaced` (or `OrderRejected`), caused by this one.
    StopTriggered { stop: NewStop, price: Price },
}

impl EventKind {
    /// Coarse groups a user filters by (`--kind trade`): `account`, `order`, `trade`, `price`,
    /// `funding`, `insurance`, `liquidation` (triggers, ADL and closings), `tick`, `stop`.
    pub fn group(self) -> &'static str {
        match self {
            EventKind::AccountOpened
            | EventKind::Deposited
            | EventKind::MarginAdded
            | EventKind::PositionSeeded => "account",
            EventKind::OrderRejected
            | EventKind::OrderPlaced
            | EventKind::OrderCancelled
            | EventKind::OrderAmended => "order",
            EventKind::Traded => "trade",
            EventKind::MarkUpdated => "price",
            EventKind::FundingRateSet | EventKind::FundingPaid => "funding",
            EventKind::InsuranceFundChanged => "insurance",
            EventKind::LiquidationTriggered
            | EventKind::InsuranceTakeover
            | EventKind::AutoDeleveraged
            | EventKind::Liquidated => "liquidation",
            EventKind::TickClosed => "tick",
            EventKind::StopPlaced
            | EventKind::StopRejected
            | EventKind::StopCancelled
            | EventKind::StopTriggered => "stop",
        }
    }

    /// The filters [`parse_filter`](EventKind::parse_filter) accepts: the group names, then the
    /// exact type names, each once, in declaration order.
    pub fn filter_names() -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for name in EventKind::ALL.iter().map(|k| k.group()).chain(EventKind::ALL.iter().map(|k| k.name())) {
            if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// Parse a filter: a group name (`trade`) or an exact type name (`Traded`).
    pub fn parse_filter(text: &str) -> Option<Vec<EventKind>> {
        let exact: Vec<_> = EventKind::ALL.iter().copied().filter(|k| k.name() == text).collect();
        if !exact.is_empty() {
            return Some(exact);
        }
        let group: Vec<_> = EventKind::ALL.iter().copied().filter(|k| k.group() == text).collect();
        (!group.is_empty()).then_some(group)
    }
}

impl Event {
    /// The accounts whose ledger state (balance, margin, position, liquidation) this event
    /// changes. Derived from the event alone, so nothing that records events has to remember
    /// which accounts it touched.
    pub fn ledger_accounts(&self) -> [Option<AccountId>; 2] {
        match *self {
            Event::AccountOpened { account, .. }
            | Event::Deposited { account, .. }
            | Event::MarginAdded { account, .. }
            | Event::FundingPaid { account, .. }
            | Event::LiquidationTriggered { account, .. }
            | Event::Liquidated { account, .. } => [Some(account), None],
            Event::PositionSeeded { long, short, .. } => [Some(long), Some(short)],
            Event::Traded { maker, taker, .. } => [Some(maker), Some(taker)],
            Event::AutoDeleveraged { account, counterparty, .. } => [Some(account), Some(counterparty)],
            Event::InsuranceTakeover { account, .. } => [Some(account), Some(AccountId::INSURANCE_FUND)],
            Event::OrderRejected { .. }
            | Event::OrderPlaced { .. }
            | Event::OrderCancelled { .. }
            | Event::OrderAmended { .. }
            | Event::MarkUpdated { .. }
            | Event::FundingRateSet { .. }
            | Event::InsuranceFundChanged { .. }
            | Event::TickClosed { .. }
            | Event::StopPlaced { .. }
            | Event::StopRejected { .. }
            | Event::StopCancelled { .. }
            | Event::StopTriggered { .. } => [None, None],
        }
    }
}
