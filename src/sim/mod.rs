//! The ECS world: trader agents as entities, the exchange as a resource, and one tick as a chain
//! of system sets (Clock → Exogenous → Decide → Match → Mark → Liquidate → Funding → Settle →
//! Record). Systems are thin: every state change goes through [`Exchange`], whose recorder
//! applies it to the exchange state as an event, exactly as replay does; what was recorded
//! reaches the other systems as messages ([`TradeExecuted`], [`MarkChanged`],
//! [`PositionLiquidated`], [`StopFired`], [`AccountChanged`]). A run that hits an engine error halts through
//! the sets' run condition.

mod agents;
mod background;
mod hunters;
mod levels;
mod makers;
mod messages;
mod metrics;
mod orders;
mod slots;
mod spot;
pub mod wake;

pub use agents::{LevelCrossing, LiquidityConfig, LiquidityProvider, PositionHolder, PositionState, Trader};
pub use background::{
    BACKGROUND_STREAM, BackgroundConfig, BackgroundRng, BackgroundRoster, FcnConfig, FcnTrader, Fundamental,
    FundamentalConfig, LogOuConfig, NoiseConfig, NoiseTrader, PAMS_DECISIONS_PER_TICK, PriceTape,
};
pub use hunters::{Hunter, HunterConfig, HunterReport, exact_map, hunter_pnl, push_cost};
pub use levels::{LevelReport, LevelRules, Verdict};
pub use makers::{MakerConfig, MarketMaker};
pub use messages::{
    AccountChanged, LiquidationSettled, MarkChanged, PositionLiquidated, Publisher, StopFired, TradeExecuted,
};
pub use metrics::{Cascade, HeatmapColumn, HeatmapSamples, Metrics, RunSummary, Swings, TickRow};
pub use orders::{AgentAction, AgentOrders, LiveOrder};
pub use spot::{Arbitrageur, IndexConfig, SpotMarket, ValueTrader};

use crate::book::{AccountId, OrderKind, StopId, StopKind};
use crate::engine::{
    EngineError, Exchange, ExchangeConfig, LogTarget, OrderRequest, StopRequest, StopSubmitted, Submitted,
};
use crate::liquidity::DepthCurve;
use crate::population::{self, MapPlan, Role, SeededAccount};
use crate::units::{Money, Price, Qty, Side};
use bevy_ecs::message::message_update_system;
use bevy_ecs::prelude::*;
use bevy_ecs::schedule::common_conditions::resource_exists;
use bevy_ecs::schedule::{LogLevel, ScheduleBuildSettings, SingleThreadedExecutor};
use rand::{SeedableRng, rngs::ChaCha8Rng};
use serde::{Deserialize, Serialize};

/// How fast the liquidity provider puts back depth that was taken: half of it in 20 seconds.
/// Studies of order-book resilience find depth replenished within seconds to tens of seconds
/// after a large trade (Large 2007, "Measuring the resiliency of an electronic limit order
/// book", J. Financial Markets; Degryse, de Jong, van Ravenswaaij & Wuyts 2005, "Aggressive
/// orders and the resiliency of a limit order market", Review of Finance); no BTC-specific
/// figure is public, so runs should be read across a range of it (docs/market.md).
pub const LIQUIDITY_REFILL_HALF_LIFE_SECS: f64 = 20.0;

/// How closely the liquidity provider's quoting centre follows the index: half the gap in 5
/// seconds. Binance's own mark and premium machinery samples every 5 seconds (calibration.md);
/// quoting much slower than that would leave a basis arbitrageurs trade away.
pub const LIQUIDITY_ANCHOR_HALF_LIFE_SECS: f64 = 5.0;

/// A market order sent by an outside account at a given tick: as many lots as `notional` buys
/// at the last price of that tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shock {
    pub tick: u64,
    pub side: Side,
    /// Where it trades: the perpetual's book (the default) or the spot venues, split by
    /// weight (news hitting spot reaches the perp through the index and the arbitrageurs).
    #[serde(default)]
    pub market: ShockMarket,
    pub notional: Money,
}

/// Where a shock trades.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ShockMarket {
    #[default]
    Perp,
    Spot,
}

/// Passive position holders' behaviour: rare wake-ups drawn from hazard rates. Scenario files
/// write it as `holders` (every field optional, defaulting as below).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
// Scenario files have always called it `HolderSpec`: RON checks a struct name written in the
// file, and parse errors name the struct, so both keep that name.
#[serde(deny_unknown_fields, default, rename = "HolderSpec")]
pub struct HolderConfig {
    /// Expected voluntary closes per open position per day.
    pub close_per_day: f64,
    /// Expected margin top-ups per open position per day.
    pub add_margin_per_day: f64,
    /// A top-up, as a fraction of the position's margin.
    pub add_margin_fraction: f64,
    /// Expected re-entries per day of a holder who is flat (closed or liquidated).
    pub reenter_per_day: f64,
    /// Spare cash each holder deposits beside its margin, as a fraction of that margin: what
    /// top-ups and re-entries are paid from. In a cross account it also backs the position (the
    /// map's solve counts it in, so the liquidation price still lands in the band).
    pub reserve_fraction: f64,
}

