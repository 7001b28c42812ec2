#!/usr/bin/env python3
"""A born-dead MNIST-shaped audit benchmark input: the network and data of
gen_mnist_like.py (784-256-256-10, f32 weights, M points of f32 inputs in [0, 1), one-hot
targets), with every bias of hidden layer 2 set to -512. Layer 1's outputs are at most
784/28 + 1/28 < 29 and layer 2's weights at most 1/16 in magnitude, so
|W_2 a_1| <= 256 * 29 / 16 < 464 and layer 2 is dead on any input in [0, 1]^784.
usage: gen_mnist_dead.py OUTDIR [M] [SEED]
writes OUTDIR/net.json, OUTDIR/data.csv, OUTDIR/data.npz (as gen_mnist_like.py)."""
import json, os, subprocess, sys

here = os.path.dirname(os.path.abspath(__file__))
subprocess.run([sys.executable, os.path.join(here, "gen_mnist_like.py")] + sys.argv[1:], check=True)
path = os.path.join(sys.argv[1], "net.json")
with open(path) as f:
    net = json.load(f)
arch = net["arch"]
start = arch[1] * (arch[0] + 1) + arch[2] * arch[1]  # b_2 follows W_2
for j in range(arch[2]):
    net["params"][start + j] = -512.0
with open(path, "w") as f:
    json.dump(net, f)
