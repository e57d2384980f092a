//! Runs the built `liqsim` binary the way a user would: every bundled scenario, replay and
//! verification, exports, the margin calculator, and a catalogue of bad input.

mod common;

use common::{bundled_names, with_horizon};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn liqsim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_liqsim")).args(args).output().expect("liqsim runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("liqsim-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A bundled scenario cut to a short horizon, written into `dir` with the heatmap exports a
/// scenario may read beside it (`maps/`).
fn short_copy(name: &str, dir: &Path, horizon: &str) -> PathBuf {
    let text = std::fs::read_to_string(Path::new("scenarios").join(name)).unwrap();
    let cut = with_horizon(&text, horizon);
    let path = dir.join(name.replace('/', "-"));
    std::fs::write(&path, cut).unwrap();
    std::fs::create_dir_all(dir.join("maps")).unwrap();
    for e in std::fs::read_dir("scenarios/maps").unwrap() {
        let e = e.unwrap().path();
        std::fs::copy(&e, dir.join("maps").join(e.file_name().unwrap())).unwrap();
    }
    path
}

#[test]
fn every_bundled_scenario_validates_and_runs() {
    let names = bundled_names();
    assert!(names.iter().any(|n| n == "btc_14_to_1.ron"));
    for name in &names {
        let v = liqsim(&["validate", &format!("scenarios/{name}")]);
        assert!(v.status.success(), "{name}: {}", stderr(&v));
        let dir = temp_dir(&format!("bundled-{}", name.replace('/', "-")));
        // The history set's news comes later than ten minutes in: its selling ends at 00:40.
        let horizon = if name.starts_with("history/") { "45m" } else { "10m" };
        let file = short_copy(name, &dir, horizon);
        let out = dir.join("out");
        let r = liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]);
        assert!(r.status.success(), "{name}: {}", stderr(&r));
        assert!(stdout(&r).is_empty(), "--quiet prints nothing");
        for f in ["summary.json", "ticks.csv", "heatmap.csv"] {
            assert!(out.join(f).is_file(), "{name}: {f} missing");
        }
        // The event log is written exactly when the scenario asks for it.
        let scenario = liqsim::scenario::load(Path::new(&format!("scenarios/{name}"))).unwrap().scenario;
        assert_eq!(out.join("events.log").is_file(), scenario.outputs.event_log, "{name}: events.log");
        // Volume and open interest are counted, and named, in the contract's asset.
        let ticks = std::fs::read_to_string(out.join("ticks.csv")).unwrap();
        let asset = scenario.market.instrument.asset().to_lowercase();
        let header = ticks.lines().next().unwrap();
        assert!(header.contains(&format!(",volume_{asset},open_interest_{asset},")), "{name}: {header}");
    }
}

#[test]
fn hunting_makers_report_as_hunters_and_their_estimated_map_is_drawn_beside_the_true_one() {
    let dir = temp_dir("maker-hunt");
    let file = short_copy("maker_hunt.ron", &dir, "20m");
    let out = dir.join("out");
    let r = liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(out.join("belief.png").is_file(), "belief.png missing");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let hunters = summary["hunters"].as_array().unwrap();
    assert_eq!(hunters.len(), 2, "{hunters:?}");
    assert!(hunters.iter().all(|h| h["maker"] == true), "{hunters:?}");
    // The first starts at one minute and chooses a direction from what it believes.
    let first = &hunters[0]["campaigns"][0];
    assert!(first["direction"] == "Up" || first["direction"] == "Down", "{first:?}");
    // A run whose hunter reads the exact map draws no belief.
    let plain = short_copy("btc_14_to_1.ron", &dir, "2m");
    let out = dir.join("plain");
    let r = liqsim(&["run", s(&plain), "--out", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(out.join("map.png").is_file() && !out.join("belief.png").exists());
}

#[test]
fn a_run_writes_every_output_and_its_log_verifies() {
    let dir = temp_dir("run");
    let file = short_copy("btc_14_to_1.ron", &dir, "20m");
    let out = dir.join("out");
    let r = liqsim(&["run", s(&file), "--out", s(&out)]);
    assert!(r.status.success(), "{}", stderr(&r));
    let table = stdout(&r);
    assert!(table.contains("final state hash"), "{table}");
    // In a trader's words: the hunter's direction and PnL, each watch level's verdict, USD with
    // separators and clock times, never a long bare number (a tick, "904214121 USD").
    for needle in [
        "liqsim run: btc_14_to_1 (seed 42)",
        "  hunter            adaptive: pushed ",
        "; PnL ",
        "  watch levels      100,000 ",
        "  longs liquidated  $",
    ] {
        assert!(table.contains(needle), "{needle:?} not in\n{table}");
    }
    assert_eq!(table.matches("not touched").count() + table.matches("touched at ").count(), 6, "{table}");
    for line in table.lines().filter(|l| !l.contains("state hash") && !l.contains("outputs")) {
        let bare = line.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() >= 5);
        assert!(!bare, "a number without separators in {line:?}");
        // Times are clocks: "tick" appears only in the tick length.
        assert!(!line.contains(" USD") && !line.replace("(ticks of ", "").contains("tick"), "{line:?}");
    }
    for f in [
        "summary.json",
        "ticks.csv",
        "levels.csv",
        "events.log",
        "heatmap.csv",
        "heatmap.png",
        "heatmap.svg",
        "price.png",
        "map.png",
        "map.svg",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    for key in [
        "seed",
        "scenario_hash",
        "final_state_hash",
        "start_price",
        "final_price",
        "max_price",
        "min_price",
        "liquidated_notional_long",
        "liquidated_notional_short",
        "liquidated_accounts_long",
        "liquidated_accounts_short",
        "cascades",
        "insurance_fund_min",
        "adl_count",
        "levels",
        "hunter_pnl",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(summary["start_price"].as_f64(), Some(71_450.0));
    let level = &summary["levels"][0];
    for key in ["price", "touched", "first_tick", "verdict"] {
        assert!(level.get(key).is_some(), "a level lacks {key}: {level}");
    }
    assert_eq!(level["price"].as_f64(), Some(85_000.0));
    let ticks = std::fs::read_to_string(out.join("ticks.csv")).unwrap();
    assert_eq!(ticks.lines().count(), 1 + 20 * 60, "a header and one row per tick");
    assert!(
        !std::fs::read_dir(&out).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".tmp"))
    );

    let log = out.join("events.log");
    let v = liqsim(&["replay", s(&log), "--verify"]);
    assert!(v.status.success(), "{}", stderr(&v));
    assert_eq!(stdout(&v).trim(), summary["final_state_hash"].as_str().unwrap());
    // --expect takes the hash or a prefix of 16 or more hex digits, in any case.
    let hash = summary["final_state_hash"].as_str().unwrap();
    for expect in [hash.to_string(), hash[..16].to_uppercase(), hash[..40].to_string()] {
        let e = liqsim(&["replay", s(&log), "--expect", &expect]);
        assert!(e.status.success(), "{expect}: {}", stderr(&e));
        assert!(stderr(&e).contains("verified"), "{}", stderr(&e));
    }
    let flipped = format!("{}{}", &hash[..15], if &hash[15..16] == "0" { "1" } else { "0" });
    let e = liqsim(&["replay", s(&log), "--expect", &flipped]);
    assert_eq!(e.status.code(), Some(1), "{}", stderr(&e));
    assert!(stderr(&e).contains("state hash mismatch"), "{}", stderr(&e));

    // A tampered log: one record's bytes changed (the checksum catches it), or a record dropped
    // and the footer rewritten would not verify either. Flip a byte in the middle.
    let mut bytes = std::fs::read(&log).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    let bad = dir.join("tampered");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("events.log"), &bytes).unwrap();
    std::fs::copy(out.join("summary.json"), bad.join("summary.json")).unwrap();
    let t = liqsim(&["replay", s(&bad.join("events.log")), "--verify"]);
    assert_ne!(t.status.code(), Some(0));
    assert!(stderr(&t).contains("offset"), "{}", stderr(&t));
    // A log from another run does not verify against this run's summary.
    let other = dir.join("other");
    let r2 = liqsim(&["run", s(&file), "--out", s(&other), "--seed", "99", "--quiet"]);
    assert!(r2.status.success());
    std::fs::copy(out.join("summary.json"), other.join("summary.json")).unwrap();
    let m = liqsim(&["replay", s(&other.join("events.log")), "--verify"]);
    assert_eq!(m.status.code(), Some(1), "{}", stderr(&m));
    assert!(stderr(&m).contains("mismatch"));
}

#[test]
fn the_same_seed_gives_byte_identical_summary_and_log() {
    let dir = temp_dir("det");
    let file = short_copy("btc_14_to_1.ron", &dir, "10m");
    let (a, b) = (dir.join("a"), dir.join("b"));
    for out in [&a, &b] {
        let r = liqsim(&["run", s(&file), "--out", s(out), "--quiet"]);
        assert!(r.status.success(), "{}", stderr(&r));
    }
    for f in ["summary.json", "events.log", "ticks.csv", "heatmap.csv"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn export_writes_csv_and_filtered_jsonl() {
    let dir = temp_dir("export");
    let file = short_copy("btc_14_to_1.ron", &dir, "10m");
    let out = dir.join("out");
    assert!(liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]).status.success());
    let log = out.join("events.log");
    let csv = liqsim(&["events", "export", s(&log), "--format", "csv", "--kind", "trade"]);
    assert!(csv.status.success());
    let text = stdout(&csv);
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("seq,tick,time_s,cause,type,account"), "{header}");
    let width = header.split(',').count();
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|l| l.split(',').count() == width && l.contains(",Traded,")));
    let jsonl = liqsim(&["events", "export", s(&log), "--format", "jsonl", "--kind", "price"]);
    assert!(jsonl.status.success());
    let text = stdout(&jsonl);
    let (first, rest) = text.split_once('\n').unwrap();
    assert!(first.starts_with("{\"type\":\"LogHeader\""), "{first}");
    for line in rest.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["type"], "MarkUpdated");
        assert!(v["round"].is_u64() && v["time_s"].is_u64(), "{line}");
    }
    // Liquidations carry the position's side, the price and the USD notional.
    let liq = liqsim(&["events", "export", s(&log), "--format", "jsonl", "--kind", "Liquidated"]);
    assert!(liq.status.success());
    let rows: Vec<serde_json::Value> =
        stdout(&liq).lines().skip(1).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!rows.is_empty(), "the bundled hunter liquidates longs within ten minutes");
    for v in &rows {
        assert!(["long", "short"].contains(&v["position_side"].as_str().unwrap()), "{v}");
        assert!(v["price"].as_f64().unwrap() > 0.0 && v["notional"].as_f64().unwrap() > 0.0, "{v}");
    }
}

