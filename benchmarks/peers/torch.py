"""PyTorch (CPU, float64): eager autograd on a Python function made from the text."""

from __future__ import annotations

import numpy as np

from benchmarks.peers.base import Built, NotInstalled, Peer
from benchmarks.pysource import FUNCTION_NAMES, make_function

#: aten ops that create, view or copy tensors rather than compute
STRUCTURAL = frozenset({
    "detach", "alias", "clone", "copy", "copy_", "_to_copy", "lift_fresh_copy", "expand", "view",
    "reshape", "_unsafe_view", "t", "ones_like", "zeros_like", "full_like", "empty_like", "full",
    "scalar_tensor", "squeeze", "unsqueeze",
})


def _import():
    try:
        import torch
    except ImportError as exc:
        raise NotInstalled(str(exc)) from None
    return torch


def _namespace(torch):
    return {name: getattr(torch, name) for name in FUNCTION_NAMES if hasattr(torch, name)}


def _value_and_grad(torch, f):
    f64 = torch.float64

    def value_and_grad(*point):
        xs = [torch.tensor(v, dtype=f64, requires_grad=True) for v in point]
        y = f(*xs)
        y.backward()
        return y, [x.grad for x in xs]

    return value_and_grad


class TorchPeer(Peer):
    name = "torch"
    uses_python_parser = True

    def info(self):
        torch = _import()
        return {"version": torch.__version__, "backend": f"eager autograd, {torch.get_num_threads()} threads"}

    def warmup(self):
        torch = _import()
        _value_and_grad(torch, lambda a, b: a * b + torch.sin(a))(1.0, 2.0)

    def build(self, wl):
        torch = _import()
        f = make_function(wl, _namespace(torch))
        return TorchBuilt(torch, f, _value_and_grad(torch, f), wl.point)


class TorchBuilt(Built):
    def __init__(self, torch, f, fn, point):
        self.torch, self.f, self.fn, self.point = torch, f, fn, point

    def value_and_grad(self, point):
        v, g = self.fn(*point)
        return float(v.detach()), [0.0 if x is None else float(x) for x in g]

    def scalar_call(self, point):
        fn, args = self.fn, tuple(point)
        return lambda: fn(*args)

    def op_counts(self):
        torch = self.torch
        from torch.fx.experimental.proxy_tensor import make_fx

        def vg(*xs):
            y = self.f(*xs)
            return (y, *torch.autograd.grad(y, xs, allow_unused=True))

        def count(fn):
            xs = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in self.point]
            gm = make_fx(fn)(*xs)
            n = 0
            for node in gm.graph.nodes:
                if node.op == "call_function":
                    name = getattr(node.target, "__name__", str(node.target)).split(".")[0]
                    n += name not in STRUCTURAL
            return n

        return {"value_and_grad": count(vg), "forward": count(self.f),
                "note": "aten ops in torch.fx make_fx graph (no views/copies/constants)"}

    def batch_call(self, arrays):
        torch, f = self.torch, self.f
        arrays = list(arrays)

        def run():
            xs = [torch.from_numpy(a).requires_grad_() for a in arrays]
            y = f(*xs)
            y.sum().backward()
            return y.detach(), [x.grad for x in xs]

        return run

    def batch_result(self, out):
        v, g = out
        n = v.shape[0]
        return v.numpy(), [np.zeros(n) if x is None else x.numpy() for x in g]


PEER = TorchPeer()
