#!/usr/bin/env bash
# CI: `liqsim report` pages opened in headless Chromium (Debian's package): a run's and a Monte
# Carlo's page must log no console error or exception, fetch nothing, and show headline numbers
# equal to their summary.json (tools/report_check.py, over the DevTools protocol). The checker is
# first shown to fail on a page with a script error and on one with a wrong number. Screenshots
# are left in target/report-check/.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

bin=target/debug/liqsim
[ -x "$bin" ] || cargo build --locked --quiet
shots=target/report-check
mkdir -p "$shots"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A small run and Monte Carlo: the default scenario cut to ten minutes.
sed -E 's/horizon: "[^"]*"/horizon: "10m"/' scenarios/btc_14_to_1.ron >"$work/small.ron"
"$bin" run "$work/small.ron" --out "$work/run" --quiet --report
"$bin" mc "$work/small.ron" --runs 4 --threads 2 --out "$work/mc" --quiet --report

# The checker must be able to fail: a thrown error, and a headline number that differs. Each
# check has 3 minutes: a browser that hangs fails CI instead of stalling it.
sed 's|</body>|<script>notDefinedAnywhere()</script></body>|' "$work/run/report.html" >"$work/error.html"
sed -E '0,/data-key="\/final_price" data-value="[^"]*"/s//data-key="\/final_price" data-value="1"/' \
  "$work/run/report.html" >"$work/wrong.html"
for bad in error wrong; do
  if timeout 180 python3 tools/report_check.py "$work/$bad.html" "$work/run/summary.json" "$work/$bad.png" 2>"$work/$bad.err"; then
    echo "report_check: the checker passed a page it must fail ($bad.html)" >&2
    exit 1
  fi
done
grep -q "notDefinedAnywhere is not defined" "$work/error.err"
grep -q "/final_price: the page shows '1'" "$work/wrong.err"

timeout 180 python3 tools/report_check.py "$work/run/report.html" "$work/run/summary.json" "$shots/run.png"
timeout 180 python3 tools/report_check.py "$work/mc/report.html" "$work/mc/summary.json" "$shots/mc.png"
echo "report_check: ok in $(($(date +%s) - start)) s"
