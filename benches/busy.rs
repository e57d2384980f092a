//! The work of a busy market at scale, each configuration measured on its own: the world build
//! alone, a busy hour (trades, liquidations, wake-ups) at 100k, 1M and 4M accounts, and the
//! seed's full-mix day at 1M accounts with its build. Each runs in a process of its own and prints
//! its wall time and that process's peak resident memory (so each figure is the configuration's
//! own), and the book bench's figure is printed before the first and after each as a yardstick
//! of the machine's state.
//!
//! Single runs, timed with a plain clock (criterion's ten samples of a 4M-account world would
//! take most of an hour); `-n N` repeats each and reports the fastest and the median.
//!
//! Run: `cargo bench --bench busy` (all), or name configurations:
//! `cargo bench --bench busy -- build_1m busy_hour_1m full_mix_day -n 3`.

use liqsim::sim::{SimConfig, Simulation};
use std::time::Instant;

#[path = "common/book_mix.rs"]
mod book_mix;
#[path = "common/worlds.rs"]
mod worlds;

const HOUR: u64 = 3_600;

struct Case {
    name: &'static str,
    cfg: fn() -> SimConfig,
    /// Time the ticks too (else the build only).
    run: bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case { name: "build_100k", cfg: || SimConfig::full_mix(100_000, HOUR), run: false },
        Case { name: "build_1m", cfg: || SimConfig::full_mix(1_000_000, HOUR), run: false },
        Case { name: "build_4m", cfg: || SimConfig::full_mix(4_000_000, HOUR), run: false },
        Case { name: "busy_hour_100k", cfg: || worlds::busy(100_000, HOUR), run: true },
        Case { name: "busy_hour_1m", cfg: || worlds::busy(1_000_000, HOUR), run: true },
        Case { name: "busy_hour_4m", cfg: || worlds::busy(4_000_000, HOUR), run: true },
        Case { name: "full_mix_day", cfg: || SimConfig::full_mix(1_000_000, 86_400), run: true },
    ]
}

struct Measured {
    build: f64,
    ticks: f64,
    events: u64,
    liquidations: u64,
}

fn measure(case: &Case) -> Measured {
    let cfg = (case.cfg)();
    let t = Instant::now();
    let mut sim = Simulation::new(&cfg, None).expect("world builds");
    let build = t.elapsed().as_secs_f64();
    let mut ticks = 0.0;
    if case.run {
        let t = Instant::now();
        while sim.step().expect("tick runs") {}
        ticks = t.elapsed().as_secs_f64();
    }
    let ex = sim.exchange();
    let s = ex.stats();
    let m = Measured {
        build,
        ticks,
        events: ex.recorder().events(),
        liquidations: s.liquidations_long + s.liquidations_short,
    };
    drop(sim);
    m
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let mut repeats = 1usize;
    let mut names: Vec<String> = Vec::new();
    let mut child = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "-n" {
            repeats = it.next().and_then(|n| n.parse().ok()).unwrap_or(1).max(1);
        } else if a == "--child" {
            child = it.next().cloned();
        } else if !a.starts_with('-') {
            names.push(a.clone());
        }
    }
    if let Some(name) = child {
        let case = cases().into_iter().find(|c| c.name == name).expect("a known case");
        report(&case, repeats);
        return;
    }
    let chosen: Vec<Case> = cases()
        .into_iter()
        .filter(|c| names.is_empty() || names.iter().any(|n| c.name.contains(n.as_str())))
        .collect();
    if chosen.is_empty() {
        return;
    }
    book_mix::print_yardstick("before");
    for case in &chosen {
        // Each configuration in a process of its own, so its peak memory is its own.
        let exe = std::env::current_exe().expect("the bench's own path");
        let status = std::process::Command::new(exe)
            .args(["--child", case.name, "-n", &repeats.to_string()])
            .status()
            .expect("the bench runs a case");
        assert!(status.success(), "{} failed", case.name);
        book_mix::print_yardstick("after");
    }
}

fn report(case: &Case, repeats: usize) {
    let runs: Vec<Measured> = (0..repeats).map(|_| measure(case)).collect();
    let total: Vec<f64> = runs.iter().map(|m| m.build + m.ticks).collect();
    let build: Vec<f64> = runs.iter().map(|m| m.build).collect();
    let ticks: Vec<f64> = runs.iter().map(|m| m.ticks).collect();
    let last = &runs[runs.len() - 1];
    let min = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "{:<15} total {:>7.3} s (median {:.3}) = build {:.3} s + ticks {:.3} s; {} events, {} liquidations; \
         peak resident {:.0} MiB; {} run(s)",
        case.name,
        min(&total),
        median(total.clone()),
        min(&build),
        min(&ticks),
        last.events,
        last.liquidations,
        worlds::peak_mib(),
        repeats,
    );
}
