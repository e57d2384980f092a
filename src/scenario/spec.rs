//! The scenario file's shape: [`Scenario`] and its sections as they are written (human units,
//! defaults for everything optional, unknown fields refused), before any check.

use super::Duration;
use super::behaviour::{FactorSpec, FcnBehaviourSpec, HuntingSpec, NoiseFlowSpec, QuotingSpec};
use super::map_csv::MapCsvSpec;
use super::sweep::SweepValue;
use crate::margin::TierTable;
use crate::population::{self, Band};
use crate::sim::{HolderConfig, ShockMarket};
use crate::units::Side;
use crate::venue::VenuePreset;
use serde::{Deserialize, Serialize};

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    /// Names the output folder (`out/<name>/`).
    pub name: String,
    pub seed: u64,
    pub market: MarketSpec,
    pub start_price_usd: f64,
    pub horizon: Duration,
    pub tick: Duration,
    pub insurance_fund_usd: f64,
    pub index: IndexSpec,
    pub map: MapSpec,
    pub liquidity: LiquiditySpec,
    /// Basis arbitrageurs between the perp and the spot venues.
    pub arbitrage: ArbitrageSpec,
    /// Value traders: capital that buys a deep discount to the fair value and sells a premium.
    pub value: ValueSpec,
    pub holders: HolderConfig,
    /// Background order flow: FCN (fundamentalist/chartist/noise) and Poisson noise traders.
    pub background: BackgroundSpec,
    /// Market makers quoting ladders, withdrawing under stress.
    pub makers: Vec<MakerSpec>,
    /// Hunters of liquidation clusters.
    pub hunters: Vec<HunterSpec>,
    pub shocks: Vec<ShockSpec>,
    /// Price levels to judge (touched? when? accelerated, absorbed or rejected?).
    pub watch_levels: Vec<f64>,
    pub outputs: OutputSpec,
    pub monte_carlo: MonteCarloSpec,
    pub sweep: Option<SweepSpec>,
    /// A sensitivity analysis (`liqsim sensitivity`). Left out of the canonical form when
    /// absent, so that scenarios without one keep the meaning (and Monte Carlo folders) they had.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sensitivity: Option<SensitivitySpec>,
}

/// The contract and the venue's rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketSpec {
    /// The contract whose grid, tier table, impact notional and map bucket the fields left out
    /// take: `BtcUsdt` (the default) or `EthUsdt`.
    pub instrument: InstrumentPreset,
    /// Price tick, USD (`None`: the instrument's).
    pub tick_usd: Option<f64>,
    /// Quantity step, in the asset (BTC for BTCUSDT, ETH for ETHUSDT; `None`: the instrument's).
    #[serde(alias = "lot_btc")]
    pub lot: Option<f64>,
    pub maker_fee_pct: f64,
    pub taker_fee_pct: f64,
    /// Clearance fee on liquidated notional (historically 0.3–0.5%).
    pub liquidation_fee_pct: f64,
    pub funding_interval: Duration,
    pub funding_interest_pct: f64,
    pub funding_clamp_pct: f64,
    pub funding_cap_pct: Option<f64>,
    /// The notional whose impact bid and ask make the premium (`None`: the instrument's).
    pub impact_notional_usd: Option<f64>,
    pub premium_window: Duration,
    /// Positions above this tier (0-based) are first cut to its cap; `None`: always in full.
    pub partial_liquidation_tier: Option<usize>,
    /// Notional tiers; `None` is the instrument's table (Binance BTCUSDT's or ETHUSDT's).
    pub tiers: Option<Vec<TierSpec>>,
    pub max_liquidation_rounds: u32,
    /// Stop rounds after one price change (stops → their market orders → the stops those
    /// reach ...).
    pub max_stop_rounds: u32,
    /// Width of a liquidation-map bucket (heatmap rows), USD (`None`: the instrument's).
    pub map_bucket_usd: Option<f64>,
    /// Market-order price protection, percent: an ordinary market order (a trader's, a stop's)
    /// fills no further than this from the mark, and the rest expires (default 5, Binance
    /// BTCUSDT's; docs/venues.md). Liquidations keep their own rules.
    pub price_band_pct: f64,
    /// Whose liquidation chain the venue runs: `Binance` (default), `Bybit` or `Hyperliquid`
    /// (docs/venues.md).
    pub venue: VenuePreset,
    /// The insurance fund's limits and how it works off what it takes over; each left out
    /// takes the venue's default.
    pub insurance: InsuranceSpec,
}

