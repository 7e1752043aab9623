"""Hand-written value+gradient code (plain Python and NumPy), where we have one.

Only ``seed`` ((x+y)*z)**2 for now; other workloads show "n/a".
"""

from __future__ import annotations

import inspect

import numpy as np

from benchmarks.peers.base import Built, Peer, Unsupported
from benchmarks.pysource import count_function_ops


def seed_forward(x, y, z):
    return ((x + y) * z) ** 2


def seed_value_and_grad(x, y, z):
    s = x + y
    t = s * z
    dt = 2.0 * t
    gxy = dt * z
    return t * t, (gxy, gxy, dt * s)


HANDWRITTEN = {
    # workload name: (forward, value_and_grad, NumPy value_and_grad). For seed the
    # same straight-line code is valid NumPy: it runs elementwise on float64 arrays.
    "seed": (seed_forward, seed_value_and_grad, seed_value_and_grad),
}


class HandwrittenPeer(Peer):
    name = "handwritten"
    #: nothing is built from the text: the build column shows "-"
    has_build = False

    def info(self):
        return {"version": "-", "backend": "plain Python (math) / NumPy", "workloads": sorted(HANDWRITTEN)}

    def build(self, wl):
        if wl.name not in HANDWRITTEN:
            raise Unsupported("no hand-written code for this workload")
        return HandwrittenBuilt(*HANDWRITTEN[wl.name])


class HandwrittenBuilt(Built):
    def __init__(self, forward, vg, vg_numpy):
        self.forward, self.fn, self.fn_np = forward, vg, vg_numpy

    def op_counts(self):
        vg = count_function_ops(inspect.getsource(self.fn), self.fn.__name__)
        fwd = count_function_ops(inspect.getsource(self.forward), self.forward.__name__)
        return {"value_and_grad": vg, "forward": fwd, "note": "AST count of the hand-written code"}

    def batch_call(self, arrays):
        fn, arrays = self.fn_np, tuple(arrays)
        return lambda: fn(*arrays)

    def batch_result(self, out):
        v, g = out
        return np.asarray(v), [np.asarray(x) for x in g]


PEER = HandwrittenPeer()
