//! The FCN (fundamentalist, chartist, noise) trader of Chiarella & Iori (2002), as PAMS's
//! `FCNAgent` implements it.
//!
//! Each agent draws, once, three weights from exponential distributions (fundamental `F`, chart
//! `C`, noise `N`), a time window `τ`, a mean-reversion time `T` and an order margin `k`. At a
//! decision, with market price `p`, fundamental price `p*` and the price `τ'` steps ago
//! (`τ' = min(τ, elapsed)`), its expected log return per step is
//!
//! ```text
//! r̂ = (F·ln(p*/p)/T + C·ln(p/p_{t−τ'})/τ' + N·σ·ε) / (F + C + N),   ε ~ N(0, 1)
//! ```
//!
//! its expected price is `p̂ = p·exp(r̂·τ')`, and it sends one limit order of `order_qty` with a
//! time-to-live of `τ` steps: a buy at `p̂(1 − k)` if `p̂ > p`, a sell at `p̂(1 + k)` if `p̂ < p`
//! (margin type "fixed"), or at `p̂ + k·ε'` (margin type "normal"). No order if `p̂ = p`.
//!
//! Time here is whatever the caller steps the [`PriceHistory`] by (the simulator: ticks).

use super::{exponential, positive, uniform};
use crate::units::Side;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// How the order price is set around the expected price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MarginType {
    /// `p̂(1 ∓ k)` with `0 ≤ k ≤ 1` (PAMS's default).
    #[default]
    Fixed,
    /// `p̂ + k·ε`, `ε ~ N(0, 1)`.
    Normal,
}

/// The population's parameters, in PAMS's terms (times in steps of the price history).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcnParams {
    /// Means of the exponential distributions the three weights are drawn from.
    pub fundamental_weight_mean: f64,
    pub chart_weight_mean: f64,
    pub noise_weight_mean: f64,
    /// Standard deviation `σ` of the noise log return per step.
    pub noise_scale: f64,
    /// Time window `τ`, drawn uniformly from `[lo, hi)` and truncated (PAMS `timeWindowSize`).
    pub time_window: (f64, f64),
    /// Mean-reversion time `T`, drawn uniformly and truncated; `None`: the agent's `τ`.
    pub mean_reversion_time: Option<(f64, f64)>,
    /// Order margin `k`, drawn uniformly.
    pub order_margin: (f64, f64),
    pub margin_type: MarginType,
    /// Order time-to-live in steps; `None`: the agent's `τ` (PAMS).
    pub order_ttl: Option<u32>,
    /// Size of every order, in base units (PAMS: 1).
    pub order_qty: f64,
    /// Trend followers (PAMS's default) or contrarians.
    pub chart_following: bool,
}

impl FcnParams {
    /// PAMS's CI2002 sample: weights F ~ Exp(1), C ~ Exp(0) = 0, N ~ Exp(1); σ = 0.001;
    /// τ ~ U[100, 200); T ~ U[50, 100); k ~ U[0, 0.1); fixed margin; TTL = τ; one unit.
    pub fn pams_ci2002() -> FcnParams {
        FcnParams {
            fundamental_weight_mean: 1.0,
            chart_weight_mean: 0.0,
            noise_weight_mean: 1.0,
            noise_scale: 0.001,
            time_window: (100.0, 200.0),
            mean_reversion_time: Some((50.0, 100.0)),
            order_margin: (0.0, 0.1),
            margin_type: MarginType::Fixed,
            order_ttl: None,
            order_qty: 1.0,
            chart_following: true,
        }
    }

    /// The longest time window any agent can draw (what a price history must keep).
    pub fn max_time_window(&self) -> usize {
        let hi = self.time_window.0.max(self.time_window.1);
        if hi.is_finite() && hi > 0.0 { (hi as usize).max(1) } else { 1 }
    }
}

/// One agent's draws.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FcnAgent {
    pub fundamental_weight: f64,
    pub chart_weight: f64,
    pub noise_weight: f64,
    pub time_window: u32,
    pub mean_reversion_time: u32,
    pub order_margin: f64,
}

impl FcnAgent {
    /// Draws an agent (in PAMS's order: F, C, N, τ, k, T).
    pub fn draw(params: &FcnParams, rng: &mut (impl Rng + ?Sized)) -> FcnAgent {
        let fundamental_weight = exponential(rng, params.fundamental_weight_mean);
        let chart_weight = exponential(rng, params.chart_weight_mean);
        let noise_weight = exponential(rng, params.noise_weight_mean);
        let window =
            |rng: &mut _, (lo, hi): (f64, f64)| uniform(rng, lo, hi).clamp(0.0, u32::MAX as f64) as u32;
        let time_window = window(rng, params.time_window);
        let order_margin = uniform(rng, params.order_margin.0, params.order_margin.1).max(0.0);
        let mean_reversion_time = match params.mean_reversion_time {
            Some(range) => window(rng, range),
            None => time_window,
        };
        FcnAgent {
            fundamental_weight,
            chart_weight,
            noise_weight,
            time_window,
            mean_reversion_time,
            order_margin,
        }
    }

