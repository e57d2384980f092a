//! The liquidation-map generator: bands of liquidation prices in, seeding events out.
//!
//! A [`MapConfig`] describes, in human units, where positions would be liquidated: per band a
//! side, a range of liquidation prices, a total liquidation notional, a shape, a leverage mix and
//! a number of accounts. [`generate`] turns it into the [`Event`]s that seed a fresh ledger:
//! one `AccountOpened` per account, then one `PositionSeeded` per map position, each against a
//! low-leverage counterparty so open interest stays balanced after every event.
//!
//! Floating point is used only to *choose* targets, sizes and entry prices. Everything that is
//! seeded is on the grid (entry in ticks, size in lots) and the margin is solved exactly in
//! integers, so the ledger's own [`margin::liquidation_price_tiered`] puts every map account's
//! liquidation price on its target tick (verified per account; a band that cannot be solved is
//! an error naming it).
//!
//! # The solve, per account
//! With target liquidation tick `L`, leverage `λ`, size `q` lots and the tier `(MMR, cum)` of the
//! notional at `L`, an isolated position whose wallet is its initial margin `q·E/λ` liquidates at
//! `L` (Binance formula) when
//!
//! ```text
//! long:  E = (L·(1 − MMR) + cum/q) / (1 − 1/λ)      rounded UP to the tick
//! short: E = (L·(1 + MMR) − cum/q) / (1 + 1/λ)      rounded DOWN to the tick
//! ```
//!
//! Then the wallet is solved exactly for the rounded entry: the smallest (long) or the smallest
//! sufficient (short) whole micro-USD whose exact liquidation price rounds to `L`:
//!
//! ```text
//! long:  W = s·E − cum − ⌊L·q·(1 − MMR)⌋      (LP = (s·E − W − cum)/(q·(1 − MMR)), rounded up)
//! short: W = ⌈L·q·(1 + MMR)⌉ − cum − q·E      (LP = (W + cum + q·E)/(q·(1 + MMR)), rounded down)
//! ```
//!
//! (all in micro-USD, `L·q` meaning the notional of `q` lots at `L`). The entry rounding direction
//! keeps `W ≥ q·E/λ`: no account is more levered than its setting.

use crate::book::AccountId;
use crate::events::Event;
use crate::margin::{self, MarginError, TierTable};
use crate::units::{Instrument, MICROS_PER_USD, Money, Price, Qty, RATE_SCALE, SATS_PER_BTC, UnitError};
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

const SCALE: i128 = RATE_SCALE as i128;

/// Which way a map position faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PositionSide {
    Long,
    Short,
}

impl PositionSide {
    /// +1 for long, −1 for short.
    pub fn sign(self) -> i64 {
        match self {
            PositionSide::Long => 1,
            PositionSide::Short => -1,
        }
    }
    pub fn opposite(self) -> PositionSide {
        match self {
            PositionSide::Long => PositionSide::Short,
            PositionSide::Short => PositionSide::Long,
        }
    }
}

/// How liquidation prices are spread across a band.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Shape {
    /// Uniform between the band's ends.
    Flat,
    /// A staircase denser toward `liq_high_usd`: five equal-width steps weighted 1, 2, 3, 4, 5.
    Rising,
    /// The mirror of `Rising`: denser toward `liq_low_usd`.
    Falling,
}

/// One entry of a leverage mix: accounts use `leverage` with probability `weight / Σ weights`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeverageWeight {
    pub leverage: u32,
    pub weight: f64,
}

/// A band of the map: `accounts` positions on `side` whose liquidation prices lie in
/// `[liq_low_usd, liq_high_usd]`, together liquidating `notional_usd` (Σ |size| × liquidation
/// price) at those prices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub side: PositionSide,
    pub liq_low_usd: f64,
    pub liq_high_usd: f64,
    pub notional_usd: f64,
    pub shape: Shape,
    pub leverage: Vec<LeverageWeight>,
    pub accounts: u32,
}

