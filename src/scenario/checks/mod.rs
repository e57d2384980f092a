//! The checks of a scenario, one function per section. Each reports every problem of its section
//! with the field's path, and returns the section converted for the simulator when the section
//! is sound (`None` otherwise). [`validate`](super::validate) calls them in file order, so the
//! problems are listed in that order, and assembles the [`SimConfig`](crate::sim::SimConfig).
//!
//! Here: the [`Checker`] that collects problems, and the sections that frame a run (its name,
//! clock, start, shocks, watch levels, outputs, Monte Carlo); `market` holds the venue's rules,
//! the index and the liquidity provider; `traders` the map, the holders and the other agents.

mod market;
mod traders;

pub(super) use market::{arbitrage, index, liquidity, market, value};
#[cfg(test)]
pub(super) use traders::map_draws;
pub(super) use traders::{background, holders, hunters, makers, map, world_money};

use super::{MAX_TICKS, MonteCarloSpec, OutputSpec, Problem, Scenario};
use crate::ledger::MAX_LEVERAGE;
use crate::sim::Shock;
use crate::units::{Instrument, Money, Price, Rate, money_from_usd};
use std::fmt;

/// The largest amount of money (USD) any one setting may be: a thousandth of what the ledger's
/// 64-bit micro-USD holds, so that sums and products of them cannot overflow during a run.
pub(super) const MAX_MONEY_USD: i64 = 1_000_000_000_000;
/// The most money (USD) a whole world may hold: every deposit, the insurance fund, and the
/// map's margins together.
pub(super) const MAX_WORLD_USD: f64 = 4e12;
/// The smallest start price in ticks: below it a 0.1% move is less than one tick.
pub(super) const MIN_START_TICKS: i64 = 1_000;
/// The most one lot may be worth at the start price (USD): positions of millions of lots must
/// still fit the ledger's integers.
pub(super) const MAX_LOT_VALUE_USD: f64 = 1e6;

/// Collects problems with field paths.
pub(super) struct Checker<'a> {
    file: &'a str,
    pub problems: Vec<Problem>,
}

impl<'a> Checker<'a> {
    pub fn new(file: &'a str) -> Checker<'a> {
        Checker { file, problems: Vec::new() }
    }

    fn fail(&mut self, path: impl fmt::Display, message: impl fmt::Display) {
        self.problems
            .push(Problem { location: format!("{}: {path}", self.file), message: message.to_string() });
    }

    /// Where the list of problems stands, for [`Checker::sound_since`].
    fn mark(&self) -> usize {
        self.problems.len()
    }

    /// Whether nothing was reported since `mark`: the section checked since then is sound.
    fn sound_since(&self, mark: usize) -> bool {
        self.problems.len() == mark
    }

    fn finite_positive(&mut self, path: &str, v: f64) -> bool {
        let ok = v.is_finite() && v > 0.0;
        if !ok {
            self.fail(path, format!("must be a positive number, got {v}"));
        }
        ok
    }

    fn finite_at_least(&mut self, path: &str, v: f64, min: f64) -> bool {
        let ok = v.is_finite() && v >= min;
        if !ok {
            self.fail(path, format!("must be a number ≥ {min}, got {v}"));
        }
        ok
    }

    /// A finite number in `[lo, hi]`, the range named in the message.
    fn within(&mut self, path: &str, v: f64, lo: f64, hi: f64) -> bool {
        let ok = v.is_finite() && v >= lo && v <= hi;
        if !ok {
            self.fail(path, format!("must be a number from {lo} to {hi}, got {v}"));
        }
        ok
    }

    /// A whole number in `[lo, hi]`.
    fn whole_within(&mut self, path: &str, v: u64, lo: u64, hi: u64) -> bool {
        let ok = (lo..=hi).contains(&v);
        if !ok {
            self.fail(path, format!("must be a whole number from {lo} to {hi}, got {v}"));
        }
        ok
    }

    /// A `(lo, hi)` range of numbers with `min ≤ lo ≤ hi ≤ max`.
    fn range_pair(&mut self, path: &str, (lo, hi): (f64, f64), min: f64, max: f64) -> bool {
        let ok = lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max;
        if !ok {
            self.fail(path, format!("must be (lo, hi) with {min} ≤ lo ≤ hi ≤ {max}, got ({lo}, {hi})"));
        }
        ok
    }

    fn fraction(&mut self, path: &str, v: f64) -> bool {
        let ok = v.is_finite() && (0.0..=1.0).contains(&v);
        if !ok {
            self.fail(path, format!("must be a fraction between 0 and 1, got {v}"));
        }
        ok
    }

    pub(super) fn percent(&mut self, path: &str, v: f64) -> Option<Rate> {
        if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
            self.fail(path, format!("must be a percentage between 0 and 100, got {v}"));
            return None;
        }
        match Rate::from_percent(v) {
            Ok(r) => Some(r),
            Err(e) => {
                self.fail(path, e);
                None
            }
        }
    }

