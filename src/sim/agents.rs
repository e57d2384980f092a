//! Agents as components, and the Decide systems that turn their state into order intents.

use super::orders::{AgentAction, AgentOrders};
use super::{
    AccountEntities, CancelStopIntent, Clock, HolderRates, MarginIntent, Market, OrderIntent, SimRng,
    WakeQueue,
};
use crate::book::{AccountId, OrderId, OrderKind, StopId};
use crate::engine::OrderRequest;
use crate::ledger::Account;
use crate::liquidity::{
    DepthCurve, LevelGrid, LevelMemory, Live, MEMORY_HALF_LIVES, Requote, apply_order, follow_share, requote,
};
use crate::units::{Instrument, Money, Price, Qty, Side};
use bevy_ecs::prelude::*;
use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};

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
    while let Some((_, entity)) = wake.0.pop_due(clock.tick) {
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
            wake.0.push(next, entity);
        }
    }
}

/// The liquidity provider's calibration, in the instrument's units and seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidityConfig {
    pub deposit: Money,
    pub leverage: u32,
    /// The cumulative depth it keeps on each side of its anchor (`None`: no provider, e.g.
    /// background traders make the book).
    pub depth: Option<DepthCurve>,
    /// Taken depth comes back with this half-life.
    pub refill_half_life_secs: f64,
    /// Its anchor follows the index with this half-life.
    pub anchor_half_life_secs: f64,
    /// Withdrawal under one-sided flow (zero = never): when its own fills, averaged over ten
    /// seconds, take more than this much notional a second (at the start price) from one side,
    /// it stops replenishing that side (no refills, no new levels; what rests stays) until the
    /// flow has stayed below it for `withdraw_secs`. Market makers facing toxic flow do this;
    /// it is what let Oct 10 2025 run.
    #[serde(default)]
    pub withdraw_flow_per_sec: Money,
    #[serde(default)]
    pub withdraw_secs: u64,
    /// What a level it places does when the opposite touch has moved through its price
    /// (written only when not the default, so configurations from before it read the same).
    #[serde(default, skip_serializing_if = "LevelCrossing::is_slide")]
    pub crossing: LevelCrossing,
}

/// What the provider's placements do when the opposite touch lies at or through their price
/// (another trader's quote under its anchor-centred bids, or over its asks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LevelCrossing {
    /// Post-only: the book refuses the level, which is quoted again in full next tick. While
    /// the touch stays there, the curve's depth between it and the anchor is missing from the
    /// book, not taken (docs/market.md, "Time, not ticks").
    Refuse,
    /// A limit order: it buys (sells) what rests at or under (over) its price, and rests the
    /// rest. The provider then trades its refilled depth against the quotes under its anchor,
    /// as a buyer at its own bids; what it buys so counts as its bids hit toward
    /// `withdraw_flow_per_sec`, as any one-sided fill of its inventory does.
    Take,
    /// Post-only that slides: a level the opposite touch has moved through rests one tick
    /// behind that touch instead (as Deribit prices a post-only order told not to reject), and
    /// each tick the provider moves it back toward its own price as far as the touch allows.
    /// The curve's depth stays in the book, stacked behind the quote under the anchor, and the
    /// provider never takes. What is taken from a slid order is taken from its level. The
    /// default: the only one of the three whose headline answers hold when the tick doubles
    /// (docs/market.md, "Time, not ticks").
    #[default]
    Slide,
}

impl LevelCrossing {
    pub fn is_slide(&self) -> bool {
        *self == LevelCrossing::Slide
    }

    /// The order kind its placements go in as (`Slide`'s go in as
    /// [`AgentAction::PlaceSliding`], post-only at a price worked out when they are carried out).
    fn order_kind(self) -> OrderKind {
        match self {
            LevelCrossing::Refuse => OrderKind::PostOnly,
            LevelCrossing::Take => OrderKind::Gtc,
            LevelCrossing::Slide => OrderKind::PostOnly,
        }
    }
}

