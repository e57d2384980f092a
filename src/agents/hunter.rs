//! A liquidation hunter's decision logic, free of the ECS.
//!
//! The hunter reads the public liquidation map — exact (the exchange's own buckets) or estimated
//! the way heatmap vendors draw it — and weighs, for each direction, the liquidation notional in
//! reach (fuel) against what it would cost to push price to the nearest dense cluster through the
//! visible book (cost). A campaign then runs Idle → Push → Feed → Unwind → Cooldown:
//!
//! - **Push**: pull its quotes on the path side, lean a support quote behind the price, and take
//!   liquidity toward the cluster with IOC orders capped at the target price, at a per-tick pace,
//!   within a budget and an inventory cap;
//! - **Feed**: once liquidations on the hunted side start, sell into the squeeze (buy into the
//!   dump) by quoting just inside the touch on the side the forced orders take from;
//! - **Unwind**: flatten what is left with reduce-only market orders;
//! - **Cooldown**, then Idle again (up to `max_campaigns`).
//!
//! A campaign is abandoned (Unwind) when the mark moves against it by `stop_loss`, or when the
//! budget or inventory room runs out and no liquidations follow within `grace_ticks`.
//!
//! Decisions are `f64` (USD, BTC); the ECS glue rounds them onto the exchange's grid.

use crate::units::Side;
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

/// Which way a campaign pushes price.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    /// The side the hunter takes while pushing (buys to push up).
    pub fn taker_side(self) -> Side {
        match self {
            Direction::Up => Side::Buy,
            Direction::Down => Side::Sell,
        }
    }

    /// The position side whose liquidations it hunts (`Sell` = shorts, for a push up).
    pub fn hunted_side(self) -> Side {
        self.taker_side().opposite()
    }

    pub fn sign(self) -> f64 {
        match self {
            Direction::Up => 1.0,
            Direction::Down => -1.0,
        }
    }
}

/// How a hunter picks its direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum HuntMode {
    Up,
    Down,
    /// The better fuel/cost ratio: the "magnet".
    #[default]
    Adaptive,
    /// A fair coin from the simulation's stream.
    Random,
}

/// The map a hunter reads.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum MapView {
    /// The exchange's own liquidation buckets.
    #[default]
    Exact,
    /// A vendor-style estimate from open interest alone (see [`estimate_map`]).
    Estimated(EstimateParams),
}

/// One bucket of a liquidation map: positions of `side` (`Buy` = longs) liquidated from
/// `price_usd`, `notional_usd` of them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MapBucket {
    pub side: Side,
    pub price_usd: f64,
    pub notional_usd: f64,
}

/// The vendor-style estimator's assumptions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct EstimateParams {
    /// Assumed leverage buckets and their shares of open interest.
    pub leverage: Vec<(u32, f64)>,
    /// Share of open interest assumed long (vendors rarely know it; 0.5).
    pub long_share: f64,
    /// Entries assumed spread uniformly over ±`entry_spread` (fraction) around the reference
    /// price, at `entry_points` prices.
    pub entry_spread: f64,
    pub entry_points: u32,
    /// Log-normal noise on each bucket's notional (sigma), mean preserving.
    pub noise_sigma: f64,
    /// Maintenance margin rate assumed in the liquidation price.
    pub mmr: f64,
    pub bucket_usd: f64,
}

impl Default for EstimateParams {
    /// Leverage buckets 10/25/50/100x weighted 40/30/20/10 (the buckets Coinglass-style maps
    /// draw), half long, entries within ±2% of the reference, 30% noise, 0.4% MMR, $100 buckets.
    fn default() -> EstimateParams {
        EstimateParams {
            leverage: vec![(10, 0.4), (25, 0.3), (50, 0.2), (100, 0.1)],
            long_share: 0.5,
            entry_spread: 0.02,
            entry_points: 5,
            noise_sigma: 0.3,
            mmr: 0.004,
            bucket_usd: 100.0,
        }
    }
}

