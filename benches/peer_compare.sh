#!/usr/bin/env bash
# Runs the NumPy peer (shared/peers/dead_layer_mc.py) and `deadrelu estimate` on the same
# configuration, alternately, ROUNDS times on this machine, and prints every pair, the
# ratio of each pair and the median ratio (the machine is shared, so single runs vary).
# Needs numpy (pip install numpy).
# Usage: bash benches/peer_compare.sh [TRIALS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-1000000}
rounds=${2:-3}
peer=${PEER:-../shared/peers/dead_layer_mc.py}
cargo build --release -q
results=()
for round in $(seq "$rounds"); do
  py=$(python3 "$peer" --arch 1,3,3,3,3,3,1 --trials "$trials" --grid=-1,1,64)
  start=$(date +%s.%N)
  ours=$(./target/release/deadrelu estimate --arch 1,3,3,3,3,3,1 --trials "$trials" \
    --data grid:-1,1:64 --threads 2 --json 2>/dev/null)
  end=$(date +%s.%N)
  results+=("$(python3 - "$py" "$ours" "$start" "$end" <<'PY'
import json, sys
py, ours = json.loads(sys.argv[1]), json.loads(sys.argv[2])["results"][0]
t_py, t_rs = py["seconds"], float(sys.argv[4]) - float(sys.argv[3])
print(json.dumps({"peer": t_py, "ours": t_rs, "py": py, "rs": ours}))
PY
)")
done
python3 - "${results[@]}" <<'PY'
import json, statistics, sys
runs = [json.loads(a) for a in sys.argv[1:]]
for i, r in enumerate(runs, 1):
    print(f"round {i}: peer (NumPy) {r['peer']:.3f} s, deadrelu {r['ours']:.3f} s, ratio {r['peer'] / r['ours']:.1f}x")
py, rs = runs[-1]["py"], runs[-1]["rs"]
print(f"peer:     p_dead_layer {py['p_dead_layer']:.5f} {py['ci95_dead_layer']}  p_first {py['p_dead_first_layer_neuron']:.5f}")
print(f"deadrelu: p_dead_layer {rs['p_dead_layer']:.5f} {rs['ci95']}  p_first {rs['p_dead_first_layer_neuron']:.5f}")
ratios = [r["peer"] / r["ours"] for r in runs]
print(f"median ratio: {statistics.median(ratios):.1f}x (deadrelu wall time includes process start and data set-up; 2 threads)")
PY
