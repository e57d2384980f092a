//! Background traders in the world: FCN agents (Chiarella–Iori, as in PAMS) and Poisson noise
//! traders. Their decision rules are the pure functions of [`crate::agents`]; this module gives
//! them accounts, entities and Decide systems.
//!
//! Each background trader is an entity with [`Trader`], [`PositionState`], [`AgentOrders`] and
//! [`FcnTrader`] or [`NoiseTrader`]. It trades from its own deposit at its own leverage; the
//! exchange rejects what its free balance cannot margin, and a rejected order is simply lost.
//! Resting orders carry their expiry tick as the [`AgentOrders`] tag and are cancelled that tick
//! (a ring of per-tick buckets, so expiry costs O(expiring), not O(agents)).
//!
//! Time: the FCN's windows, mean-reversion time and order TTL are in ticks, and its price
//! history holds one price per tick (the last trade price at the start of the tick, PAMS's
//! "market price"). A tick holds `decisions_per_tick` decisions, each by an agent drawn at
//! random (with replacement): one PAMS step is one decision. All decisions of a tick see the
//! same price; their orders reach the book in Match, in entity order.
//! Optionally ([`FcnConfig::activity`], [`FcnConfig::chart_sentiment`]) the number of decisions
//! and the chart weights are scaled each tick by slowly varying factors ([`FcnRegime`]).
//!
//! Randomness: the agents' draws, the decisions and the fundamental's path come from their own
//! stream ([`BackgroundRng`], stream [`BACKGROUND_STREAM`] of the seed), so adding background
//! traders does not change the index path or the position holders' draws.

use super::agents::remember;
use super::slots::ResourceSlots;
use super::{
    AccountEntities, AgentAction, AgentOrders, Clock, IndexConfig, Market, PositionState, SimConfig,
    SimError, Trader, stream,
};
use crate::agents::{FcnAgent, FcnParams, NoiseOrder, NoiseParams, PriceHistory, fcn_decide, noise_orders};
use crate::book::OrderKind;
use crate::engine::{Exchange, ExchangeConfig};
use crate::units::{Instrument, Money, Price, Qty, Rate, Side};
use bevy_ecs::prelude::*;
use rand::RngExt;
use rand::rngs::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// The stream of the seed that background traders draw from.
pub const BACKGROUND_STREAM: u64 = 0xFC0;

/// Background order flow. `Default` is none: no agents, no systems doing anything.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct BackgroundConfig {
    pub fcn: Option<FcnConfig>,
    pub noise: Option<NoiseConfig>,
    /// The fundamental price the FCN agents revert to.
    pub fundamental: FundamentalConfig,
    /// Price band: within the factor `1 + max_price_deviation` of the last price, either way
    /// (a venue's limit-price protection, symmetric in log so it adds no drift): an order
    /// priced beyond it on the aggressive side is priced at its edge, on the passive side it is
    /// dropped. It also keeps an FCN agent whose expected price explodes from sending absurd
    /// prices. Values outside (0, 1] are taken as 1.
    pub max_price_deviation: f64,
}

impl Default for BackgroundConfig {
    fn default() -> Self {
        BackgroundConfig {
            fcn: None,
            noise: None,
            fundamental: FundamentalConfig::default(),
            max_price_deviation: 0.2,
        }
    }
}

/// A population of FCN agents.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FcnConfig {
    pub agents: u32,
    pub params: FcnParams,
    /// Decisions per tick, each by an agent drawn at random (PAMS: one per step).
    pub decisions_per_tick: u32,
    /// Each agent's deposit.
    pub deposit: Money,
    pub leverage: u32,
    /// An opening session (PAMS: orders placed, none executed): for this many ticks the agents'
    /// orders are post-only, so the book fills without trading and the price stays put.
    #[serde(default)]
    pub warmup_ticks: u64,
    /// Slowly varying activity: a tick holds `decisions_per_tick · a_t` decisions on average
    /// (rounded at random). Activity that comes in spells (news, sessions, attention) mixes the
    /// market's volatility over time (Clark's subordination). `None`: a constant rate.
    #[serde(default)]
    pub activity: Option<LogOuConfig>,
    /// Slowly varying chartist sentiment: every decision's chart weight is multiplied by
    /// `s_t`, the population leaning towards or away from trend following together, a reduced
    /// form of the chartist–fundamentalist switching of Lux & Marchesi (1999) that makes
    /// volatility come in spells. `None`: the drawn weights as they are (PAMS).
    #[serde(default)]
    pub chart_sentiment: Option<LogOuConfig>,
}

