//! How agents behave, as scenario files write it: every duration a [`Duration`] and every rate
//! per second, so the tick is only a resolution. Each section converts into the agents'
//! per-tick parameters for one tick length ([`HuntingSpec::per_tick`] and its siblings):
//! durations become the nearest whole number of ticks, rates are multiplied by the tick, and a
//! volatility threshold on per-tick returns by its square root.
//!
//! The defaults are the agents' own defaults read at a one-second tick (so a scenario that
//! leaves everything out behaves as the code's defaults do).

use super::Duration;
use crate::agents::hunter::{HuntMode, HunterParams, MapView};
use crate::agents::maker::MakerParams;
use crate::agents::{FcnParams, MarginType, NoiseParams};
use crate::sim::LogOuConfig;
use serde::{Deserialize, Serialize};

/// `d` in ticks of `tick` seconds, to the nearest (halves up).
pub(super) fn ticks(d: Duration, tick: u64) -> u64 {
    let tick = tick.max(1);
    d.secs().saturating_add(tick / 2) / tick
}

/// `d` in ticks, at least one.
fn ticks_at_least_one(d: Duration, tick: u64) -> u64 {
    ticks(d, tick).max(1)
}

fn ticks_u32(d: Duration, tick: u64) -> u32 {
    ticks_at_least_one(d, tick).min(u32::MAX as u64) as u32
}

/// A whole number of ticks read as a duration at `tick` seconds.
fn duration(ticks: u64, tick: u64) -> Duration {
    Duration(ticks.saturating_mul(tick))
}

/// A hunter's budget, limits and pacing (`hunters[i].hunting`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename = "HunterParams")]
pub struct HuntingSpec {
    pub mode: HuntMode,
    pub map: MapView,
    pub max_distance: f64,
    pub cluster_usd: f64,
    pub min_ratio: f64,
    /// An `Expected` hunter's threshold (USD) and its model of the book: the refill half-life it
    /// assumes, and the share of the move left while it unwinds what the forced flow did not take.
    // Written only when set: a scenario's canonical form (its Monte Carlo meaning) is what it
    // was before these existed unless it uses them.
    #[serde(skip_serializing_if = "is_default_min_expected_pnl")]
    pub min_expected_pnl_usd: f64,
    #[serde(skip_serializing_if = "is_default_book_half_life")]
    pub book_half_life: Duration,
    #[serde(skip_serializing_if = "is_default_unwind_retention")]
    pub unwind_retention: f64,
    pub budget_usd: f64,
    /// Notional it takes while pushing, a second.
    pub pace_usd_per_second: f64,
    /// Once past the target, how far beyond the touch its orders may reach, percent a second.
    pub sweep_pct_per_second: f64,
    /// How far beyond the touch one push order may reach, in basis points (0: to the target).
    #[serde(skip_serializing_if = "is_default_push_reach")]
    pub push_reach_bps: f64,
    pub max_inventory_usd: f64,
    pub support_usd: f64,
    pub support_gap_bps: f64,
    pub feed_after_usd: f64,
    /// Inventory it offers into the forced flow at most at once ...
    pub feed_usd: f64,
    /// ... and how fast that refills as its offers are taken, a second.
    pub feed_usd_per_second: f64,
    pub feed_levels: u32,
    pub feed_offset_bps: f64,
    pub feed_spacing_bps: f64,
    /// Feeding ends after this long without hunted liquidations, or after `feed_max`.
    pub feed_quiet: Duration,
    pub feed_max: Duration,
    /// What it unwinds, a second ...
    pub unwind_usd_per_second: f64,
    /// ... no further than this from the mark (percent).
    pub unwind_slippage_pct: f64,
    pub stop_loss: f64,
    /// How long it waits for liquidations once budget or room has run out.
    pub grace: Duration,
    pub cooldown: Duration,
    pub max_campaigns: u32,
    /// The earliest a campaign may start.
    pub start: Duration,
}

