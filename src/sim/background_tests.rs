//! Background traders in the world: the PAMS market runs and stays solvent, expiry works, runs
//! are deterministic, and FCN flow alone produces the stylized facts of returns.

use super::*;
use crate::sim::{AgentOrders, Clock, Simulation};

fn run(cfg: &SimConfig) -> Simulation {
    let mut sim = Simulation::new(cfg, None).expect("world builds");
    while sim.step().expect("tick runs") {}
    sim
}

#[test]
fn the_pams_market_trades_around_its_fundamental_and_orders_expire() {
    let cfg = SimConfig::pams_ci2002(100, 20_000);
    let sim = run(&cfg);
    let ex = sim.exchange();
    let rows = &sim.metrics().rows;
    assert_eq!(rows.len() as u64, 20_000 / PAMS_DECISIONS_PER_TICK as u64);
    let volume: f64 = rows.iter().map(|r| r.volume_btc).sum();
    assert!(volume > 500.0, "traded {volume} units");
    // Mean reversion to 300 with small noise: the price stays near it.
    for r in rows.iter().skip(100) {
        assert!((r.last - 300.0).abs() < 30.0, "tick {}: {}", r.tick, r.last);
    }
    // TTLs are at most 20 ticks: nothing older rests on the book.
    let world = &sim.world;
    let now = world.resource::<Clock>().tick;
    let mut q = sim.world.try_query::<(&FcnTrader, &AgentOrders)>().expect("registered");
    let mut live = 0;
    for (_, orders) in q.iter(world) {
        for o in &orders.live {
            assert!(o.tag > now && o.tag <= now + 20, "{o:?} at {now}");
            live += 1;
        }
    }
    assert!(live > 0 && ex.book().order_count() <= live, "{} resting, {live} live", ex.book().order_count());
    assert_eq!(ex.stats().accounts_long + ex.stats().accounts_short, 0, "no liquidations at 1x");
}

#[test]
fn background_runs_are_deterministic_and_leave_other_streams_alone() {
    let cfg = SimConfig::pams_ci2002(50, 5_000);
    let a = run(&cfg).finish_hashes();
    let b = run(&cfg).finish_hashes();
    assert_eq!(a, b);
    let mut other = cfg.clone();
    other.seed += 1;
    assert_ne!(a, run(&other).finish_hashes());
}

impl Simulation {
    fn finish_hashes(mut self) -> (String, String) {
        let s = self.finish().expect("finishes");
        (s.event_stream_hash, s.final_state_hash)
    }
}
