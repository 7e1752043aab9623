"""sympy: parse_expr + diff + cse + lambdify (math module; numpy for batches)."""

from __future__ import annotations

import numpy as np

from benchmarks.peers.base import Built, NotInstalled, ParseError, Peer


def _import():
    try:
        import sympy
    except ImportError as exc:
        raise NotInstalled(str(exc)) from None
    return sympy


def _parse(sympy, wl, symbols):
    # parse_expr goes through CPython's tokenizer and eval(): same parser limits
    try:
        return sympy.parse_expr("(\n" + wl.text + "\n)", local_dict=dict(symbols))
    except (SyntaxError, TypeError, RecursionError, MemoryError, ValueError) as exc:
        msg = getattr(exc, "msg", None) or str(exc)
        raise ParseError(f"sympy.parse_expr: {type(exc).__name__}: {str(msg)[:80]}") from None


def count_cse_ops(sympy, replacements, reduced) -> int:
    """sympy.count_ops summed over the cse replacements and the reduced outputs."""
    exprs = [e for _, e in replacements] + list(reduced)
    return int(sum(sympy.count_ops(e) for e in exprs))


class SympyPeer(Peer):
    name = "sympy"
    uses_python_parser = True

    def info(self):
        sympy = _import()
        return {"version": sympy.__version__, "backend": "lambdify(modules='math', cse=True)"}

    def warmup(self):
        sympy = _import()
        a, b = sympy.symbols("a b")
        e = a * b + sympy.sin(a)
        sympy.lambdify([a, b], [e, e.diff(a), e.diff(b)], modules="math", cse=True)(1.0, 2.0)

    def build(self, wl):
        sympy = _import()
        sympy.core.cache.clear_cache()
        symbols = [(v, sympy.Symbol(v)) for v in wl.vars]
        expr = _parse(sympy, wl, symbols)
        syms = [s for _, s in symbols]
        grads = [sympy.diff(expr, s) for s in syms]
        captured = {}

        def cse(exprs):
            captured["cse"] = sympy.cse(exprs)
            return captured["cse"]

        fn = sympy.lambdify(syms, [expr, *grads], modules="math", cse=cse)
        return SympyBuilt(sympy, syms, expr, grads, fn, captured["cse"])


class SympyBuilt(Built):
    def __init__(self, sympy, syms, expr, grads, fn, cse_result):
        self.sympy, self.syms, self.expr, self.grads = sympy, syms, expr, grads
        self.fn, self.cse_result = fn, cse_result

    def value_and_grad(self, point):
        out = self.fn(*point)
        return float(out[0]), [float(x) for x in out[1:]]

    def scalar_call(self, point):
        fn, args = self.fn, tuple(point)
        return lambda: fn(*args)

    def op_counts(self):
        sympy = self.sympy
        vg = count_cse_ops(sympy, *self.cse_result)
        fwd = count_cse_ops(sympy, *sympy.cse([self.expr]))
        return {"value_and_grad": vg, "forward": fwd, "note": "count_ops over cse replacements + outputs"}

    def batch_call(self, arrays):
        fn = self.sympy.lambdify(self.syms, [self.expr, *self.grads], modules="numpy", cse=True)
        arrays = tuple(arrays)
        return lambda: fn(*arrays)

    def batch_result(self, out):
        n = max(np.size(x) for x in out)
        full = [np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in out]
        return full[0], full[1:]


PEER = SympyPeer()
