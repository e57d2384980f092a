"""Tick invariance of a scenario's headline outcomes: Monte Carlo medians at several tick
lengths, and each one's change against the first (docs/market.md, "Time, not ticks").

    cargo build --release
    python3 tools/tick_invariance.py scenarios/btc_14_to_1.ron 100 1 2

Runs `liqsim mc` on copies of the scenario whose `tick` is replaced, then prints the median
drawdown (max_drawdown_pct), rise, liquidated notional, hunter PnL and minutes to each watch level
(median over the runs that touched it) and how many runs touched it, and the median count of
cascades and largest cascade's notional. Then, for each tick after
the first, `liqsim compare` against the first: the change in each headline median with its 95%
bootstrap interval, in percent of the first tick's median's size (negative: lower; with 20 runs
a hunter's PnL, a small difference of large legs, moves by tens of percent from sampling alone:
the interval says how much of a change is the tick). The Monte Carlo folders are made in a
temporary folder that is deleted at the end.
"""
import csv, os, pathlib, re, shutil, statistics, subprocess, sys, tempfile
ROOT = pathlib.Path(__file__).resolve().parent.parent
# LIQSIM_BIN: another build to measure (e.g. an older commit's, built in a worktree).
BIN = os.environ.get("LIQSIM_BIN", str(ROOT / "target/release/liqsim"))


def medians(path):
    rows = list(csv.DictReader(open(path)))
    med = lambda xs: statistics.median(xs) if xs else float("nan")
    out = {
        "drawdown %": med([float(r["max_drawdown_pct"]) for r in rows]),
        "rise %": med([float(r["max_runup_pct"]) for r in rows]),
        "liquidated $M": med([(float(r["liquidated_notional_long"]) + float(r["liquidated_notional_short"])) / 1e6 for r in rows]),
        "hunter PnL $M": med([float(r["hunter_pnl"]) / 1e6 for r in rows]),
        "cascades": med([float(r["cascade_count"]) for r in rows]),
        "largest cascade $M": med([float(r["largest_cascade_usd"]) / 1e6 for r in rows]),
    }
    for k in rows[0]:
        if k.startswith("minutes_to_"):
            xs = [float(r[k]) for r in rows if r[k] not in ("", "nan")]
            out[f"min to {k[11:]}"] = med(xs)
            out[f"runs reaching {k[11:]}"] = len(xs)
    return out


def main():
    src, runs, ticks = sys.argv[1], sys.argv[2], sys.argv[3:]
    text = open(src).read()
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="liqsim-ticks-"))
    # A scenario may read a heatmap export beside it (map.csv): the copies need it too.
    maps = pathlib.Path(src).resolve().parent / "maps"
    if maps.is_dir():
        shutil.copytree(maps, tmp / "maps")
    try:
        report(text, runs, ticks, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report(text, runs, ticks, tmp):
    results = []
    for t in ticks:
        scn = tmp / f"t{t}.ron"
        scn.write_text(re.sub(r'tick: "\d+s"', f'tick: "{t}s"', text, count=1))
        out = tmp / f"out{t}"
        subprocess.run([BIN, "mc", str(scn), "--runs", runs, "--out", str(out), "--quiet"], check=True)
        results.append(medians(out / "outcomes.csv"))
    keys = list(results[0])
    print(f"{'median of ' + runs + ' runs':28s}" + "".join(f"{t + ' s tick':>14s}" for t in ticks))
    for k in keys:
        base = results[0].get(k, float("nan"))
        cells = []
        for r in results:
            v = r.get(k, float("nan"))
            # As a share of the first median's size: a hunter's loss that grows is negative.
            change = (v - base) / abs(base) * 100 if base not in (0.0,) and base == base and v == v else float("nan")
            cells.append(f"{v:8.1f}" + (f" {change:+4.0f}%" if r is not results[0] else "      "))
        print(f"{k:28s}" + "".join(f"{c:>14s}" for c in cells))
    headline = ["max_drawdown_pct", "max_runup_pct", "liquidated_notional_long", "liquidated_notional_short", "hunter_pnl",
                "cascade_count", "largest_cascade_usd"]
    for t in ticks[1:]:
        cmp = tmp / f"cmp{t}"
        subprocess.run([BIN, "compare", str(tmp / f"out{ticks[0]}"), str(tmp / f"out{t}"), "--out", str(cmp)],
                       check=True, stdout=subprocess.DEVNULL)
        rows = list(csv.DictReader(open(cmp / "compare.csv")))
        first = {r["name"]: float(r["value"]) for r in rows if r["kind"] == "outcome" and r["label"] == "A"}
        print(f"\n{t} s against {ticks[0]} s: change of the median, 95% bootstrap interval, % of the {ticks[0]} s median")
        for r in rows:
            if r["kind"] != "outcome_diff" or r["name"] not in headline:
                continue
            base = first.get(r["name"], 0.0)
            pct = lambda x: f"{x / abs(base) * 100:+.0f}%" if base else "n/a"
            d, lo, hi = float(r["value"]), float(r["lo"]), float(r["hi"])
            print(f"{r['name']:28s}{d:+14.4g} [{lo:+.4g}, {hi:+.4g}]   {pct(d)} [{pct(lo)}, {pct(hi)}]")


if __name__ == "__main__":
    main()