fn default_counterparty_leverage() -> u32 {
    2
}
fn default_notional_jitter() -> f64 {
    0.5
}

/// A whole liquidation map around the current price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapConfig {
    /// The current price; long bands lie below it, short bands above.
    pub price_usd: f64,
    pub bands: Vec<Band>,
    /// Leverage of the counterparties (default 2).
    #[serde(default = "default_counterparty_leverage")]
    pub counterparty_leverage: u32,
    /// How many counterparty accounts take the other side of the map. `0` (the default) means
    /// automatic: `max(1, accounts / 100)`. At least one per side that needs one is always used.
    #[serde(default)]
    pub counterparties: u32,
    /// Relative spread of account sizes: sizes are `exp(jitter · z)` with `z` roughly standard
    /// normal, renormalised so each band's total is hit (default 0.5; 0 gives equal sizes).
    #[serde(default = "default_notional_jitter")]
    pub notional_jitter: f64,
}

impl MapConfig {
    /// A map with the default counterparty settings and jitter.
    pub fn new(price_usd: f64, bands: Vec<Band>) -> MapConfig {
        MapConfig {
            price_usd,
            bands,
            counterparty_leverage: default_counterparty_leverage(),
            counterparties: 0,
            notional_jitter: default_notional_jitter(),
        }
    }

    /// Number of map accounts over all bands.
    pub fn map_accounts(&self) -> u64 {
        self.bands.iter().map(|b| b.accounts as u64).sum()
    }

    /// The number of counterparties asked for (resolving the automatic `0`), before the
    /// at-least-one-per-side rule.
    pub fn counterparty_count(&self) -> u64 {
        if self.counterparties == 0 { (self.map_accounts() / 100).max(1) } else { self.counterparties as u64 }
    }
}

/// Whose position a seeded account holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    /// A position of the liquidation map.
    Map,
    /// A low-leverage account taking the other side of map positions.
    Counterparty,
}

/// One seeded account and where it ends up.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeededAccount {
    pub account: AccountId,
    pub side: PositionSide,
    /// Signed size (long > 0).
    pub qty: Qty,
    /// Entry price. For a counterparty, which aggregates many seeds, the average entry
    /// `cost / qty` rounded to the nearest tick (the exact value is `cost`).
    pub entry: Price,
    /// Signed entry notional, exactly as the ledger holds it.
    pub cost: Money,
    /// Isolated margin posted (equal to the account's deposit).
    pub margin: Money,
    /// The account's leverage setting. For a map account the drawn leverage, lowered to the tier
    /// maximum at its entry notional when the draw exceeded it.
    pub leverage: u32,
    /// The tiered liquidation price of the seeded position; `None` only for a long that is fully
    /// collateralised (a 1x counterparty).
    pub liquidation_price: Option<Price>,
    pub role: Role,
    /// The band of a map account (`None` for counterparties).
    pub band: Option<usize>,
}

/// The events that seed a map, and what they produce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeededMap {
    /// All `AccountOpened` (map accounts, then counterparties), then all `PositionSeeded`.
    pub events: Vec<Event>,
    /// Map accounts in id order, then counterparties.
    pub accounts: Vec<SeededAccount>,
    /// Σ |size| × liquidation price over long map accounts, micro-USD.
    pub liq_notional_long: Money,
    /// Σ |size| × liquidation price over short map accounts, micro-USD.
    pub liq_notional_short: Money,
    /// The same per band, in band order.
    pub band_liq_notional: Vec<Money>,
}

