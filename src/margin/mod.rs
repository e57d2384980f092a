//! Margin maths, exact and integer-only: notional tiers, initial and maintenance margin,
//! unrealised PnL, liquidation and bankruptcy prices (Binance isolated and cross, Bybit), fees,
//! funding (payments, premium index and its weighted average, rate, fair price, mark median) and
//! ADL ranking.
//!
//! Conventions: a position is `qty` (signed lots, long > 0) and `cost` (signed entry notional in
//! micro-USD, `s·EP = cost`), plus `wallet`/`margin` in isolated mode. Prices are computed as
//! exact rationals and rounded in the direction that protects the venue (documented per
//! function); money is rounded to the micro-USD the same way. No floating point; overflow is a
//! [`MarginError::Overflow`], never a wrap or a panic.

mod adl;
mod error;
mod formulas;
mod funding;
mod ratio;
mod tiers;

pub use adl::{AdlScore, adl_allocate, adl_rank, adl_score};
pub use error::{MarginError, MarginResult};
pub use formulas::{
    CrossOthers, MarginMode, bankruptcy_price, bankruptcy_price_exact, bybit_liquidation_price, fee,
    initial_margin, liquidation_price, liquidation_price_cross_exact, liquidation_price_cross_tiered,
    liquidation_price_cross_tiered_exact, liquidation_price_exact, liquidation_price_tiered,
    liquidation_price_tiered_exact, maintenance_margin, maintenance_margin_tiered, unrealized_pnl,
};
pub use funding::{
    PREMIUM_SAMPLE_SECS, WeightedPremium, funding_basis_price, funding_payment, funding_rate, median3,
    premium_index,
};
pub use ratio::Ratio;
pub use tiers::{Tier, TierTable};

#[cfg(test)]
mod tests;
