#!/usr/bin/env bash
# Runs the NumPy peer (shared/peers/dead_layer_mc.py) and `deadrelu estimate` on the same
# configuration, one after the other on this machine, and prints both times and the ratio.
# Needs numpy (pip install numpy). Usage: bash benches/peer_compare.sh [TRIALS]
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-1000000}
peer=${PEER:-../shared/peers/dead_layer_mc.py}
cargo build --release -q
py=$(python3 "$peer" --arch 1,3,3,3,3,3,1 --trials "$trials" --grid=-1,1,64)
t_py=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["seconds"])' "$py")
start=$(date +%s.%N)
ours=$(./target/release/deadrelu estimate --arch 1,3,3,3,3,3,1 --trials "$trials" --data grid:-1,1:64 --threads 2 --json)
end=$(date +%s.%N)
t_rs=$(python3 -c "print($end - $start)")
python3 - "$py" "$ours" "$t_py" "$t_rs" <<'PY'
import json, sys
py, ours, t_py, t_rs = json.loads(sys.argv[1]), json.loads(sys.argv[2])["results"][0], float(sys.argv[3]), float(sys.argv[4])
print(f"peer (NumPy):  {t_py:.3f} s  p_dead_layer {py['p_dead_layer']:.5f} {py['ci95_dead_layer']}  p_first {py['p_dead_first_layer_neuron']:.5f}")
print(f"deadrelu:      {t_rs:.3f} s  p_dead_layer {ours['p_dead_layer']:.5f} {ours['ci95']}  p_first {ours['p_dead_first_layer_neuron']:.5f}")
print(f"ratio: {t_py / t_rs:.1f}x (deadrelu wall time includes process start and data set-up)")
PY
