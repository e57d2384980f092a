//! Liquidation hunters in the world: a [`Hunter`] component on a trader entity, the Decide system
//! that feeds [`hunter`] its view of the market (the liquidation map, exact or estimated, and the
//! sweep cost of each direction through the visible book) and carries out its orders, and the
//! per-hunter report.

use super::orders::{AgentAction, AgentOrders};
use super::{Clock, Market, SimRng, Trader};
use crate::agents::hunter::{
    self, Assessment, Campaign, Direction, EstimateParams, HuntMode, HuntOrder, HunterParams, HunterState,
    HunterView, MapBucket, MapView,
};
use crate::book::OrderKind;
use crate::engine::Exchange;
use crate::margin;
use crate::population::{Role, SeededMap};
use crate::units::Instrument;
use crate::units::{Money, Qty, Side};
use bevy_ecs::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A hunter of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HunterConfig {
    pub deposit: Money,
    pub leverage: u32,
    /// Hunters of one team push the same way: the first to start a campaign sets the direction
    /// for team-mates who start while it runs.
    pub team: Option<u32>,
    pub hunting: HunterParams,
}

impl Default for HunterConfig {
    /// $8B at 1x. Binance's BTCUSDT tiers allow only 1x (50% maintenance) above $1.2B of
    /// notional, so a single account holding the default $6B inventory cap must be fully
    /// funded; any less and the hunter becomes fuel for its own campaign (a real desk spreads
    /// such a position over accounts and venues).
    fn default() -> HunterConfig {
        HunterConfig {
            deposit: Money::usd(8_000_000_000),
            leverage: 1,
            team: None,
            hunting: HunterParams::default(),
        }
    }
}

/// A hunter's parameters and memory.
#[derive(Component, Debug, Clone)]
pub struct Hunter {
    pub params: HunterParams,
    pub state: HunterState,
    pub team: Option<u32>,
    pub deposit: Money,
    /// The price an estimated map assumes open interest was opened at when none was added
    /// before the run (the start price).
    pub reference_usd: f64,
    /// The estimated map it drew at its first read (once there was open interest to read).
    belief: Option<Vec<MapBucket>>,
    /// The lowest and highest mark it has seen: a believed cluster the mark has passed is
    /// gone (liquidated or never there), as vendors clear theirs.
    seen_usd: (f64, f64),
}

impl Hunter {
    pub fn new(params: HunterParams, team: Option<u32>, deposit: Money, reference_usd: f64) -> Hunter {
        Hunter {
            params,
            state: HunterState::default(),
            team,
            deposit,
            reference_usd,
            belief: None,
            seen_usd: (reference_usd, reference_usd),
        }
    }

    /// The estimated map it drew at its first read, if it has read one.
    pub fn belief(&self) -> Option<&[MapBucket]> {
        self.belief.as_deref()
    }

    /// The map it believes now: its estimate, drawn at the first read with open interest in the
    /// market (USD at the mark, `oi_usd`) and kept, less the clusters the mark has passed. The
    /// estimate is not rescaled afterwards: what the cascade removed is what the mark passed.
    fn believed(
        &mut self,
        e: &EstimateParams,
        added: &OpenInterestAdded,
        oi_usd: f64,
        rng: &mut SimRng,
    ) -> Vec<MapBucket> {
        if self.belief.is_none() && oi_usd > 0.0 {
            let entries =
                if added.0.is_empty() { vec![(self.reference_usd, oi_usd)] } else { added.0.clone() };
            let map = hunter::estimate_map(&entries, e, &mut rng.0);
            self.belief = (!map.is_empty()).then_some(map);
        }
        let (low, high) = self.seen_usd;
        let passed = |b: &&MapBucket| match b.side {
            Side::Buy => b.price_usd < low,
            Side::Sell => b.price_usd > high,
        };
        self.belief.iter().flatten().filter(passed).copied().collect()
    }
}

/// Where open interest was added before the run: the USD notional of the seeded map's positions
/// by entry price (its counterparties' side of the same trades is not counted again), in price
/// buckets [`OI_BUCKET`] apart (relative), in price order. A heatmap vendor sees these as
/// open-interest increases at those prices.
#[derive(Resource, Debug, Default, Clone)]
pub struct OpenInterestAdded(pub Vec<(f64, f64)>);

/// The relative width of an [`OpenInterestAdded`] bucket: 0.05% (about $36 at 71K).
pub const OI_BUCKET: f64 = 5e-4;

impl OpenInterestAdded {
    /// Of the seeded map, when some hunter reads an estimated map (otherwise none is needed).
    pub fn of(map: &SeededMap, inst: &Instrument, needed: bool) -> OpenInterestAdded {
        let mut buckets: BTreeMap<i64, f64> = BTreeMap::new();
        let step = OI_BUCKET.ln_1p();
        if !needed {
            return OpenInterestAdded::default();
        }
        for a in map.accounts.iter().filter(|a| a.role == Role::Map) {
            let price = inst.price_f64(a.entry);
            if price > 0.0 {
                *buckets.entry((price.ln() / step).round() as i64).or_default() +=
                    a.cost.0.unsigned_abs() as f64 / 1e6;
            }
        }
        OpenInterestAdded(buckets.into_iter().map(|(k, usd)| ((k as f64 * step).exp(), usd)).collect())
    }
}