/// A contract whose values a market section's left-out fields take.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InstrumentPreset {
    /// Binance BTCUSDT: tick 0.1 USD, lot 0.001 BTC, its Oct 2024 tier table, impact notional
    /// 25,000 USD (200 USDT of margin at 125x), 100 USD map buckets.
    #[default]
    BtcUsdt,
    /// Binance ETHUSDT: tick 0.01 USD, lot 0.001 ETH, the tier table of Binance's worked ETH
    /// example ([`TierTable::binance_ethusdt`]), impact notional 20,000 USD (200 USDT at its
    /// 100x), 5 USD map buckets (about the same share of the price as BTC's 100).
    EthUsdt,
}

impl InstrumentPreset {
    /// The venue's name for the contract.
    pub fn symbol(self) -> &'static str {
        match self {
            InstrumentPreset::BtcUsdt => "BTCUSDT",
            InstrumentPreset::EthUsdt => "ETHUSDT",
        }
    }

    /// The asset a lot counts.
    pub fn asset(self) -> &'static str {
        match self {
            InstrumentPreset::BtcUsdt => "BTC",
            InstrumentPreset::EthUsdt => "ETH",
        }
    }

    pub fn tick_usd(self) -> f64 {
        match self {
            InstrumentPreset::BtcUsdt => 0.1,
            InstrumentPreset::EthUsdt => 0.01,
        }
    }

    pub fn lot(self) -> f64 {
        0.001
    }

    pub fn impact_notional_usd(self) -> f64 {
        match self {
            InstrumentPreset::BtcUsdt => 25_000.0,
            InstrumentPreset::EthUsdt => 20_000.0,
        }
    }

    pub fn map_bucket_usd(self) -> f64 {
        match self {
            InstrumentPreset::BtcUsdt => 100.0,
            InstrumentPreset::EthUsdt => 5.0,
        }
    }

    pub fn tiers(self) -> TierTable {
        match self {
            InstrumentPreset::BtcUsdt => TierTable::binance_btcusdt(),
            InstrumentPreset::EthUsdt => TierTable::binance_ethusdt(),
        }
    }
}

impl MarketSpec {
    pub fn tick_usd(&self) -> f64 {
        self.tick_usd.unwrap_or(self.instrument.tick_usd())
    }

    pub fn lot(&self) -> f64 {
        self.lot.unwrap_or(self.instrument.lot())
    }

    pub fn impact_notional_usd(&self) -> f64 {
        self.impact_notional_usd.unwrap_or(self.instrument.impact_notional_usd())
    }

    pub fn map_bucket_usd(&self) -> f64 {
        self.map_bucket_usd.unwrap_or(self.instrument.map_bucket_usd())
    }

    /// Writes the instrument's values into the fields left out, so that a scenario's canonical
    /// form states its grid whichever way it was written.
    pub fn resolve(&mut self) {
        self.tick_usd = Some(self.tick_usd());
        self.lot = Some(self.lot());
        self.impact_notional_usd = Some(self.impact_notional_usd());
        self.map_bucket_usd = Some(self.map_bucket_usd());
    }
}

/// The insurance fund's settings, in percent; `None` is the venue's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InsuranceSpec {
    /// The fund's net position may reach this share of its balance (default 100).
    pub position_cap_pct: Option<f64>,
    /// Offloading: at most this share of the last minute's traded volume (default 10) ...
    pub offload_participation_pct: Option<f64>,
    /// ... but at least this share of its position a minute (default 5) ...
    pub offload_per_minute_pct: Option<f64>,
    /// ... never further than this from the mark (default 1).
    pub offload_slippage_pct: Option<f64>,
    /// Hyperliquid: the backstop takes over below this share of maintenance (default 66.666667).
    pub backstop_below_maintenance_pct: Option<f64>,
    /// Bybit: ADL while the fund is more than this below its 8-hour peak (default 30; other
    /// venues: never).
    pub drawdown_adl_pct: Option<f64>,
}

/// One notional tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    pub cap_usd: f64,
    pub max_leverage: u32,
    pub maintenance_pct: f64,
}