impl HuntingSpec {
    /// The hunter's parameters at `tick` seconds a tick.
    pub fn per_tick(&self, tick: u64) -> HunterParams {
        let dt = tick.max(1) as f64;
        HunterParams {
            mode: self.mode,
            map: self.map.clone(),
            max_distance: self.max_distance,
            cluster_usd: self.cluster_usd,
            min_ratio: self.min_ratio,
            min_expected_pnl_usd: self.min_expected_pnl_usd,
            book_half_life_ticks: self.book_half_life.secs() as f64 / dt,
            unwind_retention: self.unwind_retention,
            budget_usd: self.budget_usd,
            pace_usd_per_tick: self.pace_usd_per_second * dt,
            sweep_per_tick: self.sweep_pct_per_second / 100.0 * dt,
            push_reach: self.push_reach_bps / 1e4,
            max_inventory_usd: self.max_inventory_usd,
            support_usd: self.support_usd,
            support_gap_bps: self.support_gap_bps,
            feed_after_usd: self.feed_after_usd,
            feed_usd: self.feed_usd,
            feed_per_tick_usd: self.feed_usd_per_second * dt,
            feed_levels: self.feed_levels,
            feed_offset_bps: self.feed_offset_bps,
            feed_spacing_bps: self.feed_spacing_bps,
            feed_quiet_ticks: ticks_at_least_one(self.feed_quiet, tick),
            feed_max_ticks: ticks_at_least_one(self.feed_max, tick),
            unwind_per_tick_usd: self.unwind_usd_per_second * dt,
            unwind_slippage: self.unwind_slippage_pct / 100.0,
            stop_loss: self.stop_loss,
            grace_ticks: ticks(self.grace, tick),
            cooldown_ticks: ticks(self.cooldown, tick),
            max_campaigns: self.max_campaigns,
            start_tick: ticks(self.start, tick),
        }
    }
}

impl Default for HuntingSpec {
    /// [`HunterParams::default`], read at a one-second tick.
    fn default() -> HuntingSpec {
        let p = HunterParams::default();
        HuntingSpec {
            mode: p.mode,
            map: p.map,
            max_distance: p.max_distance,
            cluster_usd: p.cluster_usd,
            min_ratio: p.min_ratio,
            min_expected_pnl_usd: p.min_expected_pnl_usd,
            book_half_life: duration(p.book_half_life_ticks as u64, 1),
            unwind_retention: p.unwind_retention,
            budget_usd: p.budget_usd,
            pace_usd_per_second: p.pace_usd_per_tick,
            sweep_pct_per_second: p.sweep_per_tick * 100.0,
            push_reach_bps: p.push_reach * 1e4,
            max_inventory_usd: p.max_inventory_usd,
            support_usd: p.support_usd,
            support_gap_bps: p.support_gap_bps,
            feed_after_usd: p.feed_after_usd,
            feed_usd: p.feed_usd,
            feed_usd_per_second: p.feed_per_tick_usd,
            feed_levels: p.feed_levels,
            feed_offset_bps: p.feed_offset_bps,
            feed_spacing_bps: p.feed_spacing_bps,
            feed_quiet: duration(p.feed_quiet_ticks, 1),
            feed_max: duration(p.feed_max_ticks, 1),
            unwind_usd_per_second: p.unwind_per_tick_usd,
            unwind_slippage_pct: p.unwind_slippage * 100.0,
            stop_loss: p.stop_loss,
            grace: duration(p.grace_ticks, 1),
            cooldown: duration(p.cooldown_ticks, 1),
            max_campaigns: p.max_campaigns,
            start: duration(p.start_tick, 1),
        }
    }
}

/// How a market maker quotes and when it withdraws (`makers[i].quoting`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename = "MakerParams")]
pub struct QuotingSpec {
    pub half_spread_bps: f64,
    pub level_spacing_bps: f64,
    pub levels: u32,
    /// Size of each level, in the asset (BTC for BTCUSDT).
    #[serde(alias = "size_per_level_btc")]
    pub size_per_level: f64,
    pub skew_bps_at_max: f64,
    /// The largest position it holds either way, in the asset.
    #[serde(alias = "max_inventory_btc")]
    pub max_inventory: f64,
    pub maker_fee_bps: f64,
    pub min_edge_bps: f64,
    /// The realised-volatility window.
    pub vol_window: Duration,
    /// Realised volatility, in bps per square-root second, at which it widens, and at which it
    /// pulls its quotes.
    pub vol_widen_bps: f64,
    pub vol_pull_bps: f64,
    /// The window of its own fills that measures one-sided flow.
    pub flow_window: Duration,
    pub toxic_widen: f64,
    pub toxic_pull: f64,
    /// Fills, in the asset, the window must hold before one-sidedness counts.
    #[serde(alias = "flow_min_btc")]
    pub flow_min: f64,
    pub widen_factor: f64,
    /// How long stress must stay below the current regime before it steps back one.
    pub cooldown: Duration,
    /// A hunting maker's lean while it pushes, bps (see `makers[i].hunting`); written only when
    /// set, as the hunting fields are.
    #[serde(skip_serializing_if = "is_default_lean")]
    pub lean_bps: f64,
}

