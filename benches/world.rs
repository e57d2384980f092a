//! The whole world at scale: the seed's map at 100k and 1M leveraged accounts, one simulated
//! hour at one-second ticks (holders waking at realistic rates, the liquidity provider
//! refilling). Per-tick cost must not grow with the number of passive accounts: compare the
//! two per-tick times. Building the world and the end-of-run summary are not timed.
//!
//! Also the full agent mix at 1M accounts for a simulated day (`full_mix_day`).
//!
//! Run: `cargo bench --bench world` (or `-- full_mix_day`). Each group prints the process's peak
//! resident memory, and the book bench's figure before and after it as a yardstick of the
//! machine's state. `cargo bench --bench busy` measures busy markets, the build and memory per
//! configuration.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use liqsim::sim::{SimConfig, Simulation};
use std::hint::black_box;

#[path = "common/book_mix.rs"]
mod book_mix;

const TICKS: u64 = 3_600;

/// `active`: holders wake at realistic daily rates (so the number of wake-ups per tick grows
/// with the population, as it would on a venue); otherwise they are purely passive and the
/// per-tick cost must be flat in the number of accounts.
fn config(accounts: u32, active: bool) -> SimConfig {
    let mut cfg = SimConfig::btc_14_to_1(accounts, TICKS, 0.0);
    if !active {
        return cfg;
    }
    cfg.holders.close_per_day = 0.5;
    cfg.holders.add_margin_per_day = 0.5;
    cfg.holders.add_margin_fraction = 0.2;
    cfg.holders.reenter_per_day = 1.0;
    cfg.holders.reserve_fraction = 0.2;
    cfg
}

fn world_hour(c: &mut Criterion) {
    book_mix::print_yardstick("before");
    let mut group = c.benchmark_group("world_hour");
    group.sample_size(10);
    group.throughput(Throughput::Elements(TICKS));
    for (accounts, active) in [(100_000u32, false), (1_000_000, false), (100_000, true), (1_000_000, true)] {
        let cfg = config(accounts, active);
        let name = format!("{accounts}_accounts_{}", if active { "active" } else { "passive" });
        group.bench_function(name, |b| time_ticks(b, &cfg));
    }
    group.finish();
    book_mix::print_yardstick("after");
    print_peak_memory();
}

/// The full agent mix on the seed's map at 1M accounts for a simulated day (86,400 one-second
/// ticks): 1,000 FCN agents, 200 noise traders, two market makers, an adaptive hunter, holders
/// waking at daily rates. Target: ≤ 10 s on one core, ≤ 1 GiB.
fn full_mix_day(c: &mut Criterion) {
    book_mix::print_yardstick("before");
    let mut group = c.benchmark_group("full_mix_day");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(90));
    group.throughput(Throughput::Elements(86_400));
    let cfg = SimConfig::full_mix(1_000_000, 86_400);
    group.bench_function("1000000_accounts", |b| time_ticks(b, &cfg));
    group.finish();
    book_mix::print_yardstick("after");
    print_peak_memory();
}

/// Times the ticks of a fresh world per iteration. Building it and the end-of-run summary (which
/// hashes every account once: per-run work, not per-tick) are not timed.
fn time_ticks(b: &mut criterion::Bencher, cfg: &SimConfig) {
    b.iter_batched(
        || Simulation::new(cfg, None).expect("world builds"),
        |mut sim| {
            while sim.step().expect("tick runs") {}
            black_box(sim.exchange().last());
            sim
        },
        BatchSize::PerIteration,
    )
}

fn print_peak_memory() {
    if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
        for line in status.lines().filter(|l| l.starts_with("VmHWM")) {
            println!(
                "peak resident memory of the bench process: {}",
                line.trim_start_matches("VmHWM:").trim()
            );
        }
    }
}

criterion_group!(benches, world_hour, full_mix_day);
criterion_main!(benches);