/// Why a map could not be generated. Every variant names the field path it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A field breaks a rule.
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    /// A band is valid on its own but some account of it cannot be placed in it.
    #[error("{path}: cannot be solved: {reason}")]
    Unsolvable { path: String, reason: String },
    /// A counterparty would be liquidated within the map's reach.
    #[error(
        "counterparty_leverage: counterparty {account:?} would be liquidated at {liq_usd} USD, within {limit_usd} USD of the price (the farthest band); lower counterparty_leverage (now {leverage}) or use more counterparties"
    )]
    CounterpartyTooClose { account: AccountId, liq_usd: String, limit_usd: String, leverage: u32 },
    /// Exact arithmetic failed (overflow) while seeding.
    #[error("{path}: {source}")]
    Margin { path: String, source: MarginError },
    /// A unit conversion failed.
    #[error("{path}: {source}")]
    Unit { path: String, source: UnitError },
}

impl MapError {
    /// The field path the error concerns (`bands[2].liq_low_usd`).
    pub fn path(&self) -> &str {
        match self {
            MapError::Invalid { path, .. }
            | MapError::Unsolvable { path, .. }
            | MapError::Margin { path, .. }
            | MapError::Unit { path, .. } => path,
            MapError::CounterpartyTooClose { .. } => "counterparty_leverage",
        }
    }
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> MapError {
    MapError::Invalid { path: path.into(), reason: reason.into() }
}

/// A band's ends on the tick grid: the lowest tick ≥ low and the highest tick ≤ high.
fn band_ticks(inst: &Instrument, b: &Band, path: &str) -> Result<(i64, i64), MapError> {
    let unit = |source| MapError::Unit { path: path.to_string(), source };
    let lo = inst.price_ceil(b.liq_low_usd).map_err(unit)?;
    let hi = inst.price_floor(b.liq_high_usd).map_err(unit)?;
    Ok((lo.0, hi.0))
}

fn usd_to_micros(usd: f64) -> f64 {
    usd * MICROS_PER_USD as f64
}

/// Checks every rule that can be checked without drawing: field ranges, band placement, leverage
/// against the tier maximum at the band's mean account notional, and one lot per account.
pub fn validate(cfg: &MapConfig, inst: &Instrument, tiers: &TierTable) -> Result<(), MapError> {
    if !(cfg.price_usd.is_finite() && cfg.price_usd > 0.0) {
        return Err(invalid("price_usd", format!("must be a positive number, got {}", cfg.price_usd)));
    }
    let price = inst
        .price_floor(cfg.price_usd)
        .map_err(|source| MapError::Unit { path: "price_usd".into(), source })?;
    if price.0 < 1 {
        return Err(invalid("price_usd", "is below one tick"));
    }
    if cfg.bands.is_empty() {
        return Err(invalid("bands", "at least one band is needed"));
    }
    if cfg.counterparty_leverage == 0 || cfg.counterparty_leverage > crate::ledger::MAX_LEVERAGE {
        return Err(invalid(
            "counterparty_leverage",
            format!("must be in 1..={}, got {}", crate::ledger::MAX_LEVERAGE, cfg.counterparty_leverage),
        ));
    }
    if !(cfg.notional_jitter.is_finite() && (0.0..=3.0).contains(&cfg.notional_jitter)) {
        return Err(invalid("notional_jitter", format!("must be in 0..=3, got {}", cfg.notional_jitter)));
    }
    let total = cfg.map_accounts() + cfg.counterparty_count() + 2;
    if total > u32::MAX as u64 / 2 {
        return Err(invalid("bands", format!("{total} accounts do not fit account ids")));
    }
    let lot_btc = inst.lot_sats() as f64 / SATS_PER_BTC as f64;
    for (i, b) in cfg.bands.iter().enumerate() {
        let p = |field: &str| format!("bands[{i}].{field}");
        for (field, v) in [("liq_low_usd", b.liq_low_usd), ("liq_high_usd", b.liq_high_usd)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(p(field), format!("must be a positive price, got {v}")));
            }
        }
        if b.liq_low_usd >= b.liq_high_usd {
            return Err(invalid(
                p("liq_low_usd"),
                format!("must be below liq_high_usd ({} >= {})", b.liq_low_usd, b.liq_high_usd),
            ));
        }
        match b.side {
            PositionSide::Long if b.liq_high_usd >= cfg.price_usd => {
                return Err(invalid(
                    p("liq_high_usd"),
                    format!(
                        "a long band must lie below the price {} (got {})",
                        cfg.price_usd, b.liq_high_usd
                    ),
                ));
            }
            PositionSide::Short if b.liq_low_usd <= cfg.price_usd => {
                return Err(invalid(
                    p("liq_low_usd"),
                    format!(
                        "a short band must lie above the price {} (got {})",
                        cfg.price_usd, b.liq_low_usd
                    ),
                ));
            }
            _ => {}
        }
        let (lo, hi) = band_ticks(inst, b, &p("liq_low_usd"))?;
        if lo > hi || lo < 1 {
            return Err(invalid(p("liq_high_usd"), "the band holds no price tick"));
        }
        if !(b.notional_usd.is_finite() && b.notional_usd > 0.0) {
            return Err(invalid(p("notional_usd"), format!("must be positive, got {}", b.notional_usd)));
        }
        if usd_to_micros(b.notional_usd) >= i64::MAX as f64 / 4.0 {
            return Err(invalid(p("notional_usd"), format!("{} is too large", b.notional_usd)));
        }
        if b.accounts == 0 {
            return Err(invalid(p("accounts"), "at least one account is needed"));
        }
        let mean = b.notional_usd / b.accounts as f64;
        if mean < lot_btc * b.liq_high_usd {
            return Err(invalid(
                p("accounts"),
                format!(
                    "an account's notional ({mean} USD) would be below one lot ({} USD at {})",
                    lot_btc * b.liq_high_usd,
                    b.liq_high_usd
                ),
            ));
        }
        if b.leverage.is_empty() {
            return Err(invalid(p("leverage"), "the leverage mix is empty"));
        }
        let mean_notional = Money(usd_to_micros(mean) as i64);
        let max = tiers.max_leverage_for(mean_notional);
        for (j, lw) in b.leverage.iter().enumerate() {
            let lp = format!("bands[{i}].leverage[{j}]");
            if !(lw.weight.is_finite() && lw.weight > 0.0) {
                return Err(invalid(format!("{lp}.weight"), format!("must be positive, got {}", lw.weight)));
            }
            if lw.leverage == 0 {
                return Err(invalid(format!("{lp}.leverage"), "must be at least 1"));
            }
            if lw.leverage > max {
                return Err(invalid(
                    format!("{lp}.leverage"),
                    format!(
                        "{}x exceeds the tier maximum {max}x at the band's account notional {mean} USD",
                        lw.leverage
                    ),
                ));
            }
            if lw.leverage == 1 && b.side == PositionSide::Long {
                return Err(MapError::Unsolvable {
                    path: format!("{lp}.leverage"),
                    reason: "a 1x long is fully collateralised and has no liquidation price".into(),
                });
            }
        }
    }
    Ok(())
}

