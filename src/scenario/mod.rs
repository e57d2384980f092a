//! Scenario files: RON in human units (USD, BTC, percent, durations like `"6h"`), read with
//! `deny_unknown_fields` and defaults for everything optional, then validated as a whole so
//! every problem is reported at once with where it is (`file:line:column` for syntax, a field
//! path such as `map.bands[2].liq_low_usd` for meaning), then converted exactly into the
//! simulator's [`SimConfig`]. See `docs/scenario.md` for every field.

mod duration;
pub mod sweep;

pub use duration::Duration;
pub use sweep::SweepValue;

use crate::engine::ExchangeConfig;
use crate::margin::TierTable;
use crate::population::{self, Band, MapConfig};
use crate::sim::{
    BackgroundConfig, HolderConfig, HunterConfig, IndexConfig, LiquidityConfig, MakerConfig, Shock, SimConfig,
};
use crate::units::{Instrument, Money, Rate, Side, money_from_usd};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The most accounts a scenario may ask for (memory: ~420 MB per million).
pub const MAX_ACCOUNTS: u64 = 5_000_000;
/// The most ticks one run may have.
pub const MAX_TICKS: u64 = 10_000_000;

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
    pub holders: HolderSpec,
    /// Background order flow: FCN (fundamentalist/chartist/noise) and Poisson noise traders.
    pub background: BackgroundConfig,
    /// Market makers quoting ladders, withdrawing under stress.
    pub makers: Vec<MakerConfig>,
    /// Hunters of liquidation clusters.
    pub hunters: Vec<HunterConfig>,
    pub shocks: Vec<ShockSpec>,
    /// Price levels to judge (touched? when? accelerated, absorbed or rejected?).
    pub watch_levels: Vec<f64>,
    pub outputs: OutputSpec,
    pub monte_carlo: MonteCarloSpec,
    pub sweep: Option<SweepSpec>,
}

/// The contract and the venue's rules.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarketSpec {
    pub tick_usd: f64,
    pub lot_btc: f64,
    pub maker_fee_pct: f64,
    pub taker_fee_pct: f64,
    /// Clearance fee on liquidated notional (historically 0.3–0.5%).
    pub liquidation_fee_pct: f64,
    pub funding_interval: Duration,
    pub funding_interest_pct: f64,
    pub funding_clamp_pct: f64,
    pub funding_cap_pct: Option<f64>,
    pub impact_notional_usd: f64,
    pub premium_window: Duration,
    /// Positions above this tier (0-based) are first cut to its cap; `None`: always in full.
    pub partial_liquidation_tier: Option<usize>,
    /// Notional tiers; `None` is Binance BTCUSDT's table.
    pub tiers: Option<Vec<TierSpec>>,
    pub max_liquidation_rounds: u32,
    /// Width of a liquidation-map bucket (heatmap rows), USD.
    pub map_bucket_usd: f64,
}

/// One notional tier.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    pub cap_usd: f64,
    pub max_leverage: u32,
    pub maintenance_pct: f64,
}

/// The index (spot) price process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexSpec {
    /// Volatility of the index, percent per square-root hour.
    pub volatility_pct_per_hour: f64,
    /// A trend over the whole horizon, percent (log): e.g. 22 takes 71,450 toward 89K.
    pub drift_pct: f64,
    /// Fraction of the gap to the perp's mid closed each second.
    pub pull_to_mid_per_second: f64,
}

/// The liquidation map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MapSpec {
    pub bands: Vec<Band>,
    pub counterparty_leverage: u32,
    /// How many low-leverage accounts take the other side (0: one per 100 map accounts).
    pub counterparties: u32,
    pub notional_jitter: f64,
}

/// The replenishing liquidity provider.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiquiditySpec {
    pub deposit_usd: f64,
    pub leverage: u32,
    pub levels_per_side: u32,
    pub spacing_usd: f64,
    pub depth_within_1pct_usd: f64,
    /// Fraction of a level's full size restored per second after it was taken.
    pub refill_per_second: f64,
    /// Fraction of the gap to the index its quoting anchor moves per second.
    pub anchor_follow_per_second: f64,
    /// Stops refilling a side while one-sided flow takes more than this many USD a tick from it
    /// (0: never), until the flow has been calm for `withdraw_for`.
    pub withdraw_flow_usd: f64,
    pub withdraw_for: Duration,
}

