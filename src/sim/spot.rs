//! The world outside the perpetual: spot venues whose weighted median is the index, a fair value
//! they quote around, news that hits them, and the basis arbitrageurs who tie the perp to them.
//!
//! Each tick the fair value takes a step (fat-tailed, in time units), every spot venue requotes
//! around it shifted by the permanent impact its takers left, spot shocks trade, and the index
//! is set. Arbitrageurs decide on the perp in Decide; after the perp has matched they hedge what
//! they got on the spot venues, best first and no further than their entry margin from the best
//! touch, which moves the index the Mark stage reads.

use super::{AgentAction, AgentOrders, Clock, Halt, IndexState, Market, ShockMarket, ShockQueue, Trader};
use crate::agents::{ArbParams, arb_decide};
use crate::book::{AccountId, OrderKind};
use crate::spot::{SpotVenue, SpotVenueConfig, weighted_median};
use crate::units::{Instrument, Price, Qty, Side};
use bevy_ecs::prelude::*;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal, StudentT};
use serde::{Deserialize, Serialize};

/// The index: a fair value's random walk, and the spot venues that quote around it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IndexConfig {
    /// Standard deviation of the fair value's log return over one day.
    pub volatility_per_sqrt_day: f64,
    /// Log drift per day (an exogenous trend).
    pub drift_per_day: f64,
    /// Degrees of freedom of the Student-t innovations (`None`: Gaussian). BTC's return tails
    /// have an index of about 2–3 (calibration.md); ν = 3 gives a tail index of 3.
    pub tail_dof: Option<f64>,
    /// The venues the index is the weighted median of; none: the index is the perpetual's own
    /// mid (a market alone, as in the FCN studies).
    pub venues: Vec<SpotVenueConfig>,
}

impl IndexConfig {
    /// The calibrated index: a fair value with 2.45% daily volatility (0.5% per √hour: "a calm
    /// hour moves a few tenths of a percent", calibration.md; BTC's realised volatility of
    /// 40–50% a year is 2.1–2.6% a day), Student-t(3) innovations, `drift_per_day` of trend, and
    /// three spot venues of Binance's spot depth.
    pub fn calibrated(drift_per_day: f64) -> IndexConfig {
        IndexConfig {
            volatility_per_sqrt_day: 0.005 * 24f64.sqrt(),
            drift_per_day,
            tail_dof: Some(3.0),
            venues: SpotVenueConfig::calibrated_set(),
        }
    }
}

/// Spot shocks use this account id in the spot books (the providers are 0).
const SPOT_SHOCK_ACCOUNT: AccountId = AccountId(1);

/// The spot venues, the fair value (in price ticks) and its random stream.
#[derive(Resource)]
pub struct SpotMarket {
    pub venues: Vec<SpotVenue>,
    fair: f64,
    config: IndexConfig,
    rng: ChaCha8Rng,
    t: Option<StudentT<f64>>,
}

impl SpotMarket {
    pub fn new(
        config: &IndexConfig,
        inst: &Instrument,
        start: Price,
        rng: ChaCha8Rng,
    ) -> Result<SpotMarket, crate::units::UnitError> {
        let venues = config
            .venues
            .iter()
            .map(|v| SpotVenue::new(v.clone(), *inst, start))
            .collect::<Result<_, _>>()?;
        let t = config.tail_dof.and_then(|nu| StudentT::new(nu).ok());
        Ok(SpotMarket { venues, fair: start.0 as f64, config: config.clone(), rng, t })
    }

    /// The fair value, in ticks.
    pub fn fair(&self) -> f64 {
        self.fair
    }

    /// The weighted median of the venues' mids (ticks); `None` without venues.
    pub fn index(&self) -> Option<f64> {
        let mut mids: Vec<(Price, f64)> = self.venues.iter().map(|v| (v.mid(), v.config().weight)).collect();
        weighted_median(&mut mids).map(|p| p.0 as f64)
    }