/// One hunter's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HunterReport {
    pub account: u32,
    /// A market maker that hunts, rather than a standalone hunter (written only when true).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub maker: bool,
    pub team: Option<u32>,
    pub mode: HuntMode,
    pub deposit_usd: f64,
    /// Realised + unrealised at the final mark, after fees: balance + margin + upnl − deposit.
    pub pnl_usd: f64,
    pub final_position_btc: f64,
    pub campaigns: Vec<Campaign>,
}

/// The exchange's liquidation map in USD.
pub fn exact_map(ex: &Exchange) -> Vec<MapBucket> {
    let inst = ex.instrument();
    ex.liquidation_index()
        .map()
        .map(|(side, p, v)| MapBucket { side, price_usd: inst.price_f64(p), notional_usd: v as f64 / 1e6 })
        .collect()
}

/// What pushing the touch to `target_usd` costs through the visible book (extrapolated beyond it).
pub fn push_cost(ex: &Exchange, direction: Direction, target_usd: f64) -> f64 {
    let inst = ex.instrument();
    let taker = direction.taker_side();
    let book = ex.book();
    let Some(from) = book.best(taker.opposite()) else { return 0.0 };
    let target = match taker {
        Side::Buy => inst.price_ceil(target_usd),
        Side::Sell => inst.price_floor(target_usd),
    };
    let Ok(target) = target else { return 0.0 };
    let sweep = book.sweep_cost(taker, target);
    let visible = sweep.value_ticks_lots as f64 * inst.tick_lot_value() as f64 / 1e6;
    let edge = book.depth(taker.opposite(), sweep.levels).last().map(|l| l.price).unwrap_or(from);
    hunter::path_cost(visible, inst.price_f64(from), inst.price_f64(edge), target_usd)
}

/// Hunter PnL: balance + margin + unrealised PnL at mark − deposit.
pub fn hunter_pnl(ex: &Exchange, account: crate::book::AccountId, deposit: Money) -> f64 {
    let Some(a) = ex.ledger().account(account) else { return 0.0 };
    let upnl = margin::unrealized_pnl(ex.instrument(), a.position.qty, a.position.cost, ex.mark())
        .map(|m| m.0 as i128)
        .unwrap_or(0);
    (a.balance.0 as i128 + a.position.margin.0 as i128 + upnl - deposit.0 as i128) as f64 / 1e6
}

fn view_of(ex: &Exchange, tick: u64, account: crate::book::AccountId) -> HunterView {
    let inst = ex.instrument();
    let book = ex.book();
    let stats = ex.stats();
    HunterView {
        tick,
        mark_usd: inst.price_f64(ex.mark()),
        last_usd: inst.price_f64(ex.last()),
        best_bid_usd: book.best(Side::Buy).map(|p| inst.price_f64(p)),
        best_ask_usd: book.best(Side::Sell).map(|p| inst.price_f64(p)),
        tick_usd: inst.tick_micros() as f64 / 1e6,
        position_btc: ex.ledger().account(account).map(|a| inst.qty_f64(a.position.qty)).unwrap_or(0.0),
        liquidated_long_usd: stats.notional_long as f64 / 1e6,
        liquidated_short_usd: stats.notional_short as f64 / 1e6,
    }
}