/// The index: a fair value's random walk and the spot venues that quote around it (the index
/// is their weighted median).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSpec {
    /// Volatility of the fair value, percent per square-root hour.
    pub volatility_pct_per_hour: f64,
    /// A trend over the whole horizon, percent (log): e.g. 22 takes 71,450 toward 89K.
    pub drift_pct: f64,
    /// Degrees of freedom of the fair value's Student-t innovations (`None`: Gaussian).
    pub tail_dof: Option<f64>,
    /// Multiplies every venue's depth (a sweepable assumption: see docs/market.md).
    pub spot_depth_scale: f64,
    /// The spot venues (none: the index is the perpetual's own mid).
    pub venues: Vec<SpotVenueSpec>,
}

/// A spot venue (`(name: "binance", weight: 0.4)`; the rest defaults to Binance spot's depth).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpotVenueSpec {
    pub name: String,
    /// Its weight in the index.
    pub weight: f64,
    /// Cumulative depth per side: (distance from mid in percent, USD within it).
    pub depth_pct_usd: Vec<(f64, f64)>,
    /// The depth curve goes on at its last slope out to this distance (percent).
    pub reach_pct: f64,
    /// Multiplies the depth.
    pub depth_scale: f64,
    /// Taken depth comes back with this half-life.
    pub refill_half_life: Duration,
    /// The share of a taker's price move that stays (permanent impact).
    pub permanence: f64,
    pub taker_fee_pct: f64,
}

/// Basis arbitrage desks between the perp and the spot venues.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArbitrageSpec {
    pub desks: u32,
    pub deposit_usd: f64,
    pub leverage: u32,
    /// The largest hedged position a desk holds.
    pub max_position_usd: f64,
    /// How fast a desk builds or unwinds.
    pub rate_usd_per_second: f64,
    /// A desk enters when the basis beyond its costs exceeds this (percent of the index) ...
    pub entry_pct: f64,
    /// ... and unwinds once the basis is back within this.
    pub exit_pct: f64,
    /// Its taker fees on both legs together (percent).
    pub costs_pct: f64,
    /// Its reaction time: it decides at most this often.
    pub reaction: Duration,
}

/// Value traders: each buys spot or the perp (whichever is further) at a discount to the fair
/// value the spot venues quote around (and sells at the same premium), unwinding once the
/// price is back within `exit_pct`. Their entry discounts are spread evenly over
/// `discount_pct`, so the deeper a dislocation goes, the more of their capital leans on it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ValueSpec {
    pub traders: u32,
    /// The largest position a trader holds, either way.
    pub max_position_usd: f64,
    /// How fast a trader builds or unwinds.
    pub rate_usd_per_second: f64,
    /// The first trader enters at the low discount (percent of the fair value), the last at
    /// the high one.
    pub discount_pct: (f64, f64),
    /// A trader unwinds once the price is back within this of the fair value (percent).
    pub exit_pct: f64,
    /// Its reaction time: it decides at most this often.
    pub reaction: Duration,
}

/// The liquidation map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MapSpec {
    pub bands: Vec<Band>,
    /// Bands read from a liquidation-heatmap export, added after `bands` (docs/scenario.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csv: Option<MapCsvSpec>,
    pub counterparty_leverage: u32,
    /// How many low-leverage accounts take the other side (0: one per 100 map accounts).
    pub counterparties: u32,
    pub notional_jitter: f64,
}

/// The liquidity provider: a depth curve around an anchor that follows the index.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiquiditySpec {
    /// `false`: no provider (e.g. background traders make the book).
    pub enabled: bool,
    pub deposit_usd: f64,
    pub leverage: u32,
    /// Cumulative depth per side: (distance from mid in percent, USD within it).
    pub depth_pct_usd: Vec<(f64, f64)>,
    /// The depth curve goes on at its last slope out to this distance (percent).
    pub reach_pct: f64,
    /// Multiplies the depth.
    pub depth_scale: f64,
    /// Taken depth comes back with this half-life.
    pub refill_half_life: Duration,
    /// Its quoting anchor follows the index with this half-life.
    pub anchor_half_life: Duration,
    /// Stops refilling a side while one-sided flow takes more than this many USD a second from
    /// it (0: never), until the flow has been calm for `withdraw_for`.
    pub withdraw_flow_usd_per_second: f64,
    pub withdraw_for: Duration,
    /// `Refuse` (post-only), `Take` (limit) or `Slide` (post-only, one tick behind the touch):
    /// what a level does when the opposite touch has moved through its price. Written only
    /// when not `Slide`, the default.
    #[serde(skip_serializing_if = "crate::sim::LevelCrossing::is_slide")]
    pub crossing: crate::sim::LevelCrossing,
}