#[test]
fn tidy_export_writes_a_typed_table_per_kind_and_parquet_the_same_bytes_each_time() {
    let dir = temp_dir("tidy");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let out = dir.join("out");
    let r = liqsim(&["run", s(&file), "--out", s(&out), "--quiet", "--format", "parquet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let log = out.join("events.log");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let events = summary["events"].as_u64().unwrap();

    // CSV: a table per kind, every event in exactly one.
    let tables = dir.join("csv");
    let o = liqsim(&["events", "export", s(&log), "--out", s(&tables)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("22 CSV tables")
            && stdout(&o).contains(&format!("{events} of the log's {events} events")),
        "{}",
        stdout(&o)
    );
    let read = |name: &str| std::fs::read_to_string(tables.join(name)).unwrap();
    let mut rows = 0;
    for e in std::fs::read_dir(&tables).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name.ends_with(".csv") && !name.starts_with('.'), "{name}");
        rows += read(&name).lines().count() as u64 - 1;
    }
    assert_eq!(rows, events, "every event in one table");
    let traded = read("Traded.csv");
    let mut lines = traded.lines();
    assert_eq!(
        lines.next().unwrap(),
        "seq,tick,time_s,cause,maker_order,maker,taker_order,taker,side,price,qty,maker_fee,taker_fee,maker_margin,taker_margin,liquidation"
    );
    let trades: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(!trades.is_empty());
    for t in &trades {
        assert_eq!(t.len(), 16, "{t:?}");
        // Integers as integers (no `.0`), a number where a number goes, no empty cell.
        for &i in &[0, 1, 2, 3, 4, 5, 6, 7] {
            assert!(t[i].parse::<u64>().is_ok(), "column {i} of {t:?}");
        }
        assert!(["buy", "sell"].contains(&t[8]) && ["true", "false"].contains(&t[15]), "{t:?}");
        for &f in &[9, 10, 11, 12, 13, 14] {
            assert!(t[f].parse::<f64>().is_ok(), "column {f} of {t:?}");
        }
        assert_eq!(t[2], t[1], "one-second ticks: time_s is the tick");
    }
    let liquidated = read("Liquidated.csv");
    assert!(liquidated.lines().count() > 1, "the bundled hunter liquidates within five minutes");
    assert_eq!(read("StopTriggered.csv").lines().count(), 1, "no stops: a header only");
    // Only the kinds asked for.
    let some = dir.join("some");
    assert!(liqsim(&["events", "export", s(&log), "--out", s(&some), "--kind", "trade"]).status.success());
    let names: Vec<String> = std::fs::read_dir(&some)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["Traded.csv"]);
    assert_eq!(std::fs::read_to_string(some.join("Traded.csv")).unwrap(), traded);

    // Parquet: files that start and end with PAR1, the same bytes on a second export.
    let (p1, p2) = (dir.join("p1"), dir.join("p2"));
    for d in [&p1, &p2] {
        let o = liqsim(&["events", "export", s(&log), "--out", s(d), "--format", "parquet"]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let mut files = 0;
    for e in std::fs::read_dir(&p1).unwrap() {
        let name = e.unwrap().file_name();
        let bytes = std::fs::read(p1.join(&name)).unwrap();
        assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"), "{name:?}");
        assert!(bytes == std::fs::read(p2.join(&name)).unwrap(), "{name:?} differs between two exports");
        files += 1;
    }
    assert_eq!(files, 22);
    // The run's ticks: ticks.parquet beside ticks.csv, the same bytes from the same seed.
    let ticks = std::fs::read(out.join("ticks.parquet")).unwrap();
    assert!(ticks.starts_with(b"PAR1") && ticks.ends_with(b"PAR1"));
    let again = dir.join("again");
    assert!(
        liqsim(&["run", s(&file), "--out", s(&again), "--quiet", "--format", "parquet"]).status.success()
    );
    assert!(ticks == std::fs::read(again.join("ticks.parquet")).unwrap(), "ticks.parquet differs");
    assert!(std::fs::read(out.join("ticks.csv")).unwrap() == std::fs::read(again.join("ticks.csv")).unwrap());
    // A run without Parquet into the same folder leaves no stale copy.
    assert!(liqsim(&["run", s(&file), "--out", s(&again), "--quiet"]).status.success());
    assert!(!again.join("ticks.parquet").exists());

    // Formats that do not go with the destination are bad input, and nothing is written.
    let none = dir.join("none");
    let o = liqsim(&["events", "export", s(&log), "--format", "parquet"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--out DIR"), "{}", stderr(&o));
    let o = liqsim(&["events", "export", s(&log), "--format", "jsonl", "--out", s(&none)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--output FILE"), "{}", stderr(&o));
    let o = liqsim(&["events", "export", s(&log), "--out", s(&none), "--output", s(&dir.join("x.csv"))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = liqsim(&["events", "export", s(&log), "--out", s(&out.join("ticks.csv"))]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is a file, not a folder"), "{}", stderr(&o));
    assert!(!none.exists());
    // A log that breaks off half-way: no table is put in place (earlier ones stay as they were)
    // and no temporary is left.
    let bytes = std::fs::read(&log).unwrap();
    let torn = dir.join("torn.log");
    std::fs::write(&torn, &bytes[..bytes.len() * 2 / 3]).unwrap();
    for format in ["csv", "parquet"] {
        let o = liqsim(&["events", "export", s(&torn), "--out", s(&tables), "--format", format]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("torn.log"), "{}", stderr(&o));
    }
    assert_eq!(std::fs::read_to_string(tables.join("Traded.csv")).unwrap(), traded);
    let o = liqsim(&["events", "export", s(&torn), "--out", s(&none)]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!none.exists(), "a folder the failed export created is removed");
    let left = files_under(&tables);
    assert!(left.iter().all(|f| f.ends_with(".csv") && !f.contains(".tmp-")), "{left:?}");
}

/// Rewrites `log` into `dir/events.log` with one event edited by `edit` (checksums and footer
/// recomputed, as a forger would), beside the run's summary. Returns whether an edit was made.
fn forge(
    log: &Path,
    summary: &Path,
    dir: &Path,
    mut edit: impl FnMut(&mut liqsim::events::Envelope) -> bool,
) -> bool {
    use liqsim::events::{LogReader, LogWriter};
    std::fs::create_dir_all(dir).unwrap();
    let reader = LogReader::new(std::fs::File::open(log).unwrap()).unwrap();
    let header = reader.header().clone();
    let mut w = LogWriter::new(Vec::new(), &header).unwrap();
    let mut edited = false;
    for env in reader {
        let mut env = env.unwrap();
        if !edited && env.tick > 100 {
            edited = edit(&mut env);
        }
        w.append(&env).unwrap();
    }
    std::fs::write(dir.join("events.log"), w.finish().unwrap()).unwrap();
    std::fs::copy(summary, dir.join("summary.json")).unwrap();
    edited
}

#[test]
fn a_log_edited_with_its_checksums_repaired_does_not_verify() {
    use liqsim::events::Event;
    let dir = temp_dir("forge");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let out = dir.join("out");
    assert!(liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]).status.success());
    let (log, summary) = (out.join("events.log"), out.join("summary.json"));
    let clean = liqsim(&["replay", s(&log), "--verify"]);
    assert!(clean.status.success(), "{}", stderr(&clean));
    type Edit = fn(&mut liqsim::events::Envelope) -> bool;
    let edits: [(&str, Edit); 4] = [
        ("order id", |e| {
            let Event::OrderPlaced { order } = &mut e.event else { return false };
            order.id.0 += 1;
            true
        }),
        ("price", |e| {
            let Event::Traded { price, .. } = &mut e.event else { return false };
            price.0 += 1;
            true
        }),
        ("size", |e| {
            let Event::OrderCancelled { remaining, .. } = &mut e.event else { return false };
            remaining.0 += 1;
            true
        }),
        ("tick", |e| {
            e.tick += 1;
            true
        }),
    ];
    for (what, edit) in edits {
        let forged = dir.join(what.replace(' ', "_"));
        assert!(forge(&log, &summary, &forged, edit), "no event to edit the {what} of");
        let v = liqsim(&["replay", s(&forged.join("events.log")), "--verify"]);
        assert_ne!(v.status.code(), Some(0), "an edited {what} verified");
        assert!(stderr(&v).contains("does not apply") || stderr(&v).contains("mismatch"), "{}", stderr(&v));
    }
}

#[test]
fn the_margin_calculator_uses_the_same_core() {
    let o = liqsim(&[
        "margin",
        "--side",
        "long",
        "--entry",
        "70000",
        "--size",
        "1",
        "--leverage",
        "10",
        "--json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    // 70,000 notional is tier 2 (MMR 0.5%, cum 50): liquidation at 63,266.33 exactly, rounded up.
    assert_eq!(v["initial_margin"].as_f64(), Some(7_000.0));
    assert_eq!(v["tier"].as_u64(), Some(2));
    assert_eq!(v["liquidation_price"].as_f64(), Some(63_266.4));
    assert_eq!(v["bankruptcy_price"].as_f64(), Some(63_000.0));
    let t = liqsim(&["margin", "--side", "short", "--entry", "71450", "--size", "1.5", "--leverage", "5"]);
    assert!(t.status.success());
    assert!(stdout(&t).contains("liquidation price"));
}

/// ETHUSDT, on Binance's worked ETH example (shared reference, margin-and-liquidation.md): a
/// wallet of 1,535,443.01 backing a long of 3,683.979 ETH at 1,456.84 (5.37M, the 10% tier, cum
/// 135,365) liquidates at (1,535,443.01 + 135,365 − 3,683.979 × 1,456.84) / (3,683.979 × 0.1 −
/// 3,683.979) = 1,114.78496…, which the FAQ prints as 1,114.78; the venue's rounding (up, for a
/// long, to the 0.01 tick) gives 1,114.79.
#[test]
fn the_margin_calculator_takes_ethusdt_and_reproduces_binances_eth_example() {
    let args = |instrument: Option<&'static str>, leverage: &'static str| {
        let mut a = vec!["margin"];
        if let Some(i) = instrument {
            a.extend(["--instrument", i]);
        }
        a.extend(["--side", "long", "--entry", "1456.84", "--size", "3683.979", "--leverage", leverage]);
        a.extend(["--mode", "cross", "--wallet", "1535443.01", "--json"]);
        a
    };
    let o = liqsim(&args(Some("ethusdt"), "5"));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["instrument"], "ETHUSDT");
    assert_eq!(v["size_eth"].as_f64(), Some(3_683.979));
    assert_eq!(v["tier"].as_u64(), Some(6));
    assert_eq!(v["maintenance_margin_rate"].as_f64(), Some(0.1));
    assert_eq!(v["liquidation_price"].as_f64(), Some(1_114.79));
    // The table names the contract.
    let mut plain = args(Some("ethusdt"), "5");
    plain.pop();
    let t = liqsim(&plain);
    assert!(stdout(&t).contains("ETHUSDT, 3683.979 ETH at 1456.84 USD"), "{}", stdout(&t));
    // The 10% tier allows 5x at most; and on BTCUSDT's 0.1 grid the entry is off the grid.
    for (o, needle) in
        [(liqsim(&args(Some("ethusdt"), "6")), "--leverage"), (liqsim(&args(None, "5")), "--entry")]
    {
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{}", stderr(&o));
    }
}

/// Cross margin: the whole wallet backs the position (Binance's cross formula with no other
/// position). 1 BTC at 70,000 is in tier 2 (MMR 0.5%, cum 50); with a wallet of 10,000:
/// long LP = (10,000 + 50 − 70,000)/(0.005 − 1) = 60,251.256… → 60,251.3 (up), bankruptcy 60,000;
/// short LP = (10,000 + 50 + 70,000)/(0.005 + 1) = 79,651.741… → 79,651.7 (down), bankruptcy
/// 80,000.
#[test]
fn the_margin_calculator_computes_cross_margin_on_the_whole_wallet() {
    let cross = |side: &str, wallet: &str| {
        let args = ["margin", "--side", side, "--entry", "70000", "--size", "1", "--leverage", "10"];
        let mut args: Vec<&str> = args.to_vec();
        args.extend(["--mode", "cross", "--wallet", wallet, "--json"]);
        liqsim(&args)
    };
    for (side, lp, bp) in [("long", 60_251.3, 60_000.0), ("short", 79_651.7, 80_000.0)] {
        let o = cross(side, "10000");
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(v["margin_mode"], "cross");
        assert_eq!((v["wallet"].as_f64(), v["initial_margin"].as_f64()), (Some(10_000.0), Some(7_000.0)));
        assert_eq!(v["liquidation_price"].as_f64(), Some(lp), "{side}");
        assert_eq!(v["bankruptcy_price"].as_f64(), Some(bp), "{side}");
    }
    // A wallet of exactly the initial margin is the isolated position.
    let o = cross("long", "7000");
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["liquidation_price"].as_f64(), Some(63_266.4));
    for (args, needle) in [
        (vec!["--mode", "cross"], "--wallet"),
        (vec!["--mode", "cross", "--wallet", "6999.99"], "does not cover the initial margin"),
        (vec!["--wallet", "10000"], "only with --mode cross"),
        (vec!["--mode", "cross", "--wallet", "10000.0000001"], "--wallet"),
    ] {
        let mut all = vec!["margin", "--side", "long", "--entry", "70000", "--size", "1", "--leverage", "10"];
        all.extend(args);
        let o = liqsim(&all);
        assert_eq!(o.status.code(), Some(2), "{all:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{all:?}: {}", stderr(&o));
    }
}

#[test]
fn the_core_demo_still_liquidates_and_replays() {
    let dir = temp_dir("demo");
    let o = liqsim(&["demo", "--out", s(&dir)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("replay                   same state hash"));
}

/// One bad input: what to run, the exit code, and a piece of the message it must print.
struct Bad {
    name: &'static str,
    scenario: Option<&'static str>,
    args: Vec<String>,
    code: i32,
    needle: &'static str,
}

#[test]
fn bad_input_is_a_clear_error_with_where_and_what() {
    let dir = temp_dir("bad");
    let good_run = dir.join("good");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    assert!(liqsim(&["run", s(&file), "--out", s(&good_run), "--quiet"]).status.success());
    let log = good_run.join("events.log");
    let bytes = std::fs::read(&log).unwrap();
    let truncated = dir.join("truncated.log");
    std::fs::write(&truncated, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let not_utf8 = dir.join("latin1.ron");
    std::fs::write(&not_utf8, b"(name: \"caf\xe9\")").unwrap();
    let a_file = dir.join("a-file");
    std::fs::write(&a_file, "not a folder").unwrap();

    // Counterparties at 50x facing shorts liquidated up to 90K: liquidated well before that.
    let close_map = dir.join("close-map.ron");
    std::fs::write(
        &close_map,
        "(map: (bands: [(side: Short, liq_low_usd: 84000.0, liq_high_usd: 90000.0, notional_usd: 1e9, shape: Flat, leverage: [(leverage: 3, weight: 1.0)], accounts: 10)], counterparty_leverage: 50))",
    )
    .unwrap();
    let band = |body: &str| format!(r#"(map: (bands: [({body})]))"#);
    let ok_band = "side: Short, liq_low_usd: 84000.0, liq_high_usd: 90000.0, notional_usd: 1e9, shape: Flat, leverage: [(leverage: 3, weight: 1.0)], accounts: 10";
    let cases: Vec<Bad> = vec![
        Bad {
            name: "malformed",
            scenario: Some("(\n  seed: 1\n  horizon: \"1h\",\n)"),
            args: vec![],
            code: 2,
            needle: ":3:3: Expected comma",
        },
        Bad {
            name: "unknown-field",
            scenario: Some("(\n  leverrage: 5,\n)"),
            args: vec![],
            code: 2,
            needle: ":2:3: leverrage: no such field; this section has name, seed,",
        },
        Bad {
            name: "wrong-type",
            scenario: Some("(seed: \"seven\")"),
            args: vec![],
            code: 2,
            needle: ":1:7: seed: Expected integer",
        },
        Bad { name: "empty", scenario: Some(""), args: vec![], code: 2, needle: ":1:1:" },
        Bad {
            name: "hunting-maker-inventory-beyond-its-capital",
            scenario: Some("(makers: [(deposit_usd: 5e7, leverage: 10, hunting: Some(()))])"),
            args: vec![],
            code: 2,
            needle: "makers[0].hunting.max_inventory_usd: must be at most the account's deposit × leverage (500000000), got 6000000000",
        },
        Bad {
            name: "map-csv-missing",
            scenario: Some(r#"(map: (csv: (path: "maps/nowhere.csv")))"#),
            args: vec![],
            code: 2,
            needle: "maps/nowhere.csv",
        },
        Bad {
            name: "value-discounts-inverted",
            scenario: Some("(value: (discount_pct: (9.0, 2.0)))"),
            args: vec![],
            code: 2,
            needle: "value.discount_pct: the low discount 9 is above the high one 2",
        },
        Bad {
            name: "shock-spread-past-the-horizon",
            scenario: Some(r#"(horizon: "1h", shocks: [(at: "00:50", side: Sell, notional_usd: 1e8, over: "20m")])"#),
            args: vec![],
            code: 2,
            needle: "shocks[0].over: 20m from 50m ends after the horizon 1h",
        },
        Bad {
            name: "bad-duration",
            scenario: Some("(horizon: \"6 hours\")"),
            args: vec![],
            code: 2,
            needle: "unknown unit",
        },
        Bad {
            name: "maintenance-above-initial",
            scenario: Some(
                "(market: (tiers: Some([(cap_usd: 1e9, max_leverage: 50, maintenance_pct: 3.0)])))",
            ),
            args: vec![],
            code: 2,
            needle: "market.tiers[0].maintenance_pct: maintenance 3% is not below the initial margin",
        },
        Bad {
            name: "sentiment-cap",
            scenario: Some(
                "(background: (fcn: Some((agents: 10, params: (fundamental_weight_mean: 1.0, \
                 chart_weight_mean: 0.5, noise_weight_mean: 1.0, noise_scale: 0.001, time_window: (10.0, \
                 20.0), mean_reversion_time: None, order_margin: (0.0, 0.01), margin_type: Fixed, \
                 order_ttl: None, order_qty: 1.0, chart_following: true), decisions_per_second: 1.0, \
                 deposit_usd: 1000.0, leverage: 1, chart_sentiment: Some((volatility: 0.5, \
                 correlation: \"1m\", max_factor: Some(-1.3)))))))",
            ),
            args: vec![],
            code: 2,
            needle: "background.fcn.chart_sentiment.max_factor: must be a positive number, got -1.3",
        },
        Bad {
            name: "inverted-band",
            scenario: Some(Box::leak(band(&ok_band.replace("84000.0", "95000.0")).into_boxed_str())),
            args: vec![],
            code: 2,
            needle: "map.bands[0]",
        },
        Bad {
            name: "empty-band",
            scenario: Some(Box::leak(band(&ok_band.replace("accounts: 10", "accounts: 0")).into_boxed_str())),
            args: vec![],
            code: 2,
            needle: "map.bands[0].accounts",
        },
        Bad {
            name: "leverage-above-tier",
            scenario: Some(Box::leak(
                band(&ok_band.replace("leverage: 3,", "leverage: 300,")).into_boxed_str(),
            )),
            args: vec![],
            code: 2,
            needle: "map.bands[0].leverage[0].leverage",
        },
        Bad {
            name: "negative-notional",
            scenario: Some(Box::leak(band(&ok_band.replace("1e9", "-1e9")).into_boxed_str())),
            args: vec![],
            code: 2,
            needle: "map.bands[0].notional_usd",
        },
        Bad {
            name: "long-band-above-price",
            scenario: Some(Box::leak(band(&ok_band.replace("Short", "Long")).into_boxed_str())),
            args: vec![],
            code: 2,
            needle: "map.bands[0]",
        },
        Bad {
            name: "stop-share-above-one",
            scenario: Some(Box::leak(
                band(&format!("{ok_band}, stop_loss: (share: 1.5, distance: FromPrice(low_pct: 1.0, high_pct: 2.0))"))
                    .into_boxed_str(),
            )),
            args: vec![],
            code: 2,
            needle: "map.bands[0].stop_loss.share: must be a fraction between 0 and 1, got 1.5",
        },
        Bad {
            name: "stop-beyond-the-price",
            scenario: Some(Box::leak(
                band(&format!(
                    "{ok_band}, stop_loss: (share: 0.5, distance: BeforeLiquidation(low_pct: 1.0, high_pct: 20.0))"
                ))
                .into_boxed_str(),
            )),
            args: vec![],
            code: 2,
            needle: "map.bands[0].stop_loss.distance.high_pct: 20% in front of the band's nearest liquidation price",
        },
        Bad {
            name: "stop-on-last-at-hyperliquid",
            scenario: Some(Box::leak(
                format!(
                    "(market: (venue: Hyperliquid), map: (bands: [({ok_band}, stop_loss: (share: 0.5, distance: FromPrice(low_pct: 1.0, high_pct: 2.0)))]))"
                )
                .into_boxed_str(),
            )),
            args: vec![],
            code: 2,
            needle: "map.bands[0].stop_loss.trigger: Hyperliquid triggers stops on the mark only",
        },
        Bad {
            name: "price-band-zero",
            scenario: Some("(market: (price_band_pct: 0.0))"),
            args: vec![],
            code: 2,
            needle: "market.price_band_pct: must be a percentage above 0 and at most 100, got 0",
        },
        Bad {
            name: "counterparties-too-close",
            scenario: None,
            args: vec!["validate".into(), s(&close_map).into()],
            code: 2,
            needle: "map.counterparty_leverage: counterparty",
        },
        Bad {
            name: "stop-rounds-zero",
            scenario: Some("(market: (max_stop_rounds: 0))"),
            args: vec![],
            code: 2,
            needle: "market.max_stop_rounds: must be 1..=1000, got 0",
        },
        Bad {
            name: "watch-level-at-price",
            scenario: Some("(watch_levels: [71450.0])"),
            args: vec![],
            code: 2,
            needle: "watch_levels[0]: is the start price",
        },
        Bad {
            name: "horizon-zero",
            scenario: Some("(horizon: \"0s\")"),
            args: vec![],
            code: 2,
            needle: "horizon: must be longer than 0s",
        },
        Bad {
            name: "absurd-accounts",
            scenario: Some(Box::leak(
                band(&ok_band.replace("accounts: 10", "accounts: 4000000000")).into_boxed_str(),
            )),
            args: vec![],
            code: 2,
            needle: "is more than the 5000000 a run may hold",
        },
        Bad {
            name: "absurd-horizon",
            scenario: Some("(horizon: \"10000d\")"),
            args: vec![],
            code: 2,
            needle: "ticks is more than",
        },
        Bad {
            name: "negative-fee",
            scenario: Some("(market: (taker_fee_pct: -0.05))"),
            args: vec![],
            code: 2,
            needle: "market.taker_fee_pct",
        },
        Bad {
            name: "shock-after-horizon",
            scenario: Some("(horizon: \"1h\", shocks: [(at: \"02:00\", side: Sell, notional_usd: 5e8)])"),
            args: vec![],
            code: 2,
            needle: "shocks[0].at: 2h is after the horizon 1h",
        },
        Bad {
            name: "nan-buy-probability",
            scenario: Some(
                "(background: (noise: Some((agents: 5, params: (market_orders_per_second: 0.5, \
                 limit_orders_per_second: 1.0, buy_probability: NaN, size_mean: 0.1, limit_offset_mean: 0.001, \
                 limit_ttl: \"1m\"), deposit_usd: 1e5, leverage: 2))))",
            ),
            args: vec![],
            code: 2,
            needle: "background.noise.params.buy_probability: must be a fraction between 0 and 1, got NaN",
        },
        Bad {
            name: "negative-maker-spread",
            scenario: Some("(makers: [(quoting: (half_spread_bps: -1.0))])"),
            args: vec![],
            code: 2,
            needle: "makers[0].quoting.half_spread_bps: must be a number from 0 to 10000, got -1",
        },
        Bad {
            name: "infinite-hunter-support",
            scenario: Some("(hunters: [(hunting: (support_usd: inf))])"),
            args: vec![],
            code: 2,
            needle: "hunters[0].hunting.support_usd: must be a number ≥ 0, got inf",
        },
        Bad {
            name: "huge-start-price",
            scenario: Some("(start_price_usd: 1e15, map: (bands: []), watch_levels: [])"),
            args: vec![],
            code: 2,
            needle: "start_price_usd: one lot",
        },
        Bad {
            name: "tiny-start-price",
            scenario: Some("(start_price_usd: 0.1, map: (bands: []), watch_levels: [])"),
            args: vec![],
            code: 2,
            needle: "a start price must be at least 1000 ticks",
        },
        Bad {
            name: "off-grid-start-price",
            scenario: Some(
                "(market: (tick_usd: 7.0), start_price_usd: 3200.0, map: (bands: []), watch_levels: [])",
            ),
            args: vec![],
            code: 2,
            needle: "start_price_usd:",
        },
        Bad {
            name: "missing-file",
            scenario: None,
            args: vec!["run".into(), s(&dir.join("nope.ron")).into()],
            code: 2,
            needle: "nope.ron: No such file",
        },
        Bad {
            name: "directory",
            scenario: None,
            args: vec!["validate".into(), s(&dir).into()],
            code: 2,
            needle: "is a directory",
        },
        Bad {
            name: "not-utf8",
            scenario: None,
            args: vec!["validate".into(), s(&not_utf8).into()],
            code: 2,
            needle: "not UTF-8",
        },
        Bad {
            name: "unwritable-out",
            scenario: None,
            args: vec![
                "run".into(),
                s(&file).into(),
                "--out".into(),
                s(&a_file.join("sub")).into(),
                "--quiet".into(),
            ],
            code: 1,
            needle: "cannot create output folder",
        },
        Bad {
            name: "out-is-a-file",
            scenario: None,
            args: vec!["run".into(), s(&file).into(), "--out".into(), s(&a_file).into(), "--quiet".into()],
            code: 2,
            needle: "a-file: is a file, not a folder",
        },
        Bad {
            name: "mc-out-is-a-file",
            scenario: None,
            args: vec!["mc".into(), s(&file).into(), "--out".into(), s(&a_file).into(), "--quiet".into()],
            code: 2,
            needle: "a-file: is a file, not a folder",
        },
        Bad {
            name: "truncated-log",
            scenario: None,
            args: vec!["replay".into(), s(&truncated).into()],
            code: 2,
            needle: "truncated at byte offset",
        },
        Bad {
            name: "replay-a-directory",
            scenario: None,
            args: vec!["replay".into(), s(&dir).into()],
            code: 2,
            needle: "is a directory",
        },
        Bad {
            name: "unknown-kind",
            scenario: None,
            args: vec!["events".into(), "export".into(), s(&log).into(), "--kind".into(), "gossip".into()],
            code: 2,
            needle: "unknown event kind \"gossip\"; one of: account, order, trade, price, funding, insurance, liquidation, tick, stop, AccountOpened,",
        },
        Bad {
            name: "margin-off-grid",
            scenario: None,
            args: ["margin", "--side", "long", "--entry", "70000.05", "--size", "1", "--leverage", "10"]
                .map(String::from)
                .to_vec(),
            code: 2,
            needle: "--entry: price 70000.05 is not a multiple of 0.1",
        },
        Bad {
            name: "margin-leverage",
            scenario: None,
            args: ["margin", "--side", "long", "--entry", "70000", "--size", "1000", "--leverage", "100"]
                .map(String::from)
                .to_vec(),
            code: 2,
            needle: "--leverage: 100x is outside",
        },
        Bad {
            name: "margin-size",
            scenario: None,
            args: ["margin", "--side", "long", "--entry", "70000", "--size", "-1", "--leverage", "10"]
                .map(String::from)
                .to_vec(),
            code: 2,
            needle: "--size",
        },
        Bad {
            name: "negative-band-leverage",
            scenario: Some(Box::leak(band(&ok_band.replace("leverage: 3,", "leverage: -3,")).into_boxed_str())),
            args: vec![],
            code: 2,
            needle: ":1:130: map.bands[0].leverage[0].leverage: must be at least 1, got -3",
        },
        Bad {
            name: "negative-noise-leverage",
            scenario: Some(
                "(background: (noise: Some((agents: 5, params: (market_orders_per_second: 0.5, \
                 limit_orders_per_second: 1.0, buy_probability: 0.5, size_mean: 0.1, limit_offset_mean: 0.001, \
                 limit_ttl: \"60s\"), deposit_usd: 1e5, leverage: -2))))",
            ),
            args: vec![],
            code: 2,
            needle: "background.noise.leverage: must be 1..=1000, got -2",
        },
        Bad {
            name: "negative-count",
            scenario: Some("(monte_carlo: (runs: -4))"),
            args: vec![],
            code: 2,
            needle: "monte_carlo.runs: must be 1..=1000000, got -4",
        },
        Bad {
            name: "negative-seed",
            scenario: Some("(seed: -1)"),
            args: vec![],
            code: 2,
            needle: ":1:9: seed: must be a whole number, 0 or more, got -1",
        },
        Bad {
            name: "expect-too-short",
            scenario: None,
            args: vec!["replay".into(), s(&log).into(), "--expect".into(), "3f2a".into()],
            code: 2,
            needle: "--expect \"3f2a\": give the state hash or a prefix of it of 16 to 64 hex digits, not 4",
        },
        Bad {
            name: "expect-not-hex",
            scenario: None,
            args: vec!["replay".into(), s(&log).into(), "--expect".into(), "3f2a...".into()],
            code: 2,
            needle: "'.' is not a hex digit",
        },
        Bad {
            name: "export-output-folder",
            scenario: None,
            args: vec!["events".into(), "export".into(), s(&log).into(), "--output".into(), s(&dir).into()],
            code: 2,
            needle: "is a folder, not a file",
        },
    ];
    assert!(cases.len() >= 20);
    for case in cases {
        let args: Vec<String> = match case.scenario {
            Some(text) => {
                let path = dir.join(format!("{}.ron", case.name));
                std::fs::write(&path, text).unwrap();
                let out = dir.join(format!("out-{}", case.name));
                vec!["run".into(), s(&path).into(), "--out".into(), s(&out).into(), "--quiet".into()]
            }
            None => case.args.clone(),
        };
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = liqsim(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(case.code), "{}: {err}", case.name);
        assert!(err.contains(case.needle), "{}: expected {:?} in:\n{err}", case.name, case.needle);
        assert!(!err.contains("panicked"), "{}: {err}", case.name);
        if case.scenario.is_some() {
            assert!(
                !dir.join(format!("out-{}", case.name)).exists(),
                "{}: an invalid scenario wrote outputs",
                case.name
            );
        }
    }
    // The failed run into an unwritable place left nothing that looks complete anywhere.
    assert!(!a_file.with_file_name("summary.json").exists());
}

#[test]
fn facts_reads_a_runs_tick_series() {
    let dir = temp_dir("facts");
    let out = dir.join("out");
    let r = liqsim(&["run", "scenarios/pams_ci2002.ron", "--out", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let f = liqsim(&["facts", s(&out.join("ticks.csv")), "--every", "10", "--json"]);
    assert!(f.status.success(), "{}", stderr(&f));
    let v: serde_json::Value = serde_json::from_str(stdout(&f).trim()).unwrap();
    assert_eq!(v["returns"].as_u64(), Some(99));
    assert_eq!(v["acf_returns"].as_array().unwrap().len(), 10);
    assert!(v["excess_kurtosis"].as_f64().is_some());
    let bad = liqsim(&["facts", s(&out.join("ticks.csv")), "--column", "volume"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
}

/// The seed's scenario for 70 minutes with hourly funding and a twentieth of the accounts, 30%
/// of each band margined cross: liquidations of both margin modes, ADL and one funding settlement
/// in a log small enough to audit quickly.
fn audit_scenario(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string("scenarios/btc_14_to_1.ron").unwrap();
    let text = with_horizon(&text, "70m").replace("funding_interval: \"8h\"", "funding_interval: \"1h\"");
    let scaled: Vec<String> = text
        .lines()
        .map(|line| match line.split_once("accounts: ") {
            Some((head, tail)) => {
                let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
                let n: u64 = digits.parse().unwrap();
                format!("{head}accounts: {}, cross_share: 0.3{}", n / 20, &tail[digits.len()..])
            }
            None => line.to_string(),
        })
        .collect();
    let path = dir.join("audit.ron");
    std::fs::write(&path, scaled.join("\n")).unwrap();
    path
}

/// Stop-losses in the seed map's bands of [`audit_scenario`] (30% of their accounts cross, so
/// stops close cross positions too): longs just in front of their liquidation prices (watching
/// last), the nearest shorts 0.3–3% above the price (watching the mark).
fn with_stops(text: &str) -> String {
    let long = "accounts: 1500, cross_share: 0.3)";
    let short = "accounts: 1050, cross_share: 0.3)";
    assert!(text.contains(long) && text.contains(short), "the seed map's bands moved");
    text.replace(
        long,
        "accounts: 1500, cross_share: 0.3, stop_loss: (share: 0.5, distance: BeforeLiquidation(low_pct: 0.2, \
         high_pct: 1.5)))",
    )
    .replace(
        short,
        "accounts: 1050, cross_share: 0.3, stop_loss: (share: 0.6, distance: FromPrice(low_pct: 0.3, high_pct: \
         3.0), trigger: Mark))",
    )
}

/// A run whose map holders carry stop-losses: stops trigger, the log replays and verifies, the
/// auditor checks every trigger's price and order, the pictures show the stops; and the same map
/// without stops triggers none.
#[test]
fn stop_losses_in_the_map_trigger_replay_and_pass_the_audit() {
    let dir = temp_dir("stops");
    let plain = audit_scenario(&dir);
    let scenario = with_horizon(&std::fs::read_to_string(&plain).unwrap(), "30m");
    let file = dir.join("stops.ron");
    std::fs::write(&file, with_stops(&scenario)).unwrap();
    let out = dir.join("out");
    let r = liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let triggered = summary["stops_triggered"].as_u64().unwrap();
    assert!(triggered > 0, "no stop triggered: {summary}");
    let v = liqsim(&["replay", s(&out.join("events.log")), "--verify"]);
    assert!(v.status.success(), "{}", stderr(&v));
    let export = liqsim(&["events", "export", s(&out.join("events.log")), "--format", "jsonl"]);
    assert!(export.status.success(), "{}", stderr(&export));
    let text = String::from_utf8(export.stdout).unwrap();
    for kind in ["StopPlaced", "StopTriggered"] {
        assert!(text.contains(&format!("\"type\":\"{kind}\"")), "no {kind} in the export");
    }
    let jsonl = dir.join("events.jsonl");
    std::fs::write(&jsonl, &text).unwrap();
    let audit = |events: &Path| {
        Command::new("python3")
            .args(["tools/audit.py", s(events), s(&out.join("summary.json"))])
            .output()
            .expect("python3 runs")
    };
    let a = audit(&jsonl);
    assert!(a.status.success(), "{}{}", stdout(&a), stderr(&a));
    let report = stdout(&a);
    for what in
        ["stops trigger in price-time order", "stop triggered once its price reached it", "stops triggered"]
    {
        assert!(report.lines().any(|l| l.ends_with(what)), "the audit never checked {what}: {report}");
    }
    // A trigger moved off its price is caught.
    let line = text.lines().find(|l| l.contains("\"type\":\"StopTriggered\"")).unwrap();
    let trigger = line.split("\"trigger\":").nth(1).unwrap().split(',').next().unwrap();
    let moved: f64 = trigger.parse::<f64>().unwrap() + 5_000.0;
    let forged = text.replacen(
        line,
        &line.replace(&format!("\"trigger\":{trigger},"), &format!("\"trigger\":{moved},")),
        1,
    );
    assert_ne!(forged, text);
    let bad = dir.join("forged.jsonl");
    std::fs::write(&bad, forged).unwrap();
    let f = audit(&bad);
    assert_eq!(f.status.code(), Some(1), "{}", stdout(&f));
    assert!(stderr(&f).contains("stop triggered as placed"), "{}", stderr(&f));
    // The map picture and the heatmap were drawn with the stops.
    for f in ["map.png", "heatmap.png"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
}

#[test]
fn an_independent_program_recomputes_fees_triggers_and_funding_from_the_export() {
    let dir = temp_dir("audit");
    let out = dir.join("out");
    let r = liqsim(&["run", s(&audit_scenario(&dir)), "--out", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    // The log of a run with cross accounts and a funding settlement replays to its summary.
    let verify = liqsim(&["replay", s(&out.join("events.log")), "--verify"]);
    assert!(verify.status.success(), "{}", stderr(&verify));
    let export = liqsim(&["events", "export", s(&out.join("events.log")), "--format", "jsonl"]);
    assert!(export.status.success(), "{}", stderr(&export));
    let jsonl = dir.join("events.jsonl");
    std::fs::write(&jsonl, &export.stdout).unwrap();
    let audit = |events: &Path| {
        Command::new("python3")
            .args(["tools/audit.py", s(events), s(&out.join("summary.json"))])
            .output()
            .expect("python3 runs (CPython 3 is part of the CI machine)")
    };
    let a = audit(&jsonl);
    assert!(a.status.success(), "{}{}", stdout(&a), stderr(&a));
    let report = stdout(&a);
    for what in [
        "clearance fee",
        "funding payments",
        "liquidation price",
        "maker fee",
        "margin a fill moved",
        "premium index",
        "weighted premium average",
        "funding rate accrued",
        "a market order's protection price is the mark moved by the band",
        "a market order fills within its protection price",
    ] {
        assert!(report.lines().any(|l| l.ends_with(what)), "the audit never checked {what}: {report}");
    }
    // Cross accounts were liquidated too, and the auditor followed their whole wallets.
    let text = String::from_utf8(export.stdout).unwrap();
    let account_of =
        |line: &str| line.split("\"account\":").nth(1).and_then(|t| t.split(',').next()).map(str::to_string);
    let liquidated: std::collections::HashSet<String> = text
        .lines()
        .filter(|l| l.contains("\"type\":\"LiquidationTriggered\""))
        .filter_map(account_of)
        .collect();
    let opened_cross =
        |l: &&str| l.contains("\"type\":\"AccountOpened\"") && l.contains("\"margin_mode\":\"cross\"");
    let cross_liquidated =
        text.lines().filter(opened_cross).filter(|l| account_of(l).is_some_and(|a| liquidated.contains(&a)));
    assert!(cross_liquidated.count() > 0, "no cross account among the liquidated");
    // Read as isolated, the cross accounts' triggers disagree (their free balance backed them).
    let forged = text.replace("\"margin_mode\":\"cross\"", "\"margin_mode\":\"isolated\"");
    let bad = dir.join("as_isolated.jsonl");
    std::fs::write(&bad, forged).unwrap();
    let f = audit(&bad);
    assert_eq!(f.status.code(), Some(1), "{}", stdout(&f));
    assert!(stderr(&f).contains("trigger equity"), "{}", stderr(&f));
    // The auditor is not a rubber stamp: one maker fee off by a micro-USD is caught.
    let line = text.lines().find(|l| l.contains("\"type\":\"Traded\"")).unwrap();
    let fee = line.split("\"maker_fee\":").nth(1).unwrap().split(',').next().unwrap();
    let forged_fee: f64 = fee.parse::<f64>().unwrap() + 0.000001;
    let forged = text.replacen(
        line,
        &line.replace(&format!("\"maker_fee\":{fee},"), &format!("\"maker_fee\":{forged_fee},")),
        1,
    );
    assert_ne!(forged, text);
    let bad = dir.join("forged.jsonl");
    std::fs::write(&bad, forged).unwrap();
    let f = audit(&bad);
    assert_eq!(f.status.code(), Some(1), "{}", stdout(&f));
    assert!(stderr(&f).contains("maker fee"), "{}", stderr(&f));
    // A market order whose protection price is not the band's from the mark is caught too.
    let market = |l: &&str| {
        l.contains("\"type\":\"OrderPlaced\"")
            && l.contains("\"order_kind\":\"market\"")
            && l.contains("\"liquidation\":false")
    };
    let line = text.lines().find(market).expect("the run sent a market order");
    let price = line.split("\"price\":").nth(1).unwrap().split(',').next().unwrap();
    let moved = format!("{}", price.parse::<f64>().unwrap() + 1000.0);
    let forged =
        text.replacen(line, &line.replace(&format!("\"price\":{price},"), &format!("\"price\":{moved},")), 1);
    assert_ne!(forged, text);
    std::fs::write(&bad, forged).unwrap();
    let f = audit(&bad);
    assert_eq!(f.status.code(), Some(1), "{}", stdout(&f));
    assert!(stderr(&f).contains("protection price"), "{}", stderr(&f));
}

/// Waits (up to a minute) until `dir` is locked by the process `pid`.
fn wait_for_lock(dir: &Path, pid: u32) {
    let lock = dir.join(".liqsim.lock");
    for _ in 0..600 {
        if std::fs::read_to_string(&lock).is_ok_and(|t| t.contains(&format!("pid={pid}\n"))) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{} was never locked by pid {pid}", dir.display());
}

#[test]
fn lock_one_writer_per_folder_names_the_holder_and_a_killed_holders_lock_is_taken_over() {
    let dir = temp_dir("lock");
    let file = short_copy("btc_14_to_1.ron", &dir, "10m");
    let out = dir.join("mc");
    // An event log to export into the held folder.
    let o = liqsim(&["run", s(&file), "--out", s(&dir.join("run")), "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let log = dir.join("run").join("events.log");
    // A long Monte Carlo holds the folder...
    let mut first = Command::new(env!("CARGO_BIN_EXE_liqsim"))
        .args(["mc", s(&file), "--out", s(&out), "--runs", "400", "--threads", "1", "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lock(&out, first.id());
    // ...so a second process of any writing command is refused, naming it; nothing is touched.
    let holder = format!("pid {} on host ", first.id());
    for args in [
        vec!["mc", s(&file), "--out", s(&out), "--runs", "400", "--resume", "--quiet"],
        vec!["mc", s(&file), "--out", s(&out), "--runs", "3", "--quiet"],
        vec!["run", s(&file), "--out", s(&out), "--quiet"],
        vec!["events", "export", s(&log), "--out", s(&out), "--format", "csv"],
    ] {
        let o = liqsim(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is in use by another liqsim") && err.contains(&holder), "{err}");
        assert!(err.contains(", since 20") && err.contains("(liqsim mc)"), "{err}");
        assert_eq!(err.lines().count(), 1, "said once: {err}");
    }
    assert!(!out.join("summary.json").exists() && !out.join("events.log").exists());
    // Killed (SIGKILL: no cleanup of its own), it leaves its lock file and maybe a temporary;
    // the next writer takes the folder over and clears them.
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(out.join(".liqsim.lock").exists(), "a killed holder leaves its file");
    std::fs::write(out.join(".tmp-999999-outcomes.csv"), "half").unwrap();
    let o = liqsim(&["mc", s(&file), "--out", s(&out), "--runs", "2", "--threads", "1", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("summary.json").is_file());
    let left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "no lock or temporary file left: {left:?}");
    // A merge into a folder another process holds is refused too.
    let mut holder = Command::new(env!("CARGO_BIN_EXE_liqsim"))
        .args(["mc", s(&file), "--out", s(&dir.join("held")), "--runs", "400", "--threads", "1", "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_lock(&dir.join("held"), holder.id());
    let m = liqsim(&["merge", "--out", s(&dir.join("held")), s(&out), "--quiet"]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(m.status.code(), Some(2), "{}", stderr(&m));
    assert!(stderr(&m).contains(&format!("pid {} on host ", holder.id())), "{}", stderr(&m));
}

#[test]
fn a_run_into_a_used_folder_leaves_nothing_of_the_previous_run() {
    let dir = temp_dir("reuse");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let out = dir.join("out");
    assert!(liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]).status.success());
    for f in ["events.log", "heatmap.png", "map.svg", "price.png"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // An interrupted writer's temporary file, and the same folder reused without log or pictures.
    std::fs::write(out.join(".tmp-999999-events.log"), "half a log").unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    let quiet = dir.join("quiet.ron");
    let text = text.replace("pictures: true, event_log: true", "pictures: false, event_log: false");
    assert!(text.contains("event_log: false"));
    std::fs::write(&quiet, text).unwrap();
    let r = liqsim(&["run", s(&quiet), "--out", s(&out), "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["heatmap.csv", "levels.csv", "scenario.json", "summary.json", "ticks.csv"],
        "only this run's files"
    );
}

#[test]
fn a_failure_before_the_summary_leaves_no_summary_in_run_mc_and_merge() {
    let dir = temp_dir("nosummary");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    // A picture that cannot be put in place (a folder sits at its name): the last file before
    // the summary fails, and no summary.json claims a finished folder.
    let run = dir.join("run");
    std::fs::create_dir_all(run.join("map.svg")).unwrap();
    let r = liqsim(&["run", s(&file), "--out", s(&run), "--quiet"]);
    assert_eq!(r.status.code(), Some(1), "{}", stderr(&r));
    assert!(stderr(&r).contains("map.svg"), "{}", stderr(&r));
    assert!(!run.join("summary.json").exists());
    assert!(run.join("ticks.csv").is_file(), "the files before it were written");

    let mc = dir.join("mc");
    std::fs::create_dir_all(mc.join("hist_liquidated_long.png")).unwrap();
    let m = liqsim(&["mc", s(&file), "--out", s(&mc), "--runs", "2", "--threads", "1", "--quiet"]);
    assert_eq!(m.status.code(), Some(1), "{}", stderr(&m));
    assert!(!mc.join("summary.json").exists());
    assert!(mc.join("outcomes.csv").is_file() && mc.join("fan.png").is_file());

    // The journal is complete: a merge of it into a folder whose last picture fails.
    let merged = dir.join("merged");
    std::fs::create_dir_all(merged.join("hist_liquidated_long.png")).unwrap();
    let g = liqsim(&["merge", "--out", s(&merged), s(&mc), "--quiet"]);
    assert_eq!(g.status.code(), Some(1), "{}", stderr(&g));
    assert!(!merged.join("summary.json").exists());
    assert!(merged.join("outcomes.csv").is_file());
    // With the obstacle gone, the same merge finishes.
    std::fs::remove_dir(merged.join("hist_liquidated_long.png")).unwrap();
    assert!(liqsim(&["merge", "--out", s(&merged), s(&mc), "--quiet"]).status.success());
    assert!(merged.join("summary.json").is_file());
}

#[test]
fn export_to_a_closed_pipe_stops_quietly() {
    let dir = temp_dir("pipe");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let out = dir.join("out");
    assert!(liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]).status.success());
    for format in ["csv", "jsonl"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_liqsim"))
            .args(["events", "export", s(&out.join("events.log")), "--format", format])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // `| head -c 100`: read a little, then close the pipe.
        let mut pipe = child.stdout.take().unwrap();
        let mut first = [0u8; 100];
        std::io::Read::read_exact(&mut pipe, &mut first).unwrap();
        drop(pipe);
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{format}: {}", stderr(&o));
        assert!(stderr(&o).is_empty(), "{format}: quiet, got {}", stderr(&o));
    }
}

#[test]
fn out_naming_a_file_is_bad_input_said_once() {
    let dir = temp_dir("outfile");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let a_file = dir.join("a-file");
    std::fs::write(&a_file, "not a folder").unwrap();
    for args in [
        vec!["run", s(&file), "--out", s(&a_file), "--quiet"],
        vec!["mc", s(&file), "--out", s(&a_file), "--runs", "2", "--quiet"],
        vec!["sweep", s(&file), "--out", s(&a_file), "--runs", "2", "--quiet"],
        vec!["demo", "--out", s(&a_file)],
    ] {
        let o = liqsim(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.matches("is a file, not a folder").count(), 1, "{args:?}: said once: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
    assert_eq!(std::fs::read_to_string(&a_file).unwrap(), "not a folder", "untouched");
}

/// Sends `signal` (`INT`, `TERM`) to the process `pid`, as `kill -s` would.
fn signal(pid: u32, signal: &str) {
    let k = Command::new("kill").args(["-s", signal, &pid.to_string()]).status().expect("kill runs");
    assert!(k.success(), "kill -s {signal} {pid}");
}

/// Waits (up to two minutes) until `ready` holds, or panics naming `what`.
fn wait_until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..1_200 {
        if ready() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("never happened: {what}");
}

/// Every file under `dir` (relative names), sorted.
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn journal_lines(path: &Path) -> usize {
    std::fs::read(path).map(|b| b.iter().filter(|&&c| c == b'\n').count()).unwrap_or(0)
}

#[test]
fn sigterm_and_sigint_leave_nothing_unfinished_and_an_interrupted_mc_resumes() {
    let dir = temp_dir("signals");
    // A run stopped while it writes its event log: exit 143, and the folder holds nothing of it
    // (no temporary log, no lock file, no summary).
    let long = short_copy("btc_14_to_1.ron", &dir, "6h");
    let out = dir.join("run");
    let run = Command::new(env!("CARGO_BIN_EXE_liqsim"))
        .args(["run", s(&long), "--out", s(&out), "--quiet"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lock(&out, run.id());
    wait_until("the run's temporary event log", || {
        files_under(&out).iter().any(|f| f.starts_with(".tmp-") && f.ends_with("events.log"))
    });
    signal(run.id(), "TERM");
    let o = run.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(143), "{}", stderr(&o));
    assert!(stderr(&o).contains("interrupted (SIGTERM)"), "{}", stderr(&o));
    assert_eq!(files_under(&out), Vec::<String>::new(), "nothing of the stopped run is left");

    // A Monte Carlo stopped after some runs: exit 130, its journal whole (every line a checked
    // record), no outputs, no lock; --resume finishes it.
    let file = short_copy("btc_14_to_1.ron", &dir, "20m");
    let mc = dir.join("mc");
    let child = Command::new(env!("CARGO_BIN_EXE_liqsim"))
        .args(["mc", s(&file), "--out", s(&mc), "--runs", "12", "--threads", "1", "--quiet"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("two journalled runs", || journal_lines(&mc.join("runs.jsonl")) >= 2);
    signal(child.id(), "INT");
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted (SIGINT)") && err.contains("--resume"), "{err}");
    let left = files_under(&mc);
    assert!(
        left.iter().all(|f| ["mc.json", "runs.jsonl", "scenario.json"].contains(&f.as_str())),
        "{left:?}"
    );
    let journal = std::fs::read_to_string(mc.join("runs.jsonl")).unwrap();
    assert!(journal.ends_with('\n') && journal.lines().all(|l| l.contains("\"crc32\":\"")), "{journal}");
    let kept = journal.lines().count();
    assert!((2..12).contains(&kept), "{kept} runs journalled");
    assert!(err.contains(&format!("runs.jsonl keeps {kept} finished run(s)")), "{err}");
    let r = liqsim(&["mc", s(&file), "--out", s(&mc), "--resume", "--threads", "2", "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(journal_lines(&mc.join("runs.jsonl")), 12);
    assert!(mc.join("summary.json").is_file());

    // A sweep stopped in its first cell: no lock or temporary anywhere, no summary in the cell.
    let text = std::fs::read_to_string("scenarios/imbalance_sweep.ron").unwrap();
    let sweep_file = dir.join("sweep.ron");
    std::fs::write(&sweep_file, with_horizon(&text, "20m")).unwrap();
    let sw = dir.join("sweep");
    let child = Command::new(env!("CARGO_BIN_EXE_liqsim"))
        .args(["sweep", s(&sweep_file), "--out", s(&sw), "--runs", "50", "--threads", "1", "--quiet"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("a journalled run of cell 0", || journal_lines(&sw.join("cell-000/runs.jsonl")) >= 1);
    signal(child.id(), "INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    let left = files_under(&sw);
    assert!(!left.iter().any(|f| f.contains(".tmp-") || f.contains(".liqsim.lock")), "{left:?}");
    assert!(!left.iter().any(|f| f.ends_with("summary.json") || f == "sweep.csv"), "{left:?}");
}

#[test]
fn export_to_a_file_is_atomic() {
    let dir = temp_dir("export-file");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let out = dir.join("out");
    assert!(liqsim(&["run", s(&file), "--out", s(&out), "--quiet"]).status.success());
    let log = out.join("events.log");
    // To a file: the same bytes as to stdout.
    let target = dir.join("events.csv");
    let o = liqsim(&["events", "export", s(&log), "--output", s(&target)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let piped = liqsim(&["events", "export", s(&log)]);
    assert_eq!(std::fs::read(&target).unwrap(), piped.stdout);
    // A log that breaks off half-way: rows were written before the failure, yet nothing is put
    // at the target (a new one stays absent, an old one untouched) and no temporary is left.
    let bytes = std::fs::read(&log).unwrap();
    let torn = dir.join("torn.log");
    std::fs::write(&torn, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let fresh = dir.join("fresh.csv");
    for (target, before) in [(&fresh, None), (&target, Some(std::fs::read(&target).unwrap()))] {
        let o = liqsim(&["events", "export", s(&torn), "-o", s(target), "--format", "jsonl"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains("torn.log"), "{}", stderr(&o));
        assert_eq!(std::fs::read(target).ok(), before, "{}", target.display());
    }
    assert!(!files_under(&dir).iter().any(|f| f.contains(".tmp-")), "{:?}", files_under(&dir));
    // A folder as the target, or a missing folder: bad input, said once.
    for target in [dir.clone(), dir.join("nope/events.csv")] {
        let o = liqsim(&["events", "export", s(&log), "--output", s(&target)]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).starts_with("--output "), "{}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    }
}

#[test]
fn the_resource_budget_refuses_each_bomb_before_any_work_unless_forced() {
    let dir = temp_dir("budget");
    let btc = std::fs::read_to_string("scenarios/btc_14_to_1.ron").unwrap();
    let fcn = std::fs::read_to_string("scenarios/fcn_stylized_facts.ron").unwrap();
    let edit = |text: &str, from: &str, to: &str| {
        assert!(text.contains(from), "{from}");
        text.replace(from, to)
    };
    // (name, scenario, extra flags, what the refusal must name)
    let bombs: Vec<(&str, String, Vec<&str>, Vec<&str>)> = vec![
        (
            "map-bucket",
            edit(&btc, "map_bucket_usd: 250.0", "map_bucket_usd: 0.1"),
            vec![],
            vec!["of memory, more than the limit of 4.0 GB (--max-memory)", "market.map_bucket_usd"],
        ),
        (
            "heatmap-every-second",
            edit(&btc, "heatmap_interval: \"1m\"", "heatmap_interval: \"1s\""),
            vec!["--max-memory", "1G"],
            vec!["more than the limit of 1.0 GB (--max-memory)", "outputs.heatmap_interval"],
        ),
        (
            "noise-orders",
            edit(&btc, "market_orders_per_second: 0.5", "market_orders_per_second: 1e6"),
            vec![],
            vec![
                "of disk, more than the limit of 4.0 GB (--max-disk)",
                "the event log",
                "background.noise.params",
            ],
        ),
        (
            "fcn-decisions",
            edit(&fcn, "decisions_per_second: 300.0", "decisions_per_second: 1e7"),
            vec![],
            vec!["of computing", "(--max-time)", "background.fcn.decisions_"],
        ),
        (
            "longest-horizon",
            edit(&btc, "horizon: \"6h\"", "horizon: \"115d\""),
            vec![],
            vec!["(--max-disk)", "the event log", "horizon"],
        ),
    ];
    for (name, text, flags, needles) in &bombs {
        let file = dir.join(format!("{name}.ron"));
        std::fs::write(&file, text).unwrap();
        let out = dir.join(format!("out-{name}"));
        for command in ["validate", "run"] {
            let mut args = vec![command, s(&file)];
            if command == "run" {
                args.extend(["--out", s(&out), "--quiet"]);
            }
            args.extend(flags.iter().copied());
            let o = liqsim(&args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{name} {command}: {err}");
            assert!(err.starts_with("resource budget: an estimated "), "{name}: {err}");
            for needle in needles {
                assert!(err.contains(needle), "{name}: {needle:?} not in {err}");
            }
            assert!(err.contains("--force"), "{err}");
        }
        assert!(!out.exists(), "{name}: refused before any work");
    }
    // The FCN window bomb is refused by validation itself.
    let window = dir.join("window.ron");
    std::fs::write(&window, edit(&fcn, "time_window: (60.0, 600.0)", "time_window: (1e12, 1e12)")).unwrap();
    let o = liqsim(&["validate", s(&window)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("background.fcn.params.time_window"), "{}", stderr(&o));
    // A Monte Carlo counts every run; the limits are the user's; --force runs anyway.
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let mc = liqsim(&["mc", s(&file), "--runs", "100000", "--max-time", "1h", "--out", s(&dir.join("mc"))]);
    assert_eq!(mc.status.code(), Some(2), "{}", stderr(&mc));
    assert!(stderr(&mc).contains("runs at 200k a second)"), "{}", stderr(&mc));
    let out = dir.join("forced");
    let refused = liqsim(&["run", s(&file), "--max-disk", "1M", "--out", s(&out), "--quiet"]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    let forced = liqsim(&["run", s(&file), "--max-disk", "1M", "--force", "--out", s(&out), "--quiet"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert!(stderr(&forced).starts_with("warning (--force): resource budget:"), "{}", stderr(&forced));
    assert!(out.join("summary.json").is_file());
    let v = liqsim(&["validate", "scenarios/btc_14_to_1.ron"]);
    assert!(stdout(&v).contains("a run takes about "), "{}", stdout(&v));
    let bad = liqsim(&["validate", "scenarios/btc_14_to_1.ron", "--max-memory", "lots"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).starts_with("--max-memory: \"lots\" is not a size"), "{}", stderr(&bad));
}

#[test]
fn a_map_whose_counterparties_would_be_liquidated_near_the_price_is_refused_by_validate() {
    // Whether a counterparty is safe depends on the drawn map: validation draws the map a run
    // with the scenario's seed draws, so `validate` refuses it (exit 2, naming the field), and
    // `run` and `mc` refuse it before any work.
    let dir = temp_dir("map-refused");
    let text = std::fs::read_to_string(short_copy("btc_14_to_1.ron", &dir, "1m")).unwrap();
    let file = dir.join("close.ron");
    assert!(text.contains("counterparty_leverage: 1,"));
    std::fs::write(&file, text.replace("counterparty_leverage: 1,", "counterparty_leverage: 100,")).unwrap();
    for args in [
        vec!["validate", s(&file)],
        vec!["run", s(&file), "--out", s(&dir.join("run")), "--quiet"],
        vec!["mc", s(&file), "--runs", "1", "--out", s(&dir.join("mc")), "--quiet"],
    ] {
        let o = liqsim(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("map.counterparty_leverage: counterparty"), "{}", stderr(&o));
        assert!(stderr(&o).contains("lower counterparty_leverage (now 100)"), "{}", stderr(&o));
    }
    assert!(!dir.join("run/summary.json").exists());
    assert!(!dir.join("mc/mc.json").exists());
}

/// A tiny world (250 map accounts, 10 minutes, no value traders) with a sensitivity section: a
/// parameter that cannot matter (the size of value traders there are none of), one that must
/// (the fair value's drift), and the book's depth.
const TINY_SENSITIVITY: &str = r#"(
    name: "tiny_sensitivity",
    seed: 7,
    horizon: "10m",
    map: (
        bands: [
            (side: Short, liq_low_usd: 72500.0, liq_high_usd: 76000.0, notional_usd: 1.4e9, shape: Rising,
             leverage: [(leverage: 5, weight: 1.0), (leverage: 10, weight: 1.0)], accounts: 150),
            (side: Long, liq_low_usd: 67000.0, liq_high_usd: 70500.0, notional_usd: 0.1e9, shape: Rising,
             leverage: [(leverage: 10, weight: 1.0), (leverage: 20, weight: 1.0)], accounts: 100),
        ],
        counterparty_leverage: 1,
    ),
    index: (volatility_pct_per_hour: 3.0),
    value: (traders: 0),
    watch_levels: [72000.0, 71000.0],
    outputs: (pictures: false, event_log: false),
    monte_carlo: (runs: 4),
    sensitivity: (
        parameters: [
            (name: "value.max_position_usd", low: 1e7, high: 1e9),
            (name: "index.drift_pct", low: -20.0, high: 20.0),
            (name: "liquidity.depth_scale", low: 0.5, high: 2.0),
        ],
        points: 3,
        metrics: ["final_price", "p_touch_72000", "max_price"],
        morris: (trajectories: 3),
    ),
)"#;

#[test]
fn sensitivity_writes_its_outputs_the_same_whatever_the_threads_and_a_parameter_that_cannot_matter_has_no_swing()
 {
    let dir = temp_dir("sensitivity");
    let file = dir.join("tiny.ron");
    std::fs::write(&file, TINY_SENSITIVITY).unwrap();
    let (a, b) = (dir.join("a"), dir.join("b"));
    let r = liqsim(&["sensitivity", s(&file), "--out", s(&a), "--threads", "1", "--quiet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stdout(&r).is_empty(), "--quiet prints nothing");
    let r = liqsim(&["sensitivity", s(&file), "--out", s(&b), "--threads", "3", "--format", "parquet"]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(stdout(&r).contains("index.drift_pct"), "{}", stdout(&r));
    for f in
        ["sensitivity.csv", "morris.csv", "sensitivity.txt", "tornado.png", "scenario.json", "summary.json"]
    {
        let (x, y) = (std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap());
        assert!(!x.is_empty() && x == y, "{f} differs between 1 and 3 threads");
    }
    assert_eq!(files_under(&a).len(), 6, "{:?}", files_under(&a));
    // --format parquet adds the two tables as Parquet, cell for cell the CSVs'.
    assert_eq!(files_under(&b).len(), 8, "{:?}", files_under(&b));
    use parquet::record::Field;
    let oat = parquet_matches_csv(&b.join("sensitivity.parquet"), &b.join("sensitivity.csv"));
    // The base rows (one per metric) have no value; every other row's is a number.
    assert!(oat[..3].iter().all(|r| r[1].1 == Field::Null), "{:?}", &oat[..3]);
    assert!(oat[3..].iter().all(|r| matches!(r[1].1, Field::Double(_))));
    let effects = parquet_matches_csv(&b.join("morris.parquet"), &b.join("morris.csv"));
    assert!(effects.iter().all(|r| matches!(r[5].1, Field::ULong(_))), "{effects:?}");

    // One row per metric at the base, then per parameter, value and metric.
    let csv = std::fs::read_to_string(a.join("sensitivity.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("parameter,value,metric,estimate,lo,hi"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3 + 3 * 3 * 3);
    assert!(rows.iter().all(|r| r.len() == 6 && !r[3].is_empty()), "{csv}");
    let at = |parameter: &str, metric: &str| -> Vec<f64> {
        rows.iter().filter(|r| r[0] == parameter && r[2] == metric).map(|r| r[3].parse().unwrap()).collect()
    };
    let values: Vec<&str> =
        rows.iter().filter(|r| r[0] == "index.drift_pct" && r[2] == "final_price").map(|r| r[1]).collect();
    assert_eq!(values, ["-20", "0", "20"]);

    // The same seeds at every point: a parameter that changes no run changes nothing at all.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(a.join("summary.json")).unwrap()).unwrap();
    let swing = |parameter: &str, metric: &str| -> f64 {
        summary["swings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["parameter"] == parameter && s["metric"] == metric)
            .and_then(|s| s["swing"].as_f64())
            .unwrap()
    };
    for metric in ["final_price", "p_touch_72000", "max_price"] {
        assert_eq!(swing("value.max_position_usd", metric), 0.0, "{metric}");
        let v = at("value.max_position_usd", metric);
        assert!(v.iter().all(|x| *x == v[0]), "{metric}: {v:?}");
    }
    // A 40% swing of the fair value's drift moves the final price by thousands, upward.
    let drift = at("index.drift_pct", "final_price");
    assert!(drift[0] < drift[1] && drift[1] < drift[2], "{drift:?}");
    assert!(swing("index.drift_pct", "final_price") > 5_000.0, "{drift:?}");
    // Morris agrees: no effect where none can be, a large one where it must.
    let morris = std::fs::read_to_string(a.join("morris.csv")).unwrap();
    assert!(morris.lines().any(|l| l == "value.max_position_usd,final_price,0,0,0,3"), "{morris}");
    let drift_mu_star: f64 = morris
        .lines()
        .find(|l| l.starts_with("index.drift_pct,final_price,"))
        .and_then(|l| l.split(',').nth(2))
        .unwrap()
        .parse()
        .unwrap();
    assert!(drift_mu_star > 5_000.0, "{morris}");
    // The table sorts by swing: the drift first.
    let txt = std::fs::read_to_string(a.join("sensitivity.txt")).unwrap();
    let block = txt.split("\nfinal_price = ").nth(1).unwrap();
    let first = block.lines().nth(2).unwrap();
    assert!(first.trim_start().starts_with("index.drift_pct"), "{txt}");
}

#[test]
fn bad_sensitivity_input_exits_2_with_where_and_what_and_an_interrupted_one_leaves_no_output() {
    let dir = temp_dir("sensitivity-bad");
    let file = dir.join("tiny.ron");
    std::fs::write(&file, TINY_SENSITIVITY).unwrap();
    let out = dir.join("o");
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let metric = write("metric.ron", TINY_SENSITIVITY.replace("\"p_touch_72000\"", "\"p_touch_99\""));
    let range = write("range.ron", TINY_SENSITIVITY.replace("low: 0.5, high: 2.0", "low: 2.0, high: 0.5"));
    let none =
        write("none.ron", TINY_SENSITIVITY.split("    sensitivity:").next().unwrap().to_string() + ")");
    for (args, needle) in [
        (
            vec![s(&metric)],
            "metric.ron: sensitivity.metrics[1]: unknown metric \"p_touch_99\"; one of: p_touch_72000",
        ),
        (vec![s(&range)], "range.ron: sensitivity.parameters[2].high: must be above low (2), got 0.5"),
        (vec![s(&none)], "none.ron: sensitivity: the scenario has no sensitivity section"),
        (vec![s(&file), "--points", "1"], "--points: must be 2..=1000, got 1"),
        (vec![s(&file), "--runs", "0"], "--runs: must be 1..=1000000, got 0"),
        (vec![s(&file), "--threads", "0"], "--threads: must be at least 1"),
    ] {
        let mut all = vec!["sensitivity"];
        all.extend(args.iter().copied());
        all.extend(["--out", s(&out), "--quiet"]);
        let r = liqsim(&all);
        assert_eq!(r.status.code(), Some(2), "{args:?}: {}", stderr(&r));
        assert!(stderr(&r).contains(needle), "{args:?}: {}", stderr(&r));
        assert!(!out.join("summary.json").exists());
    }

    // Stopped mid-way: exit 130, and nothing in the folder (no output, no lock, no temporary).
    let child = Command::new(env!("CARGO_BIN_EXE_liqsim"))
        .args(["sensitivity", s(&file), "--out", s(&out), "--runs", "400", "--threads", "1", "--quiet"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_lock(&out, child.id());
    std::thread::sleep(std::time::Duration::from_millis(300));
    signal(child.id(), "INT");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(stderr(&o).contains("run `liqsim sensitivity` again"), "{}", stderr(&o));
    assert_eq!(files_under(&out), Vec::<String>::new());
}

/// The page's headline element for the JSON pointer `key`, holding summary.json's value there.
fn headline_in(page: &str, summary: &serde_json::Value, key: &str) -> bool {
    let value = summary.pointer(key).unwrap_or_else(|| panic!("{key} not in summary.json"));
    let raw = value.as_str().map_or_else(|| value.to_string(), str::to_string);
    page.contains(&format!("data-key=\"{key}\" data-value=\"{raw}\""))
}

/// Nothing of the page is fetched from elsewhere: no http(s) source, link or stylesheet import.
fn self_contained(page: &str) {
    let lower = page.to_lowercase();
    for needle in [
        "src=\"http",
        "src='http",
        "href=\"http",
        "href='http",
        "url(http",
        "@import",
        "<script src",
        "<link",
    ] {
        assert!(!lower.contains(needle), "the page fetches something: {needle:?}");
    }
}

#[test]
fn report_of_a_run_and_a_monte_carlo_is_one_self_contained_page_with_the_headline_numbers() {
    let dir = temp_dir("report");
    let file = short_copy("btc_14_to_1.ron", &dir, "5m");
    let run = dir.join("run");
    assert!(liqsim(&["run", s(&file), "--out", s(&run), "--quiet"]).status.success());
    assert!(!run.join("report.html").exists(), "no report unless asked");
    let r = liqsim(&["report", s(&run)]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(stdout(&r).trim(), format!("report: {}", run.join("report.html").display()));
    let page = std::fs::read_to_string(run.join("report.html")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    self_contained(&page);
    for key in
        ["/final_price", "/max_price", "/min_price", "/liquidated_notional_long", "/hunter_pnl", "/events"]
    {
        assert!(headline_in(&page, &summary, key), "{key}");
    }
    // The printed summary's words, the scenario as the folder stores it, the pictures inline.
    assert!(page.contains("liqsim run: btc_14_to_1 (seed 42)"));
    assert!(page.contains("&quot;name&quot;: &quot;btc_14_to_1&quot;"), "the scenario, escaped");
    assert!(page.matches("src=\"data:image/png;base64,").count() >= 3);
    assert!(
        page.contains("id=\"price-data\"")
            && page.contains("Watch levels")
            && page.contains("Biggest cascades")
    );
    let canonical: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("scenario.json")).unwrap()).unwrap();
    assert_eq!(canonical["horizon"], "5m");

    // A Monte Carlo with --report: its intervals and distributions; a second run of the folder
    // with the same flag replaces the page.
    let mc = dir.join("mc");
    let m =
        liqsim(&["mc", s(&file), "--out", s(&mc), "--runs", "3", "--threads", "2", "--quiet", "--report"]);
    assert!(m.status.success(), "{}", stderr(&m));
    assert!(stdout(&m).is_empty(), "--quiet says nothing, report or not");
    let page = std::fs::read_to_string(mc.join("report.html")).unwrap();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(mc.join("summary.json")).unwrap()).unwrap();
    self_contained(&page);
    let names: Vec<&str> =
        summary["probabilities"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    let squeeze = names.iter().position(|n| *n == "squeeze_down").unwrap();
    assert!(headline_in(&page, &summary, &format!("/probabilities/{squeeze}/p")));
    assert!(headline_in(&page, &summary, "/runs"));
    let lo = summary["probabilities"][squeeze]["lo"].as_f64().unwrap();
    assert!(page.contains(&format!("{:.1}–", lo * 100.0)), "the Wilson interval is shown");
    for picture in ["fan.png", "hist_final_price.png"] {
        assert!(page.contains(&format!("({picture})</figcaption>")), "{picture}");
    }
    // A new Monte Carlo into the folder takes the old page away with the old outputs.
    let m = liqsim(&["mc", s(&file), "--out", s(&mc), "--runs", "2", "--threads", "2", "--quiet"]);
    assert!(m.status.success(), "{}", stderr(&m));
    assert!(!mc.join("report.html").exists(), "a report of the previous Monte Carlo");
}

#[test]
fn a_report_of_a_folder_it_cannot_read_is_bad_input_naming_the_file_and_leaves_no_page() {
    let dir = temp_dir("report-bad");
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let r = liqsim(&["report", s(&empty)]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(
        stderr(&r).contains(&format!("{}: not a liqsim output folder", empty.display())),
        "{}",
        stderr(&r)
    );
    let r = liqsim(&["report", s(&dir.join("nowhere"))]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("no such folder"), "{}", stderr(&r));

    // A run whose summary.json is cut short: the file, the line and column, and what.
    let file = short_copy("btc_14_to_1.ron", &dir, "2m");
    let run = dir.join("run");
    assert!(liqsim(&["run", s(&file), "--out", s(&run), "--quiet"]).status.success());
    let text = std::fs::read_to_string(run.join("summary.json")).unwrap();
    std::fs::write(run.join("summary.json"), &text[..text.len() / 2]).unwrap();
    let r = liqsim(&["report", s(&run)]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    let said = stderr(&r);
    assert!(
        said.contains(&format!("{}:", run.join("summary.json").display())) && said.contains("EOF"),
        "{said}"
    );
    // Its ticks damaged instead: the file and line.
    std::fs::write(run.join("summary.json"), &text).unwrap();
    let ticks = std::fs::read_to_string(run.join("ticks.csv")).unwrap();
    std::fs::write(run.join("ticks.csv"), ticks.replacen("\n1,", "\n1,x", 1)).unwrap();
    let r = liqsim(&["report", s(&run)]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("ticks.csv:2: last is not a number"), "{}", stderr(&r));

    // A shard has no report: say what to do instead, before any run.
    let shard = dir.join("shard");
    let m =
        liqsim(&["mc", s(&file), "--out", s(&shard), "--runs", "2", "--shard", "0/2", "--quiet", "--report"]);
    assert_eq!(m.status.code(), Some(2), "{}", stderr(&m));
    assert!(stderr(&m).contains("--report: a shard has no report"), "{}", stderr(&m));
    assert!(!shard.exists(), "nothing was run");
    // Nor outcomes of its own in Parquet.
    let m = liqsim(&[
        "mc",
        s(&file),
        "--out",
        s(&shard),
        "--runs",
        "2",
        "--shard",
        "0/2",
        "--quiet",
        "--format",
        "parquet",
    ]);
    assert_eq!(m.status.code(), Some(2), "{}", stderr(&m));
    assert!(stderr(&m).contains("--format parquet: a shard writes no outcomes"), "{}", stderr(&m));
    assert!(!shard.exists(), "nothing was run");
    assert!(
        liqsim(&["mc", s(&file), "--out", s(&shard), "--runs", "2", "--shard", "0/2", "--quiet"])
            .status
            .success()
    );
    let r = liqsim(&["report", s(&shard)]);
    assert_eq!(r.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("merge the shards"), "{}", stderr(&r));
    for folder in [&empty, &run, &shard] {
        let left: Vec<String> = files_under(folder);
        assert!(!left.iter().any(|f| f.contains("report.html") || f.contains(".tmp-")), "{left:?}");
    }
}

/// A Parquet table has the CSV's header as its columns and, row for row, its cells: an integer
/// as a uint64, a number as a double, text as a string, an empty cell as null. Returns the rows.
fn parquet_matches_csv(parquet: &Path, csv: &Path) -> Vec<Vec<(String, parquet::record::Field)>> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let csv = std::fs::read_to_string(csv).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cells: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let reader = SerializedFileReader::new(std::fs::File::open(parquet).unwrap()).unwrap();
    let rows: Vec<Vec<(String, Field)>> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap().get_column_iter().map(|(n, f)| (n.clone(), f.clone())).collect())
        .collect();
    assert!(!rows.is_empty(), "{}: no rows", parquet.display());
    assert_eq!(rows.len(), cells.len(), "{}", parquet.display());
    for (row, cell) in rows.iter().zip(&cells) {
        let names: Vec<&str> = row.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, header);
        for ((name, field), text) in row.iter().zip(cell) {
            match field {
                Field::ULong(v) => assert_eq!(v.to_string(), *text, "{name}"),
                Field::Double(v) => assert_eq!(*v, text.parse::<f64>().unwrap(), "{name}"),
                Field::Str(v) => assert_eq!(v, text, "{name}"),
                Field::Null => assert!(text.is_empty(), "{name}: null for {text:?}"),
                other => panic!("{name}: unexpected {other:?}"),
            }
        }
    }
    rows
}

/// `sweep --format parquet`: sweep.parquet holds sweep.csv's cells typed (the cell a uint64, a
/// numeric axis a double, a named one a string, a metric a double or null where the CSV is
/// empty), and every cell has its outcomes.parquet.
#[test]
fn a_sweep_in_parquet_holds_its_csv_cells_typed() {
    use parquet::record::Field;
    let dir = temp_dir("sweep-parquet");
    let file = short_copy("imbalance_sweep.ron", &dir, "5m");
    let text = std::fs::read_to_string(&file).unwrap();
    let small = text
        .replace("values: [1.0, 2.0, 4.0, 8.0, 14.0, 20.0, 30.0]", "values: [1.0, 14.0]")
        .replace(r#"values: ["none", "up", "down", "adaptive"]"#, r#"values: ["none", "down"]"#);
    assert!(small.contains("values: [1.0, 14.0]") && small.contains(r#"values: ["none", "down"]"#));
    std::fs::write(&file, small).unwrap();
    let out = dir.join("sweep");
    let o = liqsim(&["sweep", s(&file), "--out", s(&out), "--runs", "2", "--format", "parquet", "--quiet"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = parquet_matches_csv(&out.join("sweep.parquet"), &out.join("sweep.csv"));
    assert_eq!(rows.len(), 4);
    for row in &rows {
        assert!(matches!(row[0].1, Field::ULong(_)) && matches!(row[1].1, Field::Double(_)));
        assert!(matches!(row[2].1, Field::Str(_)), "hunters.mode is named: {:?}", row[2]);
    }
    for k in 0..4 {
        assert!(out.join(format!("cell-{k:03}/outcomes.parquet")).is_file(), "cell {k}");
    }
}
