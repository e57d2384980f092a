//! A world to profile: builds one configuration and runs it, printing the build and tick times
//! apart. Made for `perf record` / `valgrind --tool=callgrind`, which need a plain binary.
//!
//! Run: `cargo run --release --example profile_world -- [full_mix|busy|btc] [accounts] [ticks]`
//! (defaults: `full_mix 1000000 86400`, the seed day of `cargo bench --bench busy -- full_mix_day`;
//! `busy` is the busy market of `cargo bench --bench busy`).

use liqsim::sim::{SimConfig, Simulation};
use std::time::Instant;

#[path = "../benches/common/worlds.rs"]
mod worlds;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let what = args.first().map(String::as_str).unwrap_or("full_mix");
    let accounts: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let ticks: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(86_400);
    let cfg = match what {
        "full_mix" => SimConfig::full_mix(accounts, ticks),
        "btc" => SimConfig::btc_14_to_1(accounts, ticks, 0.0),
        "busy" => worlds::busy(accounts, ticks),
        other => panic!("unknown configuration {other}: full_mix, busy or btc"),
    };
    let t0 = Instant::now();
    let mut sim = Simulation::new(&cfg, None).expect("world builds");
    let built = t0.elapsed();
    let t1 = Instant::now();
    let mut per_tick: Vec<(f64, u64)> = Vec::new();
    let mut tick = 0;
    loop {
        let t = Instant::now();
        if !sim.step().expect("tick runs") {
            break;
        }
        tick += 1;
        per_tick.push((t.elapsed().as_secs_f64(), tick));
    }
    let ran = t1.elapsed();
    per_tick.sort_by(|a, b| b.0.total_cmp(&a.0));
    let slowest: Vec<String> =
        per_tick.iter().take(8).map(|(s, t)| format!("tick {t}: {:.0} ms", s * 1e3)).collect();
    println!("slowest ticks: {}", slowest.join(", "));
    let summary = sim.finish().expect("summary");
    let s = sim.exchange().stats();
    println!(
        "{what} {accounts} accounts {ticks} ticks: build {:.3} s, ticks {:.3} s, events {}, liquidations {}, peak memory {:.0} MiB, state {}",
        built.as_secs_f64(),
        ran.as_secs_f64(),
        sim.exchange().recorder().events(),
        s.liquidations_long + s.liquidations_short,
        worlds::peak_mib(),
        summary.final_state_hash
    );
}
