//! The liqsim command line: a thin shell over the library. Exit codes: 0 ok, 1 runtime failure,
//! 2 bad input (a scenario, a log or an argument that cannot be used).

mod cli;
mod commands;
mod signals;

use anyhow::Result;
use clap::Parser;
use cli::{Cli, Command, EventsCommand};
use commands::BadInput;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    signals::install();
    let result = run(cli);
    if liqsim::report::interrupt::stopped() {
        // A signal stopped the command mid-way: the signal thread cleans up and exits 130/143;
        // this thread's error (nothing could be put in place) is not the outcome to report.
        loop {
            std::thread::park();
        }
    }
    match result {
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

/// Runs the subcommand: its exit code, or the error `main` reports.
fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate { file, budget } => commands::validate(&file, &budget),
        Command::Run(args) => commands::run(args),
        Command::Mc(args) => commands::mc(args),
        Command::Merge(args) => commands::merge(args),
        Command::Compare(args) => commands::compare(args),
        Command::Sweep(args) => commands::sweep(args),
        Command::Sensitivity(args) => commands::sensitivity(args),
        Command::Report { dir } => commands::report(&dir),
        Command::Replay { log, verify, expect } => commands::replay(&log, verify, expect.as_deref()),
        Command::Events { command: EventsCommand::Export { log, out, output, format, kind } } => {
            commands::export(&log, out.as_deref(), output.as_deref(), format, kind.as_deref())
        }
        Command::Margin(args) => commands::margin(args),
        Command::Demo { seed, out } => commands::demo(seed, &out),
        Command::Facts { ticks, every, column, lags, json } => {
            commands::facts(&ticks, every, &column, lags, json)
        }
    }
}
