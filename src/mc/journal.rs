//! A Monte Carlo folder on disk: `mc.json`, the [`Manifest`] of what is computed (the scenario's
//! meaning, master seed, run count, shard), `scenario.json`, the scenario in its canonical form,
//! and `runs.jsonl`, the journal of finished runs, one [`RunOutcome`] a line.
//!
//! # Journal records
//! A line is the outcome's JSON object with one more key last, `"crc32"`: the CRC-32 of the
//! object without it (the line's bytes up to that key, closed by `}`), as 8 lowercase hex
//! digits. A line is written whole and synced before its run counts as done (see
//! [`run_mc`](super::run_mc)). Reading keeps every intact record and drops, saying which, a torn
//! last line, a line whose checksum fails or that is not a record; identical duplicates are
//! collapsed and differing ones refused. A resume computes the dropped runs again. Journals of
//! folder format 1 (no checksums) are read as they are and rewritten with checksums.
//!
//! # Resuming on meaning
//! The manifest keys a Monte Carlo on the scenario's meaning: blake3 of its canonical form (the
//! parsed scenario, every default filled in, serialised again), so reformatting the file or
//! adding comments does not stop a resume, and a changed parameter does, named.

use super::{McError, RunOutcome};
use crate::report;
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Write;
use std::path::Path;

/// Version of the folder format (`mc.json`, `runs.jsonl`): 2 adds the scenario's meaning and
/// the journal's checksums; folders of format 1 are still read (and resumed into format 2).
pub const FORMAT: u32 = 2;

/// Shard `index` of `count`: the runs `i` with `i mod count == index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` (0 ≤ K < N).
    pub fn parse(text: &str) -> Result<Shard, String> {
        let (k, n) = text.split_once('/').ok_or_else(|| format!("--shard: expected K/N, got {text:?}"))?;
        let k: u32 = k.trim().parse().map_err(|_| format!("--shard: K must be a whole number, got {k:?}"))?;
        let n: u32 = n.trim().parse().map_err(|_| format!("--shard: N must be a whole number, got {n:?}"))?;
        if n == 0 || k >= n {
            return Err(format!("--shard: need 0 ≤ K < N, got {k}/{n}"));
        }
        Ok(Shard { index: k, count: n })
    }

    pub fn contains(&self, run: u32) -> bool {
        run % self.count == self.index
    }
}

/// What a Monte Carlo folder computes (`mc.json`): everything the final outputs depend on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub scenario: String,
    /// blake3 of the scenario file's bytes when the Monte Carlo was started (informative).
    pub scenario_hash: String,
    /// blake3 of the scenario's canonical form ([`meaning`]): what a resume must match. Empty in
    /// format 1.
    #[serde(default)]
    pub scenario_meaning: String,
    pub master_seed: u64,
    pub runs: u32,
    pub start_price: f64,
    pub watch_levels: Vec<f64>,
    /// Minutes between points of each run's price path.
    pub path_minutes: f64,
    pub shard: Option<Shard>,
}

impl Manifest {
    /// The runs this folder is to hold.
    pub fn wanted(&self) -> Vec<u32> {
        (0..self.runs).filter(|&r| self.shard.is_none_or(|s| s.contains(r))).collect()
    }

    /// The manifest of the whole Monte Carlo this one is part of.
    pub fn whole(&self) -> Manifest {
        Manifest { shard: None, ..self.clone() }
    }
}

pub(super) const MANIFEST: &str = "mc.json";
pub(super) const JOURNAL: &str = "runs.jsonl";
/// The scenario's canonical form, for naming what changed when a resume is refused.
pub(super) const CANONICAL: &str = "scenario.json";
/// Where the lines a resume dropped from the journal are kept, for inspection.
pub(super) const DROPPED: &str = "runs.jsonl.dropped";

pub use crate::scenario::canonical;

/// blake3 of a canonical form, hex: the scenario's meaning.
pub fn meaning(canonical: &str) -> String {
    blake3::hash(format!("liqsim scenario meaning 1\n{canonical}").as_bytes()).to_hex().to_string()
}

