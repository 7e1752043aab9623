"""CasADi: SX symbols, expression built by evaluating the text, gradient, Function."""

from __future__ import annotations

import numpy as np

from benchmarks.peers.base import Built, NotInstalled, Peer
from benchmarks.pysource import FUNCTION_NAMES, make_function

# Function options: CasADi's own common-subexpression elimination
FUNCTION_OPTIONS = {"cse": True}


def _import():
    try:
        import casadi
    except ImportError as exc:
        raise NotInstalled(str(exc)) from None
    return casadi


def _namespace(ca):
    ns = {"__builtins__": {}}
    for name in FUNCTION_NAMES:
        if hasattr(ca, name):
            ns[name] = getattr(ca, name)
    ns["abs"] = ca.fabs
    return ns


def count_instructions(ca, fn) -> int:
    """Instructions of an SXFunction's algorithm minus input/output/constant/parameter ones."""
    skip = {ca.OP_INPUT, ca.OP_OUTPUT, ca.OP_CONST, ca.OP_PARAMETER}
    return sum(1 for k in range(fn.n_instructions()) if fn.instruction_id(k) not in skip)


class CasadiPeer(Peer):
    name = "casadi"
    uses_python_parser = True

    def info(self):
        ca = _import()
        return {"version": ca.__version__, "backend": f"SXFunction {FUNCTION_OPTIONS} (virtual machine)"}

    def warmup(self):
        ca = _import()
        a, b = ca.SX.sym("a"), ca.SX.sym("b")
        e = a * b + ca.sin(a)
        ca.Function("w", [a, b], [e, ca.gradient(e, ca.vertcat(a, b))], FUNCTION_OPTIONS)(1.0, 2.0)

    def build(self, wl):
        ca = _import()
        xs = [ca.SX.sym(v) for v in wl.vars]
        expr = make_function(wl, _namespace(ca))(*xs)  # CPython parser: may raise ParseError
        grad = ca.gradient(expr, ca.vertcat(*xs))
        fn = ca.Function("value_and_grad", xs, [expr, grad], FUNCTION_OPTIONS)
        return CasadiBuilt(ca, xs, expr, fn)


class CasadiBuilt(Built):
    def __init__(self, ca, xs, expr, fn):
        self.ca, self.xs, self.expr, self.fn = ca, xs, expr, fn

    def value_and_grad(self, point):
        v, g = self.fn(*point)
        return float(v), [float(x) for x in np.asarray(g.full()).ravel()]

    def scalar_call(self, point):
        fn, args = self.fn, tuple(point)
        return lambda: fn(*args)

    def op_counts(self):
        ca = self.ca
        fwd = ca.Function("forward", self.xs, [self.expr], FUNCTION_OPTIONS)
        return {"value_and_grad": count_instructions(ca, self.fn), "forward": count_instructions(ca, fwd),
                "note": "Function.n_instructions() minus input/output/const instructions"}

    def batch_call(self, arrays):
        n = arrays[0].shape[0]
        mapped = self.fn.map(n, "serial")
        arrays = list(arrays)
        return lambda: mapped(*[a.reshape(1, -1) for a in arrays])

    def batch_result(self, out):
        v, g = out
        g = np.asarray(g.full())
        return np.asarray(v.full()).ravel(), [g[k] for k in range(g.shape[0])]


PEER = CasadiPeer()