/// What a heatmap vendor would draw knowing only open interest: all of `open_interest_usd`
/// (one side's notional) assumed opened around `reference_usd`, split long/short by
/// `long_share`, each half spread over the leverage buckets; a long at leverage L entered at e
/// liquidates near e·(1 − 1/L + mmr), a short near e·(1 + 1/L − mmr). Each bucket gets
/// independent log-normal noise. Sorted by side, then price.
pub fn estimate_map(
    open_interest_usd: f64,
    reference_usd: f64,
    p: &EstimateParams,
    rng: &mut impl Rng,
) -> Vec<MapBucket> {
    let mut out: Vec<MapBucket> = Vec::new();
    if !(open_interest_usd > 0.0 && reference_usd > 0.0 && open_interest_usd.is_finite()) {
        return out;
    }
    let total_w: f64 = p.leverage.iter().map(|&(_, w)| w.max(0.0)).sum();
    if total_w <= 0.0 {
        return out;
    }
    let points = p.entry_points.max(1);
    let bucket = if p.bucket_usd > 0.0 { p.bucket_usd } else { 100.0 };
    let spread = p.entry_spread.clamp(0.0, 0.5);
    let long_share = p.long_share.clamp(0.0, 1.0);
    let sigma = p.noise_sigma.max(0.0);
    let mut raw: Vec<(Side, i64, f64)> = Vec::new();
    for k in 0..points {
        let f = if points == 1 { 0.0 } else { -spread + 2.0 * spread * k as f64 / (points - 1) as f64 };
        let entry = reference_usd * (1.0 + f);
        for &(lev, w) in &p.leverage {
            if lev == 0 || w <= 0.0 {
                continue;
            }
            let inv = 1.0 / lev as f64;
            let each = open_interest_usd * w / total_w / points as f64;
            for (side, share, price) in [
                (Side::Buy, long_share, entry * (1.0 - inv + p.mmr)),
                (Side::Sell, 1.0 - long_share, entry * (1.0 + inv - p.mmr)),
            ] {
                let z: f64 = StandardNormal.sample(rng);
                let noise = (sigma * z - sigma * sigma / 2.0).exp();
                if price > 0.0 {
                    raw.push((side, (price / bucket).floor() as i64, each * share * noise));
                }
            }
        }
    }
    raw.sort_by_key(|a| (side_key(a.0), a.1));
    for (side, b, n) in raw {
        let price_usd = b as f64 * bucket;
        match out.last_mut() {
            Some(last) if last.side == side && last.price_usd == price_usd => last.notional_usd += n,
            _ => out.push(MapBucket { side, price_usd, notional_usd: n }),
        }
    }
    out
}

fn side_key(s: Side) -> u8 {
    match s {
        Side::Buy => 0,
        Side::Sell => 1,
    }
}

/// What one direction offers now.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assessment {
    pub direction: Direction,
    /// Hunted-side liquidation notional within `max_distance`, each bucket weighted by
    /// 1 − distance/max_distance.
    pub fuel_usd: f64,
    /// The nearest price by which `cluster_usd` of hunted notional has accumulated, if within
    /// reach.
    pub target_usd: Option<f64>,
    /// Notional to take to push the touch to the target (visible book, extrapolated beyond).
    pub cost_usd: f64,
    pub ratio: f64,
}

/// Fuel, target and cost of `direction` from `price_usd`; `cost_to(target)` prices the push.
pub fn assess(
    map: &[MapBucket],
    price_usd: f64,
    direction: Direction,
    p: &HunterParams,
    cost_to: impl FnOnce(f64) -> f64,
) -> Assessment {
    let side = direction.hunted_side();
    let reach = p.max_distance.max(0.0);
    let mut near: Vec<(f64, f64, f64)> = Vec::new(); // (distance, price, notional)
    for b in map.iter().filter(|b| b.side == side && b.notional_usd > 0.0) {
        let d = (b.price_usd - price_usd) * direction.sign() / price_usd;
        if d >= 0.0 && d <= reach && d.is_finite() {
            near.push((d, b.price_usd, b.notional_usd));
        }
    }
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    let fuel_usd: f64 = near.iter().map(|&(d, _, n)| n * (1.0 - d / reach.max(f64::MIN_POSITIVE))).sum();
    let mut acc = 0.0;
    let mut target_usd = None;
    for &(_, price, n) in &near {
        acc += n;
        if acc >= p.cluster_usd {
            target_usd = Some(price);
            break;
        }
    }
    let cost_usd = target_usd.map(|t| cost_to(t).max(0.0)).unwrap_or(0.0);
    let ratio = if target_usd.is_some() { fuel_usd / cost_usd.max(1.0) } else { 0.0 };
    Assessment { direction, fuel_usd, target_usd, cost_usd, ratio }
}

/// The cost of moving the touch from `from_usd` to `target_usd` when the visible book on the path
/// holds `visible_usd` of liquidity out to `visible_edge_usd`: the visible part, plus the rest of
/// the way at the visible density (books are refilled as price moves; what is not shown yet is
/// assumed like what is).
pub fn path_cost(visible_usd: f64, from_usd: f64, visible_edge_usd: f64, target_usd: f64) -> f64 {
    let seen = (visible_edge_usd - from_usd).abs();
    let want = (target_usd - from_usd).abs();
    if seen <= 0.0 || want <= seen || !visible_usd.is_finite() {
        return visible_usd.max(0.0);
    }
    visible_usd.max(0.0) * want / seen
}

