//! A liquidation hunter's decision logic, free of the ECS.
//!
//! The hunter reads the public liquidation map — exact (the exchange's own buckets) or estimated
//! the way heatmap vendors draw it — and weighs, for each direction, the liquidation notional in
//! reach (fuel) against what it would cost to push price to the nearest dense cluster through the
//! visible book (cost). A campaign then runs Idle → Push → Feed → Unwind → Cooldown:
//!
//! - **Push**: pull its quotes on the path side, lean a support quote behind the price, and take
//!   liquidity toward the cluster with IOC orders capped at the target price and at `push_reach`
//!   beyond the touch, at a per-tick pace, within a budget and an inventory cap;
//! - **Feed**: once liquidations on the hunted side start, sell into the squeeze (buy into the
//!   dump) by quoting just inside the touch on the side the forced orders take from;
//! - **Unwind**: flatten what is left with reduce-only market orders;
//! - **Cooldown**, then Idle again (up to `max_campaigns`).
//!
//! A campaign is abandoned (Unwind) when the mark moves against it by `stop_loss`, or when the
//! budget or inventory room runs out and no liquidations follow within `grace_ticks`.
//!
//! Decisions are `f64` (USD, BTC); the ECS glue rounds them onto the exchange's grid.
//!
//! Here: the direction and mode types and the hunter's parameters. Beside them, `map_estimate`
//! (the [`MapView`] a hunter reads, and [`estimate_map`]), `assessment` ([`assess`] fuel against
//! push cost in each direction, then [`choose`] one) and `campaign` (the [`HunterState`] machine,
//! one [`step`](HunterState::step) a tick).

mod assessment;
mod campaign;
mod map_estimate;

pub use assessment::{Assessment, BookModel, Expectation, assess, choose, expected_pnl, path_cost};
pub use campaign::{Campaign, HuntOrder, HunterState, HunterView, Outcome, Phase};
pub use map_estimate::{EstimateParams, MapBucket, MapView, estimate_map};

use crate::units::Side;
use serde::{Deserialize, Serialize};

/// Which way a campaign pushes price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    /// The side the hunter takes while pushing (buys to push up).
    pub fn taker_side(self) -> Side {
        match self {
            Direction::Up => Side::Buy,
            Direction::Down => Side::Sell,
        }
    }

    /// The position side whose liquidations it hunts (`Sell` = shorts, for a push up).
    pub fn hunted_side(self) -> Side {
        self.taker_side().opposite()
    }

    pub fn sign(self) -> f64 {
        match self {
            Direction::Up => 1.0,
            Direction::Down => -1.0,
        }
    }
}

/// How a hunter picks its direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HuntMode {
    Up,
    Down,
    /// The better fuel/cost ratio: the "magnet".
    #[default]
    Adaptive,
    /// The better expected PnL by its model of the book ([`expected_pnl`]), and only when that
    /// is above `min_expected_pnl_usd`; otherwise no campaign.
    Expected,
    /// A fair coin from the simulation's stream.
    Random,
}

