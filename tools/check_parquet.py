#!/usr/bin/env python3
"""Reads liqsim's Parquet outputs back with pyarrow and checks them against the CSVs beside them.

Usage: check_parquet.py RUN_DIR EVENTS_CSV_DIR EVENTS_PARQUET_DIR MC_DIR

For every pair (ticks, outcomes, one table per event kind): the same row count as the CSV, the
same column names, the documented types (docs/events.md), and every cell equal to the CSV's
(integers parsed as integers, numbers as doubles, `true`/`false` as booleans, an empty cell as
null). Exits 1 naming each difference.
"""

import csv
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

INT, UINT, DOUBLE, STRING, BOOL = pa.int64(), pa.uint64(), pa.float64(), pa.string(), pa.bool_()

# Types every table must have, written here independently of liqsim's code.
EXPECTED = {
    "ticks": {"tick": INT, "last": DOUBLE, "low": DOUBLE, "high": DOUBLE, "mark": DOUBLE, "index": DOUBLE, "volume_btc": DOUBLE,
              "open_interest_btc": DOUBLE, "liquidated_long_usd": DOUBLE, "liquidated_short_usd": DOUBLE,
              "insurance_fund_usd": DOUBLE, "funding_rate": DOUBLE},
    "outcomes": {"run": INT, "seed": UINT, "final_price": DOUBLE, "liquidated_accounts_long": INT,
                 "cascade_count": INT, "events": INT, "hunters": INT, "hunter_pnl": DOUBLE,
                 "final_state_hash": STRING, "minutes_to_72000": DOUBLE, "verdict_72000": STRING},
    "Traded": {"seq": INT, "tick": INT, "time_s": INT, "cause": INT, "maker_order": INT, "maker": INT,
               "taker_order": INT, "taker": INT, "side": STRING, "price": DOUBLE, "qty": DOUBLE,
               "maker_fee": DOUBLE, "taker_fee": DOUBLE, "maker_margin": DOUBLE, "taker_margin": DOUBLE,
               "liquidation": BOOL},
    "MarkUpdated": {"index": DOUBLE, "mark": DOUBLE, "last": DOUBLE, "round": INT, "impact_bid": DOUBLE,
                    "premium": DOUBLE, "samples": INT},
    "Liquidated": {"account": INT, "closed": DOUBLE, "position_side": STRING, "price": DOUBLE,
                   "notional": DOUBLE, "partial": BOOL, "fee": DOUBLE, "insurance_delta": DOUBLE},
    "AccountOpened": {"account": INT, "deposit": DOUBLE, "leverage": INT, "margin_mode": STRING},
    "TickClosed": {"seq": INT, "tick": INT, "time_s": INT, "cause": INT},
}
# Columns that may hold nulls; every other column must have none.
NULLABLE = {"cause", "impact_bid", "impact_ask", "premium", "samples", "notional"}
# Tables that must have rows in the check's run (so the cell comparison is about something).
NOT_EMPTY = {"ticks", "outcomes", "Traded", "MarkUpdated", "Liquidated", "AccountOpened", "TickClosed"}

problems = []


def cell(text, type_):
    if text == "":
        return None
    if type_ in (INT, UINT):
        return int(text)
    if type_ == DOUBLE:
        return float(text)
    if type_ == BOOL:
        return {"true": True, "false": False}[text]
    return text


def check(parquet_path, csv_path, name):
    table = pq.read_table(parquet_path)
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    header, rows = rows[0], rows[1:]
    where = os.path.basename(parquet_path)
    if table.num_rows != len(rows):
        problems.append(f"{where}: {table.num_rows} rows, the CSV has {len(rows)}")
    if table.column_names != header:
        problems.append(f"{where}: columns {table.column_names}, the CSV has {header}")
        return
    if name in NOT_EMPTY and not rows:
        problems.append(f"{where}: no rows (the check's run should fill it)")
    types = dict(zip(table.column_names, table.schema.types))
    for col, want in EXPECTED.get(name, {}).items():
        if types.get(col) != want:
            problems.append(f"{where}: column {col} is {types.get(col)}, expected {want}")
    for i, col in enumerate(header):
        if col in ("seq", "tick", "time_s") and types[col] != INT:
            problems.append(f"{where}: column {col} is {types[col]}, expected int64")
        values = table.column(col).to_pylist()
        if col not in NULLABLE and not col.startswith(("minutes_to_", "verdict_")) and None in values:
            problems.append(f"{where}: column {col} has nulls")
        want = [cell(r[i], types[col]) for r in rows]
        if values != want:
            first = next(j for j, (a, b) in enumerate(zip(values, want)) if a != b) if len(values) == len(want) else 0
            problems.append(f"{where}: column {col} differs from the CSV (row {first}: "
                            f"{values[first] if values else None!r} vs {want[first] if want else None!r})")


def main():
    run_dir, csv_dir, parquet_dir, mc_dir = sys.argv[1:5]
    check(os.path.join(run_dir, "ticks.parquet"), os.path.join(run_dir, "ticks.csv"), "ticks")
    check(os.path.join(mc_dir, "outcomes.parquet"), os.path.join(mc_dir, "outcomes.csv"), "outcomes")
    kinds = sorted(f[: -len(".parquet")] for f in os.listdir(parquet_dir) if f.endswith(".parquet"))
    csvs = sorted(f[: -len(".csv")] for f in os.listdir(csv_dir) if f.endswith(".csv"))
    if kinds != csvs or len(kinds) != 22:
        problems.append(f"event tables: {len(kinds)} Parquet {kinds}, {len(csvs)} CSV")
    for kind in kinds:
        check(os.path.join(parquet_dir, kind + ".parquet"), os.path.join(csv_dir, kind + ".csv"), kind)
    for p in problems:
        print("parquet check:", p, file=sys.stderr)
    if problems:
        sys.exit(1)
    print(f"parquet check: ticks, outcomes and {len(kinds)} event tables read back by pyarrow "
          f"{pa.__version__}: rows, columns, types and cells as the CSVs")


if __name__ == "__main__":
    main()
