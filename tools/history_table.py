"""The October 2025 replication beside history (docs/market.md): over seeds, the drawdown of the
mark from the start, the share of the run's liquidations in the first hour after the headline,
and the rebound (the share of the drawdown given back): the highest within three hours of the
low, and where the mark stands three hours after it.

    cargo build --release
    python3 tools/history_table.py scenarios/history/oct_10_2025.ron 40 [headline_minute=10]
"""
import csv, json, pathlib, re, statistics, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = str(ROOT / "target/release/liqsim")
TMP = tempfile.mkdtemp(prefix="liqsim-history-")


def one(scn, seed, headline_s):
    out = f"{TMP}/o{seed}"
    subprocess.run([BIN, "run", scn, "--seed", str(seed), "--out", out, "--quiet"], check=True)
    rows = list(csv.DictReader(open(out + "/ticks.csv")))
    s = json.load(open(out + "/summary.json"))
    mark = [float(r["mark"]) for r in rows]
    liq = [float(r["liquidated_long_usd"]) + float(r["liquidated_short_usd"]) for r in rows]
    start = mark[0]
    low = min(range(len(mark)), key=lambda i: mark[i])
    drawdown = 1 - mark[low] / start
    after = min(len(mark) - 1, low + 3 * 3600)
    fall = start - mark[low]
    rebound = (mark[after] - mark[low]) / fall if fall > 0 else 0.0
    best = (max(mark[low : after + 1]) - mark[low]) / fall if fall > 0 else 0.0
    total = sum(liq)
    first_hour = sum(liq[headline_s : headline_s + 3600]) / total if total > 0 else 0.0
    return {
        "drawdown": drawdown,
        "low_min": (low - headline_s) / 60,
        "first_hour": first_hour,
        "rebound": rebound,
        "best": best,
        "liquidated": total,
        "adl": s["adl_notional"],
        "takeover": s["insurance_takeover_notional"],
        "value_pnl": s["value_pnl"],
        "rebound_full": after > low + 3 * 3600 - 1,
    }


def q(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def one_second_ticks(path):
    """These tools count rows of ticks.csv as seconds: refuse another tick length."""
    m = re.search(r'\btick:\s*"([^"]+)"', open(path).read())
    if m and m.group(1) not in ("1s", "00:00:01"):
        sys.exit(f"{path}: tick is {m.group(1)}; this tool reads ticks.csv rows as seconds (use a 1s tick)")


if __name__ == "__main__":
    scn, seeds = sys.argv[1], int(sys.argv[2])
    one_second_ticks(scn)
    headline_s = 60 * int(sys.argv[3]) if len(sys.argv) > 3 else 600
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda k: one(scn, k, headline_s), range(1, seeds + 1)))
    if not all(r["rebound_full"] for r in runs):
        print("note: some runs end before three hours after their low; their rebound is at the horizon")
    def row(name, key, fmt, scale=1.0):
        xs = [r[key] * scale for r in runs]
        return f"| {name} | {fmt.format(statistics.median(xs))} | {fmt.format(q(xs, 0.1))} – {fmt.format(q(xs, 0.9))} |"
    print(f"{seeds} runs of {scn}")
    print("| outcome | median | 10th – 90th percentile |")
    print("|---|---|---|")
    print(row("drawdown of the mark", "drawdown", "{:.1f}%", 100))
    print(row("minutes from the headline to the low", "low_min", "{:.0f}"))
    print(row("liquidations in the first hour", "first_hour", "{:.0f}%", 100))
    print(row("rebound: highest within 3 h of the low (share of the drawdown)", "best", "{:.0f}%", 100))
    print(row("rebound: where it stands 3 h after the low", "rebound", "{:.0f}%", 100))
    print(row("liquidated notional ($M)", "liquidated", "{:,.0f}", 1e-6))
    print(row("insurance takeovers ($M)", "takeover", "{:,.0f}", 1e-6))
    print(row("ADL ($M)", "adl", "{:,.0f}", 1e-6))
    print(row("value traders' PnL ($M)", "value_pnl", "{:,.0f}", 1e-6))
    inside = sum(0.12 <= r["drawdown"] <= 0.17 for r in runs)
    print(f"runs with a drawdown within −12% to −17%: {inside}/{seeds}")
