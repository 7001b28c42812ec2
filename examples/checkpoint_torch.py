#!/usr/bin/env python3
"""Dead for good (issue 23): certify from a torch checkpoint that a dead layer never comes
back, and see a momentum buffer revive one.

Case A. A 2-8-8-8-1 ReLU MLP is trained with Adam at a large learning rate (0.3) until a
hidden layer dies on the data (layer 3, at step 8 with seed 0). From that checkpoint (weights plus ``optimizer.state_dict()``),
deadrelu decides whether it stays dead; while Adam's moments are still large the
reachable box may be too wide, so the audit is repeated every 10 steps until the layer is
certified ``dead-forever-certified`` (at step 8 the answer is ``may-revive``: Adam's
first moment is still large; at step 18 it is certified). The certificate is re-verified by the independent
checker, and torch training is continued for 5000 more steps: the layer stays dead at
every one of them.

Case B. A 1-2-1 network whose hidden layer is dead on the data, with an SGD momentum
buffer (momentum 0.9, lr 0.25) left over from earlier steps that pushes the biases up.
deadrelu answers ``may-revive`` with a witness in the reachable box; running torch's SGD
confirms that the layer comes back to life.

Case C. Adam with L2 weight decay on the same dead 1-2-1 network: the decay pulls the
biases to 0 and past it, deadrelu answers ``may-revive`` and torch confirms.

Every case is answered twice: through ``deadrelu.audit(model, X, y, optimizer=opt)`` and
through the command line (``deadrelu audit --weights W.json --data npz:D.npz
--optimizer-state S.json --optimizer adam --lr ...``, in-process via ``deadrelu.cli``).

Run: ``python examples/checkpoint_torch.py`` (needs torch and the deadrelu package).
Exit status 0 when every expectation holds.
"""

import json
import os
import sys
import tempfile

import numpy as np
import torch
from torch import nn

import deadrelu
from deadrelu.checkpoint import optimizer_flags, state_json

torch.manual_seed(0)


def hidden_preacts(model, X):
    """Pre-activations of every hidden layer (float64 copies of the float32 model)."""
    out, a = [], X.double()
    layers = [m for m in model if isinstance(m, nn.Linear)]
    for lin in layers[:-1]:
        a = a @ lin.weight.double().T + lin.bias.double()
        out.append(a)
        a = a.clamp(min=0)
    return out


def dead_layers(model, X):
    return [k + 1 for k, z in enumerate(hidden_preacts(model, X)) if (z <= 0).all()]


def via_cli(model, X, y, opt, tmp, certificate=None):
    """The same audit through the command line's files."""
    w, d, s = (os.path.join(tmp, n) for n in ("w.json", "d.npz", "s.json"))
    with open(w, "w") as f:
        json.dump(deadrelu.theta(model), f)
    np.savez(d, x=X.double().numpy(), y=y.double().numpy())
    with open(s, "w") as f:
        json.dump(state_json(model, opt), f)
    name, flags = optimizer_flags(opt)
    args = ["audit", "--weights", w, "--data", "npz:" + d, "--optimizer-state", s, "--optimizer", name]
    for k, v in flags.items():
        if v is True:
            args.append("--" + k.replace("_", "-"))
        elif v is not False:
            args += ["--" + k.replace("_", "-"), repr(v)]
    if certificate:
        args += ["--certificate", certificate]
    return deadrelu.cli(*args, "--json")


