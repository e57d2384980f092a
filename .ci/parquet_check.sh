#!/usr/bin/env bash
# CI (issue 15): liqsim's Parquet outputs read back by pyarrow. A small world's run, its event
# tables and a 4-run Monte Carlo, written with --format parquet by the debug binary; then
# tools/check_parquet.py checks row counts, column names, types and every cell against the CSVs.
# Installs pyarrow into target/ci-pyarrow (a venv) unless python3 already imports it.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

bin=target/debug/liqsim
[ -x "$bin" ] || cargo build --locked --quiet

py=python3
if ! command -v python3 >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
fi
if ! python3 -c 'import pyarrow' 2>/dev/null; then
  venv=target/ci-pyarrow
  if ! "$venv/bin/python" -c 'import pyarrow' 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      # Debian's python3 needs python3-venv for ensurepip.
      rm -rf "$venv"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check pyarrow
  fi
  py=$venv/bin/python
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# 500 map accounts, 20 minutes (tests/mc.rs's SMALL world; seed 5 liquidates 48 longs): about a second.
cat >"$work/small.ron" <<'EOF'
(
    name: "small",
    seed: 5,
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
    outputs: (pictures: false, event_log: true),
    monte_carlo: (runs: 4),
)
EOF
"$bin" run "$work/small.ron" --out "$work/run" --format parquet --quiet
"$bin" events export "$work/run/events.log" --out "$work/csv" >/dev/null
"$bin" events export "$work/run/events.log" --out "$work/parquet" --format parquet >/dev/null
"$bin" mc "$work/small.ron" --out "$work/mc" --format parquet --threads 2 --quiet
"$py" tools/check_parquet.py "$work/run" "$work/csv" "$work/parquet" "$work/mc"
echo "parquet check: $((SECONDS - start)) s"