impl Default for HolderConfig {
    /// A scenario's holders when it says nothing of them.
    fn default() -> HolderConfig {
        HolderConfig {
            close_per_day: 0.5,
            add_margin_per_day: 0.5,
            add_margin_fraction: 0.2,
            reenter_per_day: 1.0,
            reserve_fraction: 0.2,
        }
    }
}

/// A basis arbitrageur: its perp account and its decision rule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArbConfig {
    pub deposit: Money,
    pub leverage: u32,
    pub params: crate::agents::ArbParams,
}

impl ArbConfig {
    /// The default arbitrage desks: four, each holding at most $250M hedged at 5x on $100M
    /// (see [`crate::agents::ArbParams::calibrated`]): $1B of basis capacity against Binance
    /// BTCUSDT's open interest of several billion.
    pub fn calibrated() -> Vec<ArbConfig> {
        let one = ArbConfig {
            deposit: Money::usd(100_000_000),
            leverage: 5,
            params: crate::agents::ArbParams::calibrated(),
        };
        vec![one; 4]
    }
}

/// How many value traders the calibrated market has.
pub const VALUE_TRADERS: u32 = 8;

/// The default value traders (see [`crate::sim::ValueTrader`]): eight, each holding at most
/// $250M of spot and perp together, building or unwinding it at $1M a second and looking every 10 seconds, with
/// entry discounts spread evenly from 2% to 9% of the fair value and an exit within 0.5%: $2B
/// of capital that leans on a dislocation, more the deeper it goes. The capital is an
/// assumption (no public figure sizes it; twice the desks'), and docs/market.md measures what
/// it changes.
pub fn value_calibrated() -> Vec<crate::agents::ArbParams> {
    value_set(VALUE_TRADERS, 250e6, 1e6, (0.02, 0.09), 0.005, 10.0)
}

/// `traders` value traders whose entry discounts are spread evenly over `discounts` (fractions:
/// the first trader enters at the low end, the last at the high end).
pub fn value_set(
    traders: u32,
    max_position_usd: f64,
    rate_usd_per_sec: f64,
    discounts: (f64, f64),
    exit: f64,
    reaction_secs: f64,
) -> Vec<crate::agents::ArbParams> {
    (0..traders)
        .map(|k| {
            let share = if traders > 1 { k as f64 / (traders - 1) as f64 } else { 0.0 };
            let discount = discounts.0 + (discounts.1 - discounts.0) * share;
            crate::agents::ArbParams::value(max_position_usd, rate_usd_per_sec, discount, exit, reaction_secs)
        })
        .collect()
}

/// Everything a run needs, converted: money, prices and sizes in the exact units of the
/// instrument, so that building a world converts nothing (the RON scenario loader builds this
/// once, after validation; [`SimConfig::btc_14_to_1`] and friends build it in code). Behavioural
/// parameters (rates, fractions, the agents' float-valued decision parameters) stay `f64`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    pub seed: u64,
    pub exchange: ExchangeConfig,
    /// Index, mark and last at the start.
    pub start_price: Price,
    pub ticks: u64,
    pub insurance_fund: Money,
    /// The liquidation map, on the grid (empty: a market without leverage).
    pub map: MapPlan,
    pub index: IndexConfig,
    pub liquidity: LiquidityConfig,
    pub holders: HolderConfig,
    pub shocks: Vec<Shock>,
    /// Background order flow (FCN and noise traders); none by default.
    #[serde(default)]
    pub background: BackgroundConfig,
    /// Market makers quoting ladders (none by default).
    #[serde(default)]
    pub makers: Vec<MakerConfig>,
    /// Liquidation hunters (none by default).
    #[serde(default)]
    pub hunters: Vec<HunterConfig>,
    /// Basis arbitrageurs between the perp and the spot venues (none by default).
    #[serde(default)]
    pub arbitrageurs: Vec<ArbConfig>,
    /// Value traders: capital that buys a deep discount to the fair value and sells a premium
    /// (none by default; they need spot venues, whose fair value they trade against).
    #[serde(default)]
    pub value_traders: Vec<crate::agents::ArbParams>,
    /// Price levels whose fate the summary reports (none by default).
    #[serde(default)]
    pub watch_levels: Vec<Price>,
}

impl SimConfig {
    /// The start price in USD (exact: a price on the grid converts to the float it was written
    /// as).
    pub fn start_price_usd(&self) -> f64 {
        self.exchange.instrument.price_f64(self.start_price)
    }

    /// The watch levels in USD.
    pub fn watch_levels_usd(&self) -> Vec<f64> {
        self.watch_levels.iter().map(|&p| self.exchange.instrument.price_f64(p)).collect()
    }
}