/// Each hunter (in entity order): if idle and due, reads the map and picks a direction (its
/// team's, when a team-mate is already campaigning); then advances its campaign and turns its
/// orders into agent actions.
pub(super) fn hunt(
    (market, clock, added): (Res<Market>, Res<Clock>, Res<OpenInterestAdded>),
    mut rng: ResMut<SimRng>,
    mut hunters: Query<(&Trader, &mut Hunter, &mut AgentOrders)>,
) {
    let ex = &market.0;
    let inst = *ex.instrument();
    let mut teams: BTreeMap<u32, Direction> = BTreeMap::new();
    for (_, h, _) in hunters.iter() {
        if let (Some(team), Some(c)) = (h.team, h.state.current()) {
            teams.entry(team).or_insert(c.direction);
        }
    }
    let mut exact: Option<Vec<MapBucket>> = None;
    for (trader, mut h, mut orders) in hunters.iter_mut() {
        let h = &mut *h;
        let view = view_of(ex, clock.tick, trader.account);
        if view.mark_usd > 0.0 {
            h.seen_usd = (h.seen_usd.0.min(view.mark_usd), h.seen_usd.1.max(view.mark_usd));
        }
        // Only with a two-sided book: an empty side would price the push at nothing.
        let two_sided = view.best_bid_usd.is_some() && view.best_ask_usd.is_some();
        if h.state.ready(&h.params, clock.tick) && view.mark_usd > 0.0 && two_sided {
            let estimated;
            let map: &[MapBucket] = match &h.params.map {
                MapView::Exact => exact.get_or_insert_with(|| exact_map(ex)),
                MapView::Estimated(e) => {
                    let e = e.clone();
                    let oi_usd = inst.qty_f64(ex.ledger().open_interest().0) * view.mark_usd;
                    estimated = h.believed(&e, &added, oi_usd, &mut rng);
                    &estimated
                }
            };
            let price = view.mark_usd;
            let book = hunter::BookModel::of(&h.params, crate::engine::rate_f64(ex.config().taker_fee));
            let assess = |d: Direction| -> Assessment {
                let mut a = hunter::assess(map, price, d, &h.params, |t| push_cost(ex, d, t));
                if h.params.mode == HuntMode::Expected {
                    a.expected = Some(hunter::expected_pnl(map, price, &a, &h.params, &book));
                }
                a
            };
            let (up, down) = (assess(Direction::Up), assess(Direction::Down));
            let team = h.team.and_then(|t| teams.get(&t).copied());
            let coin =
                if h.params.mode == HuntMode::Random && team.is_none() { rng.0.random::<f64>() } else { 0.0 };
            if let Some(d) = hunter::choose(&h.params, &up, &down, team, coin) {
                h.state.start(if d == Direction::Up { up } else { down }, &view);
                if let Some(t) = h.team {
                    teams.entry(t).or_insert(d);
                }
            }
        }
        let decided = h.state.step(&h.params, &view);
        let reference = |side: Side| {
            let p = match side {
                Side::Buy => view.best_ask_usd,
                Side::Sell => view.best_bid_usd,
            };
            p.unwrap_or(view.last_usd).max(view.tick_usd)
        };
        let mut cancelled = [false; 2];
        for o in decided {
            match o {
                HuntOrder::CancelSide(side) => {
                    let k = usize::from(side == Side::Sell);
                    if !cancelled[k] {
                        cancelled[k] = true;
                        // Its campaign's orders only: a hunting maker's ladder is its quoting's.
                        let ids: Vec<_> = orders
                            .live_on(side)
                            .filter(|l| l.tag == super::makers::CAMPAIGN)
                            .map(|l| l.id)
                            .collect();
                        for id in ids {
                            orders.push(AgentAction::Cancel(id));
                        }
                    }
                }
                HuntOrder::Take { side, limit_usd, notional_usd } => {
                    let price = match side {
                        Side::Buy => inst.price_floor(limit_usd),
                        Side::Sell => inst.price_ceil(limit_usd),
                    };
                    let qty = inst.qty_floor(notional_usd / reference(side)).unwrap_or(Qty::ZERO);
                    if let Ok(price) = price
                        && price.is_positive()
                        && qty.is_positive()
                    {
                        orders.push(AgentAction::Place {
                            side,
                            kind: OrderKind::Ioc,
                            price,
                            qty,
                            reduce_only: false,
                            tag: 0,
                        });
                    }
                }
                HuntOrder::Rest { side, price_usd, size_btc } => {
                    let q = crate::agents::maker::Quote { side, price_usd, size_btc };
                    if let Some((side, price, qty)) = super::makers::on_grid(&inst, &q) {
                        orders.place(side, OrderKind::PostOnly, price, qty, super::makers::CAMPAIGN);
                    }
                }
                HuntOrder::Flatten { side, size_btc, limit_usd } => {
                    // Round up so the last lot goes too; reduce-only caps it at the position.
                    let lots = (size_btc * 1e8 / inst.lot_sats() as f64).ceil();
                    let price = match side {
                        Side::Buy => inst.price_floor(limit_usd),
                        Side::Sell => inst.price_ceil(limit_usd),
                    };
                    if lots.is_finite()
                        && lots >= 1.0
                        && let Ok(price) = price
                        && price.is_positive()
                    {
                        orders.push(AgentAction::Place {
                            side,
                            kind: OrderKind::Ioc,
                            price,
                            qty: Qty(lots.min(i64::MAX as f64 / 4.0) as i64),
                            reduce_only: true,
                            tag: 0,
                        });
                    }
                }
            }
        }
    }
}

/// The hunters' reports, in entity order.
pub(super) fn reports(world: &World) -> Vec<HunterReport> {
    let Some(market) = world.get_resource::<Market>() else { return Vec::new() };
    let ex = &market.0;
    let inst = *ex.instrument();
    let mut out = Vec::new();
    let Some(mut q) = world.try_query::<(&Trader, &Hunter, Has<super::MarketMaker>)>() else { return out };
    for (t, h, maker) in q.iter(world) {
        out.push(HunterReport {
            account: t.account.0,
            maker,
            team: h.team,
            mode: h.params.mode,
            deposit_usd: h.deposit.to_usd_f64(),
            pnl_usd: hunter_pnl(ex, t.account, h.deposit),
            final_position_btc: ex
                .ledger()
                .account(t.account)
                .map(|a| inst.qty_f64(a.position.qty))
                .unwrap_or(0.0),
            campaigns: h.state.campaigns.clone(),
        });
    }
    out
}

#[cfg(test)]
#[path = "hunt_tests.rs"]
mod tests;
