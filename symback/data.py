"""Calls of numpy-backend functions on data: inputs by name, DataFrames, `reduce=`, dask.

`Compiled.value_and_grad(...)` on the numpy backend comes here (from symback.calls) when it
gets keywords, a pandas or dask object:

- inputs may be given by name (`f.forward(x, w=2.0)`), and a DataFrame as the only
  positional argument supplies every input named by one of its columns
  (`f.value_and_grad(df, reduce="sum", w=w0, b=0.0)`);
- `reduce="sum"` or `"mean"` (forward, gradient, value_and_grad) sums over the batch axes:
  the value becomes a scalar and each gradient its input's own shape (a scalar for a scalar
  input), computed _CHUNK points at a time without the full per-point results;
- a dask array (or dask DataFrame) among the inputs makes every result a lazy dask array,
  computed block by block by the same function (symback.dask_support).

The reduction itself is symback.reduce, shared by the numpy path and by each dask task.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Sequence

import numpy

from .errors import ArgumentError
from .reduce import assemble, partial_sums, same_length

REDUCTIONS = ("sum", "mean")
REDUCIBLE = ("forward", "gradient", "value_and_grad")


def call(holder: Any, args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    """Run `holder.fn` (the module's function `holder.name` of the `Compiled`
    `holder.owner`) on `args` and the keyword `options` (see the module docstring)."""
    name, fn = holder.name, holder.fn
    options = dict(options)
    how = options.pop("reduce", None)
    if how is not None and how not in REDUCTIONS:
        raise ArgumentError(f"reduce must be 'sum', 'mean' or None, not {how!r}")
    if how is not None and name not in REDUCIBLE:
        raise ArgumentError(f"reduce= applies to {', '.join(REDUCIBLE)}, not {name}()")
    names = parameter_names(holder.owner, fn)
    values = bind(name, names, args, options)
    lazy = any(is_dask(v) for v in values)
    if (how is not None or lazy) and any(getattr(holder.owner, "shapes", {}).values()):
        raise ArgumentError("reduce= and dask inputs are not supported yet for a module with "
                            "array inputs (x[n]); call it on numpy arrays and sum the results")
    if lazy:
        from . import dask_support
        values = dask_support.arrays(values, names)
    else:
        values = [numpy.asarray(v, dtype=numpy.float64) for v in values]
    shape = broadcast_shape(values, names)
    targets = reduce_targets(holder.owner, name, len(values)) if how else None
    if lazy:
        from . import dask_support
        kernel = dask_support.Kernel(holder.owner.source, holder.owner.name, name)
        if targets is None:
            return dask_support.elementwise(kernel, values, shape)
        return dask_support.reduced(kernel, values, shape, targets, how == "mean")
    if targets is None:
        return fn(*values)
    sums = partial_sums(fn, values, shape, targets)
    return assemble(name, sums, targets, values, math.prod(shape) if how == "mean" else None)


def is_dask(x: Any) -> bool:
    """Whether x is a dask collection, without importing dask."""
    return type(x).__module__.startswith("dask.")


def parameter_names(owner: Any, fn: Callable[..., Any]) -> list[str]:
    """The names the function's parameters are given by: the inputs (as the user wrote
    them), then any further parameters (hvp's vector `v_x, ...`)."""
    params = list(inspect.signature(fn).parameters)
    return list(owner.inputs) + params[len(owner.inputs):]


def bind(fname: str, names: Sequence[str], args: tuple[Any, ...],
         keywords: dict[str, Any]) -> list[Any]:
    """The arguments in parameter order, from positional ones, keywords, and the columns of
    a DataFrame given as the only positional argument."""
    frame = None
    if len(args) == 1 and hasattr(args[0], "columns") and hasattr(args[0], "dtypes"):
        frame, args = args[0], ()
    if len(args) > len(names):
        raise ArgumentError(f"{fname}() takes {len(names)} inputs ({', '.join(names)}), "
                            f"got {len(args)}")
    unknown = [k for k in keywords if k not in names]
    if unknown:
        raise ArgumentError(f"{fname}() has no input {unknown[0]!r} (its inputs: "
                            f"{', '.join(names)})")
    values: list[Any] = list(args)
    columns = set(frame.columns) if frame is not None else set()
    for k, n in enumerate(names):
        if k < len(args):
            if n in keywords:
                raise ArgumentError(f"{fname}() got input {n!r} twice (by position and "
                                    "by name)")
        elif n in keywords:
            values.append(keywords[n])
        elif n in columns:
            values.append(frame[n])
        else:
            where = " (not a column of the DataFrame)" if frame is not None else ""
            raise ArgumentError(f"{fname}() is missing input {n!r}{where}")
    return values


def broadcast_shape(values: Sequence[Any], names: Sequence[str]) -> tuple[Any, ...]:
    """The inputs' broadcast shape (an axis of unknown length, nan, from a DataFrame
    column, broadcasts with 1 and nan), or an ArgumentError naming two inputs that clash."""
    shape: tuple[Any, ...] = ()
    for k, v in enumerate(values):
        joined = _joined(shape, v.shape)
        if joined is None:
            j = next((j for j in range(k) if _joined(values[j].shape, v.shape) is None), 0)
            raise ArgumentError(f"inputs {names[j]!r} of shape {_shown(values[j].shape)} "
                                f"and {names[k]!r} of shape {_shown(v.shape)} do not "
                                "broadcast together")
        shape = joined
    return shape


def _joined(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """numpy's broadcast of two shapes, or None."""
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for p, q in zip(a, b):
        if same_length(p, q) or q == 1:
            out.append(p)
        elif p == 1:
            out.append(q)
        else:
            return None
    return tuple(out)


def _shown(shape: tuple[Any, ...]) -> str:
    return "(" + ", ".join("?" if isinstance(n, float) else str(n) for n in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def reduce_targets(owner: Any, fname: str, n_params: int) -> list[int | None]:
    """For each result of `fname` in order: None for a value (summed to a scalar), or the
    index of the input a gradient entry belongs to (summed to that input's shape)."""
    values = [None] * len(owner.outputs) if fname != "gradient" else []
    grads = list(range(len(owner.wrt))) if fname != "forward" else []
    return values + grads


__all__ = ["REDUCTIONS", "REDUCIBLE", "bind", "broadcast_shape", "call"]
