//! What one Monte Carlo run costs, the spot venues' quoting inside it, and the exact ADL
//! ranking that once dominated it.
//!
//! - `mc_run/btc_14_to_1`: one whole run of `scenarios/btc_14_to_1.ron` (100k accounts, 6 h of
//!   one-second ticks on the perp and three spot venues, the adaptive hunter's push through the
//!   longs: about $570M liquidated, no auto-deleveraging since the insurance fund takes over
//!   first), exactly as `liqsim mc` runs it (no event log). 1,000 runs on 2 threads take about
//!   500 × this.
//! - `spot_quote/levels_both_sides`: a provider's target ladder (`DepthCurve::levels`) on
//!   Binance spot's curve (the perp's provider's curve has the same grid), both sides, at 1,000
//!   centres along a one-second random walk of 0.5% per square-root hour: the quoting every spot
//!   venue and the perp's provider do every tick.
//! - `spot_quote/venue_hour`: one spot venue's hour of one-second requotes along that walk, with
//!   a $200k–$2M market order taken every ten seconds (a busy venue, not an idle one).
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

/// Centres (ticks) along a one-second random walk of 0.5% per square-root hour from 71,450.
fn fair_walk(inst: &liqsim::units::Instrument, secs: usize) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let sigma = 0.005 / 3600f64.sqrt();
    let mut x = inst.price_floor(71_450.0).expect("price").0 as f64;
    (0..secs)
        .map(|_| {
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            x *= 1.0 + sigma * z;
            x
        })
        .collect()
}

fn spot_quote(c: &mut Criterion) {
    book_mix::print_yardstick("before");
    use liqsim::liquidity::DepthCurve;
    use liqsim::spot::{SpotVenue, SpotVenueConfig};
    use liqsim::units::{Instrument, Price, Side};
    let inst = Instrument::btcusdt();
    let start = inst.price_floor(71_450.0).expect("price");
    let curve = DepthCurve::binance_btc_spot();
    let grid = curve.grid(start);
    let walk = fair_walk(&inst, 3_600);
    let mut group = c.benchmark_group("spot_quote");
    let centres: Vec<Price> = walk.iter().take(1_000).map(|&x| Price(x.round() as i64)).collect();
    group.throughput(Throughput::Elements(centres.len() as u64));
    let mut out = Vec::new();
    group.bench_function("levels_both_sides", |b| {
        b.iter(|| {
            let mut n = 0;
            for &c in &centres {
                for side in [Side::Buy, Side::Sell] {
                    curve.levels(&grid, &inst, c, side, &mut out).expect("levels");
                    n += out.len();
                }
            }
            black_box(n)
        })
    });
    group.throughput(Throughput::Elements(walk.len() as u64));
    group.bench_function("venue_hour", |b| {
        b.iter_batched(
            || SpotVenue::new(SpotVenueConfig::binance_like("bench", 1.0), inst, start).expect("venue"),
            |mut venue| {
                let mut rng = ChaCha8Rng::seed_from_u64(5);
                for (t, &fair) in walk.iter().enumerate() {
                    venue.quote(fair, 1.0).expect("quote");
                    if t % 10 == 9 {
                        let usd = rng.random_range(200_000.0..2_000_000.0);
                        let qty = inst.qty_floor(usd / 71_450.0).expect("qty");
                        let side = if rng.random_bool(0.5) { Side::Buy } else { Side::Sell };
                        black_box(venue.take(AccountId(1), side, qty, None));
                    }
                }
                venue
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
    book_mix::print_yardstick("after");
}

criterion_group!(benches, spot_quote, adl, mc_run);
criterion_main!(benches);
