#!/usr/bin/env python3
"""The same scenario, seed and map under each venue's liquidation chain, side by side.

    cargo build --release
    python3 tools/venue_table.py [SCENARIO.ron ...]      # default: the seed, Jan 2025, the control

For each scenario it writes a copy per venue preset (market.venue), runs it with
target/release/liqsim, and prints one Markdown table row per run: liquidated notional,
accounts (and triggers), insurance-fund takeovers, ADL, ADL as a share of liquidated notional,
the fund's PnL on what it took over, the largest fall of the traded price from a running peak
(each tick's lowest trade against the highest before it), and the lowest price. This is the table in docs/venues.md.
"""

import csv
import json
import pathlib
import re
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
PRESETS = ["Binance", "Bybit", "Hyperliquid"]
DEFAULT = ["btc_14_to_1.ron", "jan_2025_down_hunt.ron", "symmetric_control.ron"]


def with_venue(text, venue, name):
    text = text.replace("market: (", f"market: (\n        venue: {venue},", 1)
    return re.sub(r'name: "[^"]*"', f'name: "{name}"', text, count=1)


def max_drawdown(ticks_csv):
    # A tick's lowest and highest trade (its close in a ticks.csv written before those columns).
    peak, worst = None, 0.0
    with open(ticks_csv) as f:
        for row in csv.DictReader(f):
            low, high = float(row.get("low") or row["last"]), float(row.get("high") or row["last"])
            if peak is not None:
                worst = max(worst, (peak - low) / peak)
            peak = high if peak is None else max(peak, high)
    return worst


def main(argv):
    binary = ROOT / "target" / "release" / "liqsim"
    if not binary.exists():
        print("build first: cargo build --release", file=sys.stderr)
        return 2
    scenarios = [pathlib.Path(a) for a in argv[1:]] or [ROOT / "scenarios" / n for n in DEFAULT]
    print("| scenario | venue | liquidated (USD M) | accounts (triggers) | fund takeovers (USD M) "
          "| ADL events (USD M) | ADL / liquidated | fund PnL (USD M) | max drawdown | min price |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for path in scenarios:
            text = path.read_text()
            if "venue:" in text:
                print(f"{path}: already names a venue; give a file without one", file=sys.stderr)
                return 2
            for venue in PRESETS:
                name = f"{path.stem}_{venue.lower()}"
                file = pathlib.Path(tmp) / f"{name}.ron"
                file.write_text(with_venue(text, venue, name))
                out = pathlib.Path(tmp) / name
                subprocess.run([str(binary), "run", str(file), "--out", str(out), "--quiet"], check=True)
                s = json.loads((out / "summary.json").read_text())
                liq = s["liquidated_notional_long"] + s["liquidated_notional_short"]
                accounts = s["liquidated_accounts_long"] + s["liquidated_accounts_short"]
                triggers = s["liquidations_long"] + s["liquidations_short"]
                share = 100 * s["adl_notional"] / liq if liq > 0 else 0.0
                print(
                    f"| {path.stem} | {venue} | {liq / 1e6:,.0f} | {accounts:,} ({triggers:,}) "
                    f"| {s['insurance_takeovers']:,} ({s['insurance_takeover_notional'] / 1e6:,.0f}) "
                    f"| {s['adl_count']:,} ({s['adl_notional'] / 1e6:,.0f}) | {share:.1f}% "
                    f"| {s['insurance_fund_pnl'] / 1e6:,.1f} | {100 * max_drawdown(out / 'ticks.csv'):.1f}% "
                    f"| {s['min_price']:,.0f} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