/// Passive position holders.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HolderSpec {
    pub close_per_day: f64,
    pub add_margin_per_day: f64,
    pub add_margin_fraction: f64,
    pub reenter_per_day: f64,
    pub reserve_fraction: f64,
}

/// A market order from outside at a given time (`at: "02:00"`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShockSpec {
    pub at: Duration,
    pub side: Side,
    pub notional_usd: f64,
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
/// [`sweep`] for the parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepAxis {
    pub parameter: String,
    pub values: Vec<SweepValue>,
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
            insurance_fund_usd: 50_000_000.0,
            index: IndexSpec::default(),
            map: MapSpec {
                bands: seed_map.bands,
                counterparty_leverage: seed_map.counterparty_leverage,
                counterparties: seed_map.counterparties,
                notional_jitter: seed_map.notional_jitter,
            },
            liquidity: LiquiditySpec::default(),
            holders: HolderSpec::default(),
            background: BackgroundConfig::default(),
            makers: Vec::new(),
            hunters: Vec::new(),
            shocks: Vec::new(),
            watch_levels: Vec::new(),
            outputs: OutputSpec::default(),
            monte_carlo: MonteCarloSpec::default(),
            sweep: None,
        }
    }
}

impl Default for MarketSpec {
    fn default() -> MarketSpec {
        MarketSpec {
            tick_usd: 0.1,
            lot_btc: 0.001,
            maker_fee_pct: 0.02,
            taker_fee_pct: 0.05,
            liquidation_fee_pct: 0.5,
            funding_interval: Duration(8 * 3_600),
            funding_interest_pct: 0.01,
            funding_clamp_pct: 0.05,
            funding_cap_pct: Some(0.75),
            impact_notional_usd: 25_000.0,
            premium_window: Duration(30),
            partial_liquidation_tier: None,
            tiers: None,
            max_liquidation_rounds: 8,
            map_bucket_usd: 100.0,
        }
    }
}

impl Default for IndexSpec {
    fn default() -> IndexSpec {
        // 2e-4 per second is 1.2% per square-root hour.
        IndexSpec { volatility_pct_per_hour: 1.2, drift_pct: 0.0, pull_to_mid_per_second: 0.02 }
    }
}

impl Default for MapSpec {
    fn default() -> MapSpec {
        MapSpec { bands: Vec::new(), counterparty_leverage: 2, counterparties: 0, notional_jitter: 0.5 }
    }
}

impl Default for LiquiditySpec {
    fn default() -> LiquiditySpec {
        LiquiditySpec {
            deposit_usd: 200_000_000_000.0,
            leverage: 5,
            levels_per_side: 300,
            spacing_usd: 10.0,
            depth_within_1pct_usd: 190_000_000.0,
            refill_per_second: 0.05,
            anchor_follow_per_second: 0.1,
            withdraw_flow_usd: 0.0,
            withdraw_for: Duration(60),
        }
    }
}

impl Default for HolderSpec {
    fn default() -> HolderSpec {
        HolderSpec {
            close_per_day: 0.5,
            add_margin_per_day: 0.5,
            add_margin_fraction: 0.2,
            reenter_per_day: 1.0,
            reserve_fraction: 0.2,
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

/// One problem with a scenario: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// `file:line:column` or `file: field.path`.
    pub location: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a scenario could not be used: it could not be read, or it has problems (all of them).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}", .0.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

impl ScenarioError {
    /// The problems, one per line, for tests and tools.
    pub fn problems(&self) -> &[Problem] {
        match self {
            ScenarioError::Invalid(p) => p,
            ScenarioError::Read { .. } => &[],
        }
    }
}

/// A scenario that passed validation, with what the simulator needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Validated {
    pub scenario: Scenario,
    pub sim: SimConfig,
    /// blake3 of the file's bytes, hex: it goes into logs and summaries.
    pub hash: String,
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<Validated, ScenarioError> {
    if path.is_dir() {
        return Err(ScenarioError::Read {
            path: path.to_path_buf(),
            source: std::io::Error::other("is a directory, not a scenario file"),
        });
    }
    let bytes =
        std::fs::read(path).map_err(|source| ScenarioError::Read { path: path.to_path_buf(), source })?;
    parse(&path.display().to_string(), &bytes)
}

/// Parses and validates scenario text; `file` names it in messages.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Validated, ScenarioError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ScenarioError::Invalid(vec![Problem {
            location: file.to_string(),
            message: format!("not UTF-8 text: {e}"),
        }])
    })?;
    let scenario: Scenario = ron::Options::default().from_str(text).map_err(|e| {
        ScenarioError::Invalid(vec![Problem {
            location: format!("{file}:{}:{}", e.span.start.line, e.span.start.col),
            message: e.code.to_string(),
        }])
    })?;
    let sim = validate(file, &scenario)?;
    Ok(Validated { scenario, sim, hash: blake3::hash(bytes).to_hex().to_string() })
}

