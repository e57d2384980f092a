//! Agents as components, and the Decide systems that turn their state into order intents.

use super::orders::{AgentAction, AgentOrders};
use super::{
    AccountEntities, CancelStopIntent, Clock, HolderRates, MarginIntent, Market, OrderIntent, SimRng,
    WakeQueue,
};
use crate::book::{AccountId, OrderId, OrderKind, StopId};
use crate::engine::OrderRequest;
use crate::ledger::Account;
use crate::units::{Instrument, Money, Price, Qty, Side, UnitError};
use bevy_ecs::prelude::*;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;

/// A trader: the account its orders and positions belong to.
#[derive(Component, Debug, Clone, Copy)]
pub struct Trader {
    pub account: AccountId,
}

/// An agent's leverage, margin and liquidation state, kept current from the exchange's messages
/// (see `update_positions`): refreshed whenever its account changes, counted whenever it is
/// liquidated.
#[derive(Component, Debug, Clone, Copy, PartialEq)]
pub struct PositionState {
    pub qty: Qty,
    pub margin: Money,
    pub leverage: u32,
    pub liquidation_price: Option<Price>,
    pub liquidating: bool,
    /// Times this account has been liquidated.
    pub liquidations: u32,
    pub liquidated_tick: Option<u64>,
}

impl PositionState {
    pub fn of(a: &Account, liquidation_price: Option<Price>) -> PositionState {
        let mut state = PositionState {
            qty: Qty::ZERO,
            margin: Money::ZERO,
            leverage: 0,
            liquidation_price: None,
            liquidating: false,
            liquidations: 0,
            liquidated_tick: None,
        };
        state.refresh(a, liquidation_price);
        state
    }

    /// Takes in the account's current leverage, margin and liquidation state (the count of
    /// liquidations is kept).
    pub fn refresh(&mut self, a: &Account, liquidation_price: Option<Price>) {
        self.qty = a.position.qty;
        self.margin = a.position.margin;
        self.leverage = a.leverage;
        self.liquidation_price = liquidation_price;
        self.liquidating = a.liquidating.is_some();
    }
}

/// A passive leveraged position holder: wakes rarely (scheduled, never scanned) and then closes,
/// tops up its margin, or, once flat, re-enters on its side.
#[derive(Component, Debug, Clone, Copy)]
pub struct PositionHolder {
    /// The side it trades (`Buy` = long).
    pub side: Side,
    /// Its stop-loss, placed at the start when its band gives it one (the stop may have
    /// triggered or been cancelled by a liquidation since). It cancels it when it closes by
    /// hand, and re-enters without one.
    pub stop: Option<StopId>,
}

/// Draws the next wake-up after `now` for a per-tick hazard (geometric waiting time).
pub(super) fn next_wake(rng: &mut impl Rng, now: u64, hazard: f64) -> Option<u64> {
    if hazard.is_nan() || hazard <= 0.0 {
        return None;
    }
    let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let wait = if hazard >= 1.0 { 1.0 } else { (u.ln() / (1.0 - hazard).ln()).ceil().max(1.0) };
    Some(now.saturating_add(wait.min(u64::MAX as f64 / 2.0) as u64))
}

pub(super) fn remember(entities: &mut AccountEntities, account: AccountId, entity: Entity) {
    let i = account.0 as usize;
    if entities.0.len() <= i {
        entities.0.resize(i + 1, None);
    }
    entities.0[i] = Some(entity);
}