/// A hunter's budget, limits and pacing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct HunterParams {
    pub mode: HuntMode,
    pub map: MapView,
    /// Fuel counts hunted liquidations within this fraction of price.
    pub max_distance: f64,
    /// A cluster is reached once this much hunted notional lies between price and it.
    pub cluster_usd: f64,
    /// Adaptive and random hunters only start when the chosen ratio is at least this.
    pub min_ratio: f64,
    /// An `Expected` hunter starts only when the better direction is expected to earn more than
    /// this (USD); its model of the book ([`BookModel`]): the refill half-life it assumes
    /// (ticks), and the share of the move it expects to be left while it unwinds what the forced
    /// flow did not take.
    pub min_expected_pnl_usd: f64,
    pub book_half_life_ticks: f64,
    pub unwind_retention: f64,
    /// Notional it may take while pushing, in total, and per tick.
    pub budget_usd: f64,
    pub pace_usd_per_tick: f64,
    /// Once past the target, its orders reach at most this fraction beyond the touch a tick.
    pub sweep_per_tick: f64,
    /// How far beyond the touch one push order may reach, as a fraction (0: as far as the
    /// target). A price, not a rate: where it binds, a push moves at most this far a tick (so a
    /// longer tick pushes slower); where it does not, a longer tick's larger order walks deeper
    /// (docs/market.md, "Time, not ticks", measures both).
    pub push_reach: f64,
    /// The largest position it will hold, USD at mark.
    pub max_inventory_usd: f64,
    /// Support quote behind the price on the non-path side while pushing (0 = none), and its
    /// gap behind the touch.
    pub support_usd: f64,
    pub support_gap_bps: f64,
    /// Feed once this much hunted notional has been liquidated since the campaign started (it
    /// pushes on past the target until then, or until budget or room run out).
    pub feed_after_usd: f64,
    /// Inventory offered into the forced flow: at most `feed_usd` at once, refilled by
    /// `feed_per_tick_usd` a tick as its offers are taken, over `feed_levels` quotes from
    /// `feed_offset_bps` beyond the touch outward, `feed_spacing_bps` apart: the forced orders
    /// first lift what else is there, then its offers at better prices. The support quote stays.
    pub feed_usd: f64,
    pub feed_per_tick_usd: f64,
    pub feed_levels: u32,
    pub feed_offset_bps: f64,
    pub feed_spacing_bps: f64,
    /// Feeding ends after this many ticks without hunted liquidations, or after `feed_max_ticks`.
    pub feed_quiet_ticks: u64,
    pub feed_max_ticks: u64,
    pub unwind_per_tick_usd: f64,
    /// It unwinds no further than this fraction from the mark.
    pub unwind_slippage: f64,
    /// Abandon when the mark moves this fraction against the campaign.
    pub stop_loss: f64,
    /// Ticks to wait for liquidations once budget or room has run out.
    pub grace_ticks: u64,
    pub cooldown_ticks: u64,
    pub max_campaigns: u32,
    /// First tick a campaign may start.
    pub start_tick: u64,
}

impl Default for HunterParams {
    /// A large desk: $5B of push budget at $10M a tick (a Binance-sized book takes ~$267K per
    /// dollar of move, so about $3.4B carries 71.45K to the 84K shorts), no order reaching more
    /// than 1% beyond the touch (a guard on one child order, chosen for the tick: docs/market.md,
    /// "Time, not ticks"), up to $6B inventory,
    /// a $20M support bid 5 bps behind the touch, clusters of $250M within 30%, feeding after
    /// $500M of liquidations (it keeps pushing until the cascade is well under way: the seed's
    /// short layers beyond ~86K hold more notional per dollar than the book's ~$267K, so they
    /// carry themselves once reached) at $20M a tick from 20 bps beyond the touch, stop at 5%
    /// against; it starts after a minute, once the book has formed.
    fn default() -> HunterParams {
        HunterParams {
            mode: HuntMode::Adaptive,
            // What a trader without the exchange's data sees; `Exact` is the insider's view.
            map: MapView::Estimated(EstimateParams::default()),
            max_distance: 0.3,
            cluster_usd: 250e6,
            min_ratio: 0.0,
            min_expected_pnl_usd: 0.0,
            book_half_life_ticks: 20.0,
            unwind_retention: 0.25,
            budget_usd: 5e9,
            pace_usd_per_tick: 10e6,
            sweep_per_tick: 0.01,
            push_reach: 0.01,
            max_inventory_usd: 6e9,
            support_usd: 20e6,
            support_gap_bps: 5.0,
            feed_after_usd: 500e6,
            feed_usd: 20e6,
            feed_per_tick_usd: 20e6,
            feed_levels: 4,
            feed_offset_bps: 20.0,
            feed_spacing_bps: 10.0,
            feed_quiet_ticks: 120,
            feed_max_ticks: 1_800,
            unwind_per_tick_usd: 20e6,
            unwind_slippage: 0.01,
            stop_loss: 0.05,
            grace_ticks: 300,
            cooldown_ticks: 600,
            max_campaigns: 1,
            start_tick: 60,
        }
    }
}
