"""Tests of the deadrelu Python package (the CLI in-process)."""
import json
import os
import shutil
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import deadrelu

torch = pytest.importorskip("torch") if os.environ.get("DEADRELU_NO_TORCH") else __import__("torch")
nn = torch.nn


def cli_binary():
    """The Rust binary (DEADRELU_BIN, as CI sets it) or the package's console script."""
    path = os.environ.get("DEADRELU_BIN") or shutil.which("deadrelu")
    assert path, "no deadrelu command found (set DEADRELU_BIN)"
    return path


def dead_pairs():
    """A 1-2-2-1 net whose first layer is inactive on [-1, 1] (biases -1, weights 1/2)."""
    w1 = np.array([[0.5], [-0.5]])
    b1 = np.array([-1.0, -1.0])
    w2 = np.array([[1.0, 2.0], [3.0, -1.0]])
    b2 = np.array([0.25, -0.5])
    w3 = np.array([[1.0, 1.0]])
    b3 = np.array([0.125])
    return [(w1, b1), (w2, b2), (w3, b3)]


def grid(m=9):
    x = np.linspace(-1.0, 1.0, m).reshape(-1, 1)
    return x, np.abs(x)


def born_dead_module(widths=(1, 2, 2, 2, 1), x=None, tries=500):
    """The first seed whose torch-default initialization is dead on the data."""
    x = grid()[0] if x is None else x
    for seed in range(tries):
        torch.manual_seed(seed)
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(a, b), nn.ReLU()]
        model = nn.Sequential(*layers[:-1]).double()
        if deadrelu.inspect(model, x)["dead_layers"]:
            return seed, model
    raise AssertionError("no born-dead seed found")


def test_inspect_pairs_exact():
    x, y = grid()
    r = deadrelu.inspect(dead_pairs(), x, y)
    assert r["arch"] == [1, 2, 2, 1]
    assert r["dead_layers"] == [1]
    assert r["inactive_per_layer"][0] == 2
    assert r["constant_on_data"] is True
    # the constant is W3 ReLU(b2) + b3 = 0.25 + 0.125 = 3/8; risk = mean (3/8 - |x|)^2
    expected = sum((Fraction(3, 8) - Fraction(abs(float(v)))) ** 2 for v in x[:, 0]) / len(x)
    assert Fraction(r["risk"]) == expected


def test_inspect_domain_and_f64():
    r = deadrelu.inspect(dead_pairs(), *grid(), mode="f64", domain=(-1, 1))
    assert r["mode"] == "f64"
    assert r["domain"]["dead_layers"] == [1]
    assert isinstance(r["risk"], float)


def test_float32_weights_read_exactly():
    w = np.array([[0.1]], dtype=np.float32)
    model = [(w, np.array([0.2], dtype=np.float32)), (np.array([[0.3]], dtype=np.float32), None)]
    t = deadrelu.theta(model)
    assert t["arch"] == [1, 1, 1]
    assert Fraction(t["params"][0]) == Fraction(float(np.float32(0.1)))
    assert Fraction(t["params"][0]) != Fraction(1, 10)
    assert t["params"][3] == "0"  # bias None is zero


def test_half_and_bfloat16_widened_exactly():
    lin = nn.Linear(1, 1).to(torch.bfloat16)
    with torch.no_grad():
        lin.weight.fill_(0.1)
    model = nn.Sequential(lin, nn.ReLU(), nn.Linear(1, 1).to(torch.float16))
    t = deadrelu.theta(model)
    assert Fraction(t["params"][0]) == Fraction(float(torch.tensor(0.1, dtype=torch.bfloat16)))
    assert Fraction(t["params"][0]) == Fraction(205, 2048)  # bfloat16 0.1 = 0.10009765625
    assert Fraction(t["params"][2]) == Fraction(float(model[2].weight.item()))  # float16 W2


def test_state_dict_any_names_and_bias_false():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(2, 3, bias=False)
            self.act = nn.ReLU()
            self.drop = nn.Dropout(0.5)
            self.fc2 = nn.Linear(3, 1)

        def forward(self, x):
            return self.fc2(self.drop(torch.relu(self.fc1(x))))

    torch.manual_seed(0)
    net = Net().double()
    a = deadrelu.theta(net)
    b = deadrelu.theta(net.state_dict())
    assert a == b
    assert a["arch"] == [2, 3, 1]
    assert a["params"][6:9] == ["0", "0", "0"]  # fc1 has no bias
    x = np.random.default_rng(0).uniform(-1, 1, (5, 2))
    assert deadrelu.inspect(net, x)["inactive_per_layer"] == deadrelu.inspect(net.state_dict(), x)["inactive_per_layer"]