/// A liquidation tick drawn by the band's shape.
fn draw_tick(rng: &mut impl Rng, shape: Shape, lo: i64, hi: i64) -> i64 {
    let width = (hi - lo + 1) as f64;
    let u: f64 = rng.random::<f64>();
    let x = match shape {
        Shape::Flat => u,
        Shape::Rising | Shape::Falling => {
            // Steps k = 0..5 with weight k+1 (Σ = 15); then uniform within the step.
            let pick = rng.random_range(0..15u32);
            let k = match pick {
                0 => 0,
                1..=2 => 1,
                3..=5 => 2,
                6..=9 => 3,
                _ => 4,
            };
            let x = (k as f64 + u) / 5.0;
            if shape == Shape::Rising { x } else { 1.0 - x }
        }
    };
    let t = lo + (x * width).floor() as i64;
    t.clamp(lo, hi)
}

/// A roughly standard-normal draw (Irwin–Hall of four uniforms, rescaled).
fn draw_normalish(rng: &mut impl Rng) -> f64 {
    let s: f64 = (0..4).map(|_| rng.random::<f64>()).sum();
    (s - 2.0) * 3f64.sqrt()
}

fn draw_leverage(rng: &mut impl Rng, mix: &[LeverageWeight], total: f64) -> u32 {
    let mut x = rng.random::<f64>() * total;
    for lw in mix {
        if x < lw.weight {
            return lw.leverage;
        }
        x -= lw.weight;
    }
    mix[mix.len() - 1].leverage
}

