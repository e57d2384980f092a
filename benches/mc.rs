//! What one Monte Carlo run costs, and the exact ADL ranking that dominated it.
//!
//! - `mc_run/btc_14_to_1`: one whole run of `scenarios/btc_14_to_1.ron` (100k accounts, 6 h of
//!   one-second ticks, the adaptive hunter's crash with ~9,400 auto-deleveragings), exactly as
//!   `liqsim mc` runs it (no event log). 1,000 runs on 2 threads take about 500 × this.
//! - `adl/score_and_rank_100k`: scoring and ranking 100k positions at a mark, the work of one
//!   rebuild of the ADL queue (256/128-bit exact division per score).
//!
//! Run: `cargo bench --bench mc`. Each group prints the book bench's figure before and after it
//! as a yardstick of the machine's state.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use liqsim::book::AccountId;
use liqsim::margin::{adl_rank, adl_score};
use liqsim::units::{Money, Qty};
use rand::{RngExt, SeedableRng, rngs::ChaCha8Rng};
use std::hint::black_box;

#[path = "common/book_mix.rs"]
mod book_mix;
use std::path::Path;

fn mc_run(c: &mut Criterion) {
    book_mix::print_yardstick("before");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/btc_14_to_1.ron");
    let v = liqsim::scenario::load(&path).expect("the bundled scenario loads");
    let mut group = c.benchmark_group("mc_run");
    group.sample_size(10);
    let mut run = 0u32;
    group.bench_function("btc_14_to_1", |b| {
        b.iter(|| {
            run += 1;
            black_box(liqsim::mc::simulate(&v, 42, run, None).expect("run completes"))
        })
    });
    group.finish();
    book_mix::print_yardstick("after");
}

fn adl(c: &mut Criterion) {
    let inst = liqsim::units::Instrument::btcusdt();
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mark = inst.price_floor(71_450.0).expect("price");
    // Shorts entered between 60K and 100K with 1x–100x of margin: winners and losers.
    let positions: Vec<(Qty, Money, Money)> = (0..100_000)
        .map(|_| {
            let qty = Qty(-rng.random_range(1..20_000i64));
            let entry = inst.price_floor(rng.random_range(60_000.0..100_000.0)).expect("price");
            let cost = inst.notional(entry, qty).expect("notional");
            let margin = Money(cost.0.abs() / rng.random_range(1..=100i64));
            (qty, cost, margin)
        })
        .collect();
    let mut group = c.benchmark_group("adl");
    group.throughput(Throughput::Elements(positions.len() as u64));
    group.bench_function("score_and_rank_100k", |b| {
        b.iter(|| {
            let mut ranked: Vec<_> = positions
                .iter()
                .enumerate()
                .map(|(i, &(q, cost, margin))| {
                    (AccountId(i as u32), q.abs(), adl_score(&inst, q, cost, margin, mark).expect("score"))
                })
                .collect();
            adl_rank(&mut ranked);
            black_box(ranked[0])
        })
    });
    group.finish();
    book_mix::print_yardstick("after");
}

criterion_group!(benches, adl, mc_run);
criterion_main!(benches);
