//! `replay` and `events export`: reading an event log back, to rebuild the exchange's state
//! (ledger and book) and check it against the run's summary, or to export its events.

use super::bad;
use crate::cli::Format;
use anyhow::Result;
use liqsim::events::{EventKind, ExportFormat, Exporter, LogReader};
use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Write};
use std::path::Path;
use std::process::ExitCode;

fn open_log(path: &Path) -> Result<LogReader<BufReader<File>>> {
    if path.is_dir() {
        return Err(bad(format!("{}: is a directory, not an event log", path.display())));
    }
    let file = File::open(path).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    LogReader::new(BufReader::new(file)).map_err(|e| bad(format!("{}: {e}", path.display())))
}

/// Folds a log into the exchange state it describes (bad input: a log that cannot be read or
/// whose events do not apply).
pub(super) fn replay_log(path: &Path) -> Result<liqsim::engine::Replayed> {
    let reader = open_log(path)?;
    liqsim::engine::replay(reader).map_err(|e| bad(format!("{}: {e}", path.display())))
}

pub fn replay(path: &Path, verify: bool, expect: Option<&str>) -> Result<ExitCode> {
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
        funding_rate_accrued: field("funding_rate_accrued")?
            .as_f64()
            .ok_or_else(|| bad(format!("{}: funding_rate_accrued is not a number", summary.display())))?,
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
        "verified: the log rebuilds the run's final state (ledger and book), stream, seed, scenario and accrued funding rate"
    );
    Ok(ExitCode::SUCCESS)
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
    let header = reader.header().clone();
    let mut ex = Exporter::new(BufWriter::new(stdout), format, &header, kinds);
    let written = (|| -> Result<()> {
        for env in reader {
            let env = env.map_err(|e| bad(format!("{}: {e}", path.display())))?;
            ex.write(&env)?;
        }
        ex.finish()?.flush()?;
        Ok(())
    })();
    match written {
        // The reader went away (`| head`): it has what it wanted; stop quietly.
        Err(e) if closed_pipe(&e) => Ok(ExitCode::SUCCESS),
        other => other.map(|()| ExitCode::SUCCESS),
    }
}

/// Whether writing failed because the other end of a pipe was closed.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::BrokenPipe))
}
