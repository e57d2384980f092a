//! Resting-order management shared by every quoting agent (liquidity provider, background
//! traders, market makers, hunters).
//!
//! An agent decides in the Decide set by pushing [`AgentAction`]s onto its [`AgentOrders`]
//! component, reading the market through `Res<Market>`; [`execute_agent_orders`] carries them out
//! in the Match set, in entity order, and keeps `live` in step with the book, so agents know
//! their order ids without ever touching the exchange themselves.

use super::messages::Publisher;
use super::{AccountEntities, Halt, Market, Trader};
use crate::book::{AccountId, OrderId, OrderKind};
use crate::engine::{OrderRequest, Submitted};
use crate::units::{Price, Qty, Side};
use bevy_ecs::prelude::*;

/// One resting order of an agent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveOrder {
    pub id: OrderId,
    pub side: Side,
    /// Its price as placed; for an order placed by [`AgentAction::PlaceSliding`], the price of
    /// its level, wherever it rests.
    pub price: Price,
    /// Whatever the agent wants to remember with it (a ladder level, an expiry tick, ...).
    pub tag: u64,
}

/// What an agent wants done with its orders this tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AgentAction {
    /// Send an order; if any of it rests it joins `live` with `tag`.
    Place {
        side: Side,
        kind: OrderKind,
        price: Price,
        qty: Qty,
        reduce_only: bool,
        tag: u64,
    },
    Cancel(OrderId),
    /// Change a resting order's size by `by` lots at its price, on top of whatever has traded
    /// since the decision: a refill adds to what is left rather than restoring what a taker
    /// took this tick (a size decided before the tick's trading and set afterwards would make
    /// a level that is hit every tick as deep as the taker wants). At zero or below it is
    /// cancelled; an order already gone is left alone.
    Resize {
        id: OrderId,
        by: i64,
    },
    /// Cancel every live order of the agent.
    CancelAll,
    /// A post-only order for the level at `price` that slides: if the opposite touch is at or
    /// through `price`, it rests one tick behind that touch instead. It joins `live` under
    /// `price`, its level, wherever it rests.
    PlaceSliding {
        side: Side,
        price: Price,
        qty: Qty,
    },
    /// Moves a resting order of the level at `price` (placed by [`AgentAction::PlaceSliding`])
    /// back toward that price, as far as the opposite touch now allows: one tick behind it.
    Repeg {
        id: OrderId,
        side: Side,
        price: Price,
    },
}

/// Where a post-only order for `price` on `side` rests without crossing `opposite` (the other
/// side's best): at `price`, or one tick behind the touch that has moved through it (`None`:
/// no positive price is).
fn slide(side: Side, price: Price, opposite: Option<Price>) -> Option<Price> {
    let at = match (side, opposite) {
        (Side::Buy, Some(ask)) if price >= ask => Price(ask.0 - 1),
        (Side::Sell, Some(bid)) if price <= bid => Price(bid.0 + 1),
        _ => price,
    };
    at.is_positive().then_some(at)
}

/// An agent's order book presence: its resting orders and this tick's decisions.
#[derive(Component, Debug, Default, Clone)]
pub struct AgentOrders {
    /// Resting orders as of the start of this tick's Decide (filled ones are pruned).
    pub live: Vec<LiveOrder>,
    pub pending: Vec<AgentAction>,
    /// The placements of the last tick's actions that neither rested nor traded (a post-only
    /// order that would have crossed, an order refused): side and price. Never in `live`, and
    /// nothing was taken from them.
    pub refused: Vec<(Side, Price)>,
}

impl AgentOrders {
    pub fn push(&mut self, action: AgentAction) {
        self.pending.push(action);
    }

    /// Quotes a limit order (`kind` decides GTC or post-only).
    pub fn place(&mut self, side: Side, kind: OrderKind, price: Price, qty: Qty, tag: u64) {
        self.pending.push(AgentAction::Place { side, kind, price, qty, reduce_only: false, tag });
    }

    pub fn live_on(&self, side: Side) -> impl Iterator<Item = &LiveOrder> {
        self.live.iter().filter(move |o| o.side == side)
    }
}