/// Background order flow (`background: (fcn: Some((...)), noise: Some((...)))`); none by
/// default. The struct names are the ones RON files have always been checked against.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename = "BackgroundConfig")]
pub struct BackgroundSpec {
    pub fcn: Option<FcnSpec>,
    pub noise: Option<NoiseSpec>,
    /// The fundamental price the FCN agents revert to.
    pub fundamental: FundamentalSpec,
    /// Background orders are kept within ×(1 ± this) of the last price.
    pub max_price_deviation: f64,
}

/// A population of FCN agents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "FcnConfig")]
pub struct FcnSpec {
    pub agents: u32,
    pub params: FcnBehaviourSpec,
    /// Decisions a second, each by an agent drawn at random (one decision is one PAMS step);
    /// a tick holds this times the tick, rounded.
    pub decisions_per_second: f64,
    pub deposit_usd: f64,
    pub leverage: u32,
    /// An opening session in which the agents' orders are post-only.
    #[serde(default)]
    pub warmup: Duration,
    #[serde(default)]
    pub activity: Option<FactorSpec>,
    #[serde(default)]
    pub chart_sentiment: Option<FactorSpec>,
}

/// A population of Poisson noise traders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename = "NoiseConfig")]
pub struct NoiseSpec {
    pub agents: u32,
    pub params: NoiseFlowSpec,
    pub deposit_usd: f64,
    pub leverage: u32,
}

/// The FCN agents' fundamental price: its start (`None`: the start price) and its random walk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename = "FundamentalConfig")]
pub struct FundamentalSpec {
    pub price_usd: Option<f64>,
    /// Volatility of its geometric random walk, percent per square-root hour.
    pub volatility_pct_per_hour: f64,
    /// Its drift, percent (log) per hour.
    pub drift_pct_per_hour: f64,
}

/// A market maker (`(deposit_usd: 50e6, leverage: 10, quoting: (...))`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename = "MakerConfig")]
pub struct MakerSpec {
    pub deposit_usd: f64,
    pub leverage: u32,
    pub quoting: QuotingSpec,
    /// A maker that reads the liquidation map and hunts (`None`: it only quotes). It runs a
    /// hunter's campaign with these limits: it leans its quotes toward the cluster it chose
    /// (`quoting.lean_bps`), pushes with its own takes, feeds (absorbs) the forced flow it set
    /// off, unwinds, and gives up at its stop-loss or when budget and room run out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hunting: Option<HuntingSpec>,
}

/// A hunter (`(deposit_usd: 8e9, leverage: 1, team: None, hunting: (...))`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default, rename = "HunterConfig")]
pub struct HunterSpec {
    pub deposit_usd: f64,
    pub leverage: u32,
    /// Hunters of one team push the same way.
    pub team: Option<u32>,
    pub hunting: HuntingSpec,
}

/// A market order from outside at a given time (`at: "02:00"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShockSpec {
    pub at: Duration,
    pub side: Side,
    /// `Perp` (the default) or `Spot` (split across the spot venues by weight).
    #[serde(default)]
    pub market: ShockMarket,
    pub notional_usd: f64,
    /// Spread over this long from `at`, in equal slices every tick (`None`: all at once).
    #[serde(default)]
    pub over: Option<Duration>,
}

/// What a run writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutputSpec {
    /// Time between heatmap columns.
    pub heatmap_interval: Duration,
    pub pictures: bool,
    pub event_log: bool,
}

/// Monte Carlo settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MonteCarloSpec {
    pub runs: u32,
    /// Master seed of the runs; `None`: the scenario's seed.
    pub seed: Option<u64>,
}

/// A parameter grid: one Monte Carlo per cell.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    pub axes: Vec<SweepAxis>,
}

/// One axis of a sweep: a parameter and its values (numbers, or names for `hunters.mode`; see
/// [`sweep`](super::sweep) for the parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepAxis {
    pub parameter: String,
    pub values: Vec<SweepValue>,
}