impl SimConfig {
    /// The seed's world: the 14:1 map at `accounts` accounts around 71,450, Binance BTCUSDT's
    /// depth curve ($184M within 1% a side, refilling with a 20 s half-life), a $1B insurance
    /// fund, the calibrated spot venues and arbitrage desks, a fair value trending by
    /// `drift_total` (log) over `ticks` one-second ticks, and passive holders.
    pub fn btc_14_to_1(accounts: u32, ticks: u64, drift_total: f64) -> SimConfig {
        let exchange = ExchangeConfig::btcusdt();
        let inst = exchange.instrument;
        let start_price = Price(714_500);
        SimConfig {
            seed: 11,
            exchange,
            start_price,
            ticks,
            insurance_fund: Money::usd(1_000_000_000),
            // Constants on the grid: the conversion cannot fail.
            map: population::seed_map_btc_14_to_1(accounts).plan(&inst).unwrap_or_default(),
            index: IndexConfig::calibrated(drift_total / (ticks.max(1) as f64 / 86_400.0)),
            liquidity: LiquidityConfig {
                deposit: Money::usd(200_000_000_000),
                leverage: 5,
                depth: Some(DepthCurve::binance_btcusdt_perp()),
                refill_half_life_secs: LIQUIDITY_REFILL_HALF_LIFE_SECS,
                anchor_half_life_secs: LIQUIDITY_ANCHOR_HALF_LIFE_SECS,
                withdraw_flow_per_sec: Money::ZERO,
                withdraw_secs: 0,
                crossing: LevelCrossing::Slide,
            },
            holders: HolderConfig {
                close_per_day: 0.0,
                add_margin_per_day: 0.0,
                add_margin_fraction: 0.0,
                reenter_per_day: 0.0,
                reserve_fraction: 0.0,
            },
            shocks: Vec::new(),
            background: BackgroundConfig::default(),
            makers: Vec::new(),
            hunters: Vec::new(),
            arbitrageurs: ArbConfig::calibrated(),
            value_traders: value_calibrated(),
            // The seed's levels above, and their mirrors around 71,450 below.
            watch_levels: [850_000, 900_000, 950_000, 1_000_000, 579_000, 529_000, 479_000, 429_000]
                .map(Price)
                .to_vec(),
        }
    }
}

impl SimConfig {
    /// The full agent mix on the seed's map, as the speed target is stated: `accounts`
    /// leveraged accounts, 1,000 FCN agents (10 decisions a second), 200 noise traders, two
    /// market makers and one adaptive hunter, a 1x liquidity provider, passive holders waking at
    /// daily rates, over `ticks` one-second ticks.
    pub fn full_mix(accounts: u32, ticks: u64) -> SimConfig {
        let mut cfg = SimConfig::btc_14_to_1(accounts, ticks, 0.0);
        cfg.liquidity.leverage = 1;
        cfg.holders = HolderConfig {
            close_per_day: 0.5,
            add_margin_per_day: 0.5,
            add_margin_fraction: 0.2,
            reenter_per_day: 1.0,
            reserve_fraction: 0.2,
        };
        let mut fcn = crate::agents::FcnParams::pams_ci2002();
        fcn.order_qty = 0.01;
        cfg.background = BackgroundConfig {
            fcn: Some(FcnConfig {
                agents: 1_000,
                params: fcn,
                decisions_per_tick: 10,
                deposit: Money::usd(1_000_000),
                leverage: 5,
                warmup_ticks: 10,
                activity: None,
                chart_sentiment: None,
            }),
            noise: Some(NoiseConfig {
                agents: 200,
                params: crate::agents::NoiseParams {
                    market_orders_per_tick: 0.5,
                    limit_orders_per_tick: 2.0,
                    buy_probability: 0.5,
                    size_mean: 0.5,
                    limit_offset_mean: 0.001,
                    limit_ttl: 120,
                },
                deposit: Money::usd(2_000_000),
                leverage: 5,
            }),
            ..BackgroundConfig::default()
        };
        cfg.makers = vec![MakerConfig::default(), MakerConfig::default()];
        // The seed's whale reads the exchange's own map (an insider).
        let mut whale = HunterConfig::default();
        whale.hunting.map = crate::agents::hunter::MapView::Exact;
        cfg.hunters = vec![whale];
        cfg
    }
}

/// The system sets of one tick, in order. Settle comes after everything that changes accounts
/// (fills, liquidations, funding): it brings the agents' components up to date with the tick
/// before they decide again.
#[derive(SystemSet, Debug, Clone, PartialEq, Eq, Hash)]
pub enum SimSystems {
    Clock,
    Exogenous,
    Decide,
    Match,
    Mark,
    Liquidate,
    Funding,
    Settle,
    Record,
}

/// The exchange, as a resource.
#[derive(Resource)]
pub struct Market(pub Exchange);

/// Simulated time.
#[derive(Resource, Debug, Clone, Copy)]
pub struct Clock {
    pub tick: u64,
    pub ticks: u64,
}

/// The agents' random stream (ChaCha8: portable, so a seed means the same run everywhere).
#[derive(Resource)]
pub struct SimRng(pub ChaCha8Rng);

/// The index process's own stream, so the exogenous path is the same whatever the population:
/// a control run without the shorts sees exactly the same index noise.
#[derive(Resource)]
pub struct IndexRng(pub ChaCha8Rng);

/// Independent streams from one seed: stream `k` of seed `s`.
fn stream(seed: u64, k: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(k);
    rng
}

/// The stream a run of `seed` draws its liquidation map from (first, from account 0):
/// validation draws the same map to refuse, before the run, what only a drawn map shows.
pub fn map_rng(seed: u64) -> ChaCha8Rng {
    stream(seed, 0)
}

