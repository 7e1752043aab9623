"""numpy-backend functions on dask arrays: lazy results computed block by block.

Imported only when a dask object reaches a `Compiled` function (see symback.data). Each
block of the inputs' broadcast chunk grid is one task that runs the generated function on
numpy blocks, so every block of a result is bit-identical to the numpy backend on that
block. Matrix results (jacobian, hessian) get their two axes last, unchunked.

With `reduce=`, each task sums its block's results at once (`data.partial_sums`, _CHUNK
points at a time) and dask adds the partial sums in a tree (`Array.sum`), so a worker
holds about one block of data, never the per-point results.

The tasks carry a `Kernel` -- the module source and the function's name -- that pickles
small and rebuilds the module once per worker process (a cache keyed by the source).
"""

from __future__ import annotations

import hashlib
import math
import types
from typing import Any, Sequence

import dask.array as da
import numpy

from .errors import ArgumentError
from .loader import load_module
from .reduce import assemble, flatten, full_axes, partial_sums

_MODULES: dict[str, types.ModuleType] = {}
_MAX_MODULES = 32


class Kernel:
    """The function `fname` of a generated module, as dask tasks carry it."""

    def __init__(self, source: str, module: str, fname: str) -> None:
        self.source = source
        self.module = module
        self.fname = fname

    @property
    def fn(self) -> Any:
        key = hashlib.sha256(self.source.encode()).hexdigest()
        module = _MODULES.get(key)
        if module is None:
            if len(_MODULES) >= _MAX_MODULES:
                _MODULES.clear()
            module = _MODULES[key] = load_module(self.source, self.module)
        return getattr(module, self.fname)

    def __call__(self, *blocks: numpy.ndarray) -> list[numpy.ndarray]:
        """The function's results on one block of each input, as one flat list."""
        return flatten(self.fn(*blocks))

    def __dask_tokenize__(self) -> tuple[str, ...]:
        """What dask hashes for the task keys: the same source and function, the same keys."""
        return (hashlib.sha256(self.source.encode()).hexdigest(), self.fname)


def arrays(values: Sequence[Any], names: Sequence[str]) -> list[Any]:
    """The inputs as dask arrays (dask Series and DataFrame columns) or float64 numpy
    arrays; one-line errors for what cannot run block by block."""
    out = []
    for v, n in zip(values, names):
        if hasattr(v, "to_dask_array"):              # a dask Series (a DataFrame column)
            v = v.to_dask_array()
        if isinstance(v, da.Array):
            if v.dtype != numpy.float64:
                v = v.astype(numpy.float64)
        elif type(v).__module__.startswith("dask."):
            raise ArgumentError(f"input {n!r}: a {type(v).__name__} cannot be an input; "
                                "give a dask array or a DataFrame column")
        else:
            v = numpy.asarray(v, dtype=numpy.float64)
        out.append(v)
    unknown = [n for v, n in zip(out, names) if isinstance(v, da.Array)
               and any(math.isnan(c) for c in v.shape)]
    if unknown:
        counts = {v.numblocks for v in out if isinstance(v, da.Array)}
        sized = [n for v, n in zip(out, names) if v.ndim and v.size != 1
                 and n not in unknown and not math.isnan(v.size)]
        if len(counts) > 1 or sized:
            other = (f"{sized[0]!r} is an array" if sized else
                     "other inputs are split into other numbers of blocks")
            raise ArgumentError(f"input {unknown[0]!r} has unknown chunk sizes (a DataFrame "
                                f"column) and {other}: take all data from one DataFrame, or "
                                "give dask arrays of known chunks")
    return out


def _aligned(values: Sequence[Any], nd: int) -> list[tuple[Any, tuple[int, ...] | None]]:
    """blockwise's (argument, index) pairs: arrays with their axes aligned right to the
    broadcast shape's nd axes; 0-d numpy inputs passed as they are."""
    pairs = []
    for v in values:
        if not isinstance(v, da.Array) and v.ndim == 0:
            pairs.append((v, None))
        else:
            if v.ndim < nd:                          # (reshaping unknown lengths fails)
                v = v.reshape((1,) * (nd - v.ndim) + v.shape)
            pairs.append((v, tuple(range(nd))))
    return pairs


def _blocks(kernel: Any, values: Sequence[Any], nd: int, token: str) -> Any:
    """One task per block of the broadcast chunk grid, each returning kernel(*blocks): a
    dask array whose blocks are lists (never computed itself; `_pick` takes them apart)."""
    pairs = _aligned(values, nd)
    flat: list[Any] = []
    for v, ind in pairs:
        flat += [v, ind]
    try:
        return da.blockwise(kernel, tuple(range(nd)), *flat, dtype=numpy.float64,
                            meta=numpy.empty((0,) * nd), concatenate=True, token=token)
    except ValueError as exc:
        raise ArgumentError(f"the inputs cannot be split into matching blocks: "
                            f"{str(exc).splitlines()[0]}") from None


