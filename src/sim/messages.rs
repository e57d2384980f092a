//! The exchange's events as bevy messages: what systems read to keep metrics, heatmaps and
//! agents' components current. Every system that changes the market ends by publishing what it
//! recorded ([`Publisher::publish`]), so there is no buffer inside the exchange that another
//! stage has to read and clear.

use super::slots::ResourceSlots;
use super::{Halt, Market};
use crate::book::{AccountId, StopKind, TriggerSource};
use crate::engine::{EngineError, Exchange};
use crate::events::{Envelope, Event, Seq, TriggerReason};
use crate::units::{Money, Price, Qty, Side};
use bevy_ecs::prelude::*;
use bevy_ecs::system::SystemParam;

/// A fill: a resting order met an incoming one.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct TradeExecuted {
    pub seq: Seq,
    pub maker: AccountId,
    pub taker: AccountId,
    pub taker_side: Side,
    pub price: Price,
    pub qty: Qty,
    /// The taker was a liquidation order.
    pub liquidation: bool,
}

/// New index, mark and last prices; `round` 0 is the tick's update, `n > 0` the refresh after
/// the `n`-th liquidation round.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarkChanged {
    pub seq: Seq,
    pub index: Price,
    pub mark: Price,
    pub last: Price,
    pub round: u32,
}

/// The engine took a position over: the start of its liquidation.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionLiquidated {
    pub seq: Seq,
    pub tick: u64,
    pub account: AccountId,
    /// The position's side (`Buy` = long).
    pub side: Side,
    pub reason: TriggerReason,
    pub mark: Price,
    pub liquidation_price: Price,
    pub position: Qty,
    /// The position's notional at the mark, micro-USD.
    pub notional: Money,
}

/// A liquidation ended: `closed` lots of the position were liquidated (all of it, or the part a
/// partial liquidation closed), worth `notional` at the trigger's mark.
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiquidationSettled {
    pub seq: Seq,
    pub tick: u64,
    pub account: AccountId,
    /// The position's side (`Buy` = long).
    pub side: Side,
    pub closed: Qty,
    /// The liquidation price of the trigger this ends.
    pub liquidation_price: Price,
    pub notional: Money,
    pub partial: bool,
}

/// A stop order's price reached its trigger: it left the stop book as a market order for `qty`
/// on `side` (its fills, if any, are [`TradeExecuted`]s caused by it).
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopFired {
    pub seq: Seq,
    pub tick: u64,
    pub account: AccountId,
    pub side: Side,
    pub kind: StopKind,
    pub source: TriggerSource,
    pub trigger: Price,
    /// The price (of `source`) that reached the trigger.
    pub price: Price,
    pub qty: Qty,
}

/// An account's balance, margin, position or liquidation state changed (its liquidation price
/// has been refreshed by the time this is read).
#[derive(Message, Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountChanged {
    pub account: AccountId,
}

/// Registers the messages, their queues held by `slots`.
pub(super) fn register(world: &mut World, slots: &mut ResourceSlots) {
    slots.register_message::<TradeExecuted>(world);
    slots.register_message::<MarkChanged>(world);
    slots.register_message::<PositionLiquidated>(world);
    slots.register_message::<LiquidationSettled>(world);
    slots.register_message::<AccountChanged>(world);
    slots.register_message::<StopFired>(world);
}

/// What a system that changed the market needs to publish it.
#[derive(SystemParam)]
pub struct Publisher<'w, 's> {
    trades: MessageWriter<'w, TradeExecuted>,
    marks: MessageWriter<'w, MarkChanged>,
    liquidations: MessageWriter<'w, PositionLiquidated>,
    settled: MessageWriter<'w, LiquidationSettled>,
    accounts: MessageWriter<'w, AccountChanged>,
    stops: MessageWriter<'w, StopFired>,
    events: Local<'s, Vec<Envelope>>,
    changed: Local<'s, Vec<AccountId>>,
    /// Each account's liquidation price at its trigger (a liquidation ends within the system
    /// that triggered it, so within one publish).
    triggered_at: Local<'s, std::collections::HashMap<AccountId, Price>>,
}

impl Publisher<'_, '_> {
    /// Sends what `ex` recorded since the last publish as messages.
    pub fn publish(&mut self, ex: &mut Exchange) -> Result<(), EngineError> {
        self.events.clear();
        self.changed.clear();
        ex.drain(&mut self.events, &mut self.changed)?;
        let inst = *ex.instrument();
        // Only the kinds matched here are handed over (the engine's `publishes` lists them: a
        // kind added here must be added there).
        for env in self.events.iter() {
            let seq = env.seq;
            match env.event {
                Event::Traded { maker, taker, taker_side, price, qty, liquidation, .. } => {
                    self.trades.write(TradeExecuted {
                        seq,
                        maker,
                        taker,
                        taker_side,
                        price,
                        qty,
                        liquidation,
                    });
                }
                Event::MarkUpdated { index, mark, last, round, .. } => {
                    self.marks.write(MarkChanged { seq, index, mark, last, round });
                }
                Event::LiquidationTriggered {
                    account, reason, mark, position, liquidation_price, ..
                } => {
                    let notional = inst.notional(mark, position.abs())?;
                    let side = if position.is_positive() { Side::Buy } else { Side::Sell };
                    self.triggered_at.insert(account, liquidation_price);
                    self.liquidations.write(PositionLiquidated {
                        seq,
                        tick: env.tick,
                        account,
                        side,
                        reason,
                        mark,
                        liquidation_price,
                        position,
                        notional,
                    });
                }
                Event::Liquidated { account, closed, mark, partial, .. } => {
                    let side = if closed.is_positive() { Side::Buy } else { Side::Sell };
                    self.settled.write(LiquidationSettled {
                        seq,
                        tick: env.tick,
                        account,
                        side,
                        closed,
                        liquidation_price: self.triggered_at.remove(&account).unwrap_or(mark),
                        notional: inst.notional(mark, closed.abs())?,
                        partial,
                    });
                }
                Event::StopTriggered { stop, price } => {
                    self.stops.write(StopFired {
                        seq,
                        tick: env.tick,
                        account: stop.owner,
                        side: stop.side,
                        kind: stop.kind,
                        source: stop.source,
                        trigger: stop.trigger,
                        price,
                        qty: stop.qty,
                    });
                }
                _ => {}
            }
        }
        self.accounts.write_batch(self.changed.iter().map(|&account| AccountChanged { account }));
        Ok(())
    }

    /// Publishes, or halts the run on failure.
    pub fn publish_or_halt(&mut self, market: &mut Market, halt: &mut Halt) {
        if let Err(e) = self.publish(&mut market.0) {
            halt.0.get_or_insert(e);
        }
    }
}