/// A positive factor `x_t = exp(y_t − σ²/2)` with `y_t` a stationary Ornstein–Uhlenbeck
/// (AR(1)) process of standard deviation `volatility` and correlation time `correlation_ticks`,
/// stepped once a tick; `E[x_t] = 1` when uncapped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogOuConfig {
    pub volatility: f64,
    pub correlation_ticks: f64,
    /// Upper bound on the factor (`x_t = min(exp(y_t − σ²/2), max_factor)`, so its mean is
    /// then below 1): keeps a slowly varying level out of a region the market cannot take,
    /// such as chartist sentiment strong enough to run the price away. `None`: unbounded.
    #[serde(default)]
    pub max_factor: Option<f64>,
}

/// One log-OU factor's configuration and state (`y_t`, starting at 0).
#[derive(Debug, Default, Clone)]
pub struct LogOu {
    pub config: Option<LogOuConfig>,
    pub log_level: f64,
}

impl LogOu {
    /// Steps the process and returns the factor; 1 without a usable config (drawing nothing).
    fn step(&mut self, rng: &mut ChaCha8Rng) -> f64 {
        let Some(c) = self
            .config
            .as_ref()
            .filter(|c| c.volatility > 0.0 && c.volatility.is_finite() && c.correlation_ticks > 0.0)
        else {
            return 1.0;
        };
        let phi = (-1.0 / c.correlation_ticks).exp();
        let z: f64 = StandardNormal.sample(rng);
        self.log_level = phi * self.log_level + c.volatility * (1.0 - phi * phi).sqrt() * z;
        let x = (self.log_level - 0.5 * c.volatility * c.volatility).exp();
        match c.max_factor {
            Some(max) if max > 0.0 => x.min(max),
            _ => x,
        }
    }
}

/// The FCN population's slowly varying activity and chartist sentiment.
#[derive(Resource, Debug, Default)]
pub struct FcnRegime {
    pub activity: LogOu,
    pub chart_sentiment: LogOu,
}

impl FcnRegime {
    /// This tick's number of decisions (around `base · a_t`, rounded at random) and chart-weight
    /// factor.
    fn step(&mut self, base: u32, rng: &mut ChaCha8Rng) -> (u32, f64) {
        let sentiment = self.chart_sentiment.step(rng);
        if self.activity.config.is_none() {
            return (base, sentiment);
        }
        let mean = (base as f64 * self.activity.step(rng)).clamp(0.0, u32::MAX as f64 - 1.0);
        let whole = mean.floor();
        (whole as u32 + u32::from(rng.random::<f64>() < mean - whole), sentiment)
    }
}

/// A population of Poisson noise traders: each arrival is sent by one of them, drawn at random.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseConfig {
    pub agents: u32,
    pub params: NoiseParams,
    pub deposit: Money,
    pub leverage: u32,
}

/// The fundamental price: constant (volatility 0) or a geometric Brownian motion per tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct FundamentalConfig {
    /// Starting value; `None`: the start price.
    pub price: Option<Price>,
    pub volatility_per_tick: f64,
    pub drift_per_tick: f64,
}

/// An FCN agent's draws.
#[derive(Component, Debug, Clone, Copy)]
pub struct FcnTrader(pub FcnAgent);

/// A Poisson noise trader.
#[derive(Component, Debug, Clone, Copy)]
pub struct NoiseTrader;

