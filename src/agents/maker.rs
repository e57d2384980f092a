//! A market maker's decision logic, free of the ECS: a ladder of quotes on both sides of mid,
//! shifted against inventory, capped by a maximum inventory, kept outside the maker-fee cost, and
//! withdrawn when the market turns violent or one-sided (Oct 10 2025: depth near mid vanished
//! within minutes and came back once the dust settled).
//!
//! Prices and sizes here are `f64` (USD, BTC): this is a decision, not accounting. The ECS glue
//! rounds bids down and asks up onto the tick grid and sizes down onto the lot grid.

use crate::units::Side;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// How a maker quotes and when it withdraws.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[serde(default)]
pub struct MakerParams {
    /// Distance from mid to the first level on each side, basis points (before widening).
    pub half_spread_bps: f64,
    /// Distance between consecutive levels, basis points.
    pub level_spacing_bps: f64,
    /// Levels per side.
    pub levels: u32,
    /// Size of each level, BTC.
    pub size_per_level_btc: f64,
    /// Both quotes move against inventory by this many bps at full inventory (`max_inventory`):
    /// a long maker lowers its bid and its ask, to sell more and buy less.
    pub skew_bps_at_max: f64,
    /// The largest position (either sign) the maker will hold, BTC. The side that would grow
    /// the position beyond it is trimmed, and at the cap not quoted at all.
    pub max_inventory_btc: f64,
    /// The maker fee it pays, bps (Binance regular: 2). The first level sits at least
    /// `maker_fee_bps + min_edge_bps` from mid, so a round trip at the touch earns something.
    pub maker_fee_bps: f64,
    pub min_edge_bps: f64,
    /// Ticks of mid returns in the realised-volatility window.
    pub vol_window: u32,
    /// Realised volatility (root mean square of per-tick log returns, bps) at which it widens,
    /// and at which it pulls its quotes.
    pub vol_widen_bps: f64,
    pub vol_pull_bps: f64,
    /// Ticks of its own fills in the toxic-flow window.
    pub flow_window: u32,
    /// One-sidedness of its fills over the window, |Σ signed| / Σ |fills| in [0, 1], at which it
    /// widens, and at which it pulls; only counted once the window holds `flow_min_btc`.
    pub toxic_widen: f64,
    pub toxic_pull: f64,
    pub flow_min_btc: f64,
    /// Spread and spacing multiplier while widened.
    pub widen_factor: f64,
    /// Calm ticks (stress below the current regime) before stepping back one regime.
    pub cooldown_ticks: u32,
    /// A hunting maker's lean while it pushes: its quotes on the side that holds price back
    /// (the asks, pushing up) are pulled, and those on the other side move this many bps
    /// toward mid (never closer than [`LEAN_FLOOR_BPS`]), so sellers meet firmer bids and
    /// buyers thinner asks. Ignored by makers that do not hunt.
    #[serde(default = "default_lean_bps")]
    pub lean_bps: f64,
}

/// A leaned quote stays at least this far from mid, bps: it rests, it does not take.
pub const LEAN_FLOOR_BPS: f64 = 1.0;

fn default_lean_bps() -> f64 {
    MakerParams::default().lean_bps
}

impl Default for MakerParams {
    /// A mid-sized BTC perp maker: 5 levels of 2 BTC a side from 3 bps, 2 bps apart (about
    /// $700K a side at 71K), 20 BTC maximum inventory, 5 bps of skew at the cap; widens at 8 bps
    /// per-second realised volatility (about 5x a calm BTC second) or 80% one-sided fills, pulls
    /// at 20 bps or 95%, and steps back after 60 calm seconds.
    fn default() -> MakerParams {
        MakerParams {
            half_spread_bps: 3.0,
            level_spacing_bps: 2.0,
            levels: 5,
            size_per_level_btc: 2.0,
            skew_bps_at_max: 5.0,
            max_inventory_btc: 20.0,
            maker_fee_bps: 2.0,
            min_edge_bps: 0.5,
            vol_window: 30,
            vol_widen_bps: 8.0,
            vol_pull_bps: 20.0,
            flow_window: 30,
            toxic_widen: 0.8,
            toxic_pull: 0.95,
            flow_min_btc: 10.0,
            widen_factor: 3.0,
            cooldown_ticks: 60,
            lean_bps: 4.0,
        }
    }
}

