#!/usr/bin/env python3
"""deadrelu's box decision against Marabou on the same queries, in one run.

Run through run.sh (it makes the venv and builds deadrelu). For every query of a seeded
suite: a float32 ReLU network d-w_1-..-w_h-1 (He-normal weights, constant bias) is written
as ONNX; "is hidden layer h active somewhere in [-1,1]^d" is exported by
`deadrelu export-vnnlib` (float32 ONNX up to layer h: the same numbers, rounding 0, plus
the VNN-LIB query), decided by deadrelu (the same command prints its decision) and by the
Marabou (maraboupy 2.0.0) on the exported ONNX + VNN-LIB, each with its time and a timeout.

- Every disagreement (sat vs unsat) is settled at the point each side offers (deadrelu's
  exact witness, Marabou's assignment): onnxruntime in float64 on the exported network,
  and deadrelu's exact forward pass (`deadrelu inspect --data csv:POINT --mode exact`:
  the layer is listed dead there iff every pre-activation is <= 0).
- Every dead answer of deadrelu is re-proven into a certificate (`deadrelu audit --domain`,
  whose deepest layer is the query's layer) and checked by `deadrelu check`.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def suite(size, seed):
    """The queries: (name, d, widths of the hidden layers, bias, seed), from `seed`."""
    rng = random.Random(seed)
    dims = list(range(2, 9))
    out = []
    for i in range(size):
        d = dims[i % len(dims)]
        hidden = rng.randint(2, 4)
        widths = [rng.randint(8, 32) for _ in range(hidden)]
        # the bias moves the deepest layer between mostly alive (-0.5) and mostly dead (-1.5)
        bias = rng.choice([-0.5, -1.0, -1.25, -1.5])
        out.append((f"q{i:03d}", d, widths, bias, rng.randrange(2**31)))
    return out


def write_network(path, d, widths, bias, seed):
    """A float32 ONNX MLP (Gemm, Relu), He-normal weights, bias `bias`, a 1-output head."""
    rng = np.random.default_rng(seed)
    dims = [d] + widths + [1]
    nodes, inits = [], []
    x = "x"
    for l in range(1, len(dims)):
        w = (rng.standard_normal((dims[l], dims[l - 1])) * np.sqrt(2.0 / dims[l - 1])).astype(
            np.float32
        )
        b = np.full(dims[l], bias if l < len(dims) - 1 else 0.0, dtype=np.float32)
        inits += [numpy_helper.from_array(w, f"W{l}"), numpy_helper.from_array(b, f"B{l}")]
        z = f"z{l}" if l < len(dims) - 1 else "y"
        nodes.append(helper.make_node("Gemm", [x, f"W{l}", f"B{l}"], [z], transB=1))
        if l < len(dims) - 1:
            x = f"a{l}"
            nodes.append(helper.make_node("Relu", [z], [x]))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, d])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)


def timed(cmd, timeout):
    t = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, timeout
    return p, time.monotonic() - t


def run_deadrelu(exe, net, d, k, prefix, budget, timeout):
    cmd = [exe, "export-vnnlib", "--weights", net, "--layer", str(k), "--domain", "box:-1,1",
           "--data", "uniform:-1,1:4", "--dtype", "f32", "--out", prefix, "--json",
           "--box-budget", str(budget)]
    p, t = timed(cmd, timeout)
    if p is None:
        return "timeout", t, None
    if p.returncode != 0:
        return "error", t, p.stderr.strip()
    out = json.loads(p.stdout)
    if out["rounding"]["rounded"] != 0:
        return "error", t, "float32 export rounded a parameter"
    dec = out["deadrelu"]
    status = {"dead": "unsat", "alive": "sat"}.get(dec["status"], "unknown")
    return status, t, dec


def run_marabou(python, prefix, timeout):
    """Marabou through maraboupy in a subprocess (marabou_query.py): its own time is the
    reading of the network plus the solve, as measured inside the process."""
    cmd = [python, os.path.join(HERE, "marabou_query.py"), prefix + ".onnx",
           prefix + ".vnnlib", str(int(timeout))]
    p, t = timed(cmd, timeout + 30)
    if p is None:
        return "timeout", t, None
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if p.returncode != 0 or not lines:
        return "error", t, (p.stdout + p.stderr)[-300:]
    out = json.loads(lines[-1])
    status = out["status"] if out["status"] in ("sat", "unsat", "timeout") else "error"
    return status, out["seconds"], out["point"] if status == "sat" else out["status"]


def settle(exe, net, prefix, d, k, point, workdir):
    """Is layer k active at `point`? onnxruntime in float64 on the exported network (max of
    the pre-activations) and deadrelu's exact forward pass (dead there or not)."""
    import onnxruntime as ort

    f64 = prefix + "-f64"
    subprocess.run([exe, "export-vnnlib", "--weights", net, "--layer", str(k), "--dtype", "f64",
                    "--out", f64, "--data", "uniform:-1,1:4", "--box-budget", "1"],
                   capture_output=True, check=True)
    x = np.array([point], dtype=np.float64)
    sess = ort.InferenceSession(f64 + ".onnx", providers=["CPUExecutionProvider"])
    z = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    ort_max = float(np.max(z))
    csv = os.path.join(workdir, "point.csv")
    with open(csv, "w") as f:
        f.write(",".join(f"x{i}" for i in range(d)) + ",y\n")
        f.write(",".join(repr(float(v)) for v in point) + ",0\n")
    p = subprocess.run([exe, "inspect", "--weights", net, "--data", f"csv:{csv}", "--json"],
                       capture_output=True, text=True, check=True)
    exact_active = k not in json.loads(p.stdout)["dead_layers"]
    return {"point": [float(v) for v in point], "ort_max_z": ort_max,
            "exact_active": exact_active}


