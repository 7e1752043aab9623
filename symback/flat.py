"""Solver-ready vector functions: `Compiled.flat(**fixed)`.

scipy's optimizers take one vector θ. `flat` concatenates the `wrt` inputs (arrays flattened
row-major, in `wrt` order) into θ, binds every other input to a fixed value, and calls the
compiled functions, on any backend:

    >>> F = symback.compile(text, hessian=True).flat(c=2.0)
    >>> F.fun(theta), F.jac(theta), F.hessp(theta, p)

numpy is the only dependency (imported on first use).
"""

from __future__ import annotations

from typing import Any

from .errors import ArgumentError, MissingDependencyError
from .render import PRINTERS


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:
        raise MissingDependencyError("flat() needs numpy: pip install 'symback[scipy]' (numpy "
                                     "and scipy's solvers)") from None
    return numpy


class FlatFunction:
    """The compiled functions of one vector θ (the `wrt` inputs, flattened and concatenated).

    Attributes:
        size: the length of θ. names: the `wrt` inputs (arrays and scalars) in θ's order.
        shapes: group name -> shape (() for a scalar).
    """

    def __init__(self, compiled: Any, fixed: dict[str, Any]) -> None:
        np = self._np = _numpy()
        # array inputs as nested lists where the backend takes numbers and sequences
        self._sequences = PRINTERS[compiled.backend].scalars_only
        self.compiled = compiled
        shapes = compiled.shapes
        self.names = tuple(compiled.wrt)
        self.shapes = {n: shapes[n] for n in self.names}
        self._sizes = [int(np.prod(self.shapes[n])) if self.shapes[n] else 1
                       for n in self.names]
        self.size = sum(self._sizes)
        known = [n for n in compiled.inputs if n not in self.shapes]
        for name in fixed:
            if name in self.shapes:
                raise ArgumentError(f"flat(): {name!r} is differentiated (in wrt), so it is "
                                    "part of θ and cannot be fixed")
            if name not in known:
                raise ArgumentError(f"flat(): {name!r} is not an input "
                                    f"(the fixed inputs are: {', '.join(known) or 'none'})")
        missing = [n for n in known if n not in fixed]
        if missing:
            raise ArgumentError(f"flat(): give a value for {', '.join(map(repr, missing))} "
                                "(inputs not in wrt are fixed: flat(name=value))")
        values: dict[str, Any] = {}
        for name in known:
            data = np.asarray(fixed[name], dtype=np.float64)
            if data.shape != shapes[name]:
                raise ArgumentError(f"flat(): {name!r} must have shape {shapes[name]}, not "
                                    f"{data.shape}")
            values[name] = self._arg(data)
        # The arguments: θ's pieces where the inputs are differentiated, fixed values around.
        position = {n: k for k, n in enumerate(self.names)}
        self._slots = [position.get(n, -1) for n in compiled.inputs]
        self._fixed = [values.get(n) for n in compiled.inputs]
        self._several = len(compiled.outputs) > 1

    def _arg(self, data: Any) -> Any:
        """One argument as the backend takes it: a float, nested lists on the python
        backend, a float64 array on numpy and numba."""
        if data.ndim == 0:
            return float(data)
        return data.tolist() if self._sequences else data

    def _pieces(self, theta: Any, what: str = "θ") -> list[Any]:
        t = self._np.asarray(theta, dtype=self._np.float64)
        if t.shape != (self.size,):
            raise ArgumentError(f"{what} must have shape ({self.size},), not {t.shape}")
        pieces, start = [], 0
        for name, n in zip(self.names, self._sizes):
            pieces.append(self._arg(t[start:start + n].reshape(self.shapes[name])))
            start += n
        return pieces

    def _args(self, theta: Any) -> list[Any]:
        pieces = self._pieces(theta)
        return [pieces[k] if k >= 0 else f for k, f in zip(self._slots, self._fixed)]

    def _array(self, value: Any) -> Any:
        return self._np.array(value, dtype=self._np.float64)

    def _flat(self, grad: Any) -> Any:
        """A gradient grouped by input (arrays of their shapes) as one vector."""
        np = self._np
        return np.concatenate([np.ravel(np.asarray(g, dtype=np.float64)) for g in grad]) \
            if len(grad) else np.zeros(0)

    def fun(self, theta: Any) -> Any:
        """The value: a float, or shape (m,) for m outputs."""
        value = self.compiled.forward(*self._args(theta))
        return self._array(value) if self._several else float(value)

    def jac(self, theta: Any) -> Any:
        """The gradient, shape (n,), or the Jacobian, shape (m, n)."""
        args = self._args(theta)
        if self._several:
            return self._array(self.compiled.jacobian(*args)).reshape(-1, self.size)
        return self._flat(self.compiled.gradient(*args))

    def fun_and_jac(self, theta: Any) -> tuple[Any, Any]:
        """(fun, jac) from one call: `minimize(F.fun_and_jac, x0, jac=True)`."""
        args = self._args(theta)
        if self._several:
            value, jac = self.compiled.value_and_jacobian(*args)
            return self._array(value), self._array(jac).reshape(-1, self.size)
        value, grad = self.compiled.value_and_grad(*args)
        return float(value), self._flat(grad)

    def hess(self, theta: Any) -> Any:
        """The Hessian, shape (n, n) (needs `compile(..., hessian=True)`)."""
        return self._array(self.compiled.hessian(*self._args(theta))).reshape(self.size,
                                                                              self.size)

    def hessp(self, theta: Any, p: Any) -> Any:
        """The Hessian times p, shape (n,), at the cost of a few gradients."""
        v = self._pieces(p, "p")
        return self._flat(self.compiled.hvp(*self._args(theta), *v))

    def pack(self, **values: Any) -> Any:
        """θ from the `wrt` inputs by name (arrays of their shape, scalars)."""
        np = self._np
        unknown = [n for n in values if n not in self.shapes]
        missing = [n for n in self.shapes if n not in values]
        if unknown or missing:
            raise ArgumentError(f"pack() takes exactly the wrt inputs ({', '.join(self.names)})"
                                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                                + (f"; missing: {', '.join(missing)}" if missing else ""))
        parts = []
        for name in self.names:
            data = np.asarray(values[name], dtype=np.float64)
            if data.shape != self.shapes[name]:
                raise ArgumentError(f"pack(): {name!r} must have shape {self.shapes[name]}, "
                                    f"not {data.shape}")
            parts.append(data.ravel())
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, theta: Any) -> dict[str, Any]:
        """θ -> {name: value}: arrays of their shape, floats for scalars."""
        t = self._np.asarray(theta, dtype=self._np.float64)
        if t.shape != (self.size,):
            raise ArgumentError(f"θ must have shape ({self.size},), not {t.shape}")
        result: dict[str, Any] = {}
        start = 0
        for name in self.names:
            shape = self.shapes[name]
            n = int(self._np.prod(shape)) if shape else 1
            chunk = t[start:start + n]
            result[name] = chunk.reshape(shape).copy() if shape else float(chunk[0])
            start += n
        return result

    def __repr__(self) -> str:
        return f"<symback.FlatFunction of θ[{self.size}] = ({', '.join(self.names)})>"


__all__ = ["FlatFunction"]
