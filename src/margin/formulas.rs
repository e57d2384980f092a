//! Margin, PnL, liquidation and bankruptcy prices, fees.
//!
//! A position is `qty` (signed lots, long > 0) and `cost` (signed entry notional in micro-USD,
//! the sum of signed fill notionals, so `s·EP = cost` and EP = cost/qty need not be on the tick
//! grid). In isolated mode `wallet`/`margin` is the position's wallet balance; in cross mode the
//! account's whole wallet ([`MarginMode`]).
//!
//! Every price formula is first computed as an exact rational number of ticks ([`Ratio`]) and
//! only then rounded, in the direction that protects the venue.

use super::error::{MarginError, MarginResult};
use super::ratio::{Ratio, add, div_ceil, mul, sub, to_i64};
use super::tiers::{Tier, TierTable};
use crate::units::{Instrument, Money, Price, Qty, RATE_SCALE, Rate};
use serde::{Deserialize, Serialize};

const SCALE: i128 = RATE_SCALE as i128;

pub(crate) fn check_price(what: &'static str, p: Price) -> MarginResult<()> {
    if p.0 <= 0 {
        return Err(MarginError::NonPositivePrice { what, value: p.0 });
    }
    Ok(())
}

pub(crate) fn check_rate(what: &'static str, r: Rate, min: i64, max: i64) -> MarginResult<()> {
    if r.0 < min || r.0 > max {
        return Err(MarginError::RateOutOfRange { what, value: r.0, min, max });
    }
    Ok(())
}

pub(crate) fn check_non_negative(what: &'static str, m: Money) -> MarginResult<()> {
    if m.0 < 0 {
        return Err(MarginError::NegativeMoney { what, value: m.0 });
    }
    Ok(())
}

/// Notional `price · qty` in micro-USD (signed as `qty`), via [`Instrument::notional`] after
/// checking that the product cannot overflow even `i128` (which `Instrument::notional` itself
/// does not check for extreme inputs).
pub(crate) fn notional(inst: &Instrument, price: Price, qty: Qty) -> MarginResult<i128> {
    inst.notional(price, qty).map(|m| m.0 as i128).map_err(|_| MarginError::Overflow("notional"))
}

/// An open position: `qty != 0` and `cost` non-zero with the sign of `qty`.
pub(crate) fn check_open(what: &'static str, qty: Qty, cost: Money) -> MarginResult<()> {
    if qty.0 == 0 {
        return Err(MarginError::ZeroQty(what));
    }
    if cost.0 == 0 || (cost.0 > 0) != (qty.0 > 0) {
        return Err(MarginError::InconsistentPosition { qty: qty.0, cost: cost.0 });
    }
    Ok(())
}

/// A position that may be flat (`qty == 0` requires `cost == 0`).
pub(crate) fn check_position(qty: Qty, cost: Money) -> MarginResult<()> {
    if qty.0 == 0 {
        if cost.0 != 0 {
            return Err(MarginError::InconsistentPosition { qty: qty.0, cost: cost.0 });
        }
        return Ok(());
    }
    check_open("position", qty, cost)
}

/// Initial margin `|notional| / leverage`, rounded UP to the micro-USD. A flat position needs 0.
pub fn initial_margin(inst: &Instrument, qty: Qty, price: Price, leverage: u32) -> MarginResult<Money> {
    if leverage == 0 {
        return Err(MarginError::ZeroLeverage);
    }
    check_price("price", price)?;
    let n = notional(inst, price, qty)?;
    let im = div_ceil(n.abs(), leverage as i128);
    Ok(Money(to_i64(im, "initial margin")?))
}

