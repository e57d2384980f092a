//! One run of a scenario, end to end: build the world, tick it with a progress bar, sample the
//! liquidation heatmap, and write every output atomically into the run's folder, the summary
//! last (a folder with a `summary.json` holds a finished run).

pub mod text;

use crate::engine::LogTarget;
use crate::report::lock::{FolderError, open_output};
use crate::report::table::{self, Column, ColumnType, Value};
use crate::report::{self, ReportError, plots};
use crate::scenario::Validated;
use crate::sim::{HeatmapColumn, HeatmapSamples, Metrics, RunSummary, SimConfig, SimError, Simulation};
use crate::units::{Price, Side};
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// One bucket of a heatmap column: (side, bucket start, Σ notional in micro-USD).
type MapBucket = (Side, Price, i128);

/// How to run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    pub out: PathBuf,
    /// Show a progress bar (only drawn on a terminal).
    pub progress: bool,
    /// Also write `ticks.parquet` beside `ticks.csv`.
    pub parquet: bool,
}

/// What `summary.json` holds: the scenario and seed, then the run's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub scenario: String,
    pub scenario_hash: String,
    pub seed: u64,
    /// Seconds a tick stands for: `ticks.csv`'s tick `t` is `t · tick_secs` seconds from the
    /// start (what `liqsim compare` puts on its time axis).
    pub tick_secs: u64,
    #[serde(flatten)]
    pub summary: RunSummary,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Folder(#[from] FolderError),
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(transparent)]
    Report(#[from] ReportError),
    // Displayed with the cause, and so not its `source()` too: a chain printed with `{:#}`
    // says each cause once.
    #[error("event log: {0}")]
    Log(crate::events::LogError),
}

crate::units::from_cause!(RunError::Log(crate::events::LogError));

/// The sampled liquidation map as the heatmap picture's data: buckets spanning half to one and
/// a half times the start price, as vendors' pictures do (the far tails — 1x counterparties,
/// the liquidity provider — would only squash it).
fn heatmap(
    samples: &HeatmapSamples,
    sim: &Simulation,
    metrics: &Metrics,
    tick_secs: u64,
    title: String,
    watch_levels: Vec<f64>,
) -> plots::Heatmap {
    let ex = sim.exchange();
    let inst = ex.instrument();
    let bucket_ticks = ex.liquidation_index().bucket_ticks().max(1);
    let start = samples.columns.first().map(|c| inst.price_f64(c.last)).unwrap_or(1.0);
    let (lo_usd, hi_usd) = (start * 0.5, start * 1.5);
    let inside = |b: &Price| (lo_usd..=hi_usd).contains(&inst.price_f64(*b));
    let buckets_inside =
        || samples.columns.iter().flat_map(|c| c.buckets.iter().chain(&c.stops).map(|b| b.1).filter(inside));
    let lo = buckets_inside().min().unwrap_or(Price(0)).0;
    let hi = buckets_inside().max().unwrap_or(Price(0)).0;
    // No liquidation price in the window (a market without leverage): no buckets at all, rather
    // than the far tails' bucket at price 0.
    let any_inside = buckets_inside().next().is_some();
    let buckets = if any_inside { ((hi - lo) / bucket_ticks + 1).max(1) as usize } else { 0 };
    let minutes = |tick: u64| (tick * tick_secs) as f64 / 60.0;
    // The buckets of one side (`Some(side)`) or both.
    let grid = |of: &dyn Fn(&HeatmapColumn) -> &[MapBucket], side: Option<Side>| -> Vec<Vec<f64>> {
        samples
            .columns
            .iter()
            .map(|c| {
                let mut row = vec![0.0; buckets];
                let wanted = |b: &&MapBucket| {
                    any_inside && (lo..=hi).contains(&b.1.0) && side.is_none_or(|s| s == b.0)
                };
                for &(_, b, v) in of(c).iter().filter(wanted) {
                    row[((b.0 - lo) / bucket_ticks) as usize] += v as f64 / 1e6;
                }
                row
            })
            .collect()
    };
    let has_stops = samples.columns.iter().any(|c| !c.stops.is_empty());
    plots::Heatmap {
        title,
        minutes: samples.columns.iter().map(|c| minutes(c.tick)).collect(),
        price_lo: inst.price_f64(Price(lo)),
        bucket_usd: inst.price_f64(Price(bucket_ticks)),
        cells: grid(&|c| &c.buckets, None),
        cells_long: grid(&|c| &c.buckets, Some(Side::Buy)),
        stops: if has_stops { grid(&|c| &c.stops, None) } else { Vec::new() },
        path: samples.columns.iter().map(|c| inst.price_f64(c.last)).collect(),
        liquidations: metrics
            .liquidations
            .iter()
            .map(|&(t, side, mark, _)| (minutes(t), inst.price_f64(mark), side == Side::Buy))
            .collect(),
        stop_triggers: metrics
            .stop_triggers
            .iter()
            .map(|&(t, _, p)| (minutes(t), inst.price_f64(p)))
            .collect(),
        watch_levels,
    }
}

