//! The worlds the scale benches run, and how they read memory, shared by the benches and
//! `examples/profile_world.rs`.

#![allow(dead_code)]

use liqsim::sim::{Shock, SimConfig};
use liqsim::units::{Money, Side};

/// A busy market: the full agent mix (FCN and noise traders, two market makers, an adaptive
/// hunter, holders waking at daily rates) on the seed's map at `accounts` accounts, plus two
/// outside market orders that run through the book and set off liquidations: $1.5B bought a
/// quarter of the way in, $1B sold at two thirds.
pub fn busy(accounts: u32, ticks: u64) -> SimConfig {
    let mut cfg = SimConfig::full_mix(accounts, ticks);
    cfg.shocks = vec![
        Shock {
            tick: ticks / 4,
            side: Side::Buy,
            market: Default::default(),
            notional: Money::usd(1_500_000_000),
        },
        Shock {
            tick: ticks * 2 / 3,
            side: Side::Sell,
            market: Default::default(),
            notional: Money::usd(1_000_000_000),
        },
    ];
    cfg
}

fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.trim_start_matches(key).trim().trim_end_matches("kB").trim().parse().ok()
}

/// The process's peak resident memory so far, MiB.
pub fn peak_mib() -> f64 {
    status_kib("VmHWM:").unwrap_or(0) as f64 / 1024.0
}
