#!/usr/bin/env bash
# A profile-guided release build of liqsim: the same source and the same outputs byte for byte,
# about a tenth faster (docs/mc.md, "Speed"). Three steps:
#   1. an instrumented build (rustc -Cprofile-generate) into target/pgo-gen;
#   2. a training set run with it: two Monte Carlo runs of btc_14_to_1, one run each of
#      jan_2025_down_hunt, history/oct_10_2025 and maker_hunt, and a small full-mix world (FCN
#      and noise traders, makers, a hunter; the profile_world example);
#   3. the profiles merged (llvm-profdata, from rustup's llvm-tools component) and the release
#      build made with them (-Cprofile-use) into target/pgo-use, its binaries copied to target/pgo.
# Result: target/pgo/release/liqsim and target/pgo/release/examples/profile_world.
# Usage: tools/pgo_build.sh [--quiet]      (about 8 minutes on 2 cores from a clean target/)
# Exit status: 0 built; 3 llvm-profdata is missing and rustup failed to install llvm-tools
# (nothing was built: .ci/pgo_check.sh skips on 3); anything else, a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
quiet=()
case "${1:-}" in
  "") ;;
  --quiet) quiet=(--quiet) ;;
  *) echo "usage: tools/pgo_build.sh [--quiet]" >&2; exit 2 ;;
esac
say() { [ ${#quiet[@]} -gt 0 ] || echo "pgo_build: $*" >&2; }
# The flags below are the build's own: a caller's would be replaced (RUSTFLAGS) or take precedence
# (CARGO_ENCODED_RUSTFLAGS), and LLVM_PROFILE_FILE would send the training's profiles elsewhere.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS LLVM_PROFILE_FILE

# llvm-profdata must read the profiles of rustc's own LLVM: rustup's llvm-tools has it.
host=$(rustc -vV | sed -n 's/^host: //p')
profdata="$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"
if [ ! -x "$profdata" ]; then
  say "installing rustup's llvm-tools component (for llvm-profdata)"
  if ! rustup component add llvm-tools >&2; then
    echo "pgo_build: $profdata not found, and rustup component add llvm-tools failed" >&2
    exit 3
  fi
fi
if [ ! -x "$profdata" ]; then
  echo "pgo_build: rustup installed llvm-tools, but $profdata is not there" >&2
  exit 1
fi

gen=$root/target/pgo-gen
raw=$gen/profiles
merged=$gen/merged.profdata

say "1/3 instrumented build"
# --target keeps these flags off build scripts and proc macros: only liqsim and its dependencies
# are instrumented, and later optimised with the profile.
# (One flag through CARGO_ENCODED_RUSTFLAGS: a path with spaces stays one argument.)
CARGO_ENCODED_RUSTFLAGS="-Cprofile-generate=$raw" cargo build --release --locked ${quiet[@]+"${quiet[@]}"} \
  --target "$host" --target-dir "$gen" --bin liqsim --example profile_world
rm -rf "$raw" "$merged"

say "2/3 training"
bin=$gen/$host/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/liqsim" mc scenarios/btc_14_to_1.ron --runs 2 --threads 1 --out "$work/mc" --quiet
for s in jan_2025_down_hunt history/oct_10_2025 maker_hunt; do
  "$bin/liqsim" run "scenarios/$s.ron" --out "$work/run" --quiet >/dev/null
done
"$bin/examples/profile_world" full_mix 100000 7200 >/dev/null

say "3/3 merge and optimised build"
"$profdata" merge -o "$merged" "$raw"
CARGO_ENCODED_RUSTFLAGS="-Cprofile-use=$merged" cargo build --release --locked ${quiet[@]+"${quiet[@]}"} \
  --target "$host" --target-dir "$root/target/pgo-use" --bin liqsim --example profile_world
# One place to find it, whatever the host's triple.
mkdir -p target/pgo/release/examples
cp "$root/target/pgo-use/$host/release/liqsim" target/pgo/release/liqsim
cp "$root/target/pgo-use/$host/release/examples/profile_world" target/pgo/release/examples/profile_world
say "done: target/pgo/release/liqsim"