/// The liquidation map before the first tick, by leverage setting: (long?, bucket start USD,
/// leverage, notional USD at the liquidation price), for the map picture's stacks.
fn start_map(sim: &Simulation) -> Vec<(bool, f64, u32, f64)> {
    let ex = sim.exchange();
    let inst = ex.instrument();
    let index = ex.liquidation_index();
    let bucket_ticks = index.bucket_ticks().max(1);
    let mut sums: std::collections::BTreeMap<(bool, i64, u32), i128> = Default::default();
    for (i, a) in ex.ledger().accounts().iter().enumerate() {
        let Some(e) = u32::try_from(i).ok().and_then(|i| index.get(crate::book::AccountId(i))) else {
            continue;
        };
        let bucket = e.price.0.div_euclid(bucket_ticks) * bucket_ticks;
        *sums.entry((e.side == Side::Buy, bucket, a.leverage)).or_default() += i128::from(e.notional.0);
    }
    sums.into_iter()
        .map(|((long, b, lev), v)| (long, inst.price_f64(Price(b)), lev, v as f64 / 1e6))
        .collect()
}

/// Every file a run writes into its folder, `summary.json` first (it is removed first and written
/// last), and the report made of them (`liqsim report`, `--report`), which would describe an
/// earlier run.
pub const RUN_FILES: &[&str] = &[
    "summary.json",
    "events.log",
    "ticks.csv",
    "ticks.parquet",
    "levels.csv",
    "heatmap.csv",
    "heatmap.png",
    "heatmap.svg",
    "price.png",
    "map.png",
    "map.svg",
    "belief.png",
    "scenario.json",
    crate::report::REPORT_FILE,
];

/// Runs a validated scenario and writes its outputs into `opts.out`, which it holds locked (see
/// [`report::lock`]) from start to end.
pub fn run_scenario(v: &Validated, opts: &RunOptions) -> Result<RunReport, RunError> {
    let mut cfg: SimConfig = v.sim.clone();
    if let Some(seed) = opts.seed {
        cfg.seed = seed;
    }
    let out = &opts.out;
    let lock = open_output(out, "run", &[])?;
    // Stopped by a signal before its summary, the run leaves none of its files.
    lock.on_interrupt(RUN_FILES, None);
    // What an earlier run left would be mistaken for this one's (an old events.log beside a new
    // summary fails verification): all of it goes, the summary first; the summary comes back
    // last.
    for f in RUN_FILES {
        let _ = fs::remove_file(out.join(f));
    }
    let log_path = out.join("events.log");
    let log_tmp = report::atomic_path(&log_path);
    let result = run_into(v, &cfg, opts, &log_path, &log_tmp);
    if result.is_err() {
        let _ = fs::remove_file(&log_tmp);
    }
    result
}