/// A hunter's budget, limits and pacing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct HunterParams {
    pub mode: HuntMode,
    pub map: MapView,
    /// Fuel counts hunted liquidations within this fraction of price.
    pub max_distance: f64,
    /// A cluster is reached once this much hunted notional lies between price and it.
    pub cluster_usd: f64,
    /// Adaptive and random hunters only start when the chosen ratio is at least this.
    pub min_ratio: f64,
    /// Notional it may take while pushing, in total, and per tick.
    pub budget_usd: f64,
    pub pace_usd_per_tick: f64,
    /// The largest position it will hold, USD at mark.
    pub max_inventory_usd: f64,
    /// Support quote behind the price on the non-path side while pushing (0 = none), and its
    /// gap behind the touch.
    pub support_usd: f64,
    pub support_gap_bps: f64,
    /// Feed once this much hunted notional has been liquidated since the campaign started (it
    /// pushes on past the target until then, or until budget or room run out).
    pub feed_after_usd: f64,
    /// Inventory offered into the forced flow per tick, over `feed_levels` quotes from
    /// `feed_offset_bps` beyond the touch outward, `feed_spacing_bps` apart: the forced orders
    /// first lift what else is there, then its offers at better prices. The support quote stays.
    pub feed_per_tick_usd: f64,
    pub feed_levels: u32,
    pub feed_offset_bps: f64,
    pub feed_spacing_bps: f64,
    /// Feeding ends after this many ticks without hunted liquidations, or after `feed_max_ticks`.
    pub feed_quiet_ticks: u64,
    pub feed_max_ticks: u64,
    pub unwind_per_tick_usd: f64,
    /// Abandon when the mark moves this fraction against the campaign.
    pub stop_loss: f64,
    /// Ticks to wait for liquidations once budget or room has run out.
    pub grace_ticks: u64,
    pub cooldown_ticks: u64,
    pub max_campaigns: u32,
    /// First tick a campaign may start.
    pub start_tick: u64,
}

impl Default for HunterParams {
    /// A large desk: $5B of push budget at $10M a tick (a Binance-sized book takes ~$267K per
    /// dollar of move, so about $3.4B carries 71.45K to the 84K shorts), up to $6B inventory,
    /// a $20M support bid 5 bps behind the touch, clusters of $250M within 30%, feeding after
    /// $500M of liquidations (it keeps pushing until the cascade is well under way: the seed's
    /// short layers beyond ~86K hold more notional per dollar than the book's ~$267K, so they
    /// carry themselves once reached) at $20M a tick from 20 bps beyond the touch, stop at 5%
    /// against; it starts after a minute, once the book has formed.
    fn default() -> HunterParams {
        HunterParams {
            mode: HuntMode::Adaptive,
            map: MapView::Exact,
            max_distance: 0.3,
            cluster_usd: 250e6,
            min_ratio: 0.0,
            budget_usd: 5e9,
            pace_usd_per_tick: 10e6,
            max_inventory_usd: 6e9,
            support_usd: 20e6,
            support_gap_bps: 5.0,
            feed_after_usd: 500e6,
            feed_per_tick_usd: 20e6,
            feed_levels: 4,
            feed_offset_bps: 20.0,
            feed_spacing_bps: 10.0,
            feed_quiet_ticks: 120,
            feed_max_ticks: 1_800,
            unwind_per_tick_usd: 20e6,
            stop_loss: 0.05,
            grace_ticks: 300,
            cooldown_ticks: 600,
            max_campaigns: 1,
            start_tick: 60,
        }
    }
}

/// Where a hunter is in its campaign cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    #[default]
    Idle,
    Push,
    Feed,
    Unwind,
    Cooldown,
}

/// How a campaign ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Reached liquidations and fed into them.
    Fed,
    /// The mark moved against it by the stop.
    Stopped,
    /// Budget or inventory room ran out before the cluster.
    Exhausted,
    /// The run ended mid-campaign.
    Running,
}

/// One campaign, for reports.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    pub direction: Direction,
    pub assessment: Assessment,
    pub start_tick: u64,
    pub start_mark_usd: f64,
    pub feed_tick: Option<u64>,
    pub unwind_tick: Option<u64>,
    pub end_tick: Option<u64>,
    /// Notional it took while pushing.
    pub spent_usd: f64,
    /// Hunted-side notional liquidated since it started (all accounts, not only its doing).
    pub hunted_liquidated_usd: f64,
    pub outcome: Outcome,
    #[serde(skip)]
    liq_base_usd: f64,
    #[serde(skip)]
    exhausted_tick: Option<u64>,
    #[serde(skip)]
    last_liq_tick: u64,
    #[serde(skip)]
    last_liq_usd: f64,
}

