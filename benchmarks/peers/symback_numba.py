"""symback --backend numba: the generated program under numba.njit (scalar calls) and its
parallel ``value_and_grad_batch`` (batch). The timed build includes numba's JIT compile of
the scalar value_and_grad (first call); the batch kernel is compiled by the untimed warm-up
call of the batch measurement."""

from __future__ import annotations

import numpy as np

from benchmarks.peers.base import NotInstalled, ParseError, Peer
from benchmarks.peers.symback import SymbackBuilt, _errors, _import


class SymbackNumbaPeer(Peer):
    name = "symback_numba"

    def info(self):
        symback = _import()
        try:
            import numba
        except ImportError as exc:
            raise NotInstalled(f"import numba failed: {exc}") from None
        return {"version": getattr(symback, "__version__", "?"),
                "backend": f"numba {numba.__version__} njit (batch: parallel prange)"}

    def warmup(self):
        symback = _import()
        c = symback.compile("a*b + sin(a)", wrt=["a", "b"], backend="numba")
        c.value_and_grad(1.0, 2.0)

    def build(self, wl):
        symback = _import()
        try:
            c = symback.compile(wl.text, wrt=list(wl.vars), backend="numba")
        except _errors(symback) as exc:
            if "parse" in type(exc).__name__.lower():
                raise ParseError(f"{type(exc).__name__}: {exc}") from None
            raise
        fn = c.value_and_grad
        fn(*wl.point)                     # numba compiles on the first call: part of the build
        return NumbaBuilt(symback, wl, c, fn)


class NumbaBuilt(SymbackBuilt):
    def batch_call(self, arrays):
        fn, arrays = self.c.module.value_and_grad_batch, tuple(arrays)
        return lambda: fn(*arrays)

    def batch_result(self, out):
        v, g = out
        return np.asarray(v), [np.asarray(x) for x in g]


PEER = SymbackNumbaPeer()