/// The index price between Exogenous and Mark, in ticks as a float (the weighted median of the
/// spot venues' mids, set in Exogenous and again after the arbitrageurs hedged).
#[derive(Resource, Debug)]
pub struct IndexState {
    pub value: f64,
}

/// Shocks not yet sent, and the account that sends them.
#[derive(Resource, Debug)]
pub struct ShockQueue {
    pub account: AccountId,
    /// Shocks not yet sent, in time order (equal ticks in the order they were queued).
    pending: std::collections::VecDeque<Shock>,
    /// The perp shocks sent this tick, in the order their market orders go to the book: what
    /// the venue's price band leaves of each is sent again the next tick.
    pub sent: Vec<Shock>,
}

impl ShockQueue {
    pub fn new(account: AccountId, mut shocks: Vec<Shock>) -> ShockQueue {
        shocks.sort_by_key(|s| s.tick);
        ShockQueue { account, pending: shocks.into(), sent: Vec::new() }
    }

    /// Queues a shock after every one due at or before its tick.
    pub fn push(&mut self, shock: Shock) {
        let at = self.pending.partition_point(|s| s.tick <= shock.tick);
        self.pending.insert(at, shock);
    }

    /// Removes and returns the shocks on `market` due by `tick`, in time order. Only the due
    /// front of the queue is looked at: a shock spread over every tick of an hour costs a few
    /// moves a tick, not the whole queue's.
    pub fn take_due(&mut self, tick: u64, market: ShockMarket) -> Vec<Shock> {
        let end = self.pending.partition_point(|s| s.tick <= tick);
        let (due, other): (Vec<Shock>, Vec<Shock>) =
            self.pending.drain(..end).partition(|s| s.market == market);
        for s in other.into_iter().rev() {
            self.pending.push_front(s);
        }
        due
    }
}

/// Wake-ups of passive agents: (tick, entity), earliest first.
#[derive(Resource, Default)]
pub struct WakeQueue(pub wake::WakeWheel);

/// Account id → its entity, for mirroring ledger changes onto components.
#[derive(Resource, Default)]
pub struct AccountEntities(pub Vec<Option<Entity>>);

/// The watch levels of the run and its start price (USD), for the summary.
#[derive(Resource, Debug, Clone)]
pub struct WatchLevels {
    pub levels: Vec<f64>,
    pub start: f64,
}

/// The first engine error: once set, the run stops (systems later in the same tick may still
/// run and fail because of it; [`Halt::stop`] keeps the first error as the cause).
#[derive(Resource, Default)]
pub struct Halt(pub Option<EngineError>);

impl Halt {
    /// Halts the run with `e`, unless it has already halted: the first error is the cause, and
    /// what later systems of the same tick fail on because of it must not replace it.
    pub fn stop(&mut self, e: impl Into<EngineError>) {
        self.0.get_or_insert(e.into());
    }
}

/// The run condition of every set after the clock: nothing runs once the run has halted.
fn running(halt: Res<Halt>) -> bool {
    halt.0.is_none()
}

/// An order an agent decided to send this tick.
#[derive(Message, Debug, Clone, Copy)]
pub struct OrderIntent(pub OrderRequest);

/// Free balance an account wants moved into its position margin this tick.
#[derive(Message, Debug, Clone, Copy)]
pub struct MarginIntent {
    pub account: AccountId,
    pub amount: Money,
}

/// A stop order its owner wants cancelled this tick (nothing happens if it has triggered or
/// been cancelled since).
#[derive(Message, Debug, Clone, Copy)]
pub struct CancelStopIntent {
    pub account: AccountId,
    pub stop: StopId,
}

/// The random stream of the map holders' stop-losses: stops drawn from a stream of their own
/// leave every other draw of a run as it was without them.
pub const STOPS_STREAM: u64 = 0x570;

/// A world ready to run, and its schedule.
pub struct Simulation {
    pub world: World,
    schedule: Schedule,
    /// The entities still free to hold a resource inserted after the build.
    slots: slots::ResourceSlots,
}

impl Simulation {
    /// Builds the world: the exchange, the seeded liquidation map, the liquidity provider. The
    /// event log, if any, goes to `log`.
    pub fn new(cfg: &SimConfig, log: Option<LogTarget>) -> Result<Simulation, SimError> {
        Simulation::build(cfg, log, true)
    }

    /// [`Simulation::new`] without the event stream hash, for callers that do not report it (a
    /// Monte Carlo keeps each run's final state hash): the run is the same event for event, the
    /// log (if any) is the same byte for byte, and the summary's `event_stream_hash` is empty.
    pub fn new_without_stream_hash(cfg: &SimConfig, log: Option<LogTarget>) -> Result<Simulation, SimError> {
        Simulation::build(cfg, log, false)
    }