/// Maintenance margin `|s|·mark·MMR − cum` of `tier`, rounded UP to the micro-USD.
///
/// A flat position needs 0 (the formula would give `−cum`; that is the only clamp). For an open
/// position the formula is negative only if its notional is below the floor of `tier`, which
/// [`TierTable::tier_for`] never returns: that is [`MarginError::NotionalBelowTier`].
pub fn maintenance_margin(inst: &Instrument, tier: &Tier, qty: Qty, mark: Price) -> MarginResult<Money> {
    check_price("mark price", mark)?;
    check_rate("maintenance margin rate", tier.mmr, 0, RATE_SCALE)?;
    check_non_negative("tier cum", tier.cum)?;
    if qty.0 == 0 {
        return Ok(Money::ZERO);
    }
    let n = notional(inst, mark, qty)?.abs();
    let x = sub(
        mul(n, tier.mmr.0 as i128, "maintenance margin")?,
        mul(tier.cum.0 as i128, SCALE, "maintenance margin")?,
        "maintenance margin",
    )?;
    let mm = div_ceil(x, SCALE);
    if mm < 0 {
        return Err(MarginError::NotionalBelowTier);
    }
    Ok(Money(to_i64(mm, "maintenance margin")?))
}

/// Maintenance margin with the tier chosen by the notional at `mark`.
pub fn maintenance_margin_tiered(
    inst: &Instrument,
    table: &TierTable,
    qty: Qty,
    mark: Price,
) -> MarginResult<Money> {
    check_price("mark price", mark)?;
    let n = notional(inst, mark, qty)?;
    let n = Money(to_i64(n, "notional")?);
    maintenance_margin(inst, table.tier_for(n), qty, mark)
}

/// Unrealised PnL `qty·mark − cost`, exact.
pub fn unrealized_pnl(inst: &Instrument, qty: Qty, cost: Money, mark: Price) -> MarginResult<Money> {
    check_price("mark price", mark)?;
    check_position(qty, cost)?;
    let v = sub(notional(inst, mark, qty)?, cost.0 as i128, "unrealized pnl")?;
    Ok(Money(to_i64(v, "unrealized pnl")?))
}

/// How an account's position is margined. The simulator trades one instrument, so an account
/// holds at most one position and the modes differ only in what backs it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MarginMode {
    /// The position is backed by the margin posted for it alone; the free balance is out of
    /// reach of its losses.
    #[default]
    Isolated,
    /// The position is backed by the account's whole wallet: free balance and posted margin
    /// (Binance cross margin with no other position).
    Cross,
}

impl MarginMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MarginMode::Isolated => "isolated",
            MarginMode::Cross => "cross",
        }
    }
}

/// The other positions of a cross account, as Binance's cross formula takes them: their total
/// maintenance margin (TMM1) and unrealised PnL (UPNL1). An account of this simulator holds one
/// position, so the engine passes none (`CrossOthers::default()`); the fields are there for the
/// formula's published test vectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossOthers {
    pub maintenance: Money,
    pub upnl: Money,
}

/// The exact (unrounded) Binance isolated liquidation price in ticks:
/// `LP = (WB + cum − s·EP) / (|s|·MMR − s)`, i.e. the price at which
/// `wallet + qty·p − cost == |qty|·p·mmr − cum`. May be ≤ 0 (no liquidation price).
///
/// Errors: `qty == 0`, `cost` inconsistent with `qty`, `mmr` outside `0..1` (exclusive of 1),
/// negative `cum` or `wallet`.
pub fn liquidation_price_exact(
    inst: &Instrument,
    mmr: Rate,
    cum: Money,
    qty: Qty,
    cost: Money,
    wallet: Money,
) -> MarginResult<Ratio> {
    check_non_negative("wallet balance", wallet)?;
    lp_exact(inst, mmr, cum, qty, cost, wallet.0 as i128)
}

