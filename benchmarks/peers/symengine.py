"""symengine: own C++ parser + diff + Lambdify (LLVM backend when available, cse=True)."""

from __future__ import annotations

import numpy as np

from benchmarks.peers.base import Built, NotInstalled, ParseError, Peer


def _import():
    try:
        import symengine
    except ImportError as exc:
        raise NotInstalled(str(exc)) from None
    return symengine


def _backend(se) -> str:
    return "llvm" if getattr(se, "have_llvm", False) else "lambda"


class SymenginePeer(Peer):
    name = "symengine"

    def info(self):
        se = _import()
        return {"version": se.__version__, "backend": f"Lambdify(backend='{_backend(se)}', cse=True)"}

    def warmup(self):
        se = _import()
        a, b = se.symbols("a b")
        e = a * b + se.sin(a)
        se.Lambdify([a, b], [e, e.diff(a), e.diff(b)], backend=_backend(se), cse=True)([1.0, 2.0])

    def build(self, wl):
        se = _import()
        try:
            expr = se.sympify(wl.text_oneline)  # symengine's own parser, not CPython's
        except Exception as exc:  # symengine raises SympifyError / RuntimeError
            raise ParseError(f"symengine.sympify: {type(exc).__name__}: {str(exc)[:80]}") from None
        syms = [se.Symbol(v) for v in wl.vars]
        grads = [expr.diff(s) for s in syms]
        fn = se.Lambdify(syms, [expr, *grads], backend=_backend(se), cse=True)
        return SymengineBuilt(se, syms, expr, grads, fn)


class SymengineBuilt(Built):
    def __init__(self, se, syms, expr, grads, fn):
        self.se, self.syms, self.expr, self.grads, self.fn = se, syms, expr, grads, fn

    def value_and_grad(self, point):
        out = self.fn(list(point))
        return float(out[0]), [float(x) for x in out[1:]]

    def scalar_call(self, point):
        fn, args = self.fn, list(point)
        return lambda: fn(args)

    def op_counts(self):
        # Same rule as the sympy peer: sympy.count_ops over symengine.cse's
        # replacements + outputs (the cse Lambdify runs before code generation).
        import sympy

        from benchmarks.peers.sympy import count_cse_ops

        def counted(exprs):
            repl, red = self.se.cse(exprs)
            repl = [(sympy.sympify(a), sympy.sympify(b)) for a, b in repl]
            return count_cse_ops(sympy, repl, [sympy.sympify(e) for e in red])

        return {"value_and_grad": counted([self.expr, *self.grads]), "forward": counted([self.expr]),
                "note": "sympy.count_ops over symengine.cse replacements + outputs (before LLVM)"}

    def batch_call(self, arrays):
        fn, arrays = self.fn, list(arrays)
        # Lambdify broadcasts over leading axes: input (N, n) -> output (N, n+1)
        return lambda: fn(np.column_stack(arrays))

    def batch_result(self, out):
        return out[:, 0], [out[:, k] for k in range(1, out.shape[1])]


PEER = SymenginePeer()
