"""The functions `Compiled` hands out, and the message for a function the module lacks.

`Compiled.value_and_grad` is the module's `value_and_grad` behind one extra Python call
(about 0.1 µs; hot loops can take the module's own function, `f.module.value_and_grad`):
- it pickles, as (the `Compiled`, the function's name), so `pool.map(f.forward, points)`
  works with multiprocessing and joblib;
- on the python backend, a call with an array or a list raises a `CallError` that says to use
  backend="numpy" instead of `math`'s "only 0-dimensional arrays can be converted to Python
  scalars". The arguments are looked at only after the call has failed;
- it keeps the function's name, docstring and signature.

It is a bound method of a small holder, because a bound method calls as fast as a closure,
and pickles as `getattr(holder, name)`, which the holder answers.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, Callable, Sequence

from .errors import CallError


class _Holder:
    """What a handed-out function is bound to: the module's function and where it came
    from (its `Compiled` and its name), for pickling."""

    __slots__ = ("fn", "owner", "name", "numbers_only", "method")

    def __init__(self, owner: Any, name: str, fn: Callable[..., Any], numbers_only: bool):
        self.fn = fn
        self.owner = owner
        self.name = name
        self.numbers_only = numbers_only

    def __getattr__(self, attr: str) -> Any:
        # Unpickling a bound method calls getattr(holder, method name).
        if attr == object.__getattribute__(self, "name"):
            return object.__getattribute__(self, "method")
        raise AttributeError(attr)

    def __reduce__(self) -> tuple[Any, ...]:
        return _holder_of, (self.owner, self.name)


def _holder_of(owner: Any, name: str) -> _Holder:
    return getattr(owner, name).__self__


def _call(holder: _Holder, *args: Any) -> Any:
    try:
        return holder.fn(*args)
    except TypeError as exc:
        hint = _array_hint(holder.name, args) if holder.numbers_only else None
        if hint is None:
            raise
        raise CallError(hint) from exc


def _call_data(holder: _Holder, *args: Any, **options: Any) -> Any:
    # A dask array or DataFrame, a pandas DataFrame, or keywords (reduce=, inputs by name)
    # go to symback.data; plain calls only look at each argument's type's module name, so
    # numpy-only users never import dask.
    if not options:
        for a in args:
            if type(a).__module__.startswith(("dask.", "pandas.")):
                break
        else:
            return holder.fn(*args)
    from .data import call
    return call(holder, args, options)


def _call_float64(holder: _Holder, *args: Any) -> Any:
    # numba compiles for float64 arrays: lists, tuples and other dtypes are converted
    # (a list would be a "reflected list" without .shape, an int array a second compile).
    import numpy
    return holder.fn(*[numpy.ascontiguousarray(a, dtype=numpy.float64)
                       if isinstance(a, (list, tuple, numpy.ndarray)) else a for a in args])


def hand_out(owner: Any, name: str, fn: Callable[..., Any],
             numbers_only: bool, data: bool = False, float64_arrays: bool = False
             ) -> Callable[..., Any]:
    """`fn`, the module's function `name`, as `Compiled` hands it out (see the module
    docstring). `numbers_only`: the python backend, whose functions take no arrays.
    `data`: the numpy backend, whose functions also take dask arrays, DataFrames, inputs
    by name and `reduce=` (see symback.data). `float64_arrays`: the numba backend with
    array inputs, whose compiled functions take float64 arrays (sequences are converted)."""
    holder = _Holder(owner, name, fn, numbers_only)
    code = _call_data if data else _call_float64 if float64_arrays else _call
    method = types.FunctionType(code.__code__, code.__globals__, name)
    method.__doc__ = fn.__doc__
    method.__qualname__ = getattr(fn, "__qualname__", name)
    method.__module__ = getattr(fn, "__module__", None)
    try:                                     # the signature shown is fn's (self is dropped)
        sig = inspect.signature(fn)
        first = inspect.Parameter("_holder", inspect.Parameter.POSITIONAL_ONLY)
        method.__signature__ = sig.replace(  # type: ignore[attr-defined]
            parameters=[first, *sig.parameters.values()])
    except (TypeError, ValueError):          # numba dispatchers may not say
        pass
    holder.method = types.MethodType(method, holder)
    return holder.method


def _array_hint(name: str, args: tuple[Any, ...]) -> str | None:
    """The one-line message for a call that was given an array or a list, or None when no
    argument is one (the TypeError has another cause)."""
    for k, a in enumerate(args):
        if hasattr(a, "__array__") and getattr(a, "ndim", 1) or isinstance(a, (list, tuple)):
            return (f"{name}() of the python backend takes numbers, not {type(a).__name__} "
                    f"(argument {k + 1}): compile with backend=\"numpy\" for arrays")
    return None


def missing_message(name: str, present: Sequence[str]) -> str:
    """Why a compiled module has no function `name`, and how to get one."""
    how = {"hessian": "compile with hessian=True", "hvp": "compile with hessian=True",
           "jacobian": "it has one output: use gradient(), or give several outputs ('a, b')",
           "value_and_jacobian": "it has one output: use value_and_grad()",
           "gradient": "it has several outputs: use jacobian()",
           "value_and_grad": "it has several outputs: use value_and_jacobian()"}.get(name)
    if name == "hessian" and "hvp" in present:      # rolled loops: no n x n matrix
        how = "its loops are rolled, so it has hvp() and no dense Hessian: use hvp(), or " \
              "compile with loops='unroll'"
    functions = ", ".join(n for n in present if n.islower())
    return f"this module has no {name}() ({how + '; ' if how else ''}its functions: {functions})"
