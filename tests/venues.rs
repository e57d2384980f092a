//! The liquidation chain's order of resort, checked from the outside on every bundled scenario:
//! each run's event log is folded back into the exchange state, and at every auto-deleveraging
//! the insurance fund must have been unable to take the position over — empty, at its position
//! cap, or (Bybit) in a drawdown beyond its threshold.

use liqsim::engine::{ExchangeState, LogTarget};
use liqsim::events::{Event, LogReader};
use liqsim::sim::Simulation;
use liqsim::units::{Money, Qty, RATE_SCALE};
use liqsim::venue::VenuePreset;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

mod common;

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

/// Checks the log; returns how many ADL events it checked.
fn adl_only_when_the_fund_cannot_take_over(log: &[u8]) -> Result<u64, String> {
    let reader = LogReader::new(log).map_err(|e| e.to_string())?;
    let venue = reader.header().venue.clone();
    let inst = venue.instrument;
    let rules = &venue.liquidation;
    let mut state = ExchangeState::new(&venue, reader.header().start_price);
    let mut mark = reader.header().start_price;
    // The fund's balance at each tick's close, for Bybit's 8-hour peak.
    let window_ticks = (8 * 3600 / venue.tick_secs.max(1)) as usize;
    let mut balances: std::collections::VecDeque<Money> = Default::default();
    let mut checked = 0;
    for env in reader {
        let env = env.map_err(|e| e.to_string())?;
        if let Event::AutoDeleveraged { account, .. } = env.event {
            let ledger = state.ledger();
            let fund = ledger.insurance_fund();
            let side = ledger.account(account).map(|a| a.position.qty.0.signum()).unwrap_or(0);
            let per_lot = inst.notional(mark, Qty(1)).map_err(|e| e.to_string())?.0.max(1) as i128;
            let cap_lots = fund.0 as i128 * rules.fund_position_cap.0 as i128 / RATE_SCALE as i128 / per_lot;
            let held_same_way = ledger.insurance_position().qty.0 as i128 * side as i128;
            let room = cap_lots - held_same_way;
            let peak = balances.iter().max().copied().unwrap_or(fund).max(fund);
            let in_drawdown = rules.preset == VenuePreset::Bybit
                && rules.fund_drawdown_adl.is_some_and(|th| {
                    (peak.0 as i128 - fund.0 as i128) * RATE_SCALE as i128 > th.0 as i128 * peak.0 as i128
                });
            if fund.is_positive() && room > 0 && !in_drawdown {
                return Err(format!(
                    "event {}: ADL while the fund held {fund:?} and had room for {room} lots",
                    env.seq
                ));
            }
            checked += 1;
        }
        state.apply(&env).map_err(|e| format!("event {}: {e}", env.seq))?;
        match env.event {
            Event::MarkUpdated { mark: m, .. } => mark = m,
            Event::TickClosed { .. } => {
                balances.push_back(state.ledger().insurance_fund());
                if balances.len() > window_ticks {
                    balances.pop_front();
                }
            }
            _ => {}
        }
    }
    Ok(checked)
}

/// Stress tests whose comment says the insurance fund is overwhelmed by design.
const OVERWHELMED: &[&str] = &["oct_2025_crash.ron"];

/// Runs one bundled scenario with its log kept and checks its ADL; returns the ADL events checked.
fn check_scenario(name: &str) -> Result<u64, String> {
    let started = std::time::Instant::now();
    let path = Path::new("scenarios").join(name);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{name}: {e}"))?;
    let cut = SHORTENED.iter().find(|(n, _)| *n == name).map(|(_, horizon)| *horizon);
    let text = match cut {
        Some(horizon) => common::with_horizon(&text, horizon),
        None => text,
    };
    let v = liqsim::scenario::parse(&path.display().to_string(), text.as_bytes())
        .map_err(|e| format!("{name}: {e}"))?;
    let cfg = v.sim.clone();
    let buf = SharedBuf::default();
    let log = LogTarget { out: Box::new(buf.clone()), scenario_hash: [0; 32], seed: cfg.seed };
    let mut sim = Simulation::new(&cfg, Some(log)).map_err(|e| format!("{name}: {e}"))?;
    let summary = sim.run(|_| {}).map_err(|e| format!("{name}: {e}"))?;
    drop(sim);
    // ADL is the last resort: at most 1% of what was liquidated, unless the scenario is a
    // stress test that says its fund is overwhelmed.
    let liquidated = summary.liquidated_notional_long + summary.liquidated_notional_short;
    let adl_share = if liquidated > 0.0 { summary.adl_notional / liquidated } else { 0.0 };
    eprintln!(
        "{name}: ADL {:.0} of {:.0} USD liquidated ({:.2}%)",
        summary.adl_notional,
        liquidated,
        adl_share * 100.0
    );
    if !OVERWHELMED.contains(&name) && (adl_share.is_nan() || adl_share > 0.01) {
        return Err(format!("{name}: ADL is {:.2}% of liquidated notional", adl_share * 100.0));
    }
    let bytes = buf.0.lock().map_err(|_| format!("{name}: log buffer poisoned"))?.clone();
    let checked =
        adl_only_when_the_fund_cannot_take_over(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    eprintln!(
        "{}{}: {checked} ADL events, each with the fund unable to take over ({:.1} s)",
        path.display(),
        cut.map(|h| format!(" cut to {h}")).unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );
    Ok(checked)
}

/// Bundled scenarios run here cut to a shorter horizon, whose run as shipped is checked elsewhere
/// for the same property. `fcn_stylized_facts.ron` is two days at 300 decisions a second, all at
/// 1x: logged and folded here it took two of the CI's minutes, and
/// `sim::background::tests::fcn_flow_alone_shows_the_stylized_facts_of_returns` runs it as shipped
/// (seed 11, 48 h) and asserts that it liquidates no one and deleverages no one. Its first hour
/// is still logged and folded here.
const SHORTENED: &[(&str, &str)] = &[("fcn_stylized_facts.ron", "1h")];

#[test]
fn no_bundled_scenario_deleverages_while_the_insurance_fund_could_take_over() {
    // The scenarios are independent: spread them over the cores (one at a time took over two
    // minutes of a CI run on one core while the other idled).
    let names = common::bundled_names();
    for (name, _) in SHORTENED {
        assert!(names.iter().any(|n| n == name), "{name} is bundled");
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(names.len());
    let mut results: Vec<(usize, Result<u64, String>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(name) = names.get(i) else { break done };
                        done.push((i, check_scenario(name)));
                    }
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().expect("a scenario's check panicked")).collect()
    });
    assert_eq!(results.len(), names.len(), "every bundled scenario was checked");
    results.sort_by_key(|(i, _)| *i);
    let mut total = 0;
    for (_, r) in results {
        total += r.unwrap_or_else(|e| panic!("{e}"));
    }
    assert!(total > 0, "no bundled scenario deleverages at all: the check would prove nothing");
}