/// One solved map position.
struct Solved {
    entry: i64,
    cost: i64,
    margin: i64,
    leverage: u32,
    liq: i64,
}

fn floor_div(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}
fn ceil_div(a: i128, b: i128) -> i128 {
    -((-a).div_euclid(b))
}

/// Solves entry and margin so that a `q`-lot position on `side` liquidates at tick `liq` (within
/// `lo..=hi`), at leverage `lev` or the tier maximum at its entry notional if lower.
fn solve(
    inst: &Instrument,
    tiers: &TierTable,
    side: PositionSide,
    liq: i64,
    q: i64,
    lev: u32,
    (lo, hi): (i64, i64),
) -> Result<Solved, String> {
    let v = inst.tick_lot_value() as i128;
    let rows = tiers.tiers();
    let liq_notional = liq as i128 * q as i128 * v;
    let t0 = tiers.tier_index_for(Money(i64::try_from(liq_notional).map_err(|_| "notional overflows")?));
    let mut lev = lev;
    let mut entry = 0i64;
    for _ in 0..=rows.len() {
        let tier = &rows[t0];
        let m = tier.mmr.0 as f64 / SCALE as f64;
        let c = tier.cum.0 as f64 / (q as f64 * v as f64);
        let l = lev as f64;
        let e = match side {
            PositionSide::Long => ((liq as f64 * (1.0 - m) + c) / (1.0 - 1.0 / l)).ceil(),
            PositionSide::Short => ((liq as f64 * (1.0 + m) - c) / (1.0 + 1.0 / l)).floor(),
        };
        if !(e.is_finite() && e >= 1.0 && e < (i64::MAX / 4) as f64) {
            return Err(format!("no positive entry price for a {lev}x position liquidating at tick {liq}"));
        }
        entry = e as i64;
        let entry_notional = entry as i128 * q as i128 * v;
        let max =
            tiers.max_leverage_for(Money(i64::try_from(entry_notional).map_err(|_| "notional overflows")?));
        if lev <= max {
            break;
        }
        lev = max;
    }
    if side == PositionSide::Long && lev <= 1 {
        return Err("a long at 1x has no liquidation price (the tier maximum forced 1x)".into());
    }
    let sign = side.sign();
    let cost = sign as i128 * entry as i128 * q as i128 * v;
    let qty = Qty(sign * q);
    let cost_m = Money(i64::try_from(cost).map_err(|_| "cost overflows")?);
    let lot_value = liq as i128 * q as i128 * v;
    let mut candidates = vec![t0];
    if t0 + 1 < rows.len() {
        candidates.push(t0 + 1);
    }
    if t0 > 0 {
        candidates.push(t0 - 1);
    }
    for t in candidates {
        let (mmr, cum) = (rows[t].mmr.0 as i128, rows[t].cum.0 as i128);
        let w = match side {
            PositionSide::Long => cost - cum - floor_div(lot_value * (SCALE - mmr), SCALE),
            PositionSide::Short => ceil_div(lot_value * (SCALE + mmr), SCALE) - cum + cost,
        };
        if w < 1 || w > i64::MAX as i128 {
            continue;
        }
        let w = w as i64;
        match margin::liquidation_price_tiered(inst, tiers, qty, cost_m, Money(w)) {
            Ok(Some(p)) if (lo..=hi).contains(&p.0) => {
                return Ok(Solved { entry, cost: cost as i64, margin: w, leverage: lev, liq: p.0 });
            }
            _ => continue,
        }
    }
    Err(format!(
        "no margin puts a {q}-lot {lev}x position entered at tick {entry} into ticks {lo}..={hi} (target {liq})"
    ))
}