    /// An amount of money: not negative, whole micro-USD, at most [`MAX_MONEY_USD`].
    fn money(&mut self, path: &str, usd: f64) -> Option<Money> {
        if usd.is_finite() && usd < 0.0 {
            self.fail(
                path,
                format!(
                    "must not be negative: it must be an amount from 0 to {MAX_MONEY_USD} USD, got {usd}"
                ),
            );
            return None;
        }
        if !usd.is_finite() {
            self.fail(path, format!("must be an amount from 0 to {MAX_MONEY_USD} USD, got {usd}"));
            return None;
        }
        match money_from_usd(usd) {
            Ok(m) if m.is_negative() => {
                self.fail(path, format!("must not be negative, got {usd}"));
                None
            }
            Ok(m) if m > Money::usd(MAX_MONEY_USD) => {
                self.fail(path, format!("{usd} USD is more than the {MAX_MONEY_USD} USD an amount may be"));
                None
            }
            Ok(m) => Some(m),
            Err(e) => {
                self.fail(path, e);
                None
            }
        }
    }

    /// A price on the instrument's grid.
    fn price(&mut self, path: &str, usd: f64, inst: &Instrument) -> Option<Price> {
        if !(usd.is_finite() && usd > 0.0) {
            self.fail(path, format!("must be a positive number, got {usd}"));
            return None;
        }
        match inst.price(usd) {
            Ok(p) => Some(p),
            Err(e) => {
                self.fail(path, format!("{e} (the tick size): prices must lie on the tick grid"));
                None
            }
        }
    }

    fn leverage(&mut self, path: impl fmt::Display, leverage: u32) {
        if !(1..=MAX_LEVERAGE).contains(&leverage) {
            self.fail(path, format!("must be 1..={MAX_LEVERAGE}, got {leverage}"));
        }
    }
}

/// The run's clock: seconds per tick, and ticks in the horizon.
#[derive(Clone, Copy, Debug)]
pub(super) struct Clock {
    pub tick: u64,
    pub ticks: u64,
}

/// The longest scenario name: it names folders (`out/<name>/mc/shard-K-of-N/`), and file
/// systems allow 255 bytes a name.
pub(super) const MAX_NAME: usize = 100;

pub(super) fn name(c: &mut Checker, name: &str) {
    if name.is_empty()
        || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch))
        || name == "."
        || name == ".."
    {
        c.fail("name", format!("must be a plain file name (letters, digits, _ - .), got {name:?}"));
    } else if name.len() > MAX_NAME {
        c.fail("name", format!("{} characters is longer than the {MAX_NAME} a name may have", name.len()));
    }
}