def case_a(tmp):
    X = torch.rand(64, 2) * 2 - 1
    y = (X[:, :1].abs() + 0.5 * X[:, 1:]).clone()
    model = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=0.3)
    loss_fn = nn.MSELoss()
    step, died_at = 0, None
    while step < 3000:
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
        step += 1
        if dead_layers(model, X):
            died_at = step
            break
    if died_at is None:
        print("case A: no layer died in 3000 steps (try another seed)")
        return False
    print(f"case A: layer(s) {dead_layers(model, X)} dead on the data after Adam step {died_at}")
    result = None
    for extra in range(0, 400, 10):
        if extra:
            for _ in range(10):
                opt.zero_grad()
                loss_fn(model(X), y).backward()
                opt.step()
                step += 1
        result = deadrelu.audit(model, X, y, optimizer=opt)
        per_layer = ", ".join("layer %s: %s" % (l["layer"], l["verdict"]) for l in result["layers"])
        print(f"  step {step}: {result['verdict']} ({per_layer})")
        if result["verdict"] == "dead-forever-certified":
            break
    if result["verdict"] != "dead-forever-certified":
        print("case A: not certified within 400 steps")
        return False
    cert = os.path.join(tmp, "dead_forever.json")
    cli = via_cli(model, X, y, opt, tmp, certificate=cert)
    assert cli["verdict"] == "dead-forever-certified", cli
    checked = deadrelu.check(cert)
    print("  command line: " + cli["verdict"] + "; check: " + checked.get("summary", str(checked)))
    assert checked["valid"], checked
    k = cli["certified_layer"]
    for n in range(5000):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
        if k not in dead_layers(model, X):
            print(f"case A: layer {k} revived at continued step {n + 1} (the certificate is wrong!)")
            return False
    print(f"  torch: layer {k} stayed dead for 5000 more Adam steps (max pre-activation "
          f"{hidden_preacts(model, X)[k - 1].max().item():.3g})")
    return True


def case_b(tmp):
    X = torch.tensor([[-1.0], [0.0], [1.0]])
    y = torch.tensor([[1.0], [0.0], [1.0]])
    model = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.5], [-0.5]]))
        model[0].bias.copy_(torch.tensor([-1.0, -1.0]))
        model[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        model[2].bias.zero_()
    opt = torch.optim.SGD(model.parameters(), lr=0.25, momentum=0.9)
    # a leftover buffer: one step with a gradient pushing the biases up (as a bad batch would)
    opt.zero_grad()
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    model[0].bias.grad = torch.tensor([-0.5, -0.5])
    opt.step()
    assert dead_layers(model, X) == [1], hidden_preacts(model, X)
    result = deadrelu.audit(model, X, y, optimizer=opt)
    cli = via_cli(model, X, y, opt, tmp)
    layer = result["layers"][0]
    print(f"case B: {result['verdict']} (command line: {cli['verdict']}); witness: data point "
          f"{layer['witness']['data_point']}, neuron {layer['witness']['neuron']}, pre-activation "
          f"{layer['witness']['preactivation']} at a parameter in the reachable box")
    assert result["verdict"] == cli["verdict"] == "may-revive", (result, cli)
    loss_fn = nn.MSELoss()
    for n in range(100):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
        if 1 not in dead_layers(model, X):
            print(f"  torch: SGD with momentum revived layer 1 at step {n + 1}")
            return True
    print("case B: the layer did not revive in 100 steps")
    return False


def case_c(tmp):
    """Adam with L2 weight decay: the decay pulls the dead layer's biases to 0 and, Adam's
    normalized steps not shrinking, past it; deadrelu's reachable box straddles 0
    (optim::reach::decay) and the answer is may-revive; torch confirms the revival."""
    X = torch.tensor([[-1.0], [0.0], [1.0]])
    y = torch.tensor([[1.0], [0.0], [1.0]])
    model = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.5], [-0.5]]))
        model[0].bias.copy_(torch.tensor([-1.0, -1.0]))
        model[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        model[2].bias.zero_()
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.1)
    loss_fn = nn.MSELoss()
    for _ in range(5):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
    assert dead_layers(model, X) == [1], hidden_preacts(model, X)
    result = deadrelu.audit(model, X, y, optimizer=opt)
    cli = via_cli(model, X, y, opt, tmp)
    print(f"case C: Adam with weight decay 0.1: {result['verdict']} (command line: {cli['verdict']})")
    assert result["verdict"] == cli["verdict"] == "may-revive", (result, cli)
    for n in range(2000):
        opt.zero_grad()
        loss_fn(model(X), y).backward()
        opt.step()
        if 1 not in dead_layers(model, X):
            print(f"  torch: Adam's weight decay revived layer 1 at step {n + 1}")
            return True
    print("case C: the layer did not revive in 2000 steps")
    return False


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        ok_a = case_a(tmp)
        ok_b = case_b(tmp)
        ok_c = case_c(tmp)
    sys.exit(0 if ok_a and ok_b and ok_c else 1)
