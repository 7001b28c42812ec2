"""Turning a model into theta: a list of (W, b), a state_dict or a torch nn.Module.

Every float is handed to Rust as its raw float64 bits (float16, bfloat16 and float32 are
widened to float64 first, which is exact), so deadrelu sees exactly the numbers PyTorch
holds. A BatchNorm1d in eval mode is folded into the neighbouring Linear in exact
rational arithmetic (Python's Fraction); when the fold is not rational (the square root
of running_var + eps is irrational, the usual case) the model is refused rather than
rounded, unless the caller opts in with ``batchnorm="float64"``: then every BatchNorm1d
is folded in float64 (as torch.nn.utils.fusion.fuse_linear_bn_eval does) and the folded
float64 weights are what is audited, exactly; the result says so
(``"batchnorm_folded": "float64-rounded"``).
"""
from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

_FLOAT_KINDS = ("f",)


class Layer:
    """One affine layer: W (out x in) and b (out), as float64 arrays or Fractions."""

    def __init__(self, w, b, name: str):
        self.w = w
        self.b = b
        self.name = name
        self.order_source = "given"  # a state_dict's: "explicit", "numbers" or "shapes"

    @property
    def shape(self) -> Tuple[int, int]:
        if isinstance(self.w, np.ndarray):
            return self.w.shape  # type: ignore[return-value]
        return (len(self.w), len(self.w[0]) if self.w else 0)


def _to_float64(value: Any, what: str) -> np.ndarray:
    """A tensor or array as a float64 NumPy array, widened exactly; refuses other dtypes."""
    try:
        import torch  # noqa: F401

        if isinstance(value, torch.Tensor):
            t = value.detach().cpu()
            if t.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
                raise ValueError(
                    f"{what}: dtype {t.dtype} is not a float type (float16, bfloat16, float32, float64)"
                )
            return t.to(torch.float64).numpy()
    except ImportError:
        pass
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        if arr.dtype.itemsize > 8:
            raise ValueError(f"{what}: dtype {arr.dtype} is wider than float64 and cannot be read exactly")
        return arr.astype("<f8")
    if arr.dtype.kind in "iub":
        out = arr.astype("<f8")
        if arr.size and np.any(out.astype(arr.dtype) != arr):
            raise ValueError(f"{what}: integers beyond 2^53 are not exact in float64")
        return out
    raise ValueError(f"{what}: dtype {arr.dtype} is not numeric")


def _from_pairs(pairs: Sequence[Any]) -> List[Layer]:
    layers = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"model[{i}]: expected a pair (W, b) (b may be None)")
        w = _to_float64(pair[0], f"model[{i}] W")
        if w.ndim != 2:
            raise ValueError(f"model[{i}] W: expected a 2-D array (out x in), got shape {w.shape}")
        if pair[1] is None:
            b = np.zeros(w.shape[0])
        else:
            b = _to_float64(pair[1], f"model[{i}] b").reshape(-1)
        layers.append(Layer(w, b, f"model[{i}]"))
    return layers


def _order_text(layer_order: Any) -> str:
    """``layer_order`` (a list of module names or one comma-separated string) as text."""
    if isinstance(layer_order, str):
        return layer_order
    if isinstance(layer_order, (list, tuple)) and all(isinstance(n, str) for n in layer_order):
        if any("," in n for n in layer_order):
            raise ValueError(f"layer_order={list(layer_order)!r}: a module name cannot contain a comma")
        return ",".join(layer_order)
    raise ValueError(
        f"layer_order: expected a list of module names (input layer first) or one comma-separated string, got {layer_order!r}"
    )


def _from_state_dict(sd: Any, layer_order: Any = None) -> List[Layer]:
    """The Linear layers of a state_dict, in the CLI's order (``--layer-order``): the
    explicit ``layer_order`` if given, else the numbers in the module names (``0, 2, 4``;
    ``fc1, fc2``), else the only order in which the shapes chain; otherwise refused. The
    dict's own order is not trusted: a state_dict loaded from safetensors is sorted by
    name, and registration order need not be the order of the forward pass."""
    from . import _native

    groups: dict = {}
    for name, value in sd.items():
        prefix, _, leaf = name.rpartition(".")
        if leaf in ("running_mean", "running_var", "num_batches_tracked"):
            raise ValueError(
                f"state_dict entry {name!r} belongs to a BatchNorm: pass the nn.Module (in eval mode) so the fold and the layer order are known"
            )
        if leaf not in ("weight", "bias"):
            raise ValueError(
                f"state_dict entry {name!r} is not the weight or bias of an nn.Linear"
            )
        groups.setdefault(prefix, {})[leaf] = value
    pairs = {}
    shapes = []
    for prefix, g in groups.items():
        if "weight" not in g:
            raise ValueError(f"state_dict module {prefix!r} has a bias but no weight")
        w = _to_float64(g["weight"], f"{prefix}.weight")
        if w.ndim != 2:
            raise ValueError(
                f"state_dict entry {prefix + '.weight'!r} has shape {tuple(w.shape)}: not an nn.Linear weight (out x in)"
            )
        pairs[prefix] = (w, g.get("bias"))
        shapes.append((prefix, (int(w.shape[0]), int(w.shape[1]))))
    if not pairs:
        raise ValueError("the state_dict has no nn.Linear weight")
    text = None if layer_order is None else _order_text(layer_order)
    order, source = _native.layer_order(shapes, text)
    layers = _from_pairs([pairs[prefix] for prefix in order])
    for layer, prefix in zip(layers, order):
        layer.name = prefix or "weight"
        layer.order_source = source
    return layers


