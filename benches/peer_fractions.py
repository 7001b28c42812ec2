#!/usr/bin/env python3
"""Peer baseline for the exact path: the forward pass and generalized gradient
(backpropagation, ReLU'(0) = 0) of the empirical risk in Python's fractions, the way a
Python user would write exact arithmetic. Same sizes as the criterion group
`risk_and_gradient` (1-8-8-8-1 and 1-4-4-4-1, exact grid on [-1,1], y = |x|, weights
U(+-1/sqrt(fan_in)) drawn as floats and made exact).

usage: peer_fractions.py [--arch 1,8,8,8,1] [--points 64] [--reps 3]
Prints one JSON object with seconds per forward+gradient."""
import argparse, json, math, random, time
from fractions import Fraction


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--arch", default="1,8,8,8,1")
    ap.add_argument("--points", type=int, default=64)
    ap.add_argument("--reps", type=int, default=3)
    a = ap.parse_args()
    arch = [int(s) for s in a.arch.split(",")]
    rng = random.Random(1)
    layers = []
    for k in range(1, len(arch)):
        bound = 1 / math.sqrt(arch[k - 1])
        W = [[Fraction(rng.uniform(-bound, bound)) for _ in range(arch[k - 1])] for _ in range(arch[k])]
        B = [Fraction(rng.uniform(-bound, bound)) for _ in range(arch[k])]
        layers.append((W, B))
    m = a.points
    xs = [[Fraction(-1) + Fraction(2 * i, m - 1)] for i in range(m)]
    ys = [[abs(x[0])] for x in xs]

    def risk_and_gradient():
        grads = [([[Fraction(0)] * len(W[0]) for _ in W], [Fraction(0)] * len(B)) for W, B in layers]
        total = Fraction(0)
        for x, y in zip(xs, ys):
            acts, pres = [x], []
            for k, (W, B) in enumerate(layers):
                z = [sum((w * v for w, v in zip(row, acts[-1])), b) for row, b in zip(W, B)]
                pres.append(z)
                acts.append(z if k == len(layers) - 1 else [v if v > 0 else Fraction(0) for v in z])
            out = acts[-1]
            total += sum((o - t) ** 2 for o, t in zip(out, y))
            delta = [2 * (o - t) / m for o, t in zip(out, y)]
            for k in range(len(layers) - 1, -1, -1):
                W, B = layers[k]
                gW, gB = grads[k]
                for j, d in enumerate(delta):
                    for i, v in enumerate(acts[k]):
                        gW[j][i] += d * v
                    gB[j] += d
                if k > 0:
                    delta = [(1 if pres[k - 1][i] > 0 else 0) * sum(W[j][i] * delta[j] for j in range(len(delta))) for i in range(len(acts[k]))]
        return total / m, grads

    times = []
    for _ in range(a.reps):
        t0 = time.perf_counter()
        risk_and_gradient()
        times.append(time.perf_counter() - t0)
    print(json.dumps({"arch": arch, "points": m, "seconds_per_eval": min(times), "reps": a.reps}))


if __name__ == "__main__":
    main()
