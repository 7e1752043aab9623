"""tangent-ad: source-to-source reverse mode (tangent.grad) of a Python function made from the text.

tangent reads the function's source with ``inspect``, so the function is written to
a temporary module first; it knows NumPy's elementary functions, not ``math``'s.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import shutil
import tempfile

import numpy as np

from benchmarks.peers.base import Built, NotInstalled, Peer
from benchmarks.pysource import FUNCTION_NAMES, compile_python, count_function_ops, count_ops

_state = {"dir": None, "count": 0}


def _import():
    try:
        import tangent
    except Exception as exc:  # tangent can fail at import on new Pythons
        raise NotInstalled(f"{type(exc).__name__}: {exc}") from None
    return tangent


def _function_from_source(source: str):
    if _state["dir"] is None:
        _state["dir"] = tempfile.mkdtemp(prefix="symback-bench-tangent-")
    _state["count"] += 1
    modname = f"tangent_workload_{_state['count']}"
    header = "import numpy\nfrom numpy import " + ", ".join(n for n in FUNCTION_NAMES if hasattr(np, n)) + "\n"
    path = os.path.join(_state["dir"], modname + ".py")
    compile_python(header + source, path)  # ParseError for what CPython cannot parse
    with open(path, "w") as fh:
        fh.write(header + source)
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.f


class TangentPeer(Peer):
    name = "tangent"
    uses_python_parser = True

    def info(self):
        tangent = _import()
        return {"version": getattr(tangent, "__version__", "?"), "backend": "tangent.grad (numpy functions)"}

    def warmup(self):
        tangent = _import()
        f = _function_from_source("def f(a, b):\n    return a * b + sin(a)\n")
        tangent.grad(f, wrt=(0, 1), preserve_result=True, verbose=0)(1.0, 2.0)

    def close(self):
        if _state["dir"]:
            shutil.rmtree(_state["dir"], ignore_errors=True)
            _state["dir"] = None

    def build(self, wl):
        tangent = _import()
        f = _function_from_source(wl.python_function_source("f"))
        df = tangent.grad(f, wrt=tuple(range(wl.n_inputs)), preserve_result=True, verbose=0)
        return TangentBuilt(wl, f, df)


class TangentBuilt(Built):
    # df(*xs) returns (d/dx0, ..., d/dxn-1, value)
    def __init__(self, wl, f, df):
        self.wl, self.f, self.df = wl, f, df

    def value_and_grad(self, point):
        out = self.df(*point)
        return float(out[-1]), [float(x) for x in out[:-1]]

    def scalar_call(self, point):
        fn, args = self.df, tuple(point)
        return lambda: fn(*args)

    def op_counts(self):
        src = inspect.getsource(self.df)
        vg = count_function_ops(src, self.df.__name__)
        if vg is None:
            vg = count_ops(src)
        fwd = count_ops(self.wl.python_function_source("f"))
        return {"value_and_grad": vg, "forward": fwd,
                "note": "AST count of tangent's generated source (add_grad counts as +)"}

    def batch_call(self, arrays):
        fn, arrays = self.df, tuple(arrays)
        return lambda: fn(*arrays)

    def batch_result(self, out):
        n = max(np.size(x) for x in out)
        full = [np.broadcast_to(np.asarray(x, dtype=float), (n,)) for x in out]
        return full[-1], full[:-1]


PEER = TangentPeer()
