//! What a liquidation map is made of, in human units: bands (side, liquidation-price range,
//! notional, shape, leverage mix, accounts, stop-losses) around a price, and the counterparty
//! settings; the rules [`validate`] checks before anything is drawn; and the seed's 14:1 map.

use crate::book::{AccountId, TriggerSource};
use crate::margin::{MarginError, TierTable};
use crate::units::{Instrument, MICROS_PER_USD, Money, Price, SATS_PER_BTC, UnitError};
use serde::{Deserialize, Serialize};

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
    /// Stop-losses some of the band's holders carry (none by default).
    #[serde(default)]
    pub stop_loss: Option<StopLoss>,
    /// The share of the band's accounts margined in cross mode (0 to 1, default 0), spread evenly
    /// through the band: their whole wallet, margin and reserve, backs the position, and their
    /// entry and wallet are solved so that the liquidation price still lands in the band.
    #[serde(default)]
    pub cross_share: f64,
}

impl Band {
    /// How many of the band's accounts are margined in cross mode: `round(cross_share × accounts)`.
    pub fn cross_accounts(&self) -> u64 {
        cross_accounts(self.accounts, self.cross_share)
    }

    /// Whether the band's `k`-th account (0-based) is margined in cross mode: the
    /// [`Band::cross_accounts`] of them spread evenly (the `k`-th is cross when the running count
    /// `⌊(k + 1)·m / n⌋` steps up), with no random draw, so a band without cross accounts draws
    /// exactly as before the option existed.
    pub fn is_cross(&self, k: u32) -> bool {
        is_cross(self.accounts, self.cross_share, k)
    }
}

/// Stop-losses in a band: a `share` of its accounts each hold a reduce-only stop-market order
/// for their whole position, `distance` from where it would be liquidated or from the price,
/// watching `trigger` (last by default, as Binance's and Bybit's stops do unless told).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StopLoss {
    /// Fraction of the band's accounts with a stop-loss, 0..=1.
    pub share: f64,
    pub distance: StopDistance,
    #[serde(default)]
    pub trigger: TriggerSource,
}

/// Where a holder's stop-loss sits, drawn uniformly per account between two percentages.
///
/// Not from the entry: the map's entries are solved back from the liquidation prices and many
/// lie on the far side of today's price (a 2x short liquidated at 95,000 entered near 63,600),
/// where an entry-relative stop would already be reached and the venue would refuse it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum StopDistance {
    /// In front of the liquidation price, toward today's price, by this share of the
    /// liquidation price: a long liquidated at 60,000 with 2% gets its stop at 61,200.
    BeforeLiquidation { low_pct: f64, high_pct: f64 },
    /// Away from today's price against the position: a long with 5% at 71,450 gets its stop at
    /// 67,877.5.
    FromPrice { low_pct: f64, high_pct: f64 },
}

impl StopDistance {
    /// The range of percentages.
    pub fn range_pct(self) -> (f64, f64) {
        match self {
            StopDistance::BeforeLiquidation { low_pct, high_pct }
            | StopDistance::FromPrice { low_pct, high_pct } => (low_pct, high_pct),
        }
    }
}

/// `round(cross_share × accounts)`, at most `accounts`.
fn cross_accounts(accounts: u32, cross_share: f64) -> u64 {
    let n = accounts as u64;
    ((cross_share.clamp(0.0, 1.0) * n as f64).round() as u64).min(n)
}

/// Whether the `k`-th of `accounts` is cross: the running count `⌊(k + 1)·m / n⌋` steps up.
fn is_cross(accounts: u32, cross_share: f64, k: u32) -> bool {
    let (n, m) = (accounts.max(1) as u64, cross_accounts(accounts, cross_share));
    (k as u64 + 1) * m / n > k as u64 * m / n
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

/// A map converted to the instrument's units, ready to draw from: the price and each band's
/// ends on the tick grid, each band's liquidation notional in exact money. [`validate`] builds
/// it from a [`MapConfig`] after checking every rule; [`generate()`] converts nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MapPlan {
    /// The current price; long bands lie below it, short bands above.
    pub price: Price,
    pub bands: Vec<PlannedBand>,
    pub counterparty_leverage: u32,
    /// `0`: automatic (see [`MapConfig::counterparties`]).
    pub counterparties: u32,
    pub notional_jitter: f64,
}