/// What the hunter sees each tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HunterView {
    pub tick: u64,
    pub mark_usd: f64,
    pub last_usd: f64,
    pub best_bid_usd: Option<f64>,
    pub best_ask_usd: Option<f64>,
    pub tick_usd: f64,
    /// Its signed position, BTC.
    pub position_btc: f64,
    /// Cumulative liquidated notional since the run started: longs, shorts.
    pub liquidated_long_usd: f64,
    pub liquidated_short_usd: f64,
}

impl HunterView {
    fn liquidated(&self, side: Side) -> f64 {
        match side {
            Side::Buy => self.liquidated_long_usd,
            Side::Sell => self.liquidated_short_usd,
        }
    }
}

/// An order the hunter wants; the glue turns it into agent actions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HuntOrder {
    /// Cancel its resting orders on one side.
    CancelSide(Side),
    /// Take up to `notional_usd`, IOC, no worse than `limit_usd`.
    Take { side: Side, limit_usd: f64, notional_usd: f64 },
    /// Rest a post-only quote.
    Rest { side: Side, price_usd: f64, size_btc: f64 },
    /// Reduce the position by up to `size_btc` at market.
    Flatten { side: Side, size_btc: f64 },
}

/// A hunter's memory.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HunterState {
    pub phase: Phase,
    pub campaigns: Vec<Campaign>,
    cooldown_until: u64,
    last_position_btc: f64,
}

/// Below this notional an order is not worth sending, USD.
const DUST_USD: f64 = 1_000.0;

/// Picks the direction for a new campaign, or none. A team's direction, when given, overrides
/// the hunter's own mode (team-mates push together). `coin` is a uniform draw in [0, 1).
pub fn choose(
    p: &HunterParams,
    up: &Assessment,
    down: &Assessment,
    team: Option<Direction>,
    coin: f64,
) -> Option<Direction> {
    let has = |a: &Assessment| a.target_usd.is_some();
    let pick = match (team, p.mode) {
        (Some(d), _) => d,
        (None, HuntMode::Up) => Direction::Up,
        (None, HuntMode::Down) => Direction::Down,
        (None, HuntMode::Random) => {
            if coin < 0.5 {
                Direction::Up
            } else {
                Direction::Down
            }
        }
        (None, HuntMode::Adaptive) => match (has(up), has(down)) {
            (true, true) if up.ratio >= down.ratio => Direction::Up,
            (true, true) => Direction::Down,
            (true, false) => Direction::Up,
            (false, true) => Direction::Down,
            (false, false) => return None,
        },
    };
    let a = if pick == Direction::Up { up } else { down };
    let enough = team.is_some() || matches!(p.mode, HuntMode::Up | HuntMode::Down) || a.ratio >= p.min_ratio;
    (has(a) && enough).then_some(pick)
}

impl HunterState {
    /// Whether it would start a campaign this tick (so the glue reads the map only then).
    pub fn ready(&self, p: &HunterParams, tick: u64) -> bool {
        self.phase == Phase::Idle && tick >= p.start_tick && (self.campaigns.len() as u32) < p.max_campaigns
    }

    /// The campaign under way, if any.
    pub fn current(&self) -> Option<&Campaign> {
        self.campaigns.last().filter(|c| c.end_tick.is_none())
    }

    /// Starts a campaign in `direction` (after [`choose`]).
    pub fn start(&mut self, assessment: Assessment, view: &HunterView) {
        let direction = assessment.direction;
        self.campaigns.push(Campaign {
            direction,
            assessment,
            start_tick: view.tick,
            start_mark_usd: view.mark_usd,
            feed_tick: None,
            unwind_tick: None,
            end_tick: None,
            spent_usd: 0.0,
            hunted_liquidated_usd: 0.0,
            outcome: Outcome::Running,
            liq_base_usd: view.liquidated(direction.hunted_side()),
            exhausted_tick: None,
            last_liq_tick: view.tick,
            last_liq_usd: view.liquidated(direction.hunted_side()),
        });
        self.last_position_btc = view.position_btc;
        self.phase = Phase::Push;
    }