    fn build(cfg: &SimConfig, log: Option<LogTarget>, stream_hash: bool) -> Result<Simulation, SimError> {
        let inst = cfg.exchange.instrument;
        let start = cfg.start_price;
        let mut ex = Exchange::new(cfg.exchange.clone(), start, log)?;
        if !stream_hash {
            ex.skip_stream_hash();
        }
        let mut rng = map_rng(cfg.seed);
        ex.fund_insurance(cfg.insurance_fund)?;
        // A market without leverage (e.g. background traders alone) has no map to seed.
        let map = if cfg.map.bands.is_empty() {
            population::SeededMap::default()
        } else {
            let reserve = cfg.holders.reserve_fraction;
            population::generate(&cfg.map, &inst, &cfg.exchange.tiers, &mut rng, AccountId(0), reserve)?
        };
        for event in map.events() {
            ex.record(event, None)?;
        }
        ex.refresh_liquidation_index()?;
        // The holders' stop-losses, where their bands give them some.
        let mut stop_of: Vec<Option<StopId>> = Vec::new();
        let drawn = population::draw_stops(&cfg.map, &map, &mut stream(cfg.seed, STOPS_STREAM));
        for s in drawn {
            let req = StopRequest {
                account: s.account,
                side: s.side,
                kind: StopKind::StopMarket,
                source: s.source,
                trigger: s.trigger,
                qty: s.qty,
                reduce_only: true,
            };
            if let StopSubmitted::Accepted(id) = ex.place_stop(req, None)? {
                let i = s.account.0 as usize;
                if stop_of.len() <= i {
                    stop_of.resize(i + 1, None);
                }
                stop_of[i] = Some(id);
            }
        }

        let mut world = World::new();
        let mut slots = slots::ResourceSlots::reserve(&mut world);
        let mut entities = AccountEntities::default();
        let mut wake = WakeQueue::default();
        let rates = HolderRates::new(&cfg.holders, cfg.exchange.tick_secs);
        // Spawned whole (inserting the holder afterwards moved each of a million entities to
        // another table), a run of consecutive accounts of one role at a time: each run's table
        // is sized once rather than doubled a million entities long, and entities are numbered
        // in account order, as one spawn at a time numbers them.
        let hazard = if rates.open > 0.0 { rates.open } else { rates.flat };
        // Every seeded account was opened above; one that was not would shift the numbering.
        if let Some(a) = map.accounts.iter().find(|a| ex.ledger().account(a.account).is_none()) {
            return Err(EngineError::Ledger(crate::ledger::LedgerError::UnknownAccount(a.account)).into());
        }
        let state = |acct: &SeededAccount| {
            let a = &ex.ledger().accounts()[acct.account.0 as usize];
            PositionState::of(a, ex.liquidation_index().get(acct.account).map(|e| e.price))
        };
        let mut rest = &map.accounts[..];
        while let Some(first) = rest.first() {
            let (run, next) =
                rest.split_at(rest.iter().position(|a| a.role != first.role).unwrap_or(rest.len()));
            rest = next;
            if first.role == Role::Map {
                let holders = run.iter().map(|acct| {
                    let side = if acct.qty.is_positive() { Side::Buy } else { Side::Sell };
                    let stop = stop_of.get(acct.account.0 as usize).copied().flatten();
                    (Trader { account: acct.account }, state(acct), PositionHolder { side, stop })
                });
                for (acct, id) in run.iter().zip(world.spawn_batch(holders)) {
                    if let Some(t) = agents::next_wake(&mut rng, 0, hazard) {
                        wake.0.push(t, id);
                    }
                    agents::remember(&mut entities, acct.account, id);
                }
            } else {
                let others = run.iter().map(|acct| (Trader { account: acct.account }, state(acct)));
                for (acct, id) in run.iter().zip(world.spawn_batch(others)) {
                    agents::remember(&mut entities, acct.account, id);
                }
            }
        }
        // No depth curve: no liquidity provider (e.g. background traders make the book).
        if let Some(lp) = LiquidityProvider::new(&cfg.liquidity, &inst, start) {
            let lp_account = ex.open_account(cfg.liquidity.deposit, cfg.liquidity.leverage)?;
            let lp_state = PositionState::of(&ex.ledger().accounts()[lp_account.0 as usize], None);
            let lp_entity =
                world.spawn((Trader { account: lp_account }, lp_state, lp, AgentOrders::default())).id();
            agents::remember(&mut entities, lp_account, lp_entity);
        }
        // Fully funded (1x): a shock is an outside order, not a leveraged bet to be liquidated.
        let shock_account = ex.open_account(Money::usd(1_000_000_000_000), 1)?;
        background::spawn(cfg, &mut ex, &mut world, &mut slots, &mut entities)?;
        // Makers and hunters after every other account, so worlds without them are unchanged.
        for m in &cfg.makers {
            let account = ex.open_account(m.deposit, m.leverage.max(1))?;
            let state = PositionState::of(&ex.ledger().accounts()[account.0 as usize], None);
            let maker = MarketMaker { params: m.quoting.clone(), state: Default::default() };
            let mut e = world.spawn((Trader { account }, state, maker, AgentOrders::default()));
            if let Some(hunting) = &m.hunting {
                e.insert(Hunter::new(hunting.clone(), None, m.deposit, cfg.start_price_usd()));
            }
            agents::remember(&mut entities, account, e.id());
        }
        for h in &cfg.hunters {
            let deposit = h.deposit;
            let account = ex.open_account(deposit, h.leverage.max(1))?;
            let state = PositionState::of(&ex.ledger().accounts()[account.0 as usize], None);
            let hunter = Hunter::new(h.hunting.clone(), h.team, deposit, cfg.start_price_usd());
            let id = world.spawn((Trader { account }, state, hunter, AgentOrders::default())).id();
            agents::remember(&mut entities, account, id);
        }
        for (k, a) in cfg.arbitrageurs.iter().enumerate() {
            let account = ex.open_account(a.deposit, a.leverage.max(1))?;
            let state = PositionState::of(&ex.ledger().accounts()[account.0 as usize], None);
            let arb = Arbitrageur::new(a.params.clone(), k as u64);
            let id = world.spawn((Trader { account }, state, arb, AgentOrders::default())).id();
            agents::remember(&mut entities, account, id);
        }
        // Value traders: a perp account whose deposit is their largest position, at 2x (a full
        // long is liquidated only after the price has fallen by about 40%), and a spot-book id
        // after the desks'.
        for (k, params) in cfg.value_traders.iter().enumerate() {
            let deposit = Money::usd(params.max_position_usd.ceil().max(1.0) as i64);
            let account = ex.open_account(deposit, 2)?;
            let state = PositionState::of(&ex.ledger().accounts()[account.0 as usize], None);
            let value = ValueTrader::new(params.clone(), deposit, 2 + (cfg.arbitrageurs.len() + k) as u32);
            let id = world.spawn((Trader { account }, state, value, AgentOrders::default())).id();
            agents::remember(&mut entities, account, id);
        }
        // Components were just built from the ledger: what happens from here on reaches them as
        // messages.
        ex.refresh_liquidation_index()?;
        ex.set_publishing(true);

        slots.register_message::<OrderIntent>(&mut world);
        slots.register_message::<MarginIntent>(&mut world);
        slots.register_message::<CancelStopIntent>(&mut world);
        messages::register(&mut world, &mut slots);
        let needed = cfg
            .hunters
            .iter()
            .map(|h| &h.hunting)
            .chain(cfg.makers.iter().filter_map(|m| m.hunting.as_ref()))
            .any(|p| p.map.is_estimated());
        slots.insert(&mut world, hunters::OpenInterestAdded::of(&map, &inst, needed));
        slots.insert(&mut world, Market(ex));
        slots.insert(&mut world, Clock { tick: 0, ticks: cfg.ticks });
        slots.insert(&mut world, SimRng(rng));
        let spot =
            SpotMarket::new(&cfg.index, &inst, start, stream(cfg.seed, 1)).map_err(EngineError::from)?;
        slots.insert(&mut world, IndexState { value: spot.index().unwrap_or(start.0 as f64) });
        slots.insert(&mut world, spot);
        slots.insert(&mut world, ShockQueue::new(shock_account, cfg.shocks.clone()));
        slots.insert(&mut world, wake);
        slots.insert(&mut world, entities);
        slots.insert(&mut world, Halt::default());
        slots.insert(&mut world, rates);
        slots.insert(&mut world, Metrics::new(start));
        slots
            .insert(&mut world, WatchLevels { levels: cfg.watch_levels_usd(), start: cfg.start_price_usd() });
        Ok(Simulation { world, schedule: build_schedule(), slots })
    }

