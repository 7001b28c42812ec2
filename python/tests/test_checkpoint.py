"""deadrelu.audit(model, X, y, optimizer=opt): dead for good from a torch checkpoint (#23)."""

import json

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import deadrelu  # noqa: E402
from deadrelu.checkpoint import optimizer_flags, state_json  # noqa: E402


def dead_net():
    """1-2-1 with layer 1 dead on x in {-1, 0, 1} (max pre-activation -1/2)."""
    X = torch.tensor([[-1.0], [0.0], [1.0]])
    y = torch.tensor([[1.0], [0.0], [1.0]])
    model = nn.Sequential(nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.5], [-0.5]]))
        model[0].bias.copy_(torch.tensor([-1.0, -1.0]))
        model[2].weight.copy_(torch.tensor([[1.0, 1.0]]))
        model[2].bias.zero_()
    return model, X, y


def push_biases_up(model, opt, amount):
    """One optimizer step with a gradient that pushes layer 1's biases up."""
    opt.zero_grad()
    for p in model.parameters():
        p.grad = torch.zeros_like(p)
    model[0].bias.grad = torch.tensor([-amount, -amount])
    opt.step()


def test_adam_small_step_is_dead_forever_and_certificate_checks(tmp_path):
    model, X, y = dead_net()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    push_biases_up(model, opt, 0.1)
    for _ in range(50):  # the layer is dead: zero gradients, the moments decay
        opt.zero_grad()
        nn.MSELoss()(model(X), y).backward()
        opt.step()
    cert = tmp_path / "c.json"
    r = deadrelu.audit(model, X, y, optimizer=opt, certificate=cert)
    assert r["verdict"] == "dead-forever-certified", r
    assert r["optimizer"] == "adam" and r["steps_taken"] == 51
    assert deadrelu.check(cert)["valid"]
    # an edited first moment is rejected by the checker
    c = json.loads(cert.read_text())
    c["state"]["buffers"]["exp_avg"][2] = "-10"
    cert.write_text(json.dumps(c))
    assert not deadrelu.check(cert)["valid"]


def test_momentum_buffer_may_revive_and_does():
    model, X, y = dead_net()
    opt = torch.optim.SGD(model.parameters(), lr=0.25, momentum=0.9)
    push_biases_up(model, opt, 0.5)
    r = deadrelu.audit(model, X, y, optimizer=opt)
    assert r["verdict"] == "may-revive", r
    assert r["layers"][0]["witness"]["preactivation"]
    revived = False
    for _ in range(100):
        opt.zero_grad()
        nn.MSELoss()(model(X), y).backward()
        opt.step()
        if (model[0](X) > 0).any():
            revived = True
            break
    assert revived


def test_flags_and_state_layout():
    model, X, y = dead_net()
    opt = torch.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.5, centered=True)
    push_biases_up(model, opt, 0.5)
    name, flags = optimizer_flags(opt)
    assert name == "rmsprop" and flags["centered"] is True and flags["momentum"] == 0.5
    s = state_json(model, opt)
    assert sorted(s["state"]) == ["0", "1", "2", "3"]
    assert s["state"]["1"]["step"] == 1.0 and len(s["state"]["1"]["square_avg"]) == 2
    with pytest.raises(ValueError, match="decoupled"):
        optimizer_flags(torch.optim.AdamW(model.parameters(), weight_decay=0.01))
    other = nn.Linear(1, 1)
    with pytest.raises(ValueError, match="model.parameters"):
        state_json(model, torch.optim.SGD(other.parameters(), lr=0.1))


def test_parameter_groups_per_group_lr():
    """Weights at lr 0.01 and biases in their own group: lr 0.1 may revive (and torch
    revives the layer), lr 0.01 is certified dead forever."""
    verdicts, revived = {}, False
    for bias_lr in (0.1, 0.01):
        model, X, y = dead_net()
        opt = torch.optim.Adam(
            [
                {"params": [model[0].weight, model[2].weight, model[2].bias]},
                {"params": [model[0].bias], "lr": bias_lr},
            ],
            lr=0.01,
        )
        push_biases_up(model, opt, 0.1)
        for _ in range(10):
            opt.zero_grad()
            nn.MSELoss()(model(X), y).backward()
            opt.step()
        r = deadrelu.audit(model, X, y, optimizer=opt)
        verdicts[bias_lr] = r["verdict"]
        s = state_json(model, opt)
        assert [g["params"] for g in s["param_groups"]] == [[0, 2, 3], [1]]
        assert s["param_groups"][1]["lr"] == bias_lr
        if bias_lr == 0.1:
            for _ in range(100):
                opt.zero_grad()
                nn.MSELoss()(model(X), y).backward()
                opt.step()
                revived = revived or bool((model[0](X) > 0).any())
    assert verdicts == {0.1: "may-revive", 0.01: "dead-forever-certified"}
    assert revived


def test_adam_weight_decay_may_revive_and_does():
    """L2 weight decay pulls the dead layer's biases to 0 and past it: may-revive, and
    continued torch training revives the layer."""
    model, X, y = dead_net()
    opt = torch.optim.Adam(model.parameters(), lr=0.05, weight_decay=0.1)
    push_biases_up(model, opt, 0.1)
    r = deadrelu.audit(model, X, y, optimizer=opt)
    assert r["verdict"] == "may-revive", r
    revived = False
    for _ in range(2000):
        opt.zero_grad()
        nn.MSELoss()(model(X), y).backward()
        opt.step()
        if (model[0](X) > 0).any():
            revived = True
            break
    assert revived


def test_input_box_certified_and_may_revive(tmp_path):
    """``domain=(A, B)``: dead forever on [-1, 1] (certificate with the box, checked), and
    may-revive on [-4, 4] with an exact input witness although dead on the data."""
    model, X, y = dead_net()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    push_biases_up(model, opt, 0.1)
    cert = tmp_path / "c.json"
    r = deadrelu.audit(model, X, y, optimizer=opt, domain=(-1, 1), certificate=cert)
    assert r["verdict"] == "dead-forever-certified", r
    assert r["domain"] == "box:-1,1"
    c = json.loads(cert.read_text())
    assert c["domain"]["lo"] == "-1" and c["domain"]["hi"] == "1"
    assert deadrelu.check(cert)["valid"]
    r = deadrelu.audit(model, X, y, optimizer=opt, domain="box:-4,4")
    assert r["verdict"] == "may-revive", r
    assert r["layers"][0]["on_data"]["verdict"] == "dead-forever-certified"
    assert r["layers"][0]["witness"]["input"] == ["4"]
