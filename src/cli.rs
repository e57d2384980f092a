//! The command line's grammar: subcommands, their arguments and help texts, as clap derives
//! them. What each subcommand does is in `commands`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "liqsim",
    version,
    about = "Simulate leveraged perpetual-futures markets and their liquidation cascades"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check a scenario file and report every problem with where it is.
    #[command(after_help = "Also estimates a run's memory and disk and refuses one beyond the limits.\n\n\
                            Example:\n  liqsim validate scenarios/btc_14_to_1.ron")]
    Validate {
        file: PathBuf,
        #[command(flatten)]
        budget: BudgetArgs,
    },
    /// Run a scenario once and write its outputs (summary, tick series, heatmap, pictures, log).
    #[command(after_help = "Examples:\n  liqsim run scenarios/btc_14_to_1.ron\n  \
                            liqsim run scenarios/jan_2025_down_hunt.ron --seed 7 --out out/jan7 --quiet")]
    Run(RunArgs),
    /// Monte Carlo: N independent worlds in parallel, their outcomes and statistics.
    #[command(after_help = "Runs are journalled to runs.jsonl as they finish; --resume computes only the \
                            missing ones. Outputs: outcomes.csv, summary.json, fan.png/.svg, hist_*.png.\n\n\
                            Examples:\n  liqsim mc scenarios/btc_14_to_1.ron --runs 1000 --threads 2\n  \
                            liqsim mc scenarios/btc_14_to_1.ron --shard 0/3 --out shards/0 --quiet\n  \
                            liqsim mc scenarios/btc_14_to_1.ron --resume")]
    Mc(McArgs),
    /// Combine Monte Carlo shard folders into the outputs of one Monte Carlo.
    #[command(after_help = "Example:\n  liqsim merge shards/0 shards/1 shards/2 --out out/btc_14_to_1/mc")]
    Merge(MergeArgs),
    /// Two or more run folders, or two or more Monte Carlo folders, side by side.
    #[command(
        after_help = "Prints a table of headline differences from the first folder (for Monte Carlo folders \
                            with 95% intervals: a percentile bootstrap for medians, Newcombe's for \
                            probabilities) and writes compare.txt, compare.csv and overlaid pictures: \
                            price.png for runs; fan.png and hist_*.png for Monte Carlo folders.\n\n\
                            Examples:\n  liqsim compare out/btc_14_to_1/mc out/symmetric_control/mc --out out/compare\n  \
                            liqsim compare out/run_a out/run_b"
    )]
    Compare(CompareArgs),
    /// A Monte Carlo per cell of the scenario's sweep grid; sweep.csv, a table and heatmaps.
    #[command(after_help = "Example:\n  liqsim sweep scenarios/imbalance_sweep.ron --metric p_squeeze_up")]
    Sweep(SweepArgs),
    /// Sensitivity analysis: the scenario's `sensitivity:` parameters varied over their ranges
    /// (one at a time, and Morris elementary effects), a Monte Carlo at every point.
    #[command(
        after_help = "Outputs: sensitivity.csv, morris.csv, sensitivity.txt, tornado.png, summary.json \
                            (last). Every point runs the same seeds (common random numbers); see \
                            docs/sensitivity.md.\n\n\
                            Examples:\n  liqsim sensitivity scenarios/btc_14_to_1.ron --runs 20 --threads 2\n  \
                            liqsim sensitivity scenarios/imbalance_sweep.ron --points 3 --out out/sens --quiet"
    )]
    Sensitivity(SensitivityArgs),
    /// Write one self-contained HTML page (report.html) for a run, Monte Carlo, sweep or
    /// sensitivity folder: the summary in words and numbers, the pictures, the scenario.
    #[command(after_help = "The page needs no network: pictures are embedded and its one chart is drawn by \
                            its own script (hover for values, drag to zoom).\n\n\
                            Examples:\n  liqsim report out/btc_14_to_1\n  liqsim report out/btc_14_to_1/mc")]
    Report {
        /// The output folder of `liqsim run`, `mc`, `merge`, `sweep` or `sensitivity`.
        dir: PathBuf,
    },
    /// Rebuild the ledger from an event log and print its state hash.
    #[command(after_help = "Examples:\n  liqsim replay out/btc_14_to_1/events.log --verify\n  \
                            liqsim replay events.log --expect 3f2a...")]
    Replay {
        log: PathBuf,
        /// Compare with the final state hash in the summary.json beside the log; exit 1 if they differ.
        #[arg(long)]
        verify: bool,
        /// Compare with this state hash, or a prefix of it of at least 16 hex digits (any case);
        /// exit 1 if they differ.
        #[arg(long)]
        expect: Option<String>,
    },
    /// Work with event logs.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Margin calculator: initial and maintenance margin, tier, liquidation and bankruptcy price.
    #[command(
        after_help = "Examples:\n  liqsim margin --side short --entry 71450 --size 1.5 --leverage 5\n  liqsim margin --side long --entry 70000 --size 1 --leverage 10 --mode cross --wallet 10000\n  liqsim margin --instrument ethusdt --side long --entry 3426.15 --size 20 --leverage 20"
    )]
    Margin(MarginArgs),
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
pub enum EventsCommand {
    /// Export an event log: tidy tables, one per event kind (with --out DIR, CSV or Parquet), or one
    /// wide CSV or JSON Lines stream of every event (to stdout, or to a file with --output), in USD and BTC.
    #[command(
        after_help = "With --out DIR, DIR/<Kind>.csv (or .parquet) for every kind (or those --kind names), each \
                            with seq, tick, time_s, cause and its own typed columns (docs/events.md).\n\n\
                            Examples:\n  liqsim events export out/btc_14_to_1/events.log --out out/btc_14_to_1/events\n  \
                            liqsim events export out/btc_14_to_1/events.log --out tables --format parquet --kind liquidation\n  \
                            liqsim events export out/btc_14_to_1/events.log --format csv --output events.csv\n  \
                            liqsim events export out/btc_14_to_1/events.log --format jsonl --kind liquidation | head"
    )]
    Export {
        log: PathBuf,
        /// Write one tidy table per event kind into this folder (created if missing): <Kind>.csv, or
        /// <Kind>.parquet with --format parquet. Each appears whole once every table is written.
        #[arg(long, value_name = "DIR", conflicts_with = "output")]
        out: Option<PathBuf>,
        /// Write the wide table (or JSON Lines) to this file, atomically: it appears whole once
        /// every row is written, and on any failure (or SIGINT/SIGTERM) nothing is put at its name.
        #[arg(long, short = 'o')]
        output: Option<PathBuf>,
        /// csv or parquet (tidy tables, with --out), or jsonl (one stream, without --out).
        #[arg(long, value_enum, default_value_t = Format::Csv)]
        format: Format,
        /// Keep only one kind: a group (account, order, trade, price, funding, insurance,
        /// liquidation, tick, stop) or an event name (Traded, Liquidated, ...).
        #[arg(long)]
        kind: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
    Parquet,
}