/// Quoting regime, from calm to withdrawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Regime {
    #[default]
    Normal,
    Widened,
    Pulled,
}

/// What the maker remembers between ticks.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MakerState {
    /// Signed position, BTC (long > 0).
    pub inventory_btc: f64,
    pub regime: Regime,
    /// Ticks spent in the current regime with stress below it.
    pub calm_ticks: u32,
    last_mid: Option<f64>,
    returns: VecDeque<f64>,
    /// Its own fills per tick: signed BTC (bought > 0).
    flows: VecDeque<f64>,
    /// Ticks it spent pulled, and how many times it withdrew.
    pub pulled_ticks: u64,
    pub withdrawals: u64,
}

/// One desired resting order.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quote {
    pub side: Side,
    pub price_usd: f64,
    pub size_btc: f64,
}

impl MakerState {
    /// Realised volatility over the window: root mean square of per-tick log returns, in bps.
    pub fn realised_vol_bps(&self) -> f64 {
        if self.returns.is_empty() {
            return 0.0;
        }
        let ms = self.returns.iter().map(|r| r * r).sum::<f64>() / self.returns.len() as f64;
        ms.sqrt() * 1e4
    }

    /// One-sidedness of its fills over the window in [0, 1], or 0 below the minimum volume.
    pub fn toxicity(&self, p: &MakerParams) -> f64 {
        let gross: f64 = self.flows.iter().map(|f| f.abs()).sum();
        if gross <= 0.0 || gross < p.flow_min_btc {
            return 0.0;
        }
        (self.flows.iter().sum::<f64>().abs() / gross).clamp(0.0, 1.0)
    }

    /// The stress level the window shows now.
    pub fn stress(&self, p: &MakerParams) -> Regime {
        let (vol, tox) = (self.realised_vol_bps(), self.toxicity(p));
        if vol >= p.vol_pull_bps || tox >= p.toxic_pull {
            Regime::Pulled
        } else if vol >= p.vol_widen_bps || tox >= p.toxic_widen {
            Regime::Widened
        } else {
            Regime::Normal
        }
    }

    /// Takes in one tick: the mid it saw and its position after last tick's fills (BTC). Updates
    /// the windows and the regime: stress at or above the regime sets it at once; calm steps it
    /// down one level after `cooldown_ticks`.
    pub fn observe(&mut self, p: &MakerParams, mid_usd: f64, position_btc: f64) {
        let position_btc = if position_btc.is_finite() { position_btc } else { self.inventory_btc };
        let fill = position_btc - self.inventory_btc;
        self.inventory_btc = position_btc;
        push_window(&mut self.flows, fill, p.flow_window);
        if mid_usd.is_finite() && mid_usd > 0.0 {
            if let Some(prev) = self.last_mid {
                push_window(&mut self.returns, (mid_usd / prev).ln(), p.vol_window);
            }
            self.last_mid = Some(mid_usd);
        }
        let stress = self.stress(p);
        if stress >= self.regime {
            if stress == Regime::Pulled && self.regime != Regime::Pulled {
                self.withdrawals += 1;
            }
            self.regime = stress;
            self.calm_ticks = 0;
        } else {
            self.calm_ticks += 1;
            if self.calm_ticks >= p.cooldown_ticks {
                self.regime = match self.regime {
                    Regime::Pulled => Regime::Widened,
                    _ => Regime::Normal,
                };
                self.calm_ticks = 0;
            }
        }
        if self.regime == Regime::Pulled {
            self.pulled_ticks += 1;
        }
    }
}

fn push_window(w: &mut VecDeque<f64>, x: f64, len: u32) {
    w.push_back(if x.is_finite() { x } else { 0.0 });
    while w.len() > len.max(1) as usize {
        w.pop_front();
    }
}

