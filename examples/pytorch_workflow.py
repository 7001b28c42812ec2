#!/usr/bin/env python3
"""The real workflow from PyTorch (needs `pip install ./python torch`).

The theorem is about the network AT INITIALIZATION: a hidden layer dead on the data at
step 0 stays dead, so no optimizer ever moves the parameters up to it and the risk never
drops below the best constant's. So: keep the initial state, train as usual, and audit
the initial weights.

    python3 examples/pytorch_workflow.py [OUT]      # writes OUT/{init.pt,c.json} (OUT: examples/out)
    deadrelu check examples/out/c.json              # the CLI accepts the same certificate

Run by the pytest suite (python/tests/test_docs_example.py) with OUT a temporary folder.
"""
import copy
from fractions import Fraction
import os
import subprocess
import sys
import shutil

import numpy as np
import torch
from torch import nn

import deadrelu

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")
os.makedirs(OUT, exist_ok=True)

x = torch.linspace(-1, 1, 64, dtype=torch.float64).unsqueeze(1)
y = x.abs()


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Linear(1, 2), nn.ReLU(),
        nn.Linear(2, 2), nn.ReLU(),
        nn.Linear(2, 2), nn.ReLU(),
        nn.Linear(2, 1),
    ).double()


# 1. A seeded search for a born-dead seed: torch's default initialization of a narrow,
#    deep net often has a hidden layer with every neuron inactive on the data.
seed = next(s for s in range(1000) if deadrelu.inspect(make_model(s), x.numpy())["dead_layers"])
model = make_model(seed)
init = copy.deepcopy(model.state_dict())  # save the state at initialization
torch.save(init, os.path.join(OUT, "init.pt"))
print(f"seed {seed}: dead layers at initialization {deadrelu.inspect(model, x.numpy())['dead_layers']}")

# 2. Train as usual with torch.optim.
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(500):
    opt.zero_grad()
    loss = ((model(x) - y) ** 2).mean()
    loss.backward()
    opt.step()
print(f"after 500 Adam steps the training loss is {loss.item():.6f} (stuck)")

# 3. Audit the INITIAL weights: exact, with a certificate.
start = make_model(seed)
start.load_state_dict(torch.load(os.path.join(OUT, "init.pt")))
cert = os.path.join(OUT, "c.json")
r = deadrelu.audit(start, x.numpy(), y.numpy(), certificate=cert)
print(f"verdict: {r['verdict']}; dead layer {r['dead_layer']}; best-constant risk V = {r['best_constant_risk']}")
V = Fraction(r["best_constant_risk"])
print(f"torch's final loss {loss.item():.6f} >= V = {float(V):.6f}: {Fraction(loss.item()) >= V}")

# The theorem, seen in torch: every parameter up to the dead layer is exactly where it
# started (its gradient is exactly zero at every step, so Adam never moves it).
k = r["dead_layer"]
linears = [name for name, m in model.named_modules() if isinstance(m, nn.Linear)]
frozen = [f"{name}.{leaf}" for name in linears[:k] for leaf in ("weight", "bias")]
trained = model.state_dict()
assert all(torch.equal(trained[p], init[p]) for p in frozen), "a parameter up to the dead layer moved"
moved = [p for p in trained if not torch.equal(trained[p], init[p])]
print(f"after training, {', '.join(frozen)} are bit for bit their initial values; moved: {', '.join(moved)}")

# 4. The certificate is accepted by the Python checker and by the CLI.
assert deadrelu.check(cert)["valid"], "deadrelu.check rejected the certificate"
# `pip install ./python` also installs the `deadrelu` command beside this interpreter.
cli = os.environ.get("DEADRELU_BIN") or shutil.which("deadrelu") or os.path.join(os.path.dirname(sys.executable), "deadrelu")
subprocess.run([cli, "check", cert], check=True)
print(f"certificate {cert} accepted by deadrelu.check and by {cli} check")
