//! Runs the built `liqsim` binary the way a user would.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn liqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liqsim")).args(args).output().expect("liqsim runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("liqsim-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn demo(out: &Path, seed: &str) -> Output {
    let o = liqsim(&["demo", "--seed", seed, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "demo failed: {}", String::from_utf8_lossy(&o.stderr));
    o
}

fn state_hash(o: &Output) -> String {
    stdout(o).lines().find_map(|l| l.trim().strip_prefix("final state hash")).unwrap().trim().to_string()
}

#[test]
fn demo_liquidates_shorts_and_its_log_replays_to_the_same_state() {
    let dir = temp_dir("demo");
    let o = demo(&dir, "42");
    let text = stdout(&o);
    assert!(text.contains("replay                   same state hash"), "{text}");
    let liquidated: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("shorts liquidated"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(liquidated > 0, "the push should liquidate shorts:\n{text}");
    let hash = state_hash(&o);
    let log = dir.join("events.log");
    let r = liqsim(&["replay", log.to_str().unwrap(), "--expect", &hash]);
    assert!(r.status.success());
    assert_eq!(stdout(&r).trim(), hash);
    let wrong = liqsim(&["replay", log.to_str().unwrap(), "--expect", "00"]);
    assert_eq!(wrong.status.code(), Some(1));
}

#[test]
fn same_seed_gives_identical_log_bytes_and_another_seed_does_not() {
    let (a, b, c) = (temp_dir("det-a"), temp_dir("det-b"), temp_dir("det-c"));
    demo(&a, "7");
    demo(&b, "7");
    demo(&c, "8");
    let read = |d: &Path| std::fs::read(d.join("events.log")).unwrap();
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));
}

#[test]
fn truncated_or_corrupt_logs_are_clear_errors() {
    let dir = temp_dir("corrupt");
    demo(&dir, "42");
    let log = dir.join("events.log");
    let bytes = std::fs::read(&log).unwrap();
    let cut = dir.join("cut.log");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = liqsim(&["replay", cut.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("truncated at byte offset"), "{err}");
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 3;
    flipped[mid] ^= 0xff;
    let bad = dir.join("bad.log");
    std::fs::write(&bad, &flipped).unwrap();
    let o = liqsim(&["replay", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("offset"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn export_writes_csv_and_filtered_jsonl() {
    let dir = temp_dir("export");
    demo(&dir, "42");
    let log = dir.join("events.log");
    let csv = liqsim(&["events", "export", log.to_str().unwrap(), "--format", "csv"]);
    assert!(csv.status.success());
    let text = stdout(&csv);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("seq,tick,cause,type,account"), "{header}");
    let width = header.split(',').count();
    assert!(lines.all(|l| l.split(',').count() == width));
    let jsonl =
        liqsim(&["events", "export", log.to_str().unwrap(), "--format", "jsonl", "--kind", "liquidation"]);
    assert!(jsonl.status.success());
    let text = stdout(&jsonl);
    assert!(text.lines().count() > 0);
    assert!(
        text.lines().all(|l| l.contains("\"type\":\"Liquidat") || l.contains("\"type\":\"AutoDeleveraged\""))
    );
    let bad = liqsim(&["events", "export", log.to_str().unwrap(), "--kind", "nonsense"]);
    assert_eq!(bad.status.code(), Some(1));
}
