#!/usr/bin/env python3
"""Synthetic MNIST-shaped inspect benchmark inputs: a 784-256-256-10 MLP with f32 weights
(PyTorch's default init U(-1/sqrt(fan_in), 1/sqrt(fan_in)), rounded to f32) and M points with
784 f32 inputs in [0, 1) and one-hot targets of 10 classes.
usage: gen_mnist_like.py OUTDIR [M] [SEED] [ARCH]   (ARCH: widths, default 784,256,256,10;
with one output the targets are uniform f32 in [0, 1) instead of one-hot)
writes OUTDIR/net.json ({"arch", "params"}: JSON numbers, exactly the f32 values),
OUTDIR/data.csv (header row, f32 values printed with 9 significant digits), OUTDIR/data.npz
(arrays x, y: float32)."""
import json, os, sys
import numpy as np

out = sys.argv[1]
m = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(seed)
arch = [int(w) for w in sys.argv[4].split(",")] if len(sys.argv) > 4 else [784, 256, 256, 10]
params = []
for k in range(1, len(arch)):
    c = 1.0 / np.sqrt(arch[k - 1])
    params.append(rng.uniform(-c, c, size=arch[k] * arch[k - 1]).astype(np.float32))
    params.append(rng.uniform(-c, c, size=arch[k]).astype(np.float32))
theta = np.concatenate(params).astype(np.float64)
with open(os.path.join(out, "net.json"), "w") as f:
    json.dump({"arch": arch, "params": theta.tolist()}, f)
x = rng.random((m, arch[0]), dtype=np.float32)
if arch[-1] > 1:
    y = np.eye(arch[-1], dtype=np.float32)[rng.integers(0, arch[-1], size=m)]
else:
    y = rng.random((m, 1), dtype=np.float32)
data = np.hstack([x, y])
header = ",".join([f"x{i}" for i in range(arch[0])] + [f"y{i}" for i in range(arch[-1])])
np.savetxt(os.path.join(out, "data.csv"), data, delimiter=",", fmt="%.9g", header=header, comments="")
np.savez(os.path.join(out, "data.npz"), x=x, y=y)
