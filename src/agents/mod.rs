//! Agents' decision logic as plain functions of (parameters, state, market view), free of the
//! ECS: no exchange, only floats in and orders out. The systems in `sim/` feed them, turn their
//! decisions into integer orders and own their accounts.
//!
//! - [`arbitrage`]: basis arbitrageurs trading the perp against spot when the basis pays;
//! - [`fcn`]: the fundamentalist–chartist–noise trader of Chiarella & Iori (2002), with the
//!   semantics of PAMS's `FCNAgent`, and the price tape its chart term reads;
//! - [`noise`]: plain Poisson noise traders (market and limit orders of random size and offset);
//! - [`maker`]: market makers quoting ladders with inventory skew, withdrawing under stress;
//! - [`hunter`]: hunters of liquidation clusters and their campaigns.

pub mod arbitrage;
pub mod fcn;
pub mod hunter;
pub mod maker;
pub mod noise;

pub use arbitrage::{ArbOrder, ArbParams, arb_decide};
pub use fcn::{FcnAgent, FcnParams, MarginType, PriceHistory, fcn_decide};
pub use noise::{NoiseOrder, NoiseParams, noise_orders};

use rand::{Rng, RngExt};

/// A positive finite number (false for NaN).
pub(crate) fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

/// An exponential draw with the given mean (PAMS's `{"expon": [mean]}`); a mean of zero or less
/// (or NaN) gives 0.
pub fn exponential(rng: &mut (impl Rng + ?Sized), mean: f64) -> f64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0.0;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    let u: f64 = rng.random::<f64>();
    -mean * (1.0 - u).ln()
}

/// A uniform draw on `[lo, hi)` (PAMS's `[lo, hi]` list); `lo` if the range is empty or inverted.
pub fn uniform(rng: &mut (impl Rng + ?Sized), lo: f64, hi: f64) -> f64 {
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return lo;
    }
    lo + (hi - lo) * rng.random::<f64>()
}