/// Generates the events that seed `cfg` into a ledger whose next account id is `first_account`.
///
/// Deterministic: the same config, instrument, tiers and rng state give the same events. Cost
/// is O(accounts) time and memory.
pub fn generate(
    cfg: &MapConfig,
    inst: &Instrument,
    tiers: &TierTable,
    rng: &mut impl Rng,
    first_account: AccountId,
) -> Result<SeededMap, MapError> {
    validate(cfg, inst, tiers)?;
    let price_t = inst
        .price_floor(cfg.price_usd)
        .map_err(|source| MapError::Unit { path: "price_usd".into(), source })?
        .0;
    let v = inst.tick_lot_value() as i128;
    let n_map = cfg.map_accounts() as usize;
    if first_account.0 as u64 + n_map as u64 + cfg.counterparty_count() + 2 > u32::MAX as u64 {
        return Err(invalid("bands", format!("account ids from {first_account:?} would overflow")));
    }
    let mut accounts: Vec<SeededAccount> = Vec::with_capacity(n_map + cfg.counterparty_count() as usize + 2);
    let mut band_liq = Vec::with_capacity(cfg.bands.len());
    let mut farthest = 0i64;
    let mut next_id = first_account.0;

    struct Draw {
        liq: i64,
        weight: f64,
        lev: u32,
    }
    let mut draws: Vec<Draw> = Vec::new();
    for (i, b) in cfg.bands.iter().enumerate() {
        let path = format!("bands[{i}]");
        let (lo, hi) = band_ticks(inst, b, &path)?;
        farthest = farthest.max((lo - price_t).abs()).max((hi - price_t).abs());
        let mix_total: f64 = b.leverage.iter().map(|l| l.weight).sum();
        draws.clear();
        for _ in 0..b.accounts {
            let liq = draw_tick(rng, b.shape, lo, hi);
            let z = draw_normalish(rng);
            let lev = draw_leverage(rng, &b.leverage, mix_total);
            draws.push(Draw { liq, weight: (cfg.notional_jitter * z).exp(), lev });
        }
        let weight_sum: f64 = draws.iter().map(|d| d.weight).sum();
        let target = usd_to_micros(b.notional_usd);
        // Error diffusion: each account's size absorbs the rounding of the ones before it, so the
        // band's total misses its target by at most about half a lot at one liquidation price.
        let mut wanted = 0f64;
        let mut achieved: i128 = 0;
        for (k, d) in draws.iter().enumerate() {
            wanted += target * d.weight / weight_sum;
            let per_lot = d.liq as f64 * v as f64;
            let q = (((wanted - achieved as f64) / per_lot).round() as i64).max(1);
            let s = solve(inst, tiers, b.side, d.liq, q, d.lev, (lo, hi)).map_err(|reason| {
                MapError::Unsolvable { path: path.clone(), reason: format!("account {k}: {reason}") }
            })?;
            achieved += s.liq as i128 * q as i128 * v;
            accounts.push(SeededAccount {
                account: AccountId(next_id),
                side: b.side,
                qty: Qty(b.side.sign() * q),
                entry: Price(s.entry),
                cost: Money(s.cost),
                margin: Money(s.margin),
                leverage: s.leverage,
                liquidation_price: Some(Price(s.liq)),
                role: Role::Map,
                band: Some(i),
            });
            next_id += 1;
        }
        let miss = (achieved as f64 - target).abs() / target;
        if miss > 0.01 {
            return Err(MapError::Unsolvable {
                path: format!("{path}.notional_usd"),
                reason: format!(
                    "the band's liquidation notional came out {} USD, more than 1% from {} (too few lots per account?)",
                    Money(achieved as i64).to_usd_string(),
                    b.notional_usd
                ),
            });
        }
        band_liq.push(Money(achieved as i64));
    }

    // Counterparties: one group per side that needs one, sized by the notional it faces.
    let mut side_notional = [0i128; 2]; // [facing map longs (short cps), facing map shorts (long cps)]
    for a in &accounts {
        let g = usize::from(a.side == PositionSide::Short);
        side_notional[g] += (a.cost.0 as i128).abs();
    }
    let needed = side_notional.iter().filter(|&&n| n > 0).count() as u64;
    let count = cfg.counterparty_count().max(needed);
    let mut groups = [0u64; 2];
    if needed == 2 {
        let share = side_notional[0] as f64 / (side_notional[0] + side_notional[1]) as f64;
        groups[0] = ((count as f64 * share).round() as u64).clamp(1, count - 1);
        groups[1] = count - groups[0];
    } else if side_notional[0] > 0 {
        groups[0] = count;
    } else {
        groups[1] = count;
    }
    let first_cp = next_id;
    let group_start = [first_cp, first_cp + groups[0] as u32];
    let mut cps: Vec<SeededAccount> = Vec::with_capacity(count as usize);
    for (g, &n) in groups.iter().enumerate() {
        let side = if g == 0 { PositionSide::Short } else { PositionSide::Long };
        for k in 0..n {
            cps.push(SeededAccount {
                account: AccountId(group_start[g] + k as u32),
                side,
                qty: Qty::ZERO,
                entry: Price::ZERO,
                cost: Money::ZERO,
                margin: Money::ZERO,
                leverage: cfg.counterparty_leverage,
                liquidation_price: None,
                role: Role::Counterparty,
                band: None,
            });
        }
    }

    let mut events: Vec<Event> = Vec::with_capacity(accounts.len() * 2 + cps.len());
    let mut seeds: Vec<Event> = Vec::with_capacity(accounts.len());
    let mut rr = [0u64; 2];
    let overflow = |what: &'static str| MapError::Margin {
        path: "counterparties".into(),
        source: MarginError::Overflow(what),
    };
    for a in &accounts {
        let g = usize::from(a.side == PositionSide::Short);
        let idx = (group_start[g] - first_cp) as usize + (rr[g] % groups[g]) as usize;
        rr[g] += 1;
        let q = a.qty.abs();
        let cp_margin = margin::initial_margin(inst, q, a.entry, cfg.counterparty_leverage)
            .map_err(|source| MapError::Margin { path: "counterparty_leverage".into(), source })?;
        let cp = &mut cps[idx];
        cp.qty = cp.qty.checked_sub(a.qty).map_err(|_| overflow("counterparty size"))?;
        cp.cost = cp.cost.checked_sub(a.cost).map_err(|_| overflow("counterparty cost"))?;
        cp.margin = cp.margin.checked_add(cp_margin).map_err(|_| overflow("counterparty margin"))?;
        let (long, short, long_margin, short_margin) = match a.side {
            PositionSide::Long => (a.account, cp.account, a.margin, cp_margin),
            PositionSide::Short => (cp.account, a.account, cp_margin, a.margin),
        };
        seeds.push(Event::PositionSeeded { long, short, qty: q, price: a.entry, long_margin, short_margin });
    }

    // Counterparties must survive any move that stays within the map.
    for cp in &mut cps {
        if cp.qty.is_zero() {
            continue;
        }
        cp.entry = Price(((cp.cost.0 as f64) / (cp.qty.0 as f64 * v as f64)).round() as i64);
        cp.liquidation_price = margin::liquidation_price_tiered(inst, tiers, cp.qty, cp.cost, cp.margin)
            .map_err(|source| MapError::Margin { path: "counterparty_leverage".into(), source })?;
        if let Some(lp) = cp.liquidation_price {
            let close = match cp.side {
                PositionSide::Long => lp.0 >= price_t - farthest,
                PositionSide::Short => lp.0 <= price_t + farthest,
            };
            if close {
                return Err(MapError::CounterpartyTooClose {
                    account: cp.account,
                    liq_usd: inst.price_string(lp),
                    limit_usd: inst.price_string(Price(farthest)),
                    leverage: cfg.counterparty_leverage,
                });
            }
        }
    }

    let (mut long_sum, mut short_sum) = (0i128, 0i128);
    for a in &accounts {
        let n = a.qty.0.unsigned_abs() as i128 * a.liquidation_price.map_or(0, |p| p.0) as i128 * v;
        match a.side {
            PositionSide::Long => long_sum += n,
            PositionSide::Short => short_sum += n,
        }
    }
    accounts.extend(cps);
    for a in &accounts {
        events.push(Event::AccountOpened { account: a.account, deposit: a.margin, leverage: a.leverage });
    }
    events.extend(seeds);
    let to_money = |x: i128| i64::try_from(x).map(Money).map_err(|_| overflow("liquidation notional"));
    Ok(SeededMap {
        events,
        accounts,
        liq_notional_long: to_money(long_sum)?,
        liq_notional_short: to_money(short_sum)?,
        band_liq_notional: band_liq,
    })
}

