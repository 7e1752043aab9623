"""The PyTorch check: run the same graph through torch autograd in float64.

The torch computation is built from symback's own graph, node by node in id order, with the
torch twin of each op taken from its rule-table record (`Op.torch`; a test checks that none is
missing). The user's text is never evaluated.

PyTorch and symback agree on the conventions at kinks (abs'(0) = 0, min/max ties give 0.5
each). They differ where `where` has a branch that is not finite: torch multiplies the zero
adjoint by the branch's infinite or nan partial (nan), symback contributes an exact 0.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .errors import ArgumentError
from .ops import OPS
from .trace import TorchCheck, Trace

# op name -> (torch module, *operand tensors) -> tensor: each op's `Op.torch` twin.
TORCH: dict[str, Callable[..., Any]] = {name: op.torch for name, op in OPS.items()
                                         if op.torch is not None}

INSTALL_HINT = "pip install torch (CPU wheels: https://pytorch.org/get-started/locally/)"


def require_torch() -> Any:
    """The torch module.

    Raises:
        ArgumentError: PyTorch is not installed (the message says how to install it).
    """
    try:
        import torch
    except ImportError:
        raise ArgumentError(f"the PyTorch check needs PyTorch, which is not installed: "
                            f"{INSTALL_HINT}") from None
    return torch


def torch_check(trace: Trace) -> TorchCheck:
    """Value and gradient of the trace's output computed by torch autograd in float64.

    Raises:
        ArgumentError: PyTorch is not installed, or the trace has no point.
    """
    torch = require_torch()
    if trace.point is None:
        raise ArgumentError("the PyTorch check needs a point")
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
