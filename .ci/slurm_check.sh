#!/usr/bin/env bash
# CI: docs/distributed.md's Slurm recipe, run for real. Installs Slurm and MUNGE from Debian
# packages, starts a one-node cluster by hand (no systemd, no cgroups), submits
# docs/slurm/submit.sh -> mc-shards.sbatch (a job array) and mc-merge.sbatch (afterok) unchanged on
# a small Monte Carlo, and checks the merged folder byte-identical to one `liqsim mc` process.
# Fails with the daemons' logs printed if the cluster does not come up or a job fails; gives up
# after $SLURM_CHECK_TIMEOUT seconds (default 600) rather than hang. Stops its daemons on exit.
#
# Settings (environment): LIQSIM (default target/debug/liqsim, built if missing), RUNS (16),
# SHARDS (4), SLURM_CHECK_TIMEOUT (600), KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
t0=$SECONDS
deadline=$((SECONDS + ${SLURM_CHECK_TIMEOUT:-600}))
say() { echo "slurm_check: $*"; }
die() {
  echo "slurm_check: FAILED: $*" >&2
  exit 1
}

if [ "$(id -u)" != 0 ]; then
  die "needs root (it installs packages and starts munged, slurmctld and slurmd)"
fi

# --- Install -------------------------------------------------------------------------------------
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
  ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt=(timeout 500 apt-get -qq -o DPkg::Lock::Timeout=300)
  log=$(mktemp)
  if ! { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends slurm-wlm munge; } >"$log" 2>&1; then
    cat "$log" >&2
    die "apt-get could not install slurm-wlm and munge"
  fi
  rm -f "$log"
fi
say "installed in $((SECONDS - t0)) s: slurm-wlm $(dpkg-query -W -f='${Version}' slurm-wlm)"

LIQSIM=${LIQSIM:-$repo/target/debug/liqsim}
if [ ! -x "$LIQSIM" ]; then
  say "building $LIQSIM"
  cargo build --locked --quiet --bin liqsim
fi
LIQSIM=$(realpath "$LIQSIM")

# --- A one-node cluster --------------------------------------------------------------------------
work=$(mktemp -d /tmp/liqsim-slurm.XXXXXX)
mkdir -p "$work"/{state,spool,log,shared}
pids=()
failed=1
cleanup() {
  local rc=$?
  if [ "$failed" = 1 ]; then
    echo "----- slurmctld.log (last 60 lines) -----" >&2
    tail -n 60 "$work/log/slurmctld.log" >&2 2>/dev/null || echo "(none)" >&2
    echo "----- slurmd.log (last 60 lines) -----" >&2
    tail -n 60 "$work/log/slurmd.log" >&2 2>/dev/null || echo "(none)" >&2
    for f in "$work"/shared/slurm-*.out; do
      [ -e "$f" ] || continue
      echo "----- job output $(basename "$f") -----" >&2
      tail -n 30 "$f" >&2
    done
  fi
  # Jobs still queued or running (after a failure or a time-out) end before their daemons.
  if [ -n "${array:-}" ]; then
    scancel "$array" "${merge:-}" 2>/dev/null || true
    for _ in $(seq 30); do
      [ -z "$(squeue -h 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  # Only the daemons this script started, by pid; slurmd first.
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP:-0}" = 1 ]; then
    say "work folder kept: $work"
  else
    rm -rf "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'die "interrupted"' INT TERM

# MUNGE authenticates Slurm's messages. Use the machine's munged if one answers, else start one.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  if [ ! -s /etc/munge/munge.key ]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=128 count=1 status=none
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
  fi
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
    >"$work/log/munged.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
    sleep 0.2
  done
  munge -n | unmunge >/dev/null || die "munged did not start: $(cat "$work/log/munged.out")"
fi

host=$(hostname -s)
node=$(slurmd -C | head -n 1) # NodeName=<host> CPUs=… RealMemory=…: the machine as it is
cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$node")
# mc-shards.sbatch asks 2 cores a task: a smaller node would leave the array pending forever.
[ "${cpus:-0}" -ge 2 ] || die "the node has ${cpus:-?} CPUs; mc-shards.sbatch asks for 2 per task"
export SLURM_CONF=$work/slurm.conf
cat >"$SLURM_CONF" <<EOF
ClusterName=liqsim-ci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups in a container-like machine: track processes through /proc, bind nothing.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
# A merge whose shards failed is cancelled rather than left pending.
DependencyParameters=kill_invalid_depend
MinJobAge=3600
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 120); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
  if [ "$state" = idle ]; then
    up=1
    break
  fi
  sleep 0.5