/// The seed's map (BTCUSDT at 71,450): about $14B of short liquidations between 84,000 and
/// 100,000, denser toward 100K, in three Rising bands at 2x–10x; and $0.9B of long liquidations
/// between 60,000 and 70,000, denser toward the price, at 10x–50x.
///
/// `accounts` is the total number of map accounts (the totals do not change with it): 30% are
/// longs (smaller, more levered positions), 70% shorts split across the bands by notional. At
/// least about 1,000 accounts are needed for the 50x longs to fit the tier table. Counterparties
/// are 1x (see the body), `max(1, accounts / 100)` of them.
pub fn seed_map_btc_14_to_1(accounts: u32) -> MapConfig {
    let longs = (accounts as u64 * 3 / 10).max(1) as u32;
    let shorts = accounts.saturating_sub(longs).max(3);
    let lev = |mix: &[(u32, f64)]| {
        mix.iter().map(|&(leverage, weight)| LeverageWeight { leverage, weight }).collect()
    };
    let short_mix: Vec<LeverageWeight> = lev(&[(2, 2.0), (3, 3.0), (5, 3.0), (10, 2.0)]);
    // (low, high, notional) of the short bands: 3 + 4.5 + 6.5 = 14 B.
    let short_bands =
        [(84_000.0, 90_000.0, 3.0e9), (90_000.0, 95_000.0, 4.5e9), (95_000.0, 100_000.0, 6.5e9)];
    let mut bands = Vec::new();
    let mut given = 0u32;
    for (k, &(low, high, notional)) in short_bands.iter().enumerate() {
        let n = if k + 1 == short_bands.len() {
            shorts - given
        } else {
            ((shorts as f64 * notional / 14.0e9).round() as u32).max(1)
        };
        given += n;
        bands.push(Band {
            side: PositionSide::Short,
            liq_low_usd: low,
            liq_high_usd: high,
            notional_usd: notional,
            shape: Shape::Rising,
            leverage: short_mix.clone(),
            accounts: n,
        });
    }
    bands.push(Band {
        side: PositionSide::Long,
        liq_low_usd: 60_000.0,
        liq_high_usd: 70_000.0,
        notional_usd: 0.9e9,
        shape: Shape::Rising,
        leverage: lev(&[(10, 3.0), (20, 3.0), (25, 2.0), (50, 2.0)]),
        accounts: longs,
    });
    // At 2x the shorts facing the map's longs (entered near 66–75K) would be liquidated near
    // 96K, inside the short clusters; at 1x they sit beyond 130K and the longs facing the shorts
    // have no liquidation price at all.
    MapConfig { counterparty_leverage: 1, ..MapConfig::new(71_450.0, bands) }
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;