/// The exact Binance cross liquidation price of one position in ticks:
/// `LP = (WB − TMM1 + UPNL1 + cum − s·EP) / (|s|·MMR − s)`, with `wallet` the whole wallet
/// balance (WB) and `others` the other positions' maintenance (TMM1) and unrealised PnL (UPNL1).
/// With no other position it is the isolated formula with the whole wallet as the margin.
///
/// Errors: as [`liquidation_price_exact`]; the wallet must not be negative, the other positions'
/// maintenance neither (their PnL may be).
pub fn liquidation_price_cross_exact(
    inst: &Instrument,
    mmr: Rate,
    cum: Money,
    qty: Qty,
    cost: Money,
    wallet: Money,
    others: CrossOthers,
) -> MarginResult<Ratio> {
    lp_exact(inst, mmr, cum, qty, cost, cross_backing(wallet, others)?)
}

/// `WB − TMM1 + UPNL1`: what stands behind one position of a cross account.
fn cross_backing(wallet: Money, others: CrossOthers) -> MarginResult<i128> {
    check_non_negative("wallet balance", wallet)?;
    check_non_negative("other positions' maintenance", others.maintenance)?;
    Ok(wallet.0 as i128 - others.maintenance.0 as i128 + others.upnl.0 as i128)
}

/// The liquidation price with `backing` (micro-USD, any sign) standing behind the position.
fn lp_exact(
    inst: &Instrument,
    mmr: Rate,
    cum: Money,
    qty: Qty,
    cost: Money,
    backing: i128,
) -> MarginResult<Ratio> {
    check_open("liquidation price", qty, cost)?;
    check_rate("maintenance margin rate", mmr, 0, RATE_SCALE - 1)?;
    check_non_negative("cum", cum)?;
    const W: &str = "liquidation price";
    let v = inst.tick_lot_value() as i128;
    let q = qty.0 as i128;
    let num = mul(sub(add(backing, cum.0 as i128, W)?, cost.0 as i128, W)?, SCALE, W)?;
    let den = mul(v, sub(mul(q.abs(), mmr.0 as i128, W)?, mul(q, SCALE, W)?, W)?, W)?;
    Ratio::new(num, den)
}

/// Round an exact liquidation price conservatively: a long UP (liquidated no later than the
/// exact price), a short DOWN. `None` when a long has no positive liquidation price (it is fully
/// collateralised). A short's exact price is always positive; if it is below one tick there is no
/// tick on the conservative side and that is [`MarginError::NoPositivePrice`].
fn round_liquidation(qty: Qty, lp: Ratio) -> MarginResult<Option<Price>> {
    if qty.0 > 0 {
        if !lp.is_positive() {
            return Ok(None);
        }
        Ok(Some(Price(to_i64(lp.ceil(), "liquidation price")?)))
    } else {
        let p = lp.floor();
        if p < 1 {
            return Err(MarginError::NoPositivePrice("short liquidation price"));
        }
        Ok(Some(Price(to_i64(p, "liquidation price")?)))
    }
}

/// Binance isolated liquidation price for one tier (`mmr`, `cum`), rounded to the tick: long UP,
/// short DOWN. `None` when a long has no positive liquidation price.
pub fn liquidation_price(
    inst: &Instrument,
    mmr: Rate,
    cum: Money,
    qty: Qty,
    cost: Money,
    wallet: Money,
) -> MarginResult<Option<Price>> {
    let lp = liquidation_price_exact(inst, mmr, cum, qty, cost, wallet)?;
    round_liquidation(qty, lp)
}

/// The tier index of the exact notional at an exact price (≤ 0 counts as notional 0).
fn tier_index_at(inst: &Instrument, table: &TierTable, qty: Qty, lp: Ratio) -> usize {
    if !lp.is_positive() {
        return table.tier_index_for(Money::ZERO);
    }
    // |qty| · tick_lot_value < 2^126: cannot overflow.
    let lot_value = (qty.0 as i128).abs() * inst.tick_lot_value() as i128;
    table.tier_index_at_price(lp, lot_value)
}