    /// The time-to-live of this agent's orders, in steps (at least 1).
    pub fn order_ttl(&self, params: &FcnParams) -> u32 {
        params.order_ttl.unwrap_or(self.time_window).max(1)
    }
}

/// The market prices of the last steps, oldest dropped first: O(1) to record and to look back.
#[derive(Clone, Debug)]
pub struct PriceHistory {
    buf: Vec<f64>,
    /// Slot of the latest price.
    head: usize,
    /// Steps recorded after the first price.
    time: u64,
}

impl PriceHistory {
    /// A history that can look back `depth` steps, starting from `first` at time 0.
    pub fn new(depth: usize, first: f64) -> PriceHistory {
        PriceHistory { buf: vec![first; depth.saturating_add(1).max(1)], head: 0, time: 0 }
    }

    /// Records the next step's price.
    pub fn push(&mut self, price: f64) {
        self.head = if self.head + 1 == self.buf.len() { 0 } else { self.head + 1 };
        self.buf[self.head] = price;
        self.time += 1;
    }

    pub fn latest(&self) -> f64 {
        self.buf[self.head]
    }

    /// Steps recorded since the first price.
    pub fn time(&self) -> u64 {
        self.time
    }

    /// How far back it can look.
    pub fn depth(&self) -> usize {
        self.buf.len() - 1
    }

    /// The price `k` steps before the latest; `None` if older than the start or the depth.
    pub fn ago(&self, k: usize) -> Option<f64> {
        if k > self.depth() || k as u64 > self.time {
            return None;
        }
        let i = if k <= self.head { self.head - k } else { self.head + self.buf.len() - k };
        Some(self.buf[i])
    }
}

