//! Order book throughput on the exchange-core benchmark mix: 9% GTC, 3% IOC, 6% cancel, 82% move,
//! with about 1,000 resting orders over about 750 price levels.
//!
//! The operation stream is generated (and validated) up front by replaying it on a scratch book,
//! so the timed loop does nothing but book operations. Each timed iteration starts from a clone
//! of the same pre-filled book.
//!
//! Run: `cargo bench --bench book`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use liqsim::book::{AccountId, NewOrder, OrderFlags, OrderId, OrderKind};
use liqsim::units::{Price, Qty, Side};
use std::hint::black_box;

#[path = "common/book_mix.rs"]
mod book_mix;
use book_mix::{HALF_RANGE, MID, OPS, Op, generate, run};

fn exchange_core_mix(c: &mut Criterion) {
    let (start, ops) = generate(42, OPS);
    // The stream must replay identically on the start state.
    let mut check = start.clone();
    let mut fills = Vec::new();
    for op in &ops {
        let ok = match *op {
            Op::Place(o) => check.place(o, &mut fills).is_ok(),
            Op::Cancel(id) => check.cancel(id).is_ok(),
            Op::Move(id, p, q) => check.amend(id, p, q, &mut fills).is_ok(),
        };
        assert!(ok, "operation stream does not replay cleanly");
    }
    check.check_invariants().expect("book consistent after replay");

    let mut group = c.benchmark_group("book");
    group.throughput(Throughput::Elements(ops.len() as u64));
    group.sample_size(20);
    group.bench_function("exchange_core_mix", |b| {
        b.iter_batched_ref(
            || (start.clone(), Vec::with_capacity(64)),
            |(book, fills)| run(book, &ops, fills),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn place_cancel(c: &mut Criterion) {
    let (start, _) = generate(7, 0);
    const N: u64 = 1_000;
    let mut group = c.benchmark_group("book");
    group.throughput(Throughput::Elements(2 * N));
    group.bench_function("place_then_cancel_resting", |b| {
        let mut book = start.clone();
        let mut fills = Vec::new();
        let mut id = 10_000_000u64;
        b.iter(|| {
            let first = id;
            for k in 0..N {
                id += 1;
                let side = if k % 2 == 0 { Side::Buy } else { Side::Sell };
                let off = 1 + (k as i64 * 7919) % HALF_RANGE;
                let price = Price(if side == Side::Buy { MID - off } else { MID + off });
                let o = NewOrder {
                    id: OrderId(id),
                    owner: AccountId((k % 97) as u32),
                    side,
                    kind: OrderKind::Gtc,
                    price,
                    qty: Qty(3),
                    flags: OrderFlags::default(),
                };
                let _ = black_box(book.place(o, &mut fills));
            }
            for k in first + 1..=id {
                let _ = black_box(book.cancel(OrderId(k)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, exchange_core_mix, place_cancel);
criterion_main!(benches);