    /// One step of `dt` seconds of the fair value: drift plus a unit-variance innovation (a
    /// Student-t rescaled by √((ν−2)/ν) when tails are fat).
    fn step_fair(&mut self, dt: f64) {
        let z = match (self.t, self.config.tail_dof) {
            (Some(t), Some(nu)) if nu > 2.0 => t.sample(&mut self.rng) * ((nu - 2.0) / nu).sqrt(),
            _ => StandardNormal.sample(&mut self.rng),
        };
        let days = dt / 86_400.0;
        let r = self.config.drift_per_day * days + self.config.volatility_per_sqrt_day * days.sqrt() * z;
        self.fair = (self.fair * r.exp()).max(1.0);
    }

    /// The venue with the best price for a taker on `side` (lowest ask to buy, highest bid to
    /// sell), if any has one.
    fn best_venue(&self, side: Side) -> Option<usize> {
        let quote = |v: &SpotVenue| v.book().best(side.opposite());
        let mut best: Option<(usize, Price)> = None;
        for (i, v) in self.venues.iter().enumerate() {
            if let Some(p) = quote(v) {
                let better = match (best, side) {
                    (None, _) => true,
                    (Some((_, b)), Side::Buy) => p < b,
                    (Some((_, b)), Side::Sell) => p > b,
                };
                if better {
                    best = Some((i, p));
                }
            }
        }
        best.map(|b| b.0)
    }
}

/// Exogenous: the fair value steps, the spot venues requote around it, spot shocks due now
/// trade (split across the venues by weight), and the index is set.
pub(super) fn move_index(
    mut spot: ResMut<SpotMarket>,
    mut index: ResMut<IndexState>,
    mut shocks: ResMut<ShockQueue>,
    (market, clock): (Res<Market>, Res<Clock>),
    mut halt: ResMut<Halt>,
) {
    let dt = market.0.config().tick_secs.max(1) as f64;
    let inst = *market.0.instrument();
    spot.step_fair(dt);
    let fair = spot.fair;
    for v in spot.venues.iter_mut() {
        if let Err(e) = v.quote(fair, dt) {
            halt.stop(e);
            return;
        }
    }
    let total_weight: f64 = spot.venues.iter().map(|v| v.config().weight).sum();
    for s in shocks.take_due(clock.tick, ShockMarket::Spot) {
        let price = inst.price_f64(Price(index.value.round() as i64)).max(1e-9);
        for v in spot.venues.iter_mut() {
            let share = v.config().weight / total_weight;
            let qty = inst.qty_floor(s.notional.to_usd_f64() * share / price).unwrap_or(Qty::ZERO);
            v.take(SPOT_SHOCK_ACCOUNT, s.side, qty, None);
        }
    }
    let ex = &market.0;
    index.value = spot.index().unwrap_or_else(|| ex.book().mid().unwrap_or(ex.last()).0 as f64);
}

/// An agent's holdings on the spot venues, beside the perp ledger: integers, taken fill by fill.
#[derive(Debug, Clone)]
pub struct SpotLeg {
    /// Inventory (lots, signed) and what it paid for it (ticks·lots, signed: < 0 when it
    /// bought), fees included.
    pub qty: i64,
    pub cash: i128,
    /// Spot fees paid, ticks·lots.
    pub fees: i128,
    /// Its spot-book id (2, 3, ...: 0 is the providers', 1 the shocks').
    id: AccountId,
}

impl SpotLeg {
    fn new(id: u32) -> SpotLeg {
        SpotLeg { qty: 0, cash: 0, fees: 0, id: AccountId(id) }
    }

    /// The leg's value at `price` (ticks), in ticks·lots: inventory plus cash.
    pub fn value(&self, price: Price) -> i128 {
        self.qty as i128 * price.0 as i128 + self.cash
    }