    /// Samples the liquidation map into [`HeatmapSamples`] every `ticks` ticks (from the first).
    pub fn sample_heatmap_every(&mut self, ticks: u64) {
        self.slots.insert(&mut self.world, HeatmapSamples::every(ticks));
    }

    /// Runs one tick. Returns false when the horizon is reached or the run halted.
    pub fn step(&mut self) -> Result<bool, SimError> {
        let clock = *self.world.resource::<Clock>();
        if clock.tick >= clock.ticks {
            return Ok(false);
        }
        self.schedule.run(&mut self.world);
        if let Some(e) = self.world.resource_mut::<Halt>().0.take() {
            return Err(e.into());
        }
        Ok(true)
    }

    /// Runs to the horizon, calling `progress(tick)` after each tick.
    pub fn run(&mut self, mut progress: impl FnMut(u64)) -> Result<RunSummary, SimError> {
        while self.step()? {
            progress(self.world.resource::<Clock>().tick);
        }
        self.finish()
    }

    /// Finishes the log and summarises the run.
    pub fn finish(&mut self) -> Result<RunSummary, SimError> {
        let mut summary = {
            let market = &self.world.resource::<Market>().0;
            self.world.resource::<Metrics>().summary(market)
        };
        if let Some(w) = self.world.get_resource::<WatchLevels>() {
            let tick_secs = self.world.resource::<Market>().0.config().tick_secs;
            let rules = LevelRules::default();
            summary.levels =
                levels::evaluate(&w.levels, w.start, self.world.resource::<Metrics>(), &rules, tick_secs);
        }
        summary.hunters = hunters::reports(&self.world);
        summary.hunter_pnl = summary.hunters.iter().map(|h| h.pnl_usd).sum();
        (summary.value_pnl, summary.value_position_usd) = spot::value_report(&mut self.world);
        self.world.resource_mut::<Market>().0.finish()?;
        Ok(summary)
    }

    pub fn exchange(&self) -> &Exchange {
        &self.world.resource::<Market>().0
    }

