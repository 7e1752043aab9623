"""The functions `Compiled` hands out, with a friendlier error for arrays on the python
backend, and the message for a function the module does not have.

On the python backend, `Compiled.value_and_grad` wraps the module's `value_and_grad`: a call
with an array or a list raises a `CallError` that says to use backend="numpy", instead of
`math`'s "only 0-dimensional arrays can be converted to Python scalars". The arguments are
looked at only after the call has failed, so a successful call pays one extra Python call
(about 0.06 µs); hot loops can take the module's own function, `f.module.value_and_grad`.
The wrapper keeps the function's name, docstring and signature.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .errors import CallError


def numbers_only(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` (a python-backend function), raising a `CallError` with a hint when it fails
    because it was given an array or a list."""
    @functools.wraps(fn)
    def call(*args: Any) -> Any:
        try:
            return fn(*args)
        except TypeError as exc:
            hint = _array_hint(fn.__name__, args)
            if hint is None:
                raise
            raise CallError(hint) from exc
    return call


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
    functions = ", ".join(n for n in present if n.islower())
    return f"this module has no {name}() ({how + '; ' if how else ''}its functions: {functions})"