/// The exact tiered liquidation price (see [`liquidation_price_tiered`]).
pub fn liquidation_price_tiered_exact(
    inst: &Instrument,
    table: &TierTable,
    qty: Qty,
    cost: Money,
    wallet: Money,
) -> MarginResult<Ratio> {
    check_non_negative("wallet balance", wallet)?;
    tiered_exact(inst, table, qty, cost, wallet.0 as i128)
}

/// The exact tiered cross liquidation price (see [`liquidation_price_cross_tiered`]).
pub fn liquidation_price_cross_tiered_exact(
    inst: &Instrument,
    table: &TierTable,
    qty: Qty,
    cost: Money,
    wallet: Money,
    others: CrossOthers,
) -> MarginResult<Ratio> {
    tiered_exact(inst, table, qty, cost, cross_backing(wallet, others)?)
}

/// The tier search of the liquidation price, with `backing` standing behind the position.
fn tiered_exact(
    inst: &Instrument,
    table: &TierTable,
    qty: Qty,
    cost: Money,
    backing: i128,
) -> MarginResult<Ratio> {
    check_open("liquidation price", qty, cost)?;
    let tiers = table.tiers();
    let at = |i: usize| {
        let t = &tiers[i];
        lp_exact(inst, t.mmr, t.cum, qty, cost, backing)
    };
    let mut idx = table.tier_index_for(cost);
    for _ in 0..=tiers.len() {
        let lp = at(idx)?;
        let next = tier_index_at(inst, table, qty, lp);
        if next == idx {
            return Ok(lp);
        }
        idx = next;
    }
    // Did not settle (possible only at a boundary or with rounded `cum`s): take the most
    // conservative of all tiers' prices — the highest for a long, the lowest for a short. Because
    // tiered maintenance is the upper envelope of the tiers' lines, that is also the exact answer.
    let mut best = at(0)?;
    for i in 1..tiers.len() {
        let lp = at(i)?;
        let lp_gt_best =
            mul(lp.num(), best.den(), "tier compare")? > mul(best.num(), lp.den(), "tier compare")?;
        if lp_gt_best == (qty.0 > 0) {
            best = lp;
        }
    }
    Ok(best)
}

/// Binance isolated liquidation price with tiers: start from the tier of the entry notional
/// (`|cost|`); if the exact LP's notional `|s|·LP` lies in another tier, recompute with that tier,
/// until stable (at most one pass per tier). If it does not settle, the most conservative price
/// over all tiers is used (highest for a long, lowest for a short). Rounded like
/// [`liquidation_price`]: long UP, short DOWN; `None` for a fully collateralised long.
pub fn liquidation_price_tiered(
    inst: &Instrument,
    table: &TierTable,
    qty: Qty,
    cost: Money,
    wallet: Money,
) -> MarginResult<Option<Price>> {
    let lp = liquidation_price_tiered_exact(inst, table, qty, cost, wallet)?;
    round_liquidation(qty, lp)
}

/// Binance cross liquidation price with tiers, rounded like [`liquidation_price_tiered`]: the
/// same tier search, with `WB − TMM1 + UPNL1` standing behind the position instead of its
/// isolated margin. A cross account of this simulator passes its whole wallet and no others.
pub fn liquidation_price_cross_tiered(
    inst: &Instrument,
    table: &TierTable,
    qty: Qty,
    cost: Money,
    wallet: Money,
    others: CrossOthers,
) -> MarginResult<Option<Price>> {
    let lp = liquidation_price_cross_tiered_exact(inst, table, qty, cost, wallet, others)?;
    round_liquidation(qty, lp)
}

/// The exact bankruptcy price in ticks: where `margin + qty·p − cost == 0`.
pub fn bankruptcy_price_exact(
    inst: &Instrument,
    qty: Qty,
    cost: Money,
    margin: Money,
) -> MarginResult<Ratio> {
    check_open("bankruptcy price", qty, cost)?;
    check_non_negative("margin", margin)?;
    const W: &str = "bankruptcy price";
    let num = sub(cost.0 as i128, margin.0 as i128, W)?;
    let den = mul(qty.0 as i128, inst.tick_lot_value() as i128, W)?;
    Ratio::new(num, den)
}