/// The background traders' random stream.
#[derive(Resource)]
pub struct BackgroundRng(pub ChaCha8Rng);

/// The fundamental price, USD.
#[derive(Resource, Debug, Clone)]
pub struct Fundamental {
    pub value: f64,
    pub config: FundamentalConfig,
}

/// The market price of each tick so far (as far back as the longest FCN window).
#[derive(Resource, Debug, Clone)]
pub struct PriceTape(pub PriceHistory);

/// Who may act, and how.
#[derive(Resource, Debug, Default)]
pub struct BackgroundRoster {
    pub fcn: Vec<Entity>,
    pub fcn_params: Option<FcnParams>,
    pub decisions_per_tick: u32,
    pub warmup_ticks: u64,
    pub noise: Vec<Entity>,
    pub noise_params: Option<NoiseParams>,
    pub max_price_deviation: f64,
}

/// Entities with an order expiring at a tick: bucket `tick % len`. Every TTL is below `len`.
#[derive(Resource, Debug)]
pub struct OrderExpiry {
    buckets: Vec<Vec<Entity>>,
}

impl OrderExpiry {
    fn new(max_ttl: u32) -> OrderExpiry {
        OrderExpiry { buckets: vec![Vec::new(); max_ttl as usize + 2] }
    }
    /// Clamps `ttl` into what the ring holds and files `entity` under its expiry tick.
    fn schedule(&mut self, now: u64, ttl: u32, entity: Entity) -> u64 {
        let ttl = (ttl as u64).clamp(1, self.buckets.len() as u64 - 1);
        let at = now + ttl;
        let len = self.buckets.len() as u64;
        self.buckets[(at % len) as usize].push(entity);
        at
    }
}

/// Opens the background traders' accounts, spawns them, and inserts the resources their
/// systems need (always, so the systems run as no-ops when there is no background flow).
pub(super) fn spawn(
    cfg: &SimConfig,
    ex: &mut Exchange,
    world: &mut World,
    slots: &mut ResourceSlots,
    entities: &mut AccountEntities,
) -> Result<(), SimError> {
    let bg = &cfg.background;
    let mut rng = stream(cfg.seed, BACKGROUND_STREAM);
    let mut roster = BackgroundRoster::default();
    let mut max_ttl = 1u32;
    let mut depth = 1usize;
    let mut regime = FcnRegime::default();
    if let Some(fcn) = &bg.fcn {
        let deposit = fcn.deposit;
        for _ in 0..fcn.agents {
            let agent = FcnAgent::draw(&fcn.params, &mut rng);
            max_ttl = max_ttl.max(agent.order_ttl(&fcn.params));
            let e = spawn_trader(ex, world, entities, deposit, fcn.leverage)?;
            world.entity_mut(e).insert(FcnTrader(agent));
            roster.fcn.push(e);
        }
        depth = fcn.params.max_time_window();
        roster.fcn_params = Some(fcn.params.clone());
        roster.decisions_per_tick = fcn.decisions_per_tick;
        roster.warmup_ticks = fcn.warmup_ticks;
        regime.activity.config = fcn.activity.clone();
        regime.chart_sentiment.config = fcn.chart_sentiment.clone();
    }
    if let Some(noise) = &bg.noise {
        let deposit = noise.deposit;
        for _ in 0..noise.agents {
            let e = spawn_trader(ex, world, entities, deposit, noise.leverage)?;
            world.entity_mut(e).insert(NoiseTrader);
            roster.noise.push(e);
        }
        max_ttl = max_ttl.max(noise.params.limit_ttl);
        roster.noise_params = Some(noise.params.clone());
    }
    let band = bg.max_price_deviation;
    roster.max_price_deviation = if band > 0.0 && band <= 1.0 { band } else { 1.0 };
    let inst = *ex.instrument();
    let start = inst.price_f64(ex.last());
    slots.insert(
        world,
        Fundamental {
            value: bg.fundamental.price.map_or(start, |p| inst.price_f64(p)),
            config: bg.fundamental.clone(),
        },
    );
    slots.insert(world, PriceTape(PriceHistory::new(depth, start)));
    slots.insert(world, OrderExpiry::new(max_ttl));
    slots.insert(world, roster);
    slots.insert(world, regime);
    slots.insert(world, BackgroundRng(rng));
    Ok(())
}

