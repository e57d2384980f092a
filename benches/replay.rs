//! Replay throughput: a run's whole event log folded back into the exchange state (ledger and
//! book) by `liqsim::engine::replay`, the same code `liqsim replay` runs.
//!
//! - `replay/btc_14_to_1_6h`: the log of one 6-hour run of `scenarios/btc_14_to_1.ron` (100k
//!   accounts, the adaptive hunter's crash), read from memory: decoding, checksums, the stream
//!   hash, the ledger and the book's matching. Throughput is in events.
//!
//! Run: `cargo bench --bench replay`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use liqsim::engine::LogTarget;
use liqsim::events::LogReader;
use liqsim::sim::Simulation;
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A `Write` the bench can read back once the run has finished with it.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn replay(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/btc_14_to_1.ron");
    let v = liqsim::scenario::load(&path).expect("the bundled scenario loads");
    let buf = SharedBuf::default();
    let log = LogTarget { out: Box::new(buf.clone()), scenario_hash: [0; 32], seed: v.sim.seed };
    let mut sim = Simulation::new(&v.sim, Some(log)).expect("the world builds");
    let summary = sim.run(|_| {}).expect("the run completes");
    drop(sim);
    let bytes = buf.0.lock().expect("not poisoned").clone();
    eprintln!("btc_14_to_1 log: {} events, {:.1} MB", summary.events, bytes.len() as f64 / 1e6);
    let mut group = c.benchmark_group("replay");
    group.sample_size(10);
    group.throughput(Throughput::Elements(summary.events));
    group.bench_function("btc_14_to_1_6h", |b| {
        b.iter(|| {
            let replayed =
                liqsim::engine::replay(LogReader::new(&bytes[..]).expect("a log")).expect("the log replays");
            assert_eq!(replayed.events, summary.events);
            black_box(replayed.state_hash())
        })
    });
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