/// The ladder the maker wants resting now, around `mid_usd`: best level first on each side.
/// Empty when pulled or when mid is unknown.
pub fn desired_ladder(p: &MakerParams, s: &MakerState, mid_usd: f64) -> Vec<Quote> {
    if s.regime == Regime::Pulled || !mid_usd.is_finite() || mid_usd <= 0.0 || p.size_per_level_btc <= 0.0 {
        return Vec::new();
    }
    // Both sides' levels in one allocation (a maker quotes every tick).
    let mut out = Vec::with_capacity(2 * p.levels as usize);
    let widen = if s.regime == Regime::Widened { p.widen_factor.max(1.0) } else { 1.0 };
    let half = p.half_spread_bps.max(p.maker_fee_bps + p.min_edge_bps).max(0.0) * widen;
    let spacing = p.level_spacing_bps.max(0.0) * widen;
    let cap = p.max_inventory_btc.max(0.0);
    let ratio = if cap > 0.0 { (s.inventory_btc / cap).clamp(-1.0, 1.0) } else { 0.0 };
    // Reservation price: below mid when long, above when short.
    let centre = mid_usd * (1.0 - ratio * p.skew_bps_at_max / 1e4);
    for side in [Side::Buy, Side::Sell] {
        // Room before the position passes the cap if every level on this side fills.
        let mut room = match side {
            Side::Buy => cap - s.inventory_btc,
            Side::Sell => cap + s.inventory_btc,
        };
        for i in 0..p.levels {
            if room <= 0.0 {
                break;
            }
            let size = p.size_per_level_btc.min(room);
            room -= size;
            let bps = half + spacing * i as f64;
            let price = match side {
                Side::Buy => (centre * (1.0 - bps / 1e4)).min(mid_usd * (1.0 - half / 1e4)),
                Side::Sell => (centre * (1.0 + bps / 1e4)).max(mid_usd * (1.0 + half / 1e4)),
            };
            if price > 0.0 && size > 0.0 {
                out.push(Quote { side, price_usd: price, size_btc: size });
            }
        }
    }
    out
}

