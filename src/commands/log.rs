//! `replay` and `events export`: reading an event log back, to rebuild the exchange's state
//! (ledger and book) and check it against the run's summary, or to export its events.

use super::bad;
use crate::cli::Format;
use anyhow::{Context, Result};
use liqsim::events::{EventKind, ExportFormat, Exporter, LogReader};
use liqsim::report;
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

/// The shortest hash prefix `--expect` takes: the 16 hex digits `validate` and the tables print.
const MIN_EXPECT: usize = 16;

/// Checks `--expect`: hex digits, at least [`MIN_EXPECT`] of them, at most a whole hash.
fn expected_prefix(e: &str) -> Result<String> {
    let e = e.trim();
    if let Some(c) = e.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(bad(format!("--expect {e:?}: {c:?} is not a hex digit (a state hash is 64 hex digits)")));
    }
    if e.len() < MIN_EXPECT || e.len() > 64 {
        return Err(bad(format!(
            "--expect {e:?}: give the state hash or a prefix of it of {MIN_EXPECT} to 64 hex digits, not {}",
            e.len()
        )));
    }
    Ok(e.to_ascii_lowercase())
}

pub fn replay(path: &Path, verify: bool, expect: Option<&str>) -> Result<ExitCode> {
    let expect = expect.map(expected_prefix).transpose()?;
    let replayed = replay_log(path)?;
    let hash = replayed.state_hash();
    println!("{hash}");
    if let Some(e) = expect {
        if !hash.to_ascii_lowercase().starts_with(&e) {
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

pub fn export(path: &Path, output: Option<&Path>, format: Format, kind: Option<&str>) -> Result<ExitCode> {
    let kinds = match kind {
        Some(k) => Some(EventKind::parse_filter(k).ok_or_else(|| {
            bad(format!("unknown event kind {k:?}; one of: {}", EventKind::filter_names().join(", ")))
        })?),
        None => None,
    };
    let reader = open_log(path)?;
    let format = match format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::JsonLines,
    };
    let header = reader.header().clone();
    let rows = |out: &mut dyn Write| -> Result<()> {
        let mut ex = Exporter::new(BufWriter::new(out), format, &header, kinds);
        for env in reader {
            let env = env.map_err(|e| bad(format!("{}: {e}", path.display())))?;
            ex.write(&env)?;
        }
        ex.finish()?.flush()?;
        Ok(())
    };
    let Some(target) = output else {
        let written = rows(&mut std::io::stdout().lock());
        return match written {
            // The reader went away (`| head`): it has what it wanted; stop quietly.
            Err(e) if closed_pipe(&e) => Ok(ExitCode::SUCCESS),
            other => other.map(|()| ExitCode::SUCCESS),
        };
    };
    // To a file: every row into a temporary beside it, then synced and renamed into place.
    if target.is_dir() {
        return Err(bad(format!("--output {}: is a folder, not a file", target.display())));
    }
    let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(bad(format!("--output {}: no folder {}", target.display(), parent.display())));
    }
    let tmp = report::atomic_path(target);
    let _registered = report::interrupt::Temporary::register(&tmp);
    let written = (|| -> Result<()> {
        let mut file = report::interrupt::create_temporary(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        rows(&mut file)?;
        file.sync_all()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(format!("{}: not written", target.display())));
    }
    report::finish_atomic(&tmp, target)?;
    let _ = report::lock::sync_dir(parent);
    Ok(ExitCode::SUCCESS)
}

/// Whether writing failed because the other end of a pipe was closed.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::BrokenPipe))
}
