"""Sums of a numpy-backend function's results over the batch axes, a block of data at a time.

`partial_sums` runs the function on about _CHUNK points at a time and adds up each result
over the batch axes its target does not have (a value: all of them; a gradient entry: those
its input is broadcast along), in "keepdims" form, one axis per batch axis. The numpy path
of `reduce=` (symback.data) and each dask task (symback.dask_support) use it; `assemble`
puts the sums back into the function's own layout.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy

_CHUNK = 16384          # points per step of a reduction: as the generated module's _CHUNK


def full_axes(shape: tuple[int, ...], target: tuple[int, ...] | None) -> tuple[bool, ...]:
    """For each batch axis, whether a result for `target` (an input's shape, aligned to the
    right; None: a value) keeps that axis (True) or is summed over it (False)."""
    if target is None:
        return tuple(False for _ in shape)
    aligned = (1,) * (len(shape) - len(target)) + tuple(target)
    return tuple(same_length(t, s) for t, s in zip(aligned, shape))


def partial_sums(fn: Callable[..., Any], values: Sequence[numpy.ndarray],
                 shape: tuple[int, ...], targets: Sequence[int | None]) -> list[numpy.ndarray]:
    """The results of fn(*values), summed over the batch axes each one's target does not
    have, in keepdims form (len(shape) axes; the summed ones of length 1).

    fn runs on at most about _CHUNK points at a time: along the first axis `a` whose
    trailing axes hold at most _CHUNK points, slices of rows of axis `a` for every index
    of the axes before it; so no full-size per-point result is ever allocated (except a
    gradient that keeps every batch axis: it is its input's shape).
    """
    nd = len(shape)
    aligned = [v.reshape((1,) * (nd - v.ndim) + v.shape) for v in values]
    keeps = [full_axes(shape, None if t is None else values[t].shape) for t in targets]
    sums = [numpy.zeros(tuple(n if k else 1 for n, k in zip(shape, keep))) for keep in keeps]
    if math.prod(shape) == 0:
        return sums
    a = 0
    while a < nd and math.prod(shape[a + 1:]) > _CHUNK:
        a += 1
    if a == nd:                                      # no batch axes: one point
        results = flatten(fn(*values))
        for s, r in zip(sums, results):
            s[...] = r
        return sums
    step = max(1, _CHUNK // max(1, math.prod(shape[a + 1:])))
    for head in numpy.ndindex(*shape[:a]):
        for start in range(0, shape[a], step):
            where = [slice(i, i + 1) for i in head] + [slice(start, start + step)]
            parts = [v[tuple(w if n > 1 else slice(None) for w, n in zip(where, v.shape))]
                     for v in aligned]
            results = flatten(fn(*parts))
            for s, r, keep in zip(sums, results, keeps):
                axes = tuple(k for k in range(nd) if not keep[k] and r.shape[k] > 1)
                part = r.sum(axis=axes, keepdims=True) if axes else r
                spot = tuple(w if keep[k] else slice(None) for k, w in
                             enumerate(where + [slice(None)] * (nd - a - 1)))
                s[spot] += part
    return sums


def flatten(results: Any) -> list[numpy.ndarray]:
    """A function's results (a value, a tuple of values, (value, gradient)) as one list."""
    if isinstance(results, tuple):
        out: list[numpy.ndarray] = []
        for r in results:
            out.extend(flatten(r))
        return out
    return [numpy.asarray(results)]


def assemble(fname: str, sums: list[Any], targets: Sequence[int | None],
             values: Sequence[Any], count: Any) -> Any:
    """The reduced results in the function's own layout: each value a scalar, each gradient
    entry its input's shape (numpy arrays in keepdims form, or dask arrays already shaped);
    divided by `count` (a number, or a lazy one) for a mean."""
    out = []
    for s, t in zip(sums, targets):
        want = () if t is None else values[t].shape
        r = s if s.shape == want else s.reshape(want)
        if count is not None:
            r = r / count
        out.append(r[()] if r.ndim == 0 and isinstance(r, numpy.ndarray) else r)
    n_values = sum(t is None for t in targets)
    vals = out[:n_values]
    value = vals[0] if len(vals) == 1 else tuple(vals)
    if fname == "forward":
        return value
    grads = tuple(out[n_values:])
    return grads if fname == "gradient" else (value, grads)


def same_length(p: Any, q: Any) -> bool:
    """Equal lengths; two unknown lengths (nan) count as equal."""
    return p == q or _unknown(p) and _unknown(q)


def _unknown(n: Any) -> bool:
    return isinstance(n, float) and math.isnan(n)


__all__ = ["assemble", "flatten", "full_axes", "partial_sums", "same_length"]