def _fraction_sqrt(q: Fraction) -> Optional[Fraction]:
    if q < 0:
        return None
    n, d = q.numerator, q.denominator
    rn, rd = math.isqrt(n), math.isqrt(d)
    if rn * rn == n and rd * rd == d:
        return Fraction(rn, rd)
    return None


BATCHNORM_MODES = ("exact", "float64")


def _bn_affine(name: str, bn: Any, batchnorm: str = "exact"):
    """(scale, shift) of an eval-mode BatchNorm1d, y = scale * x + shift: exact Fractions,
    or float64 arrays with ``batchnorm="float64"``."""
    if bn.training:
        raise ValueError(
            f"module {name!r} (BatchNorm1d) is in training mode: its output depends on the batch; call model.eval() first"
        )
    if bn.running_mean is None or bn.running_var is None:
        raise ValueError(f"module {name!r} (BatchNorm1d) has no running statistics (track_running_stats=False)")
    if batchnorm == "float64":
        mean64 = _to_float64(bn.running_mean, name)
        var64 = _to_float64(bn.running_var, name)
        n = len(mean64)
        gamma64 = _to_float64(bn.weight, name) if bn.affine else np.ones(n)
        beta64 = _to_float64(bn.bias, name) if bn.affine else np.zeros(n)
        scale64 = gamma64 / np.sqrt(var64 + float(bn.eps))
        if not np.all(np.isfinite(scale64)):
            raise ValueError(f"module {name!r} (BatchNorm1d): the float64 fold is not finite (running_var + eps = 0?)")
        # (mean, beta): the shift is rounded as torch's fuse_linear_bn_eval rounds it
        return scale64, (mean64, beta64)
    mean = [Fraction(float(v)) for v in _to_float64(bn.running_mean, name)]
    var = [Fraction(float(v)) for v in _to_float64(bn.running_var, name)]
    eps = Fraction(float(bn.eps))
    n = len(mean)
    gamma = [Fraction(1)] * n
    beta = [Fraction(0)] * n
    if bn.affine:
        gamma = [Fraction(float(v)) for v in _to_float64(bn.weight, name)]
        beta = [Fraction(float(v)) for v in _to_float64(bn.bias, name)]
    scale, shift = [], []
    for j in range(n):
        root = _fraction_sqrt(var[j] + eps)
        if root is None or root == 0:
            raise ValueError(
                f"module {name!r} (BatchNorm1d): sqrt(running_var[{j}] + eps) = sqrt({float(var[j] + eps)!r}) is irrational, "
                "so the BatchNorm cannot be folded exactly into the Linear layer and deadrelu will not round silently; "
                "pass batchnorm=\"float64\" to fold it in float64 (as torch's fuse_linear_bn_eval does) and audit those "
                "float64 weights exactly (the result then says \"batchnorm_folded\": \"float64-rounded\")"
            )
        s = gamma[j] / root
        scale.append(s)
        shift.append(beta[j] - s * mean[j])
    return scale, shift


def _exact_layer(layer: Layer) -> Tuple[List[List[Fraction]], List[Fraction]]:
    if isinstance(layer.w, np.ndarray):
        w = [[Fraction(float(v)) for v in row] for row in layer.w]
        b = [Fraction(float(v)) for v in layer.b]
        return w, b
    return layer.w, layer.b


