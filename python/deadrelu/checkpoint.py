"""Dead for good: ``deadrelu.audit(model, X, y, optimizer=opt)`` from a training checkpoint.

Reads a ``torch.optim`` optimizer directly: its class and ``param_groups[0]`` give the
optimizer name and the hyperparameters (each float passed as its shortest repr, which
deadrelu reads as an exact decimal: ``0.9`` is 9/10, PyTorch's documented value), and
``optimizer.state_dict()`` the per-parameter state (``step``, ``exp_avg``,
``exp_avg_sq``, ``max_exp_avg_sq``, ``momentum_buffer``, ``sum``, ``square_avg``,
``grad_avg``, ``acc_delta``, ``exp_inf``, ``mu_product``), written as JSON in the
layout of ``deadrelu audit --optimizer-state`` (tensors as nested lists of their exact
float values; state key ``i`` is the ``i``-th tensor of ``model.parameters()``, for an
``nn.Sequential`` of ``nn.Linear``: ``W_1, b_1, W_2, b_2, ...``).

The optimizer must hold exactly the model's parameters (checked). With one parameter
group its hyperparameters become flags; with several (different ``lr``, ``betas``,
``weight_decay``, ... per group) each group's hyperparameters and its parameter indices
go into the state's ``param_groups`` and deadrelu bounds each coordinate with its own
group's values. ``AdamW`` is read as Adam only with ``weight_decay = 0`` (decoupled decay is
not modelled); learning-rate schedulers are not modelled (the bound assumes the current
``lr`` forever).
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import Any, Dict, List, Tuple

_BUFFERS = (
    "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "momentum_buffer", "sum", "square_avg",
    "grad_avg", "acc_delta", "exp_inf",
)


def _number(v: Any) -> Any:
    import torch

    if isinstance(v, torch.Tensor):
        return v.detach().cpu().double().tolist()
    return v


def optimizer_flags(optimizer: Any) -> Tuple[str, Dict[str, Any]]:
    """The deadrelu optimizer name and its hyperparameter flags, from a torch optimizer."""
    groups = optimizer.param_groups
    g = groups[0]
    kind = type(optimizer).__name__
    flags: Dict[str, Any] = {"lr": float(g["lr"])}
    wd = float(g.get("weight_decay", 0.0))
    if wd:
        flags["weight_decay"] = wd
    if g.get("maximize"):
        raise ValueError("maximize=True is not supported")

    def betas() -> None:
        flags["beta1"], flags["beta2"] = (float(b) for b in g["betas"])
        flags["eps"] = float(g["eps"])

    if kind == "SGD":
        mu = float(g["momentum"])
        name = "nesterov" if g.get("nesterov") else ("momentum" if mu else "sgd")
        flags["momentum"] = mu
    elif kind in ("Adam", "AdamW"):
        if kind == "AdamW" and wd:
            raise ValueError("AdamW's decoupled weight decay is not modelled (weight_decay must be 0)")
        if g.get("decoupled_weight_decay"):
            raise ValueError("decoupled weight decay is not modelled")
        name = "amsgrad" if g.get("amsgrad") else "adam"
        betas()
    elif kind == "Adamax":
        name = "adamax"
        betas()
    elif kind == "NAdam":
        if g.get("decoupled_weight_decay"):
            raise ValueError("decoupled weight decay is not modelled")
        name = "nadam"
        betas()
        flags["momentum_decay"] = float(g["momentum_decay"])
    elif kind == "Adagrad":
        if float(g.get("initial_accumulator_value", 0.0)) != 0.0:
            pass  # the state's `sum` carries it; nothing else depends on it
        name = "adagrad"
        flags["lr_decay"] = float(g["lr_decay"])
        flags["eps"] = float(g["eps"])
    elif kind == "RMSprop":
        name = "rmsprop"
        flags["alpha"] = float(g["alpha"])
        flags["eps"] = float(g["eps"])
        flags["momentum"] = float(g["momentum"])
        flags["centered"] = bool(g["centered"])
    elif kind == "Adadelta":
        name = "adadelta"
        flags["rho"] = float(g["rho"])
        flags["eps"] = float(g["eps"])
    else:
        raise ValueError(f"optimizer {kind} is not supported")
    return name, flags


_GROUP_KEYS = (
    "lr", "momentum", "dampening", "nesterov", "betas", "eps", "weight_decay", "alpha",
    "centered", "rho", "lr_decay", "momentum_decay", "amsgrad", "maximize",
    "decoupled_weight_decay",
)


def _group_json(g: Dict[str, Any], indices: List[int]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"params": indices}
    for key in _GROUP_KEYS:
        if key in g:
            v = g[key]
            if isinstance(v, (tuple, list)):
                v = [float(x) for x in v]
            elif isinstance(v, bool):
                pass
            elif isinstance(v, (int, float)):
                v = float(v)
            else:
                v = float(_number(v))
            out[key] = v
    return out


def state_json(model: Any, optimizer: Any) -> Dict[str, Any]:
    """``optimizer.state_dict()`` as the JSON of ``audit --optimizer-state``."""
    params: List[Any] = list(model.parameters())
    position = {id(p): i for i, p in enumerate(params)}
    groups = optimizer.param_groups
    held = [id(p) for g in groups for p in g["params"]]
    if sorted(held) != sorted(position) or len(held) != len(params):
        raise ValueError("the optimizer must hold exactly model.parameters()")
    # state_dict numbers parameters in the order of the groups; map back to the model's
    order = [position[id(p)] for g in groups for p in g["params"]]
    sd = optimizer.state_dict()
    state: Dict[str, Any] = {}
    for key, entry in sd["state"].items():
        key = order[int(key)]
        out: Dict[str, Any] = {}
        for name, value in entry.items():
            if name == "step":
                out["step"] = float(_number(value))
            elif name == "mu_product":
                out["mu_product"] = float(_number(value))
            elif name in _BUFFERS:
                out[name] = None if value is None else _number(value)
        state[str(key)] = out
    if len(groups) == 1:
        return {"state": state, "param_groups": [{"params": list(range(len(params)))}]}
    return {
        "state": state,
        "param_groups": [_group_json(g, [position[id(p)] for p in g["params"]]) for g in groups],
    }


def audit_checkpoint(model: Any, X: Any, y: Any, optimizer: Any, certificate: Any = None, **flags: Any) -> Dict[str, Any]:
    """``deadrelu audit --optimizer-state``: does each dead layer stay dead forever?

    ``domain=(A, B)`` (or ``"box:A,B"``) decides on the whole input box ``[A, B]^d``
    instead of the data points (``box_budget`` caps the sub-boxes per layer)."""
    from . import _flag_value, _run

    domain = flags.get("domain")
    if isinstance(domain, (tuple, list)):
        flags["domain"] = "box:" + ",".join(_flag_value(v) for v in domain)

    name, hyper = optimizer_flags(optimizer)
    if len(optimizer.param_groups) > 1:
        hyper = {}  # each group's hyperparameters travel in the state's param_groups
    hyper.update(flags)
    fd, path = tempfile.mkstemp(suffix=".json", prefix="deadrelu-state-")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(state_json(model, optimizer), f)
        if certificate is not None:
            certificate = os.fspath(certificate)
        return _run(["audit"], model, X, y, optimizer_state=path, optimizer=name, certificate=certificate, **hyper)
    finally:
        os.unlink(path)
