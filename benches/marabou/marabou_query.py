#!/usr/bin/env python3
"""One Marabou query through maraboupy: `marabou_query.py NET.onnx QUERY.vnnlib TIMEOUT`.
Prints one JSON line: the answer (sat/unsat/timeout/error), the seconds spent reading the
network and solving (the Python import excluded), and for sat the input point at full
double precision."""
import json
import sys
import time

from maraboupy import Marabou


def main():
    net_path, prop, timeout = sys.argv[1], sys.argv[2], int(float(sys.argv[3]))
    t = time.monotonic()
    net = Marabou.read_onnx(net_path)
    opts = Marabou.createOptions(timeoutInSeconds=timeout, verbosity=0)
    code, vals, _ = net.solve(options=opts, propertyFilename=prop, verbose=False)
    spent = time.monotonic() - t
    inputs = [int(v) for v in net.inputVars[0].flatten()]
    point = [vals[v] for v in inputs] if code == "sat" else None
    print(json.dumps({"status": code.lower(), "seconds": spent, "point": point}))


if __name__ == "__main__":
    main()
