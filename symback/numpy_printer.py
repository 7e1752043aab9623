"""The numpy backend's printer: the program on arrays, with broadcasting.

Every op is elementwise, so the statements are the scalar program with numpy's spellings;
nothing is lazy (both branches of a `where` are computed, on arrays). Ops numpy lacks (erf,
erfc, sigmoid) are helper functions written into the module when they are printed; their
source is in `numpy_helpers.py`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from . import numpy_helpers
from .numpy_loops import numpy_loop_lines
from .printers import (
    COMMON_RESERVED,
    OPERATORS,
    Printer,
    Spelling,
    call,
    compound,
    signature,
    tuple_text,
)
from .schedule import Function


def _numpy_calls(arity: int, **names: str) -> dict[str, Spelling]:
    return {op: call(f"numpy.{name}", arity) for op, name in names.items()}


class NumpyPrinter(Printer):
    """Arrays of any broadcast shape; results are new float64 arrays of that shape."""

    name = "numpy"
    template = "numpy.py.j2"
    module = "numpy"
    reserved = COMMON_RESERVED | {"numpy", "np", "_shape"} | set(numpy_helpers.HELPERS) | {
        "_ERF_SMALL", "_ERFCX", "_CHUNK", "_large", "_out"}
    lazy = False
    inline = False
    data_calls = True
    number_type = "numpy.ndarray | float"
    always_imported = frozenset({"numpy"})
    chunked = True
    analyses = ("broadcast",)
    matrix_layout = "a shape + (n, n) array"
    spellings: ClassVar[dict[str, Spelling]] = {
        **OPERATORS,
        **_numpy_calls(1, **{op: op for op in (
            "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin", "cos",
            "tan", "sinh", "cosh", "tanh", "abs", "sign")}),
        **_numpy_calls(1, asin="arcsin", acos="arccos", atan="arctan", asinh="arcsinh",
                       acosh="arccosh", atanh="arctanh"),
        **_numpy_calls(2, pow="power", atan2="arctan2", hypot="hypot", min="minimum",
                       max="maximum"),
        **_numpy_calls(3, where="where"),
        **{op: call(f"_{op}", 1, helper=True) for op in ("erf", "erfc", "sigmoid")},
        "softplus": compound("(numpy.log1p(numpy.exp(-numpy.abs({0}))) "
                             "+ numpy.maximum({0}, 0.0))", 1, "numpy"),
    }

    def __init__(self) -> None:
        super().__init__()
        self._shaped: set[str] = set()       # functions whose results use `_shape`

    def helper(self, name: str, fn: Function | None = None) -> str:
        """Record a helper of the module (and, with `fn`, that fn's results use `_shape`)."""
        self.used_helpers.add(name)
        if fn is not None:
            self._shaped.add(fn.name)
        return name

    def helper_sources(self) -> list[str]:
        names = numpy_helpers.closure(self.used_helpers)
        for name in names:
            self.used_modules.update(numpy_helpers.HELPERS[name][1])
        return [numpy_helpers.HELPERS[name][0] for name in names]

    def loop_lines(self, fn: Function, stmt: Any) -> list[str]:
        """A rolled loop on arrays (symback.numpy_loops)."""
        return numpy_loop_lines(self, fn, stmt, fn.arrays)

    def frees(self, fn: Function) -> dict[int, list[str]]:
        """Statement index -> intermediates last used there. Deleting them frees their
        arrays at once, so the next statements reuse that memory instead of holding every
        intermediate of a long program alive (a gigabyte on a million points) until return."""
        keep = set(fn.params) | {x for x in fn.results if isinstance(x, str)}
        last: dict[str, int] = {}
        for k, stmt in enumerate(fn.statements):
            for x in stmt.operands:
                if isinstance(x, str) and x not in keep:
                    last[x] = k
        frees: dict[int, list[str]] = {}
        for name, k in last.items():
            frees.setdefault(k, []).append(name)
        return {k: sorted(set(names)) for k, names in frees.items()}

    def results(self, fn: Function, results: list, expand: bool = True) -> list[str]:
        """The printed `results` of `fn`. A result computed from every input already has the
        broadcast shape (all ops are elementwise); any other result -- a constant, an input
        itself, or a value that depends on only some inputs -- is expanded to that shape as
        a new array, so no result aliases an input or comes back as a bare scalar. A value
        returned twice (two inputs with one adjoint: `((x + y) * z)**2`) is copied, so that
        every returned array is its own. Without `expand`: entries of a matrix, broadcast
        (copied) when the matrix is filled."""
        if not expand:
            return [self.operand(x) for x in results]
        texts, seen = [], set()
        arrays = {s.target for s in fn.statements if s.op == "scatter"}
        for x in results:
            if x in arrays:                   # an array input's adjoint: S + its shape
                texts.append(x)
            elif x not in fn.full_results:
                texts.append(f"{self.helper('_expand', fn)}({self.operand(x)}, _shape)")
            else:
                texts.append(f"{x}.copy()" if x in seen else x)
                seen.add(x)
        return texts

    def prologue(self, fn: Function) -> list[str]:
        """Convert the inputs to float64 arrays (so ints and lists work); compute the
        broadcast shape when a result has to be expanded to it."""
        lines = [f"{p} = numpy.asarray({p}, dtype=numpy.float64)" for p in fn.params]
        if fn.arrays:            # the batch shape S: array inputs have S + their shape
            for p, shape in fn.arrays.items():
                lines += [f"if {p}.shape[{p}.ndim - {len(shape)}:] != {shape!r}:",
                          f"    raise ValueError(f\"{p} must have shape S + {shape!r}, not "
                          f"{{{p}.shape}}\")"]
            shapes = ", ".join(f"{p}.shape[:{p}.ndim - {len(fn.arrays[p])}]" if p in fn.arrays
                               else f"{p}.shape" for p in fn.params)
            return lines + [f"_shape = numpy.broadcast_shapes({shapes})"]
        if fn.name in self._shaped:
            shapes = ", ".join(f"{p}.shape" for p in fn.params)
            lines.append(f"_shape = numpy.broadcast_shapes({shapes})")
        return lines

    def matrix(self, rows: list[str], fn: Function | None = None) -> str:
        """A matrix as a shape + (n, m) array filled from its printed rows."""
        return f"{self.helper('_matrix', fn)}({tuple_text(rows)}, _shape)"

    def matrix_type(self, row_type: str, n_rows: int) -> str:
        return "numpy.ndarray"

    def vector(self, items: list[str], fn: Function | None = None) -> str:
        """The values of a sparse matrix as a shape + (nnz,) array."""
        row = tuple_text(items) if items else "()"
        return f"{self.helper('_matrix', fn)}(({row},), _shape)[..., 0, :]"

    def vector_type(self) -> str:
        return "numpy.ndarray"

    def function(self, fn: Function, returns: str, chunked_returns: str | None) -> dict[str, Any]:
        """How a numpy function is split so that large inputs can run in cache-sized chunks.

        The statements go into a private function `_<name>(*params)` (the block) that
        returns every result in order. The public function calls it once on the inputs as
        they are, or, when the broadcast shape has more than 2 * _CHUNK points (`_large`),
        hands it to `_chunked`, which runs it on _CHUNK points at a time and fills the rows
        `_out[k]`. Every operation of the rule table is elementwise, so both paths give
        bit-identical values.

        A function without computed results (constants and inputs only) or without inputs
        gets no block: it has nothing to chunk (`block` is None).
        """
        lines = self.body(fn)
        params = set(fn.params)
        computed = [x for x in fn.results if isinstance(x, str) and x not in params]
        data = {"params": self.params(fn), "returns": returns, "block": None}
        if chunked_returns is None or not computed or not fn.params:
            return {**data, "body": self.prologue(fn) + lines}
        self.helper("_chunked")
        results = [self.operand(x) for x in fn.results]
        targets = [x if x in computed and x not in fn.results[:k] else "_"   # each name once
                   for k, x in enumerate(fn.results)]
        if len(targets) == 1:
            unpack = f"{targets[0]} = _{fn.name}({', '.join(fn.params)})[0]"
        else:
            unpack = f"{', '.join(targets)} = _{fn.name}({', '.join(fn.params)})"
        return {
            **data,
            "body": self.prologue(fn),
            "block": lines,
            "block_params": ", ".join(fn.params),
            "block_signature": signature(f"_{fn.name}", fn.params),
            "block_returns": tuple_text(results),
            "args": tuple_text(list(fn.params)),
            "n_results": len(fn.results),
            "chunked_returns": chunked_returns,
            "unpack": unpack,
        }


__all__ = ["NumpyPrinter"]
