//! Stylized facts of an FCN-only market: runs `SimConfig::fcn_only` and prints the tail index,
//! kurtosis and autocorrelations of 1-minute returns (1 s ticks).
//!
//! `cargo run --release --example fcn_facts -- [agents] [hours] [decisions_per_tick] [chart_mean]
//! [noise_scale] [window_lo] [window_hi] [seed]`

use liqsim::agents::FcnParams;
use liqsim::analysis::StylizedFacts;
use liqsim::sim::{SimConfig, Simulation};

fn main() -> anyhow::Result<()> {
    let args: Vec<f64> = std::env::args().skip(1).map(|a| a.parse()).collect::<Result<_, _>>()?;
    let arg = |i: usize, default: f64| args.get(i).copied().unwrap_or(default);
    let agents = arg(0, 1000.0) as u32;
    let ticks = (arg(1, 24.0) * 3600.0) as u64;
    let d = arg(2, 1.0) as u32;
    let mut params = FcnParams::pams_ci2002();
    params.chart_weight_mean = arg(3, 1.0);
    params.noise_scale = arg(4, 1e-3);
    params.time_window = (arg(5, 100.0), arg(6, 200.0));
    let mut cfg = SimConfig::fcn_only(agents, ticks, params, d);
    cfg.seed = arg(7, 11.0) as u64;
    let started = std::time::Instant::now();
    let mut sim = Simulation::new(&cfg, None)?;
    while sim.step()? {}
    let secs = started.elapsed().as_secs_f64();
    let prices: Vec<f64> = sim.metrics().rows.iter().map(|r| r.last).collect();
    let volume: f64 = sim.metrics().rows.iter().map(|r| r.volume_btc).sum();
    let f = StylizedFacts::of_prices(&prices, 60, 0.05, 10);
    let (lo, hi) = prices.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(*p), h.max(*p)));
    println!(
        "{ticks} ticks in {secs:.2} s; volume {volume}; price range {lo:.3}..{hi:.3}; book {}",
        sim.exchange().book().order_count()
    );
    println!("returns {} tail {:?} kurtosis {:?}", f.returns, f.tail_index, f.excess_kurtosis);
    println!("acf r   {:?}", f.acf_returns.iter().map(|v| (v * 1000.0).round() / 1000.0).collect::<Vec<_>>());
    println!(
        "acf |r| {:?}",
        f.acf_abs_returns.iter().map(|v| (v * 1000.0).round() / 1000.0).collect::<Vec<_>>()
    );
    Ok(())
}