impl QuotingSpec {
    /// The maker's parameters at `tick` seconds a tick: the volatility thresholds apply to
    /// per-tick returns, which grow with the square root of the tick. A maker re-posts what was
    /// taken from its ladder once a second (the finest tick, at which its sizes are quoted);
    /// a tick of `n` seconds batches `n` seconds of takers against the ladder, so its levels hold
    /// the `n` refreshes the tick spans, and its ladder offers the same per second at any tick.
    pub fn per_tick(&self, tick: u64) -> MakerParams {
        let root = (tick.max(1) as f64).sqrt();
        let refreshes = tick.max(1) as f64;
        MakerParams {
            half_spread_bps: self.half_spread_bps,
            level_spacing_bps: self.level_spacing_bps,
            levels: self.levels,
            size_per_level_btc: self.size_per_level * refreshes,
            skew_bps_at_max: self.skew_bps_at_max,
            max_inventory_btc: self.max_inventory,
            maker_fee_bps: self.maker_fee_bps,
            min_edge_bps: self.min_edge_bps,
            vol_window: ticks_u32(self.vol_window, tick),
            vol_widen_bps: self.vol_widen_bps * root,
            vol_pull_bps: self.vol_pull_bps * root,
            flow_window: ticks_u32(self.flow_window, tick),
            toxic_widen: self.toxic_widen,
            toxic_pull: self.toxic_pull,
            flow_min_btc: self.flow_min,
            widen_factor: self.widen_factor,
            cooldown_ticks: ticks(self.cooldown, tick).min(u32::MAX as u64) as u32,
            lean_bps: self.lean_bps,
        }
    }
}

impl Default for QuotingSpec {
    /// [`MakerParams::default`], read at a one-second tick.
    fn default() -> QuotingSpec {
        let p = MakerParams::default();
        QuotingSpec {
            half_spread_bps: p.half_spread_bps,
            level_spacing_bps: p.level_spacing_bps,
            levels: p.levels,
            size_per_level: p.size_per_level_btc,
            skew_bps_at_max: p.skew_bps_at_max,
            max_inventory: p.max_inventory_btc,
            maker_fee_bps: p.maker_fee_bps,
            min_edge_bps: p.min_edge_bps,
            vol_window: duration(p.vol_window as u64, 1),
            vol_widen_bps: p.vol_widen_bps,
            vol_pull_bps: p.vol_pull_bps,
            flow_window: duration(p.flow_window as u64, 1),
            toxic_widen: p.toxic_widen,
            toxic_pull: p.toxic_pull,
            flow_min: p.flow_min_btc,
            widen_factor: p.widen_factor,
            cooldown: duration(p.cooldown_ticks as u64, 1),
            lean_bps: p.lean_bps,
        }
    }
}

/// The noise traders' arrival rates and order shapes (`background.noise.params`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "NoiseParams")]
pub struct NoiseFlowSpec {
    /// Expected market orders a second (Poisson).
    pub market_orders_per_second: f64,
    /// Expected limit orders a second (Poisson).
    pub limit_orders_per_second: f64,
    pub buy_probability: f64,
    /// Mean order size, BTC (exponential).
    pub size_mean: f64,
    /// Mean distance of a limit order behind the price, a fraction of it (exponential).
    pub limit_offset_mean: f64,
    /// How long a limit order rests before it is cancelled.
    pub limit_ttl: Duration,
}

impl NoiseFlowSpec {
    /// The noise flow at `tick` seconds a tick.
    pub fn per_tick(&self, tick: u64) -> NoiseParams {
        let dt = tick.max(1) as f64;
        NoiseParams {
            market_orders_per_tick: self.market_orders_per_second * dt,
            limit_orders_per_tick: self.limit_orders_per_second * dt,
            buy_probability: self.buy_probability,
            size_mean: self.size_mean,
            limit_offset_mean: self.limit_offset_mean,
            limit_ttl: ticks(self.limit_ttl, tick).min(u32::MAX as u64) as u32,
        }
    }
}

