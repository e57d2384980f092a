//! Exact integer units: prices in ticks, quantities in lots, money in micro-USD, rates in 1e-8.
//!
//! Nothing in accounting, matching or margin uses floating point. Human units (`71_450.0` USD,
//! `0.001` BTC, `0.05` %) enter and leave only through [`Instrument`], which knows the tick and lot
//! sizes and converts exactly: a value that is not on the grid, or does not fit, is an error.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Micro-USD per USD.
pub const MICROS_PER_USD: i64 = 1_000_000;
/// Satoshi (1e-8 BTC) per BTC.
pub const SATS_PER_BTC: i64 = 100_000_000;
/// Rate units per 1.0 (a rate of 0.05% is `Rate(50_000)`).
pub const RATE_SCALE: i64 = 100_000_000;

/// A price in ticks of the instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Price(pub i64);

/// A quantity in lots of the instrument. Order sizes are positive; position sizes are signed
/// (long > 0, short < 0).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    bytemuck::Zeroable,
)]
#[serde(transparent)]
pub struct Qty(pub i64);

/// Money in micro-USD (USDT taken at par).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Money(pub i64);

/// A dimensionless rate in units of 1e-8 (fees, maintenance margin rates, funding rates).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Rate(pub i64);

/// Errors from unit construction and arithmetic.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("{what} {value} is not a finite number")]
    NotFinite { what: &'static str, value: String },
    #[error("{what} {value} is not a multiple of {step}")]
    OffGrid { what: &'static str, value: String, step: String },
    #[error("{what} {value} is out of range")]
    OutOfRange { what: &'static str, value: String },
    #[error("{what} must be positive, got {value}")]
    NotPositive { what: &'static str, value: String },
    #[error("cannot parse {what} from {text:?}: {reason}")]
    Parse { what: &'static str, text: String, reason: &'static str },
    #[error("arithmetic overflow in {0}")]
    Overflow(&'static str),
    #[error("tick size {tick_usd} USD x lot size {lot_btc} is not a whole number of micro-USD")]
    InexactContract { tick_usd: String, lot_btc: String },
}

// Errors are built with `ok_or_else`, not `ok_or`: `UnitError` holds strings, so building one
// eagerly costs a call to its drop glue on every successful operation (~3% of a run's
// instructions under callgrind).
/// `From<cause> for error`, into the variant `error::variant`: for a variant whose message
/// shows its cause, so that it does not also return it as its `source()` (`#[from]` does both,
/// and a chain printed with `{:#}` would say the cause twice).
macro_rules! from_cause {
    ($error:ident :: $variant:ident ( $cause:ty )) => {
        impl From<$cause> for $error {
            fn from(e: $cause) -> Self {
                $error::$variant(e)
            }
        }
    };
}
pub(crate) use from_cause;

macro_rules! checked_ops {
    ($t:ident, $name:literal) => {
        impl $t {
            pub const ZERO: $t = $t(0);
            /// Checked addition; overflow is an error, never a wrap.
            pub fn checked_add(self, rhs: $t) -> Result<$t, UnitError> {
                self.0
                    .checked_add(rhs.0)
                    .map($t)
                    .ok_or_else(|| UnitError::Overflow(concat!($name, " addition")))
            }
            /// Checked subtraction; overflow is an error, never a wrap.
            pub fn checked_sub(self, rhs: $t) -> Result<$t, UnitError> {
                self.0
                    .checked_sub(rhs.0)
                    .map($t)
                    .ok_or_else(|| UnitError::Overflow(concat!($name, " subtraction")))
            }
            /// Checked negation.
            pub fn checked_neg(self) -> Result<$t, UnitError> {
                self.0.checked_neg().map($t).ok_or_else(|| UnitError::Overflow(concat!($name, " negation")))
            }
            pub fn abs(self) -> $t {
                $t(self.0.saturating_abs())
            }
            pub fn is_zero(self) -> bool {
                self.0 == 0
            }
            pub fn is_positive(self) -> bool {
                self.0 > 0
            }
            pub fn is_negative(self) -> bool {
                self.0 < 0
            }
        }
    };
}
checked_ops!(Price, "price");
checked_ops!(Qty, "quantity");
checked_ops!(Money, "money");
checked_ops!(Rate, "rate");

impl Price {
    /// Sentinel above every real price: the limit of a market buy.
    pub const MAX: Price = Price(i64::MAX);
    /// Sentinel below every real price: the limit of a market sell.
    pub const MIN: Price = Price(i64::MIN);
}

impl Money {
    /// Whole USD, for constants and tests.
    pub const fn usd(usd: i64) -> Money {
        Money(usd * MICROS_PER_USD)
    }
    /// Exact decimal USD string (`"-1234.5"`), no trailing zeros.
    pub fn to_usd_string(self) -> String {
        format_scaled(self.0 as i128, MICROS_PER_USD as i128)
    }
    /// USD as a float, for reports and agent decisions only.
    pub fn to_usd_f64(self) -> f64 {
        self.0 as f64 / MICROS_PER_USD as f64
    }
}

impl Rate {
    /// A rate from a decimal fraction given as parts per 1e8 (`Rate::from_bps(4)` is 0.04%).
    pub const fn from_bps(bps: i64) -> Rate {
        Rate(bps * (RATE_SCALE / 10_000))
    }
    /// A rate from a number of percent (`0.05` → 0.05%), exact to 1e-8.
    pub fn from_percent(percent: f64) -> Result<Rate, UnitError> {
        let scaled = decimal_of_f64("rate", percent)?;
        // percent * 1e6 units of 1e-8
        scaled_to_grid("rate", &scaled, RATE_SCALE / 100, 1).map(Rate)
    }
    /// A rate from a fraction (`0.0005` → 0.05%), exact to 1e-8.
    pub fn from_fraction(fraction: f64) -> Result<Rate, UnitError> {
        let scaled = decimal_of_f64("rate", fraction)?;
        scaled_to_grid("rate", &scaled, RATE_SCALE, 1).map(Rate)
    }
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / RATE_SCALE as f64
    }
    /// Exact decimal string of the fraction (`Rate(50_000)` → `"0.0005"`).
    pub fn to_fraction_string(self) -> String {
        format_scaled(self.0 as i128, RATE_SCALE as i128)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} USD", self.to_usd_string())
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    /// Negation of a money amount; `i64::MIN` is never a reachable balance (checked elsewhere).
    fn neg(self) -> Money {
        Money(self.0.saturating_neg())
    }
}

/// Which way an order or a position faces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn opposite(self) -> Side {
        match self {
            Side::Buy => Side::Sell,
            Side::Sell => Side::Buy,
        }
    }
    /// +1 for buy (long), −1 for sell (short).
    pub fn sign(self) -> i64 {
        match self {
            Side::Buy => 1,
            Side::Sell => -1,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// The contract: how big a tick and a lot are. All human-unit conversions go through here.
///
/// A linear USDT-margined perpetual: one lot at price `p` ticks is worth
/// `p · tick_lot_value` micro-USD, which must be a whole number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instrument {
    /// Tick size in micro-USD.
    tick_micros: i64,
    /// Lot size in satoshi (1e-8 BTC).
    lot_sats: i64,
    /// Value in micro-USD of one lot moving by one tick.
    tick_lot_value: i64,
}

impl Instrument {
    /// Binance BTCUSDT perpetual: tick 0.1 USD, lot 0.001 BTC.
    pub fn btcusdt() -> Instrument {
        Instrument::from_units(100_000, 100_000).expect("BTCUSDT grid is exact")
    }

    /// From tick size in USD and lot size in BTC (`0.1`, `0.001`).
    pub fn new(tick_usd: f64, lot_btc: f64) -> Result<Instrument, UnitError> {
        let tick = decimal_of_f64("tick size", tick_usd)?;
        let tick_micros = scaled_to_grid("tick size", &tick, MICROS_PER_USD, 1)?;
        let lot = decimal_of_f64("lot size", lot_btc)?;
        let lot_sats = scaled_to_grid("lot size", &lot, SATS_PER_BTC, 1)?;
        Instrument::from_units(tick_micros, lot_sats)
    }

    /// From tick size in micro-USD and lot size in satoshi.
    pub fn from_units(tick_micros: i64, lot_sats: i64) -> Result<Instrument, UnitError> {
        if tick_micros <= 0 {
            return Err(UnitError::NotPositive {
                what: "tick size",
                value: format_scaled(tick_micros.into(), MICROS_PER_USD.into()),
            });
        }
        if lot_sats <= 0 {
            return Err(UnitError::NotPositive {
                what: "lot size",
                value: format_scaled(lot_sats.into(), SATS_PER_BTC.into()),
            });
        }
        let product = tick_micros as i128 * lot_sats as i128;
        if product % SATS_PER_BTC as i128 != 0 {
            return Err(UnitError::InexactContract {
                tick_usd: format_scaled(tick_micros.into(), MICROS_PER_USD.into()),
                lot_btc: format_scaled(lot_sats.into(), SATS_PER_BTC.into()),
            });
        }
        let tick_lot_value = i64::try_from(product / SATS_PER_BTC as i128)
            .map_err(|_| UnitError::Overflow("contract value"))?;
        Ok(Instrument { tick_micros, lot_sats, tick_lot_value })
    }

    pub fn tick_micros(&self) -> i64 {
        self.tick_micros
    }
    pub fn lot_sats(&self) -> i64 {
        self.lot_sats
    }
    /// Micro-USD value of one lot per tick of price.
    pub fn tick_lot_value(&self) -> i64 {
        self.tick_lot_value
    }

    /// Notional value `price · qty` in micro-USD, signed as `qty`. Exact; overflow is an error.
    pub fn notional(&self, price: Price, qty: Qty) -> Result<Money, UnitError> {
        let v = self.notional_wide(price, qty)?;
        i64::try_from(v).map(Money).map_err(|_| UnitError::Overflow("notional"))
    }

    /// Notional as i128, for sums and products that may exceed i64. Overflow is an error.
    pub fn notional_wide(&self, price: Price, qty: Qty) -> Result<i128, UnitError> {
        // Not `ok_or`: that would build and drop the error on every call (see `checked_ops`).
        match (price.0 as i128 * qty.0 as i128).checked_mul(self.tick_lot_value as i128) {
            Some(v) => Ok(v),
            None => Err(UnitError::Overflow("notional")),
        }
    }

    /// Exact price from USD (`71_450.0`). Off-grid or non-positive prices are errors.
    pub fn price(&self, usd: f64) -> Result<Price, UnitError> {
        let d = decimal_of_f64("price", usd)?;
        let p = scaled_to_grid("price", &d, MICROS_PER_USD, self.tick_micros)?;
        if p <= 0 {
            return Err(UnitError::NotPositive { what: "price", value: d.text });
        }
        Ok(Price(p))
    }

    /// Exact price from a decimal string (`"71450.1"`).
    pub fn parse_price(&self, text: &str) -> Result<Price, UnitError> {
        let d = parse_decimal("price", text)?;
        let p = scaled_to_grid("price", &d, MICROS_PER_USD, self.tick_micros)?;
        if p <= 0 {
            return Err(UnitError::NotPositive { what: "price", value: d.text });
        }
        Ok(Price(p))
    }

    /// Exact quantity from BTC (`0.001`). Off-grid quantities are errors; the sign is kept.
    pub fn qty(&self, btc: f64) -> Result<Qty, UnitError> {
        let d = decimal_of_f64("quantity", btc)?;
        scaled_to_grid("quantity", &d, SATS_PER_BTC, self.lot_sats).map(Qty)
    }

    /// Exact quantity from a decimal string of BTC.
    pub fn parse_qty(&self, text: &str) -> Result<Qty, UnitError> {
        let d = parse_decimal("quantity", text)?;
        scaled_to_grid("quantity", &d, SATS_PER_BTC, self.lot_sats).map(Qty)
    }

    /// Exact money from USD (`1_535_443.01`); must be a whole number of micro-USD.
    pub fn money(&self, usd: f64) -> Result<Money, UnitError> {
        money_from_usd(usd)
    }

    /// Price in USD as an exact decimal string.
    pub fn price_string(&self, price: Price) -> String {
        format_scaled(price.0 as i128 * self.tick_micros as i128, MICROS_PER_USD as i128)
    }
    /// Quantity in BTC as an exact decimal string.
    pub fn qty_string(&self, qty: Qty) -> String {
        format_scaled(qty.0 as i128 * self.lot_sats as i128, SATS_PER_BTC as i128)
    }
    /// Price in USD as a float (reports, agent decisions).
    pub fn price_f64(&self, price: Price) -> f64 {
        price.0 as f64 * self.tick_micros as f64 / MICROS_PER_USD as f64
    }
    /// Quantity in BTC as a float (reports, agent decisions).
    pub fn qty_f64(&self, qty: Qty) -> f64 {
        qty.0 as f64 * self.lot_sats as f64 / SATS_PER_BTC as f64
    }
    /// The price in ticks nearest below (or at) a USD float, for agents that think in floats.
    pub fn price_floor(&self, usd: f64) -> Result<Price, UnitError> {
        let ticks = usd * MICROS_PER_USD as f64 / self.tick_micros as f64;
        float_to_i64("price", ticks.floor()).map(Price)
    }
    /// The price in ticks nearest above (or at) a USD float.
    pub fn price_ceil(&self, usd: f64) -> Result<Price, UnitError> {
        let ticks = usd * MICROS_PER_USD as f64 / self.tick_micros as f64;
        float_to_i64("price", ticks.ceil()).map(Price)
    }
    /// Lots rounded down from a BTC float, for agents that think in floats.
    pub fn qty_floor(&self, btc: f64) -> Result<Qty, UnitError> {
        Qty::floor_of_lots(self.lots_f64(btc))
    }
    /// A BTC float in lots, unrounded: [`Instrument::qty_floor`] is its floor.
    #[inline]
    pub fn lots_f64(&self, btc: f64) -> f64 {
        btc * SATS_PER_BTC as f64 / self.lot_sats as f64
    }
}

impl Qty {
    /// The whole lots at or below `lots`.
    #[inline]
    pub fn floor_of_lots(lots: f64) -> Result<Qty, UnitError> {
        floor_to_i64("quantity", lots).map(Qty)
    }
}

/// Exact money from a USD float; must be a whole number of micro-USD.
pub fn money_from_usd(usd: f64) -> Result<Money, UnitError> {
    let d = decimal_of_f64("money", usd)?;
    scaled_to_grid("money", &d, MICROS_PER_USD, 1).map(Money)
}

/// Exact money from a decimal string of USD (`"10000.5"`); must be a whole number of micro-USD.
pub fn parse_money(text: &str) -> Result<Money, UnitError> {
    let d = parse_decimal("money", text)?;
    scaled_to_grid("money", &d, MICROS_PER_USD, 1).map(Money)
}

/// `float_to_i64(what, x.floor())`, without the call into libm that `floor` is on the baseline
/// x86-64 target (every level a provider quotes takes one): below 2^52 in magnitude the cast
/// truncates exactly, and one less for a negative non-integer is the floor.
#[inline]
fn floor_to_i64(what: &'static str, x: f64) -> Result<i64, UnitError> {
    // False for NaN and the infinities, which take the checked path.
    if x.abs() < (1u64 << 52) as f64 {
        let t = x as i64;
        return Ok(if t as f64 > x { t - 1 } else { t });
    }
    float_to_i64(what, x.floor())
}

fn float_to_i64(what: &'static str, x: f64) -> Result<i64, UnitError> {
    if !x.is_finite() {
        return Err(UnitError::NotFinite { what, value: x.to_string() });
    }
    // i64::MAX as f64 rounds up to 2^63, so compare strictly.
    if x >= i64::MAX as f64 || x < i64::MIN as f64 {
        return Err(UnitError::OutOfRange { what, value: x.to_string() });
    }
    Ok(x as i64)
}

/// A decimal number held exactly: `digits · 10^-scale`.
#[derive(Debug)]
struct Decimal {
    digits: i128,
    scale: u32,
    text: String,
}

/// The shortest decimal that round-trips to `x` (Rust's `Display` for f64), held exactly. So
/// `71450.1_f64`, which is not exactly 71450.1 in binary, is read as the decimal a person wrote.
fn decimal_of_f64(what: &'static str, x: f64) -> Result<Decimal, UnitError> {
    if !x.is_finite() {
        return Err(UnitError::NotFinite { what, value: x.to_string() });
    }
    parse_decimal(what, &format!("{x}"))
}

fn parse_decimal(what: &'static str, text: &str) -> Result<Decimal, UnitError> {
    let err = |reason| UnitError::Parse { what, text: text.to_string(), reason };
    let t = text.trim().replace('_', "");
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(err("no digits"));
    }
    if !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit()) {
        return Err(err("not a plain decimal number"));
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    let mut digits: i128 = 0;
    for b in int_part.bytes().chain(frac_trimmed.bytes()) {
        digits = digits
            .checked_mul(10)
            .and_then(|d| d.checked_add((b - b'0') as i128))
            .ok_or_else(|| UnitError::OutOfRange { what, value: text.to_string() })?;
    }
    let scale = u32::try_from(frac_trimmed.len()).map_err(|_| err("too many digits"))?;
    if scale > 30 {
        return Err(err("too many decimal places"));
    }
    Ok(Decimal { digits: if neg { -digits } else { digits }, scale, text: text.to_string() })
}

/// Scale `d` by `unit` (sub-units per whole unit, a power of ten) and divide by `step` sub-units;
/// the result must be an exact integer that fits in i64.
fn scaled_to_grid(what: &'static str, d: &Decimal, unit: i64, step: i64) -> Result<i64, UnitError> {
    let pow =
        10i128.checked_pow(d.scale).ok_or_else(|| UnitError::OutOfRange { what, value: d.text.clone() })?;
    let num = d
        .digits
        .checked_mul(unit as i128)
        .ok_or_else(|| UnitError::OutOfRange { what, value: d.text.clone() })?;
    let den = pow * step as i128;
    if num % den != 0 {
        return Err(UnitError::OffGrid {
            what,
            value: d.text.clone(),
            step: format_scaled(step as i128, unit as i128),
        });
    }
    i64::try_from(num / den).map_err(|_| UnitError::OutOfRange { what, value: d.text.clone() })
}

/// `value / unit` as an exact decimal string without trailing zeros.
pub fn format_scaled(value: i128, unit: i128) -> String {
    let neg = value < 0;
    let v = value.unsigned_abs();
    let u = unit.unsigned_abs();
    let int = v / u;
    let mut frac = v % u;
    let mut s = String::new();
    if neg && v != 0 {
        s.push('-');
    }
    s.push_str(&int.to_string());
    if frac != 0 {
        s.push('.');
        let mut u = u / 10;
        while frac != 0 && u != 0 {
            let digit = frac / u;
            s.push(char::from(b'0' + digit as u8));
            frac %= u;
            u /= 10;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    proptest! {
        /// The floor without libm is the floor, errors included.
        #[test]
        fn floor_to_i64_is_the_checked_floor(
            x in prop_oneof![
                proptest::num::f64::ANY,
                -1e6f64..1e6,
                (-60i64..60).prop_map(|k| k as f64 / 4.0),
                (40u32..70).prop_map(|k| 2f64.powi(k as i32) - 0.5),
                (40u32..70).prop_map(|k| -(2f64.powi(k as i32)) + 0.5),
            ]
        ) {
            let fast = floor_to_i64("x", x).map_err(|e| e.to_string());
            let slow = float_to_i64("x", x.floor()).map_err(|e| e.to_string());
            prop_assert_eq!(fast, slow, "{}", x);
        }
    }

    #[test]
    fn btcusdt_grid_is_exact() {
        let m = Instrument::btcusdt();
        assert_eq!(m.tick_lot_value(), 100);
        assert_eq!(m.price(71_450.0).unwrap(), Price(714_500));
        assert_eq!(m.price(71_450.1).unwrap(), Price(714_501));
        assert_eq!(m.parse_price("71450.1").unwrap(), Price(714_501));
        assert_eq!(m.qty(0.001).unwrap(), Qty(1));
        assert_eq!(m.qty(-1.5).unwrap(), Qty(-1500));
        assert_eq!(m.price_string(Price(714_501)), "71450.1");
        assert_eq!(m.qty_string(Qty(-1500)), "-1.5");
        // 1 BTC at 71,450 USD = 71,450,000,000 micro-USD.
        assert_eq!(m.notional(Price(714_500), Qty(1000)).unwrap(), Money::usd(71_450));
    }

    #[test]
    fn off_grid_and_nonsense_are_errors() {
        let m = Instrument::btcusdt();
        assert!(matches!(m.price(71_450.05), Err(UnitError::OffGrid { .. })));
        assert!(matches!(m.price(0.0), Err(UnitError::NotPositive { .. })));
        assert!(matches!(m.price(-5.0), Err(UnitError::NotPositive { .. })));
        assert!(matches!(m.price(f64::NAN), Err(UnitError::NotFinite { .. })));
        assert!(matches!(m.price(f64::INFINITY), Err(UnitError::NotFinite { .. })));
        assert!(matches!(m.price(1e30), Err(UnitError::OutOfRange { .. })));
        assert!(matches!(m.qty(0.0005), Err(UnitError::OffGrid { .. })));
        assert!(matches!(m.parse_price("12a"), Err(UnitError::Parse { .. })));
        assert!(matches!(m.parse_price(""), Err(UnitError::Parse { .. })));
        assert!(matches!(money_from_usd(0.0000001), Err(UnitError::OffGrid { .. })));
        assert!(matches!(Instrument::new(0.0, 0.001), Err(UnitError::NotPositive { .. })));
        assert!(matches!(Instrument::new(0.000001, 0.00000001), Err(UnitError::InexactContract { .. })));
        assert!(matches!(m.notional(Price(i64::MAX), Qty(2)), Err(UnitError::Overflow(_))));
        let huge = Instrument::from_units(i64::MAX / 2 * 2, SATS_PER_BTC).unwrap();
        assert!(matches!(huge.notional_wide(Price(i64::MAX), Qty(i64::MAX)), Err(UnitError::Overflow(_))));
        assert!(Money(i64::MAX).checked_add(Money(1)).is_err());
        assert!(Price(i64::MIN).checked_neg().is_err());
    }

    #[test]
    fn rates_convert_exactly() {
        assert_eq!(Rate::from_percent(0.05).unwrap(), Rate(50_000));
        assert_eq!(Rate::from_percent(0.4).unwrap(), Rate(400_000));
        assert_eq!(Rate::from_fraction(0.0002).unwrap(), Rate(20_000));
        assert_eq!(Rate::from_bps(4), Rate(40_000));
        assert_eq!(Rate(50_000).to_fraction_string(), "0.0005");
        assert!(Rate::from_percent(0.0000001).is_err());
    }

    #[test]
    fn format_scaled_is_exact() {
        assert_eq!(format_scaled(-1_500_000, 1_000_000), "-1.5");
        assert_eq!(format_scaled(1, 1_000_000), "0.000001");
        assert_eq!(format_scaled(0, 1_000_000), "0");
        assert_eq!(Money(-1).to_usd_string(), "-0.000001");
    }
}
