//! A resource budget, checked before any work: what a run (or a Monte Carlo) of a validated
//! scenario will take in memory and on disk, estimated from the scenario, against limits.
//!
//! The estimate is deliberately on the high side (it is a refusal threshold, not a forecast).
//! Its parts, each with the scenario fields that drive it:
//!
//! | part | memory | disk |
//! |---|---|---|
//! | accounts (map bands, counterparties, agents) | 420 B each | — |
//! | tick series (`horizon` / `tick`) | 100 B a tick | `ticks.csv`: 110 B a tick |
//! | liquidation heatmap: columns (`horizon` / `outputs.heatmap_interval`) × buckets (half to one and a half times `start_price_usd` / `market.map_bucket_usd`, at most one per map account) | 250 B a cell | 30 B a cell (`heatmap.csv`), 100 B with `outputs.pictures` |
//! | event log (`outputs.event_log`): 3 events an account, and a tick 60 plus 2 per order (the noise orders and FCN decisions a tick) | — | 32 B an event |
//! | FCN price history (`background.fcn.params.time_window`) | 16 B a tick of window | — |
//!
//! These were measured on `btc_14_to_1` (a 10-minute run: 343k events, 11 MB, 110 MB of memory;
//! the estimate says 339k events). A Monte Carlo keeps no heatmap: its memory is one world per
//! thread, its disk a journal line per run (and the event logs with `--keep-logs`).

use crate::scenario::Validated;
use std::fmt;

/// The limits a command is held to (`--max-memory`, `--max-disk`, `--max-time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub memory: u64,
    pub disk: u64,
    /// Seconds of computing (all runs together, on one core).
    pub time: u64,
}

/// Default limits: 4 GiB of memory, 4 GiB of disk, a day of computing.
pub const DEFAULT_LIMITS: Limits = Limits { memory: 4 << 30, disk: 4 << 30, time: 86_400 };

/// Events a core processes a second, on the low side (a debug build does about 300k).
pub const EVENTS_PER_SECOND: u64 = 200_000;

/// One part of an estimate, and the fields that drive it.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub what: String,
    pub fields: &'static str,
    pub memory: u64,
    pub disk: u64,
}

/// What a command is estimated to take.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub parts: Vec<Part>,
    /// Events of one run.
    pub events: u64,
    /// Runs (1 for `run`).
    pub runs: u64,
}

impl Estimate {
    pub fn memory(&self) -> u64 {
        BASE_MEMORY.saturating_add(self.parts.iter().fold(0u64, |a, p| a.saturating_add(p.memory)))
    }

    pub fn disk(&self) -> u64 {
        self.parts.iter().fold(0u64, |a, p| a.saturating_add(p.disk))
    }

    /// Seconds of computing, on one core.
    pub fn seconds(&self) -> u64 {
        mul(self.events, self.runs.max(1)) / EVENTS_PER_SECOND
    }

    /// Checks the estimate against `limits`: `Err` says by how much, and which parts (largest
    /// first) with their fields.
    pub fn check(&self, limits: &Limits) -> Result<(), String> {
        let mut over = Vec::new();
        for (name, used, limit, of) in [
            ("memory", self.memory(), limits.memory, (|p: &Part| p.memory) as fn(&Part) -> u64),
            ("disk", self.disk(), limits.disk, |p: &Part| p.disk),
        ] {
            if used <= limit {
                continue;
            }
            let mut parts: Vec<&Part> = self.parts.iter().filter(|p| of(p) > 0).collect();
            parts.sort_by_key(|p| std::cmp::Reverse(of(p)));
            let named: Vec<String> =
                parts.iter().take(3).map(|p| format!("{} {} ({})", p.what, Bytes(of(p)), p.fields)).collect();
            over.push(format!(
                "an estimated {} of {name}, more than the limit of {} (--max-{name}): {}",
                Bytes(used),
                Bytes(limit),
                named.join("; ")
            ));
        }
        if self.seconds() > limits.time {
            over.push(format!(
                "an estimated {} of computing ({} events{} at {}k a second), more than the limit of {} (--max-time): \
                 its events come from horizon, background.noise.params.*_orders_*, \
                 background.fcn.decisions_* and the accounts",
                Secs(self.seconds()),
                Count(self.events),
                if self.runs > 1 { format!(" a run × {} runs", Count(self.runs)) } else { String::new() },
                EVENTS_PER_SECOND / 1000,
                Secs(limits.time)
            ));
        }
        if over.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "resource budget: {}. Make those fields smaller, raise the limit, or pass --force to run anyway",
                over.join("; and ")
            ))
        }
    }
}

/// The process itself, its book and its agents' fixed state.
const BASE_MEMORY: u64 = 64 << 20;

fn mul(a: u64, b: u64) -> u64 {
    a.saturating_mul(b)
}

/// A float count as a whole count (saturating; NaN as 0).
fn whole(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 { x.ceil().min(u64::MAX as f64) as u64 } else { 0 }
}

/// The estimate of one run of `v` (`run`), with its heatmap and output files.
pub fn run(v: &Validated) -> Estimate {
    let mut e = world(v);
    let s = &v.scenario;
    let o = &s.outputs;
    let secs = v.sim.ticks.saturating_mul(v.sim.exchange.tick_secs.max(1));
    let columns = secs.div_ceil(o.heatmap_interval.secs().max(1)) + 1;
    let buckets = whole(s.start_price_usd / s.market.map_bucket_usd().max(f64::MIN_POSITIVE)) + 1;
    let cells = mul(columns, buckets.min(v.sim.map.map_accounts() + 1));
    e.parts.push(Part {
        what: format!(
            "the liquidation heatmap, {} cells ({columns} columns × {} buckets)",
            Count(cells),
            buckets.min(v.sim.map.map_accounts() + 1)
        ),
        fields: "outputs.heatmap_interval, market.map_bucket_usd, horizon",
        memory: mul(cells, 250),
        disk: mul(cells, if o.pictures { 100 } else { 30 }),
    });
    e.parts.push(Part {
        what: format!("ticks.csv, {} rows", Count(v.sim.ticks)),
        fields: "horizon, tick",
        memory: 0,
        disk: mul(v.sim.ticks, 110),
    });
    if o.event_log {
        e.parts.push(event_log(&e));
    }
    e
}