/// The tick, the horizon in ticks, and the funding interval as a whole number of ticks.
pub(super) fn time(c: &mut Checker, s: &Scenario) -> Option<Clock> {
    let mark = c.mark();
    let tick = s.tick.secs();
    if tick == 0 {
        c.fail("tick", "must be at least 1s");
    }
    if s.horizon.secs() == 0 {
        c.fail("horizon", "must be longer than 0s");
    }
    let ticks = s.horizon.secs().checked_div(tick).unwrap_or(0);
    if tick > 0 && s.horizon.secs() > 0 && ticks == 0 {
        c.fail("horizon", format!("{} is shorter than one tick ({})", s.horizon, s.tick));
    }
    if ticks > MAX_TICKS {
        c.fail("horizon", format!("{ticks} ticks is more than the {MAX_TICKS} a run may have"));
    }
    if tick > 0 && !s.market.funding_interval.secs().is_multiple_of(tick) {
        c.fail("market.funding_interval", format!("must be a whole number of ticks ({})", s.tick));
    }
    c.sound_since(mark).then_some(Clock { tick, ticks })
}

/// The start price (on the instrument's grid, at least [`MIN_START_TICKS`] ticks, one lot
/// worth at most [`MAX_LOT_VALUE_USD`]) and the insurance fund.
pub(super) fn start(c: &mut Checker, s: &Scenario, inst: Option<&Instrument>) -> Option<(Price, Money)> {
    let price = match inst {
        Some(inst) => c.price("start_price_usd", s.start_price_usd, inst).filter(|p| {
            let tick = inst.price_f64(Price(1));
            let lot_value = s.start_price_usd * inst.lot_sats() as f64 / 1e8;
            if p.0 < MIN_START_TICKS {
                c.fail(
                    "start_price_usd",
                    format!(
                        "{} is {} ticks of {tick}; a start price must be at least {MIN_START_TICKS} ticks ({} USD) so that a 0.1% move is a tick",
                        s.start_price_usd,
                        p.0,
                        inst.price_f64(Price(MIN_START_TICKS))
                    ),
                );
                false
            } else if lot_value > MAX_LOT_VALUE_USD {
                c.fail(
                    "start_price_usd",
                    format!(
                        "one lot ({} {}) at {} is worth {lot_value} USD, more than the {MAX_LOT_VALUE_USD} USD a lot may be worth (lower the price or market.lot)",
                        inst.lot_sats() as f64 / 1e8,
                        s.market.instrument.asset(),
                        s.start_price_usd
                    ),
                );
                false
            } else {
                true
            }
        }),
        None => {
            c.finite_positive("start_price_usd", s.start_price_usd);
            None
        }
    };
    let fund = c.money("insurance_fund_usd", s.insurance_fund_usd);
    Some((price?, fund?))
}

/// The most a shock may sell or buy (USD): what the outside account that sends it holds.
const SHOCK_MAX_USD: f64 = 1e12;

/// What needs spot venues has them: a spot shock trades on them and a desk hedges on them.
pub(super) fn spot_needed(c: &mut Checker, s: &Scenario) {
    if !s.index.venues.is_empty() {
        return;
    }
    for (i, sh) in s.shocks.iter().enumerate() {
        if sh.market == crate::sim::ShockMarket::Spot {
            c.fail(
                format!("shocks[{i}].market"),
                "a Spot shock needs spot venues, and index.venues is empty",
            );
        }
    }
    if s.arbitrage.desks > 0 {
        c.fail(
            "arbitrage.desks",
            format!(
                "{} desks need spot venues to hedge on, and index.venues is empty (set desks: 0)",
                s.arbitrage.desks
            ),
        );
    }
    if s.value.traders > 0 {
        c.fail(
            "value.traders",
            format!(
                "{} value traders need spot venues, whose fair value they trade against, and index.venues is empty (set traders: 0)",
                s.value.traders
            ),
        );
    }
}

/// Market orders from outside, at their ticks.
/// How many slices the shocks spread over durations may make in all.
const MAX_SHOCK_SLICES: u64 = 1_000_000;