def _fold_after(layer: Layer, scale, shift, bn_name: str) -> Layer:
    """BatchNorm applied to the output of `layer`."""
    if isinstance(scale, np.ndarray):
        if len(scale) != layer.w.shape[0]:
            raise ValueError(f"module {bn_name!r} has {len(scale)} features, the Linear before it {layer.w.shape[0]} outputs")
        mean, beta = shift
        return Layer(layer.w * scale[:, None], (layer.b - mean) * scale + beta, layer.name)
    w, b = _exact_layer(layer)
    if len(scale) != len(w):
        raise ValueError(f"module {bn_name!r} has {len(scale)} features, the Linear before it {len(w)} outputs")
    w2 = [[scale[j] * v for v in w[j]] for j in range(len(w))]
    b2 = [scale[j] * b[j] + shift[j] for j in range(len(w))]
    return Layer(w2, b2, layer.name)


def _fold_before(layer: Layer, scale, shift, bn_name: str) -> Layer:
    """BatchNorm applied to the input of `layer`: W (s x + t) + b."""
    if isinstance(scale, np.ndarray):
        if len(scale) != layer.w.shape[1]:
            raise ValueError(f"module {bn_name!r} has {len(scale)} features, the Linear after it {layer.w.shape[1]} inputs")
        mean, beta = shift
        return Layer(layer.w * scale[None, :], layer.b + layer.w @ (beta - scale * mean), layer.name)
    w, b = _exact_layer(layer)
    if w and len(scale) != len(w[0]):
        raise ValueError(f"module {bn_name!r} has {len(scale)} features, the Linear after it {len(w[0])} inputs")
    w2 = [[row[i] * scale[i] for i in range(len(row))] for row in w]
    b2 = [b[j] + sum(w[j][i] * shift[i] for i in range(len(shift))) for j in range(len(w))]
    return Layer(w2, b2, layer.name)


def _module_ops(module: Any) -> List[Tuple[str, str, Any]]:
    """The chain of operations of a module as (kind, name, submodule), kind in
    linear/relu/bn/skip; anything else raises ValueError naming it."""
    import torch
    from torch import nn

    def classify(name: str, sub: Any) -> Tuple[str, str, Any]:
        if isinstance(sub, nn.Linear):
            return ("linear", name, sub)
        if isinstance(sub, nn.ReLU):
            return ("relu", name, sub)
        if isinstance(sub, nn.BatchNorm1d):
            return ("bn", name, sub)
        if isinstance(sub, (nn.Dropout, nn.Identity, nn.Flatten)):
            return ("skip", name, sub)
        raise ValueError(
            f"module {name!r} ({type(sub).__name__}) is not supported: deadrelu reads chains of Linear and ReLU "
            "(bias=False allowed, Dropout ignored, BatchNorm1d folded)"
        )

    try:
        import torch.fx

        graph = torch.fx.symbolic_trace(module).graph
    except Exception as e:  # noqa: BLE001 - any tracing failure
        if isinstance(module, nn.Sequential):
            ops = []
            for name, sub in module.named_modules():
                if sub is module or isinstance(sub, nn.Sequential):
                    continue
                ops.append(classify(name, sub))
            return ops
        raise ValueError(
            f"cannot read the computation of {type(module).__name__} with torch.fx ({e}); use an nn.Sequential or pass a list of (W, b)"
        ) from None

    relu_fns = {torch.relu, torch.nn.functional.relu, torch.relu_}
    ops = []
    prev = None
    for node in graph.nodes:
        if node.op == "placeholder":
            if prev is not None:
                raise ValueError(f"the model takes more than one input ({node.name!r})")
            prev = node
            continue
        if node.op == "output":
            if node.args[0] is not prev:
                raise ValueError("the model's output is not the end of a single chain of layers")
            break
        args = [a for a in list(node.args) + list(node.kwargs.values()) if isinstance(a, torch.fx.Node)]
        if len(args) != 1 or args[0] is not prev:
            raise ValueError(
                f"node {node.name!r} ({node.op} {node.target}) does not continue a single chain (residual additions and branches are not supported)"
            )
        if node.op == "call_module":
            ops.append(classify(str(node.target), module.get_submodule(node.target)))
        elif node.op == "call_function" and node.target in relu_fns:
            ops.append(("relu", node.name, None))
        elif node.op == "call_method" and node.target in ("relu", "relu_"):
            ops.append(("relu", node.name, None))
        else:
            target = getattr(node.target, "__name__", str(node.target))
            raise ValueError(
                f"node {node.name!r} ({node.op} {target}) is not supported: deadrelu reads chains of Linear and ReLU"
            )
        prev = node
    return ops


