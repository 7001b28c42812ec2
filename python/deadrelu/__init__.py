"""deadrelu: dead ReLU layers, exactly. The `deadrelu` command line in-process.

Each function converts its inputs (the model to theta, NumPy data to a data set, both
exactly), runs the same code as the CLI command with ``--json`` and returns its JSON
object as a dict, so the keys are the CLI's. Bad input raises ``ValueError`` with the
CLI's one-line message. Long runs release the GIL and stop on Ctrl-C.

    import deadrelu
    r = deadrelu.audit(model, X, y, certificate="c.json")   # model at initialization
    deadrelu.check("c.json")["valid"]

``model``: a torch ``nn.Module`` (a chain of Linear and ReLU, read with torch.fx;
``bias=False`` allowed, Dropout ignored, an eval-mode BatchNorm1d folded exactly when the
fold is rational, otherwise refused with a ValueError unless ``batchnorm="float64"`` is
passed: then folded in float64 and the result has ``"batchnorm_folded":
"float64-rounded"``), a state_dict of Linear layers (ReLUs assumed between them; ordered
as the CLI orders a safetensors file: ``layer_order=["fc1", "fc2", "head"]`` if given,
else the numbers in the names, else the only order in which the shapes chain, otherwise
refused), or a list of ``(W, b)`` arrays (``W`` is out x in, ``b`` may be None). Without
a model, the CLI's ``arch``/``init``/``seed`` keywords build one. See docs/python.md.

Other keyword arguments mirror the CLI's flags: ``box_budget=100`` is
``--box-budget 100``, ``True`` is a bare flag, a list is joined by commas. Numbers such
as ``lr=0.001`` are read as the decimal they print as (the exact 1/1000), as on the
command line.
"""
from __future__ import annotations

import json
import os
from fractions import Fraction
from typing import Any, Dict, List, Optional

import numpy as np

from . import _native
from ._model import encode, layers_of

__all__ = [
    "inspect",
    "audit",
    "train",
    "check",
    "bound",
    "estimate",
    "cli",
    "to_frame",
    "theta",
]
__version__ = _native.__version__


