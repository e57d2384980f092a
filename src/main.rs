//! The liqsim command line: a thin shell over the library.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use liqsim::events::{EventKind, ExportFormat, Exporter, LogReader};
use liqsim::ledger::Ledger;
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
    /// Run the exact core's demo: a seeded short squeeze, its event log, and a replay check.
    #[command(after_help = "Example:\n  liqsim demo --seed 7 --out out/demo")]
    Demo {
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Directory for events.log.
        #[arg(long, default_value = "out/demo")]
        out: PathBuf,
    },
    /// Rebuild the ledger from an event log and print its state hash.
    #[command(after_help = "Example:\n  liqsim replay out/demo/events.log --expect 3f2a...")]
    Replay {
        log: PathBuf,
        /// Fail (exit 1) unless the rebuilt state hash equals this one.
        #[arg(long)]
        expect: Option<String>,
    },
    /// Work with event logs.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Export an event log as CSV or JSON Lines (to stdout), in USD and BTC.
    #[command(
        after_help = "Examples:\n  liqsim events export out/demo/events.log --format csv > events.csv\n  \
                            liqsim events export out/demo/events.log --format jsonl --kind liquidation"
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Demo { seed, out } => demo(seed, &out),
        Command::Replay { log, expect } => replay(&log, expect.as_deref()),
        Command::Events { command: EventsCommand::Export { log, format, kind } } => {
            export(&log, format, kind.as_deref())
        }
    }
}

fn demo(seed: u64, out: &Path) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let final_path = out.join("events.log");
    let tmp_path = out.join(".events.log.tmp");
    let file = File::create(&tmp_path).with_context(|| format!("cannot write {}", tmp_path.display()))?;
    let sink: Box<dyn Write + Send + Sync> = Box::new(BufWriter::new(file));
    let log = liqsim::events::LogWriter::new(sink, &liqsim::demo::demo_header(seed))?;
    let report = match liqsim::demo::run_demo(seed, Some(log)) {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp_path);
            return Err(e.into());
        }
    };
    std::fs::rename(&tmp_path, &final_path)?;
    let replayed = replay_ledger(&final_path)?;
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

fn open_log(path: &Path) -> Result<LogReader<BufReader<File>>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    LogReader::new(BufReader::new(file)).with_context(|| format!("{}", path.display()))
}

fn replay_ledger(path: &Path) -> Result<Ledger> {
    let reader = open_log(path)?;
    let mut ledger = Ledger::new(reader.header().instrument);
    for env in reader {
        let env = env.with_context(|| format!("{}", path.display()))?;
        ledger
            .apply(&env.event)
            .with_context(|| format!("{}: event {} does not apply", path.display(), env.seq))?;
    }
    Ok(ledger)
}

fn replay(path: &Path, expect: Option<&str>) -> Result<ExitCode> {
    let ledger = replay_ledger(path)?;
    let hash = ledger.state_hash();
    println!("{hash}");
    match expect {
        Some(e) if e != hash => bail!("state hash mismatch: the log rebuilds {hash}, expected {e}"),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn export(path: &Path, format: Format, kind: Option<&str>) -> Result<ExitCode> {
    let kinds = match kind {
        Some(k) => Some(EventKind::parse_filter(k).with_context(|| format!("unknown event kind {k:?}"))?),
        None => None,
    };
    let reader = open_log(path)?;
    let format = match format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::JsonLines,
    };
    let stdout = std::io::stdout().lock();
    let mut ex = Exporter::new(BufWriter::new(stdout), format, reader.header().instrument, kinds);
    for env in reader {
        let env = env.with_context(|| format!("{}", path.display()))?;
        ex.write(&env)?;
    }
    ex.finish()?;
    Ok(ExitCode::SUCCESS)
}
