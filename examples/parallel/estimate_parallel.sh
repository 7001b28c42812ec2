#!/usr/bin/env bash
# A sharded `deadrelu estimate` sweep with GNU parallel: N shards run as separate processes,
# JOBS at a time (on this machine, or on several with parallel's --sshlogin), then one
# `merge`. The merged result is exactly that of one unsharded run (trial t always draws
# from stream t of --seed); .ci/run checks that on a small sweep.
#
#   N=8 JOBS=4 OUT=results ESTIMATE_ARGS="--arch 1,3,1 --depths 2..20 --trials 1000000" \
#     bash examples/parallel/estimate_parallel.sh
#
# Settings (environment variables):
#   DEADRELU       the binary (default: deadrelu on PATH)
#   N              number of shards (default 8)
#   JOBS           shards at once (default: parallel's default, one per core)
#   THREADS        threads per shard (default 1)
#   OUT            directory for shard files and results (default: results)
#   ESTIMATE_ARGS  the sweep, every flag of `deadrelu estimate` except --shard and --json
# Needs GNU parallel (Debian/Ubuntu: apt-get install parallel).
set -euo pipefail

DEADRELU=${DEADRELU:-deadrelu}
N=${N:-8}
THREADS=${THREADS:-1}
OUT=${OUT:-results}
ESTIMATE_ARGS=${ESTIMATE_ARGS:---arch 1,3,1 --widths 2,3,5,8 --depths 2..20 --init torch-default,he-normal --trials 1000000 --seed 0}
jobs=()
[ -n "${JOBS:-}" ] && jobs=(--jobs "$JOBS")

command -v parallel >/dev/null 2>&1 || { echo "GNU parallel is not installed (apt-get install parallel)" >&2; exit 2; }
mkdir -p "$OUT"
rm -f "$OUT"/shard-*.json
# One shard per job; --halt now,fail=1 stops everything at the first failing shard.
# shellcheck disable=SC2086  # ESTIMATE_ARGS is a list of flags
parallel --will-cite --halt now,fail=1 "${jobs[@]}" \
  "$DEADRELU" estimate $ESTIMATE_ARGS --threads "$THREADS" --shard "{}/$N" --json \
  '>' "$OUT/shard-{}.json" ::: $(seq 0 $((N - 1)))
"$DEADRELU" merge "$OUT"/shard-*.json --json --csv "$OUT/estimate.csv" --plot "$OUT/estimate.svg" \
  > "$OUT/estimate.json"
echo "merged $N shards into $OUT/estimate.json, $OUT/estimate.csv and $OUT/estimate*.svg"