    /// One tick of the campaign: the orders to send.
    pub fn step(&mut self, p: &HunterParams, v: &HunterView) -> Vec<HuntOrder> {
        let mut out = Vec::new();
        let filled = v.position_btc - std::mem::replace(&mut self.last_position_btc, v.position_btc);
        let price = if v.mark_usd > 0.0 { v.mark_usd } else { v.last_usd };
        if !(price > 0.0 && price.is_finite()) {
            return out;
        }
        if self.phase == Phase::Cooldown && v.tick >= self.cooldown_until {
            self.phase = Phase::Idle;
        }
        let phase = self.phase;
        let Some(c) = self.campaigns.last_mut().filter(|c| c.end_tick.is_none()) else {
            return out;
        };
        let dir = c.direction;
        let now_liq = v.liquidated(dir.hunted_side());
        c.hunted_liquidated_usd = now_liq - c.liq_base_usd;
        if now_liq > c.last_liq_usd {
            c.last_liq_usd = now_liq;
            c.last_liq_tick = v.tick;
        }
        let inventory_usd = v.position_btc * dir.sign() * price; // > 0 when long the push
        let against = (c.start_mark_usd - v.mark_usd) * dir.sign() / c.start_mark_usd.max(f64::MIN_POSITIVE);
        let mut next = phase;
        match phase {
            Phase::Push => {
                if filled * dir.sign() > 0.0 {
                    c.spent_usd += filled.abs() * v.last_usd.max(0.0);
                }
                if c.hunted_liquidated_usd >= p.feed_after_usd.max(f64::MIN_POSITIVE) {
                    c.feed_tick = Some(v.tick);
                    next = Phase::Feed;
                } else if against >= p.stop_loss {
                    c.outcome = Outcome::Stopped;
                    c.unwind_tick = Some(v.tick);
                    next = Phase::Unwind;
                } else {
                    let room = p.max_inventory_usd - inventory_usd;
                    let take = p.pace_usd_per_tick.min(p.budget_usd - c.spent_usd).min(room);
                    out.push(HuntOrder::CancelSide(dir.hunted_side()));
                    out.push(HuntOrder::CancelSide(dir.taker_side()));
                    if take >= DUST_USD {
                        // No worse than the target, or 1% beyond the touch once past it (the pace
                        // caps the size; the limit keeps one tick from running an empty book).
                        let touch = if dir == Direction::Up { v.best_ask_usd } else { v.best_bid_usd };
                        let ahead = touch.unwrap_or(v.last_usd) * (1.0 + dir.sign() * 0.01);
                        let limit = match c.assessment.target_usd {
                            Some(t) if (t - ahead) * dir.sign() > 0.0 => t,
                            _ => ahead,
                        };
                        out.push(HuntOrder::Take {
                            side: dir.taker_side(),
                            limit_usd: limit,
                            notional_usd: take,
                        });
                    } else {
                        let since = *c.exhausted_tick.get_or_insert(v.tick);
                        if v.tick.saturating_sub(since) >= p.grace_ticks {
                            c.outcome = Outcome::Exhausted;
                            c.unwind_tick = Some(v.tick);
                            next = Phase::Unwind;
                        }
                    }
                    // Lean on the price from behind: a support quote a little inside the far touch.
                    let touch = match dir {
                        Direction::Up => v.best_ask_usd.unwrap_or(v.last_usd).max(v.last_usd),
                        Direction::Down => v.best_bid_usd.unwrap_or(v.last_usd).min(v.last_usd),
                    };
                    if next == Phase::Push && p.support_usd > 0.0 && touch > 0.0 {
                        let at = touch * (1.0 - dir.sign() * p.support_gap_bps / 1e4);
                        out.push(HuntOrder::Rest {
                            side: dir.taker_side(),
                            price_usd: at,
                            size_btc: p.support_usd / at,
                        });
                    }
                }
            }
            Phase::Feed => {
                let quiet = v.tick.saturating_sub(c.last_liq_tick) >= p.feed_quiet_ticks;
                let long_enough = c.feed_tick.is_some_and(|f| v.tick.saturating_sub(f) >= p.feed_max_ticks);
                if inventory_usd.abs() < DUST_USD {
                    c.outcome = Outcome::Fed;
                    next = Phase::Cooldown;
                } else if quiet || long_enough || inventory_usd < 0.0 {
                    c.outcome = Outcome::Fed;
                    c.unwind_tick = Some(v.tick);
                    next = Phase::Unwind;
                }
            }
            Phase::Unwind | Phase::Idle | Phase::Cooldown => {}
        }
        if next == Phase::Feed {
            out.push(HuntOrder::CancelSide(Side::Buy));
            out.push(HuntOrder::CancelSide(Side::Sell));
            // Keep leaning on the price from behind the top of the move.
            if p.support_usd > 0.0 && v.last_usd > 0.0 {
                let mut at = v.last_usd * (1.0 - dir.sign() * p.support_gap_bps / 1e4);
                let other = if dir == Direction::Up { v.best_ask_usd } else { v.best_bid_usd };
                if let Some(o) = other
                    && (o - at) * dir.sign() <= 0.0
                {
                    at = o - dir.sign() * v.tick_usd;
                }
                out.push(HuntOrder::Rest {
                    side: dir.taker_side(),
                    price_usd: at,
                    size_btc: p.support_usd / at,
                });
            }
            // Offer inventory on the side the forced orders take from, beyond the touch.
            let unload = dir.hunted_side(); // sells after a push up
            let touch = match unload {
                Side::Sell => v.best_ask_usd.or(v.best_bid_usd.map(|b| b + v.tick_usd)),
                Side::Buy => v.best_bid_usd.or(v.best_ask_usd.map(|a| a - v.tick_usd)),
            };
            let far = match unload {
                Side::Sell => v.best_bid_usd,
                Side::Buy => v.best_ask_usd,
            };
            let levels = p.feed_levels.max(1);
            let mut left = (inventory_usd.max(0.0)).min(p.feed_per_tick_usd.max(0.0)) / price;
            if let Some(touch) = touch {
                for k in 0..levels {
                    let s = if unload == Side::Sell { 1.0 } else { -1.0 };
                    let bps = p.feed_offset_bps + p.feed_spacing_bps * k as f64;
                    let mut at = touch * (1.0 + s * bps / 1e4);
                    // Never cross: stay at least a tick off the other side.
                    if let Some(f) = far
                        && (at - f) * s <= 0.0
                    {
                        at = f + s * v.tick_usd;
                    }
                    let size = if k + 1 == levels { left } else { left / (levels - k) as f64 };
                    left -= size;
                    if size * price >= DUST_USD && at > 0.0 {
                        out.push(HuntOrder::Rest { side: unload, price_usd: at, size_btc: size });
                    }
                }
            }
        }
        if next == Phase::Unwind {
            out.push(HuntOrder::CancelSide(Side::Buy));
            out.push(HuntOrder::CancelSide(Side::Sell));
            if v.position_btc.abs() * price < DUST_USD {
                next = Phase::Cooldown;
            } else {
                let side = if v.position_btc > 0.0 { Side::Sell } else { Side::Buy };
                let size = v.position_btc.abs().min(p.unwind_per_tick_usd.max(DUST_USD) / price);
                out.push(HuntOrder::Flatten { side, size_btc: size });
            }
        }
        if next == Phase::Cooldown {
            c.end_tick = Some(v.tick);
            if c.outcome == Outcome::Running {
                c.outcome = Outcome::Fed;
            }
            self.cooldown_until = v.tick.saturating_add(p.cooldown_ticks);
        }
        self.phase = next;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn bucket(side: Side, price_usd: f64, notional_usd: f64) -> MapBucket {
        MapBucket { side, price_usd, notional_usd }
    }

    /// A book of `density` USD per USD of move in both directions.
    fn linear_cost(from: f64, density: f64) -> impl Fn(f64) -> f64 {
        move |t: f64| (t - from).abs() * density
    }

    fn view(tick: u64, mark: f64, pos: f64, liq_long: f64, liq_short: f64) -> HunterView {
        HunterView {
            tick,
            mark_usd: mark,
            last_usd: mark,
            best_bid_usd: Some(mark - 5.0),
            best_ask_usd: Some(mark + 5.0),
            tick_usd: 0.1,
            position_btc: pos,
            liquidated_long_usd: liq_long,
            liquidated_short_usd: liq_short,
        }
    }

    /// The January 2025 shape: a small long cluster just below, a large short cluster far above.
    fn near_longs_far_shorts() -> Vec<MapBucket> {
        let mut m = Vec::new();
        for k in 0..30 {
            m.push(bucket(Side::Buy, 66_000.0 + 100.0 * k as f64, 50e6)); // $1.5B at 66–69K
        }
        for k in 0..70 {
            m.push(bucket(Side::Sell, 88_000.0 + 100.0 * k as f64, 86e6)); // $6B at 88–95K
        }
        m
    }

    #[test]
    fn fuel_weights_proximity_and_the_target_is_the_nearest_dense_point() {
        let p = HunterParams::default();
        let map = near_longs_far_shorts();
        let down = assess(&map, 71_450.0, Direction::Down, &p, linear_cost(71_450.0, 267e3));
        let up = assess(&map, 71_450.0, Direction::Up, &p, linear_cost(71_450.0, 267e3));
        // $250M of longs has gathered by 68,500 (counting down from 68,900).
        assert_eq!(down.target_usd, Some(68_500.0));
        assert!(down.fuel_usd > 1.0e9 && down.fuel_usd < 1.5e9, "{down:?}");
        assert!(up.fuel_usd < down.fuel_usd, "far fuel is discounted: {up:?}");
        assert!(up.target_usd.is_some_and(|t| (88_000.0..89_000.0).contains(&t)));
        assert!(down.ratio > 3.0 * up.ratio, "{down:?} vs {up:?}");
        assert_eq!(choose(&p, &up, &down, None, 0.0), Some(Direction::Down));
        // Mirror: large near shorts, small far longs → up.
        let mirror: Vec<MapBucket> = vec![
            bucket(Side::Sell, 74_000.0, 3e9),
            bucket(Side::Sell, 75_000.0, 3e9),
            bucket(Side::Buy, 52_000.0, 1.5e9),
        ];
        let up = assess(&mirror, 71_450.0, Direction::Up, &p, linear_cost(71_450.0, 267e3));
        let down = assess(&mirror, 71_450.0, Direction::Down, &p, linear_cost(71_450.0, 267e3));
        assert_eq!(choose(&p, &up, &down, None, 0.0), Some(Direction::Up));
        // Fixed modes and teams override; nothing in reach means no campaign.
        let up_only = HunterParams { mode: HuntMode::Down, ..p.clone() };
        assert_eq!(choose(&up_only, &up, &down, None, 0.0), Some(Direction::Down));
        assert_eq!(choose(&p, &up, &down, Some(Direction::Down), 0.0), Some(Direction::Down));
        let rnd = HunterParams { mode: HuntMode::Random, ..p.clone() };
        assert_eq!(choose(&rnd, &up, &down, None, 0.2), Some(Direction::Up));
        assert_eq!(choose(&rnd, &up, &down, None, 0.7), Some(Direction::Down));
        let none = assess(&[], 71_450.0, Direction::Up, &p, |_| 1.0);
        assert_eq!(choose(&p, &none, &none, None, 0.0), None);
    }

    #[test]
    fn path_cost_extrapolates_beyond_the_visible_book() {
        assert_eq!(path_cost(100.0, 70_000.0, 71_000.0, 70_500.0), 100.0);
        assert!((path_cost(100.0, 70_000.0, 71_000.0, 74_000.0) - 400.0).abs() < 1e-9);
        assert!((path_cost(100.0, 70_000.0, 69_000.0, 66_000.0) - 400.0).abs() < 1e-9);
        assert_eq!(path_cost(0.0, 70_000.0, 70_000.0, 80_000.0), 0.0);
    }

    #[test]
    fn the_estimated_map_puts_leverage_buckets_either_side_and_keeps_the_total() {
        let p = EstimateParams { noise_sigma: 0.0, ..EstimateParams::default() };
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        let m = estimate_map(10e9, 70_000.0, &p, &mut rng);
        let total: f64 = m.iter().map(|b| b.notional_usd).sum();
        assert!((total - 10e9).abs() < 1.0, "{total}");
        // 10x longs near 70K·(1 − 0.1 + 0.004) ≈ 63.3K, 100x shorts just above 70K.
        assert!(m.iter().any(|b| b.side == Side::Buy && (62_000.0..64_700.0).contains(&b.price_usd)));
        assert!(m.iter().any(|b| b.side == Side::Sell && (69_000.0..72_000.0).contains(&b.price_usd)));
        // Entries span 68.6K–71.4K: longs liquidate below the highest entry, shorts above the lowest.
        assert!(m.iter().all(|b| if b.side == Side::Buy {
            b.price_usd < 71_400.0
        } else {
            b.price_usd >= 69_000.0
        }));
        let noisy = estimate_map(10e9, 70_000.0, &EstimateParams::default(), &mut rng);
        assert_ne!(noisy, m);
        assert!(estimate_map(-1.0, 70_000.0, &p, &mut rng).is_empty());
        assert!(estimate_map(f64::NAN, 70_000.0, &p, &mut rng).is_empty());
    }

    fn up_campaign(p: &HunterParams) -> HunterState {
        let mut s = HunterState::default();
        let a = Assessment {
            direction: Direction::Up,
            fuel_usd: 1e9,
            target_usd: Some(80_000.0),
            cost_usd: 2e9,
            ratio: 0.5,
        };
        assert!(!s.ready(p, 0) && s.ready(p, p.start_tick));
        s.start(a, &view(0, 70_000.0, 0.0, 0.0, 0.0));
        s
    }

    #[test]
    fn a_campaign_pushes_feeds_unwinds_and_cools_down() {
        let p = HunterParams { cooldown_ticks: 10, feed_quiet_ticks: 5, ..HunterParams::default() };
        let mut s = up_campaign(&p);
        let o = s.step(&p, &view(1, 70_000.0, 0.0, 0.0, 0.0));
        assert_eq!(s.phase, Phase::Push);
        assert!(o.contains(&HuntOrder::CancelSide(Side::Sell)), "pulls the path side: {o:?}");
        assert!(o.iter().any(|x| matches!(x, HuntOrder::Take { side: Side::Buy, limit_usd, notional_usd }
            if *limit_usd == 80_000.0 && *notional_usd == p.pace_usd_per_tick)));
        assert!(o.iter().any(|x| matches!(x, HuntOrder::Rest { side: Side::Buy, .. })), "support bid");
        // It bought 140 BTC (~$10M) and the shorts started going.
        let o = s.step(&p, &view(2, 71_000.0, 140.0, 0.0, 560e6));
        assert_eq!(s.phase, Phase::Feed);
        assert!((s.campaigns[0].spent_usd - 140.0 * 71_000.0).abs() < 1.0);
        let asks: Vec<_> =
            o.iter().filter(|x| matches!(x, HuntOrder::Rest { side: Side::Sell, .. })).collect();
        assert_eq!(asks.len(), p.feed_levels as usize, "{o:?}");
        assert!(o.iter().any(|x| matches!(x, HuntOrder::Rest { side: Side::Buy, .. })), "support stays");
        for x in &asks {
            if let HuntOrder::Rest { price_usd, .. } = x {
                assert!(*price_usd > 71_005.0, "asks beyond the touch: {price_usd}");
            }
        }
        // Liquidations keep coming, then stop: quiet for 5 ticks → unwind, flatten, cool down.
        s.step(&p, &view(3, 72_000.0, 100.0, 0.0, 580e6));
        assert_eq!(s.phase, Phase::Feed);
        s.step(&p, &view(9, 72_000.0, 100.0, 0.0, 580e6));
        assert_eq!(s.phase, Phase::Unwind);
        let o = s.step(&p, &view(10, 72_000.0, 100.0, 0.0, 580e6));
        assert!(o.iter().any(|x| matches!(x, HuntOrder::Flatten { side: Side::Sell, .. })));
        s.step(&p, &view(11, 72_000.0, 0.0, 0.0, 580e6));
        assert_eq!(s.phase, Phase::Cooldown);
        assert_eq!(s.campaigns[0].outcome, Outcome::Fed);
        assert_eq!(s.campaigns[0].hunted_liquidated_usd, 580e6);
        s.step(&p, &view(25, 72_000.0, 0.0, 0.0, 580e6));
        assert_eq!(s.phase, Phase::Idle);
        assert!(!s.ready(&p, 26), "one campaign by default");
    }

    #[test]
    fn a_campaign_stops_when_the_mark_turns_against_it() {
        let p = HunterParams::default();
        let mut s = up_campaign(&p);
        s.step(&p, &view(1, 70_000.0, 100.0, 0.0, 0.0));
        s.step(&p, &view(2, 66_000.0, 100.0, 0.0, 0.0));
        assert_eq!(s.phase, Phase::Unwind);
        assert_eq!(s.campaigns[0].outcome, Outcome::Stopped);
    }

    #[test]
    fn a_campaign_gives_up_when_the_budget_runs_out_short_of_the_cluster() {
        let p = HunterParams { budget_usd: 15e6, grace_ticks: 3, ..HunterParams::default() };
        let mut s = up_campaign(&p);
        s.step(&p, &view(1, 70_000.0, 0.0, 0.0, 0.0));
        // $14M spent; only $1M left, then nothing.
        let o = s.step(&p, &view(2, 70_100.0, 200.0, 0.0, 0.0));
        assert!(o.iter().any(|x| matches!(x, HuntOrder::Take { notional_usd, .. } if *notional_usd < 1.1e6)));
        s.step(&p, &view(3, 70_100.0, 214.0, 0.0, 0.0));
        for t in 4..8 {
            s.step(&p, &view(t, 70_100.0, 214.0, 0.0, 0.0));
        }
        assert_eq!(s.phase, Phase::Unwind);
        assert_eq!(s.campaigns[0].outcome, Outcome::Exhausted);
        // Inventory cap: a full position takes nothing more.
        let capped = HunterParams { max_inventory_usd: 1e6, ..HunterParams::default() };
        let mut s = up_campaign(&capped);
        let o = s.step(&capped, &view(1, 70_000.0, 100.0, 0.0, 0.0));
        assert!(!o.iter().any(|x| matches!(x, HuntOrder::Take { .. })), "{o:?}");
    }
}
