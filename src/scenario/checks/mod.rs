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

pub(super) use market::{arbitrage, index, liquidity, market};
pub(super) use traders::{background, holders, hunters, makers, map};

use super::{MAX_TICKS, MonteCarloSpec, OutputSpec, Problem, Scenario, ShockSpec};
use crate::ledger::MAX_LEVERAGE;
use crate::sim::Shock;
use crate::units::{Instrument, Money, Price, Rate, money_from_usd};
use std::fmt;

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

    fn money(&mut self, path: &str, usd: f64) -> Option<Money> {
        match money_from_usd(usd) {
            Ok(m) if !m.is_negative() => Some(m),
            Ok(_) => {
                self.fail(path, format!("must not be negative, got {usd}"));
                None
            }
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

pub(super) fn name(c: &mut Checker, name: &str) {
    if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || "_-.".contains(ch)) {
        c.fail("name", format!("must be a plain file name (letters, digits, _ - .), got {name:?}"));
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

/// The start price (on the instrument's grid) and the insurance fund.
pub(super) fn start(c: &mut Checker, s: &Scenario, inst: Option<&Instrument>) -> Option<(Price, Money)> {
    let price = match inst {
        Some(inst) => c.price("start_price_usd", s.start_price_usd, inst),
        None => {
            c.finite_positive("start_price_usd", s.start_price_usd);
            None
        }
    };
    let fund = c.money("insurance_fund_usd", s.insurance_fund_usd);
    Some((price?, fund?))
}

/// Market orders from outside, at their ticks.
pub(super) fn shocks(c: &mut Checker, s: &Scenario, clock: Option<Clock>) -> Option<Vec<Shock>> {
    let mark = c.mark();
    let mut notionals = Vec::new();
    for (i, sh) in s.shocks.iter().enumerate() {
        let path = format!("shocks[{i}].notional_usd");
        if c.finite_positive(&path, sh.notional_usd) {
            notionals.extend(c.money(&path, sh.notional_usd));
        }
        if sh.at.secs() > s.horizon.secs() {
            c.fail(format!("shocks[{i}].at"), format!("{} is after the horizon {}", sh.at, s.horizon));
        }
    }
    let clock = clock.filter(|_| c.sound_since(mark))?;
    let shock = |(sh, notional): (&ShockSpec, Money)| Shock {
        tick: sh.at.secs() / clock.tick,
        side: sh.side,
        market: sh.market,
        notional,
    };
    Some(s.shocks.iter().zip(notionals).map(shock).collect())
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

pub(super) fn outputs(c: &mut Checker, outputs: &OutputSpec) {
    c.finite_positive("outputs.heatmap_interval (seconds)", outputs.heatmap_interval.secs() as f64);
}

pub(super) fn monte_carlo(c: &mut Checker, monte_carlo: &MonteCarloSpec) {
    if monte_carlo.runs == 0 || monte_carlo.runs > 1_000_000 {
        c.fail("monte_carlo.runs", format!("must be 1..=1000000, got {}", monte_carlo.runs));
    }
}