/// The format of a run's or a Monte Carlo's tables besides CSV.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    /// CSV tables only.
    Csv,
    /// Also a Parquet copy of each data table: ticks.parquet (run), outcomes.parquet (mc, merge).
    Parquet,
}

#[derive(Args)]
pub struct MarginArgs {
    /// The contract: Binance BTCUSDT (tick 0.1 USD, lot 0.001 BTC, its tier table) or
    /// ETHUSDT (tick 0.01 USD, lot 0.001 ETH, the tiers of Binance's worked ETH example).
    #[arg(long, value_enum, default_value = "btcusdt")]
    pub instrument: MarginInstrument,
    #[arg(long, value_enum)]
    pub side: MarginSide,
    /// Entry price, USD.
    #[arg(long)]
    pub entry: String,
    /// Position size, in the contract's asset (BTC or ETH).
    #[arg(long)]
    pub size: String,
    #[arg(long)]
    pub leverage: u32,
    /// Isolated: the initial margin backs the position. Cross: the whole wallet does.
    #[arg(long, value_enum, default_value = "isolated")]
    pub mode: MarginModeArg,
    /// Cross margin's wallet balance backing the position, USD (at least the initial margin).
    #[arg(long)]
    pub wallet: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MarginInstrument {
    Btcusdt,
    Ethusdt,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MarginSide {
    Long,
    Short,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum MarginModeArg {
    Isolated,
    Cross,
}

// The arguments of the subcommands whose options are many; the help texts are the variants'.

/// The resource budget checked before any work (see `liqsim::budget`).
#[derive(Args, Clone)]
pub struct BudgetArgs {
    /// Refuse when the estimated memory exceeds this (e.g. 512M, 16G).
    #[arg(long, value_name = "SIZE", default_value = "4G")]
    pub max_memory: String,
    /// Refuse when the estimated disk use exceeds this (e.g. 500M, 100G).
    #[arg(long, value_name = "SIZE", default_value = "4G")]
    pub max_disk: String,
    /// Refuse when the estimated computing time (all runs, one core) exceeds this (e.g. 30m, 2d).
    #[arg(long, value_name = "DURATION", default_value = "1d")]
    pub max_time: String,
    /// Run even beyond the resource budget.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct RunArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// Overrides the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default out/<scenario name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the folder's report.html at the end (as `liqsim report` does).
    #[arg(long)]
    pub report: bool,
    /// parquet: also ticks.parquet beside ticks.csv.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    pub format: TableFormat,
    /// No progress bar and no table on stdout.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct McArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// Number of runs (default: the scenario's monte_carlo.runs).
    #[arg(long)]
    pub runs: Option<u32>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Master seed (default: monte_carlo.seed, else the scenario's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default out/<scenario>/mc/, or out/<scenario>/mc/shard-K-of-N/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep every run's event log (logs/run-NNNNNN.events.log).
    #[arg(long)]
    pub keep_logs: bool,
    /// Keep the finished runs in the output folder and compute only the missing ones.
    #[arg(long)]
    pub resume: bool,
    /// Compute only the runs i with i mod N == K (merge the shards with `liqsim merge`).
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Also write the folder's report.html at the end (as `liqsim report` does).
    #[arg(long)]
    pub report: bool,
    /// parquet: also outcomes.parquet beside outcomes.csv.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    pub format: TableFormat,
    /// No progress bar and no table on stdout.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct MergeArgs {
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Output folder (default out/<scenario>/mc/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the folder's report.html at the end (as `liqsim report` does).
    #[arg(long)]
    pub report: bool,
    /// parquet: also outcomes.parquet beside outcomes.csv.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    pub format: TableFormat,
    /// No table on stdout.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct CompareArgs {
    /// Run folders (`liqsim run`) or whole Monte Carlo folders (`liqsim mc`, `liqsim merge`).
    #[arg(required = true, num_args = 2..)]
    pub dirs: Vec<PathBuf>,
    /// Output folder (default out/compare/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No table on stdout.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct SweepArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// Runs per cell (default: the scenario's monte_carlo.runs, unless it is an axis).
    #[arg(long)]
    pub runs: Option<u32>,
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default out/<scenario>/sweep/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Keep finished cells and runs; compute only what is missing.
    #[arg(long)]
    pub resume: bool,
    /// The sweep.csv column the heatmap shows.
    #[arg(long, default_value = "p_squeeze_up")]
    pub metric: String,
    /// The axis (parameter) across the heatmap (default the first).
    #[arg(long)]
    pub x: Option<String>,
    /// The axis up the heatmap (default the second).
    #[arg(long)]
    pub y: Option<String>,
    /// Also write the folder's report.html at the end (as `liqsim report` does).
    #[arg(long)]
    pub report: bool,
    /// parquet: also sweep.parquet beside sweep.csv, and each cell's outcomes.parquet.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    pub format: TableFormat,
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Args)]
pub struct SensitivityArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// Runs per point (default: sensitivity.runs, else monte_carlo.runs).
    #[arg(long)]
    pub runs: Option<u32>,
    /// Values per parameter from low to high (default: sensitivity.points).
    #[arg(long)]
    pub points: Option<u32>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Master seed (default: monte_carlo.seed, else the scenario's seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default out/<scenario>/sensitivity/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Also write the folder's report.html at the end (as `liqsim report` does).
    #[arg(long)]
    pub report: bool,
    /// parquet: also sensitivity.parquet and morris.parquet beside their CSVs.
    #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
    pub format: TableFormat,
    /// No progress bar and no table on stdout.
    #[arg(long)]
    pub quiet: bool,
}