done
[ "$up" = 1 ] || die "the node did not become idle within 60 s (state: '${state:-no answer}')"
say "cluster up in $((SECONDS - t0)) s: $node"

# --- The docs' recipe, as a user would run it ----------------------------------------------------
shared=$work/shared
export LIQSIM SHARED=$shared SCENARIO=ci_small RUNS=${RUNS:-16} SEED=42 SHARDS=${SHARDS:-4}
# A small world (500 map accounts, 20 minutes) that liquidates on both sides.
cat >"$shared/ci_small.ron" <<'EOF'
(
    name: "ci_small",
    seed: 7,
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
)
EOF
cd "$shared"
submitted=$("$repo/docs/slurm/submit.sh")
say "$submitted"
array=$(sed -n 's/^shards: job \([0-9]*\).*/\1/p' <<<"$submitted")
merge=$(sed -n 's/.*merge: job \([0-9]*\).*/\1/p' <<<"$submitted")
[ -n "$array" ] && [ -n "$merge" ] || die "could not read the job ids from submit.sh: $submitted"

job_states() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
while :; do
  merge_state=$(job_states "$merge")
  case "$merge_state" in
    COMPLETED) break ;;
    PENDING | RUNNING | CONFIGURING | COMPLETING | REQUEUED | RESIZING | SUSPENDED) ;;
    *)
      scontrol show job "$array" >&2 || true
      scontrol show job "$merge" >&2 || true
      die "the merge job $merge ended ${merge_state:-unknown}; shard states: $(job_states "$array" | sort | uniq -c | xargs)"
      ;;
  esac
  if [ "$SECONDS" -ge "$deadline" ]; then
    squeue >&2 || true
    die "timed out after ${SLURM_CHECK_TIMEOUT:-600} s waiting for the jobs (merge: $merge_state)"
  fi
  sleep 1
done
shard_states=$(job_states "$array" | sort | uniq -c | xargs)
[ "$shard_states" = "$SHARDS COMPLETED" ] || die "shard tasks: $shard_states (want $SHARDS COMPLETED)"
say "jobs done in $((SECONDS - t0)) s: $SHARDS shard tasks and the merge COMPLETED"

# --- Byte-identical to one process ---------------------------------------------------------------
"$LIQSIM" mc "$shared/ci_small.ron" --runs "$RUNS" --seed "$SEED" --out "$work/one" --quiet
merged=$shared/ci_small/mc
compared=()
for f in outcomes.csv summary.json runs.jsonl fan.png fan.svg "$work"/one/hist_*.png; do
  f=$(basename "$f")
  [ -f "$merged/$f" ] || die "the merged folder lacks $f"
  cmp -s "$work/one/$f" "$merged/$f" || die "$f differs between the Slurm merge and one process"
  compared+=("$f")
done
[ "${#compared[@]}" -ge 7 ] || die "expected at least 7 outputs to compare, got ${compared[*]}"
runs=$(wc -l <"$merged/runs.jsonl")
[ "$runs" = "$RUNS" ] || die "the merged journal holds $runs runs, not $RUNS"
failed=0
say "passed in $((SECONDS - t0)) s: $RUNS runs in $SHARDS shards, identical ${compared[*]}"