/// A liquidity provider: a depth curve around an anchor that follows the index, on a price grid
/// fixed at the start, refilling what was taken with a half-life, so forced orders meet real,
/// finite depth that recovers. Its orders live in its [`AgentOrders`].
#[derive(Component, Debug, Clone)]
pub struct LiquidityProvider {
    curve: DepthCurve,
    grid: LevelGrid,
    inst: Instrument,
    refill_half_life: f64,
    anchor_half_life: f64,
    anchor: f64,
    /// Withdrawal threshold in lots a second (0 = off), and its memory: the averaged signed
    /// fills (lots a second; > 0 when its bids are hit), its position last tick, and the side
    /// pulled until when (seconds).
    withdraw_lots_per_sec: f64,
    withdraw_secs: u64,
    crossing: LevelCrossing,
    flow: f64,
    last_qty: Qty,
    pulled: Option<(Side, u64)>,
    /// Whether it has quoted yet: its first quote is the full curve (the run starts in a
    /// market that was there before it).
    quoted: bool,
    /// The levels it left orders resting at after its last quote (side, level price: a slid
    /// order is filed under its level, not where it rests), sorted: a level missing from there
    /// now was taken.
    resting: Vec<(Side, Price)>,
    /// What it held at the levels it stopped quoting (taken, or cancelled as the centre moved)
    /// and when: such a level refills from there when quoted again; a level never quoted is new.
    memory: LevelMemory,
}

impl LiquidityProvider {
    /// A provider quoting `curve` around `start`; `None` if the config has no curve.
    pub fn new(cfg: &LiquidityConfig, inst: &Instrument, start: Price) -> Option<LiquidityProvider> {
        let curve = cfg.depth.clone()?;
        let lot_usd = inst.price_f64(start) * inst.lot_sats() as f64 / 1e8;
        Some(LiquidityProvider {
            grid: curve.grid(start),
            curve,
            inst: *inst,
            refill_half_life: cfg.refill_half_life_secs.max(0.0),
            anchor_half_life: cfg.anchor_half_life_secs.max(0.0),
            anchor: start.0 as f64,
            withdraw_lots_per_sec: (cfg.withdraw_flow_per_sec.to_usd_f64() / lot_usd).max(0.0),
            withdraw_secs: cfg.withdraw_secs,
            crossing: cfg.crossing,
            flow: 0.0,
            last_qty: Qty::ZERO,
            pulled: None,
            quoted: false,
            resting: Vec::new(),
            memory: LevelMemory::default(),
        })
    }

    /// The side it has stopped replenishing, if any.
    pub fn pulled_side(&self) -> Option<Side> {
        self.pulled.map(|(s, _)| s)
    }

    /// Takes in its position after last tick's fills and decides which side, if any, to stop
    /// replenishing this tick (`now`, `dt`: seconds).
    fn watch_flow(&mut self, qty: Qty, now: u64, dt: f64) {
        if self.withdraw_lots_per_sec <= 0.0 {
            return;
        }
        let filled = (qty.0 - self.last_qty.0) as f64 / dt;
        self.last_qty = qty;
        self.flow += (1.0 - (-dt / 10.0).exp()) * (filled - self.flow);
        if self.flow.abs() >= self.withdraw_lots_per_sec {
            // Bought (bids hit) → pull bids; sold (asks lifted) → pull asks.
            let side = if self.flow > 0.0 { Side::Buy } else { Side::Sell };
            self.pulled = Some((side, now.saturating_add(self.withdraw_secs)));
        } else if self.pulled.is_some_and(|(_, until)| now >= until) {
            self.pulled = None;
        }
    }
}

/// The provider's reusable buffers: target levels, live orders (id, side, level price,
/// resting) and the changes to make.
type QuoteScratch = (Vec<(Price, Qty)>, Vec<(OrderId, Side, Price, Qty)>, Vec<Requote<OrderId>>);

/// The levels (side, price) of `live`, sorted. Each is packed into one integer that sorts as
/// the pair does (buys first, then by price: prices are positive), so the sort compares
/// integers, not pairs (sorting the pairs was 4% of a Monte Carlo run's instructions).
pub(super) fn sorted_levels(live: &[(OrderId, Side, Price, Qty)]) -> Vec<(Side, Price)> {
    let pack = |side: Side, p: Price| {
        debug_assert!(p.is_positive(), "{p:?}: a resting order's price is positive");
        (u64::from(side == Side::Sell) << 63) | p.0 as u64
    };
    let mut keys: Vec<u64> = live.iter().map(|l| pack(l.1, l.2)).collect();
    keys.sort_unstable();
    keys.iter()
        .map(|&k| {
            let side = if k >> 63 == 1 { Side::Sell } else { Side::Buy };
            (side, Price((k & (u64::MAX >> 1)) as i64))
        })
        .collect()
}