pub(super) fn shocks(c: &mut Checker, s: &Scenario, clock: Option<Clock>) -> Option<Vec<Shock>> {
    let mark = c.mark();
    let mut slices_in_all: u64 = 0;
    let mut notionals = Vec::new();
    for (i, sh) in s.shocks.iter().enumerate() {
        let path = format!("shocks[{i}].notional_usd");
        if c.finite_positive(&path, sh.notional_usd) && c.within(&path, sh.notional_usd, 0.0, SHOCK_MAX_USD) {
            notionals.extend(c.money(&path, sh.notional_usd));
        }
        if sh.at.secs() > s.horizon.secs() {
            c.fail(format!("shocks[{i}].at"), format!("{} is after the horizon {}", sh.at, s.horizon));
        }
        if let Some(over) = sh.over {
            let tick = s.tick.secs().max(1);
            let slices = over.secs() / tick;
            slices_in_all = slices_in_all.saturating_add(slices);
            // A slice smaller than one lot at the start price would be sent as nothing.
            let lot_usd = s.market.lot() * s.start_price_usd;
            if over.secs() < tick {
                c.fail(
                    format!("shocks[{i}].over"),
                    format!("must be at least one tick ({tick}s), got {over}"),
                );
            } else if sh.at.secs().saturating_add(over.secs()) > s.horizon.secs() {
                c.fail(
                    format!("shocks[{i}].over"),
                    format!("{} from {} ends after the horizon {}", over, sh.at, s.horizon),
                );
            } else if lot_usd.is_finite() && sh.notional_usd / (slices as f64) < lot_usd {
                c.fail(
                    format!("shocks[{i}].over"),
                    format!(
                        "{slices} slices of {} USD are each less than one lot ({lot_usd} USD at the start price)",
                        sh.notional_usd / slices as f64
                    ),
                );
            }
        }
    }
    if slices_in_all > MAX_SHOCK_SLICES {
        c.fail(
            "shocks",
            format!(
                "{slices_in_all} slices in all (the shocks' `over` at this tick); at most {MAX_SHOCK_SLICES}"
            ),
        );
    }
    let clock = clock.filter(|_| c.sound_since(mark))?;
    let mut out = Vec::new();
    for (sh, notional) in s.shocks.iter().zip(notionals) {
        let first = sh.at.secs() / clock.tick;
        let slices = sh.over.map_or(1, |d| (d.secs() / clock.tick).max(1));
        // Equal slices of the exact notional; the first few carry the remainder's units.
        let (each, rest) = (notional.0 / slices as i64, notional.0 % slices as i64);
        for k in 0..slices {
            let part = Money(each + i64::from((k as i64) < rest));
            if part.0 > 0 {
                out.push(Shock { tick: first + k, side: sh.side, market: sh.market, notional: part });
            }
        }
    }
    Some(out)
}

/// Price levels to judge: each on the grid, above or below the start price, within 10x of it.
pub(super) fn watch_levels(c: &mut Checker, s: &Scenario, inst: Option<&Instrument>) -> Option<Vec<Price>> {
    let mark = c.mark();
    let mut levels = Vec::new();
    for (i, &level) in s.watch_levels.iter().enumerate() {
        let path = format!("watch_levels[{i}]");
        if c.finite_positive(&path, level) && s.start_price_usd > 0.0 {
            if level == s.start_price_usd {
                c.fail(&path, "is the start price: a watch level must lie above or below it");
            } else if level > s.start_price_usd * 10.0 || level < s.start_price_usd / 10.0 {
                c.fail(
                    &path,
                    format!("{level} is more than 10x away from the start price {}", s.start_price_usd),
                );
            } else if let Some(inst) = inst {
                levels.extend(c.price(&path, level, inst));
            }
        }
    }
    (c.sound_since(mark) && inst.is_some()).then_some(levels)
}

pub(super) fn outputs(c: &mut Checker, outputs: &OutputSpec, tick: u64) {
    if outputs.heatmap_interval.secs() == 0 || outputs.heatmap_interval.secs() < tick {
        c.fail(
            "outputs.heatmap_interval",
            format!("must be at least one tick ({tick}s), got {}", outputs.heatmap_interval),
        );
    }
}

pub(super) fn monte_carlo(c: &mut Checker, monte_carlo: &MonteCarloSpec) {
    if monte_carlo.runs == 0 || monte_carlo.runs > 1_000_000 {
        c.fail("monte_carlo.runs", format!("must be 1..=1000000, got {}", monte_carlo.runs));
    }
}