/// A [`Band`] on the grid: liquidation prices from `lo` to `hi` (both ticks inside the band's
/// USD range), together liquidating `notional`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedBand {
    pub side: PositionSide,
    pub lo: Price,
    pub hi: Price,
    pub notional: Money,
    pub shape: Shape,
    pub leverage: Vec<LeverageWeight>,
    pub accounts: u32,
    /// The share of the band's accounts margined in cross mode (see [`Band::cross_share`]).
    #[serde(default)]
    pub cross_share: f64,
    /// The band's stop-losses (see [`Band::stop_loss`]): shares and percentages, with no unit to
    /// convert, checked by [`validate`].
    #[serde(default)]
    pub stop_loss: Option<StopLoss>,
}

impl PlannedBand {
    /// How many of the band's accounts are margined in cross mode (see [`Band::cross_accounts`]).
    pub fn cross_accounts(&self) -> u64 {
        cross_accounts(self.accounts, self.cross_share)
    }

    /// Whether the band's `k`-th account (0-based) is margined in cross mode (see
    /// [`Band::is_cross`]).
    pub fn is_cross(&self, k: u32) -> bool {
        is_cross(self.accounts, self.cross_share, k)
    }
}

impl MapPlan {
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

impl MapConfig {
    /// The map in the instrument's units, converting only (no rule is checked: use [`validate`]
    /// for a map from outside). Fails when a price or notional does not fit the units.
    pub fn plan(&self, inst: &Instrument) -> Result<MapPlan, MapError> {
        let price = inst
            .price_floor(self.price_usd)
            .map_err(|cause| MapError::Unit { path: "price_usd".into(), cause })?;
        let mut bands = Vec::with_capacity(self.bands.len());
        for (i, b) in self.bands.iter().enumerate() {
            let (lo, hi) = band_ticks(inst, b, &format!("bands[{i}].liq_low_usd"))?;
            // Whole micro-USD: the generator's target (a swept notional may have fractions).
            let micros = usd_to_micros(b.notional_usd).round();
            if !(micros.is_finite() && micros > 0.0 && micros < i64::MAX as f64) {
                return Err(invalid(
                    format!("bands[{i}].notional_usd"),
                    format!("{} is out of range", b.notional_usd),
                ));
            }
            let notional = Money(micros as i64);
            bands.push(PlannedBand {
                side: b.side,
                lo: Price(lo),
                hi: Price(hi),
                notional,
                shape: b.shape,
                leverage: b.leverage.clone(),
                accounts: b.accounts,
                cross_share: b.cross_share,
                stop_loss: b.stop_loss.clone(),
            });
        }
        Ok(MapPlan {
            price,
            bands,
            counterparty_leverage: self.counterparty_leverage,
            counterparties: self.counterparties,
            notional_jitter: self.notional_jitter,
        })
    }

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

/// Why a map could not be generated. Every variant names the field path it concerns.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// A field breaks a rule.
    #[error("{path}: {reason}")]
    Invalid { path: String, reason: String },
    /// A band is valid on its own but some account of it cannot be placed in it.
    #[error("{path}: cannot be solved: {reason}")]
    Unsolvable { path: String, reason: String },
    /// One long account drew so much of its band's notional that it would enter in a tier whose
    /// maximum leverage leaves it no liquidation price (validation checks the band's mean
    /// account; the sizes drawn around it can be larger).
    #[error(
        "{path}: account {account} would enter with {entry_usd} USD of notional, where the tiers allow only {max_leverage}x and a long has no liquidation price; spread the band's notional over more accounts"
    )]
    AccountTooLarge { path: String, account: usize, entry_usd: String, max_leverage: u32 },
    /// A counterparty would be liquidated within the map's reach.
    #[error(
        "counterparty_leverage: counterparty {account:?} would be liquidated at {liq_usd} USD, within {limit_usd} USD of the price (the farthest band); lower counterparty_leverage (now {leverage}) or use more counterparties"
    )]
    CounterpartyTooClose { account: AccountId, liq_usd: String, limit_usd: String, leverage: u32 },
    /// Exact arithmetic failed (overflow) while seeding.
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("{path}: {cause}")]
    Margin { path: String, cause: MarginError },
    /// A unit conversion failed.
    #[error("{path}: {cause}")]
    Unit { path: String, cause: UnitError },
}