    /// Takes up to `qty` on `side` on the venue quoting best, no worse than `limit`, paying the
    /// venue's taker fee. Whether anything filled.
    fn take(&mut self, spot: &mut SpotMarket, side: Side, qty: Qty, limit: Option<Price>) -> bool {
        let Some(k) = spot.best_venue(side) else { return false };
        let venue = &mut spot.venues[k];
        let fee_rate = venue.config().taker_fee;
        let taken = venue.take(self.id, side, qty, limit);
        if taken.qty.is_zero() {
            return false;
        }
        let fee = (taken.value_ticks_lots as f64 * fee_rate).round() as i128;
        self.qty += side.sign() * taken.qty.0;
        self.cash -= side.sign() as i128 * taken.value_ticks_lots + fee;
        self.fees += fee;
        true
    }
}

/// A basis arbitrageur: its perp account is its [`Trader`]; its spot leg lives here.
#[derive(Component, Debug, Clone)]
pub struct Arbitrageur {
    pub params: ArbParams,
    /// Seconds of simulated time at its last decision.
    last_decision: Option<u64>,
    pub spot: SpotLeg,
}

impl Arbitrageur {
    pub fn new(params: ArbParams, ordinal: u64) -> Arbitrageur {
        Arbitrageur { params, last_decision: None, spot: SpotLeg::new(2 + ordinal as u32) }
    }
}

/// Decide: each arbitrageur whose reaction time has passed looks at the perp's touch and the
/// index, and sends an IOC on the perp limited where the trade still pays.
pub(super) fn arbitrage(
    (market, clock): (Res<Market>, Res<Clock>),
    index: Res<IndexState>,
    mut arbs: Query<(&Trader, &mut Arbitrageur, &mut AgentOrders)>,
) {
    let ex = &market.0;
    let inst = *ex.instrument();
    let book = ex.book();
    let (Some(bid), Some(ask)) = (book.best_bid(), book.best_ask()) else { return };
    let now = clock.tick * ex.config().tick_secs;
    let dt = ex.config().tick_secs as f64;
    let idx = index.value;
    for (trader, mut arb, mut orders) in arbs.iter_mut() {
        let since = arb.last_decision.map_or(f64::INFINITY, |t| (now - t) as f64);
        let qty = ex.ledger().account(trader.account).map(|a| a.position.qty).unwrap_or(Qty::ZERO);
        let position_usd = inst.qty_f64(qty) * inst.price_f64(Price(idx.round() as i64));
        if since < arb.params.reaction_secs {
            continue;
        }
        // It looked: whether or not it trades, its next look is a reaction time away.
        arb.last_decision = Some(now);
        let Some(o) = arb_decide(&arb.params, bid.0 as f64, ask.0 as f64, idx, position_usd, since, dt)
        else {
            continue;
        };
        let side = if o.notional_usd > 0.0 { Side::Buy } else { Side::Sell };
        // While its legs do not yet offset (the spot books would not take the whole hedge within
        // its limit), it sends no perp order that widens the gap: not even an unwind, which
        // waits until the spot leg has caught up.
        let unhedged = qty.0 + arb.spot.qty;
        if unhedged != 0 && side.sign() == unhedged.signum() {
            continue;
        }
        let price = limit_price(side, idx * o.limit_vs_index);
        let lots = inst.qty_floor(o.notional_usd.abs() / inst.price_f64(price)).unwrap_or(Qty::ZERO);
        if lots.is_positive() {
            orders.place(side, OrderKind::Ioc, price, lots, 0);
        }
    }
}

/// A value trader: capital that buys at a deep discount to the fair value the venues quote
/// around (news moves the fair value; hunts, cascades and the impact they leave do not) and
/// sells at a premium, by the arbitrageur's rule with the fair value in place of the index, its
/// discount as the entry and no costs. It buys where the discount is deeper: spot (the index)
/// or the perp (its touch), which it holds in its own fully funded perp account, its
/// [`Trader`]. Its position is both legs together, at the index.
#[derive(Component, Debug, Clone)]
pub struct ValueTrader {
    pub params: ArbParams,
    /// Its perp account's deposit.
    pub deposit: crate::units::Money,
    last_decision: Option<u64>,
    /// Its spot leg (its spot-book id follows the arbitrageurs').
    pub spot: SpotLeg,
}

