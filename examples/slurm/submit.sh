#!/usr/bin/env bash
# Submits a sharded `deadrelu estimate` sweep to Slurm: a job array of N shards, then one
# merge job that starts when every shard has succeeded.
#
#   N=16 OUT=results ESTIMATE_ARGS="--arch 1,3,1 --depths 2..20 --trials 1000000" \
#     bash examples/slurm/submit.sh
#
# Add site options (partition, account) to the two sbatch lines or in the scripts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
N=${N:-16}
export DEADRELU=${DEADRELU:-deadrelu} OUT=${OUT:-results}
[ -n "${ESTIMATE_ARGS:-}" ] && export ESTIMATE_ARGS
array=$(sbatch --parsable --export=ALL --array="0-$((N - 1))" "$here/estimate_array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$here/merge.sbatch")
echo "submitted array job $array ($N shards) and merge job $merge; results in $OUT/"
