"""How fast a fall happens, over seeds: hours for the last price to first lose 5% and 9% of the
start, the largest one-minute move, what was liquidated, taken over by the insurance fund and
auto-deleveraged, and the hunters' PnL — for the scenario and variants of it (docs/market.md,
`jan_2025_down_hunt`).

    cargo build --release
    python3 tools/fall_timing.py scenarios/jan_2025_down_hunt.ron 20 \
      '[["as bundled", []], ["no hunting budget", [["budget_usd: 3e9", "budget_usd: 0.0"], ["budget_usd: 3e9", "budget_usd: 0.0"]]],
        ["hunters at the default $10M a second", [["pace_usd_per_second: 3e5", "pace_usd_per_second: 1e7"], ["pace_usd_per_second: 3e5", "pace_usd_per_second: 1e7"]]]]'

Each variant is a list of (text, replacement) edits applied to the scenario file. A run that never
loses 9% counts as the horizon.
"""
import csv, json, pathlib, re, shutil, statistics, subprocess, sys, tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = str(ROOT / "target/release/liqsim")
TMP = tempfile.mkdtemp(prefix="liqsim-fall-")


def one(scn, seed, tag):
    out = f"{TMP}/{tag}_{seed}"
    subprocess.run([BIN, "run", scn, "--seed", str(seed), "--out", out, "--quiet"], check=True)
    rows = list(csv.DictReader(open(out + "/ticks.csv")))
    s = json.load(open(out + "/summary.json"))
    shutil.rmtree(out, ignore_errors=True)
    last = [float(r["last"]) for r in rows]
    start = last[0]

    def first(loss):
        return next((i for i, x in enumerate(last) if x <= start * (1 - loss)), len(last)) / 3600

    move = max(abs(last[i] / last[i - 60] - 1) for i in range(60, len(last)))
    liquidated = s["liquidated_notional_long"] + s["liquidated_notional_short"]
    return {
        "h5": first(0.05),
        "h9": first(0.09),
        "move": move,
        "liq": liquidated,
        "takeover": s["insurance_takeover_notional"],
        "adl": s["adl_notional"],
        "hunter": s["hunter_pnl"],
    }


def one_second_ticks(path):
    """These tools count rows of ticks.csv as seconds: refuse another tick length."""
    m = re.search(r'\btick:\s*"([^"]+)"', open(path).read())
    if m and m.group(1) not in ("1s", "00:00:01"):
        sys.exit(f"{path}: tick is {m.group(1)}; this tool reads ticks.csv rows as seconds (use a 1s tick)")


if __name__ == "__main__":
    scn, seeds, variants = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    one_second_ticks(scn)
    print(f"{seeds} runs per variant of {scn}; medians [10th – 90th percentile]")
    print("| variant | hours to −5% | hours to −9% | largest 1-min move | liquidated $M | taken over $M | ADL $M | hunters' PnL $M |")
    print("|---|---|---|---|---|---|---|---|")
    for k, (name, edits) in enumerate(variants):
        text = open(scn).read()
        for a, b in edits:
            assert a in text, a
            text = text.replace(a, b, 1)
        path = f"{TMP}/v{k}.ron"
        open(path, "w").write(text)
        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda sd: one(path, sd, f"v{k}"), range(1, seeds + 1)))

        def cell(key, fmt, scale=1.0):
            xs = sorted(r[key] * scale for r in runs)
            lo, hi = xs[int(0.1 * len(xs))], xs[min(len(xs) - 1, int(0.9 * len(xs)))]
            return f"{fmt.format(statistics.median(xs))} [{fmt.format(lo)} – {fmt.format(hi)}]"

        print(f"| {name} | {cell('h5', '{:.1f}')} | {cell('h9', '{:.1f}')} | {cell('move', '{:.1f}%', 100)} | "
              f"{cell('liq', '{:,.0f}', 1e-6)} | {cell('takeover', '{:,.0f}', 1e-6)} | {cell('adl', '{:,.0f}', 1e-6)} | "
              f"{cell('hunter', '{:,.0f}', 1e-6)} |")