impl ValueTrader {
    pub fn new(params: ArbParams, deposit: crate::units::Money, spot_id: u32) -> ValueTrader {
        ValueTrader { params, deposit, last_decision: None, spot: SpotLeg::new(spot_id) }
    }
}

/// Match, after the desks hedged: each value trader whose reaction time has passed compares the
/// index and the perp's touch with the fair value. Where the discount (premium) is deeper past
/// its threshold it trades: on spot now, on the venue that quotes best; on the perp by an IOC
/// that the next tick's matching carries out; each no worse than where its discount still
/// holds. The index is set again.
pub(super) fn value_trade(
    (market, clock): (Res<Market>, Res<Clock>),
    mut spot: ResMut<SpotMarket>,
    mut index: ResMut<IndexState>,
    mut traders: Query<(&Trader, &mut ValueTrader, &mut AgentOrders)>,
) {
    if spot.venues.is_empty() {
        return;
    }
    let ex = &market.0;
    let now = clock.tick * ex.config().tick_secs;
    let dt = ex.config().tick_secs as f64;
    let inst = *ex.instrument();
    let (bid, ask) = (ex.book().best_bid(), ex.book().best_ask());
    let mut traded = false;
    for (trader, mut v, mut orders) in traders.iter_mut() {
        let since = v.last_decision.map_or(f64::INFINITY, |t| (now - t) as f64);
        if since < v.params.reaction_secs {
            continue;
        }
        v.last_decision = Some(now);
        let (fair, idx) = (spot.fair(), index.value);
        let perp_qty = ex.ledger().account(trader.account).map(|a| a.position.qty.0).unwrap_or(0);
        let price_usd = inst.price_f64(Price(idx.round() as i64));
        let position_usd = inst.qty_f64(Qty(v.spot.qty + perp_qty)) * price_usd;
        let on_spot = arb_decide(&v.params, idx, idx, fair, position_usd, since, dt);
        let on_perp = bid
            .zip(ask)
            .and_then(|(b, a)| arb_decide(&v.params, b.0 as f64, a.0 as f64, fair, position_usd, since, dt));
        // Enter on the leg whose price is further from the fair value; unwind the perp leg first.
        let perp = on_perp.zip(bid.zip(ask)).and_then(|(o, (b, a))| {
            let unwinding = o.notional_usd * position_usd < 0.0;
            let perp_mid = (b.0 + a.0) as f64 / 2.0;
            let further = (perp_mid - fair).abs() > (idx - fair).abs();
            let lots =
                inst.qty_floor(o.notional_usd.abs() / inst.price_f64(Price(fair.round() as i64))).ok()?;
            // An unwind trades the perp only where it reduces the perp leg.
            let reduces_perp = perp_qty != 0 && (o.notional_usd > 0.0) == (perp_qty < 0);
            match unwinding {
                true if reduces_perp => Some((o, Qty(lots.0.min(perp_qty.abs())))),
                false if further => Some((o, lots)),
                _ => None,
            }
        });
        if let Some((o, lots)) = perp {
            let side = if o.notional_usd > 0.0 { Side::Buy } else { Side::Sell };
            if lots.is_positive() {
                // An unwind may not turn the leg over if it shrank before the order is matched.
                orders.pending.push(AgentAction::Place {
                    side,
                    kind: OrderKind::Ioc,
                    price: limit_price(side, fair * o.limit_vs_index),
                    qty: lots,
                    reduce_only: o.notional_usd * position_usd < 0.0,
                    tag: 0,
                });
            }
            continue;
        }
        let Some(o) = on_spot else { continue };
        let side = if o.notional_usd > 0.0 { Side::Buy } else { Side::Sell };
        let limit = limit_price(side, fair * o.limit_vs_index);
        let mut qty = inst.qty_floor(o.notional_usd.abs() / inst.price_f64(limit)).unwrap_or(Qty::ZERO);
        if o.notional_usd * position_usd < 0.0 {
            // An unwind on spot only shrinks the spot leg: it never sells spot it does not hold.
            if v.spot.qty == 0 || (side == Side::Buy) != (v.spot.qty < 0) {
                continue;
            }
            qty = Qty(qty.0.min(v.spot.qty.abs()));
        }
        traded |= v.spot.take(&mut spot, side, qty, Some(limit));
    }
    if traded && let Some(i) = spot.index() {
        index.value = i;
    }
}