/// One decision of `agent` (PAMS `FCNAgent.submit_orders_by_market`): `Some((side, price,
/// qty))` for a limit order, `None` when the expected price equals the market price, or the
/// inputs are unusable (non-positive or non-finite prices, all weights zero). `history` holds
/// the market prices up to now (its latest is the price `τ'` is measured back from).
pub fn fcn_decide(
    params: &FcnParams,
    agent: &FcnAgent,
    last_price: f64,
    fundamental_price: f64,
    history: &PriceHistory,
    rng: &mut (impl Rng + ?Sized),
) -> Option<(Side, f64, f64)> {
    let weights = agent.fundamental_weight + agent.chart_weight + agent.noise_weight;
    if !positive(last_price) || !positive(fundamental_price) || !positive(weights) {
        return None;
    }
    let fundamental = (fundamental_price / last_price).ln() / agent.mean_reversion_time.max(1) as f64;
    // The window shrinks to what has been recorded (and to what the history keeps).
    let window = (agent.time_window as u64).min(history.time()).min(history.depth() as u64) as usize;
    let past = history.ago(window).filter(|p| positive(*p)).unwrap_or(last_price);
    let chart = (last_price / past).ln() / window.max(1) as f64;
    let direction = if params.chart_following { 1.0 } else { -1.0 };
    let z: f64 = StandardNormal.sample(rng);
    let noise = params.noise_scale * z;
    let expected_return = (agent.fundamental_weight * fundamental
        + agent.chart_weight * chart * direction
        + agent.noise_weight * noise)
        / weights;
    // Projected over the same (possibly shrunk) window, as PAMS does: projecting a short early
    // window's trend over the full τ amplifies it by τ/τ' and runs the price away at the open.
    let expected = last_price * (expected_return * window as f64).exp();
    if !expected.is_finite() {
        return None;
    }
    let side = if expected > last_price {
        Side::Buy
    } else if expected < last_price {
        Side::Sell
    } else {
        return None;
    };
    let price = match params.margin_type {
        MarginType::Fixed => {
            let k = agent.order_margin.clamp(0.0, 1.0);
            match side {
                Side::Buy => expected * (1.0 - k),
                Side::Sell => expected * (1.0 + k),
            }
        }
        MarginType::Normal => {
            let e: f64 = StandardNormal.sample(rng);
            expected + e * agent.order_margin
        }
    };
    let qty = params.order_qty;
    (positive(price) && positive(qty)).then_some((side, price, qty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::ChaCha8Rng;

    fn agent(f: f64, c: f64, n: f64) -> FcnAgent {
        FcnAgent {
            fundamental_weight: f,
            chart_weight: c,
            noise_weight: n,
            time_window: 100,
            mean_reversion_time: 50,
            order_margin: 0.05,
        }
    }

    /// A history 200 steps long at one price (so every window is whole).
    fn flat(price: f64) -> PriceHistory {
        let mut h = PriceHistory::new(200, price);
        for _ in 0..200 {
            h.push(price);
        }
        h
    }

    #[test]
    fn at_the_first_step_the_window_is_empty_and_there_is_no_view() {
        // PAMS: τ' = min(τ, t) = 0 projects nothing, so the expected price is the market's.
        let params = FcnParams::pams_ci2002();
        let h = PriceHistory::new(200, 290.0);
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        assert_eq!(fcn_decide(&params, &agent(1.0, 1.0, 1.0), 290.0, 300.0, &h, &mut rng), None);
    }

    #[test]
    fn the_history_looks_back_exactly_and_forgets_beyond_its_depth() {
        let mut h = PriceHistory::new(3, 10.0);
        assert_eq!((h.latest(), h.time(), h.ago(0), h.ago(1)), (10.0, 0, Some(10.0), None));
        for p in [11.0, 12.0, 13.0, 14.0, 15.0] {
            h.push(p);
        }
        assert_eq!(h.time(), 5);
        assert_eq!(
            [h.ago(0), h.ago(1), h.ago(2), h.ago(3), h.ago(4)],
            [Some(15.0), Some(14.0), Some(13.0), Some(12.0), None]
        );
    }

    #[test]
    fn a_pure_fundamentalist_buys_below_value_and_sells_above_it_at_its_margin() {
        let params = FcnParams::pams_ci2002();
        let a = agent(1.0, 0.0, 0.0);
        let h = flat(290.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let (side, price, qty) = fcn_decide(&params, &a, 290.0, 300.0, &h, &mut rng).unwrap();
        let expected = 290.0 * ((300.0f64 / 290.0).ln() / 50.0 * 100.0).exp();
        assert_eq!(side, Side::Buy);
        assert!((price - expected * 0.95).abs() < 1e-9, "{price} vs {}", expected * 0.95);
        assert_eq!(qty, 1.0);
        let (side, price, _) = fcn_decide(&params, &a, 310.0, 300.0, &h, &mut rng).unwrap();
        assert_eq!(side, Side::Sell);
        let expected = 310.0 * (300.0f64 / 310.0).powi(2);
        assert!((price - expected * 1.05).abs() < 1e-9, "{price}");
        // At value, with no noise and no trend, it has no view.
        assert_eq!(fcn_decide(&params, &a, 300.0, 300.0, &h, &mut rng), None);
    }

    #[test]
    fn a_chartist_follows_the_trend_over_its_window_and_a_contrarian_fades_it() {
        let mut params = FcnParams::pams_ci2002();
        let a = agent(0.0, 1.0, 0.0);
        let mut h = PriceHistory::new(200, 100.0);
        for i in 1..=100 {
            h.push(100.0 + i as f64);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (side, price, _) = fcn_decide(&params, &a, 200.0, 200.0, &h, &mut rng).unwrap();
        // Mean log return ln(2)/100 per step, projected over 100 steps: doubles again.
        assert_eq!(side, Side::Buy);
        assert!((price - 400.0 * 0.95).abs() < 1e-6, "{price}");
        params.chart_following = false;
        let (side, _, _) = fcn_decide(&params, &a, 200.0, 200.0, &h, &mut rng).unwrap();
        assert_eq!(side, Side::Sell);
        // Early on the window is what has been recorded: 10 steps of +10%.
        let mut short = PriceHistory::new(200, 100.0);
        for _ in 0..10 {
            short.push(110.0);
        }
        params.chart_following = true;
        let (side, price, _) = fcn_decide(&params, &a, 110.0, 110.0, &short, &mut rng).unwrap();
        // ... and the trend is projected over those 10 steps, not the full window (PAMS).
        let expected = 110.0 * ((110.0f64 / 100.0).ln() / 10.0 * 10.0).exp();
        assert_eq!(side, Side::Buy);
        assert!((price - expected * 0.95).abs() < 1e-9);
    }

    #[test]
    fn noise_traders_split_evenly_and_bad_inputs_give_no_order() {
        let params = FcnParams::pams_ci2002();
        let a = agent(0.0, 0.0, 1.0);
        let h = flat(300.0);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let buys = (0..10_000)
            .filter(|_| fcn_decide(&params, &a, 300.0, 300.0, &h, &mut rng).unwrap().0 == Side::Buy)
            .count();
        assert!((4_800..5_200).contains(&buys), "{buys}");
        assert_eq!(fcn_decide(&params, &agent(0.0, 0.0, 0.0), 300.0, 300.0, &h, &mut rng), None);
        assert_eq!(fcn_decide(&params, &a, 0.0, 300.0, &h, &mut rng), None);
        assert_eq!(fcn_decide(&params, &a, 300.0, f64::NAN, &h, &mut rng), None);
    }

    #[test]
    fn agents_draw_within_the_configured_ranges() {
        let params = FcnParams::pams_ci2002();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let agents: Vec<FcnAgent> = (0..5_000).map(|_| FcnAgent::draw(&params, &mut rng)).collect();
        let mean_f = agents.iter().map(|a| a.fundamental_weight).sum::<f64>() / agents.len() as f64;
        assert!((mean_f - 1.0).abs() < 0.05, "{mean_f}");
        for a in &agents {
            assert_eq!(a.chart_weight, 0.0);
            assert!((100..200).contains(&a.time_window));
            assert!((50..100).contains(&a.mean_reversion_time));
            assert!((0.0..0.1).contains(&a.order_margin));
            assert_eq!(a.order_ttl(&params), a.time_window);
        }
    }
}