fn run_into(
    v: &Validated,
    cfg: &SimConfig,
    opts: &RunOptions,
    log_path: &Path,
    log_tmp: &Path,
) -> Result<RunReport, RunError> {
    let out = &opts.out;
    let mut hash = [0u8; 32];
    if let Ok(bytes) = blake3::Hash::from_hex(&v.hash) {
        hash = *bytes.as_bytes();
    }
    let log = if v.scenario.outputs.event_log {
        let file = report::interrupt::create_temporary(log_tmp)
            .map_err(|cause| ReportError::Io { path: log_path.to_path_buf(), cause })?;
        let out: Box<dyn Write + Send + Sync> = Box::new(BufWriter::new(file));
        Some(LogTarget { out, scenario_hash: hash, seed: cfg.seed })
    } else {
        None
    };
    let mut sim = Simulation::new(cfg, log)?;
    let start_map = if v.scenario.outputs.pictures { start_map(&sim) } else { Vec::new() };
    // The exchange's map at the start, to draw beside what an estimating hunter believed.
    let truth = (v.scenario.outputs.pictures && sim.reads_estimated_maps())
        .then(|| crate::sim::exact_map(sim.exchange()));
    let bar = progress_bar(opts.progress, cfg.ticks);
    let tick_secs = cfg.exchange.tick_secs.max(1);
    sim.sample_heatmap_every((v.scenario.outputs.heatmap_interval.secs() / tick_secs).max(1));
    while sim.step()? {
        bar.inc(1);
    }
    bar.finish_and_clear();
    let summary = sim.finish()?;
    if v.scenario.outputs.event_log {
        report::finish_atomic(log_tmp, log_path)?;
    }
    let metrics = sim.metrics().clone();
    write_ticks(out, &metrics, v.scenario.market.instrument.asset(), opts.parquet)?;
    write_levels(&out.join("levels.csv"), &summary.levels)?;
    let samples = sim.world.remove_resource::<HeatmapSamples>().unwrap_or_default();
    let title = format!("{}, seed {}", v.scenario.name, cfg.seed);
    let heatmap = heatmap(&samples, &sim, &metrics, tick_secs, title, v.sim.watch_levels_usd());
    write_heatmap_csv(&out.join("heatmap.csv"), &heatmap)?;
    if v.scenario.outputs.pictures {
        write_pictures(out, &metrics, &heatmap, &start_map, tick_secs, v.sim.start_price_usd())?;
        if let (Some(truth), Some((who, mut believed))) = (truth, sim.first_belief()) {
            // As it reads it from the start price: a long above it or a short below is gone.
            let price = v.sim.start_price_usd();
            believed.retain(|b| (b.side == crate::units::Side::Buy) == (b.price_usd < price));
            let b = report::belief::BeliefMap { price, truth, believed, who };
            report::belief::belief_map(&b, Some(&out.join("belief.png")), None)?;
        }
    }
    // The scenario in its canonical form, for the folder's report (and any reader) to see what ran.
    report::write_atomic(&out.join("scenario.json"), |w| {
        writeln!(w, "{}", crate::scenario::canonical(&v.scenario))
    })?;
    let report = RunReport {
        scenario: v.scenario.name.clone(),
        scenario_hash: v.hash.clone(),
        seed: cfg.seed,
        tick_secs: cfg.exchange.tick_secs.max(1),
        summary,
    };
    let json = serde_json::to_string_pretty(&report).unwrap_or_default();
    report::write_summary(out, &json)?;
    Ok(report)
}