@pytest.mark.parametrize(
    "act,name", [(nn.Tanh(), "Tanh"), (nn.GELU(), "GELU"), (nn.LeakyReLU(), "LeakyReLU")]
)
def test_non_relu_activation_refused(act, name):
    model = nn.Sequential(nn.Linear(1, 4), act, nn.Linear(4, 1))
    with pytest.raises(ValueError, match=name):
        deadrelu.inspect(model, grid()[0])


def test_residual_and_conv_refused():
    class Res(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2)
            self.b = nn.Linear(2, 1)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)) + x)

    with pytest.raises(ValueError, match="add"):
        deadrelu.theta(Res())
    with pytest.raises(ValueError, match="Conv1d"):
        deadrelu.theta(nn.Sequential(nn.Conv1d(1, 1, 1), nn.ReLU(), nn.Linear(1, 1)))


def test_batchnorm_folded_exactly_or_refused():
    torch.manual_seed(1)
    lin1, bn, lin2 = nn.Linear(1, 2).double(), nn.BatchNorm1d(2, eps=0.0).double(), nn.Linear(2, 1).double()
    model = nn.Sequential(lin1, bn, nn.ReLU(), lin2)
    with pytest.raises(ValueError, match="training mode"):
        deadrelu.theta(model)
    model.eval()
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([4.0, 0.25], dtype=torch.float64))
        bn.running_mean.copy_(torch.tensor([0.5, -1.0], dtype=torch.float64))
        bn.weight.copy_(torch.tensor([3.0, 1.0], dtype=torch.float64))
        bn.bias.copy_(torch.tensor([0.0, 0.5], dtype=torch.float64))
    t = deadrelu.theta(model)
    w = lin1.weight.detach().numpy()[:, 0]
    b = lin1.bias.detach().numpy()
    # scale = gamma / sqrt(var): 3/2 and 2; shift = beta - scale * mean
    assert Fraction(t["params"][0]) == Fraction(3, 2) * Fraction(float(w[0]))
    assert Fraction(t["params"][3]) == 2 * Fraction(float(b[1])) + Fraction(1, 2) + 2
    with torch.no_grad():
        bn.running_var.fill_(2.0)
    with pytest.raises(ValueError, match="irrational"):
        deadrelu.theta(model)