fn spawn_trader(
    ex: &mut Exchange,
    world: &mut World,
    entities: &mut AccountEntities,
    deposit: Money,
    leverage: u32,
) -> Result<Entity, SimError> {
    let account = ex.open_account(deposit, leverage)?;
    let state = ex.ledger().account(account).map(|a| PositionState::of(a, None));
    let mut e = world.spawn((Trader { account }, AgentOrders::default()));
    if let Some(state) = state {
        e.insert(state);
    }
    let id = e.id();
    remember(entities, account, id);
    Ok(id)
}

/// Records this tick's market price (the last trade) and moves the fundamental one step.
pub(super) fn observe_market(
    market: Res<Market>,
    mut tape: ResMut<PriceTape>,
    mut fundamental: ResMut<Fundamental>,
    mut rng: ResMut<BackgroundRng>,
) {
    let ex = &market.0;
    tape.0.push(ex.instrument().price_f64(ex.last()));
    let (sigma, mu) = (fundamental.config.volatility_per_tick, fundamental.config.drift_per_tick);
    if sigma > 0.0 || mu != 0.0 {
        let z: f64 = if sigma > 0.0 { StandardNormal.sample(&mut rng.0) } else { 0.0 };
        let next = fundamental.value * (mu - 0.5 * sigma * sigma + sigma * z).exp();
        if next.is_finite() && next > 0.0 {
            fundamental.value = next;
        }
    }
}

/// Background traders of either kind.
type BackgroundFilter = Or<(With<FcnTrader>, With<NoiseTrader>)>;

/// Cancels the background orders whose time is up (their tag is the expiry tick).
pub(super) fn expire_orders(
    clock: Res<Clock>,
    mut expiry: ResMut<OrderExpiry>,
    mut agents: Query<&mut AgentOrders, BackgroundFilter>,
) {
    let len = expiry.buckets.len() as u64;
    let bucket = &mut expiry.buckets[(clock.tick % len) as usize];
    for entity in bucket.drain(..) {
        let Ok(mut orders) = agents.get_mut(entity) else { continue };
        let orders = &mut *orders;
        let now = clock.tick;
        orders.live.retain(|o| {
            if o.tag <= now {
                orders.pending.push(AgentAction::Cancel(o.id));
                false
            } else {
                true
            }
        });
    }
}

/// Converts a float order to the grid: buys round down, sells up; `None` if nothing is left.
/// Prices are kept within the factor `1 + band` of `reference`: an aggressive price beyond it is
/// pulled back to its edge (it still takes what the book offers up to there), a passive price
/// beyond it is dropped (it would rest out of reach).
fn on_grid(
    inst: &Instrument,
    side: Side,
    price: f64,
    qty: f64,
    reference: f64,
    band: f64,
) -> Option<(Price, Qty)> {
    // Symmetric in log: a buy may go up by the factor 1 + band, a sell down by the same factor.
    let (lo, hi) = (reference / (1.0 + band), reference * (1.0 + band));
    let price = match side {
        Side::Buy if price >= lo => price.min(hi),
        Side::Sell if price <= hi => price.max(lo),
        _ => return None,
    };
    let price = match side {
        Side::Buy => inst.price_floor(price),
        Side::Sell => inst.price_ceil(price),
    }
    .ok()
    .filter(|p| p.is_positive())?;
    let qty = inst.qty_floor(qty).ok().filter(|q| q.is_positive())?;
    Some((price, qty))
}