/// A sensitivity analysis: parameters varied over ranges, one at a time and by Morris's
/// elementary effects, a Monte Carlo at every point (see [`crate::mc::sensitivity`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivitySpec {
    pub parameters: Vec<SensitivityParameter>,
    /// Values per parameter in the one-at-a-time design, from `low` to `high` (at least 2).
    #[serde(default = "default_points")]
    pub points: u32,
    /// Runs per point (`None`: `monte_carlo.runs`).
    #[serde(default)]
    pub runs: Option<u32>,
    /// The outcomes reported and drawn (`None`: a headline set; see docs/sensitivity.md).
    #[serde(default)]
    pub metrics: Option<Vec<String>>,
    /// A Morris elementary-effects screening (`None`: none).
    #[serde(default)]
    pub morris: Option<MorrisSpec>,
}

fn default_points() -> u32 {
    5
}

/// A parameter of a sensitivity analysis and its range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SensitivityParameter {
    /// One of the sweep parameters that take any number (e.g. `"liquidity.depth_scale"`).
    pub name: String,
    pub low: f64,
    pub high: f64,
    /// `Linear` or `Log` spacing between `low` and `high` (`None`: `Log` for the scales and
    /// sizes, `Linear` for the rest).
    #[serde(default)]
    pub spacing: Option<Spacing>,
}

/// How the values of a range are spaced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Spacing {
    Linear,
    Log,
}

/// Morris's screening design: `trajectories` random one-step-at-a-time paths on a grid of
/// `levels` values per parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MorrisSpec {
    pub trajectories: u32,
    /// Grid levels per parameter, an even number ≥ 2 (default 4).
    #[serde(default = "default_levels")]
    pub levels: u32,
    /// Runs per point (`None`: the one-at-a-time design's).
    #[serde(default)]
    pub runs: Option<u32>,
}

fn default_levels() -> u32 {
    4
}

impl Default for Scenario {
    /// The seed's setup at 100,000 accounts over six hours.
    fn default() -> Scenario {
        let seed_map = population::seed_map_btc_14_to_1(100_000);
        Scenario {
            name: "scenario".into(),
            seed: 42,
            market: MarketSpec::default(),
            start_price_usd: 71_450.0,
            horizon: Duration(6 * 3_600),
            tick: Duration(1),
            insurance_fund_usd: 1_000_000_000.0,
            index: IndexSpec::default(),
            map: MapSpec {
                bands: seed_map.bands,
                csv: None,
                counterparty_leverage: seed_map.counterparty_leverage,
                counterparties: seed_map.counterparties,
                notional_jitter: seed_map.notional_jitter,
            },
            liquidity: LiquiditySpec::default(),
            arbitrage: ArbitrageSpec::default(),
            value: ValueSpec::default(),
            holders: HolderConfig::default(),
            background: BackgroundSpec::default(),
            makers: Vec::new(),
            hunters: Vec::new(),
            shocks: Vec::new(),
            watch_levels: Vec::new(),
            outputs: OutputSpec::default(),
            monte_carlo: MonteCarloSpec::default(),
            sweep: None,
            sensitivity: None,
        }
    }
}

impl Default for MarketSpec {
    fn default() -> MarketSpec {
        MarketSpec {
            instrument: InstrumentPreset::BtcUsdt,
            tick_usd: None,
            lot: None,
            maker_fee_pct: 0.02,
            taker_fee_pct: 0.05,
            liquidation_fee_pct: 0.5,
            funding_interval: Duration(8 * 3_600),
            funding_interest_pct: 0.01,
            funding_clamp_pct: 0.05,
            funding_cap_pct: Some(0.75),
            impact_notional_usd: None,
            premium_window: Duration(30),
            partial_liquidation_tier: None,
            tiers: None,
            max_liquidation_rounds: 8,
            max_stop_rounds: 8,
            map_bucket_usd: None,
            price_band_pct: 5.0,
            venue: VenuePreset::Binance,
            insurance: InsuranceSpec::default(),
        }
    }
}

impl Default for IndexSpec {
    fn default() -> IndexSpec {
        let c = crate::sim::IndexConfig::calibrated(0.0);
        IndexSpec {
            volatility_pct_per_hour: c.volatility_per_sqrt_day * 100.0 / 24f64.sqrt(),
            drift_pct: 0.0,
            tail_dof: c.tail_dof,
            spot_depth_scale: crate::spot::SPOT_DEPTH_SCALE,
            venues: crate::spot::SpotVenueConfig::constituents().iter().map(SpotVenueSpec::from).collect(),
        }
    }
}

impl Default for SpotVenueSpec {
    fn default() -> SpotVenueSpec {
        SpotVenueSpec::from(&crate::spot::SpotVenueConfig::binance_like("spot", 1.0))
    }
}