impl MapError {
    /// The field path the error concerns (`bands[2].liq_low_usd`).
    pub fn path(&self) -> &str {
        match self {
            MapError::Invalid { path, .. }
            | MapError::Unsolvable { path, .. }
            | MapError::AccountTooLarge { path, .. }
            | MapError::Margin { path, .. }
            | MapError::Unit { path, .. } => path,
            MapError::CounterpartyTooClose { .. } => "counterparty_leverage",
        }
    }
}

pub(super) fn invalid(path: impl Into<String>, reason: impl Into<String>) -> MapError {
    MapError::Invalid { path: path.into(), reason: reason.into() }
}

/// A band's ends on the tick grid: the lowest tick ≥ low and the highest tick ≤ high.
fn band_ticks(inst: &Instrument, b: &Band, path: &str) -> Result<(i64, i64), MapError> {
    let unit = |cause| MapError::Unit { path: path.to_string(), cause };
    let lo = inst.price_ceil(b.liq_low_usd).map_err(unit)?;
    let hi = inst.price_floor(b.liq_high_usd).map_err(unit)?;
    Ok((lo.0, hi.0))
}

fn usd_to_micros(usd: f64) -> f64 {
    usd * MICROS_PER_USD as f64
}

/// The leverage a long of `liq_notional_usd` (at its liquidation price) ends at once the map's
/// solve has lowered it to the tier maximum at its entry notional, as the solve does: entry
/// notional `(N·(1 − mmr) + cum) / (1 − per_margin/λ)` with the tier of `N`, `per_margin` the
/// wallet per unit of margin (1 isolated, 1 + reserve cross).
fn long_leverage_at_entry(tiers: &TierTable, liq_notional_usd: f64, leverage: u32, per_margin: f64) -> u32 {
    let tier = tiers.tier_for(Money(usd_to_micros(liq_notional_usd).min(i64::MAX as f64) as i64));
    let mmr = tier.mmr.0 as f64 / crate::units::RATE_SCALE as f64;
    let cum = tier.cum.0 as f64 / MICROS_PER_USD as f64;
    let mut lev = leverage;
    for _ in 0..=tiers.tiers().len() {
        let l = lev as f64 / per_margin;
        if l <= 1.0 {
            break;
        }
        let entry = (liq_notional_usd * (1.0 - mmr) + cum) / (1.0 - 1.0 / l);
        let max = tiers.max_leverage_for(Money(usd_to_micros(entry).min(i64::MAX as f64) as i64));
        if lev <= max {
            break;
        }
        lev = max;
    }
    lev
}