/// Up to `limit` field paths where two canonical forms differ, with both values.
pub fn differences(old: &str, new: &str, limit: usize) -> Vec<String> {
    use serde_json::Value;
    fn walk(path: &str, a: &Value, b: &Value, out: &mut Vec<String>, limit: usize) {
        if out.len() >= limit || a == b {
            return;
        }
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    walk(&p, x.get(k).unwrap_or(&Value::Null), y.get(k).unwrap_or(&Value::Null), out, limit);
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (u, v)) in x.iter().zip(y).enumerate() {
                    walk(&format!("{path}[{i}]"), u, v, out, limit);
                }
            }
            _ => {
                let short = |v: &Value| {
                    let t = v.to_string();
                    if t.chars().count() > 60 {
                        format!("{}…", t.chars().take(60).collect::<String>())
                    } else {
                        t
                    }
                };
                out.push(format!("{path}: {} → {}", short(a), short(b)));
            }
        }
    }
    let (Ok(a), Ok(b)) = (serde_json::from_str::<Value>(old), serde_json::from_str::<Value>(new)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    walk("", &a, &b, &mut out, limit);
    out
}

/// Reads a folder's manifest.
pub fn read_manifest(dir: &Path) -> Result<Manifest, McError> {
    let path = dir.join(MANIFEST);
    let text = fs::read_to_string(&path)
        .map_err(|e| McError::Input(format!("{}: not a Monte Carlo folder ({e})", path.display())))?;
    let m: Manifest =
        serde_json::from_str(&text).map_err(|e| McError::Input(format!("{}: {e}", path.display())))?;
    if let Some(s) = m.shard
        && (s.count == 0 || s.index >= s.count)
    {
        return Err(McError::Input(format!(
            "{}: shard {}/{} is impossible",
            path.display(),
            s.index,
            s.count
        )));
    }
    if m.runs == 0 || m.runs > 1_000_000 {
        return Err(McError::Input(format!("{}: runs must be 1..=1000000, got {}", path.display(), m.runs)));
    }
    if m.format != FORMAT && m.format != 1 {
        return Err(McError::Input(format!(
            "{}: format {} is not one this liqsim reads (1 or {FORMAT})",
            path.display(),
            m.format
        )));
    }
    Ok(m)
}

/// The suffix a journal line ends with: `,"crc32":"` + 8 hex digits + `"}`.
const CRC_KEY: &[u8] = b",\"crc32\":\"";
const CRC_SUFFIX_LEN: usize = CRC_KEY.len() + 8 + 2;

/// One journal line (with its newline) for a run's outcome.
pub fn encode(outcome: &RunOutcome) -> Vec<u8> {
    let mut line = serde_json::to_vec(outcome).unwrap_or_default();
    let crc = crc32fast::hash(&line);
    line.pop(); // the closing brace, after the checksummed object
    line.extend_from_slice(CRC_KEY);
    line.extend_from_slice(format!("{crc:08x}\"}}\n").as_bytes());
    line
}

/// A journal line's record, and whether it carried a checksum; or why it is not a record.
fn decode(line: &[u8]) -> Result<(RunOutcome, bool), String> {
    let n = line.len();
    let tail = n.checked_sub(CRC_SUFFIX_LEN).map(|i| &line[i..]);
    let checked = tail.is_some_and(|t| t.starts_with(CRC_KEY) && t.ends_with(b"\"}"));
    if !checked {
        let rec = serde_json::from_slice(line).map_err(|e| format!("not a run record ({e})"))?;
        return Ok((rec, false));
    }
    let body_end = n - CRC_SUFFIX_LEN;
    let hex = std::str::from_utf8(&line[body_end + CRC_KEY.len()..n - 2]).unwrap_or("");
    let stated = u32::from_str_radix(hex, 16).map_err(|_| format!("checksum {hex:?} is not 8 hex digits"))?;
    let mut body = line[..body_end].to_vec();
    body.push(b'}');
    let actual = crc32fast::hash(&body);
    if actual != stated {
        return Err(format!("checksum mismatch (the line says {stated:08x}, its bytes give {actual:08x})"));
    }
    let rec = serde_json::from_slice(&body).map_err(|e| format!("not a run record ({e})"))?;
    Ok((rec, true))
}