fn progress_bar(show: bool, ticks: u64) -> ProgressBar {
    use std::io::IsTerminal;
    if !show || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(ticks);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {elapsed_precise} [{bar:40}] {pos}/{len} ticks (eta {eta})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The columns of `ticks.csv` (and `ticks.parquet`): `tick` an integer, the rest numbers. Volume
/// and open interest are in the contract's asset (`asset`, e.g. "BTC"), which names them:
/// `volume_btc`, `open_interest_eth`.
pub fn tick_columns(asset: &str) -> Vec<Column> {
    let asset = asset.to_lowercase();
    let mut columns = vec![Column::new("tick", ColumnType::Int)];
    let names = [
        "last".to_string(),
        "low".to_string(),
        "high".to_string(),
        "mark".to_string(),
        "index".to_string(),
        format!("volume_{asset}"),
        format!("open_interest_{asset}"),
        "liquidated_long_usd".to_string(),
        "liquidated_short_usd".to_string(),
        "insurance_fund_usd".to_string(),
        "funding_rate".to_string(),
    ];
    columns.extend(names.iter().map(|name| Column::new(name, ColumnType::Float)));
    columns
}

/// Writes `ticks.csv`, and `ticks.parquet` when asked, into `out`, volume and open interest
/// named after `asset`.
fn write_ticks(out: &Path, m: &Metrics, asset: &str, parquet: bool) -> Result<(), ReportError> {
    let rows = || {
        m.rows.iter().map(|r| {
            vec![
                Value::Int(i64::try_from(r.tick).unwrap_or(i64::MAX)),
                Value::Float(r.last),
                Value::Float(r.low),
                Value::Float(r.high),
                Value::Float(r.mark),
                Value::Float(r.index),
                Value::Float(r.volume_btc),
                Value::Float(r.open_interest_btc),
                Value::Float(r.liquidated_long_usd),
                Value::Float(r.liquidated_short_usd),
                Value::Float(r.insurance_fund_usd),
                Value::Float(r.funding_rate),
            ]
        })
    };
    let columns = tick_columns(asset);
    table::write_table(&out.join("ticks.csv"), &columns, rows(), false)?;
    if parquet {
        table::write_table(&out.join("ticks.parquet"), &columns, rows(), true)?;
    }
    Ok(())
}

fn write_levels(path: &Path, levels: &[crate::sim::LevelReport]) -> Result<(), ReportError> {
    let header = [
        "price",
        "touched",
        "first_tick",
        "verdict",
        "velocity_before_pct_min",
        "velocity_after_pct_min",
        "liquidated_near_usd",
        "closest_gap",
        "closest_tick",
    ];
    let rows: Vec<[String; 9]> = levels
        .iter()
        .map(|l| {
            let verdict = serde_json::to_value(l.verdict).ok().and_then(|v| v.as_str().map(str::to_string));
            [
                l.level.to_string(),
                l.touched.to_string(),
                l.first_tick.map(|t| t.to_string()).unwrap_or_default(),
                verdict.unwrap_or_default(),
                l.velocity_before_pct_min.to_string(),
                l.velocity_after_pct_min.to_string(),
                l.liquidated_near_usd.to_string(),
                l.closest_gap.to_string(),
                l.closest_tick.to_string(),
            ]
        })
        .collect();
    report::write_csv(path, &header, rows.iter().map(|r| r.iter().map(String::as_str)))
}

fn write_heatmap_csv(path: &Path, hm: &plots::Heatmap) -> Result<(), ReportError> {
    let mut rows = Vec::new();
    for (t, column) in hm.cells.iter().enumerate() {
        for (b, &v) in column.iter().enumerate() {
            if v > 0.0 {
                let minute = hm.minutes.get(t).copied().unwrap_or(0.0);
                let price = hm.price_lo + b as f64 * hm.bucket_usd;
                rows.push([minute.to_string(), price.to_string(), v.to_string()]);
            }
        }
    }
    report::write_csv(
        path,
        &["minute", "bucket_price_usd", "liquidation_notional_usd"],
        rows.iter().map(|r| r.iter().map(String::as_str)),
    )
}

fn write_pictures(
    out: &Path,
    m: &Metrics,
    heatmap: &plots::Heatmap,
    start_map: &[(bool, f64, u32, f64)],
    tick_secs: u64,
    start_price: f64,
) -> Result<(), ReportError> {
    plots::heatmap(heatmap, Some(&out.join("heatmap.png")), Some(&out.join("heatmap.svg")))?;
    let minutes: Vec<f64> = m.rows.iter().map(|r| (r.tick * tick_secs) as f64 / 60.0).collect();
    let series = plots::PriceSeries {
        title: heatmap.title.clone(),
        minutes,
        last: m.rows.iter().map(|r| r.last).collect(),
        low: m.rows.iter().map(|r| r.low).collect(),
        high: m.rows.iter().map(|r| r.high).collect(),
        mark: m.rows.iter().map(|r| r.mark).collect(),
        index: m.rows.iter().map(|r| r.index).collect(),
        liquidated_long_usd: m.rows.iter().map(|r| r.liquidated_long_usd).collect(),
        liquidated_short_usd: m.rows.iter().map(|r| r.liquidated_short_usd).collect(),
    };
    plots::price_chart(&series, Some(&out.join("price.png")), None)?;
    // The starting map: the liquidations by leverage setting, in the heatmap's price range; its
    // stops (the heatmap's first column) beside it.
    let p_hi = heatmap.price_lo + heatmap.bucket_usd * heatmap.cells.first().map_or(0, Vec::len) as f64;
    let bars: Vec<plots::MapBar> = start_map
        .iter()
        .filter(|&&(_, price, _, v)| v > 0.0 && (heatmap.price_lo..p_hi).contains(&price))
        .map(|&(long, price, leverage, v)| plots::MapBar { price, notional_usd: v, long, leverage })
        .collect();
    let stops: Vec<plots::MapBar> = heatmap
        .stops
        .first()
        .map(|c| {
            c.iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0)
                .map(|(b, &v)| {
                    let price = heatmap.price_lo + b as f64 * heatmap.bucket_usd;
                    plots::MapBar { price, notional_usd: v, long: price < start_price, leverage: 0 }
                })
                .collect()
        })
        .unwrap_or_default();
    plots::liquidation_map(
        &heatmap.title,
        &bars,
        &stops,
        heatmap.bucket_usd,
        start_price,
        Some(&out.join("map.png")),
        Some(&out.join("map.svg")),
    )
}
