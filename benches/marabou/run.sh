#!/usr/bin/env bash
# deadrelu's box decision against Marabou on the same seeded queries (issue 20).
# Usage: bash benches/marabou/run.sh [--size N] [--seed S] [--timeout SECONDS] [--budget NODES] [--json FILE]
# Makes a venv (VENV, default target/marabou-venv) with maraboupy, onnxruntime, onnx and
# numpy, builds deadrelu in release, then runs bench.py (see its docstring).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${VENV:-$root/target/marabou-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet maraboupy==2.0.0 onnxruntime onnx numpy
fi
(cd "$root" && cargo build --release --quiet)
exec "$venv/bin/python" "$root/benches/marabou/bench.py" \
  --deadrelu "$root/target/release/deadrelu" "$@"
