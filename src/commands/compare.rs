//! `compare`: run folders or Monte Carlo folders side by side.

use super::bad;
use crate::cli::CompareArgs;
use anyhow::Result;
use liqsim::compare::{self, CompareError};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    let CompareArgs { dirs, out, quiet } = args;
    let out = out.unwrap_or_else(|| PathBuf::from("out").join("compare"));
    super::out_folder(&out)?;
    let c = compare::compare(&dirs, &out).map_err(|e| match e {
        CompareError::Input(msg) => bad(msg),
        other => other.into(),
    })?;
    if !quiet {
        print!("{}", c.text);
        println!("outputs: {} ({})", out.display(), c.files.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}
