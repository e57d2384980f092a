//! `report`: a finished output folder's self-contained HTML page; also what `--report` on the
//! commands that make folders writes at their end.

use super::bad;
use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub fn report(dir: &Path) -> Result<ExitCode> {
    println!("report: {}", write(dir)?.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes `dir`'s report; a folder it cannot be made of is bad input (exit 2).
pub(super) fn write(dir: &Path) -> Result<PathBuf> {
    liqsim::page::write_report(dir).map_err(|e| if e.is_bad_input() { bad(e.to_string()) } else { e.into() })
}

/// `--report` at the end of a command that wrote `dir`: the page, said unless `quiet`.
pub(super) fn at_end(wanted: bool, dir: &Path, quiet: bool) -> Result<()> {
    if wanted {
        let path = write(dir)?;
        if !quiet {
            println!("report: {}", path.display());
        }
    }
    Ok(())
}