def _from_module(module: Any, batchnorm: str = "exact", folded: Optional[list] = None) -> List[Layer]:
    if batchnorm not in BATCHNORM_MODES:
        raise ValueError(f"batchnorm={batchnorm!r}: expected one of {BATCHNORM_MODES}")
    ops = [op for op in _module_ops(module) if op[0] != "skip"]
    layers: List[Layer] = []
    pending_bn = None  # a BatchNorm before the next Linear
    need_relu = False  # a Linear was seen and no ReLU after it yet
    for kind, name, sub in ops:
        if kind == "linear":
            if layers and need_relu:
                raise ValueError(
                    f"module {name!r} (Linear) follows Linear {layers[-1].name!r} without a ReLU between them"
                )
            w = _to_float64(sub.weight, f"{name}.weight")
            b = np.zeros(w.shape[0]) if sub.bias is None else _to_float64(sub.bias, f"{name}.bias")
            layer = Layer(w, b, name)
            if pending_bn is not None:
                layer = _fold_before(layer, *pending_bn[1:], pending_bn[0])
                pending_bn = None
            layers.append(layer)
            need_relu = True
        elif kind == "relu":
            if not layers:
                raise ValueError(f"ReLU {name!r} comes before any Linear layer")
            if pending_bn is not None:
                raise ValueError(f"BatchNorm1d {pending_bn[0]!r} before a ReLU cannot be folded into a Linear")
            need_relu = False
        elif kind == "bn":
            scale, shift = _bn_affine(name, sub, batchnorm)
            if folded is not None:
                folded.append("float64-rounded" if batchnorm == "float64" else "exact")
            if layers and need_relu:
                layers[-1] = _fold_after(layers[-1], scale, shift, name)
            else:
                if pending_bn is not None:
                    raise ValueError(f"two BatchNorm1d in a row ({pending_bn[0]!r}, {name!r}) are not supported")
                pending_bn = (name, scale, shift)
    if pending_bn is not None:
        raise ValueError(f"BatchNorm1d {pending_bn[0]!r} is not followed by a Linear layer")
    if not layers:
        raise ValueError("the model has no Linear layer")
    if not need_relu:
        raise ValueError("the model ends with a ReLU: deadrelu's networks have no activation on the output")
    return layers


def layers_of(model: Any, batchnorm: str = "exact", folded: Optional[list] = None, layer_order: Any = None) -> List[Layer]:
    """The affine layers of a model (module, state_dict, or list of (W, b)). Each
    BatchNorm1d folded appends how to `folded` ("exact" or "float64-rounded").
    ``layer_order`` (module names, input layer first) orders a state_dict's layers."""
    try:
        from torch import nn

        if isinstance(model, nn.Module):
            if layer_order is not None:
                raise ValueError(
                    "layer_order is for a state_dict: an nn.Module's layer order is its forward pass (read with torch.fx)"
                )
            return _from_module(model, batchnorm, folded)
    except ImportError:
        pass
    if hasattr(model, "items") and hasattr(model, "keys"):
        return _from_state_dict(model, layer_order)
    if isinstance(model, (list, tuple)):
        if layer_order is not None:
            raise ValueError("layer_order is for a state_dict: a list of (W, b) is already in order")
        return _from_pairs(model)
    raise ValueError(
        f"model: expected a torch nn.Module, a state_dict or a list of (W, b) arrays, got {type(model).__name__}"
    )


def encode(model: Any, batchnorm: str = "exact", folded: Optional[list] = None, layer_order: Any = None):
    """(widths, float64 bytes or None, exact strings or None) in the layout of MECHANISM.md."""
    layers = layers_of(model, batchnorm, folded, layer_order)
    widths = [layers[0].shape[1]]
    for i, layer in enumerate(layers):
        out, inp = layer.shape
        if inp != widths[-1]:
            hint = ""
            if layer.order_source in ("numbers", "shapes"):
                hint = "; if this is not the order of the layers, give it with layer_order=[...]"
            raise ValueError(
                f"layer {layer.name!r} takes {inp} inputs but the layer before it ({layers[i - 1].name}) gives {widths[-1]}{hint}"
            )
        if len(layer.b) != out:
            raise ValueError(f"layer {layer.name!r}: bias has {len(layer.b)} entries, weight {out} rows")
        widths.append(out)
    if len(layers) < 2:
        raise ValueError("the model needs at least one hidden layer (two Linear layers)")
    if all(isinstance(layer.w, np.ndarray) for layer in layers):
        parts = []
        for layer in layers:
            parts.append(np.ascontiguousarray(layer.w, dtype="<f8").reshape(-1))
            parts.append(np.ascontiguousarray(layer.b, dtype="<f8").reshape(-1))
        return widths, np.concatenate(parts).tobytes(), None
    exact = []
    for layer in layers:
        w, b = _exact_layer(layer)
        for row in w:
            exact.extend(_fraction_text(v) for v in row)
        exact.extend(_fraction_text(v) for v in b)
    return widths, None, exact


def _fraction_text(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"