/// Moves the liquidity provider's anchor toward the index and requotes its curve there:
/// cancels levels that left the grid or crossed sides, refills taken ones, places new ones
/// (post-only, as limits that take what they cross, or sliding behind it: [`LevelCrossing`]).
pub(super) fn quote_liquidity(
    (market, clock): (Res<Market>, Res<Clock>),
    index: Res<super::IndexState>,
    mut lps: Query<(&Trader, &mut LiquidityProvider, &mut AgentOrders)>,
    mut scratch: Local<QuoteScratch>,
    mut halt: ResMut<super::Halt>,
) {
    let book = market.0.book();
    let dt = market.0.config().tick_secs.max(1) as f64;
    let now = clock.tick * market.0.config().tick_secs;
    let (targets, live, changes) = &mut *scratch;
    for (trader, mut lp, mut orders) in lps.iter_mut() {
        let lp = &mut *lp;
        let qty = market.0.ledger().account(trader.account).map(|a| a.position.qty).unwrap_or(Qty::ZERO);
        lp.watch_flow(qty, now, dt);
        let pulled = lp.pulled_side();
        let follow = follow_share(dt, lp.anchor_half_life);
        lp.anchor += follow * (index.value - lp.anchor);
        let centre = Price((lp.anchor.round() as i64).max(1));
        live.clear();
        live.extend(
            orders.live.iter().filter_map(|o| book.order(o.id).map(|r| (o.id, o.side, o.price, r.qty))),
        );
        let secs = now as f64;
        // What rested after its last quote and is gone now was taken during the last tick; a
        // placement the book refused (it would have crossed) was not.
        let still = sorted_levels(live);
        lp.memory.settle(&lp.resting, &still, &orders.refused, secs - dt);
        changes.clear();
        let half_life = if lp.quoted { lp.refill_half_life } else { 0.0 };
        lp.quoted = true;
        let around = lp.grid.around(centre);
        for side in [Side::Buy, Side::Sell] {
            if pulled == Some(side) {
                continue;
            }
            if let Err(e) = lp.curve.levels_around(&around, &lp.inst, side, targets) {
                halt.stop(e);
                return;
            }
            let memory = &lp.memory;
            requote(side, targets, Live::Any(live), dt, half_life, |p| memory.before(side, p, secs), changes);
        }
        apply_order(changes);
        // What will rest after this tick's changes: the live orders kept, and the placements;
        // what it cancels is remembered with what it held.
        // `still` is sorted, and stays so as cancels leave it and placements join it.
        let mut resting = still;
        // `live` is in the order the orders were placed, so by id (the exchange numbers orders
        // as they come); should it not be, each is searched for.
        let by_id = live.is_sorted_by_key(|l| l.0);
        let find = |id: OrderId| match by_id {
            true => live.binary_search_by_key(&id, |l| l.0).ok().map(|k| &live[k]),
            false => live.iter().find(|l| l.0 == id),
        };
        for c in changes.iter() {
            match *c {
                Requote::Cancel { id, .. } => {
                    if let Some(l) = find(id) {
                        let key = (l.1, l.2);
                        lp.memory.left(l.1, l.2, l.3, secs);
                        if let Ok(k) = resting.binary_search(&key) {
                            resting.remove(k);
                        }
                    }
                }
                Requote::Place { side, price, .. } => {
                    let k = resting.partition_point(|r| *r <= (side, price));
                    resting.insert(k, (side, price));
                }
                Requote::Resize { .. } => {}
            }
        }
        lp.resting = resting;
        lp.memory.forget_older_than(secs, MEMORY_HALF_LIVES * lp.refill_half_life);
        let kind = lp.crossing.order_kind();
        let slide = lp.crossing == LevelCrossing::Slide;
        for &change in changes.iter() {
            match change {
                Requote::Cancel { id, .. } => orders.pending.push(AgentAction::Cancel(id)),
                Requote::Resize { id, qty, .. } => {
                    let held = find(id).map_or(qty, |l| l.3);
                    orders.pending.push(AgentAction::Resize { id, by: qty.0 - held.0 })
                }
                Requote::Place { .. } if slide => {}
                Requote::Place { side, price, qty } => orders.place(side, kind, price, qty, 0),
            }
        }
        if slide {
            // Kept orders resting away from their level (slid behind a touch) move back toward
            // it, before the new levels slide in behind the touch as it then stands.
            let cancelled =
                |id: OrderId| changes.iter().any(|c| matches!(*c, Requote::Cancel { id: i, .. } if i == id));
            let orders = &mut *orders;
            for o in &orders.live {
                if book.order(o.id).is_some_and(|r| r.price != o.price) && !cancelled(o.id) {
                    orders.pending.push(AgentAction::Repeg { id: o.id, side: o.side, price: o.price });
                }
            }
            for &change in changes.iter() {
                if let Requote::Place { side, price, qty } = change {
                    orders.pending.push(AgentAction::PlaceSliding { side, price, qty });
                }
            }
        }
    }
}
