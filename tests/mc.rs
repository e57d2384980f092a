//! Monte Carlo, sharding, merging, resuming and sweeps, through the built binary: outputs are
//! byte-identical whatever the thread count, sharding or interruptions, and bad input exits 2
//! with where and what.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn liqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liqsim")).args(args).output().expect("liqsim runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("liqsim-mc-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "exit {:?}: {}", o.status.code(), stderr(&o));
    o
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A small world (500 map accounts, 20 minutes) that moves enough to liquidate on both sides.
const SMALL: &str = r#"(
    name: "small",
    seed: 7,
    horizon: "20m",
    map: (
        bands: [
            (side: Short, liq_low_usd: 72500.0, liq_high_usd: 76000.0, notional_usd: 1.4e9, shape: Rising,
             leverage: [(leverage: 5, weight: 1.0), (leverage: 10, weight: 1.0)], accounts: 300),
            (side: Long, liq_low_usd: 67000.0, liq_high_usd: 70500.0, notional_usd: 0.1e9, shape: Rising,
             leverage: [(leverage: 10, weight: 1.0), (leverage: 20, weight: 1.0)], accounts: 200),
        ],
        counterparty_leverage: 1,
    ),
    index: (volatility_pct_per_hour: 3.0),
    watch_levels: [72000.0, 71000.0],
    outputs: (pictures: false, event_log: false),
    monte_carlo: (runs: 12),
    SWEEP
)"#;

fn scenario(dir: &Path, sweep: &str) -> PathBuf {
    let path = dir.join("small.ron");
    std::fs::write(&path, SMALL.replace("SWEEP", sweep)).unwrap();
    path
}

fn mc(file: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["mc", s(file), "--out", s(out), "--quiet"];
    args.extend_from_slice(extra);
    liqsim(&args)
}

const FINAL: [&str; 3] = ["outcomes.csv", "summary.json", "runs.jsonl"];

