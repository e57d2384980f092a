//! Orders as the book sees them: who, which side, what kind, how much, and flags it carries.

use crate::units::{Price, Qty, Side};
use serde::{Deserialize, Serialize};

/// An account (one trader's isolated margin account).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub u32);

impl AccountId {
    /// The insurance fund, when it trades: it holds the positions it takes over from
    /// liquidations and offloads them onto the book under this id. No trader has it.
    pub const INSURANCE_FUND: AccountId = AccountId(u32::MAX);
}

/// An order, unique for the life of a run (assigned by whoever submits, checked by the book).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub u64);

/// How an order meets the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OrderKind {
    /// Limit, good till cancelled: matches what it can, rests the rest.
    Gtc,
    /// Limit that must rest in full: rejected if it would take liquidity.
    PostOnly,
    /// Limit, immediate or cancel: matches what it can, cancels the rest.
    Ioc,
    /// Takes liquidity up to its protection price (the venue's band from the mark), cancels the
    /// rest; with a price of zero (the liquidation engine's), at any price.
    Market,
}

impl OrderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderKind::Gtc => "gtc",
            OrderKind::PostOnly => "post_only",
            OrderKind::Ioc => "ioc",
            OrderKind::Market => "market",
        }
    }
}

/// Flags carried on an order. The book stores and reports them; the engine enforces their meaning
/// (reduce-only is clipped to the position before the order reaches the book).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OrderFlags {
    pub reduce_only: bool,
    /// A forced order from the liquidation engine.
    pub liquidation: bool,
}

/// An order request as submitted to the book.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    pub id: OrderId,
    pub owner: AccountId,
    pub side: Side,
    pub kind: OrderKind,
    /// Limit price; for [`OrderKind::Market`] its protection price, or zero for none.
    pub price: Price,
    pub qty: Qty,
    pub flags: OrderFlags,
}

/// One match between a resting (maker) order and an incoming (taker) order, at the maker's price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fill {
    pub maker_order: OrderId,
    pub maker: AccountId,
    pub taker_order: OrderId,
    pub taker: AccountId,
    /// The side of the taker (the aggressor).
    pub taker_side: Side,
    pub price: Price,
    pub qty: Qty,
}