/// Wakes the holders due this tick. Holding: close (a reduce-only market order for the whole
/// position, and the cancel of its stop-loss if it still has one) or top up margin from the free
/// balance. Flat: re-enter at market with what the free balance affords at the account's
/// leverage.
#[allow(clippy::too_many_arguments)]
pub(super) fn wake_position_holders(
    (clock, rates): (Res<Clock>, Res<HolderRates>),
    market: Res<Market>,
    mut wake: ResMut<WakeQueue>,
    mut rng: ResMut<SimRng>,
    mut holders: Query<(&Trader, &mut PositionHolder, &PositionState)>,
    mut orders: MessageWriter<OrderIntent>,
    mut margins: MessageWriter<MarginIntent>,
    mut stops: MessageWriter<CancelStopIntent>,
) {
    let ex = &market.0;
    let inst = *ex.instrument();
    while let Some(&Reverse((t, entity))) = wake.0.peek() {
        if t > clock.tick {
            break;
        }
        wake.0.pop();
        let Ok((trader, mut holder, state)) = holders.get_mut(entity) else { continue };
        let Some(acct) = ex.ledger().account(trader.account) else { continue };
        let flat = state.qty.is_zero();
        if state.liquidating {
            // Not reachable between ticks (a liquidation finishes within its tick); wait.
        } else if flat {
            let price = inst.price_f64(ex.last()).max(1.0);
            // Keep a tenth for fees and the move between decision and fill.
            let btc = acct.balance.to_usd_f64() * 0.9 * acct.leverage as f64 / price;
            let qty = inst.qty_floor(btc).unwrap_or(Qty::ZERO);
            if qty.is_positive() {
                orders.write(OrderIntent(OrderRequest {
                    account: trader.account,
                    side: holder.side,
                    kind: OrderKind::Market,
                    price: Price::ZERO,
                    qty,
                    reduce_only: false,
                }));
            }
        } else if rates.open <= 0.0 {
            // Holding with no open-position hazard: only here to wait for re-entry.
        } else if rng.0.random_bool(rates.close_share.clamp(0.0, 1.0)) {
            orders.write(OrderIntent(OrderRequest {
                account: trader.account,
                side: holder.side.opposite(),
                kind: OrderKind::Market,
                price: Price::ZERO,
                qty: state.qty.abs(),
                reduce_only: true,
            }));
            if let Some(stop) = holder.stop.take() {
                stops.write(CancelStopIntent { account: trader.account, stop });
            }
        } else {
            let want = Money((state.margin.0 as f64 * rates.add_margin_fraction).floor() as i64);
            let amount = want.min(acct.balance);
            if amount.is_positive() {
                margins.write(MarginIntent { account: trader.account, amount });
            }
        }
        // The next wake-up: at the open-position rate if it still holds (or is about to), else
        // at the re-entry rate.
        let hazard = if flat || rates.open <= 0.0 { rates.flat } else { rates.open };
        if let Some(next) = next_wake(&mut rng.0, clock.tick, hazard) {
            wake.0.push(Reverse((next, entity)));
        }
    }
}

/// The replenishing liquidity provider's calibration, in the instrument's units.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidityConfig {
    pub deposit: Money,
    pub leverage: u32,
    /// Price levels quoted on each side.
    pub levels_per_side: u32,
    /// Distance between levels, in ticks.
    pub spacing: i64,
    /// Size of a full level (see [`LiquidityConfig::level_qty`]).
    pub level_qty: Qty,
    /// Fraction of a level's full size restored per tick after it was taken.
    pub refill_per_tick: f64,
    /// Fraction of the gap to the index the quoting anchor moves each tick.
    pub anchor_follow: f64,
    /// Withdrawal under one-sided flow (zero = never, the default): when the provider's own
    /// fills, averaged over ~10 ticks, take more than this much notional a tick (at the start
    /// price) from one side, it stops replenishing that side (no refills, no new levels; what
    /// rests stays) until the flow has stayed below it for `withdraw_ticks`. Market makers
    /// facing toxic flow do this; it is what let Oct 10 2025 run.
    #[serde(default)]
    pub withdraw_flow: Money,
    #[serde(default)]
    pub withdraw_ticks: u64,
}

impl LiquidityConfig {
    /// The size of a full level that puts `depth_within_1pct_usd` of notional within 1% of the
    /// start price on each side, with levels `spacing_usd` apart (at least one lot). Fails only
    /// when the size does not fit the lot grid's range.
    pub fn level_qty(
        inst: &Instrument,
        start: Price,
        spacing_usd: f64,
        depth_within_1pct_usd: f64,
    ) -> Result<Qty, UnitError> {
        let start_usd = inst.price_f64(start);
        let levels_in_1pct = ((start_usd * 0.01) / spacing_usd).floor().max(1.0);
        let level_btc = depth_within_1pct_usd / levels_in_1pct / start_usd;
        Ok(inst.qty_floor(level_btc)?.max(Qty(1)))
    }
}

/// A liquidity provider: a depth profile around an anchor that follows the index slowly, and
/// refills eaten levels at a set rate, so forced orders meet real, finite depth. Its orders live
/// in its [`AgentOrders`].
#[derive(Component, Debug, Clone)]
pub struct LiquidityProvider {
    levels: i64,
    spacing: i64,
    level_qty: Qty,
    refill: Qty,
    follow: f64,
    anchor: f64,
    /// Withdrawal threshold in lots a tick (0 = off), and its memory: the averaged signed fills
    /// (lots; > 0 when its bids are hit), its position last tick, and the side pulled until when.
    withdraw_lots: f64,
    withdraw_ticks: u64,
    flow: f64,
    last_qty: Qty,
    pulled: Option<(Side, u64)>,
}

