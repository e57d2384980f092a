//! The liqsim command line: a thin shell over the library. Exit codes: 0 ok, 1 runtime failure,
//! 2 bad input (a scenario, a log or an argument that cannot be used).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use liqsim::events::{EventKind, ExportFormat, Exporter, LogReader};
use liqsim::mc::{self, McError, McOptions, Shard, sweep::SweepOptions};
use liqsim::runner::{RunOptions, run_scenario};
use liqsim::scenario::{self, ScenarioError};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "liqsim",
    version,
    about = "Simulate leveraged perpetual-futures markets and their liquidation cascades"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a scenario file and report every problem with where it is.
    #[command(after_help = "Example:\n  liqsim validate scenarios/btc_14_to_1.ron")]
    Validate { file: PathBuf },
    /// Run a scenario once and write its outputs (summary, tick series, heatmap, pictures, log).
    #[command(after_help = "Examples:\n  liqsim run scenarios/btc_14_to_1.ron\n  \
                            liqsim run scenarios/jan_2025_down_hunt.ron --seed 7 --out out/jan7 --quiet")]
    Run {
        file: PathBuf,
        /// Overrides the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default out/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar and no table on stdout.
        #[arg(long)]
        quiet: bool,
    },
    /// Monte Carlo: N independent worlds in parallel, their outcomes and statistics.
    #[command(after_help = "Runs are journalled to runs.jsonl as they finish; --resume computes only the \
                            missing ones. Outputs: outcomes.csv, summary.json, fan.png/.svg, hist_*.png.\n\n\
                            Examples:\n  liqsim mc scenarios/btc_14_to_1.ron --runs 1000 --threads 2\n  \
                            liqsim mc scenarios/btc_14_to_1.ron --shard 0/3 --out shards/0 --quiet\n  \
                            liqsim mc scenarios/btc_14_to_1.ron --resume")]
    Mc {
        file: PathBuf,
        /// Number of runs (default: the scenario's monte_carlo.runs).
        #[arg(long)]
        runs: Option<u32>,
        /// Worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// Master seed (default: monte_carlo.seed, else the scenario's seed).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default out/<scenario>/mc/, or out/<scenario>/mc/shard-K-of-N/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep every run's event log (logs/run-NNNNNN.events.log).
        #[arg(long)]
        keep_logs: bool,
        /// Keep the finished runs in the output folder and compute only the missing ones.
        #[arg(long)]
        resume: bool,
        /// Compute only the runs i with i mod N == K (merge the shards with `liqsim merge`).
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// No progress bar and no table on stdout.
        #[arg(long)]
        quiet: bool,
    },
    /// Combine Monte Carlo shard folders into the outputs of one Monte Carlo.
    #[command(after_help = "Example:\n  liqsim merge shards/0 shards/1 shards/2 --out out/btc_14_to_1/mc")]
    Merge {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder (default out/<scenario>/mc/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No table on stdout.
        #[arg(long)]
        quiet: bool,
    },
    /// A Monte Carlo per cell of the scenario's sweep grid; sweep.csv, a table and heatmaps.
    #[command(after_help = "Example:\n  liqsim sweep scenarios/imbalance_sweep.ron --metric p_squeeze_up")]
    Sweep {
        file: PathBuf,
        /// Runs per cell (default: the scenario's monte_carlo.runs, unless it is an axis).
        #[arg(long)]
        runs: Option<u32>,
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default out/<scenario>/sweep/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep finished cells and runs; compute only what is missing.
        #[arg(long)]
        resume: bool,
        /// The sweep.csv column the heatmap shows.
        #[arg(long, default_value = "p_squeeze_up")]
        metric: String,
        /// The axis (parameter) across the heatmap (default the first).
        #[arg(long)]
        x: Option<String>,
        /// The axis up the heatmap (default the second).
        #[arg(long)]
        y: Option<String>,
        #[arg(long)]
        quiet: bool,
    },
    /// Rebuild the ledger from an event log and print its state hash.
    #[command(after_help = "Examples:\n  liqsim replay out/btc_14_to_1/events.log --verify\n  \
                            liqsim replay events.log --expect 3f2a...")]
    Replay {
        log: PathBuf,
        /// Compare with the final state hash in the summary.json beside the log; exit 1 if they differ.
        #[arg(long)]
        verify: bool,
        /// Compare with this state hash; exit 1 if they differ.
        #[arg(long)]
        expect: Option<String>,
    },
    /// Work with event logs.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Margin calculator: initial and maintenance margin, tier, liquidation and bankruptcy price.
    #[command(after_help = "Example:\n  liqsim margin --side short --entry 71450 --size 1.5 --leverage 5")]
    Margin {
        #[arg(long, value_enum)]
        side: MarginSide,
        /// Entry price, USD.
        #[arg(long)]
        entry: String,
        /// Position size, BTC.
        #[arg(long)]
        size: String,
        #[arg(long)]
        leverage: u32,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Stylized facts of a run's prices: tail index, excess kurtosis, autocorrelations.
    #[command(after_help = "Example:\n  liqsim facts out/pams_ci2002/ticks.csv --every 60 --column last")]
    Facts {
        /// A run's ticks.csv.
        ticks: PathBuf,
        /// Ticks per return (60 with one-second ticks gives 1-minute returns).
        #[arg(long, default_value_t = 60)]
        every: usize,
        /// Price column: last, mark or index.
        #[arg(long, default_value = "last")]
        column: String,
        /// Lags of the autocorrelations.
        #[arg(long, default_value_t = 10)]
        lags: usize,
        #[arg(long)]
        json: bool,
    },
    /// Run the exact core's built-in demo: a seeded short squeeze, its event log, and a replay check.
    #[command(after_help = "Example:\n  liqsim demo --seed 7 --out out/demo")]
    Demo {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Export an event log as CSV or JSON Lines (to stdout), in USD and BTC.
    #[command(
        after_help = "Examples:\n  liqsim events export out/btc_14_to_1/events.log --format csv > events.csv\n  \
                            liqsim events export out/btc_14_to_1/events.log --format jsonl --kind liquidation"
    )]
    Export {
        log: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Keep only one kind: a group (account, order, trade, price, funding, insurance,
        /// liquidation, tick) or an event name (Traded, Liquidated, ...).
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

#[derive(Clone, Copy, ValueEnum)]
enum MarginSide {
    Long,
    Short,
}

/// An error the user caused: exit 2.
#[derive(Debug)]
struct BadInput(String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

fn bad(msg: impl Into<String>) -> anyhow::Error {
    BadInput(msg.into()).into()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(b) = e.downcast_ref::<BadInput>() {
                eprintln!("{b}");
                ExitCode::from(2)
            } else {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate { file } => {
            let v = load(&file)?;
            println!(
                "{}: ok ({} ticks of {}s, {} map accounts, scenario hash {})",
                file.display(),
                v.sim.ticks,
                v.sim.exchange.tick_secs,
                v.sim.map.map_accounts(),
                &v.hash[..16]
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Run { file, seed, out, quiet } => {
            let v = load(&file)?;
            let out = out.unwrap_or_else(|| PathBuf::from("out").join(&v.scenario.name));
            let report = run_scenario(&v, &RunOptions { seed, out: out.clone(), progress: !quiet })?;
            if !quiet {
                print_summary(&report, &out);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Mc { file, runs, threads, seed, out, keep_logs, resume, shard, quiet } => {
            let v = load(&file)?;
            let shard = shard.map(|s| Shard::parse(&s)).transpose().map_err(bad)?;
            if threads == Some(0) {
                return Err(bad("--threads: must be at least 1"));
            }
            let out = out.unwrap_or_else(|| {
                let base = PathBuf::from("out").join(&v.scenario.name).join("mc");
                match shard {
                    Some(s) => base.join(format!("shard-{}-of-{}", s.index, s.count)),
                    None => base,
                }
            });
            let opts = McOptions {
                runs,
                seed,
                threads,
                out: out.clone(),
                keep_logs,
                resume,
                shard,
                progress: !quiet,
            };
            let r = mc::run_mc(&v, &opts).map_err(mc_error)?;
            if !quiet {
                match &r.summary {
                    Some(s) => print!("{}", mc::table(s)),
                    None => println!(
                        "liqsim mc: shard {}/{} of {}: {} runs ({} computed now); merge the shards with `liqsim merge`",
                        r.manifest.shard.map_or(0, |s| s.index),
                        r.manifest.shard.map_or(1, |s| s.count),
                        r.manifest.scenario,
                        r.outcomes.len(),
                        r.computed
                    ),
                }
                println!("outputs: {}", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Merge { dirs, out, quiet } => {
            let out = match out {
                Some(o) => o,
                None => {
                    let first = dirs.first().ok_or_else(|| bad("merge: name at least one folder"))?;
                    let m = mc::read_manifest(first).map_err(mc_error)?;
                    PathBuf::from("out").join(m.scenario).join("mc")
                }
            };
            let r = mc::merge(&dirs, &out).map_err(mc_error)?;
            if !quiet && let Some(s) = &r.summary {
                print!("{}", mc::table(s));
                println!("outputs: {}", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sweep { file, runs, threads, seed, out, resume, metric, x, y, quiet } => {
            let v = load(&file)?;
            if threads == Some(0) {
                return Err(bad("--threads: must be at least 1"));
            }
            let out = out.unwrap_or_else(|| PathBuf::from("out").join(&v.scenario.name).join("sweep"));
            let opts = SweepOptions {
                runs,
                seed,
                threads,
                out: out.clone(),
                resume,
                progress: !quiet,
                metric,
                x,
                y,
            };
            let results = mc::sweep::run_sweep(&v, &file.display().to_string(), &opts).map_err(mc_error)?;
            if !quiet {
                print!("{}", mc::sweep::table(&results));
                println!("outputs: {}", out.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay { log, verify, expect } => replay(&log, verify, expect.as_deref()),
        Command::Events { command: EventsCommand::Export { log, format, kind } } => {
            export(&log, format, kind.as_deref())
        }
        Command::Margin { side, entry, size, leverage, json } => margin(side, &entry, &size, leverage, json),
        Command::Demo { seed, out } => demo(seed, &out),
        Command::Facts { ticks, every, column, lags, json } => facts(&ticks, every, &column, lags, json),
    }
}

/// A Monte Carlo's bad input exits 2; anything else 1.
fn mc_error(e: McError) -> anyhow::Error {
    match e {
        McError::Input(msg) => bad(msg),
        other => other.into(),
    }
}

fn load(file: &Path) -> Result<scenario::Validated> {
    scenario::load(file).map_err(|e| match e {
        ScenarioError::Read { path, source } => bad(format!("{}: {source}", path.display())),
        invalid => bad(invalid.to_string()),
    })
}

fn print_summary(r: &liqsim::runner::RunReport, out: &Path) {
    let s = &r.summary;
    let usd = |v: f64| format!("{v:>18.0}");
    println!("liqsim run: {} (seed {})", r.scenario, r.seed);
    println!("  ticks                       {:>18}", s.ticks);
    println!("  start price                 {}", usd(s.start_price));
    println!("  final / max / min price     {:.1} / {:.1} / {:.1}", s.final_price, s.max_price, s.min_price);
    println!("  max / min mark              {:.1} / {:.1}", s.max_mark, s.min_mark);
    println!(
        "  liquidated longs            {:>18} accounts {} USD",
        s.liquidated_accounts_long,
        usd(s.liquidated_notional_long).trim()
    );
    println!(
        "  liquidated shorts           {:>18} accounts {} USD",
        s.liquidated_accounts_short,
        usd(s.liquidated_notional_short).trim()
    );
    println!("  cascades                    {:>18}", s.cascades.len());
    if let Some(c) = s.cascades.iter().max_by(|a, b| a.notional_usd.total_cmp(&b.notional_usd)) {
        println!(
            "  largest cascade             {:.0} USD, {} accounts, ticks {}–{}, {:.1} → {:.1}",
            c.notional_usd, c.accounts, c.start_tick, c.end_tick, c.price_before, c.price_after
        );
    }
    println!("  insurance fund min / final  {:.2} / {:.2} USD", s.insurance_fund_min, s.insurance_fund_final);
    if s.insurance_shortfall > 0.0 {
        println!("  beyond the fund (venue)     {:.2} USD", s.insurance_shortfall);
    }
    println!("  ADL events                  {:>18}", s.adl_count);
    println!("  events                      {:>18}", s.events);
    println!("  final state hash            {}", s.final_state_hash);
    println!("  outputs                     {}", out.display());
}

fn open_log(path: &Path) -> Result<LogReader<BufReader<File>>> {
    if path.is_dir() {
        return Err(bad(format!("{}: is a directory, not an event log", path.display())));
    }
    let file = File::open(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    LogReader::new(BufReader::new(file)).map_err(|e| bad(format!("{}: {e}", path.display())))
}

/// Folds a log into the exchange state it describes (bad input: a log that cannot be read or
/// whose events do not apply).
fn replay_log(path: &Path) -> Result<liqsim::engine::Replayed> {
    let reader = open_log(path)?;
    liqsim::engine::replay(reader).map_err(|e| bad(format!("{}: {e}", path.display())))
}

fn replay(path: &Path, verify: bool, expect: Option<&str>) -> Result<ExitCode> {
    let replayed = replay_log(path)?;
    let hash = replayed.state_hash();
    println!("{hash}");
    if let Some(e) = expect {
        if !e.eq_ignore_ascii_case(&hash) {
            eprintln!("state hash mismatch: the log rebuilds {hash}, expected {e}");
            return Ok(ExitCode::from(1));
        }
        eprintln!("verified: the log rebuilds the expected state");
    }
    if !verify {
        return Ok(ExitCode::SUCCESS);
    }
    let summary = path.with_file_name("summary.json");
    let text = std::fs::read_to_string(&summary)
        .map_err(|e| bad(format!("--verify needs the run's summary: {}: {e}", summary.display())))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", summary.display())))?;
    let field = |key: &str| json.get(key).ok_or_else(|| bad(format!("{}: no {key}", summary.display())));
    let text_of = |key: &str| -> Result<String> {
        let v = field(key)?;
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| bad(format!("{}: {key} is not a string", summary.display())))
    };
    let number_of = |key: &str| -> Result<u64> {
        let v = field(key)?;
        v.as_u64().ok_or_else(|| bad(format!("{}: {key} is not a whole number", summary.display())))
    };
    let run = liqsim::engine::RunRecord {
        final_state_hash: text_of("final_state_hash")?,
        event_stream_hash: text_of("event_stream_hash")?,
        events: number_of("events")?,
        seed: number_of("seed")?,
        scenario_hash: text_of("scenario_hash")?,
    };
    let mismatches = replayed.mismatches(&run);
    for m in &mismatches {
        eprintln!(
            "{} mismatch: the log gives {}, {} records {}",
            m.key,
            m.from_log,
            summary.display(),
            m.recorded
        );
    }
    if !mismatches.is_empty() {
        return Ok(ExitCode::from(1));
    }
    eprintln!(
        "verified: the log rebuilds the run's final state (ledger and book), stream, seed and scenario"
    );
    Ok(ExitCode::SUCCESS)
}

fn export(path: &Path, format: Format, kind: Option<&str>) -> Result<ExitCode> {
    let kinds = match kind {
        Some(k) => Some(EventKind::parse_filter(k).ok_or_else(|| bad(format!("unknown event kind {k:?}")))?),
        None => None,
    };
    let reader = open_log(path)?;
    let format = match format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::JsonLines,
    };
    let stdout = std::io::stdout().lock();
    let header = reader.header().clone();
    let mut ex = Exporter::new(BufWriter::new(stdout), format, &header, kinds);
    for env in reader {
        let env = env.map_err(|e| bad(format!("{}: {e}", path.display())))?;
        ex.write(&env)?;
    }
    ex.finish()?;
    Ok(ExitCode::SUCCESS)
}

fn margin(side: MarginSide, entry: &str, size: &str, leverage: u32, json: bool) -> Result<ExitCode> {
    use liqsim::margin::{self as m, TierTable};
    use liqsim::units::{Instrument, Money, Qty};
    let inst = Instrument::btcusdt();
    let tiers = TierTable::binance_btcusdt();
    let entry = inst.parse_price(entry).map_err(|e| bad(format!("--entry: {e}")))?;
    let size = inst.parse_qty(size).map_err(|e| bad(format!("--size: {e}")))?;
    if !size.is_positive() {
        return Err(bad("--size: must be positive"));
    }
    let qty = match side {
        MarginSide::Long => size,
        MarginSide::Short => Qty(-size.0),
    };
    let cost = inst.notional(entry, qty).map_err(|e| bad(format!("position too large: {e}")))?;
    let tier_index = tiers.tier_index_for(cost.abs());
    let tier = &tiers.tiers()[tier_index];
    if leverage == 0 || leverage > tier.max_leverage {
        return Err(bad(format!(
            "--leverage: {leverage}x is outside 1..={}x allowed at {} USD notional (tier {})",
            tier.max_leverage,
            cost.abs().to_usd_string(),
            tier_index + 1
        )));
    }
    let im = m::initial_margin(&inst, qty, entry, leverage)?;
    let mm = m::maintenance_margin_tiered(&inst, &tiers, qty, entry)?;
    let lp = m::liquidation_price_tiered(&inst, &tiers, qty, cost, im)?;
    let bp = m::bankruptcy_price(&inst, qty, cost, im)?;
    let usd = |p: liqsim::units::Price| inst.price_string(p);
    let money = |v: Money| v.to_usd_string();
    if json {
        let out = serde_json::json!({
            "side": if qty.is_positive() { "long" } else { "short" },
            "entry": inst.price_f64(entry),
            "size_btc": inst.qty_f64(size),
            "leverage": leverage,
            "notional": cost.abs().to_usd_f64(),
            "tier": tier_index + 1,
            "maintenance_margin_rate": tier.mmr.to_f64(),
            "initial_margin": im.to_usd_f64(),
            "maintenance_margin": mm.to_usd_f64(),
            "liquidation_price": lp.map(|p| inst.price_f64(p)),
            "bankruptcy_price": inst.price_f64(bp),
        });
        println!("{out}");
    } else {
        println!(
            "notional            {} USD (tier {}, max {}x, MMR {}%)",
            money(cost.abs()),
            tier_index + 1,
            tier.max_leverage,
            tier.mmr.to_f64() * 100.0
        );
        println!("initial margin      {} USD", money(im));
        println!("maintenance margin  {} USD at entry", money(mm));
        println!("liquidation price   {}", lp.map(usd).unwrap_or_else(|| "none".into()));
        println!("bankruptcy price    {}", usd(bp));
    }
    Ok(ExitCode::SUCCESS)
}

fn facts(path: &Path, every: usize, column: &str, lags: usize, json: bool) -> Result<ExitCode> {
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header = lines.next().ok_or_else(|| bad(format!("{}: empty file", path.display())))?;
    let col = header.split(',').position(|h| h == column).ok_or_else(|| {
        bad(format!("{}: no column {column:?} (a run's ticks.csv has last, mark, index)", path.display()))
    })?;
    let mut prices = Vec::new();
    for (i, line) in lines.enumerate() {
        let cell = line.split(',').nth(col).unwrap_or("");
        let p: f64 = cell
            .parse()
            .map_err(|_| bad(format!("{}:{}: {column} is not a number: {cell:?}", path.display(), i + 2)))?;
        prices.push(p);
    }
    if every == 0 || prices.len() < 3 * every {
        return Err(bad(format!("{} prices are too few for returns every {every} ticks", prices.len())));
    }
    let f = liqsim::analysis::StylizedFacts::of_prices(&prices, every, 0.05, lags);
    if json {
        let v = serde_json::json!({
            "returns": f.returns,
            "tail_index": f.tail_index,
            "excess_kurtosis": f.excess_kurtosis,
            "acf_returns": f.acf_returns,
            "acf_abs_returns": f.acf_abs_returns,
        });
        println!("{v}");
    } else {
        let fmt = |v: &[f64]| v.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(" ");
        println!("returns           {} (every {every} ticks of {column})", f.returns);
        println!(
            "tail index (Hill) {}",
            f.tail_index.map(|x| format!("{x:.2}")).unwrap_or_else(|| "n/a".into())
        );
        println!(
            "excess kurtosis   {}",
            f.excess_kurtosis.map(|x| format!("{x:.2}")).unwrap_or_else(|| "n/a".into())
        );
        println!("acf r   (lag 1..) {}", fmt(&f.acf_returns));
        println!("acf |r| (lag 1..) {}", fmt(&f.acf_abs_returns));
    }
    Ok(ExitCode::SUCCESS)
}

fn demo(seed: u64, out: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let final_path = out.join("events.log");
    let tmp_path = liqsim::report::atomic_path(&final_path);
    let file = File::create(&tmp_path).with_context(|| format!("cannot write {}", tmp_path.display()))?;
    let sink: Box<dyn Write + Send + Sync> = Box::new(BufWriter::new(file));
    let report = match liqsim::demo::run_demo(seed, Some(sink)) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp_path);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp_path, &final_path)?;
    let replayed = replay_log(&final_path)?;
    let verified = replayed.state_hash() == report.final_state_hash;
    println!("liqsim core demo (seed {})", report.seed);
    println!("  ticks                    {:>14}", report.ticks);
    println!("  start price              {:>14.1}", report.start_price);
    println!("  max price                {:>14.1}", report.max_price);
    println!("  final price              {:>14.1}", report.final_price);
    println!("  shorts liquidated        {:>14}", report.liquidated_shorts);
    println!("  short notional liquidated{:>14.0} USD", report.liquidated_notional_short_usd);
    println!("  ADL events               {:>14}", report.adl_events);
    println!("  insurance fund           {:>14.2} USD", report.insurance_fund_usd);
    println!("  events                   {:>14}", report.events);
    println!("  final state hash         {}", report.final_state_hash);
    println!("  event log                {}", final_path.display());
    println!("  replay                   {}", if verified { "same state hash" } else { "MISMATCH" });
    Ok(if verified { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