/// The FCN population's behaviour in PAMS's terms, with PAMS's steps as seconds
/// (`background.fcn.params`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "FcnParams")]
pub struct FcnBehaviourSpec {
    pub fundamental_weight_mean: f64,
    pub chart_weight_mean: f64,
    pub noise_weight_mean: f64,
    /// Standard deviation of the noise term, a log return per second.
    pub noise_scale: f64,
    /// Time window `τ`, seconds, drawn uniformly from `[lo, hi)`.
    pub time_window: (f64, f64),
    /// Mean-reversion time `T`, seconds, drawn uniformly; `None`: the agent's `τ`.
    pub mean_reversion_time: Option<(f64, f64)>,
    pub order_margin: (f64, f64),
    pub margin_type: MarginType,
    /// How long an order rests; `None`: the agent's `τ` (PAMS).
    pub order_ttl: Option<Duration>,
    pub order_qty: f64,
    pub chart_following: bool,
}

impl FcnBehaviourSpec {
    /// The population at `tick` seconds a tick: a PAMS step is one tick, so times in seconds
    /// become ticks by dividing by the tick (each agent's draw is then cut to whole ticks;
    /// validation refuses a window shorter than one) and the per-second noise scale is
    /// multiplied by it.
    pub fn per_tick(&self, tick: u64) -> FcnParams {
        let dt = tick.max(1) as f64;
        let steps = |(lo, hi): (f64, f64)| (lo / dt, hi / dt);
        FcnParams {
            fundamental_weight_mean: self.fundamental_weight_mean,
            chart_weight_mean: self.chart_weight_mean,
            noise_weight_mean: self.noise_weight_mean,
            noise_scale: self.noise_scale * dt,
            time_window: steps(self.time_window),
            mean_reversion_time: self.mean_reversion_time.map(steps),
            order_margin: self.order_margin,
            margin_type: self.margin_type,
            order_ttl: self.order_ttl.map(|d| ticks_u32(d, tick)),
            order_qty: self.order_qty,
            chart_following: self.chart_following,
        }
    }
}

/// A slowly varying factor (`activity`, `chart_sentiment`): a log Ornstein–Uhlenbeck process
/// of standard deviation `volatility` and correlation time `correlation`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "LogOuConfig")]
pub struct FactorSpec {
    pub volatility: f64,
    pub correlation: Duration,
    #[serde(default)]
    pub max_factor: Option<f64>,
}

impl FactorSpec {
    /// The factor stepped once a tick of `tick` seconds.
    pub fn per_tick(&self, tick: u64) -> LogOuConfig {
        LogOuConfig {
            volatility: self.volatility,
            correlation_ticks: self.correlation.secs() as f64 / tick.max(1) as f64,
            max_factor: self.max_factor,
        }
    }
}

fn is_default_min_expected_pnl(v: &f64) -> bool {
    *v == HunterParams::default().min_expected_pnl_usd
}

fn is_default_book_half_life(v: &Duration) -> bool {
    *v == duration(HunterParams::default().book_half_life_ticks as u64, 1)
}

fn is_default_push_reach(v: &f64) -> bool {
    *v == HunterParams::default().push_reach * 1e4
}

fn is_default_unwind_retention(v: &f64) -> bool {
    *v == HunterParams::default().unwind_retention
}

fn is_default_lean(v: &f64) -> bool {
    *v == MakerParams::default().lean_bps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_to_the_nearest_tick_and_rates_scale_with_it() {
        assert_eq!(ticks(Duration(120), 1), 120);
        assert_eq!(ticks(Duration(120), 7), 17, "120/7 = 17.1");
        assert_eq!(ticks(Duration(3), 2), 2, "halves go up");
        assert_eq!(ticks(Duration(0), 5), 0);
        let h = HuntingSpec { pace_usd_per_second: 4e6, grace: Duration(300), ..HuntingSpec::default() };
        let p2 = h.per_tick(2);
        assert_eq!((p2.pace_usd_per_tick, p2.grace_ticks), (8e6, 150));
        assert_eq!(p2.feed_quiet_ticks, 60);
        let m = QuotingSpec::default().per_tick(4);
        assert_eq!((m.vol_widen_bps, m.vol_window, m.cooldown_ticks), (16.0, 8, 15));
        // Four seconds of refreshes in each level; the inventory cap is a position, not a rate.
        assert_eq!((m.size_per_level_btc, m.max_inventory_btc), (8.0, 20.0));
    }

    /// At a one-second tick the defaults are the agents' own, field for field: a scenario
    /// that leaves them out runs exactly what the code's defaults run.
    #[test]
    fn defaults_at_one_second_are_the_agents_defaults() {
        assert_eq!(HuntingSpec::default().per_tick(1), HunterParams::default());
        assert_eq!(QuotingSpec::default().per_tick(1), MakerParams::default());
    }
}