/// Checks every rule that can be checked without drawing: field ranges, band placement, leverage
/// against the tier maximum at the band's mean account notional, one lot per account, and that a
/// cross long's wallet (its margin and the holders' `reserve_fraction` of it beside) leaves it a
/// liquidation price; then converts the map to the instrument's units (see [`MapConfig::plan`]).
pub fn validate(
    cfg: &MapConfig,
    inst: &Instrument,
    tiers: &TierTable,
    reserve_fraction: f64,
) -> Result<MapPlan, MapError> {
    if !(cfg.price_usd.is_finite() && cfg.price_usd > 0.0) {
        return Err(invalid("price_usd", format!("must be a positive number, got {}", cfg.price_usd)));
    }
    let price = inst
        .price_floor(cfg.price_usd)
        .map_err(|cause| MapError::Unit { path: "price_usd".into(), cause })?;
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
        if !(b.cross_share.is_finite() && (0.0..=1.0).contains(&b.cross_share)) {
            return Err(invalid(p("cross_share"), format!("must be in 0..=1, got {}", b.cross_share)));
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
            // A cross long's wallet is (1 + reserve) times its margin, notional/leverage.
            let wallet_per_margin = 1.0 + reserve_fraction.max(0.0);
            // A long enters above its liquidation price, at a larger notional whose tier may allow
            // less leverage; the solve then lowers it, and a long lowered to what its wallet
            // covers has no liquidation price.
            if b.side == PositionSide::Long {
                let backings: &[f64] =
                    if b.cross_accounts() > 0 { &[1.0, wallet_per_margin] } else { &[1.0] };
                for &per_margin in backings {
                    let at_entry = long_leverage_at_entry(tiers, mean, lw.leverage, per_margin);
                    if at_entry < lw.leverage && at_entry as f64 <= per_margin {
                        return Err(MapError::Unsolvable {
                            path: format!("{lp}.leverage"),
                            reason: format!(
                                "a long of the band's account notional ({mean} USD) at {}x enters at a notional \
                                 whose tier allows only {at_entry}x, which leaves it no liquidation price",
                                lw.leverage
                            ),
                        });
                    }
                }
            }
            if b.cross_accounts() > 0
                && b.side == PositionSide::Long
                && lw.leverage as f64 <= wallet_per_margin
            {
                return Err(MapError::Unsolvable {
                    path: format!("{lp}.leverage"),
                    reason: format!(
                        "a cross long at {}x with a reserve of {reserve_fraction} of its margin holds a wallet \
                         of at least its notional and has no liquidation price",
                        lw.leverage
                    ),
                });
            }
        }
        if let Some(stop) = &b.stop_loss {
            validate_stop_loss(stop, b, cfg.price_usd, &p("stop_loss"))?;
        }
    }
    cfg.plan(inst)
}

/// A stop-loss spec: a share in 0..=1, a percentage range in [0, 100) (from the price: above
/// 0, a stop at the price would trigger at once), every number finite and its message naming
/// the range, and every stop it can draw strictly in front
/// of the price, where the venue accepts it.
fn validate_stop_loss(stop: &StopLoss, b: &Band, price: f64, path: &str) -> Result<(), MapError> {
    if !(stop.share.is_finite() && (0.0..=1.0).contains(&stop.share)) {
        return Err(invalid(
            format!("{path}.share"),
            format!("must be a fraction between 0 and 1, got {}", stop.share),
        ));
    }
    let (low, high) = stop.distance.range_pct();
    let from_price = matches!(stop.distance, StopDistance::FromPrice { .. });
    let range = if from_price { "positive and below 100" } else { "from 0 to below 100" };
    let low_ok = low.is_finite() && low < 100.0 && if from_price { low > 0.0 } else { low >= 0.0 };
    if !low_ok {
        return Err(invalid(
            format!("{path}.distance.low_pct"),
            format!("must be {range} percent, got {low}"),
        ));
    }
    if !(high.is_finite() && high >= low && high < 100.0) {
        return Err(invalid(
            format!("{path}.distance.high_pct"),
            format!("must be from low_pct ({low}) to below 100 percent, got {high}"),
        ));
    }
    if let StopDistance::BeforeLiquidation { .. } = stop.distance {
        // The stop nearest the price: the band's liquidation price nearest it, moved `high`.
        let (nearest, beyond) = match b.side {
            PositionSide::Long => {
                (b.liq_high_usd * (1.0 + high / 100.0), b.liq_high_usd * (1.0 + high / 100.0) >= price)
            }
            PositionSide::Short => {
                (b.liq_low_usd * (1.0 - high / 100.0), b.liq_low_usd * (1.0 - high / 100.0) <= price)
            }
        };
        if beyond {
            return Err(invalid(
                format!("{path}.distance.high_pct"),
                format!(
                    "{high}% in front of the band's nearest liquidation price puts a stop at {nearest:.1}, at or beyond the price {price}: the venue would refuse it"
                ),
            ));
        }
    }
    Ok(())
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
            stop_loss: None,
            cross_share: 0.0,
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
        stop_loss: None,
        cross_share: 0.0,
    });
    // At 2x the shorts facing the map's longs (entered near 66–75K) would be liquidated near
    // 96K, inside the short clusters; at 1x they sit beyond 130K and the longs facing the shorts
    // have no liquidation price at all.
    MapConfig { counterparty_leverage: 1, ..MapConfig::new(71_450.0, bands) }
}
