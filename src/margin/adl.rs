//! Auto-deleveraging ranking (BitMEX style) and allocation.

use super::error::{MarginError, MarginResult};
use super::formulas::{check_non_negative, check_open, check_price};
use super::ratio::mul_div_floor_u128;
use crate::book::AccountId;
use crate::units::{Instrument, Money, Price, Qty};
use serde::{Deserialize, Serialize};

/// An ADL ranking score as fixed point with [`AdlScore::SCALE`] (1e18) units per 1.0. Totally
/// ordered; higher is deleveraged first.
///
/// Precision: the score is the exact rational `PnL% · EffLev` (or `PnL% / EffLev`) with its
/// magnitude rounded DOWN to 1e-18, from a single division of 256-bit intermediates, so two
/// positions compare in the exact order unless their scores differ by less than 1e-18 (then
/// they tie and the allocation breaks ties by account id).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdlScore(pub i128);

impl AdlScore {
    /// Fixed-point units per 1.0.
    pub const SCALE: i128 = 1_000_000_000_000_000_000;
    pub fn raw(self) -> i128 {
        self.0
    }
}

/// BitMEX ADL score of a position at `mark`:
/// `PnL% = (MarkValue − EntryValue)/|EntryValue|` (= upnl/|cost|, so a short profits when price
/// falls), `EffLev = |MarkValue| / (MarkValue − BankruptValue)` where `MarkValue − BankruptValue`
/// is the equity at mark `margin + upnl` (exact, unrounded bankruptcy value `cost − margin`);
/// score = `PnL% · EffLev` if `PnL% > 0`, else `PnL% / EffLev`.
///
/// If equity ≤ 0 the position is treated as infinitely levered: then PnL% ≤ 0 (margin ≥ 0) and
/// the score is `PnL%/∞ = 0`, the limit as equity falls to 0 (such a position is bankrupt and due
/// for liquidation rather than ADL anyway).
///
/// Errors: flat or inconsistent position, negative margin, non-positive mark, overflow (a score
/// beyond ±1.7e20).
pub fn adl_score(
    inst: &Instrument,
    qty: Qty,
    cost: Money,
    margin: Money,
    mark: Price,
) -> MarginResult<AdlScore> {
    check_open("adl score", qty, cost)?;
    check_non_negative("margin", margin)?;
    check_price("mark price", mark)?;
    let mv = super::formulas::notional(inst, mark, qty)?;
    let upnl = mv - cost.0 as i128;
    let equity = margin.0 as i128 + upnl;
    let abs_mv = mv.unsigned_abs();
    let abs_cost = (cost.0 as i128).unsigned_abs();
    let overflow = || MarginError::Overflow("adl score");
    let scale = AdlScore::SCALE as u128;
    if upnl > 0 {
        // equity ≥ upnl > 0.
        let num = upnl.unsigned_abs() * abs_mv; // < 2^65 · 2^63
        let den = abs_cost * equity.unsigned_abs(); // < 2^63 · 2^65
        let s = mul_div_floor_u128(num, scale, den).ok_or_else(overflow)?;
        Ok(AdlScore(i128::try_from(s).map_err(|_| overflow())?))
    } else if equity <= 0 {
        Ok(AdlScore(0))
    } else {
        let num = upnl.unsigned_abs() * equity.unsigned_abs();
        let den = abs_cost * abs_mv;
        let s = mul_div_floor_u128(num, scale, den).ok_or_else(overflow)?;
        Ok(AdlScore(-i128::try_from(s).map_err(|_| overflow())?))
    }
}

/// The ADL queue order: score descending, ties by account id ascending (deterministic).
pub fn adl_rank(candidates: &mut [(AccountId, Qty, AdlScore)]) {
    candidates.sort_unstable_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
}

/// Choose the counterparties of an ADL of `qty` lots: rank candidates `(account, |size|, score)`
/// by score descending, ties by account id ascending (deterministic), and take their sizes in
/// order until `qty` is covered (the last one partially). Candidates with size ≤ 0 are skipped;
/// `qty ≤ 0` gives nothing. The total allocated is exactly `min(qty, Σ sizes)`.
pub fn adl_allocate(candidates: &[(AccountId, Qty, AdlScore)], qty: Qty) -> Vec<(AccountId, Qty)> {
    let mut order: Vec<(AccountId, Qty, AdlScore)> =
        candidates.iter().filter(|c| c.1.0 > 0).copied().collect();
    adl_rank(&mut order);
    let mut left = qty.0.max(0);
    let mut out = Vec::new();
    for &(id, size, _) in &order {
        if left == 0 {
            break;
        }
        let take = size.0.min(left);
        out.push((id, Qty(take)));
        left -= take;
    }
    out
}
