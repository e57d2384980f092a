//! `replay` and `events export`: reading an event log back, to rebuild the ledger's state or to
//! export its events.

use super::bad;
use crate::cli::Format;
use anyhow::Result;
use liqsim::events::{EventKind, ExportFormat, Exporter, LogReader};
use liqsim::ledger::Ledger;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;
use std::process::ExitCode;

fn open_log(path: &Path) -> Result<LogReader<BufReader<File>>> {
    if path.is_dir() {
        return Err(bad(format!("{}: is a directory, not an event log", path.display())));
    }
    let file = File::open(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    LogReader::new(BufReader::new(file)).map_err(|e| bad(format!("{}: {e}", path.display())))
}

pub(super) fn replay_ledger(path: &Path) -> Result<Ledger> {
    let reader = open_log(path)?;
    let mut ledger = Ledger::new(reader.header().instrument);
    for env in reader {
        let env = env.map_err(|e| bad(format!("{}: {e}", path.display())))?;
        ledger
            .apply(&env.event)
            .map_err(|e| bad(format!("{}: event {} does not apply: {e}", path.display(), env.seq)))?;
    }
    Ok(ledger)
}

pub fn replay(path: &Path, verify: bool, expect: Option<&str>) -> Result<ExitCode> {
    let hash = replay_ledger(path)?.state_hash();
    println!("{hash}");
    let expected = match (expect, verify) {
        (Some(e), _) => Some(e.to_string()),
        (None, true) => {
            let summary = path.with_file_name("summary.json");
            let text = std::fs::read_to_string(&summary)
                .map_err(|e| bad(format!("--verify needs the run's summary: {}: {e}", summary.display())))?;
            let json: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", summary.display())))?;
            let h = json.get("final_state_hash").and_then(|h| h.as_str());
            Some(h.ok_or_else(|| bad(format!("{}: no final_state_hash", summary.display())))?.to_string())
        }
        (None, false) => None,
    };
    match expected {
        Some(e) if e != hash => {
            eprintln!("state hash mismatch: the log rebuilds {hash}, the run recorded {e}");
            Ok(ExitCode::from(1))
        }
        Some(_) => {
            eprintln!("verified: the log rebuilds the run's final state");
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::SUCCESS),
    }
}

pub fn export(path: &Path, format: Format, kind: Option<&str>) -> Result<ExitCode> {
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
    let mut ex = Exporter::new(BufWriter::new(stdout), format, reader.header().instrument, kinds);
    for env in reader {
        let env = env.map_err(|e| bad(format!("{}: {e}", path.display())))?;
        ex.write(&env)?;
    }
    ex.finish()?;
    Ok(ExitCode::SUCCESS)
}