/// Validates a scenario built in code (e.g. a sweep cell: the file's scenario with some values
/// changed); `file` names it in messages and `hash` identifies it in outputs.
pub fn validate_scenario(file: &str, scenario: Scenario, hash: String) -> Result<Validated, ScenarioError> {
    let sim = validate(file, &scenario)?;
    Ok(Validated { scenario, sim, hash })
}

/// Collects problems with field paths.
struct Checker<'a> {
    file: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn fail(&mut self, path: impl fmt::Display, message: impl fmt::Display) {
        self.problems
            .push(Problem { location: format!("{}: {path}", self.file), message: message.to_string() });
    }

    fn finite_positive(&mut self, path: &str, v: f64) -> bool {
        let ok = v.is_finite() && v > 0.0;
        if !ok {
            self.fail(path, format!("must be a positive number, got {v}"));
        }
        ok
    }

    fn finite_at_least(&mut self, path: &str, v: f64, min: f64) -> bool {
        let ok = v.is_finite() && v >= min;
        if !ok {
            self.fail(path, format!("must be a number ≥ {min}, got {v}"));
        }
        ok
    }

    fn fraction(&mut self, path: &str, v: f64) -> bool {
        let ok = v.is_finite() && (0.0..=1.0).contains(&v);
        if !ok {
            self.fail(path, format!("must be a fraction between 0 and 1, got {v}"));
        }
        ok
    }

    fn percent(&mut self, path: &str, v: f64) -> Option<Rate> {
        if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
            self.fail(path, format!("must be a percentage between 0 and 100, got {v}"));
            return None;
        }
        match Rate::from_percent(v) {
            Ok(r) => Some(r),
            Err(e) => {
                self.fail(path, e);
                None
            }
        }
    }

    fn money(&mut self, path: &str, usd: f64) -> Option<Money> {
        match money_from_usd(usd) {
            Ok(m) if !m.is_negative() => Some(m),
            Ok(_) => {
                self.fail(path, format!("must not be negative, got {usd}"));
                None
            }
            Err(e) => {
                self.fail(path, e);
                None
            }
        }
    }
}

