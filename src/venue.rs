//! The venue's rules in exact units: the contract, the tier table, fees, funding, the mark
//! price's premium window, the tick length and the liquidation engine's settings.
//!
//! One value of [`ExchangeConfig`] drives a run and is written into its event log's header, so
//! a log carries every setting an auditor needs to recompute margins, fees and funding.

use crate::margin::{self, MarginResult, TierTable};
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
    /// Funding is paid at the end of each interval, from the premium index sampled every
    /// [`margin::PREMIUM_SAMPLE_SECS`] and averaged with increasing weights.
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
    /// Stop rounds after one price change: the stops the price reached trigger, their market
    /// orders move the last price, the stops that reaches trigger next ... Stops still reached
    /// after this many rounds trigger at the next price change (the next trade or mark).
    pub max_stop_rounds: u32,
    /// Width of a liquidation-map bucket, in ticks.
    pub map_bucket_ticks: i64,
    /// Market-order price protection: an ordinary market order (not a liquidation's) fills no
    /// further than this fraction from the mark it was sent at, and the rest expires, as
    /// Binance's market order price cap/floor ratio (5% for BTCUSDT, the `PERCENT_PRICE`
    /// multipliers 0.95 / 1.05 of the mark). See `docs/venues.md`.
    pub market_price_band: Rate,
    /// How liquidations end: which venue's chain of resort, and the insurance fund's limits.
    pub liquidation: LiquidationRules,
}

/// Whose liquidation rules the engine follows. See `docs/venues.md` for the rules and sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VenuePreset {
    /// An IOC limited at the bankruptcy price; what it cannot close, the insurance fund takes
    /// over at the bankruptcy price (up to its position cap) and offloads gradually; ADL only
    /// beyond the cap or when the fund is empty.
    Binance,
    /// After any risk-limit cut, the liquidation engine takes the position over at the
    /// bankruptcy price at once (no order of the account's own), the fund works it off; ADL when
    /// the fund is empty or has drawn down by more than `fund_drawdown_adl` within 8 hours.
    Bybit,
    /// A market order into the book; if the account's equity is then below
    /// `backstop_below_maintenance` of its maintenance margin, the backstop vault (the fund)
    /// takes the rest over, else the account keeps it; ADL when the vault cannot.
    Hyperliquid,
}

impl VenuePreset {
    pub fn as_str(self) -> &'static str {
        match self {
            VenuePreset::Binance => "binance",
            VenuePreset::Bybit => "bybit",
            VenuePreset::Hyperliquid => "hyperliquid",
        }
    }
}

/// The liquidation chain's settings, exact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiquidationRules {
    pub preset: VenuePreset,
    /// The fund's net position (notional at the mark) may reach this share of its balance;
    /// what a takeover would put beyond it goes to ADL. 100% by default (Binance).
    pub fund_position_cap: Rate,
    /// Offloading: the fund takes at most this share of the others' traded volume of the last
    /// minute ...
    pub offload_participation: Rate,
    /// ... or, if more, this share of its position a minute (0 by default: a fund that works
    /// off on a schedule whatever the market does can crash a thin market by itself) ...
    pub offload_per_minute: Rate,
    /// ... and never trades further than this from the index.
    pub offload_slippage: Rate,
    /// Hyperliquid: the backstop takes over when equity is below this share of maintenance.
    pub backstop_below_maintenance: Rate,
    /// Bybit: ADL instead of takeover while the fund is more than this share below its
    /// highest balance of the last 8 hours.
    pub fund_drawdown_adl: Option<Rate>,
}

impl LiquidationRules {
    /// The rules of `preset` with the documented defaults: fund cap 100% of its balance,
    /// offload at 10% of the others' volume within 1% of the index, Hyperliquid's backstop below
    /// 2/3 of maintenance, Bybit's ADL at a 30% drawdown of the fund.
    pub fn of(preset: VenuePreset) -> LiquidationRules {
        LiquidationRules {
            preset,
            fund_position_cap: Rate(100_000_000),
            offload_participation: Rate(10_000_000),
            offload_per_minute: Rate::ZERO,
            offload_slippage: Rate(1_000_000),
            backstop_below_maintenance: Rate(66_666_667),
            fund_drawdown_adl: (preset == VenuePreset::Bybit).then_some(Rate(30_000_000)),
        }
    }
}

impl ExchangeConfig {
    /// The funding interval in whole hours, as the rate formula takes it (scenarios allow 1 to
    /// 24; anything outside is clamped to that range).
    pub fn funding_interval_hours(&self) -> u32 {
        (self.funding_interval_secs / 3_600).clamp(1, 24) as u32
    }

    /// The funding rate an interval's premium average gives: `P + clamp(I − P, ±clamp)` scaled by
    /// N/8 for an N-hour interval, then capped (see [`margin::funding_rate`]).
    pub fn funding_rate(&self, premium: Rate) -> MarginResult<Rate> {
        margin::funding_rate(
            premium,
            self.funding_interest_8h,
            self.funding_clamp,
            self.funding_interval_hours(),
            self.funding_cap,
        )
    }

    /// Binance BTCUSDT-like defaults: 0.02%/0.05% fees, 0.5% clearance fee, 8 h funding with the
    /// 0.01% interest and 0.05% clamp, 30 s premium average, 1 s ticks, market orders protected
    /// at 5% from the mark.
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
            max_stop_rounds: 8,
            map_bucket_ticks: 1_000,
            market_price_band: Rate(5_000_000),
            liquidation: LiquidationRules::of(VenuePreset::Binance),
        }
    }
}
