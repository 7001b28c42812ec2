#!/usr/bin/env bash
# The same workflow from the command line: a seeded search for a born-dead
# initialization, the audit of that initial theta, and the certificate checked.
#   bash examples/cli_workflow.sh        (uses target/release/deadrelu or DEADRELU_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${DEADRELU_BIN:-target/release/deadrelu}"
out=examples/out; mkdir -p "$out"
arch=1,2,2,2,1; data=grid:-1,1:64
for seed in $(seq 0 999); do
  if "$bin" inspect --arch $arch --seed "$seed" --data $data --json | grep -q '"dead_layers":\[[0-9]'; then
    break
  fi
done
echo "seed $seed is born dead"
"$bin" inspect --arch $arch --seed "$seed" --data $data
"$bin" train --arch $arch --seed "$seed" --data $data --optimizer adam --lr 0.01 --steps 500
"$bin" audit --arch $arch --seed "$seed" --data $data --certificate "$out/cli-c.json"
"$bin" check "$out/cli-c.json"