impl From<&crate::spot::SpotVenueConfig> for SpotVenueSpec {
    fn from(v: &crate::spot::SpotVenueConfig) -> SpotVenueSpec {
        SpotVenueSpec {
            name: v.name.clone(),
            weight: v.weight,
            depth_pct_usd: percent_points(&v.depth),
            reach_pct: v.depth.reach() * 100.0,
            depth_scale: 1.0,
            refill_half_life: Duration(v.refill_half_life_secs.round() as u64),
            permanence: v.permanence,
            taker_fee_pct: v.taker_fee * 100.0,
        }
    }
}

/// A curve's points with distances in percent.
fn percent_points(c: &crate::liquidity::DepthCurve) -> Vec<(f64, f64)> {
    c.points().iter().map(|&(d, v)| (d * 100.0, v)).collect()
}

impl Default for ArbitrageSpec {
    fn default() -> ArbitrageSpec {
        let desks = crate::sim::ArbConfig::calibrated();
        let p = &desks[0].params;
        ArbitrageSpec {
            desks: desks.len() as u32,
            deposit_usd: desks[0].deposit.to_usd_f64(),
            leverage: desks[0].leverage,
            max_position_usd: p.max_position_usd,
            rate_usd_per_second: p.rate_usd_per_sec,
            entry_pct: p.entry * 100.0,
            exit_pct: p.exit * 100.0,
            costs_pct: p.costs * 100.0,
            reaction: Duration(p.reaction_secs.round() as u64),
        }
    }
}

impl Default for ValueSpec {
    fn default() -> ValueSpec {
        let traders = crate::sim::value_calibrated();
        let (first, last) = (&traders[0], &traders[traders.len() - 1]);
        ValueSpec {
            traders: traders.len() as u32,
            max_position_usd: first.max_position_usd,
            rate_usd_per_second: first.rate_usd_per_sec,
            discount_pct: (first.entry * 100.0, last.entry * 100.0),
            exit_pct: first.exit * 100.0,
            reaction: Duration(first.reaction_secs.round() as u64),
        }
    }
}

impl Default for MapSpec {
    fn default() -> MapSpec {
        MapSpec {
            bands: Vec::new(),
            csv: None,
            counterparty_leverage: 2,
            counterparties: 0,
            notional_jitter: 0.5,
        }
    }
}

impl Default for LiquiditySpec {
    fn default() -> LiquiditySpec {
        let curve = crate::liquidity::DepthCurve::binance_btcusdt_perp();
        LiquiditySpec {
            enabled: true,
            deposit_usd: 200_000_000_000.0,
            leverage: 5,
            depth_pct_usd: percent_points(&curve),
            reach_pct: curve.reach() * 100.0,
            depth_scale: 1.0,
            refill_half_life: Duration(crate::sim::LIQUIDITY_REFILL_HALF_LIFE_SECS as u64),
            anchor_half_life: Duration(crate::sim::LIQUIDITY_ANCHOR_HALF_LIFE_SECS as u64),
            withdraw_flow_usd_per_second: 0.0,
            withdraw_for: Duration(60),
            crossing: crate::sim::LevelCrossing::Slide,
        }
    }
}

impl Default for OutputSpec {
    fn default() -> OutputSpec {
        OutputSpec { heatmap_interval: Duration(60), pictures: true, event_log: true }
    }
}

impl Default for MonteCarloSpec {
    fn default() -> MonteCarloSpec {
        MonteCarloSpec { runs: 100, seed: None }
    }
}

impl Default for BackgroundSpec {
    fn default() -> BackgroundSpec {
        BackgroundSpec {
            fcn: None,
            noise: None,
            fundamental: FundamentalSpec::default(),
            max_price_deviation: 0.2,
        }
    }
}

impl Default for MakerSpec {
    /// $50M at 10x: ample for the default 20 BTC inventory cap.
    fn default() -> MakerSpec {
        MakerSpec { deposit_usd: 50e6, leverage: 10, quoting: QuotingSpec::default(), hunting: None }
    }
}

impl Default for HunterSpec {
    /// $8B at 1x (see [`HunterConfig`](crate::sim::HunterConfig)).
    fn default() -> HunterSpec {
        HunterSpec { deposit_usd: 8e9, leverage: 1, team: None, hunting: HuntingSpec::default() }
    }
}
