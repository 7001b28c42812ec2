#!/usr/bin/env bash
# `inspect` against the NumPy peer (shared/peers/inspect_numpy.py) on a synthetic
# MNIST-shaped case: a 784-256-256-10 MLP with f32 weights (JSON) and M points (CSV, 9
# significant digits, plus the same data as .npz). Runs, alternately and ROUNDS times: the
# peer, `deadrelu inspect --mode f64` on the CSV and on the .npz, and (EXACT=1) `--mode
# exact`. Prints wall and CPU (user+sys) seconds of every run, the medians, the ratio
# ours/peer, and checks that all report the same inactive counts and dead layers.
# Needs numpy (pip install numpy).
# Usage: bash benches/inspect_peer.sh [M] [ROUNDS]      (EXACT=1 also times --mode exact)
set -euo pipefail
cd "$(dirname "$0")/.."
m=${1:-10000}
rounds=${2:-3}
peer=${PEER:-../shared/peers/inspect_numpy.py}
work=${WORK:-${TMPDIR:-/tmp}/deadrelu-inspect-bench-$m}
cargo build --release -q
if [ ! -f "$work/data.npz" ]; then
  python3 benches/gen_mnist_like.py "$work" "$m" 0
fi
python3 - "$peer" "$work" "$rounds" "${EXACT:-0}" <<'PY'
import json, os, statistics, subprocess, sys, time
peer, work, rounds, exact = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
bin_ = "./target/release/deadrelu"
w, csv, npz = (os.path.join(work, f) for f in ("net.json", "data.csv", "data.npz"))
cmds = {
    "peer (NumPy)": ["python3", peer, w, csv],
    "deadrelu f64 csv": [bin_, "inspect", "--mode", "f64", "--weights", w, "--data", "csv:" + csv, "--json"],
    "deadrelu f64 npz": [bin_, "inspect", "--mode", "f64", "--weights", w, "--data", "npz:" + npz, "--json"],
}
if exact:  # hook for the filtered exact mode (issue 16)
    cmds["deadrelu exact csv"] = [bin_, "inspect", "--mode", "exact", "--weights", w, "--data", "csv:" + csv, "--json"]

def run(cmd):
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = p.communicate()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed: {err.decode()}")
    return wall, json.loads(out)

times = {k: [] for k in cmds}
cpu = {k: [] for k in cmds}
results = {}
for r in range(rounds):
    for name, cmd in cmds.items():
        before = os.times()
        wall, res = run(cmd)
        after = os.times()
        times[name].append(wall)
        cpu[name].append((after.children_user - before.children_user) + (after.children_system - before.children_system))
        results[name] = (res["inactive_per_layer"], res["dead_layers"])
        print(f"round {r + 1}: {name:20s} wall {wall:6.3f} s  cpu {cpu[name][-1]:6.3f} s", flush=True)
ref = results["peer (NumPy)"]
for name, res in results.items():
    assert res == ref, f"{name} reports {res}, the peer {ref}"
print(f"all agree: inactive_per_layer {ref[0]}, dead_layers {ref[1]}")
pw, pc = statistics.median(times["peer (NumPy)"]), statistics.median(cpu["peer (NumPy)"])
for name in cmds:
    mw, mc = statistics.median(times[name]), statistics.median(cpu[name])
    print(f"median {name:20s} wall {mw:6.3f} s ({mw / pw:4.2f}x peer)  cpu {mc:6.3f} s ({mc / pc:4.2f}x peer)")
PY