/// The estimate of a Monte Carlo of `v`: `runs` runs on `threads` threads.
pub fn monte_carlo(v: &Validated, runs: u64, threads: u64, keep_logs: bool) -> Estimate {
    let one = world(v);
    let mut e = Estimate { parts: Vec::new(), events: one.events, runs };
    for p in &one.parts {
        e.parts.push(Part { memory: mul(p.memory, threads.max(1)), ..p.clone() });
    }
    e.parts.push(Part {
        what: format!("runs.jsonl and outcomes.csv, {} runs", Count(runs)),
        fields: "--runs, monte_carlo.runs",
        memory: mul(runs, 4_096),
        disk: mul(runs, 4_096),
    });
    if keep_logs {
        let log = event_log(&one);
        e.parts.push(Part {
            what: format!("{} × {}", Count(runs), log.what),
            disk: mul(log.disk, runs),
            ..log
        });
    }
    e
}

/// A world's memory, and its event count. Read from the trusted config (rates per tick, as
/// the world uses them), so the scenario's units do not matter.
fn world(v: &Validated) -> Estimate {
    let s = &v.scenario;
    let bg = &v.sim.background;
    let agents = bg.fcn.as_ref().map_or(0, |f| u64::from(f.agents))
        + bg.noise.as_ref().map_or(0, |n| u64::from(n.agents))
        + v.sim.makers.len() as u64
        + v.sim.hunters.len() as u64
        + v.sim.arbitrageurs.len() as u64;
    let accounts = v.sim.map.map_accounts() + u64::from(s.map.counterparties) + agents + 2;
    let ticks = v.sim.ticks;
    let noise =
        bg.noise.as_ref().map_or(0.0, |n| n.params.market_orders_per_tick + n.params.limit_orders_per_tick);
    let fcn = bg.fcn.as_ref().map_or(0, |f| u64::from(f.decisions_per_tick));
    let orders = whole(noise).saturating_add(fcn);
    let events = mul(accounts, 3).saturating_add(mul(ticks, 60u64.saturating_add(mul(orders, 2))));
    let mut parts = vec![
        Part {
            what: format!("{} accounts", Count(accounts)),
            fields: "map.bands[*].accounts, map.counterparties, background.*.agents",
            memory: mul(accounts, 420),
            disk: 0,
        },
        Part {
            what: format!("the tick series, {} ticks", Count(ticks)),
            fields: "horizon, tick",
            memory: mul(ticks, 100),
            disk: 0,
        },
    ];
    if let Some(f) = &bg.fcn {
        let window = f.params.max_time_window() as u64;
        parts.push(Part {
            what: format!("the FCN price history, {} ticks", Count(window)),
            fields: "background.fcn.params.time_window",
            memory: mul(window, 16),
            disk: 0,
        });
    }
    Estimate { parts, events, runs: 1 }
}

fn event_log(e: &Estimate) -> Part {
    Part {
        what: format!("the event log, {} events", Count(e.events)),
        fields: "horizon, background.noise.params.*_orders_*, background.fcn.decisions_*, accounts",
        memory: 0,
        disk: mul(e.events, 32),
    }
}

/// Parses a size: bytes, or with a suffix K, M, G, T (powers of 1024; `B`/`iB` optional).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let t = t.strip_suffix("iB").or_else(|| t.strip_suffix('B')).unwrap_or(t);
    let (num, shift) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let shift = match c.to_ascii_uppercase() {
                'K' => 10,
                'M' => 20,
                'G' => 30,
                'T' => 40,
                _ => return Err(format!("{text:?} is not a size such as 512M or 8G (units K, M, G, T)")),
            };
            (&t[..i], shift)
        }
        _ => (t, 0),
    };
    let n: f64 = num.trim().parse().map_err(|_| format!("{text:?} is not a size such as 512M or 8G"))?;
    if !n.is_finite() || n <= 0.0 {
        return Err(format!("{text:?}: a size must be positive"));
    }
    Ok((n * (1u64 << shift) as f64).min(u64::MAX as f64) as u64)
}

/// A byte count as people read it: `3.2 GB` (powers of 1024).
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        for (unit, size) in [("TB", 1u64 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] {
            if self.0 >= size {
                return write!(f, "{:.1} {unit}", b / size as f64);
            }
        }
        write!(f, "{} B", self.0)
    }
}

/// Seconds as people read them: `3.5 h`.
pub struct Secs(pub u64);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0 as f64;
        match self.0 {
            0..120 => write!(f, "{} s", self.0),
            120..7_200 => write!(f, "{:.0} min", s / 60.0),
            7_200..172_800 => write!(f, "{:.1} h", s / 3_600.0),
            _ => write!(f, "{:.0} days", s / 86_400.0),
        }
    }
}

/// A count as people read it: `36.0M`.
struct Count(u64);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0 as f64;
        for (unit, size) in [("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)] {
            if n >= size {
                return write!(f, "{:.1}{unit}", n / size);
            }
        }
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("1000"), Ok(1000));
        for bad in ["", "-1G", "8X", "G", "NaN"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
        assert_eq!(Bytes(3 << 29).to_string(), "1.5 GB");
        assert_eq!(Count(36_000_000).to_string(), "36.0M");
    }
}