    /// Whether some hunter or hunting maker reads an estimated map.
    pub fn reads_estimated_maps(&mut self) -> bool {
        let Some(mut q) = self.world.try_query::<&Hunter>() else { return false };
        q.iter(&self.world).any(|h| h.params.map.is_estimated())
    }

    /// The first (in entity order) estimated map a hunter drew, and who it is ("hunter on
    /// account 7", "maker on account 9").
    pub fn first_belief(&mut self) -> Option<(String, Vec<crate::agents::hunter::MapBucket>)> {
        let mut q = self.world.try_query::<(&Trader, &Hunter, Has<MarketMaker>)>()?;
        q.iter(&self.world).find_map(|(t, h, maker)| {
            let who =
                format!("the {} on account {}", if maker { "hunting maker" } else { "hunter" }, t.account.0);
            h.belief().map(|b| (who, b.to_vec()))
        })
    }

    pub fn metrics(&self) -> &Metrics {
        self.world.resource::<Metrics>()
    }

    /// The spot fees each basis desk has paid (ticks·lots): whether it traded.
    #[cfg(test)]
    pub(crate) fn desk_spot_fees(&mut self) -> Vec<i128> {
        self.world.query::<&spot::Arbitrageur>().iter(&self.world).map(|a| a.spot.fees).collect()
    }
}

/// Per-tick hazards of passive holders, and what a wake-up does.
#[derive(Resource, Debug, Clone, Copy)]
pub struct HolderRates {
    /// Wake-up probability per tick while holding a position.
    pub open: f64,
    /// Of those wake-ups, the share that close (the rest top up margin).
    pub close_share: f64,
    pub add_margin_fraction: f64,
    /// Wake-up probability per tick while flat (each wake-up re-enters if it can afford to).
    pub flat: f64,
}

impl HolderRates {
    fn new(cfg: &HolderConfig, tick_secs: u64) -> HolderRates {
        let per_tick = |per_day: f64| (per_day.max(0.0) * tick_secs as f64 / 86_400.0).min(1.0);
        let open_per_day = cfg.close_per_day.max(0.0) + cfg.add_margin_per_day.max(0.0);
        HolderRates {
            open: per_tick(open_per_day),
            close_share: if open_per_day > 0.0 { cfg.close_per_day.max(0.0) / open_per_day } else { 0.0 },
            add_margin_fraction: cfg.add_margin_fraction.max(0.0),
            flat: per_tick(cfg.reenter_per_day),
        }
    }
}

fn build_schedule() -> Schedule {
    let mut schedule = Schedule::default();
    schedule.set_executor(SingleThreadedExecutor::new());
    schedule.set_build_settings(ScheduleBuildSettings {
        ambiguity_detection: LogLevel::Error,
        ..Default::default()
    });
    schedule.configure_sets(
        (
            SimSystems::Clock,
            SimSystems::Exogenous,
            SimSystems::Decide,
            SimSystems::Match,
            SimSystems::Mark,
            SimSystems::Liquidate,
            SimSystems::Funding,
            SimSystems::Settle,
            SimSystems::Record,
        )
            .chain(),
    );
    schedule.configure_sets(
        (
            SimSystems::Exogenous,
            SimSystems::Decide,
            SimSystems::Match,
            SimSystems::Mark,
            SimSystems::Liquidate,
            SimSystems::Funding,
            SimSystems::Settle,
            SimSystems::Record,
        )
            .run_if(running),
    );
    schedule.add_systems((
        (message_update_system, advance_clock).chain().in_set(SimSystems::Clock),
        (spot::move_index, send_shocks).chain().in_set(SimSystems::Exogenous),
        (
            orders::prune_agent_orders,
            agents::wake_position_holders,
            agents::quote_liquidity,
            (
                background::observe_market,
                background::expire_orders,
                background::decide_fcn,
                background::decide_noise,
            )
                .chain(),
            makers::quote_makers,
            hunters::hunt,
            spot::arbitrage,
        )
            .chain()
            .in_set(SimSystems::Decide),
        (match_orders, orders::execute_agent_orders, spot::hedge_arbitrage, spot::value_trade)
            .chain()
            .in_set(SimSystems::Match),
        update_mark.in_set(SimSystems::Mark),
        liquidate_breached.in_set(SimSystems::Liquidate),
        settle_funding.in_set(SimSystems::Funding),
        update_positions.in_set(SimSystems::Settle),
        (
            metrics::record_tick,
            metrics::sample_heatmap.run_if(resource_exists::<HeatmapSamples>),
            metrics::close_tick,
        )
            .chain()
            .in_set(SimSystems::Record),
    ));
    schedule
}

fn advance_clock(mut clock: ResMut<Clock>, mut market: ResMut<Market>) {
    clock.tick += 1;
    market.0.begin_tick(clock.tick);
}

fn send_shocks(
    mut shocks: ResMut<ShockQueue>,
    clock: Res<Clock>,
    market: Res<Market>,
    mut out: MessageWriter<OrderIntent>,
) {
    let account = shocks.account;
    let inst = *market.0.instrument();
    let price = inst.price_f64(market.0.last()).max(1.0);
    shocks.sent.clear();
    for s in shocks.take_due(clock.tick, ShockMarket::Perp) {
        let qty = inst.qty_floor(s.notional.to_usd_f64() / price).unwrap_or(Qty::ZERO);
        if qty.is_positive() {
            shocks.sent.push(s.clone());
            out.write(OrderIntent(OrderRequest {
                account,
                side: s.side,
                kind: OrderKind::Market,
                price: Price::ZERO,
                qty,
                reduce_only: false,
            }));
        }
    }
}