/// What reading a journal found.
#[derive(Debug, Default)]
pub struct JournalRead {
    /// Every intact record, once, sorted by run.
    pub runs: Vec<RunOutcome>,
    /// Lines dropped, with why: `line 7: checksum mismatch (...)`.
    pub dropped: Vec<String>,
    /// The dropped lines themselves (with newlines), to keep for inspection.
    pub dropped_bytes: Vec<u8>,
    /// Identical repeated records collapsed into one.
    pub duplicates: usize,
    /// Records without a checksum (format 1).
    pub unchecked: usize,
}

impl JournalRead {
    /// Whether the file differs from the journal its records make (so it should be rewritten).
    pub fn untidy(&self) -> bool {
        !self.dropped.is_empty() || self.duplicates > 0 || self.unchecked > 0
    }

    /// What was dropped or collapsed, in one sentence; `None` if nothing was.
    pub fn damage(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.dropped.is_empty() {
            parts.push(format!("dropped {}", self.dropped.join("; ")));
        }
        if self.duplicates > 0 {
            parts.push(format!("collapsed {} identical repeated record(s)", self.duplicates));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Reads a folder's journal (read only). `checksums`: every record must carry one (format 2).
/// Damaged lines are dropped and listed; runs recorded twice are collapsed when identical and
/// refused when they differ.
pub fn read_journal(dir: &Path, checksums: bool) -> Result<JournalRead, McError> {
    let path = dir.join(JOURNAL);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(JournalRead::default()),
        Err(e) => return Err(McError::Io { path, cause: e }),
    };
    let mut read = JournalRead::default();
    // (run, line number, record)
    let mut found: Vec<(u32, usize, RunOutcome)> = Vec::new();
    for (i, raw) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let n = i + 1;
        let whole = raw.ends_with(b"\n");
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let why = if !whole {
            Err(format!("a torn last line of {} bytes (the writer was stopped while writing it)", line.len()))
        } else {
            match decode(line) {
                Ok((_, false)) if checksums => Err("no checksum".to_string()),
                Ok((rec, checked)) => {
                    read.unchecked += usize::from(!checked);
                    found.push((rec.run, n, rec));
                    Ok(())
                }
                Err(e) => Err(e),
            }
        };
        if let Err(why) = why {
            read.dropped.push(format!("line {n}: {why}"));
            read.dropped_bytes.extend_from_slice(line);
            read.dropped_bytes.push(b'\n');
        }
    }
    found.sort_by_key(|f| (f.0, f.1));
    for group in found.chunk_by(|a, b| a.0 == b.0) {
        let (run, first_line, first) = &group[0];
        if let Some((_, other_line, _)) = group[1..].iter().find(|g| g.2 != *first) {
            return Err(McError::Input(format!(
                "{}: run {run} is recorded twice with different outcomes (lines {first_line} and {other_line}); \
                 the journal cannot say which is true: keep one of the lines, or start the Monte Carlo again \
                 without --resume",
                path.display()
            )));
        }
        read.duplicates += group.len() - 1;
        read.runs.push(first.clone());
    }
    Ok(read)
}

/// Sorts runs by index and checks that they are exactly `wanted` (no gaps, no duplicates).
pub(super) fn exactly(
    mut runs: Vec<RunOutcome>,
    wanted: &[u32],
    what: &str,
) -> Result<Vec<RunOutcome>, McError> {
    runs.sort_by_key(|r| r.run);
    let got: Vec<u32> = runs.iter().map(|r| r.run).collect();
    if let Some(w) = got.windows(2).find(|w| w[0] == w[1]) {
        return Err(McError::Input(format!("{what}: run {} appears more than once", w[0])));
    }
    if got != wanted {
        let missing: Vec<String> =
            wanted.iter().filter(|r| got.binary_search(r).is_err()).take(10).map(u32::to_string).collect();
        let extra: Vec<String> =
            got.iter().filter(|r| wanted.binary_search(r).is_err()).take(10).map(u32::to_string).collect();
        return Err(McError::Input(format!(
            "{what}: runs do not match the Monte Carlo (missing: [{}], unexpected: [{}])",
            missing.join(", "),
            extra.join(", ")
        )));
    }
    Ok(runs)
}

pub(super) fn write_manifest(dir: &Path, m: &Manifest) -> Result<(), McError> {
    let json = serde_json::to_string_pretty(m).unwrap_or_default();
    report::write_atomic(&dir.join(MANIFEST), |w| writeln!(w, "{json}"))?;
    Ok(())
}

pub(super) fn write_journal(dir: &Path, runs: &[RunOutcome]) -> Result<(), McError> {
    report::write_atomic(&dir.join(JOURNAL), |w| {
        for r in runs {
            w.write_all(&encode(r))?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_partition() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "1", "a/3", "0/0", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let m = Manifest {
            format: FORMAT,
            scenario: "s".into(),
            scenario_hash: "h".into(),
            scenario_meaning: "m".into(),
            master_seed: 1,
            runs: 10,
            start_price: 1.0,
            watch_levels: vec![],
            path_minutes: 1.0,
            shard: None,
        };
        let mut all: Vec<u32> = (0..3)
            .flat_map(|k| Manifest { shard: Some(Shard { index: k, count: 3 }), ..m.clone() }.wanted())
            .collect();
        all.sort_unstable();
        assert_eq!(all, m.wanted());
    }

    #[test]
    fn a_record_line_is_json_with_its_checksum_last_and_any_change_is_caught() {
        let dir = std::env::temp_dir().join(format!("liqsim-journal-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let rec: RunOutcome = serde_json::from_str(
            r#"{"run":3,"seed":9,"ticks":60,"final_price":1.0,"max_price":1.0,"min_price":1.0,"max_mark":1.0,
            "min_mark":1.0,"liquidated_accounts_long":0,"liquidated_accounts_short":0,"liquidated_notional_long":0.0,
            "liquidated_notional_short":0.0,"cascade_count":0,"largest_cascade_usd":0.0,"insurance_fund_min":1.0,
            "insurance_fund_final":1.0,"adl_count":0,"hunter_pnl":0.0,"max_drawdown_pct":0.0,"max_runup_pct":0.0,
            "events":5,"final_state_hash":"ab","levels":[],"path":[1.0]}"#,
        )
        .unwrap();
        let line = encode(&rec);
        let text = std::str::from_utf8(&line).unwrap();
        assert!(text.ends_with("\"}\n") && text.contains(",\"crc32\":\""), "{text}");
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["run"], 3, "still one JSON object a line");
        assert_eq!(decode(&line[..line.len() - 1]), Ok((rec.clone(), true)));
        // One digit changed: the checksum no longer holds.
        let edited = text.replacen("\"events\":5", "\"events\":6", 1);
        assert!(decode(edited.trim_end().as_bytes()).unwrap_err().starts_with("checksum mismatch"));
        // A line without a checksum is read as format 1's, and refused where checksums are due.
        let plain = serde_json::to_string(&rec).unwrap();
        assert_eq!(decode(plain.as_bytes()), Ok((rec.clone(), false)));
        fs::write(dir.join(JOURNAL), format!("{plain}\n")).unwrap();
        assert_eq!(read_journal(&dir, false).unwrap().runs, vec![rec.clone()]);
        let strict = read_journal(&dir, true).unwrap();
        assert!(strict.runs.is_empty() && strict.dropped == ["line 1: no checksum"], "{strict:?}");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn differences_name_the_changed_fields() {
        let a = r#"{"seed":1,"map":{"bands":[{"notional_usd":1.0},{"notional_usd":2.0}]},"name":"x"}"#;
        let b = r#"{"seed":1,"map":{"bands":[{"notional_usd":1.0},{"notional_usd":3.0}]},"name":"y"}"#;
        assert_eq!(differences(a, b, 5), ["map.bands[1].notional_usd: 2.0 → 3.0", "name: \"x\" → \"y\""]);
        assert!(differences(a, a, 5).is_empty());
        assert_eq!(meaning(a), meaning(a));
        assert_ne!(meaning(a), meaning(b));
    }
}
