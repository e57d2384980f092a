#!/bin/bash
# submit.sh — the shards as a job array, then the merge once all of them succeed.
# Run it from the folder where Slurm should write the jobs' logs (slurm-*.out).
set -euo pipefail
here=$(dirname "$0")
export SHARDS=${SHARDS:-16}
array=$(sbatch --parsable --array=0-$((SHARDS - 1)) "$here/mc-shards.sbatch")
merge=$(sbatch --parsable --dependency=afterok:"$array" "$here/mc-merge.sbatch")
echo "shards: job $array (array 0-$((SHARDS - 1)))  merge: job $merge"
