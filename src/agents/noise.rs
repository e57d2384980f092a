//! Plain noise traders: market and limit orders arriving as Poisson processes, each side with
//! equal odds (or a set bias), sizes and limit offsets drawn from exponential distributions.

use super::{exponential, positive};
use crate::units::Side;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Poisson};
use serde::{Deserialize, Serialize};

/// Arrival rates and order shapes of the noise flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseParams {
    /// Expected market orders per tick (Poisson).
    pub market_orders_per_tick: f64,
    /// Expected limit orders per tick (Poisson).
    pub limit_orders_per_tick: f64,
    /// Probability that an order buys.
    pub buy_probability: f64,
    /// Mean order size in base units (exponential); the caller rounds down to lots and drops
    /// empty orders.
    pub size_mean: f64,
    /// Mean distance of a limit order behind the reference price, as a fraction of it
    /// (exponential): a buy at `p(1 − δ)`, a sell at `p(1 + δ)`.
    pub limit_offset_mean: f64,
    /// Ticks a limit order rests before it is cancelled.
    pub limit_ttl: u32,
}

/// One noise order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NoiseOrder {
    Market { side: Side, qty: f64 },
    Limit { side: Side, price: f64, qty: f64 },
}

fn arrivals(rng: &mut (impl Rng + ?Sized), rate: f64) -> u64 {
    if !positive(rate) {
        return 0;
    }
    match Poisson::new(rate) {
        Ok(p) => {
            let n: f64 = p.sample(rng);
            n.clamp(0.0, 1e9) as u64
        }
        Err(_) => 0,
    }
}

/// This tick's noise orders around `price` (appended to `out`): market orders first, then
/// limit orders. Nothing if `price` is not a positive finite number.
pub fn noise_orders(
    params: &NoiseParams,
    price: f64,
    rng: &mut (impl Rng + ?Sized),
    out: &mut Vec<NoiseOrder>,
) {
    if !positive(price) {
        return;
    }
    let buy = params.buy_probability.clamp(0.0, 1.0);
    let side = |rng: &mut _| if RngExt::random_bool(rng, buy) { Side::Buy } else { Side::Sell };
    for _ in 0..arrivals(rng, params.market_orders_per_tick) {
        let s = side(rng);
        out.push(NoiseOrder::Market { side: s, qty: exponential(rng, params.size_mean) });
    }
    for _ in 0..arrivals(rng, params.limit_orders_per_tick) {
        let s = side(rng);
        let qty = exponential(rng, params.size_mean);
        let offset = exponential(rng, params.limit_offset_mean).min(0.99);
        let price = match s {
            Side::Buy => price * (1.0 - offset),
            Side::Sell => price * (1.0 + offset),
        };
        out.push(NoiseOrder::Limit { side: s, price, qty });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    #[test]
    fn arrivals_sizes_and_offsets_have_the_configured_means() {
        let params = NoiseParams {
            market_orders_per_tick: 0.5,
            limit_orders_per_tick: 2.0,
            buy_probability: 0.5,
            size_mean: 0.01,
            limit_offset_mean: 0.001,
            limit_ttl: 60,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut out = Vec::new();
        let ticks = 20_000;
        for _ in 0..ticks {
            noise_orders(&params, 100.0, &mut rng, &mut out);
        }
        let markets = out.iter().filter(|o| matches!(o, NoiseOrder::Market { .. })).count();
        let limits: Vec<(Side, f64, f64)> = out
            .iter()
            .filter_map(|o| match *o {
                NoiseOrder::Limit { side, price, qty } => Some((side, price, qty)),
                _ => None,
            })
            .collect();
        assert!((markets as f64 / ticks as f64 - 0.5).abs() < 0.02, "{markets}");
        assert!((limits.len() as f64 / ticks as f64 - 2.0).abs() < 0.05);
        let mean_qty = limits.iter().map(|l| l.2).sum::<f64>() / limits.len() as f64;
        assert!((mean_qty - 0.01).abs() < 0.0005, "{mean_qty}");
        let mean_offset = limits.iter().map(|l| (l.1 / 100.0 - 1.0).abs()).sum::<f64>() / limits.len() as f64;
        assert!((mean_offset - 0.001).abs() < 0.00005, "{mean_offset}");
        assert!(limits.iter().all(|l| (l.0 == Side::Buy) == (l.1 < 100.0)));
        out.clear();
        noise_orders(&params, f64::NAN, &mut rng, &mut out);
        assert!(out.is_empty());
    }
}
