//! The map holders' stop-losses: for each band that asks for them, which of its accounts hold
//! one and where it sits (see [`StopLoss`]).

use super::config::{PositionSide, StopDistance, StopLoss};
use super::{MapPlan, Role, SeededMap};
use crate::book::{AccountId, TriggerSource};
use crate::units::{Price, Qty, Side};
use rand::{Rng, RngExt};

/// One holder's stop-loss: a reduce-only stop-market order for its whole position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeededStop {
    pub account: AccountId,
    /// The closing side (`Sell` for a long).
    pub side: Side,
    pub trigger: Price,
    pub source: TriggerSource,
    pub qty: Qty,
}

/// Draws the stop-losses of the map accounts in `seeded` whose bands carry a [`StopLoss`]: per
/// account, whether it holds one (with the band's share) and its distance (uniform in the band's
/// range). Each stop lies on the tick grid, at least one tick in front of the plan's price; the
/// plan is already in ticks, so nothing is converted here.
///
/// Draws come only from `rng` and only for bands with stop-losses, so a map without them draws
/// nothing, and giving a band stops changes no other draw of the run when `rng` is a stream of
/// its own.
pub fn draw_stops(plan: &MapPlan, seeded: &SeededMap, rng: &mut impl Rng) -> Vec<SeededStop> {
    if plan.bands.iter().all(|b| b.stop_loss.is_none()) {
        return Vec::new();
    }
    let price = plan.price.0;
    let mut out = Vec::new();
    for a in seeded.accounts.iter().filter(|a| a.role == Role::Map) {
        let Some(StopLoss { share, distance, trigger }) =
            a.band.and_then(|i| plan.bands[i].stop_loss.as_ref())
        else {
            continue;
        };
        let (held, at) = (rng.random::<f64>(), rng.random::<f64>());
        if held >= *share {
            continue;
        }
        let (low, high) = distance.range_pct();
        let d = (low + at * (high - low)) / 100.0;
        let toward_price = match a.side {
            PositionSide::Long => 1.0,
            PositionSide::Short => -1.0,
        };
        let target = match distance {
            StopDistance::BeforeLiquidation { .. } => {
                let Some(liq) = a.liquidation_price else { continue };
                liq.0 as f64 * (1.0 + toward_price * d)
            }
            StopDistance::FromPrice { .. } => price as f64 * (1.0 - toward_price * d),
        };
        let tick = match a.side {
            PositionSide::Long => (target.round() as i64).min(price - 1),
            PositionSide::Short => (target.round() as i64).max(price + 1),
        };
        if tick < 1 {
            continue;
        }
        out.push(SeededStop {
            account: a.account,
            side: if a.side == PositionSide::Long { Side::Sell } else { Side::Buy },
            trigger: Price(tick),
            source: *trigger,
            qty: a.qty.abs(),
        });
    }
    out
}
