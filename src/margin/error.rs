//! The typed error of the margin module.

use crate::units::UnitError;

/// Why a margin computation refused its inputs or could not produce a result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MarginError {
    /// An intermediate or the result does not fit; never wrapped, never saturated silently.
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    /// A quantity that must be non-zero (an open position) is zero.
    #[error("{0}: quantity must be non-zero")]
    ZeroQty(&'static str),
    /// A price that must be positive is zero or negative.
    #[error("{what} must be a positive price, got {value} ticks")]
    NonPositivePrice { what: &'static str, value: i64 },
    /// Leverage must be at least 1.
    #[error("leverage must be at least 1")]
    ZeroLeverage,
    /// A rate outside its allowed range (`min..=max`, in units of 1e-8).
    #[error("{what} {value} is outside {min}..={max} (units of 1e-8)")]
    RateOutOfRange { what: &'static str, value: i64, min: i64, max: i64 },
    /// A money amount that must not be negative is negative.
    #[error("{what} must not be negative, got {value} micro-USD")]
    NegativeMoney { what: &'static str, value: i64 },
    /// The entry notional (`cost`) is zero or of the opposite sign to the quantity.
    #[error("position cost {cost} micro-USD is inconsistent with quantity {qty} lots")]
    InconsistentPosition { qty: i64, cost: i64 },
    /// A time interval must be positive, and a time-to-go must not exceed it.
    #[error("bad time interval: {0}")]
    BadInterval(&'static str),
    /// The price a formula produced is not a positive price (e.g. a basis price below zero).
    #[error("{0} is not a positive price")]
    NoPositivePrice(&'static str),
    /// A maintenance margin formula gave a negative amount: the notional is below the floor of
    /// the tier that was passed in (use the tier of the notional, [`super::TierTable::tier_for`]).
    #[error("maintenance margin is negative: the notional is below the floor of the given tier")]
    NotionalBelowTier,
    /// A tier table needs at least one tier.
    #[error("tier table is empty")]
    EmptyTierTable,
    /// A tier table row breaks a rule (`index` is 0-based).
    #[error("tier {index}: {reason}")]
    InvalidTier { index: usize, reason: &'static str },
    /// An error from the unit layer (instrument notional and the like).
    #[error(transparent)]
    Unit(#[from] UnitError),
}

/// Result alias for margin computations.
pub type MarginResult<T> = Result<T, MarginError>;