/// Drops from `live` the orders that have left the book since the agent last looked (filled,
/// expired by self-trade prevention, cancelled by a liquidation). First in Decide.
///
/// The exchange names the orders that left and their owners, so only those agents' lists are
/// touched, and no live order is looked up in the book: what is left is exactly the live orders
/// still resting, in the order they were placed.
pub(super) fn prune_agent_orders(
    mut market: ResMut<Market>,
    entities: Res<AccountEntities>,
    mut agents: Query<&mut AgentOrders>,
    mut gone: Local<Vec<(OrderId, AccountId)>>,
) {
    gone.clear();
    market.0.take_gone_orders(&mut gone);
    for &(id, owner) in gone.iter() {
        let Some(entity) = entities.0.get(owner.0 as usize).copied().flatten() else { continue };
        if let Ok(mut orders) = agents.get_mut(entity)
            && let Some(k) = orders.live.iter().position(|o| o.id == id)
        {
            orders.live.remove(k);
        }
    }
}

/// Carries out every agent's pending actions against the exchange, in entity order.
pub(super) fn execute_agent_orders(
    mut market: ResMut<Market>,
    mut halt: ResMut<Halt>,
    mut agents: Query<(&Trader, &mut AgentOrders)>,
    mut publisher: Publisher,
) {
    for (trader, mut orders) in agents.iter_mut() {
        let orders = &mut *orders;
        orders.refused.clear();
        for action in orders.pending.drain(..) {
            let result = match action {
                AgentAction::Cancel(id) => market.0.cancel(trader.account, id, None).map(|_| ()),
                AgentAction::CancelAll => {
                    let mut r = Ok(());
                    for o in orders.live.drain(..) {
                        r = market.0.cancel(trader.account, o.id, None).map(|_| ());
                        if r.is_err() {
                            break;
                        }
                    }
                    r
                }
                AgentAction::Resize { id, by } => match market.0.book().order(id).map(|o| (o.price, o.qty)) {
                    None => Ok(()),
                    Some((price, qty)) if qty.0 + by > 0 => {
                        market.0.amend(trader.account, id, price, Qty(qty.0 + by), None).map(|_| ())
                    }
                    Some(_) => market.0.cancel(trader.account, id, None).map(|_| ()),
                },
                AgentAction::PlaceSliding { side, price, qty } => {
                    match slide(side, price, market.0.book().best(side.opposite())) {
                        Some(at) => {
                            let kind = OrderKind::PostOnly;
                            let req = OrderRequest {
                                account: trader.account,
                                side,
                                kind,
                                price: at,
                                qty,
                                reduce_only: false,
                            };
                            market.0.submit(req, None).map(|s| match s {
                                Submitted::Accepted { id, rested, .. } if rested.is_positive() => {
                                    orders.live.push(LiveOrder { id, side, price, tag: 0 });
                                }
                                _ => orders.refused.push((side, price)),
                            })
                        }
                        None => {
                            orders.refused.push((side, price));
                            Ok(())
                        }
                    }
                }
                AgentAction::Repeg { id, side, price } => {
                    let opposite = market.0.book().best(side.opposite());
                    match (market.0.book().order(id), slide(side, price, opposite)) {
                        (Some(o), Some(at)) if at != o.price => {
                            market.0.amend(trader.account, id, at, o.qty, None).map(|_| ())
                        }
                        _ => Ok(()),
                    }
                }
                AgentAction::Place { side, kind, price, qty, reduce_only, tag } => {
                    let req = OrderRequest { account: trader.account, side, kind, price, qty, reduce_only };
                    market.0.submit(req, None).map(|s| match s {
                        Submitted::Accepted { id, rested, .. } if rested.is_positive() => {
                            orders.live.push(LiveOrder { id, side, price, tag });
                        }
                        Submitted::Accepted { filled, .. } if filled.is_positive() => {}
                        _ => orders.refused.push((side, price)),
                    })
                }
            };
            if let Err(e) = result {
                halt.stop(e);
                return;
            }
        }
    }
    publisher.publish_or_halt(&mut market, &mut halt);
}
