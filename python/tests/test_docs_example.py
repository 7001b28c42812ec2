"""The walkthrough of docs/python.md run as written, the PyTorch example, the layer order
of state_dicts, and the package's promises (CLI messages, GIL released, Dropout ignored)."""
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import deadrelu

torch = pytest.importorskip("torch")
nn = torch.nn

ROOT = Path(__file__).resolve().parents[2]


def cli_binary():
    """The Rust binary (DEADRELU_BIN, as CI sets it) or the package's console script."""
    path = os.environ.get("DEADRELU_BIN") or shutil.which("deadrelu")
    assert path, "no deadrelu command found (set DEADRELU_BIN)"
    return path


def doc_blocks():
    """The python blocks of docs/python.md after each `<!-- walkthrough:NAME -->`."""
    text = (ROOT / "docs" / "python.md").read_text()
    blocks = dict(re.findall(r"<!-- walkthrough:(\w+) -->\n```python\n(.*?)```", text, re.S))
    assert set(blocks) == {"setup", "audit", "refused"}, sorted(blocks)
    return blocks


def test_docs_walkthrough_runs_as_written(tmp_path, monkeypatch):
    """docs/python.md: a born-dead nn.Module audited in three lines, its certificate
    accepted by deadrelu.check and by the CLI, a Tanh network refused with the message
    the page shows."""
    blocks = doc_blocks()
    monkeypatch.chdir(tmp_path)
    ns = {}
    exec(compile(blocks["setup"], "docs/python.md:setup", "exec"), ns)
    assert deadrelu.inspect(ns["model"], ns["X"])["dead_layers"] == [1, 3]  # as the page says
    exec(compile(blocks["audit"], "docs/python.md:audit", "exec"), ns)
    r = ns["r"]
    assert r["verdict"] == "non-convergence-certified" and r["dead_layer"] == 3, r["verdict"]
    cert = tmp_path / "c.json"
    assert deadrelu.check(cert)["valid"] is True
    p = subprocess.run([cli_binary(), "check", str(cert)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("valid: layer 3 of 1,2,2,2,1"), (p.returncode, p.stdout, p.stderr)
    # the certificate is about the initial weights: V is the best constant's risk on (X, y)
    X, y = ns["X"], ns["y"]
    ys = [Fraction(float(v)) for v in y[:, 0]]
    mean = sum(ys) / len(ys)
    assert Fraction(r["best_constant_risk"]) == sum((v - mean) ** 2 for v in ys) / len(ys)
    # the refusal: the message printed in the page is the message raised
    code = blocks["refused"]
    shown = " ".join(line.lstrip("# ").strip() for line in code.splitlines() if line.startswith("#"))
    assert shown.startswith("ValueError: ")
    with pytest.raises(ValueError) as e:
        exec(compile(code, "docs/python.md:refused", "exec"), ns)
    assert str(e.value) == shown[len("ValueError: "):]


def test_pytorch_workflow_example_runs(tmp_path):
    """examples/pytorch_workflow.py: search, save at init, train, audit the initial weights,
    the certificate accepted by Python and the CLI."""
    env = dict(os.environ, DEADRELU_BIN=cli_binary())
    p = subprocess.run([sys.executable, str(ROOT / "examples" / "pytorch_workflow.py"), str(tmp_path)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "verdict: non-convergence-certified" in p.stdout, p.stdout
    assert "bit for bit their initial values" in p.stdout, p.stdout
    assert "accepted by deadrelu.check" in p.stdout, p.stdout
    assert (tmp_path / "init.pt").exists()
    assert deadrelu.check(tmp_path / "c.json")["valid"] is True


class HeadFirst(nn.Module):
    """The head is registered before the encoder: the state_dict's order is not the
    forward pass's, and the shapes chain in two orders."""

    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 1)
        self.encoder = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4, bias=False))

    def forward(self, x):
        return self.head(torch.relu(self.encoder(x)))


ORDER = ["encoder.0", "encoder.2", "head"]


def test_state_dict_layer_order():
    torch.manual_seed(5)
    net = HeadFirst().double()
    sd = net.state_dict()
    assert list(sd)[0] == "head.weight"
    with pytest.raises(ValueError, match=r"do not imply a layer order.*layer_order=\[") as e:
        deadrelu.theta(sd)
    assert "--layer-order" not in str(e.value) and "encoder.0,encoder.2,head" in str(e.value)
    want = deadrelu.theta(net)
    assert want["arch"] == [4, 4, 4, 1]
    assert deadrelu.theta(sd, layer_order=ORDER) == want
    assert deadrelu.theta(sd, layer_order="encoder.0, encoder.2, head") == want
    # a sorted dict (as safetensors.torch.load_file gives) with the same order
    assert deadrelu.theta(dict(sorted(sd.items())), layer_order=ORDER) == want
    x = np.random.default_rng(4).uniform(-1, 1, (12, 4))
    assert deadrelu.inspect(sd, x, layer_order=ORDER) == deadrelu.inspect(net, x)
    # an explicit order is followed even when another one chains too (4 x 4 twice)
    swapped = deadrelu.theta(sd, layer_order=["encoder.2", "encoder.0", "head"])
    assert swapped["arch"] == [4, 4, 4, 1] and swapped != want
    assert swapped["params"][:16] == want["params"][20:36]  # encoder.2's weight comes first
    for order, why in [
        (["encoder.0", "head"], r'\["encoder.2"\] not listed'),
        (["encoder.0", "encoder.2", "head", "tail"], r'no module named \["tail"\]'),
        (["encoder.0", "encoder.0", "encoder.2", "head"], r'\["encoder.0"\] listed twice'),
    ]:
        with pytest.raises(ValueError, match=r"^layer_order .*must name each Linear module.*" + why):
            deadrelu.theta(sd, layer_order=order)
    with pytest.raises(ValueError, match="comma-separated"):
        deadrelu.theta(sd, layer_order=3)
    with pytest.raises(ValueError, match="forward pass"):
        deadrelu.theta(net, layer_order=ORDER)
    with pytest.raises(ValueError, match="already in order"):
        deadrelu.theta([(np.eye(2), None), (np.ones((1, 2)), None)], layer_order=["a", "b"])


def test_state_dict_order_by_numbers_and_by_shapes():
    torch.manual_seed(6)
    fc = {k: nn.Linear(*s).double() for k, s in {"fc1": (2, 3), "fc2": (3, 3), "fc10": (3, 1)}.items()}
    pairs = [(fc[k].weight, fc[k].bias) for k in ("fc1", "fc2", "fc10")]
    # names in dict order fc10, fc1, fc2 (sorted as strings): ordered by their numbers
    sd = {f"{k}.{leaf}": getattr(fc[k], leaf) for k in ("fc10", "fc1", "fc2") for leaf in ("weight", "bias")}
    assert deadrelu.theta(sd) == deadrelu.theta(pairs)
    # no numbers, shapes chain in exactly one order: out (3 -> 1), a (2 -> 5), b (5 -> 3)
    a, b, out = nn.Linear(2, 5).double(), nn.Linear(5, 3).double(), nn.Linear(3, 1).double()
    sd = {"out.weight": out.weight, "out.bias": out.bias, "a.weight": a.weight, "a.bias": a.bias,
          "b.weight": b.weight, "b.bias": b.bias}
    assert deadrelu.theta(sd) == deadrelu.theta([(a.weight, a.bias), (b.weight, b.bias), (out.weight, out.bias)])
    # numbered names in the wrong order for the shapes: refused with a hint
    sd = {"l1.weight": torch.zeros(3, 2), "l2.weight": torch.zeros(1, 4), "l3.weight": torch.zeros(4, 3)}
    with pytest.raises(ValueError, match=r"takes 4 inputs but the layer before it \(l1\) gives 3; .*layer_order"):
        deadrelu.theta(sd)
    assert deadrelu.theta(sd, layer_order=["l1", "l3", "l2"])["arch"] == [2, 3, 4, 1]


def test_state_dict_order_same_as_cli(tmp_path):
    """Python's layer_order and the CLI's --layer-order read a safetensors twin the same."""
    st = pytest.importorskip("safetensors.torch")
    torch.manual_seed(8)
    net = HeadFirst().double()
    path = tmp_path / "m.safetensors"
    st.save_file(net.state_dict(), str(path))
    x = np.random.default_rng(9).uniform(-1, 1, (10, 4))
    csv = tmp_path / "d.csv"
    csv.write_text("".join(",".join(str(Fraction(float(v))) for v in row) + ",0\n" for row in x))
    p = subprocess.run([cli_binary(), "inspect", "--weights", str(path), "--data", f"csv:{csv}", "--json",
                        "--layer-order", ",".join(ORDER)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    loaded = st.load_file(str(path))
    assert json.loads(p.stdout) == deadrelu.inspect(loaded, x, layer_order=ORDER) == deadrelu.inspect(net, x)
    # the file through the package: weights= with layer_order is the CLI's --layer-order
    assert deadrelu.inspect(X=x, weights=path, layer_order=ORDER) == json.loads(p.stdout)
    with pytest.raises(ValueError, match="--layer-order"):
        deadrelu.inspect(X=x, weights=path)
    # the order stored in the file's metadata
    st.save_file(net.state_dict(), str(path), metadata={"layer_order": ",".join(ORDER)})
    assert deadrelu.inspect(X=x, weights=path) == json.loads(p.stdout)


@pytest.mark.parametrize(
    "call,args",
    [
        (lambda: deadrelu.audit(arch=[1, 2, 1], data="grid:-1,1:5", optimizers="nosuch"),
         ["audit", "--arch", "1,2,1", "--data", "grid:-1,1:5", "--optimizers", "nosuch"]),
        (lambda: deadrelu.inspect(arch=[1, 2, 1], data="grid:1:5"),
         ["inspect", "--arch", "1,2,1", "--data", "grid:1:5"]),
        (lambda: deadrelu.bound(init="nosuch", inputs=1, box="-1,1"),
         ["bound", "--init", "nosuch", "--inputs", "1", "--box", "-1,1"]),
        (lambda: deadrelu.check("/nonexistent/c.json"), ["check", "/nonexistent/c.json"]),
        (lambda: deadrelu.estimate(arch=[1, 2, 1], trials=0),
         ["estimate", "--arch", "1,2,1", "--trials", "0"]),
    ],
)
def test_errors_carry_the_cli_message(call, args):
    """A ValueError's text is the line the CLI prints after `deadrelu: ` (exit 2)."""
    p = subprocess.run([cli_binary()] + args, capture_output=True, text=True)
    assert p.returncode == 2, (p.returncode, p.stderr)
    line = p.stderr.strip()
    assert line.startswith("deadrelu: ") and "\n" not in line, line
    with pytest.raises(ValueError) as e:
        call()
    assert str(e.value) == line[len("deadrelu: "):]


def test_gil_released_during_a_long_run():
    """Another Python thread keeps running while Rust works."""
    done = threading.Event()
    state = {}

    def work():
        t = time.monotonic()
        state["result"] = deadrelu.estimate(arch=[1, 64, 64, 64, 1], trials=20000, seed=1)
        state["seconds"] = time.monotonic() - t
        done.set()

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.05)  # the worker is inside the Rust call
    ticks, t0 = 0, time.monotonic()
    while not done.is_set():
        ticks += 1
        time.sleep(0.001)
    spent = time.monotonic() - t0
    thread.join()
    assert state["result"]["results"][0]["trials"] == 20000
    assert state["seconds"] > 0.3, state["seconds"]  # long enough for the count to mean something
    # with the GIL held this thread would not run until the call returned: a tick or two
    assert ticks >= 20, (ticks, spent)


def test_dropout_ignored_in_training_mode():
    torch.manual_seed(11)
    lin1, lin2 = nn.Linear(2, 3).double(), nn.Linear(3, 1).double()
    with_dropout = nn.Sequential(lin1, nn.Dropout(0.5), nn.ReLU(), nn.Dropout(0.9), lin2).train()
    assert deadrelu.theta(with_dropout) == deadrelu.theta(nn.Sequential(lin1, nn.ReLU(), lin2))


def test_to_frame_of_an_audit_has_one_row_per_run():
    pytest.importorskip("pandas")
    x = np.linspace(-1, 1, 9).reshape(-1, 1)
    pairs = [(np.array([[0.5], [-0.5]]), np.array([-1.0, -1.0])), (np.array([[1.0, 1.0]]), np.array([0.5]))]
    r = deadrelu.audit(pairs, x, np.abs(x), optimizers="sgd,adam", steps=5)
    f = deadrelu.to_frame(r)
    assert len(f) == len(r["optimizers"]) == 4  # full batch and batch 8, each optimizer
    assert sorted(set(f["name"])) == ["adam", "sgd"] and bool(f["frozen"].all())


def test_cli_names_a_torch_save_file(tmp_path):
    """`--weights init.pt` (torch.save, zip or legacy pickle) is refused with what to do,
    not parsed as JSON; the Python package reads the loaded state_dict."""
    sd = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)).double().state_dict()
    for legacy in (False, True):
        path = tmp_path / f"init{int(legacy)}.pt"
        torch.save(sd, path, _use_new_zipfile_serialization=not legacy)
        p = subprocess.run([cli_binary(), "inspect", "--weights", str(path), "--data", "grid:-1,1:5"],
                           capture_output=True, text=True)
        assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert "a torch.save file" in p.stderr and "save_file" in p.stderr, p.stderr
        assert deadrelu.theta(torch.load(path))["arch"] == [1, 2, 1]


def test_to_frame_of_an_estimate_sweep_has_one_row_per_configuration():
    pytest.importorskip("pandas")
    e = deadrelu.estimate(widths=[2, 3], depths=[2, 3], trials=50, seed=3)
    f = deadrelu.to_frame(e)
    assert list(f["arch"]) == ["1,2,1", "1,2,2,1", "1,3,1", "1,3,3,1"]
    assert list(f["p_dead_layer"]) == [r["p_dead_layer"] for r in e["results"]]
    assert list(f["ci95_lo"]) == [r["ci95"][0] for r in e["results"]]
    assert list(f["counts.trials"]) == [50] * 4
