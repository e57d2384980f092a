//! Market makers in the world: a [`MarketMaker`] component on a trader entity, and the Decide
//! system that turns [`maker::desired_ladder`] into agent actions (keeping the orders that are
//! already where they should be).

use super::orders::{AgentAction, AgentOrders};
use super::{Hunter, Market, Trader};
use crate::agents::hunter::{HunterParams, Phase};
use crate::agents::maker::{self, MakerParams, MakerState, Quote};
use crate::book::OrderKind;
use crate::units::{Instrument, Money, Price, Qty, Side};
use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

/// A market maker of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MakerConfig {
    pub deposit: Money,
    pub leverage: u32,
    pub quoting: MakerParams,
    /// A hunting maker's campaign (`None`: it only quotes).
    #[serde(default)]
    pub hunting: Option<HunterParams>,
}

impl Default for MakerConfig {
    /// $50M at 10x: ample for the default 20 BTC inventory cap; it does not hunt.
    fn default() -> MakerConfig {
        MakerConfig {
            deposit: Money::usd(50_000_000),
            leverage: 10,
            quoting: MakerParams::default(),
            hunting: None,
        }
    }
}

/// A market maker's parameters and memory.
#[derive(Component, Debug, Clone)]
pub struct MarketMaker {
    pub params: MakerParams,
    pub state: MakerState,
}

/// Converts a desired quote onto the grid: bids round down, asks up; sizes floor to lots.
pub(super) fn on_grid(inst: &Instrument, q: &Quote) -> Option<(Side, Price, Qty)> {
    let price = match q.side {
        Side::Buy => inst.price_floor(q.price_usd).ok()?,
        Side::Sell => inst.price_ceil(q.price_usd).ok()?,
    };
    let qty = inst.qty_floor(q.size_btc).ok()?;
    (price.is_positive() && qty.is_positive()).then_some((q.side, price, qty))
}

/// Brings the ladder orders (tag [`LADDER`]) of `orders` to `want`: those already at a wanted
/// (side, price) are resized if needed and kept; the rest are cancelled; missing levels are
/// placed post-only. A hunting maker's campaign orders (other tags) are left alone.
pub(super) fn reconcile(market: &Market, orders: &mut AgentOrders, want: &[(Side, Price, Qty)]) {
    let book = market.0.book();
    let mut matched = vec![false; want.len()];
    let live = std::mem::take(&mut orders.live);
    for o in live.iter().filter(|o| o.tag == LADDER) {
        let slot = want.iter().enumerate().position(|(i, w)| !matched[i] && w.0 == o.side && w.1 == o.price);
        match slot {
            Some(i) => {
                matched[i] = true;
                let have = book.order(o.id).map(|r| r.qty).unwrap_or(Qty::ZERO);
                if have != want[i].2 {
                    orders.push(AgentAction::Resize { id: o.id, by: want[i].2.0 - have.0 });
                }
            }
            None => orders.push(AgentAction::Cancel(o.id)),
        }
    }
    orders.live = live;
    for (i, &(side, price, qty)) in want.iter().enumerate() {
        if !matched[i] {
            orders.place(side, OrderKind::PostOnly, price, qty, LADDER);
        }
    }
}

/// The tag of a maker's ladder orders.
pub(super) const LADDER: u64 = 0;
/// The tag of a campaign's resting orders (support and feed quotes), which a hunting maker's
/// ladder leaves alone.
pub(super) const CAMPAIGN: u64 = 1;

/// What a maker quotes given its campaign, if it hunts: its ladder when it has none; while it
/// pushes, its ladder leaned toward the push ([`maker::leaned_ladder`]); while it feeds or
/// unwinds, nothing of its own (its campaign's quotes and orders work the book).
fn ladder(mm: &MarketMaker, hunter: Option<&Hunter>, mid: f64, position_btc: f64) -> Vec<Quote> {
    let Some((h, c)) = hunter.and_then(|h| h.state.current().map(|c| (h, c))) else {
        return maker::desired_ladder(&mm.params, &mm.state, mid);
    };
    if h.state.phase != Phase::Push || mid <= 0.0 {
        return Vec::new();
    }
    let d = c.direction;
    let inventory_usd = position_btc * d.sign() * mid;
    let room_usd = (h.params.budget_usd - c.spent_usd).min(h.params.max_inventory_usd - inventory_usd);
    // What its campaign takes this tick comes out of the same room.
    let take_usd = h.params.pace_usd_per_tick.min(room_usd).max(0.0);
    maker::leaned_ladder(&mm.params, mid, d.taker_side(), (room_usd - take_usd) / mid)
}

/// Each maker updates its windows from the mid and its position, then re-quotes its ladder.
pub(super) fn quote_makers(
    market: Res<Market>,
    mut makers: Query<(&Trader, &mut MarketMaker, &mut AgentOrders, Option<&Hunter>)>,
    mut want: Local<Vec<(Side, Price, Qty)>>,
) {
    let ex = &market.0;
    let inst = *ex.instrument();
    let mid = inst.price_f64(ex.book().mid().unwrap_or(ex.last()));
    for (trader, mut mm, mut orders, hunter) in makers.iter_mut() {
        let position =
            ex.ledger().account(trader.account).map(|a| inst.qty_f64(a.position.qty)).unwrap_or(0.0);
        let mm = &mut *mm;
        mm.state.observe(&mm.params, mid, position);
        want.clear();
        want.extend(ladder(mm, hunter, mid, position).iter().filter_map(|q| on_grid(&inst, q)));
        reconcile(&market, &mut orders, &want);
    }
}
