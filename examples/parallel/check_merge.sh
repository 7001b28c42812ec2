#!/usr/bin/env bash
# CI check of the cluster recipe: runs examples/parallel/estimate_parallel.sh on a small
# sweep (5 shards) and one unsharded run of the same sweep, and requires the two JSON
# results to be equal (timing fields, if any, left out). Needs GNU parallel and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export DEADRELU=${DEADRELU:-"$here/../../target/release/deadrelu"}
export OUT
OUT=$(mktemp -d)
export N=5 JOBS=2 THREADS=1
export ESTIMATE_ARGS="--arch 1,3,1 --widths 2,3 --depths 2..4 --trials 2000 --seed 7 --train --optimizer sgd,adam --steps 10"
bash "$here/estimate_parallel.sh" >/dev/null
# shellcheck disable=SC2086
"$DEADRELU" estimate $ESTIMATE_ARGS --json > "$OUT/one.json" 2>/dev/null
python3 - "$OUT/estimate.json" "$OUT/one.json" <<'PY'
import json, sys
TIMING = {"elapsed", "elapsed_s", "seconds", "wall_s", "time_s", "rate", "trials_per_s", "threads"}
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in TIMING}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
merged, one = (strip(json.load(open(p))) for p in sys.argv[1:3])
if merged != one:
    sys.exit("the merged shards differ from one unsharded run")
print(f"merge of 5 shards equals one run: {len(one['results'])} configurations, {one['trials']} trials each")
PY
rm -rf "$OUT"