def check_dead(exe, net, workdir, budget, timeout):
    cert = os.path.join(workdir, "cert.json")
    if os.path.exists(cert):
        os.remove(cert)
    p, _ = timed([exe, "audit", "--weights", net, "--domain", "box:-1,1", "--data",
                  "uniform:-1,1:8", "--steps", "1", "--batch", "0", "--certificate", cert,
                  "--box-budget", str(budget), "--json"], timeout)
    if p is None or not os.path.exists(cert):
        return "no certificate" + ("" if p is None else f" (exit {p.returncode})")
    q, t = timed([exe, "check", cert], timeout)
    if q is None:
        return "check timeout"
    return "accepted" if q.returncode == 0 else f"REJECTED: {q.stderr.strip()[:200]}"


def fmt(ts):
    return f"{statistics.median(ts):.3f}" if ts else "-"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deadrelu")
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--size", type=int, default=42)
    ap.add_argument("--seed", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--budget", type=int, default=20000)
    ap.add_argument("--json", help="write every row here")
    ap.add_argument("--from-json", help="only print the report of rows saved with --json")
    a = ap.parse_args()
    if a.from_json:
        with open(a.from_json) as f:
            report(json.load(f), a)
        return
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name, d, widths, bias, seed in suite(a.size, a.seed):
            net = os.path.join(work, name + ".onnx")
            write_network(net, d, widths, bias, seed)
            prefix = os.path.join(work, name + "-q")
            k = len(widths)
            ours, t_ours, info = run_deadrelu(a.deadrelu, net, d, k, prefix, a.budget, a.timeout)
            theirs, t_theirs, point = run_marabou(a.python, prefix, a.timeout)
            row = {"query": name, "arch": [d] + widths + [1], "bias": bias, "seed": seed,
                   "layer": k, "deadrelu": ours, "deadrelu_s": round(t_ours, 4),
                   "marabou": theirs, "marabou_s": round(t_theirs, 4)}
            if ours == "error":
                row["deadrelu_error"] = info
            if theirs == "error":
                row["marabou_error"] = point
            if {ours, theirs} == {"sat", "unsat"}:
                if ours == "sat":
                    pt = [float(eval_q(v)) for v in info["witness"]]
                else:
                    pt = point
                row["settled"] = settle(a.deadrelu, net, prefix, d, k, pt, work)
                row["right"] = ("deadrelu" if (ours == "sat") == row["settled"]["exact_active"]
                                else "marabou")
            if ours == "unsat":
                row["certificate"] = check_dead(a.deadrelu, net, work, a.budget, a.timeout * 4)
            rows.append(row)
            print(json.dumps(row), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    report(rows, a)


def eval_q(s):
    from fractions import Fraction

    return Fraction(s)


def report(rows, a):
    print()
    print(f"{len(rows)} queries (suite seed {a.seed}, timeout {a.timeout:g} s; an undecided "
          "query counts at the timeout in the medians)")
    print()
    print("| answer (by deadrelu, else Marabou) | queries | deadrelu median s | Marabou median s "
          "| deadrelu undecided | Marabou undecided |")
    print("|---|---|---|---|---|---|")
    for label, want in (("dead (unsat)", "unsat"), ("alive (sat)", "sat")):
        sel = [r for r in rows if (r["deadrelu"] if r["deadrelu"] in ("sat", "unsat")
                                   else r["marabou"]) == want]
        # an undecided query counts at the timeout (the median over all queries of the row)
        ours = [r["deadrelu_s"] if r["deadrelu"] in ("sat", "unsat") else a.timeout
                for r in sel]
        theirs = [r["marabou_s"] if r["marabou"] in ("sat", "unsat") else a.timeout
                  for r in sel]
        print(f"| {label} | {len(sel)} | {fmt(ours)} | {fmt(theirs)} | "
              f"{sum(r['deadrelu'] not in ('sat', 'unsat') for r in sel)} | "
              f"{sum(r['marabou'] not in ('sat', 'unsat') for r in sel)} |")
    undecided = [r for r in rows if r["deadrelu"] not in ("sat", "unsat")
                 and r["marabou"] not in ("sat", "unsat")]
    if undecided:
        print(f"| neither decided | {len(undecided)} | | | | |")
    print()
    dis = [r for r in rows if "settled" in r]
    print(f"disagreements: {len(dis)}")
    for r in dis:
        s = r["settled"]
        print(f"  {r['query']} {r['arch']}: deadrelu {r['deadrelu']}, Marabou {r['marabou']}; "
              f"onnxruntime f64 max z = {s['ort_max_z']:.3e}, exact forward pass: "
              f"{'active' if s['exact_active'] else 'inactive'} -> {r['right']} is right")
    certs = [r for r in rows if "certificate" in r]
    ok = sum(r["certificate"] == "accepted" for r in certs)
    print(f"dead proofs checked by `deadrelu check`: {ok}/{len(certs)} accepted")
    for r in certs:
        if r["certificate"] != "accepted":
            print(f"  {r['query']}: {r['certificate']}")


if __name__ == "__main__":
    sys.exit(main())