/// Bankruptcy price, where margin + upnl = 0: long `EP − margin/|s|` rounded UP to the tick,
/// short `EP + margin/|s|` rounded DOWN, so closing there never leaves the position negative.
///
/// A long whose margin covers its whole cost would go bankrupt at ≤ 0; it is clamped to 1 tick
/// (the lowest price that can trade; closing there leaves equity ≥ 0). A short's price is
/// `(margin + |cost|)/|s|`; if it floors below one tick (entry below one tick, impossible for a
/// position built from real fills) it is [`MarginError::NoPositivePrice`].
pub fn bankruptcy_price(inst: &Instrument, qty: Qty, cost: Money, margin: Money) -> MarginResult<Price> {
    let bp = bankruptcy_price_exact(inst, qty, cost, margin)?;
    if qty.0 > 0 {
        Ok(Price(to_i64(bp.ceil().max(1), "bankruptcy price")?))
    } else {
        let p = bp.floor();
        if p < 1 {
            return Err(MarginError::NoPositivePrice("short bankruptcy price"));
        }
        Ok(Price(to_i64(p, "bankruptcy price")?))
    }
}

/// Bybit isolated liquidation price, which takes maintenance at ENTRY value:
/// `LP_long = EP − (IM − MM)/size − extra/size`, `LP_short = EP + (IM − MM)/size + extra/size`,
/// `IM = value/leverage`, `MM = value·mmr − deduction`, `value = |s|·EP`. Exact, then rounded:
/// long UP, short DOWN. `None` for a long whose price would be ≤ 0.
pub fn bybit_liquidation_price(
    inst: &Instrument,
    qty: Qty,
    entry: Price,
    leverage: u32,
    mmr: Rate,
    deduction: Money,
    extra_margin: Money,
) -> MarginResult<Option<Price>> {
    if qty.0 == 0 {
        return Err(MarginError::ZeroQty("bybit liquidation price"));
    }
    check_price("entry price", entry)?;
    if leverage == 0 {
        return Err(MarginError::ZeroLeverage);
    }
    check_rate("maintenance margin rate", mmr, 0, RATE_SCALE - 1)?;
    check_non_negative("deduction", deduction)?;
    check_non_negative("extra margin", extra_margin)?;
    const W: &str = "bybit liquidation price";
    let l = leverage as i128;
    let value = notional(inst, entry, qty)?.abs();
    // (IM − MM + extra) · L · 1e8, in micro-USD
    let offset = add(
        sub(mul(value, SCALE, W)?, mul(mul(value, mmr.0 as i128, W)?, l, W)?, W)?,
        mul(mul(add(deduction.0 as i128, extra_margin.0 as i128, W)?, l, W)?, SCALE, W)?,
        W,
    )?;
    // Everything over den = L · 1e8 · |s| · V (micro-USD per tick).
    let den = mul(mul(l, SCALE, W)?, mul((qty.0 as i128).abs(), inst.tick_lot_value() as i128, W)?, W)?;
    let ep = mul(entry.0 as i128, den, W)?;
    if qty.0 > 0 {
        let lp = Ratio::new(sub(ep, offset, W)?, den)?;
        round_liquidation(qty, lp)
    } else {
        let lp = Ratio::new(add(ep, offset, W)?, den)?;
        round_liquidation(qty, lp)
    }
}

/// Trading or liquidation (clearance) fee `|notional|·rate`, rounded UP to the micro-USD (the
/// venue never undercharges). `rate` must be in `0..=100%`.
pub fn fee(notional: Money, rate: Rate) -> MarginResult<Money> {
    check_rate("fee rate", rate, 0, RATE_SCALE)?;
    let x = mul((notional.0 as i128).abs(), rate.0 as i128, "fee")?;
    Ok(Money(to_i64(div_ceil(x, SCALE), "fee")?))
}