def _pick(results: list[numpy.ndarray], k: int) -> numpy.ndarray:
    return results[k]


def _template(kernel: Kernel, values: Sequence[Any]) -> list[numpy.ndarray]:
    """The results on empty inputs: their number, and each one's trailing matrix axes."""
    with numpy.errstate(all="ignore"):
        return kernel(*[numpy.empty((0,) * v.ndim) for v in values])


def elementwise(kernel: Kernel, values: Sequence[Any], shape: tuple[int, ...]) -> Any:
    """The function's results as lazy dask arrays, in the function's own layout."""
    nd = len(shape)
    raw = _blocks(kernel, values, nd, f"symback-{kernel.fname}")
    leaves = []
    for k, t in enumerate(_template(kernel, values)):
        extra = t.shape[nd:] if t.ndim > nd else ()
        leaves.append(da.map_blocks(
            _pick, raw, k, dtype=numpy.float64, meta=numpy.empty((0,) * (nd + len(extra))),
            token="symback-pick",
            chunks=raw.chunks + tuple((n,) for n in extra),
            new_axis=list(range(nd, nd + len(extra))) or None))
    return _layout(kernel.fname, leaves, kernel)


def _layout(fname: str, leaves: list[Any], kernel: Kernel) -> Any:
    """Leaves back into the function's result structure, read off the function on
    zero-size inputs (a value, a tuple, (value, tuple), (tuple, matrix) ...)."""
    shape = _structure(kernel)
    it = iter(leaves)

    def build(s: Any) -> Any:
        return tuple(build(x) for x in s) if isinstance(s, tuple) else next(it)
    return build(shape)


def _structure(kernel: Kernel) -> Any:
    fn = kernel.fn
    n = fn.__code__.co_argcount
    with numpy.errstate(all="ignore"):
        r = fn(*[numpy.empty((0,))] * n)

    def shape(x: Any) -> Any:
        return tuple(shape(y) for y in x) if isinstance(x, tuple) else None
    return shape(r)


class _Partials:
    """The task of one block under `reduce=`: the block's partial sums in keepdims form
    (`data.partial_sums`), then its number of points (for a mean over unknown chunks)."""

    def __init__(self, kernel: Kernel, targets: Sequence[int | None], nd: int) -> None:
        self.kernel = kernel
        self.targets = list(targets)
        self.nd = nd

    def __call__(self, *blocks: numpy.ndarray) -> list[numpy.ndarray]:
        shape = numpy.broadcast_shapes(*[b.shape for b in blocks])
        shape = (1,) * (self.nd - len(shape)) + tuple(shape)
        sums = partial_sums(self.kernel.fn, blocks, shape, self.targets)
        return sums + [numpy.full((1,) * self.nd, float(math.prod(shape)))]

    def __dask_tokenize__(self) -> tuple[Any, ...]:
        return (self.kernel.__dask_tokenize__(), tuple(map(str, self.targets)), self.nd)


def reduced(kernel: Kernel, values: Sequence[Any], shape: tuple[int, ...],
            targets: Sequence[int | None], mean: bool) -> Any:
    """The reduced results as lazy dask arrays (a 0-d array per value, each gradient entry
    its input's shape), in the function's own layout: per-block partial sums added up in a
    tree by dask."""
    nd = len(shape)
    raw = _blocks(_Partials(kernel, targets, nd), values, nd,
                  f"symback-{kernel.fname}-partials")
    sums = []
    for k, t in enumerate(list(targets) + [None]):
        keep = full_axes(shape, None if t is None else values[t].shape)
        chunks = tuple(c if kept else (1,) * len(c) for c, kept in zip(raw.chunks, keep))
        leaf = da.map_blocks(_pick, raw, k, dtype=numpy.float64, chunks=chunks,
                             token="symback-pick",
                             meta=numpy.empty((0,) * nd))
        summed = tuple(a for a in range(nd) if not keep[a])
        if summed:
            leaf = leaf.sum(axis=summed)
        want = () if t is None else values[t].shape
        sums.append(leaf if leaf.shape == want else leaf.reshape(want))
    count = sums.pop() if mean else None
    return assemble(kernel.fname, sums, targets, values, count)


__all__ = ["Kernel", "arrays", "elementwise", "reduced"]