/// A hunting maker's quotes while it pushes toward `push` (the side it takes): only its ladder
/// on that side, each quote moved `lean_bps` toward mid but no closer than [`LEAN_FLOOR_BPS`].
/// The other side, which would hold price back, is not quoted. The ladder is its calm, flat
/// one: the volatility, the one-sided fills and the inventory are of its own making, and its
/// campaign's limits (budget, inventory room, stop-loss) govern them instead.
///
/// Its fills there add to the campaign's position, so the ladder holds at most `room_btc` in
/// all (the campaign's budget or inventory room left, whichever is less), trimmed from the
/// deepest level.
pub fn leaned_ladder(p: &MakerParams, mid_usd: f64, push: Side, room_btc: f64) -> Vec<Quote> {
    let lean = p.lean_bps.max(0.0) / 1e4;
    let floor = LEAN_FLOOR_BPS / 1e4;
    let mut out = desired_ladder(p, &MakerState::default(), mid_usd);
    out.retain(|q| q.side == push);
    let mut room = if room_btc.is_nan() { 0.0 } else { room_btc.max(0.0) };
    out.retain_mut(|q| {
        q.size_btc = q.size_btc.min(room);
        room -= q.size_btc;
        q.size_btc > 0.0
    });
    for q in &mut out {
        q.price_usd = match push {
            Side::Buy => (q.price_usd + mid_usd * lean).min(mid_usd * (1.0 - floor)),
            Side::Sell => (q.price_usd - mid_usd * lean).max(mid_usd * (1.0 + floor)),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaning_maker_pulls_the_side_in_the_way_and_firms_up_the_other() {
        let p = MakerParams { lean_bps: 4.0, ..MakerParams::default() };
        let mid = 70_000.0;
        let plain = desired_ladder(&p, &MakerState::default(), mid);
        // Stressed and at its inventory cap, it still leans its full ladder: the stress is its own.
        let stressed = MakerState {
            regime: Regime::Pulled,
            inventory_btc: -p.max_inventory_btc,
            ..MakerState::default()
        };
        assert!(desired_ladder(&p, &stressed, mid).is_empty());
        for push in [Side::Buy, Side::Sell] {
            let leaned = leaned_ladder(&p, mid, push, f64::INFINITY);
            assert!(!leaned.is_empty());
            assert!(leaned.iter().all(|q| q.side == push), "the side in the way is pulled");
            assert_eq!(size(&leaned, push), size(&plain, push));
            let (was, now) = (best(&plain, push).unwrap(), best(&leaned, push).unwrap());
            // 3 bps from mid moved 4 bps toward it stops at the 1 bp floor.
            let floor = match push {
                Side::Buy => mid * (1.0 - LEAN_FLOOR_BPS / 1e4),
                Side::Sell => mid * (1.0 + LEAN_FLOOR_BPS / 1e4),
            };
            assert!((now - floor).abs() < 1e-6, "{push:?}: {was} -> {now}");
            // Deeper levels move the full lean.
            let deep = |q: &[Quote]| q.iter().rfind(|x| x.side == push).unwrap().price_usd;
            assert!(((deep(&leaned) - deep(&plain)).abs() - mid * 4e-4).abs() < 1e-6);
        }
        // Room for 5 BTC of its 10 BTC side: the deepest levels go first.
        let trimmed = leaned_ladder(&p, mid, Side::Sell, 5.0);
        assert_eq!(trimmed.iter().map(|q| q.size_btc).collect::<Vec<_>>(), [2.0, 2.0, 1.0]);
        assert!(leaned_ladder(&p, mid, Side::Sell, 0.0).is_empty());
        assert!(leaned_ladder(&p, mid, Side::Sell, f64::NAN).is_empty());
        let none = MakerParams { lean_bps: 0.0, ..p };
        let only_bids = leaned_ladder(&none, mid, Side::Buy, f64::INFINITY);
        assert_eq!(only_bids, plain.iter().copied().filter(|q| q.side == Side::Buy).collect::<Vec<_>>());
    }

    fn best(q: &[Quote], side: Side) -> Option<f64> {
        q.iter().filter(|x| x.side == side).map(|x| x.price_usd).next()
    }

    fn size(q: &[Quote], side: Side) -> f64 {
        q.iter().filter(|x| x.side == side).map(|x| x.size_btc).sum()
    }

    #[test]
    fn a_flat_maker_quotes_symmetrically_outside_its_fee() {
        let p = MakerParams { half_spread_bps: 1.0, ..MakerParams::default() };
        let q = desired_ladder(&p, &MakerState::default(), 70_000.0);
        assert_eq!(q.len(), 2 * p.levels as usize);
        let (bid, ask) = (best(&q, Side::Buy).unwrap(), best(&q, Side::Sell).unwrap());
        assert!((70_000.0 - bid - (ask - 70_000.0)).abs() < 1e-6);
        // The 1 bps asked for is inside the 2 bps fee: it quotes at fee + edge = 2.5 bps.
        assert!((ask / 70_000.0 - 1.0) * 1e4 >= 2.5 - 1e-9, "{ask}");
        assert!((ask / 70_000.0 - 1.0) * 1e4 < 2.6, "{ask}");
    }

    #[test]
    fn skew_moves_both_quotes_against_inventory() {
        let p = MakerParams::default();
        let flat = desired_ladder(&p, &MakerState::default(), 70_000.0);
        let long = MakerState { inventory_btc: 10.0, ..MakerState::default() };
        let short = MakerState { inventory_btc: -10.0, ..MakerState::default() };
        let l = desired_ladder(&p, &long, 70_000.0);
        let s = desired_ladder(&p, &short, 70_000.0);
        // Long: both quotes lower (keen to sell, reluctant to buy); short: both higher.
        assert!(best(&l, Side::Sell).unwrap() <= best(&flat, Side::Sell).unwrap());
        assert!(best(&l, Side::Buy).unwrap() < best(&flat, Side::Buy).unwrap());
        assert!(best(&s, Side::Buy).unwrap() >= best(&flat, Side::Buy).unwrap());
        assert!(best(&s, Side::Sell).unwrap() > best(&flat, Side::Sell).unwrap());
        // Never through mid.
        assert!(best(&l, Side::Sell).unwrap() > 70_000.0 && best(&s, Side::Buy).unwrap() < 70_000.0);
    }

    #[test]
    fn the_inventory_cap_trims_and_then_stops_the_growing_side() {
        let p = MakerParams::default(); // 5 × 2 BTC a side, cap 20
        let near = MakerState { inventory_btc: 15.0, ..MakerState::default() };
        let q = desired_ladder(&p, &near, 70_000.0);
        assert!((size(&q, Side::Buy) - 5.0).abs() < 1e-9, "only 5 BTC of room left");
        assert!((size(&q, Side::Sell) - 10.0).abs() < 1e-9);
        for inv in [20.0, 25.0] {
            let at = MakerState { inventory_btc: inv, ..MakerState::default() };
            let q = desired_ladder(&p, &at, 70_000.0);
            assert_eq!(size(&q, Side::Buy), 0.0, "no bids at or over the cap");
            assert!(size(&q, Side::Sell) > 0.0);
        }
        let short = MakerState { inventory_btc: -20.0, ..MakerState::default() };
        assert_eq!(size(&desired_ladder(&p, &short, 70_000.0), Side::Sell), 0.0);
    }

    #[test]
    fn it_widens_then_pulls_on_a_volatility_spike_and_returns_after_calm() {
        let p = MakerParams::default();
        let mut s = MakerState::default();
        let mut mid = 70_000.0;
        for _ in 0..60 {
            mid *= 1.0 + 1e-4 * 0.5;
            s.observe(&p, mid, 0.0);
        }
        assert_eq!(s.regime, Regime::Normal);
        let calm_spread = {
            let q = desired_ladder(&p, &s, mid);
            best(&q, Side::Sell).unwrap() - best(&q, Side::Buy).unwrap()
        };
        // A crash: 40 bps a second, alternating sign — far above the pull threshold.
        for k in 0..10 {
            mid *= if k % 2 == 0 { 1.004 } else { 0.997 };
            s.observe(&p, mid, 0.0);
        }
        assert_eq!(s.regime, Regime::Pulled);
        assert!(desired_ladder(&p, &s, mid).is_empty(), "depth near mid vanishes");
        assert_eq!(s.withdrawals, 1);
        // Calm again: the window drains, then one cool-down later it widens, then normal.
        let mut saw_widened = false;
        for _ in 0..(p.vol_window + 2 * p.cooldown_ticks + 5) {
            s.observe(&p, mid, 0.0);
            if s.regime == Regime::Widened {
                saw_widened = true;
                let q = desired_ladder(&p, &s, mid);
                assert!(best(&q, Side::Sell).unwrap() - best(&q, Side::Buy).unwrap() > 2.0 * calm_spread);
            }
        }
        assert!(saw_widened);
        assert_eq!(s.regime, Regime::Normal);
        assert!(!desired_ladder(&p, &s, mid).is_empty());
    }

    #[test]
    fn one_sided_fills_pull_quotes() {
        let p = MakerParams::default();
        let mut s = MakerState::default();
        let mut pos = 0.0;
        for _ in 0..10 {
            s.observe(&p, 70_000.0, pos);
        }
        assert_eq!(s.regime, Regime::Normal);
        // Every tick its bids are hit: it keeps buying from informed sellers.
        for _ in 0..8 {
            pos += 2.0;
            s.observe(&p, 70_000.0, pos);
        }
        assert!(s.toxicity(&p) > 0.99);
        assert_eq!(s.regime, Regime::Pulled);
        // Balanced two-way flow is not toxic.
        let mut t = MakerState::default();
        let mut q = 0.0;
        for k in 0..30 {
            q += if k % 2 == 0 { 2.0 } else { -2.0 };
            t.observe(&p, 70_000.0, q);
        }
        assert_eq!(t.regime, Regime::Normal);
    }

    #[test]
    fn nonsense_inputs_quote_nothing_rather_than_panic() {
        let p = MakerParams { levels: 3, ..MakerParams::default() };
        let mut s = MakerState::default();
        s.observe(&p, f64::NAN, f64::NAN);
        assert!(desired_ladder(&p, &s, f64::NAN).is_empty());
        assert!(desired_ladder(&p, &s, -1.0).is_empty());
        let zero = MakerParams { vol_window: 0, flow_window: 0, max_inventory_btc: 0.0, ..p };
        s.observe(&zero, 70_000.0, 0.0);
        assert!(desired_ladder(&zero, &MakerState::default(), 70_000.0).is_empty());
    }
}
