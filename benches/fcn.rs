//! The PAMS comparison: PAMS's CI2002 market with 1,000 FCN agents, 10,000 steps, where a step
//! is one agent's decision (PAMS: one agent acts per step) and a tick carries
//! `PAMS_DECISIONS_PER_TICK` of them. Throughput is in steps. Building the world is not timed.
//! PAMS 0.3.0 itself runs this market at about 4,400 steps/s on this machine.
//!
//! Run: `cargo bench --bench fcn`.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use liqsim::sim::{SimConfig, Simulation};
use std::hint::black_box;

const STEPS: u64 = 10_000;

fn pams_ci2002(c: &mut Criterion) {
    let mut group = c.benchmark_group("pams_ci2002");
    group.throughput(Throughput::Elements(STEPS));
    for agents in [100u32, 1_000] {
        let cfg = SimConfig::pams_ci2002(agents, STEPS);
        group.bench_function(format!("{agents}_agents_{STEPS}_steps"), |b| {
            b.iter_batched(
                || Simulation::new(&cfg, None).expect("world builds"),
                |mut sim| {
                    while sim.step().expect("tick runs") {}
                    black_box(sim.exchange().last());
                    sim
                },
                BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, pams_ci2002);
criterion_main!(benches);