def _flag_value(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("booleans are bare flags")
    if isinstance(value, Fraction):
        return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return ",".join(_flag_value(v) for v in value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _flags(kwargs: Dict[str, Any]) -> List[str]:
    out: List[str] = []
    for key, value in kwargs.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        else:
            out.extend([flag, _flag_value(value)])
    return out


def _data(X: Any, y: Any, outputs: Optional[int]):
    """(rows, cols, float64 bytes) of X then y, or None."""
    if X is None:
        if y is not None:
            raise ValueError("y given without X")
        return None
    from ._model import _to_float64

    x = _to_float64(X, "X")
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if x.ndim != 2:
        raise ValueError(f"X: expected shape (points, inputs), got {x.shape}")
    m = x.shape[0]
    if y is None:
        t = np.zeros((m, outputs or 1))
    else:
        t = _to_float64(y, "y")
        if t.ndim == 1:
            t = t.reshape(-1, 1)
        if t.ndim != 2 or t.shape[0] != m:
            raise ValueError(f"y: expected {m} rows like X, got shape {t.shape}")
    rows = np.ascontiguousarray(np.hstack([x, t]), dtype="<f8")
    return (m, rows.shape[1], rows.tobytes())


def _run(command: List[str], model: Any = None, X: Any = None, y: Any = None, batchnorm: str = "exact", layer_order: Any = None, **flags: Any) -> Dict[str, Any]:
    widths = bits = exact = None
    folded: List[str] = []
    if model is not None:
        widths, bits, exact = encode(model, batchnorm, folded, layer_order)
    elif layer_order is not None:
        # no model object: the order is for a state_dict file given as weights="..."
        flags["layer_order"] = layer_order
    data = _data(X, y, widths[-1] if widths else None)
    args = list(command) + _flags(flags)
    text = _native.run(args, widths, bits, exact, data)
    result = json.loads(text)
    if folded and isinstance(result, dict):
        result["batchnorm_folded"] = "float64-rounded" if "float64-rounded" in folded else "exact"
    return result


def cli(*args: str) -> Dict[str, Any]:
    """Any CLI command with ``--json``: ``deadrelu.cli("bound", "--inputs", "2")``."""
    return json.loads(_native.run([str(a) for a in args]))


def theta(model: Any, batchnorm: str = "exact", layer_order: Any = None) -> Dict[str, Any]:
    """The model as deadrelu reads it: ``{"arch": [...], "params": [...]}`` with exact
    strings (the format of ``--weights FILE.json``)."""
    widths, bits, exact = encode(model, batchnorm, layer_order=layer_order)
    if exact is None:
        values = np.frombuffer(bits, dtype="<f8")
        exact = [_native.exact_string(float(v)) for v in values]
    return {"arch": widths, "params": exact}


def inspect(model: Any = None, X: Any = None, y: Any = None, mode: str = "exact", domain: Any = None, **flags: Any) -> Dict[str, Any]:
    """``deadrelu inspect``: inactive neurons, dead layers, constant realization, risk.

    ``domain``: ``(A, B)`` or ``"box:A,B"`` also decides, exactly, which hidden layers are
    dead on the input box. Without ``y`` the targets are zero (the risk is then |N(x)|^2).
    """
    if isinstance(domain, (tuple, list)):
        domain = "box:" + ",".join(_flag_value(v) for v in domain)
    return _run(["inspect"], model, X, y, mode=mode, domain=domain, **flags)


def audit(model: Any = None, X: Any = None, y: Any = None, optimizers: Any = "all", steps: int = 50, batch: int = 8, certificate: Any = None, **flags: Any) -> Dict[str, Any]:
    """``deadrelu audit`` of the network AT INITIALIZATION: the exact mechanism audit,
    with a certificate written to ``certificate`` when the verdict is
    non-convergence-certified."""
    if X is not None and y is None:
        raise ValueError("audit needs targets y with X")
    if flags.get("optimizer") is not None and not isinstance(flags["optimizer"], str):
        from .checkpoint import audit_checkpoint  # a torch optimizer: dead for good (#23)
        return audit_checkpoint(model, X, y, flags.pop("optimizer"), certificate, **flags)
    if certificate is not None:
        certificate = os.fspath(certificate)
    return _run(["audit"], model, X, y, optimizers=optimizers, steps=steps, batch=batch, certificate=certificate, **flags)


def train(model: Any = None, X: Any = None, y: Any = None, optimizer: str = "adam", **flags: Any) -> Dict[str, Any]:
    """``deadrelu train``: one run (``mode="f64"`` or ``"exact"``, ``lr``, ``steps``,
    ``batch``, ``trace=PATH`` for theta after every step, ...)."""
    if X is not None and y is None:
        raise ValueError("train needs targets y with X")
    return _run(["train"], model, X, y, optimizer=optimizer, **flags)


def check(path: Any) -> Dict[str, Any]:
    """``deadrelu check PATH``: ``{"valid": True, "summary": ...}`` or
    ``{"valid": False, "error": ...}``; an unreadable file raises ValueError."""
    return _run(["check", os.fspath(path)])


def bound(**flags: Any) -> Dict[str, Any]:
    """``deadrelu bound`` (``init``, ``inputs``, ``box``, ``width``, ``domain``, ``arch``)."""
    return _run(["bound"], **flags)


def estimate(**flags: Any) -> Dict[str, Any]:
    """``deadrelu estimate`` (``arch``, ``widths``, ``depths``, ``trials``, ``seed``, ...)."""
    return _run(["estimate"], **flags)


def to_frame(result: Dict[str, Any]):
    """A pandas DataFrame of a result: estimate, one row per configuration; inspect, one
    row per hidden layer; audit, one row per optimizer run; otherwise one row."""
    try:
        import pandas as pd
    except ImportError as e:
        raise ImportError("deadrelu.to_frame needs pandas: pip install pandas") from e
    if isinstance(result.get("results"), list):
        rows = []
        for r in result["results"]:
            row = dict(r)
            if isinstance(row.get("arch"), list):
                row["arch"] = ",".join(str(w) for w in row["arch"])
            for key, value in list(row.items()):
                if isinstance(value, list) and len(value) == 2 and key.endswith("ci95"):
                    row[key + "_lo"], row[key + "_hi"] = value
                    del row[key]
            rows.append(row)
        return pd.json_normalize(rows)
    if isinstance(result.get("optimizers"), list):
        return pd.json_normalize(result["optimizers"])
    if "inactive_per_layer" in result and "arch" in result:
        arch = result["arch"]
        dead = set(result.get("dead_layers", []))
        rows = []
        for k, count in enumerate(result["inactive_per_layer"], start=1):
            rows.append({"layer": k, "width": arch[k], "inactive": count, "dead": k in dead})
        return pd.DataFrame(rows)
    return pd.json_normalize(result)