/// A limit in ticks on the grid, on the side that keeps the trade within `limit` (floor to buy,
/// ceiling to sell), at least one tick.
fn limit_price(side: Side, limit: f64) -> Price {
    match side {
        Side::Buy => Price((limit.floor() as i64).max(1)),
        Side::Sell => Price((limit.ceil() as i64).max(1)),
    }
}

/// The value traders' PnL (the spot leg at the index plus its cash, the perp account's at the
/// final mark) and their net position (both legs at the index), USD.
pub(super) fn value_report(world: &mut World) -> (f64, f64) {
    let ex = &world.resource::<Market>().0;
    let inst = *ex.instrument();
    let idx = world.resource::<IndexState>().value;
    let usd = |ticks_lots: f64| ticks_lots * inst.tick_lot_value() as f64 / 1e6;
    let (mut pnl, mut position) = (0.0, 0.0);
    let mut q = world.try_query::<(&Trader, &ValueTrader)>().expect("registered components");
    for (t, v) in q.iter(world) {
        let perp = ex.ledger().account(t.account).map(|a| a.position.qty.0).unwrap_or(0);
        let held = v.spot.qty as f64 * idx;
        pnl += usd(held + v.spot.cash as f64) + super::hunter_pnl(ex, t.account, v.deposit);
        position += usd((v.spot.qty + perp) as f64 * idx);
    }
    (pnl, position)
}

/// Match, after the agents' orders: each arbitrageur brings its spot leg toward the opposite of
/// its perp position, venue by venue from the one quoting best, taking only what is quoted
/// within its entry margin of the best touch (the rest waits for a later tick), and the index is
/// set again from the venues' mids.
pub(super) fn hedge_arbitrage(
    market: Res<Market>,
    mut spot: ResMut<SpotMarket>,
    mut index: ResMut<IndexState>,
    mut arbs: Query<(&Trader, &mut Arbitrageur)>,
) {
    let ex = &market.0;
    let mut traded = false;
    for (trader, mut arb) in arbs.iter_mut() {
        let perp = ex.ledger().account(trader.account).map(|a| a.position.qty.0).unwrap_or(0);
        let want = -perp - arb.spot.qty;
        if want == 0 {
            continue;
        }
        let side = if want > 0 { Side::Buy } else { Side::Sell };
        // It takes what the venues quote within its entry margin of the best touch, venue by
        // venue (a hedge that walked a thin book further would cost more than the basis pays,
        // and flip it); what is left is hedged on a later tick.
        let Some(touch) = spot.best_venue(side).and_then(|k| spot.venues[k].book().best(side.opposite()))
        else {
            continue;
        };
        let limit = touch.0 as f64 * (1.0 + side.sign() as f64 * arb.params.entry);
        let limit = Price((limit.round() as i64).max(1));
        for _ in 0..spot.venues.len() {
            let left = -perp - arb.spot.qty;
            if left == 0 || !arb.spot.take(&mut spot, side, Qty(left.abs()), Some(limit)) {
                break;
            }
            traded = true;
        }
    }
    if traded && let Some(i) = spot.index() {
        index.value = i;
    }
}