def test_cli_errors_are_value_errors():
    with pytest.raises(ValueError, match="--optimizers"):
        deadrelu.audit(dead_pairs(), *grid(), optimizers="nosuch")
    with pytest.raises(ValueError, match="cannot read"):
        deadrelu.check("/nonexistent/c.json")
    with pytest.raises(ValueError, match="y"):
        deadrelu.inspect(dead_pairs(), np.zeros((3, 1)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="not a finite|NaN|nan|infinite"):
        deadrelu.inspect(dead_pairs(), np.array([[np.nan]]))


def test_bound_and_estimate_and_frame():
    b = deadrelu.bound(init="uniform:1", inputs=1, box="-1,1", width=2)
    assert b["p"] == "1/4"  # P(w x + b <= 0 for all x in [-1,1]) = P(b <= -|w|) = 1/4
    e = deadrelu.estimate(arch=[1, 2, 2, 1], trials=50, seed=3)
    assert e["results"][0]["trials"] == 50
    pd = pytest.importorskip("pandas")
    f = deadrelu.to_frame(e)
    assert list(f["arch"]) == ["1,2,2,1"]
    r = deadrelu.inspect(dead_pairs(), *grid())
    f = deadrelu.to_frame(r)
    assert list(f["dead"]) == [True, False] and list(f["width"]) == [2, 2]


def test_born_dead_module_certificate_accepted_by_python_and_cli(tmp_path):
    seed, model = born_dead_module()
    x, y = grid()
    cert = tmp_path / "c.json"
    r = deadrelu.audit(model, x, y, optimizers="adam,sgd", steps=10, certificate=cert)
    assert r["verdict"] == "non-convergence-certified", (seed, r)
    assert deadrelu.check(cert)["valid"] is True
    p = subprocess.run([cli_binary(), "check", str(cert)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    # a tampered certificate is rejected by both
    c = json.loads(cert.read_text())
    c["constant_value"] = ["12345"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(c))
    assert deadrelu.check(bad)["valid"] is False
    p = subprocess.run([cli_binary(), "check", str(bad)], capture_output=True, text=True)
    assert p.returncode == 1, (p.returncode, p.stderr)


def test_adam_round_trip_with_torch(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(1, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    init = [p.detach().clone() for p in model.state_dict().values()]
    init_pairs = [(init[i].numpy(), init[i + 1].numpy()) for i in range(0, len(init), 2)]
    x = torch.linspace(-1, 1, 32, dtype=torch.float64).unsqueeze(1)
    y = x.abs()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(50):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
    trace = tmp_path / "trace.jsonl"
    r = deadrelu.train(init_pairs, x.numpy(), y.numpy(), optimizer="adam", lr=0.01, steps=50, mode="f64", trace=trace)
    last = json.loads(trace.read_text().strip().splitlines()[-1])
    ours = np.array([float(Fraction(v)) if isinstance(v, str) else v for v in last["theta"]])
    theirs = torch.cat([p.detach().reshape(-1) for p in model.state_dict().values()]).numpy()
    assert ours.shape == theirs.shape
    assert np.max(np.abs(ours - theirs)) <= 1e-12, np.max(np.abs(ours - theirs))
    assert abs(r["risk_final"] - float(((model(x) - y) ** 2).mean().detach())) <= 1e-12


def test_console_script_runs_the_cli():
    p = subprocess.run([sys.executable, "-m", "deadrelu", "bound", "--init", "uniform:1", "--inputs", "1", "--box", "-1,1", "--json"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["p"] == "1/4"


def test_onnx_export_and_safetensors_twin_inspect_identically(tmp_path):
    pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")  # the dynamo exporter (torch.export) needs it
    st = pytest.importorskip("safetensors.torch")

    torch.manual_seed(7)
    net = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))  # float32
    onnx_path = tmp_path / "m.onnx"
    # the dynamo exporter, torch's default since 2.9 (Gemm nodes, opset 18+)
    torch.onnx.export(net, (torch.zeros(1, 2),), str(onnx_path), dynamo=True, verbose=False)
    st_path = tmp_path / "m.safetensors"
    st.save_file(net.state_dict(), str(st_path))
    x = np.random.default_rng(1).uniform(-1, 1, (20, 2))
    csv = tmp_path / "d.csv"
    exact = lambda v: str(Fraction(float(v)))  # noqa: E731 - the double's exact value
    csv.write_text("".join(f"{exact(a)},{exact(b)},0\n" for a, b in x))
    outs = []
    for w in (onnx_path, st_path):
        p = subprocess.run([cli_binary(), "inspect", "--weights", str(w), "--data", f"csv:{csv}", "--json"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        outs.append(json.loads(p.stdout))
    assert outs[0] == outs[1]
    assert outs[0]["arch"] == [2, 4, 3, 1]
    assert outs[0] == deadrelu.inspect(net, x)
    # a Tanh in the ONNX graph is refused, naming the node and its op type
    bad = nn.Sequential(nn.Linear(2, 2), nn.Tanh(), nn.Linear(2, 1))
    torch.onnx.export(bad, (torch.zeros(1, 2),), str(tmp_path / "t.onnx"), dynamo=True, verbose=False)
    p = subprocess.run([cli_binary(), "inspect", "--weights", str(tmp_path / "t.onnx"), "--data", f"csv:{csv}"], capture_output=True, text=True)
    assert p.returncode == 2 and "op type Tanh" in p.stderr, p.stderr


def test_batchnorm_float64_opt_in():
    torch.manual_seed(2)
    lin1, bn, lin2 = nn.Linear(1, 3).double(), nn.BatchNorm1d(3).double(), nn.Linear(3, 1).double()
    model = nn.Sequential(lin1, bn, nn.ReLU(), lin2).eval()
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([2.0, 0.5, 3.0], dtype=torch.float64))
        bn.running_mean.copy_(torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64))
    x = grid()[0]
    with pytest.raises(ValueError, match='irrational.*batchnorm="float64"'):
        deadrelu.inspect(model, x)
    r = deadrelu.inspect(model, x, batchnorm="float64")
    assert r["batchnorm_folded"] == "float64-rounded"
    # the folded weights are torch's own float64 fold (fuse_linear_bn_eval), read exactly
    from torch.nn.utils.fusion import fuse_linear_bn_eval

    fused = fuse_linear_bn_eval(lin1, bn)
    t = deadrelu.theta(model, batchnorm="float64")
    w = fused.weight.detach().numpy()[:, 0]
    b = fused.bias.detach().numpy()
    assert [Fraction(v) for v in t["params"][:3]] == [Fraction(float(v)) for v in w]
    assert [Fraction(v) for v in t["params"][3:6]] == [Fraction(float(v)) for v in b]
    # the network deadrelu audits computes what the eval-mode model computes (to rounding)
    with torch.no_grad():
        ours = fused(torch.tensor(x)).relu() @ lin2.weight.T + lin2.bias
        theirs = model(torch.tensor(x))
    assert torch.allclose(ours, theirs, atol=1e-12)
    # an exact fold is recorded as exact
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor([4.0, 0.25, 1.0], dtype=torch.float64))
    bn.eps = 0.0
    assert deadrelu.inspect(model, x)["batchnorm_folded"] == "exact"
    with pytest.raises(ValueError, match="batchnorm="):
        deadrelu.inspect(model, x, batchnorm="round")


def test_cli_reads_any_module_names_with_layer_order(tmp_path):
    st = pytest.importorskip("safetensors.torch")

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4, bias=False))
            self.head = nn.Linear(4, 1)

        def forward(self, x):
            return self.head(torch.relu(self.encoder(x)))

    torch.manual_seed(3)
    net = Net().double()
    path = tmp_path / "m.safetensors"
    st.save_file(net.state_dict(), str(path))
    x = np.random.default_rng(2).uniform(-1, 1, (10, 4))
    csv = tmp_path / "d.csv"
    csv.write_text("".join(",".join(str(Fraction(float(v))) for v in row) + ",0\n" for row in x))
    args = [cli_binary(), "inspect", "--weights", str(path), "--data", f"csv:{csv}", "--json"]
    p = subprocess.run(args, capture_output=True, text=True)
    assert p.returncode == 2 and "--layer-order" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
    p = subprocess.run(args + ["--layer-order", "encoder.0,encoder.2,head"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == deadrelu.inspect(net, x)


CTRL_C_CHILD = r"""
import sys, time, deadrelu
print("start", flush=True)
try:
    deadrelu.estimate(arch=[1, 64, 64, 64, 1], trials=200_000_000, seed=1)
    print("finished", flush=True)
except KeyboardInterrupt:
    t = time.time()
    c0 = time.process_time()
    time.sleep(1.0)
    # the Rust worker stopped: the process uses (almost) no CPU once interrupted
    print("interrupted", t, time.process_time() - c0, flush=True)
    sys.exit(42)
"""


def test_ctrl_c_stops_a_long_run():
    """SIGINT to a process in a long estimate: KeyboardInterrupt within 2 s, and the Rust
    work stops (the process is idle afterwards)."""
    import signal
    import time

    child = subprocess.Popen([sys.executable, "-c", CTRL_C_CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "start"
        time.sleep(1.5)
        sent = time.time()
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 42, out
    _, raised, cpu = out.split()
    assert float(raised) - sent < 2.0, float(raised) - sent
    assert float(cpu) < 0.3, cpu


NOTES_CHILD = """
import deadrelu
deadrelu.estimate(arch=[1, 2, 1], trials=10, seed=1{extra})
"""


def test_estimate_notes_only_on_a_terminal_or_when_asked():
    # stderr is a pipe here, as in a notebook: no "N trials" note unless verbose=True
    quiet = subprocess.run([sys.executable, "-c", NOTES_CHILD.format(extra="")], capture_output=True, text=True)
    assert quiet.returncode == 0, quiet.stderr
    assert "trials in" not in quiet.stderr, quiet.stderr
    loud = subprocess.run([sys.executable, "-c", NOTES_CHILD.format(extra=", verbose=True")], capture_output=True, text=True)
    assert loud.returncode == 0, loud.stderr
    assert "deadrelu: 10 trials in" in loud.stderr, loud.stderr