/// Checks everything and builds the simulator's configuration, or lists every problem.
fn validate(file: &str, s: &Scenario) -> Result<SimConfig, ScenarioError> {
    let mut c = Checker { file, problems: Vec::new() };
    if s.name.is_empty() || !s.name.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch)) {
        c.fail("name", format!("must be a plain file name (letters, digits, _ - .), got {:?}", s.name));
    }

    // Market.
    let m = &s.market;
    let instrument = match Instrument::new(m.tick_usd, m.lot_btc) {
        Ok(i) => Some(i),
        Err(e) => {
            c.fail("market.tick_usd / market.lot_btc", e);
            None
        }
    };
    let maker = c.percent("market.maker_fee_pct", m.maker_fee_pct);
    let taker = c.percent("market.taker_fee_pct", m.taker_fee_pct);
    let liq_fee = c.percent("market.liquidation_fee_pct", m.liquidation_fee_pct);
    let interest = c.percent("market.funding_interest_pct", m.funding_interest_pct);
    let clamp = c.percent("market.funding_clamp_pct", m.funding_clamp_pct);
    let cap = m.funding_cap_pct.map(|v| c.percent("market.funding_cap_pct", v));
    let impact = c.money("market.impact_notional_usd", m.impact_notional_usd);
    if m.funding_interval.secs() < 3_600
        || m.funding_interval.secs() > 86_400
        || !m.funding_interval.secs().is_multiple_of(3_600)
    {
        c.fail(
            "market.funding_interval",
            format!("must be a whole number of hours from 1h to 24h, got {}", m.funding_interval),
        );
    }
    if m.max_liquidation_rounds == 0 || m.max_liquidation_rounds > 1_000 {
        c.fail(
            "market.max_liquidation_rounds",
            format!("must be 1..=1000, got {}", m.max_liquidation_rounds),
        );
    }
    c.finite_positive("market.map_bucket_usd", m.map_bucket_usd);
    let tiers = match &m.tiers {
        None => Some(TierTable::binance_btcusdt()),
        Some(specs) => {
            let mut brackets = Vec::new();
            for (i, t) in specs.iter().enumerate() {
                let p = |f: &str| format!("market.tiers[{i}].{f}");
                let cap = c.money(&p("cap_usd"), t.cap_usd);
                let mmr = c.percent(&p("maintenance_pct"), t.maintenance_pct);
                if t.max_leverage == 0 {
                    c.fail(p("max_leverage"), "must be at least 1");
                } else if t.maintenance_pct * t.max_leverage as f64 >= 100.0 {
                    c.fail(
                        p("maintenance_pct"),
                        format!(
                            "maintenance {}% is not below the initial margin {:.4}% of {}x",
                            t.maintenance_pct,
                            100.0 / t.max_leverage as f64,
                            t.max_leverage
                        ),
                    );
                }
                if let (Some(cap), Some(mmr)) = (cap, mmr) {
                    brackets.push((cap, t.max_leverage, mmr));
                }
            }
            if specs.is_empty() {
                c.fail(
                    "market.tiers",
                    "needs at least one tier (or leave it out for Binance BTCUSDT's table)",
                );
                None
            } else if brackets.len() == specs.len() {
                match TierTable::new(&brackets) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        c.fail("market.tiers", e);
                        None
                    }
                }
            } else {
                None
            }
        }
    };
    if let (Some(tiers), Some(tier)) = (&tiers, m.partial_liquidation_tier)
        && tier + 1 >= tiers.tiers().len()
    {
        c.fail(
            "market.partial_liquidation_tier",
            format!("must name a tier below the last ({} tiers)", tiers.tiers().len()),
        );
    }

    // Time.
    let tick = s.tick.secs();
    if tick == 0 {
        c.fail("tick", "must be at least 1s");
    }
    if s.horizon.secs() == 0 {
        c.fail("horizon", "must be longer than 0s");
    }
    let ticks = s.horizon.secs().checked_div(tick).unwrap_or(0);
    if tick > 0 && s.horizon.secs() > 0 && ticks == 0 {
        c.fail("horizon", format!("{} is shorter than one tick ({})", s.horizon, s.tick));
    }
    if ticks > MAX_TICKS {
        c.fail("horizon", format!("{ticks} ticks is more than the {MAX_TICKS} a run may have"));
    }
    if tick > 0 && !m.funding_interval.secs().is_multiple_of(tick) {
        c.fail("market.funding_interval", format!("must be a whole number of ticks ({})", s.tick));
    }
    c.finite_positive("start_price_usd", s.start_price_usd);
    c.money("insurance_fund_usd", s.insurance_fund_usd);

    // Index.
    c.finite_at_least("index.volatility_pct_per_hour", s.index.volatility_pct_per_hour, 0.0);
    if !s.index.drift_pct.is_finite() || s.index.drift_pct.abs() > 500.0 {
        c.fail(
            "index.drift_pct",
            format!("must be a number between −500 and 500, got {}", s.index.drift_pct),
        );
    }
    c.fraction("index.pull_to_mid_per_second", s.index.pull_to_mid_per_second);

    // Liquidity.
    let l = &s.liquidity;
    c.money("liquidity.deposit_usd", l.deposit_usd);
    if l.leverage == 0 || l.leverage > crate::ledger::MAX_LEVERAGE {
        c.fail(
            "liquidity.leverage",
            format!("must be 1..={}, got {}", crate::ledger::MAX_LEVERAGE, l.leverage),
        );
    }
    if l.levels_per_side > 100_000 {
        c.fail(
            "liquidity.levels_per_side",
            format!("{} levels is absurd (at most 100000)", l.levels_per_side),
        );
    }
    c.finite_positive("liquidity.spacing_usd", l.spacing_usd);
    c.finite_at_least("liquidity.depth_within_1pct_usd", l.depth_within_1pct_usd, 0.0);
    c.fraction("liquidity.refill_per_second", l.refill_per_second);
    c.fraction("liquidity.anchor_follow_per_second", l.anchor_follow_per_second);
    c.finite_at_least("liquidity.withdraw_flow_usd", l.withdraw_flow_usd, 0.0);

    // Agents.
    let leverage_ok = |lev: u32| (1..=crate::ledger::MAX_LEVERAGE).contains(&lev);
    if let Some(f) = &s.background.fcn {
        c.money("background.fcn.deposit_usd", f.deposit_usd);
        if !leverage_ok(f.leverage) {
            c.fail(
                "background.fcn.leverage",
                format!("must be 1..={}, got {}", crate::ledger::MAX_LEVERAGE, f.leverage),
            );
        }
        if f.agents > 1_000_000 {
            c.fail("background.fcn.agents", format!("{} agents is absurd (at most 1000000)", f.agents));
        }
        for (name, factor) in [("activity", &f.activity), ("chart_sentiment", &f.chart_sentiment)] {
            let Some(ou) = factor else { continue };
            let path = format!("background.fcn.{name}");
            c.finite_at_least(&format!("{path}.volatility"), ou.volatility, 0.0);
            c.finite_positive(&format!("{path}.correlation_ticks"), ou.correlation_ticks);
            if let Some(max) = ou.max_factor {
                c.finite_positive(&format!("{path}.max_factor"), max);
            }
        }
    }
    if let Some(n) = &s.background.noise {
        c.money("background.noise.deposit_usd", n.deposit_usd);
        if !leverage_ok(n.leverage) {
            c.fail(
                "background.noise.leverage",
                format!("must be 1..={}, got {}", crate::ledger::MAX_LEVERAGE, n.leverage),
            );
        }
        if n.agents > 1_000_000 {
            c.fail("background.noise.agents", format!("{} agents is absurd (at most 1000000)", n.agents));
        }
    }
    for (i, mk) in s.makers.iter().enumerate() {
        c.money(&format!("makers[{i}].deposit_usd"), mk.deposit_usd);
        if !leverage_ok(mk.leverage) {
            c.fail(
                format!("makers[{i}].leverage"),
                format!("must be 1..={}, got {}", crate::ledger::MAX_LEVERAGE, mk.leverage),
            );
        }
    }
    for (i, h) in s.hunters.iter().enumerate() {
        c.money(&format!("hunters[{i}].deposit_usd"), h.deposit_usd);
        if !leverage_ok(h.leverage) {
            c.fail(
                format!("hunters[{i}].leverage"),
                format!("must be 1..={}, got {}", crate::ledger::MAX_LEVERAGE, h.leverage),
            );
        }
        let p = &h.hunting;
        for (name, v) in [
            ("budget_usd", p.budget_usd),
            ("pace_usd_per_tick", p.pace_usd_per_tick),
            ("max_inventory_usd", p.max_inventory_usd),
            ("cluster_usd", p.cluster_usd),
        ] {
            c.finite_at_least(&format!("hunters[{i}].hunting.{name}"), v, 0.0);
        }
        c.fraction(&format!("hunters[{i}].hunting.max_distance"), p.max_distance);
        c.fraction(&format!("hunters[{i}].hunting.stop_loss"), p.stop_loss);
    }

    // Holders.
    let h = &s.holders;
    for (name, v) in [
        ("holders.close_per_day", h.close_per_day),
        ("holders.add_margin_per_day", h.add_margin_per_day),
        ("holders.reenter_per_day", h.reenter_per_day),
        ("holders.reserve_fraction", h.reserve_fraction),
    ] {
        c.finite_at_least(name, v, 0.0);
    }
    c.fraction("holders.add_margin_fraction", h.add_margin_fraction);

    // Shocks and levels.
    for (i, sh) in s.shocks.iter().enumerate() {
        c.finite_positive(&format!("shocks[{i}].notional_usd"), sh.notional_usd);
        if sh.at.secs() > s.horizon.secs() {
            c.fail(format!("shocks[{i}].at"), format!("{} is after the horizon {}", sh.at, s.horizon));
        }
    }
    for (i, &level) in s.watch_levels.iter().enumerate() {
        let path = format!("watch_levels[{i}]");
        if c.finite_positive(&path, level) && s.start_price_usd > 0.0 {
            if level == s.start_price_usd {
                c.fail(&path, "is the start price: a watch level must lie above or below it");
            } else if level > s.start_price_usd * 10.0 || level < s.start_price_usd / 10.0 {
                c.fail(
                    &path,
                    format!("{level} is more than 10x away from the start price {}", s.start_price_usd),
                );
            }
        }
    }
    c.finite_positive("outputs.heatmap_interval (seconds)", s.outputs.heatmap_interval.secs() as f64);
    if s.monte_carlo.runs == 0 || s.monte_carlo.runs > 1_000_000 {
        c.fail("monte_carlo.runs", format!("must be 1..=1000000, got {}", s.monte_carlo.runs));
    }
    sweep::check(file, s, &mut c.problems);

    // The map: its own validation names the band and field.
    let map = MapConfig {
        price_usd: s.start_price_usd,
        bands: s.map.bands.clone(),
        counterparty_leverage: s.map.counterparty_leverage,
        counterparties: s.map.counterparties,
        notional_jitter: s.map.notional_jitter,
    };
    let accounts = map.map_accounts() + if map.bands.is_empty() { 0 } else { map.counterparty_count() };
    if accounts > MAX_ACCOUNTS {
        c.fail(
            "map.bands",
            format!("{accounts} accounts in all is more than the {MAX_ACCOUNTS} a run may hold"),
        );
    } else if let (Some(inst), Some(tiers)) = (&instrument, &tiers)
        && !map.bands.is_empty()
        && let Err(e) = population::validate(&map, inst, tiers)
    {
        // The generator's message starts with its own path; say it once, from the file's root.
        let text = e.to_string();
        let path = e.path().to_string();
        let message = text.strip_prefix(&format!("{path}: ")).unwrap_or(&text).to_string();
        c.fail(format!("map.{path}"), message);
    }

    if !c.problems.is_empty() {
        return Err(ScenarioError::Invalid(c.problems));
    }
    // Everything below was checked above.
    let (
        Some(instrument),
        Some(tiers),
        Some(maker),
        Some(taker),
        Some(liq_fee),
        Some(interest),
        Some(clamp),
        Some(impact),
    ) = (instrument, tiers, maker, taker, liq_fee, interest, clamp, impact)
    else {
        return Err(ScenarioError::Invalid(vec![Problem {
            location: file.into(),
            message: "invalid values".into(),
        }]));
    };
    let per_tick = |per_second: f64| 1.0 - (1.0 - per_second).powf(tick as f64);
    let exchange = ExchangeConfig {
        instrument,
        tiers,
        maker_fee: maker,
        taker_fee: taker,
        liquidation_fee: liq_fee,
        partial_liquidation_tier: m.partial_liquidation_tier,
        funding_interval_secs: m.funding_interval.secs(),
        funding_interest_8h: interest,
        funding_clamp: clamp,
        funding_cap: cap.flatten(),
        impact_notional: impact,
        premium_window_secs: m.premium_window.secs(),
        tick_secs: tick,
        max_liquidation_rounds: m.max_liquidation_rounds,
        map_bucket_ticks: ((m.map_bucket_usd * 1e6) / instrument.tick_micros() as f64).round().max(1.0)
            as i64,
        liquidation: crate::venue::LiquidationRules::of(crate::venue::VenuePreset::Binance),
    };
    Ok(SimConfig {
        seed: s.seed,
        exchange,
        start_price_usd: s.start_price_usd,
        ticks,
        insurance_fund_usd: s.insurance_fund_usd,
        map,
        index: IndexConfig {
            volatility_per_tick: s.index.volatility_pct_per_hour / 100.0 * (tick as f64 / 3_600.0).sqrt(),
            drift_per_tick: s.index.drift_pct / 100.0 / ticks.max(1) as f64,
            pull_to_mid: per_tick(s.index.pull_to_mid_per_second),
        },
        liquidity: LiquidityConfig {
            deposit_usd: l.deposit_usd,
            leverage: l.leverage,
            levels_per_side: l.levels_per_side,
            spacing_usd: l.spacing_usd,
            depth_within_1pct_usd: l.depth_within_1pct_usd,
            refill_per_tick: per_tick(l.refill_per_second),
            anchor_follow: per_tick(l.anchor_follow_per_second),
            withdraw_flow_usd: l.withdraw_flow_usd,
            withdraw_ticks: l.withdraw_for.secs() / tick,
        },
        holders: HolderConfig {
            close_per_day: h.close_per_day,
            add_margin_per_day: h.add_margin_per_day,
            add_margin_fraction: h.add_margin_fraction,
            reenter_per_day: h.reenter_per_day,
            reserve_fraction: h.reserve_fraction,
        },
        shocks: s
            .shocks
            .iter()
            .map(|sh| Shock { tick: sh.at.secs() / tick, side: sh.side, notional_usd: sh.notional_usd })
            .collect(),
        background: s.background.clone(),
        makers: s.makers.clone(),
        hunters: s.hunters.clone(),
        watch_levels: s.watch_levels.clone(),
    })
}

#[cfg(test)]
mod tests;