/// `decisions_per_tick` FCN decisions, each by an agent drawn at random: a GTC limit order
/// (post-only during the opening session) tagged with its expiry tick.
#[allow(clippy::too_many_arguments)]
pub(super) fn decide_fcn(
    (clock, market): (Res<Clock>, Res<Market>),
    (tape, fundamental, roster): (Res<PriceTape>, Res<Fundamental>, Res<BackgroundRoster>),
    mut rng: ResMut<BackgroundRng>,
    (mut expiry, mut regime): (ResMut<OrderExpiry>, ResMut<FcnRegime>),
    mut agents: Query<(&FcnTrader, &mut AgentOrders)>,
) {
    let Some(params) = &roster.fcn_params else { return };
    if roster.fcn.is_empty() {
        return;
    }
    let inst = *market.0.instrument();
    let last = tape.0.latest();
    let kind = if clock.tick <= roster.warmup_ticks { OrderKind::PostOnly } else { OrderKind::Gtc };
    let (decisions, sentiment) = regime.step(roster.decisions_per_tick, &mut rng.0);
    for _ in 0..decisions {
        let entity = roster.fcn[rng.0.random_range(0..roster.fcn.len())];
        let Ok((agent, mut orders)) = agents.get_mut(entity) else { continue };
        let mut view = agent.0;
        view.chart_weight *= sentiment;
        let Some((side, price, qty)) =
            fcn_decide(params, &view, last, fundamental.value, &tape.0, &mut rng.0)
        else {
            continue;
        };
        let Some((price, qty)) = on_grid(&inst, side, price, qty, last, roster.max_price_deviation) else {
            continue;
        };
        let tag = expiry.schedule(clock.tick, agent.0.order_ttl(params), entity);
        orders.push(AgentAction::Place { side, kind, price, qty, reduce_only: false, tag });
    }
}

/// This tick's Poisson noise orders, each sent by a noise trader drawn at random: market
/// orders, and GTC limit orders tagged with their expiry tick.
pub(super) fn decide_noise(
    (clock, market): (Res<Clock>, Res<Market>),
    (tape, roster): (Res<PriceTape>, Res<BackgroundRoster>),
    mut rng: ResMut<BackgroundRng>,
    mut expiry: ResMut<OrderExpiry>,
    mut agents: Query<&mut AgentOrders, With<NoiseTrader>>,
    mut scratch: Local<Vec<NoiseOrder>>,
) {
    let Some(params) = &roster.noise_params else { return };
    if roster.noise.is_empty() {
        return;
    }
    let inst = *market.0.instrument();
    scratch.clear();
    noise_orders(params, tape.0.latest(), &mut rng.0, &mut scratch);
    for order in scratch.iter() {
        let entity = roster.noise[rng.0.random_range(0..roster.noise.len())];
        let Ok(mut orders) = agents.get_mut(entity) else { continue };
        let action = match *order {
            NoiseOrder::Market { side, qty } => {
                let Some(qty) = inst.qty_floor(qty).ok().filter(|q| q.is_positive()) else { continue };
                AgentAction::Place {
                    side,
                    kind: OrderKind::Market,
                    price: Price::ZERO,
                    qty,
                    reduce_only: false,
                    tag: 0,
                }
            }
            NoiseOrder::Limit { side, price, qty } => {
                let reference = tape.0.latest();
                let Some((price, qty)) =
                    on_grid(&inst, side, price, qty, reference, roster.max_price_deviation)
                else {
                    continue;
                };
                let tag = expiry.schedule(clock.tick, params.limit_ttl, entity);
                AgentAction::Place { side, kind: OrderKind::Gtc, price, qty, reduce_only: false, tag }
            }
        };
        orders.push(action);
    }
}

/// Decisions per tick in [`SimConfig::pams_ci2002`]: one PAMS step is one decision, and a tick
/// carries this many (the per-tick work of the world, not the decisions, would otherwise set
/// the pace). PAMS's times in steps become ticks by dividing by this, and its per-step noise
/// scale is multiplied by it, so that every term of the expected price is unchanged.
pub const PAMS_DECISIONS_PER_TICK: u32 = 10;

