//! A hunter's campaign as a state machine, Idle → Push → Feed → Unwind → Cooldown: what it sees
//! each tick, the orders it wants, and the record of each campaign for reports.

use super::{Assessment, Direction, HunterParams};
use crate::units::Side;
use serde::{Deserialize, Serialize};

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
    /// What it may still offer into the forced flow: `feed_usd` at first, less what its feed
    /// quotes sold (bought), refilled by `feed_per_tick_usd` a tick.
    #[serde(skip)]
    feed_room_usd: f64,
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
    /// Reduce the position by up to `size_btc`, IOC, no worse than `limit_usd`.
    Flatten { side: Side, size_btc: f64, limit_usd: f64 },
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

impl HunterState {
    /// Whether it would start a campaign this tick (so the glue reads the map only then).
    pub fn ready(&self, p: &HunterParams, tick: u64) -> bool {
        self.phase == Phase::Idle && tick >= p.start_tick && (self.campaigns.len() as u32) < p.max_campaigns
    }

    /// The campaign under way, if any.
    pub fn current(&self) -> Option<&Campaign> {
        self.campaigns.last().filter(|c| c.end_tick.is_none())
    }

    /// Starts a campaign in `direction` (after [`choose`](super::choose)).
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
            feed_room_usd: 0.0,
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
                    c.feed_room_usd = p.feed_usd;
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
                        // No worse than the target, or `sweep_per_tick` beyond the touch once past
                        // it (the pace caps the size; the limit keeps one tick from running an
                        // empty book), and never more than `push_reach` beyond the touch.
                        let touch = if dir == Direction::Up { v.best_ask_usd } else { v.best_bid_usd };
                        let touch = touch.unwrap_or(v.last_usd);
                        let beyond = |share: f64| touch * (1.0 + dir.sign() * share);
                        let ahead = beyond(p.sweep_per_tick);
                        let mut limit = match c.assessment.target_usd {
                            Some(t) if (t - ahead) * dir.sign() > 0.0 => t,
                            _ => ahead,
                        };
                        if p.push_reach > 0.0 && (limit - beyond(p.push_reach)) * dir.sign() > 0.0 {
                            limit = beyond(p.push_reach);
                        }
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
                // What its feed quotes unloaded last tick leaves the room; the rest refills.
                let unloaded = (-filled * dir.sign()).max(0.0) * price;
                c.feed_room_usd =
                    ((c.feed_room_usd - unloaded).max(0.0) + p.feed_per_tick_usd).min(p.feed_usd);
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
            let mut left = inventory_usd.max(0.0).min(c.feed_room_usd.max(0.0)) / price;
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
                // Within its slippage of the mark: into an emptied book it waits for the refill
                // rather than sweeping to whatever is left.
                let limit_usd = v.mark_usd * (1.0 + side.sign() as f64 * p.unwind_slippage);
                out.push(HuntOrder::Flatten { side, size_btc: size, limit_usd });
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

    fn up_campaign(p: &HunterParams) -> HunterState {
        let mut s = HunterState::default();
        let a = Assessment {
            direction: Direction::Up,
            fuel_usd: 1e9,
            target_usd: Some(80_000.0),
            cost_usd: 2e9,
            ratio: 0.5,
            expected: None,
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
        let reach = 70_005.0 * (1.0 + p.push_reach);
        assert!(
            o.iter().any(|x| matches!(x, HuntOrder::Take { side: Side::Buy, limit_usd, notional_usd }
            if *limit_usd == reach && *notional_usd == p.pace_usd_per_tick)),
            "{o:?}"
        );
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

    /// A push order's limit is the nearer of the target and `push_reach` beyond the touch (the
    /// touch here is the ask, 70,005); with no reach, the target.
    #[test]
    fn a_push_order_reaches_no_further_than_its_reach_beyond_the_touch() {
        let limit = |push_reach: f64| {
            let p = HunterParams { push_reach, ..HunterParams::default() };
            let o = up_campaign(&p).step(&p, &view(1, 70_000.0, 0.0, 0.0, 0.0));
            let limits: Vec<f64> = o
                .iter()
                .filter_map(|x| match x {
                    HuntOrder::Take { side: Side::Buy, limit_usd, .. } => Some(*limit_usd),
                    _ => None,
                })
                .collect();
            assert_eq!(limits.len(), 1, "{o:?}");
            limits[0]
        };
        assert_eq!(limit(0.005), 70_005.0 * 1.005);
        assert_eq!(limit(0.01), 70_005.0 * 1.01);
        assert_eq!(limit(0.0), 80_000.0);
        // A reach past the target leaves the target.
        assert_eq!(limit(0.5), 80_000.0);
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
