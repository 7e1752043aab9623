"""The PyTorch check: run the same graph through torch autograd in float64.

The torch computation is built from symback's own graph, node by node in id order, with the
torch spelling of each op taken from `TORCH` below (one entry per op of the rule table; a test
checks that none is missing). The user's text is never evaluated.

PyTorch and symback agree on the conventions at kinks (abs'(0) = 0, min/max ties give 0.5
each). They differ where `where` has a branch that is not finite: torch multiplies the zero
adjoint by the branch's infinite or nan partial (nan), symback contributes an exact 0.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .errors import ArgumentError
from .explain import TorchCheck, Trace

# op name -> (torch module, *operand tensors) -> tensor
TORCH: dict[str, Callable[..., Any]] = {
    "add": lambda t, a, b: a + b,
    "sub": lambda t, a, b: a - b,
    "mul": lambda t, a, b: a * b,
    "div": lambda t, a, b: a / b,
    "pow": lambda t, a, b: t.pow(a, b),
    "powi": lambda t, a, n: t.pow(a, n),
    "neg": lambda t, a: -a,
    "exp": lambda t, a: t.exp(a),
    "expm1": lambda t, a: t.expm1(a),
    "log": lambda t, a: t.log(a),
    "log1p": lambda t, a: t.log1p(a),
    "log2": lambda t, a: t.log2(a),
    "log10": lambda t, a: t.log10(a),
    "sqrt": lambda t, a: t.sqrt(a),
    "cbrt": lambda t, a: t.sign(a) * t.abs(a).pow(1.0 / 3.0),   # torch has no cbrt
    "sin": lambda t, a: t.sin(a),
    "cos": lambda t, a: t.cos(a),
    "tan": lambda t, a: t.tan(a),
    "asin": lambda t, a: t.asin(a),
    "acos": lambda t, a: t.acos(a),
    "atan": lambda t, a: t.atan(a),
    "sinh": lambda t, a: t.sinh(a),
    "cosh": lambda t, a: t.cosh(a),
    "tanh": lambda t, a: t.tanh(a),
    "asinh": lambda t, a: t.asinh(a),
    "acosh": lambda t, a: t.acosh(a),
    "atanh": lambda t, a: t.atanh(a),
    "erf": lambda t, a: t.special.erf(a),
    "erfc": lambda t, a: t.special.erfc(a),
    "sigmoid": lambda t, a: t.sigmoid(a),
    "softplus": lambda t, a: t.logaddexp(t.zeros_like(a), a),
    "abs": lambda t, a: t.abs(a),
    "sign": lambda t, a: t.sign(a),
    "atan2": lambda t, y, x: t.atan2(y, x),
    "hypot": lambda t, a, b: t.hypot(a, b),
    "min": lambda t, a, b: t.minimum(a, b),
    "max": lambda t, a, b: t.maximum(a, b),
    "where": lambda t, c, a, b: t.where(c, a, b),
    "lt": lambda t, a, b: t.lt(a, b),
    "le": lambda t, a, b: t.le(a, b),
    "gt": lambda t, a, b: t.gt(a, b),
    "ge": lambda t, a, b: t.ge(a, b),
    "eq": lambda t, a, b: t.eq(a, b),
    "ne": lambda t, a, b: t.ne(a, b),
}

INSTALL_HINT = "pip install torch (CPU wheels: https://pytorch.org/get-started/locally/)"


def require_torch() -> Any:
    """The torch module.

    Raises:
        ArgumentError: PyTorch is not installed (the message says how to install it).
    """
    try:
        import torch
    except ImportError:
        raise ArgumentError(f"--check torch needs PyTorch, which is not installed: "
                            f"{INSTALL_HINT}") from None
    return torch


def torch_check(trace: Trace) -> TorchCheck:
    """Value and gradient of the trace's output computed by torch autograd in float64.

    Raises:
        ArgumentError: PyTorch is not installed, or the trace has no point.
    """
    torch = require_torch()
    if trace.point is None:
        raise ArgumentError("the PyTorch check needs a point (--at)")
    g, out = trace.graph, trace.output_node
    f64 = torch.float64
    wrt = set(trace.wrt)
    leaves: dict[str, Any] = {}
    tensors: dict[int, Any] = {}
    for name, value in trace.point.items():
        node = g.lookup_var(name)
        leaves[name] = torch.tensor(value, dtype=f64, requires_grad=name in wrt)
        if node is not None:
            tensors[node] = leaves[name]
    for i in g.live([out]):                  # op nodes in id order: operands come first
        for a in g.args[i]:
            if a not in tensors and g.ops[a] == "const":
                tensors[a] = torch.tensor(g.values[a], dtype=f64)
        tensors[i] = TORCH[g.ops[i]](torch, *(tensors[a] for a in g.args[i]))
    if out not in tensors and g.ops[out] == "const":
        tensors[out] = torch.tensor(g.values[out], dtype=f64)
    result = tensors[out] if out in tensors else torch.tensor(math.nan, dtype=f64)
    inputs = [leaves[n] for n in trace.wrt]
    if inputs and result.requires_grad:
        grads = torch.autograd.grad(result, inputs, allow_unused=True)
        values = tuple(0.0 if d is None else float(d) for d in grads)
    else:
        values = tuple(0.0 for _ in inputs)
    return TorchCheck(str(torch.__version__), float(result.detach()), values)


__all__ = ["TORCH", "require_torch", "torch_check"]
