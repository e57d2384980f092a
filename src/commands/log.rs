//! `replay` and `events export`: reading an event log back, to rebuild the exchange's state
//! (ledger and book) and check it against the run's summary, or to export its events.

use super::bad;
use crate::cli::Format;
use anyhow::{Context, Result};
use liqsim::events::{EventKind, ExportFormat, Exporter, LogReader, TableExporter, table_file_name};
use liqsim::report;
use std::fs::File;
use std::io::{BufReader, BufWriter, ErrorKind, Write};
use std::path::{Path, PathBuf};
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

pub fn export(
    path: &Path,
    out_dir: Option<&Path>,
    output: Option<&Path>,
    format: Format,
    kind: Option<&str>,
) -> Result<ExitCode> {
    let kinds = match kind {
        Some(k) => Some(EventKind::parse_filter(k).ok_or_else(|| {
            bad(format!("unknown event kind {k:?}; one of: {}", EventKind::filter_names().join(", ")))
        })?),
        None => None,
    };
    if let Some(dir) = out_dir {
        let parquet = match format {
            Format::Csv => false,
            Format::Parquet => true,
            Format::Jsonl => {
                return Err(bad(
                    "--format jsonl is one stream of every event: write it with --output FILE (or to stdout), \
                     not into a folder of tables (--out takes csv or parquet)",
                ));
            }
        };
        let kinds = kinds.unwrap_or_else(|| EventKind::ALL.to_vec());
        return export_tables(path, dir, parquet, &kinds);
    }
    let format = match format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::JsonLines,
        Format::Parquet => {
            return Err(bad(
                "--format parquet writes one table per event kind: give the folder with --out DIR",
            ));
        }
    };
    let reader = open_log(path)?;
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

/// `events export --out DIR`: a tidy table per kind, each written to a temporary beside its name;
/// all are renamed into place once every one is complete, none on any failure.
fn export_tables(path: &Path, dir: &Path, parquet: bool, kinds: &[EventKind]) -> Result<ExitCode> {
    if dir.exists() && !dir.is_dir() {
        return Err(bad(format!(
            "--out {}: is a file, not a folder (the tables go into a folder)",
            dir.display()
        )));
    }
    let reader = open_log(path)?;
    let created = !dir.exists();
    // One writer a folder, as for the other commands: a second export (or a run writing there)
    // is refused, naming the holder, instead of writing over the same temporaries.
    let lock = report::lock::open_output(dir, "events export", &[])
        .map_err(|e| if e.is_bad_input() { bad(e.to_string()) } else { anyhow::Error::new(e) })?;
    let targets: Vec<(EventKind, PathBuf, PathBuf)> = kinds
        .iter()
        .map(|&k| {
            let target = dir.join(table_file_name(k, parquet));
            let tmp = report::atomic_path(&target);
            (k, target, tmp)
        })
        .collect();
    let _registered: Vec<_> =
        targets.iter().map(|(_, _, tmp)| report::interrupt::Temporary::register(tmp)).collect();
    let header = reader.header().clone();
    let mut events = 0u64;
    let written = (|| -> Result<Vec<u64>> {
        let tmp_of = |kind| targets.iter().find(|(k, _, _)| *k == kind).map(|(_, _, tmp)| tmp.as_path());
        let mut ex = TableExporter::new(&header, kinds, parquet, |kind| {
            let tmp = tmp_of(kind).ok_or_else(|| std::io::Error::other("a table without a file"))?;
            Ok(BufWriter::new(report::interrupt::create_temporary(tmp)?))
        })
        .context("cannot start the tables")?;
        for env in reader {
            let env = env.map_err(|e| bad(format!("{}: {e}", path.display())))?;
            ex.write(&env)?;
            events += 1;
        }
        let mut rows = Vec::new();
        for (kind, w, n) in ex.finish()? {
            let file = w.into_inner().map_err(|e| e.into_error())?;
            file.sync_all().with_context(|| format!("cannot write the {} table", kind.name()))?;
            rows.push(n);
        }
        Ok(rows)
    })();
    let rows = match written {
        Ok(rows) => rows,
        Err(e) => {
            for (_, _, tmp) in &targets {
                let _ = std::fs::remove_file(tmp);
            }
            if created {
                // Only if still empty, once the lock's file has gone with the lock.
                drop(lock);
                let _ = std::fs::remove_dir(dir);
            }
            return Err(e.context(format!("{}: no table written", dir.display())));
        }
    };
    for (_, target, tmp) in &targets {
        report::finish_atomic(tmp, target)?;
    }
    let _ = report::lock::sync_dir(dir);
    let kept: u64 = rows.iter().sum();
    let filled = rows.iter().filter(|&&n| n > 0).count();
    println!(
        "{}: {} {} tables ({} with rows), {kept} of the log's {events} events",
        dir.display(),
        targets.len(),
        if parquet { "Parquet" } else { "CSV" },
        filled
    );
    Ok(ExitCode::SUCCESS)
}

/// Whether writing failed because the other end of a pipe was closed.
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == ErrorKind::BrokenPipe))
}
