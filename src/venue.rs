//! The venue's rules in exact units: the contract, the tier table, fees, funding, the mark
//! price's premium window, the tick length and the liquidation engine's settings.
//!
//! One value of [`ExchangeConfig`] drives a run and is written into its event log's header, so
//! a log carries every setting an auditor needs to recompute margins, fees and funding.

use crate::margin::TierTable;
use crate::units::{Instrument, Money, Rate};
use serde::{Deserialize, Serialize};

/// Venue rules, in exact units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExchangeConfig {
    pub instrument: Instrument,
    pub tiers: TierTable,
    pub maker_fee: Rate,
    pub taker_fee: Rate,
    /// Clearance fee on liquidated notional, paid from what margin is left into the insurance fund.
    pub liquidation_fee: Rate,
    /// Positions above this tier (0-based) are first cut down to its notional cap (Bybit/OKX
    /// style partial liquidation); `None` liquidates in full at once.
    pub partial_liquidation_tier: Option<usize>,
    pub funding_interval_secs: u64,
    pub funding_interest_8h: Rate,
    pub funding_clamp: Rate,
    pub funding_cap: Option<Rate>,
    /// Notional whose average fill price is the impact bid/ask of the premium index.
    pub impact_notional: Money,
    /// Window of the moving average of (mid − index) in the mark price.
    pub premium_window_secs: u64,
    pub tick_secs: u64,
    /// Liquidation rounds within one tick (liquidations → mark refresh → liquidations ...).
    pub max_liquidation_rounds: u32,
    /// Width of a liquidation-map bucket, in ticks.
    pub map_bucket_ticks: i64,
}

impl ExchangeConfig {
    /// Binance BTCUSDT-like defaults: 0.02%/0.05% fees, 0.5% clearance fee, 8 h funding with the
    /// 0.01% interest and 0.05% clamp, 30 s premium average, 1 s ticks.
    pub fn btcusdt() -> ExchangeConfig {
        ExchangeConfig {
            instrument: Instrument::btcusdt(),
            tiers: TierTable::binance_btcusdt(),
            maker_fee: Rate(20_000),
            taker_fee: Rate(50_000),
            liquidation_fee: Rate(500_000),
            partial_liquidation_tier: None,
            funding_interval_secs: 8 * 3600,
            funding_interest_8h: Rate(10_000),
            funding_clamp: Rate(50_000),
            funding_cap: Some(Rate(750_000)),
            impact_notional: Money::usd(25_000),
            premium_window_secs: 30,
            tick_secs: 1,
            max_liquidation_rounds: 8,
            map_bucket_ticks: 1_000,
        }
    }
}
