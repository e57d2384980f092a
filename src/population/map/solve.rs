//! The solve of one map account: the entry and the margin that put its liquidation price exactly
//! on its target tick.
//!
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
//!
//! A cross account's wallet `W` backs its position: the margin it posts, `q·E/λ`, and beside it a
//! reserve of `r` times that (the holders' reserve fraction). Its entry is solved as above with
//! `λ/(1 + r)` in place of `λ`, so that `W = (1 + r)·q·E/λ` lands the liquidation price on `L`;
//! then `W` is solved exactly the same way, the margin posted is the initial margin at `λ`, and
//! the reserve is the rest of `W`.

use super::PositionSide;
use crate::margin::{self, TierTable};
use crate::units::{Instrument, Money, Price, Qty, RATE_SCALE};

const SCALE: i128 = RATE_SCALE as i128;

/// What backs a map position.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Backing {
    /// Its margin alone (isolated).
    Margin,
    /// Its whole wallet: the posted margin and a reserve of `reserve_fraction` of it (cross).
    Wallet { reserve_fraction: f64 },
}

/// A map position to solve: `q` lots on `side` liquidating at tick `liq` (within `band`), at
/// leverage `lev` or the tier maximum at its entry notional if lower.
pub(super) struct Wanted {
    pub side: PositionSide,
    pub liq: i64,
    pub q: i64,
    pub lev: u32,
    pub band: (i64, i64),
    pub backing: Backing,
}

/// Why a map position cannot be solved.
pub(super) enum Unsolved {
    /// A long so large that its entry notional falls in a tier whose maximum leverage leaves it
    /// no liquidation price (1x, or what a cross wallet covers).
    TooLarge {
        entry_notional: Money,
        max: u32,
    },
    Other(String),
}

impl From<String> for Unsolved {
    fn from(reason: String) -> Self {
        Unsolved::Other(reason)
    }
}

impl From<&str> for Unsolved {
    fn from(reason: &str) -> Self {
        Unsolved::Other(reason.into())
    }
}

/// One solved map position.
pub(super) struct Solved {
    pub entry: i64,
    pub cost: i64,
    /// Margin posted for the position.
    pub margin: i64,
    /// Of a cross account, the rest of the solved wallet beside the margin (0 when isolated).
    pub reserve: i64,
    pub leverage: u32,
    pub liq: i64,
}

fn floor_div(a: i128, b: i128) -> i128 {
    a.div_euclid(b)
}
fn ceil_div(a: i128, b: i128) -> i128 {
    -((-a).div_euclid(b))
}

/// Solves entry and margin (and a cross account's reserve) so that the position `w` describes
/// liquidates on its tick.
pub(super) fn solve(inst: &Instrument, tiers: &TierTable, w: &Wanted) -> Result<Solved, Unsolved> {
    let Wanted { side, liq, q, lev, band: (lo, hi), backing } = *w;
    // Wallet per unit of posted margin.
    let wallet_per_margin = match backing {
        Backing::Margin => 1.0,
        Backing::Wallet { reserve_fraction } => 1.0 + reserve_fraction,
    };
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
        let l = lev as f64 / wallet_per_margin;
        let e = match side {
            PositionSide::Long => ((liq as f64 * (1.0 - m) + c) / (1.0 - 1.0 / l)).ceil(),
            PositionSide::Short => ((liq as f64 * (1.0 + m) - c) / (1.0 + 1.0 / l)).floor(),
        };
        if !(e.is_finite() && e >= 1.0 && e < (i64::MAX / 4) as f64) {
            return Err(
                format!("no positive entry price for a {lev}x position liquidating at tick {liq}").into()
            );
        }
        entry = e as i64;
        let entry_notional = entry as i128 * q as i128 * v;
        let max =
            tiers.max_leverage_for(Money(i64::try_from(entry_notional).map_err(|_| "notional overflows")?));
        if lev <= max {
            break;
        }
        if side == PositionSide::Long && max as f64 <= wallet_per_margin {
            // Its entry notional is in a tier whose leverage leaves a long no liquidation price.
            return Err(Unsolved::TooLarge { entry_notional: Money(entry_notional as i64), max });
        }
        lev = max;
    }
    if side == PositionSide::Long && lev as f64 <= wallet_per_margin {
        return Err(Unsolved::Other(match backing {
            Backing::Margin => "a long at 1x has no liquidation price (the tier maximum forced 1x)".into(),
            Backing::Wallet { .. } => format!(
                "a cross long at {lev}x whose wallet is {wallet_per_margin} times its margin has no liquidation price"
            ),
        }));
    }
    let sign = side.sign();
    let cost = sign as i128 * entry as i128 * q as i128 * v;
    let qty = Qty(sign * q);
    let cost_m = Money(i64::try_from(cost).map_err(|_| "cost overflows")?);
    let lot_value = liq as i128 * q as i128 * v;
    // Its own tier first, then the ones either side (no allocation: a map solves one per account).
    let above = (t0 + 1 < rows.len()).then_some(t0 + 1);
    let below = t0.checked_sub(1);
    for t in [Some(t0), above, below].into_iter().flatten() {
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
                let (margin, reserve) = match backing {
                    Backing::Margin => (w, 0),
                    Backing::Wallet { .. } => {
                        let im = margin::initial_margin(inst, qty, Price(entry), lev)
                            .map_err(|e| format!("initial margin: {e}"))?;
                        let posted = im.0.min(w);
                        (posted, w - posted)
                    }
                };
                return Ok(Solved { entry, cost: cost as i64, margin, reserve, leverage: lev, liq: p.0 });
            }
            _ => continue,
        }
    }
    Err(format!(
        "no margin puts a {q}-lot {lev}x position entered at tick {entry} into ticks {lo}..={hi} (target {liq})"
    )
    .into())
}