fn match_orders(
    mut intents: MessageReader<OrderIntent>,
    mut margins: MessageReader<MarginIntent>,
    mut stop_cancels: MessageReader<CancelStopIntent>,
    mut market: ResMut<Market>,
    mut shocks: ResMut<ShockQueue>,
    mut halt: ResMut<Halt>,
    mut publisher: Publisher,
) {
    let mut submit_all = || -> Result<(), EngineError> {
        for m in margins.read() {
            market.0.add_margin(m.account, m.amount)?;
        }
        for c in stop_cancels.read() {
            market.0.cancel_stop(c.account, c.stop, None)?;
        }
        let mut sent = std::mem::take(&mut shocks.sent).into_iter();
        for OrderIntent(req) in intents.read() {
            let submitted = market.0.submit(*req, None)?;
            if req.account == shocks.account
                && let Some(shock) = sent.next()
                && let Some(rest) = shock_rest(shock, req.qty, submitted)
            {
                shocks.push(rest);
            }
        }
        Ok(())
    };
    if let Err(e) = submit_all() {
        halt.stop(e);
        return;
    }
    publisher.publish_or_halt(&mut market, &mut halt);
}

/// What a perp shock's market order left unfilled (the venue's price band stops it where the
/// book is too thin for it), as the same shock with the unfilled share of its notional, due
/// again at the next tick: a seller working a large order through the venue's price protection.
fn shock_rest(shock: Shock, qty: Qty, submitted: Submitted) -> Option<Shock> {
    let Submitted::Accepted { filled, .. } = submitted else { return None };
    let unfilled = qty.0.checked_sub(filled.0).filter(|&u| u > 0)?;
    let notional = Money((shock.notional.0 as i128 * unfilled as i128 / qty.0 as i128) as i64);
    notional.is_positive().then_some(Shock { notional, ..shock })
}

/// Brings the components of every account the tick changed up to date: leverage, margin,
/// position and liquidation price from the ledger and the liquidation index, and the count of
/// times liquidated from [`PositionLiquidated`].
fn update_positions(
    market: Res<Market>,
    entities: Res<AccountEntities>,
    mut changed: MessageReader<AccountChanged>,
    mut liquidated: MessageReader<PositionLiquidated>,
    mut states: Query<&mut PositionState>,
) {
    let ex = &market.0;
    let entity = |a: AccountId| entities.0.get(a.0 as usize).copied().flatten();
    for &AccountChanged { account } in changed.read() {
        let (Some(e), Some(acct)) = (entity(account), ex.ledger().account(account)) else { continue };
        if let Ok(mut state) = states.get_mut(e) {
            let liq = ex.liquidation_index().get(account).map(|e| e.price);
            state.refresh(acct, liq);
        }
    }
    for l in liquidated.read() {
        if let Some(e) = entity(l.account)
            && let Ok(mut state) = states.get_mut(e)
            && state.liquidated_tick != Some(l.tick)
        {
            state.liquidations += 1;
            state.liquidated_tick = Some(l.tick);
        }
    }
}

fn update_mark(
    mut market: ResMut<Market>,
    index: Res<IndexState>,
    mut halt: ResMut<Halt>,
    mut publisher: Publisher,
) {
    let price = Price(index.value.round() as i64);
    if let Err(e) = market.0.update_prices(price) {
        halt.stop(e);
        return;
    }
    publisher.publish_or_halt(&mut market, &mut halt);
}

/// Liquidates what the tick's mark breaches (the mark's event is the cause of them all), then
/// lets the insurance fund work off what it holds. (It reads mark messages and publishes new
/// ones, hence the `ParamSet`.)
fn liquidate_breached(
    mut market: ResMut<Market>,
    mut halt: ResMut<Halt>,
    mut messages: ParamSet<(MessageReader<MarkChanged>, Publisher)>,
) {
    let tick_mark = messages.p0().read().filter(|m| m.round == 0).last().map(|m| m.seq);
    let Some(cause) = tick_mark else { return };
    let ex = &mut market.0;
    if let Err(e) = ex.run_liquidations(cause).and_then(|_| ex.offload_insurance()) {
        halt.stop(e);
        return;
    }
    messages.p1().publish_or_halt(&mut market, &mut halt);
}

fn settle_funding(mut market: ResMut<Market>, mut halt: ResMut<Halt>, mut publisher: Publisher) {
    if let Err(e) = market.0.settle_funding_if_due() {
        halt.stop(e);
        return;
    }
    publisher.publish_or_halt(&mut market, &mut halt);
}

/// Why a simulation could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("liquidation map: {0}")]
    Map(population::MapError),
}

crate::units::from_cause!(SimError::Map(population::MapError));

impl From<crate::engine::RecordError> for SimError {
    fn from(e: crate::engine::RecordError) -> Self {
        SimError::Engine(e.into())
    }
}

#[cfg(test)]
pub(crate) mod tests;
