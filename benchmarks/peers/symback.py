"""symback: text -> generated standalone Python module (imports only math)."""

from __future__ import annotations

import numpy as np

from benchmarks.peers.base import Built, NotAvailable, NotInstalled, ParseError, Peer
from benchmarks.pysource import count_function_ops


def _import():
    try:
        import symback
    except ImportError as exc:
        raise NotInstalled(f"import symback failed: {exc}") from None
    if not hasattr(symback, "compile"):
        raise NotInstalled("symback has no compile() yet")
    return symback


def _errors(symback):
    base = getattr(symback, "SymbackError", None)
    return (base,) if isinstance(base, type) else ()


class SymbackPeer(Peer):
    name = "symback"

    def info(self):
        symback = _import()
        return {"version": getattr(symback, "__version__", "?"), "backend": "python (math)"}

    def warmup(self):
        symback = _import()
        c = symback.compile("a*b + sin(a)", wrt=["a", "b"])
        c.value_and_grad(1.0, 2.0)

    def build(self, wl):
        symback = _import()
        try:
            c = symback.compile(wl.text, wrt=list(wl.vars))
        except _errors(symback) as exc:
            if "parse" in type(exc).__name__.lower():
                raise ParseError(f"{type(exc).__name__}: {exc}") from None
            raise
        # first access compiles value_and_grad alone, as for a user who calls
        # c.value_and_grad (c.module would compile forward, gradient, ... too); the module's
        # own function is what is measured (Compiled.value_and_grad adds a wrapper that
        # explains bad arguments, about 0.1 us: its holder keeps the function as .fn)
        fn = c.value_and_grad.__self__.fn
        return SymbackBuilt(symback, wl, c, fn)


class SymbackBuilt(Built):
    def __init__(self, symback, wl, compiled, fn):
        self.symback, self.wl, self.c, self.fn = symback, wl, compiled, fn

    def op_counts(self):
        src = self.c.source
        stats = dict(getattr(self.c, "stats", {}) or {})
        vg = count_function_ops(src, "value_and_grad")
        fwd = count_function_ops(src, "forward")
        note = "AST count of generated value_and_grad/forward"
        if vg is None or fwd is None:
            vg, fwd = stats.get("value_and_grad_ops"), stats.get("forward_ops")
            note = "symback stats (SSA statements)"
        return {"value_and_grad": vg, "forward": fwd, "note": note,
                "symback_stats": {k: v for k, v in stats.items() if isinstance(v, (int, float, str))}}

    def batch_call(self, arrays):
        symback = self.symback
        try:
            c = symback.compile(self.wl.text, wrt=list(self.wl.vars), backend="numpy")
            fn = c.value_and_grad
        except (*_errors(symback), ValueError, TypeError, NotImplementedError, KeyError) as exc:
            raise NotAvailable(f"numpy backend: {type(exc).__name__}: {str(exc)[:80]}") from None
        arrays = tuple(arrays)
        return lambda: fn(*arrays)

    def batch_result(self, out):
        v, g = out
        return np.asarray(v), [np.asarray(x) for x in g]


PEER = SymbackPeer()