impl LiquidityProvider {
    pub fn new(cfg: &LiquidityConfig, inst: &Instrument, start: Price) -> LiquidityProvider {
        let start_usd = inst.price_f64(start);
        let level_qty = cfg.level_qty.max(Qty(1));
        let refill = Qty(((level_qty.0 as f64) * cfg.refill_per_tick).ceil().max(1.0) as i64);
        LiquidityProvider {
            levels: cfg.levels_per_side.max(1) as i64,
            spacing: cfg.spacing.max(1),
            level_qty,
            refill,
            follow: cfg.anchor_follow.clamp(0.0, 1.0),
            anchor: start.0 as f64,
            withdraw_lots: (cfg.withdraw_flow.to_usd_f64().max(0.0)
                / start_usd
                / (inst.lot_sats() as f64 / 1e8))
                .max(0.0),
            withdraw_ticks: cfg.withdraw_ticks,
            flow: 0.0,
            last_qty: Qty::ZERO,
            pulled: None,
        }
    }

    /// Size of a full level.
    pub fn level_qty(&self) -> Qty {
        self.level_qty
    }

    /// The side it has stopped replenishing, if any.
    pub fn pulled_side(&self) -> Option<Side> {
        self.pulled.map(|(s, _)| s)
    }

    /// Takes in its position after last tick's fills and decides which side, if any, to stop
    /// replenishing this tick.
    fn watch_flow(&mut self, qty: Qty, tick: u64) {
        if self.withdraw_lots <= 0.0 {
            return;
        }
        let filled = (qty.0 - self.last_qty.0) as f64;
        self.last_qty = qty;
        self.flow += 0.1 * (filled - self.flow);
        if self.flow.abs() >= self.withdraw_lots {
            // Bought (bids hit) → pull bids; sold (asks lifted) → pull asks.
            let side = if self.flow > 0.0 { Side::Buy } else { Side::Sell };
            self.pulled = Some((side, tick.saturating_add(self.withdraw_ticks)));
        } else if self.pulled.is_some_and(|(_, until)| tick >= until) {
            self.pulled = None;
        }
    }
}

/// Moves the liquidity provider's anchor toward the index, cancels levels that fell out of its
/// band, and tops up or re-places the levels inside it.
pub(super) fn quote_liquidity(
    (market, clock): (Res<Market>, Res<Clock>),
    index: Res<super::IndexState>,
    mut lps: Query<(&Trader, &mut LiquidityProvider, &mut AgentOrders)>,
    mut slots: Local<Vec<Option<OrderId>>>,
) {
    let book = market.0.book();
    for (trader, mut lp, mut orders) in lps.iter_mut() {
        let qty = market.0.ledger().account(trader.account).map(|a| a.position.qty).unwrap_or(Qty::ZERO);
        lp.watch_flow(qty, clock.tick);
        let pulled = lp.pulled_side();
        lp.anchor += lp.follow * (index.value - lp.anchor);
        let (levels, spacing) = (lp.levels, lp.spacing);
        let centre = (lp.anchor / spacing as f64).round() as i64 * spacing;
        let lo = centre - levels * spacing;
        let hi = centre + levels * spacing;
        // Index the live levels by grid slot; cancel those out of the band (lowest price first).
        slots.clear();
        slots.resize((2 * levels + 1) as usize, None);
        let orders = &mut *orders;
        orders.live.sort_by_key(|o| o.price);
        for o in &orders.live {
            let inside = o.price.0 >= lo && o.price.0 <= hi && (o.side == Side::Buy) == (o.price.0 < centre);
            if inside {
                slots[((o.price.0 - lo) / spacing) as usize] = Some(o.id);
            } else {
                orders.pending.push(AgentAction::Cancel(o.id));
            }
        }
        for i in 1..=levels {
            for side in [Side::Buy, Side::Sell] {
                if pulled == Some(side) {
                    continue;
                }
                let price = Price(centre - side.sign() * i * spacing);
                if price.0 <= 0 {
                    continue;
                }
                match slots[((price.0 - lo) / spacing) as usize] {
                    Some(id) => {
                        let have = book.order(id).map(|o| o.qty).unwrap_or(Qty::ZERO);
                        if have < lp.level_qty {
                            let qty = Qty((have.0 + lp.refill.0).min(lp.level_qty.0));
                            orders.pending.push(AgentAction::Amend { id, price, qty });
                        }
                    }
                    None => orders.place(side, OrderKind::PostOnly, price, lp.refill.min(lp.level_qty), 0),
                }
            }
        }
    }
}
