#!/usr/bin/env bash
# CI: the profile-guided build (tools/pgo_build.sh) builds, and its binary writes the same bytes as
# the test build's: two Monte Carlo runs of the seed's scenario (each run's final state hash is in
# outcomes.csv) and one run of the January down-hunt.
# Needs rustup's llvm-tools component; where it cannot be installed the check prints SKIPPED and
# stops (the script itself cannot run there either).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

# The script says itself (status 3) when llvm-profdata is missing and rustup cannot install it.
status=0
tools/pgo_build.sh --quiet || status=$?
if [ "$status" -eq 3 ]; then
  echo "pgo check: SKIPPED, rustup's llvm-tools component cannot be installed here (pgo_build's message says why)"
  exit 0
elif [ "$status" -ne 0 ]; then
  echo "pgo check: FAILED, tools/pgo_build.sh exited with $status" >&2
  exit 1
fi

plain=target/debug/liqsim
cargo build --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for b in plain pgo; do
  bin=$plain
  [ "$b" = pgo ] && bin=target/pgo/release/liqsim
  "$bin" mc scenarios/btc_14_to_1.ron --runs 2 --threads 2 --out "$work/$b-mc" --quiet
  "$bin" run scenarios/jan_2025_down_hunt.ron --out "$work/$b-run" --quiet >/dev/null
done
for f in mc/outcomes.csv mc/summary.json mc/runs.jsonl run/summary.json; do
  cmp "$work/plain-$f" "$work/pgo-$f" || { echo "pgo check: FAILED, $f differs" >&2; exit 1; }
done
echo "pgo check: the profile-guided binary's outputs are byte-identical; $((SECONDS - start)) s"