impl SimConfig {
    /// A market of FCN agents alone at PAMS's scale: price 300, tick 0.00001, lot 1 unit, no
    /// fees, a constant fundamental at 300; no liquidation map, no liquidity provider, the
    /// index (hence the mark) tracking the mid. Each agent deposits 25,000 (PAMS's endowment:
    /// cash 10,000 plus 50 units at 300) and trades it at 1x.
    pub fn fcn_only(agents: u32, ticks: u64, params: FcnParams, decisions_per_tick: u32) -> SimConfig {
        let mut exchange = ExchangeConfig::btcusdt();
        // Tick 0.00001, lot 1: one lot moving one tick is worth 10 micro-USD.
        if let Ok(inst) = Instrument::from_units(10, 100_000_000) {
            exchange.instrument = inst;
        }
        exchange.maker_fee = Rate(0);
        exchange.taker_fee = Rate(0);
        exchange.impact_notional = Money::usd(300);
        let mut cfg = SimConfig::btc_14_to_1(1, ticks, 0.0);
        // The seed's watch levels (USD) on this instrument's grid.
        let inst = exchange.instrument;
        cfg.watch_levels = cfg.watch_levels_usd().into_iter().filter_map(|l| inst.price(l).ok()).collect();
        cfg.exchange = exchange;
        // 300 at tick 0.00001.
        cfg.start_price = Price(30_000_000);
        cfg.insurance_fund = Money::usd(1_000_000);
        cfg.map.bands.clear();
        cfg.map.price = cfg.start_price;
        cfg.liquidity.depth = None;
        cfg.arbitrageurs.clear();
        cfg.index = IndexConfig {
            volatility_per_sqrt_day: 0.0,
            drift_per_day: 0.0,
            tail_dof: None,
            venues: Vec::new(),
        };
        cfg.background = BackgroundConfig {
            fcn: Some(FcnConfig {
                agents,
                params,
                decisions_per_tick,
                deposit: Money::usd(25_000),
                leverage: 1,
                warmup_ticks: 0,
                activity: None,
                chart_sentiment: None,
            }),
            noise: None,
            fundamental: FundamentalConfig {
                price: Some(Price(30_000_000)),
                volatility_per_tick: 0.0,
                drift_per_tick: 0.0,
            },
            ..BackgroundConfig::default()
        };
        cfg
    }

    /// PAMS's CI2002 sample market ([`SimConfig::fcn_only`] with [`FcnParams::pams_ci2002`]):
    /// `agents` FCN agents (PAMS: 100) and `steps` decisions, [`PAMS_DECISIONS_PER_TICK`] per
    /// tick. PAMS's times in steps become ticks by dividing by that, and its per-step noise
    /// scale is multiplied by it, so every term of the expected price is unchanged. Differences
    /// from PAMS: agents start flat (a perp, not an inventory of shares), the opening session
    /// (100 steps of placement without execution) is post-only orders, and the decisions of one
    /// tick all see the price at its start.
    pub fn pams_ci2002(agents: u32, steps: u64) -> SimConfig {
        let d = PAMS_DECISIONS_PER_TICK;
        let mut params = FcnParams::pams_ci2002();
        let per_tick = |(lo, hi): (f64, f64)| (lo / d as f64, hi / d as f64);
        params.mean_reversion_time = params.mean_reversion_time.map(per_tick);
        params.time_window = per_tick(params.time_window);
        params.noise_scale *= d as f64;
        let mut cfg = SimConfig::fcn_only(agents, steps.div_ceil(d as u64), params, d);
        // PAMS's opening session: 100 steps of placement without execution.
        if let Some(fcn) = cfg.background.fcn.as_mut() {
            fcn.warmup_ticks = 100 / d as u64;
        }
        cfg
    }
}

#[cfg(test)]
#[path = "background_tests.rs"]
mod tests;
