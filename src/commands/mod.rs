//! What each subcommand does, one function per subcommand, and the errors they share: bad
//! input (exit 2) is a [`BadInput`], anything else a runtime failure (exit 1).

mod compare;
mod demo;
mod facts;
mod log;
mod margin;
mod mc;
mod report;
mod scenario;

pub use compare::compare;
pub use demo::demo;
pub use facts::facts;
pub use log::{export, replay};
pub use margin::margin;
pub use mc::{mc, merge, sensitivity, sweep};
pub use report::report;
pub use scenario::{run, validate};

use anyhow::Result;
use liqsim::scenario::{ScenarioError, Validated};
use std::path::Path;

/// An error the user caused: exit 2.
#[derive(Debug)]
pub struct BadInput(String);

impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadInput {}

/// Bad input with this message: exit 2.
pub fn bad(msg: impl Into<String>) -> anyhow::Error {
    BadInput(msg.into()).into()
}

/// Reads and validates a scenario file; anything wrong with it is bad input.
fn load(file: &Path) -> Result<Validated> {
    liqsim::scenario::load(file).map_err(|e| match e {
        ScenarioError::Read { path, cause } => bad(format!("{}: {cause}", path.display())),
        invalid => bad(invalid.to_string()),
    })
}

/// Checks an estimate against the budget's limits: beyond them, bad input unless `--force`
/// (then a warning).
fn within_budget(args: &crate::cli::BudgetArgs, estimate: &liqsim::budget::Estimate) -> Result<()> {
    let size =
        |flag: &str, text: &str| liqsim::budget::parse_size(text).map_err(|e| bad(format!("{flag}: {e}")));
    let limits = liqsim::budget::Limits {
        memory: size("--max-memory", &args.max_memory)?,
        disk: size("--max-disk", &args.max_disk)?,
        time: liqsim::scenario::Duration::parse(&args.max_time)
            .map_err(|e| bad(format!("--max-time: {e}")))?
            .secs(),
    };
    match estimate.check(&limits) {
        Ok(()) => Ok(()),
        Err(msg) if args.force => {
            eprintln!("warning (--force): {msg}");
            Ok(())
        }
        Err(msg) => Err(bad(msg)),
    }
}

/// An output folder named by `--out` that is a file: bad input, said once.
fn out_folder(out: &Path) -> Result<()> {
    if out.exists() && !out.is_dir() {
        return Err(bad(format!(
            "--out {}: is a file, not a folder (outputs go into a folder)",
            out.display()
        )));
    }
    Ok(())
}