fn same_outputs(a: &Path, b: &Path) {
    for f in FINAL {
        assert!(
            read(&a.join(f)) == read(&b.join(f)),
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn thread_count_does_not_change_a_byte() {
    let dir = temp_dir("threads");
    let file = scenario(&dir, "");
    let (one, two) = (dir.join("t1"), dir.join("t2"));
    ok(mc(&file, &one, &["--threads", "1"]));
    let r = ok(liqsim(&["mc", s(&file), "--out", s(&two), "--threads", "2"]));
    same_outputs(&one, &two);
    // The table on stdout, and every output.
    let table = String::from_utf8_lossy(&r.stdout).into_owned();
    for needle in ["p50", "squeeze_up", "touch_72000", "Wilson"] {
        assert!(table.contains(needle), "{needle} not in {table}");
    }
    for f in ["fan.png", "fan.svg", "hist_final_price.png", "hist_liquidated_short.png", "mc.json"] {
        assert!(two.join(f).is_file(), "{f} missing");
    }
    let csv = String::from_utf8(read(&one.join("outcomes.csv"))).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    for col in [
        "run",
        "seed",
        "final_price",
        "max_price",
        "min_price",
        "liquidated_notional_long",
        "liquidated_notional_short",
        "liquidated_accounts_long",
        "max_drawdown_pct",
        "max_runup_pct",
        "largest_cascade_usd",
        "insurance_fund_min",
        "adl_count",
        "hunter_pnl",
        "minutes_to_72000",
        "verdict_72000",
    ] {
        assert!(header.split(',').any(|c| c == col), "outcomes.csv lacks {col}: {header}");
    }
    let runs: Vec<&str> = lines.map(|l| l.split(',').next().unwrap()).collect();
    assert_eq!(runs, (0..12).map(|i| i.to_string()).collect::<Vec<_>>(), "one row per run, in run order");
    let summary: serde_json::Value = serde_json::from_slice(&read(&one.join("summary.json"))).unwrap();
    assert_eq!(summary["runs"], 12);
    assert!(summary["probabilities"].as_array().unwrap().iter().any(|p| p["name"] == "squeeze_up"));
    // The runs differ (different seeds), so the statistics are about something.
    let finals: std::collections::BTreeSet<&str> =
        csv.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert!(finals.len() > 3, "{finals:?}");
}

#[test]
fn shards_merge_into_the_single_process_outputs() {
    let dir = temp_dir("shards");
    let file = scenario(&dir, "");
    let whole = dir.join("whole");
    ok(mc(&file, &whole, &["--threads", "2"]));
    let shards: Vec<PathBuf> = (0..3).map(|k| dir.join(format!("shard{k}"))).collect();
    for (k, out) in shards.iter().enumerate() {
        ok(mc(&file, out, &["--shard", &format!("{k}/3"), "--threads", "1"]));
        let lines = String::from_utf8(read(&out.join("runs.jsonl"))).unwrap().lines().count();
        assert_eq!(lines, 4, "shard {k}/3 of 12 runs holds runs k, k+3, k+6, k+9");
    }
    let merged = dir.join("merged");
    let mut args = vec!["merge", "--out", s(&merged), "--quiet"];
    args.extend(shards.iter().map(|p| s(p)));
    ok(liqsim(&args));
    same_outputs(&whole, &merged);

    // Refusals: a gap, an overlap, a shard of another Monte Carlo, different shard counts.
    let m2 = dir.join("m2");
    let gap = liqsim(&["merge", "--out", s(&m2), s(&shards[0]), s(&shards[2])]);
    assert_eq!(gap.status.code(), Some(2), "{}", stderr(&gap));
    assert!(stderr(&gap).contains("missing shards 1/3"), "{}", stderr(&gap));
    let overlap =
        liqsim(&["merge", "--out", s(&m2), s(&shards[0]), s(&shards[1]), s(&shards[1]), s(&shards[2])]);
    assert_eq!(overlap.status.code(), Some(2));
    assert!(stderr(&overlap).contains("overlaps"), "{}", stderr(&overlap));
    let other = dir.join("other");
    ok(mc(&file, &other, &["--shard", "1/3", "--seed", "99"]));
    let mixed = liqsim(&["merge", "--out", s(&m2), s(&shards[0]), s(&other), s(&shards[2])]);
    assert_eq!(mixed.status.code(), Some(2));
    assert!(stderr(&mixed).contains("master seed 99"), "{}", stderr(&mixed));
    let halves = dir.join("half");
    ok(mc(&file, &halves, &["--shard", "1/2"]));
    let counts = liqsim(&["merge", "--out", s(&m2), s(&shards[0]), s(&halves)]);
    assert_eq!(counts.status.code(), Some(2));
    assert!(stderr(&counts).contains("different shard counts"), "{}", stderr(&counts));
    let other_file = dir.join("other.ron");
    std::fs::write(&other_file, SMALL.replace("SWEEP", "").replace("seed: 7", "seed: 8")).unwrap();
    let os = dir.join("other-scenario");
    ok(mc(&other_file, &os, &["--shard", "1/3", "--seed", "7"]));
    let scen = liqsim(&["merge", "--out", s(&m2), s(&shards[0]), s(&os), s(&shards[2])]);
    assert_eq!(scen.status.code(), Some(2));
    assert!(stderr(&scen).contains("not a shard of the same Monte Carlo"), "{}", stderr(&scen));
    // An unfinished shard: its last run is missing.
    let short = dir.join("short");
    ok(mc(&file, &short, &["--shard", "1/3"]));
    let journal = String::from_utf8(read(&short.join("runs.jsonl"))).unwrap();
    let kept: String = journal.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(short.join("runs.jsonl"), kept).unwrap();
    let unfinished = liqsim(&["merge", "--out", s(&m2), s(&shards[0]), s(&short), s(&shards[2])]);
    assert_eq!(unfinished.status.code(), Some(2));
    assert!(stderr(&unfinished).contains("missing: [10]"), "{}", stderr(&unfinished));
    assert!(stderr(&unfinished).contains("--resume"), "{}", stderr(&unfinished));
    assert!(!m2.join("summary.json").exists(), "a refused merge writes nothing");
    // A tampered manifest is bad input, not a crash.
    let tampered = dir.join("tampered");
    ok(mc(&file, &tampered, &["--shard", "1/3"]));
    let text = String::from_utf8(read(&tampered.join("mc.json"))).unwrap();
    std::fs::write(tampered.join("mc.json"), text.replace("\"count\": 3", "\"count\": 0")).unwrap();
    let bad = liqsim(&["merge", "--out", s(&m2), s(&tampered)]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(stderr(&bad).contains("impossible"), "{}", stderr(&bad));
    let nothing = liqsim(&["merge", "--out", s(&m2), s(&dir.join("nope"))]);
    assert_eq!(nothing.status.code(), Some(2));
}

#[test]
fn parquet_outcomes_are_the_same_bytes_whatever_the_threads_and_after_a_merge() {
    let dir = temp_dir("parquet");
    let file = scenario(&dir, "");
    let (one, two, csv_only) = (dir.join("t1"), dir.join("t2"), dir.join("csv"));
    ok(mc(&file, &one, &["--threads", "1", "--format", "parquet"]));
    ok(mc(&file, &two, &["--threads", "2", "--format", "parquet"]));
    ok(mc(&file, &csv_only, &["--threads", "2"]));
    let shards: Vec<PathBuf> = (0..2).map(|k| dir.join(format!("shard{k}"))).collect();
    for (k, out) in shards.iter().enumerate() {
        ok(mc(&file, out, &["--shard", &format!("{k}/2")]));
    }
    let merged = dir.join("merged");
    ok(liqsim(&[
        "merge",
        "--out",
        s(&merged),
        "--quiet",
        "--format",
        "parquet",
        s(&shards[0]),
        s(&shards[1]),
    ]));
    let parquet = read(&one.join("outcomes.parquet"));
    assert!(parquet.starts_with(b"PAR1") && parquet.ends_with(b"PAR1"), "not a Parquet file");
    assert!(parquet == read(&two.join("outcomes.parquet")), "the thread count changed outcomes.parquet");
    assert!(parquet == read(&merged.join("outcomes.parquet")), "merge changed outcomes.parquet");
    // The CSV is always written, and the same as without Parquet.
    for d in [&one, &two, &merged] {
        same_outputs(&csv_only, d);
    }
    assert!(!csv_only.join("outcomes.parquet").exists());
    // A fresh Monte Carlo into the folder without Parquet leaves no stale copy.
    ok(mc(&file, &two, &["--threads", "2"]));
    assert!(!two.join("outcomes.parquet").exists(), "an old outcomes.parquet outlived its Monte Carlo");
}

#[test]
fn an_interrupted_mc_resumes_to_the_same_bytes() {
    let dir = temp_dir("resume");
    let file = scenario(&dir, "");
    let whole = dir.join("whole");
    ok(mc(&file, &whole, &[]));
    // An interruption: the journal holds 5 finished runs, in finishing order, and half a line
    // being written when the process died.
    let part = dir.join("part");
    std::fs::create_dir_all(&part).unwrap();
    std::fs::copy(whole.join("mc.json"), part.join("mc.json")).unwrap();
    let journal = String::from_utf8(read(&whole.join("runs.jsonl"))).unwrap();
    let lines: Vec<&str> = journal.lines().collect();
    let mut cut: String =
        [lines[7], lines[2], lines[0], lines[9], lines[4]].iter().map(|l| format!("{l}\n")).collect();
    cut.push_str(&lines[5][..lines[5].len() / 2]);
    std::fs::write(part.join("runs.jsonl"), cut).unwrap();
    ok(mc(&file, &part, &["--resume", "--threads", "2"]));
    same_outputs(&whole, &part);
    // Resuming a finished Monte Carlo computes nothing and changes nothing.
    let r = ok(liqsim(&["mc", s(&file), "--out", s(&part), "--resume"]));
    same_outputs(&whole, &part);
    assert!(String::from_utf8_lossy(&r.stdout).contains("squeeze_up"));
    // A folder of another Monte Carlo is not resumed, and the message says what differs.
    let clash = mc(&file, &part, &["--resume", "--seed", "8"]);
    assert_eq!(clash.status.code(), Some(2));
    assert!(stderr(&clash).contains("holds another Monte Carlo"), "{}", stderr(&clash));
    assert!(stderr(&clash).contains("master seed 7, now 8"), "{}", stderr(&clash));
    // A corrupt line in the middle of the journal is reported and its run computed again; the
    // records around it are kept.
    std::fs::write(part.join("runs.jsonl"), format!("{}\nnot json\n{}\n", lines[0], lines[1])).unwrap();
    let corrupt = mc(&file, &part, &["--resume"]);
    assert!(corrupt.status.success(), "{}", stderr(&corrupt));
    assert!(stderr(&corrupt).contains("dropped line 2: not a run record"), "{}", stderr(&corrupt));
    same_outputs(&whole, &part);
}

/// The journal's lines, and the run each holds.
fn journal(dir: &Path) -> Vec<String> {
    String::from_utf8(read(&dir.join("runs.jsonl"))).unwrap().lines().map(str::to_owned).collect()
}

#[test]
fn a_damaged_journal_keeps_every_intact_record_and_recomputes_only_the_rest() {
    let dir = temp_dir("damaged");
    let file = scenario(&dir, "");
    let whole = dir.join("whole");
    ok(mc(&file, &whole, &[]));
    let lines = journal(&whole);
    assert!(lines.iter().all(|l| l.ends_with("\"}") && l.contains(",\"crc32\":\"")), "checksummed");
    let part = dir.join("part");
    let copy = || {
        let _ = std::fs::remove_dir_all(&part);
        std::fs::create_dir_all(&part).unwrap();
        for f in ["mc.json", "scenario.json"] {
            std::fs::copy(whole.join(f), part.join(f)).unwrap();
        }
    };
    // In the middle: a number edited by hand (its checksum no longer holds), a line repeated,
    // a line cut short; and a torn last line.
    copy();
    let edited = lines[3].replacen("\"ticks\":1200", "\"ticks\":1201", 1);
    assert_ne!(edited, lines[3]);
    let text = format!(
        "{}\n{}\n{}\n{edited}\n{}\n{}\n{}\n{}\n{}",
        lines[0],
        lines[1],
        lines[2],
        lines[4],
        lines[4],
        &lines[5][..40],
        lines[6],
        &lines[7][..lines[7].len() - 9]
    );
    std::fs::write(part.join("runs.jsonl"), text).unwrap();
    let r = ok(mc(&file, &part, &["--resume"]));
    let err = stderr(&r);
    for said in [
        "line 4: checksum mismatch",
        "line 7: not a run record",
        "line 9: a torn last line",
        "collapsed 1 identical repeated record",
        "kept 5 intact record(s)",
        "computing the missing runs: 3, 5, 7, 8, 9, 10, 11",
    ] {
        assert!(err.contains(said), "{said:?} not in {err}");
    }
    same_outputs(&whole, &part);
    let saved = String::from_utf8(read(&part.join("runs.jsonl.dropped"))).unwrap();
    assert_eq!(saved.lines().count(), 3, "the dropped lines are kept for inspection: {saved}");
    // The same run recorded twice with different outcomes (both lines intact): refused, and the
    // journal is left as it was.
    copy();
    let other = journal(&whole)[1].clone();
    let run0_again = other.replacen("\"run\":1,", "\"run\":0,", 1);
    // Re-checksum the forged line as liqsim would, so only the clash can refuse it.
    let body = format!("{}}}", &run0_again[..run0_again.len() - 20]);
    let forged =
        format!("{},\"crc32\":\"{:08x}\"}}", &body[..body.len() - 1], crc32fast::hash(body.as_bytes()));
    let text = format!("{}\n{forged}\n", lines[0]);
    std::fs::write(part.join("runs.jsonl"), &text).unwrap();
    let r = mc(&file, &part, &["--resume"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("run 0 is recorded twice with different outcomes (lines 1 and 2)"),
        "{}",
        stderr(&r)
    );
    assert_eq!(read(&part.join("runs.jsonl")), text.as_bytes());
    // --resume where mc.json is missing: refused, the journal untouched.
    std::fs::remove_file(part.join("mc.json")).unwrap();
    let r = mc(&file, &part, &["--resume"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("no mc.json"), "{}", stderr(&r));
    assert_eq!(read(&part.join("runs.jsonl")), text.as_bytes());
}

#[test]
fn resume_extends_a_finished_monte_carlo_and_follows_meaning_not_bytes() {
    let dir = temp_dir("extend");
    let file = scenario(&dir, "");
    let (eight, twelve) = (dir.join("eight"), dir.join("twelve"));
    ok(mc(&file, &twelve, &["--runs", "12"]));
    ok(mc(&file, &eight, &["--runs", "8"]));
    // The same scenario reformatted and commented: the same meaning, so it resumes; 12 runs
    // extend the 8, byte-identical to asking for 12 at the start.
    let text = std::fs::read_to_string(&file).unwrap();
    let reformatted = dir.join("reformatted.ron");
    std::fs::write(
        &reformatted,
        format!("// the same world, laid out again\n{}", text.replace("    ", "\t")),
    )
    .unwrap();
    let r = ok(mc(&reformatted, &eight, &["--resume", "--runs", "12"]));
    assert!(stderr(&r).contains("extending the Monte Carlo from 8 to 12 runs"), "{}", stderr(&r));
    same_outputs(&twelve, &eight);
    for f in ["mc.json", "scenario.json", "fan.svg"] {
        assert!(read(&twelve.join(f)) == read(&eight.join(f)), "{f}");
    }
    // Without --runs a resume keeps the folder's count; fewer runs are refused.
    ok(mc(&file, &eight, &["--resume"]));
    same_outputs(&twelve, &eight);
    let fewer = mc(&file, &eight, &["--resume", "--runs", "5"]);
    assert_eq!(fewer.status.code(), Some(2));
    assert!(stderr(&fewer).contains("can extend it (more runs) but not cut it"), "{}", stderr(&fewer));
    // A changed parameter is named.
    let changed = dir.join("changed.ron");
    std::fs::write(&changed, text.replace("volatility_pct_per_hour: 3.0", "volatility_pct_per_hour: 3.5"))
        .unwrap();
    let r = mc(&changed, &eight, &["--resume"]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("index.volatility_pct_per_hour: 3.0 → 3.5"), "{}", stderr(&r));
}

#[test]
fn a_killed_mc_keeps_its_finished_runs() {
    let dir = temp_dir("kill");
    let file = scenario(&dir, "");
    let whole = dir.join("whole");
    ok(mc(&file, &whole, &["--runs", "40"]));
    let part = dir.join("part");
    let mut child = Command::new(env!("CARGO_BIN_EXE_liqsim"))
        .args(["mc", s(&file), "--out", s(&part), "--quiet", "--runs", "40", "--threads", "1"])
        .spawn()
        .unwrap();
    // Kill it once a few runs are journalled (or let it finish if this machine is quick).
    let journal = part.join("runs.jsonl");
    for _ in 0..2_000 {
        let n = std::fs::read(&journal).map(|b| b.iter().filter(|&&c| c == b'\n').count()).unwrap_or(0);
        if n >= 3 || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    ok(mc(&file, &part, &["--resume", "--runs", "40"]));
    same_outputs(&whole, &part);
}

#[test]
fn kept_logs_replay_to_each_runs_state() {
    let dir = temp_dir("logs");
    let file = scenario(&dir, "");
    let out = dir.join("o");
    ok(mc(&file, &out, &["--runs", "2", "--keep-logs"]));
    let csv = String::from_utf8(read(&out.join("outcomes.csv"))).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|c| *c == "final_state_hash").unwrap();
    for (i, line) in csv.lines().skip(1).enumerate() {
        let hash = line.split(',').nth(col).unwrap();
        let log = out.join("logs").join(format!("run-{i:06}.events.log"));
        ok(liqsim(&["replay", s(&log), "--expect", hash]));
    }
}

#[test]
fn a_sweep_runs_a_monte_carlo_per_cell() {
    let dir = temp_dir("sweep");
    let file = scenario(
        &dir,
        r#"sweep: Some((axes: [
            (parameter: "map.imbalance", values: [1.0, 14.0]),
            (parameter: "hunters.mode", values: ["none", "up"]),
            (parameter: "map.max_leverage", values: [5.0]),
        ])),"#,
    );
    let out = dir.join("sw");
    let r = ok(liqsim(&["sweep", s(&file), "--out", s(&out), "--runs", "3", "--threads", "2"]));
    let table = String::from_utf8_lossy(&r.stdout).into_owned();
    assert!(table.contains("P(squeeze up)"), "{table}");
    let csv = String::from_utf8(read(&out.join("sweep.csv"))).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("cell,map.imbalance,hunters.mode,map.max_leverage,runs,p_squeeze_up"),
        "{header}"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[1].starts_with("1,1,up,5,3,"), "{}", rows[1]);
    assert!(rows[3].starts_with("3,14,up,5,3,"), "{}", rows[3]);
    assert!(out.join("heatmap_p_squeeze_up.png").is_file());
    assert!(out.join("cell-003").join("outcomes.csv").is_file());
    // The same sweep again, resumed: nothing changes.
    ok(liqsim(&["sweep", s(&file), "--out", s(&out), "--runs", "3", "--resume", "--quiet"]));
    assert_eq!(String::from_utf8(read(&out.join("sweep.csv"))).unwrap(), csv);
}

#[test]
fn bad_mc_and_sweep_input_exits_2_with_where_and_what() {
    let dir = temp_dir("bad");
    let file = scenario(&dir, "");
    let out = dir.join("o");
    for (args, needle) in [
        (vec!["--shard", "3/3"], "--shard"),
        (vec!["--shard", "x"], "--shard"),
        (vec!["--threads", "0"], "--threads"),
        (vec!["--runs", "0"], "--runs"),
    ] {
        let r = mc(&file, &out, &args);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains(needle), "{args:?}: {}", stderr(&r));
    }
    // No sweep grid, an unknown parameter, a bad value, an unknown metric.
    let r = liqsim(&["sweep", s(&file), "--out", s(&out)]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("no sweep grid"), "{}", stderr(&r));
    for (sweep, needle) in [
        (
            r#"sweep: Some((axes: [(parameter: "map.imbalance", values: [2.0]), (parameter: "map.imbalanse", values: [1.0])])),"#,
            "sweep.axes[1].parameter",
        ),
        (
            r#"sweep: Some((axes: [(parameter: "hunters.mode", values: ["sideways"])])),"#,
            "sweep.axes[0].values[0]",
        ),
        (
            r#"sweep: Some((axes: [(parameter: "map.imbalance", values: [-1.0])])),"#,
            "sweep.axes[0].values[0]",
        ),
        (
            r#"sweep: Some((axes: [(parameter: "map.max_leverage", values: [2.5])])),"#,
            "sweep.axes[0].values[0]",
        ),
        (r#"sweep: Some((axes: [])),"#, "sweep.axes"),
    ] {
        let f = scenario(&dir, sweep);
        let r = liqsim(&["sweep", s(&f), "--out", s(&out)]);
        assert_eq!(r.status.code(), Some(2), "{sweep}: {}", stderr(&r));
        assert!(stderr(&r).contains(needle), "{sweep}: {}", stderr(&r));
        let v = liqsim(&["validate", s(&f)]);
        assert_eq!(v.status.code(), Some(2), "validate catches it too");
    }
    let f = scenario(&dir, r#"sweep: Some((axes: [(parameter: "map.imbalance", values: [2.0])])),"#);
    let r = liqsim(&["sweep", s(&f), "--out", s(&out), "--metric", "p_nothing"]);
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("--metric"), "{}", stderr(&r));
    assert!(!out.join("cell-000").exists(), "nothing runs before the metric is checked");
}

#[test]
fn a_folder_of_format_1_resumes_and_is_rewritten_in_format_2() {
    let dir = temp_dir("format1");
    let file = scenario(&dir, "");
    let whole = dir.join("whole");
    ok(mc(&file, &whole, &[]));
    // What an older liqsim wrote: no meaning, no canonical form, no checksums; 5 runs done.
    let old = dir.join("old");
    std::fs::create_dir_all(&old).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&read(&whole.join("mc.json"))).unwrap();
    manifest["format"] = 1.into();
    manifest.as_object_mut().unwrap().remove("scenario_meaning");
    std::fs::write(old.join("mc.json"), serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
    let plain: String = journal(&whole)
        .iter()
        .take(5)
        .map(|l| format!("{}}}\n", &l[..l.len() - ",\"crc32\":\"01234567\"}".len()]))
        .collect();
    assert!(!plain.contains("crc32"));
    std::fs::write(old.join("runs.jsonl"), plain).unwrap();
    ok(mc(&file, &old, &["--resume"]));
    same_outputs(&whole, &old);
    for f in ["mc.json", "scenario.json"] {
        assert!(read(&whole.join(f)) == read(&old.join(f)), "{f}");
    }
}

#[test]
fn compare_puts_monte_carlo_folders_and_runs_side_by_side() {
    let dir = temp_dir("compare");
    let file = scenario(&dir, "");
    let (a, b) = (dir.join("a"), dir.join("b"));
    ok(mc(&file, &a, &["--seed", "1"]));
    ok(mc(&file, &b, &["--seed", "2", "--runs", "10"]));
    let out = dir.join("cmp");
    let r = ok(liqsim(&["compare", s(&a), s(&b), "--out", s(&out)]));
    let text = String::from_utf8_lossy(&r.stdout).into_owned();
    for needle in [
        "2 Monte Carlo folders",
        "12 runs, master seed 1",
        "10 runs, master seed 2",
        "B − A",
        "final_price",
        "touch_72000",
        "Newcombe",
        "bootstrap",
    ] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    let written = String::from_utf8(read(&out.join("compare.txt"))).unwrap();
    assert!(text.starts_with(&written), "compare.txt is what was printed");
    let csv = String::from_utf8(read(&out.join("compare.csv"))).unwrap();
    assert!(csv.starts_with("kind,name,label,folder,value,lo,hi,interval\n"), "{csv}");
    for kind in ["outcome", "outcome_diff", "probability", "probability_diff"] {
        assert!(csv.lines().any(|l| l.starts_with(&format!("{kind},"))), "no {kind} row in {csv}");
    }
    // Every difference lies in its interval.
    for l in csv.lines().filter(|l| l.starts_with("outcome_diff,") || l.starts_with("probability_diff,")) {
        let c: Vec<&str> = l.split(',').collect();
        let (v, lo, hi): (f64, f64, f64) =
            (c[4].parse().unwrap(), c[5].parse().unwrap(), c[6].parse().unwrap());
        assert!(lo <= v && v <= hi, "{l}");
    }
    for f in ["fan.png", "hist_final_price.png", "hist_max_price.png"] {
        assert!(read(&out.join(f)).starts_with(b"\x89PNG"), "{f}");
    }
    // The same folders, the same bytes (the bootstrap's stream is seeded).
    let again = dir.join("cmp2");
    ok(liqsim(&["compare", s(&a), s(&b), "--out", s(&again), "--quiet"]));
    for f in ["compare.txt", "compare.csv", "fan.png"] {
        assert!(read(&out.join(f)) == read(&again.join(f)), "{f} differs between two comparisons");
    }

    // Two runs: headline numbers, levels and the overlaid price chart.
    let (ra, rb) = (dir.join("ra"), dir.join("rb"));
    ok(liqsim(&["run", s(&file), "--out", s(&ra), "--quiet"]));
    ok(liqsim(&["run", s(&file), "--seed", "9", "--out", s(&rb), "--quiet"]));
    // Into the folder of the Monte Carlo comparison: its files go, the run comparison's come.
    let rout = dir.join("cmp");
    let r = ok(liqsim(&["compare", s(&ra), s(&rb), "--out", s(&rout)]));
    assert!(
        !rout.join("fan.png").exists() && !rout.join("hist_final_price.png").exists(),
        "stale pictures stay"
    );
    let text = String::from_utf8_lossy(&r.stdout).into_owned();
    for needle in ["2 runs", "small, seed 7", "small, seed 9", "final_price", "watch level", "72,000"] {
        assert!(text.contains(needle), "{needle} not in {text}");
    }
    assert!(read(&rout.join("price.png")).starts_with(b"\x89PNG"));
    assert!(
        String::from_utf8(read(&rout.join("compare.csv"))).unwrap().contains("\nrun_diff,final_price,B-A,")
    );

    // Refusals: exit 2, naming the folder and what is wrong.
    let bad = |args: &[&str], needle: &str| {
        let o = liqsim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {needle} not in {}", stderr(&o));
    };
    let x = dir.join("x");
    bad(&["compare", s(&a), s(&ra), "--out", s(&x)], "compare runs with runs");
    bad(&["compare", s(&a), s(&dir.join("nowhere")), "--out", s(&x)], "nowhere: no such folder");
    bad(&["compare", s(&a), "--out", s(&x)], "compare");
    // Into a folder being compared, or any run or Monte Carlo folder: its pictures would go.
    let fan = read(&a.join("fan.png"));
    bad(&["compare", s(&a), s(&b), "--out", s(&a)], "is a run or Monte Carlo folder");
    bad(&["compare", s(&ra), s(&rb), "--out", s(&ra)], "is a run or Monte Carlo folder");
    assert_eq!(read(&a.join("fan.png")), fan, "the input's fan chart is untouched");
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    bad(&["compare", s(&a), s(&dir.join("empty")), "--out", s(&x)], "neither a run folder");
    let shard = dir.join("shard");
    ok(mc(&file, &shard, &["--shard", "0/2"]));
    bad(&["compare", s(&a), s(&shard), "--out", s(&x)], "merge the shards first");
    std::fs::remove_file(rb.join("ticks.csv")).unwrap();
    bad(&["compare", s(&ra), s(&rb), "--out", s(&x)], "ticks.csv");
    let cut = dir.join("cut");
    std::fs::create_dir_all(&cut).unwrap();
    for f in ["mc.json", "scenario.json"] {
        std::fs::copy(a.join(f), cut.join(f)).unwrap();
    }
    let journal = String::from_utf8(read(&a.join("runs.jsonl"))).unwrap();
    std::fs::write(
        cut.join("runs.jsonl"),
        journal.lines().take(5).map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
    bad(&["compare", s(&a), s(&cut), "--out", s(&x)], "holds 5 of its 12 runs");
    assert!(!x.join("compare.txt").exists(), "nothing written on refusal");
}
