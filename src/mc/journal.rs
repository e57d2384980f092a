//! A Monte Carlo folder on disk: `mc.json`, the [`Manifest`] of what is computed (scenario hash,
//! master seed, run count, shard), and `runs.jsonl`, the journal of finished runs, one
//! [`RunOutcome`] a line. Journal lines are written whole and flushed to disk one by one (see
//! [`run_mc`](super::run_mc)); reading drops a torn last line, so an interrupted Monte Carlo can
//! resume, and `exactly` checks that a set of runs is the one a folder (or a merge) should hold.

use super::{McError, RunOutcome, io_err};
use crate::report;
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

/// Version of the folder format (`mc.json`, `runs.jsonl`).
pub const FORMAT: u32 = 1;

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
    pub scenario_hash: String,
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
    if m.format != FORMAT {
        return Err(McError::Input(format!(
            "{}: format {} is not the {FORMAT} this liqsim reads",
            path.display(),
            m.format
        )));
    }
    Ok(m)
}

/// Reads a folder's journal: the finished runs, in the order they finished. A torn last line
/// (the process was killed while writing it) is dropped and cut from the file.
pub fn read_journal(dir: &Path) -> Result<Vec<RunOutcome>, McError> {
    let path = dir.join(JOURNAL);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(McError::Io { path, source: e }),
    };
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut out = Vec::new();
    for (n, line) in bytes[..complete].split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        let rec: RunOutcome = serde_json::from_slice(line)
            .map_err(|e| McError::Input(format!("{}: line {}: {e}", path.display(), n + 1)))?;
        out.push(rec);
    }
    if complete < bytes.len() {
        let f = OpenOptions::new().write(true).open(&path).map_err(io_err(&path))?;
        f.set_len(complete as u64).map_err(io_err(&path))?;
        f.sync_all().map_err(io_err(&path))?;
    }
    Ok(out)
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
            serde_json::to_writer(&mut *w, r)?;
            w.write_all(b"\n")?;
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
}
