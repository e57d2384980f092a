#!/usr/bin/env bash
# Regenerates the README's pictures from the bundled scenarios, so they never go stale:
#   docs/img/heatmap_btc_14_to_1.png, map_btc_14_to_1.png, price_btc_14_to_1.png
#       liqsim run scenarios/btc_14_to_1.ron (seed 42)
#   docs/img/fan_btc_14_to_1.png
#       liqsim mc scenarios/btc_14_to_1.ron --runs 100 (master seed 42)
#   docs/img/compare_*_btc_14_to_1_vs_symmetric_control.png
#       liqsim compare of that and symmetric_control.ron's 100 runs
#   docs/img/report_btc_14_to_1.png (the top of report.html, in headless Chromium)
#       liqsim run scenarios/btc_14_to_1.ron --report
#   with --sweep also docs/img/heatmap_p_squeeze_up.png
#       liqsim sweep scenarios/imbalance_sweep.ron (long: 28 cells of 20 runs)
# Every run is deterministic, so the pictures change only when the code or a scenario does.
# Usage: tools/readme_pictures.sh [--sweep]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/liqsim
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$bin" run scenarios/btc_14_to_1.ron --out "$tmp/run" --quiet
for f in heatmap map price; do
    cp "$tmp/run/$f.png" "docs/img/${f}_btc_14_to_1.png"
done

"$bin" mc scenarios/btc_14_to_1.ron --runs 100 --out "$tmp/mc" > /dev/null
cp "$tmp/mc/fan.png" docs/img/fan_btc_14_to_1.png

# compare: the 14:1 map against its 1:1 control, 100 runs each (master seed 42).
"$bin" mc scenarios/symmetric_control.ron --runs 100 --out "$tmp/mc_control" > /dev/null
"$bin" compare "$tmp/mc" "$tmp/mc_control" --out "$tmp/compare" > /dev/null
cp "$tmp/compare/fan.png" docs/img/compare_fan_btc_14_to_1_vs_symmetric_control.png
cp "$tmp/compare/hist_liquidated_notional_long.png" docs/img/compare_hist_longs_btc_14_to_1_vs_symmetric_control.png

# Run from the temporary folder, so that the page names the default output folder.
repo=$(pwd)
(cd "$tmp" && "$repo/$bin" run "$repo/scenarios/btc_14_to_1.ron" --quiet --report)
python3 tools/report_check.py "$tmp/out/btc_14_to_1/report.html" "$tmp/out/btc_14_to_1/summary.json" \
    docs/img/report_btc_14_to_1.png 1400

if [[ "${1:-}" == "--sweep" ]]; then
    "$bin" sweep scenarios/imbalance_sweep.ron --out "$tmp/sweep" > /dev/null
    cp "$tmp/sweep/heatmap_p_squeeze_up.png" docs/img/heatmap_p_squeeze_up.png
fi
echo "regenerated: $(ls docs/img/*.png | tr '\n' ' ')"
