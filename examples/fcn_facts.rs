//! Stylized facts of an FCN-only market: runs `SimConfig::fcn_only` (1 s ticks) and prints the
//! tail index, kurtosis and autocorrelations of 1-minute returns of the mid price.
//!
//! `cargo run --release --example fcn_facts -- [key=value ...]`, keys: agents, hours, d
//! (decisions per tick), f, c, n (weight means), noise, tw_lo, tw_hi, mr_lo, mr_hi, k_hi
//! (order margin), ttl (order time-to-live in ticks, 0: the window), fvol (fundamental volatility per tick), act_vol and act_ticks (sd and correlation
//! time of the log activity; act_vol=0: constant), sent_vol and sent_ticks (the same for the
//! chartist sentiment; sent_max caps the sentiment factor), band, seed, last (1: use the last
//! trade price instead of the mid), interval (ticks per return), warmup (ticks),
//! deposit (each agent's, USD), burn (hours left out of the statistics), trace (ticks to print),
//! top (print the N largest returns). It also prints the returns' size over each third of the run.

use liqsim::agents::FcnParams;
use liqsim::analysis::{StylizedFacts, log_returns};
use liqsim::sim::{LogOuConfig, SimConfig, Simulation};
use std::collections::HashMap;

fn main() -> anyhow::Result<()> {
    let mut kv = HashMap::new();
    for a in std::env::args().skip(1) {
        let (k, v) = a.split_once('=').ok_or_else(|| anyhow::anyhow!("expected key=value: {a}"))?;
        kv.insert(k.to_string(), v.parse::<f64>()?);
    }
    let arg = |k: &str, default: f64| kv.get(k).copied().unwrap_or(default);
    let agents = arg("agents", 1000.0) as u32;
    let ticks = (arg("hours", 6.0) * 3600.0) as u64;
    let mut params = FcnParams::pams_ci2002();
    params.fundamental_weight_mean = arg("f", 1.0);
    params.chart_weight_mean = arg("c", 1.0);
    params.noise_weight_mean = arg("n", 1.0);
    params.noise_scale = arg("noise", 1e-3);
    params.time_window = (arg("tw_lo", 100.0), arg("tw_hi", 200.0));
    // mr_hi=0: the mean-reversion time is the agent's time window (PAMS's default).
    params.mean_reversion_time = Some((arg("mr_lo", 50.0), arg("mr_hi", 100.0))).filter(|r| r.1 > 0.0);
    params.order_margin = (0.0, arg("k_hi", 0.1));
    // ttl=0: an order lives for the agent's time window (PAMS's default).
    params.order_ttl = Some(arg("ttl", 0.0) as u32).filter(|t| *t > 0);
    let mut cfg = SimConfig::fcn_only(agents, ticks, params, arg("d", 1.0) as u32);
    cfg.seed = arg("seed", 11.0) as u64;
    if let Some(fcn) = cfg.background.fcn.as_mut() {
        fcn.warmup_ticks = arg("warmup", 0.0) as u64;
        let deposit = arg("deposit", fcn.deposit.to_usd_f64());
        fcn.deposit = liqsim::units::money_from_usd(deposit).unwrap_or(fcn.deposit);
        let ou = |vol: f64, ticks: f64, max: f64| {
            Some(LogOuConfig {
                volatility: vol,
                correlation_ticks: ticks,
                max_factor: Some(max).filter(|m| *m > 0.0),
            })
            .filter(|_| vol > 0.0)
        };
        fcn.activity = ou(arg("act_vol", 0.0), arg("act_ticks", 600.0), 0.0);
        fcn.chart_sentiment = ou(arg("sent_vol", 0.0), arg("sent_ticks", 600.0), arg("sent_max", 0.0));
    }
    cfg.background.fundamental.volatility_per_tick = arg("fvol", 0.0);
    cfg.background.max_price_deviation = arg("band", 0.2);
    let started = std::time::Instant::now();
    let mut sim = Simulation::new(&cfg, None)?;
    while sim.step()? {}
    let secs = started.elapsed().as_secs_f64();
    let last = arg("last", 0.0) > 0.0;
    let burn = (arg("burn", 0.0) * 3600.0) as usize;
    let prices: Vec<f64> =
        sim.metrics().rows.iter().skip(burn).map(|r| if last { r.last } else { r.index }).collect();
    if arg("trace", 0.0) > 0.0 {
        for r in sim.metrics().rows.iter().take(arg("trace", 0.0) as usize) {
            println!("{} last {:.3} mid {:.3} vol {}", r.tick, r.last, r.index, r.volume_btc);
        }
    }
    let volume: f64 = sim.metrics().rows.iter().map(|r| r.volume_btc).sum();
    let f = StylizedFacts::of_prices(&prices, arg("interval", 60.0) as usize, 0.05, 10);
    let (lo, hi) = prices.iter().fold((f64::MAX, f64::MIN), |(l, h), p| (l.min(*p), h.max(*p)));
    let round = |v: &Vec<f64>| v.iter().map(|x| (x * 1000.0).round() / 1000.0).collect::<Vec<_>>();
    println!(
        "{ticks} ticks in {secs:.2} s; volume {volume}; range {lo:.3}..{hi:.3}; book {}",
        sim.exchange().book().order_count()
    );
    let r = log_returns(&prices, arg("interval", 60.0) as usize);
    let third = r.len() / 3;
    let sd = |x: &[f64]| (x.iter().map(|v| v * v).sum::<f64>() / x.len().max(1) as f64).sqrt();
    if arg("top", 0.0) > 0.0 {
        let mut idx: Vec<usize> = (0..r.len()).collect();
        idx.sort_by(|a, b| r[*b].abs().total_cmp(&r[*a].abs()));
        for i in idx.iter().take(arg("top", 0.0) as usize) {
            println!("minute {} return {:.4}", i + burn / 60, r[*i]);
        }
    }
    println!(
        "sd by thirds {:.2e} {:.2e} {:.2e}",
        sd(&r[..third]),
        sd(&r[third..2 * third]),
        sd(&r[2 * third..])
    );
    println!("returns {} tail {:.3?} kurtosis {:.3?}", f.returns, f.tail_index, f.excess_kurtosis);
    println!("acf r   {:?}", round(&f.acf_returns));
    println!("acf |r| {:?}", round(&f.acf_abs_returns));
    Ok(())
}
