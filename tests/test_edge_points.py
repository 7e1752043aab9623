"""Derivatives at special points: symback's defined answer on both backends, and how it
compares with JAX and PyTorch (compared in the test when they are installed).

One row per case: the expression, the point (x, y), symback's (value, gradient) -- the same on
both backends unless the python backend raises the `math` exception of a domain error (the
numpy backend then returns inf/nan) -- and the frameworks whose gradient symback agrees with
(their values always agree). The README table is this table. The gradient is (d/dx, d/dy).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Callable

import numpy
import pytest

import symback

inf, nan = math.inf, math.nan
LN2 = math.log(2.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@dataclass
class Row:
    expr: str
    point: tuple[float, ...]
    value: float
    grad: tuple[float, ...]
    agree: str                                   # "jax torch", "torch", "jax", or ""
    ref: Callable[..., Any] | None               # the same function for JAX / torch: (m, x, y)
    raises: type[Exception] | None = None        # what the python backend raises instead
    their_value: float | None = None             # the frameworks' value, where it differs


def _xs(point):
    return ("x", "y")[:len(point)]


ROWS = [
    # constant exponents: no log term, x**0 has slope 0
    Row("x**2", (0.0,), 0.0, (0.0,), "jax torch", lambda m, x: x**2),
    Row("x**3", (0.0,), 0.0, (0.0,), "jax torch", lambda m, x: x**3),
    Row("x**0", (0.0,), 1.0, (0.0,), "jax torch", lambda m, x: x**0),
    Row("x**0.5", (0.0,), 0.0, (inf,), "jax torch", lambda m, x: x**0.5, ZeroDivisionError),
    Row("x**-1", (0.0,), inf, (-inf,), "jax torch", lambda m, x: x**-1, ZeroDivisionError),
    # x**y at x = 0: torch's masks (y == 0 -> d/dx 0; x == 0, y >= 0 -> d/dy 0)
    Row("x**y", (0.0, 0.0), 1.0, (0.0, 0.0), "torch", lambda m, x, y: m.pow(x, y)),
    Row("x**y", (0.0, 1.0), 0.0, (1.0, 0.0), "jax torch", lambda m, x, y: m.pow(x, y)),
    Row("x**y", (0.0, 2.0), 0.0, (0.0, 0.0), "jax torch", lambda m, x, y: m.pow(x, y)),
    Row("x**y", (0.0, 0.5), 0.0, (inf, 0.0), "jax torch", lambda m, x, y: m.pow(x, y),
        ValueError),
    Row("x**y", (0.0, -1.0), inf, (-inf, nan), "jax", lambda m, x, y: m.pow(x, y), ValueError),
    Row("x**y", (-2.0, 3.0), -8.0, (12.0, nan), "jax torch", lambda m, x, y: m.pow(x, y),
        ValueError),
    Row("x**y", (2.0, 0.0), 1.0, (0.0, LN2), "jax torch", lambda m, x, y: m.pow(x, y)),
    Row("0**0 + x", (1.0,), 2.0, (1.0,), "jax torch", lambda m, x: 0.0**0.0 + x),
    # infinite slopes stay infinite
    Row("sqrt(x)", (0.0,), 0.0, (inf,), "jax torch", lambda m, x: m.sqrt(x), ZeroDivisionError),
    Row("cbrt(x)", (0.0,), 0.0, (inf,), "jax", lambda m, x: m.cbrt(x), ZeroDivisionError),
    Row("log(x)", (0.0,), -inf, (inf,), "jax torch", lambda m, x: m.log(x), ValueError),
    Row("log1p(x)", (-1.0,), -inf, (inf,), "jax torch", lambda m, x: m.log1p(x), ValueError),
    Row("asin(x)", (1.0,), math.pi / 2, (inf,), "jax torch", lambda m, x: m.asin(x),
        ZeroDivisionError),
    Row("acos(x)", (1.0,), 0.0, (-inf,), "jax torch", lambda m, x: m.acos(x), ZeroDivisionError),
    Row("acosh(x)", (1.0,), 0.0, (inf,), "jax torch", lambda m, x: m.acosh(x), ZeroDivisionError),
    Row("atanh(x)", (1.0,), inf, (inf,), "jax torch", lambda m, x: m.atanh(x), ValueError),
    # kinks and ties: minimum-norm subgradient, ties split evenly
    Row("abs(x)", (0.0,), 0.0, (0.0,), "torch", lambda m, x: m.abs(x)),
    Row("sign(x)", (0.0,), 0.0, (0.0,), "jax torch", lambda m, x: m.sign(x)),
    Row("max(x, y)", (1.0, 1.0), 1.0, (0.5, 0.5), "jax torch", lambda m, x, y: m.max(x, y)),
    Row("min(x, y)", (1.0, 1.0), 1.0, (0.5, 0.5), "jax torch", lambda m, x, y: m.min(x, y)),
    Row("max(x, y)", (2.0, 1.0), 2.0, (1.0, 0.0), "jax torch", lambda m, x, y: m.max(x, y)),
    Row("max(x, 0)", (0.0,), 0.0, (0.5,), "jax torch", lambda m, x: m.max(x, m.zero(x))),
    Row("min(max(x, 0), 1)", (0.0,), 0.0, (0.5,), "jax", lambda m, x: m.clip(x, 0.0, 1.0)),
    Row("min(max(x, 0), 1)", (1.0,), 1.0, (0.5,), "jax", lambda m, x: m.clip(x, 0.0, 1.0)),
    Row("where(x > 0, x, 0)", (0.0,), 0.0, (0.0,), "jax torch",
        lambda m, x: m.where(x > 0, x, m.zero(x))),
    Row("where(x >= 0, x, -x)", (0.0,), 0.0, (1.0,), "jax torch",
        lambda m, x: m.where(x >= 0, x, -x)),
    # a branch not taken contributes an exact 0 (both frameworks give nan here)
    Row("where(x > 0, sqrt(x), 0)", (-1.0,), 0.0, (0.0,), "",
        lambda m, x: m.where(x > 0, m.sqrt(x), m.zero(x))),
    Row("where(x > 0, sqrt(x), 0)", (0.0,), 0.0, (0.0,), "",
        lambda m, x: m.where(x > 0, m.sqrt(x), m.zero(x))),
    # norms and angles at the origin
    Row("hypot(x, y)", (0.0, 0.0), 0.0, (0.0, 0.0), "", lambda m, x, y: m.hypot(x, y)),
    Row("hypot(x, y)", (3.0, 4.0), 5.0, (0.6, 0.8), "jax torch", lambda m, x, y: m.hypot(x, y)),
    Row("sqrt(x*x + y*y)", (0.0, 0.0), 0.0, (nan, nan), "jax torch",
        lambda m, x, y: m.sqrt(x * x + y * y), ZeroDivisionError),
    Row("atan2(y, x)", (0.0, 0.0), 0.0, (nan, nan), "jax", lambda m, x, y: m.atan2(y, x),
        ZeroDivisionError),
    Row("atan2(y, x)", (1.0, 0.0), 0.0, (0.0, 1.0), "jax torch", lambda m, x, y: m.atan2(y, x)),
    Row("atan2(y, x)", (1e-200, 1e-200), math.pi / 4, (-5e199, 5e199), "",
        lambda m, x, y: m.atan2(y, x)),
    # saturation
    Row("softplus(x)", (1000.0,), 1000.0, (1.0,), "jax torch", lambda m, x: m.softplus(x)),
    Row("softplus(x)", (-1000.0,), 0.0, (0.0,), "jax torch", lambda m, x: m.softplus(x)),
    Row("sigmoid(x)", (1000.0,), 1.0, (0.0,), "jax torch", lambda m, x: m.sigmoid(x)),
    Row("sigmoid(x)", (-1000.0,), 0.0, (0.0,), "jax torch", lambda m, x: m.sigmoid(x)),
    Row("tanh(x)", (20.0,), 1.0, (4.0 * math.exp(-40.0),), "", lambda m, x: m.tanh(x)),
    Row("sigmoid(x)", (40.0,), 1.0, (math.exp(-40.0),), "", lambda m, x: m.sigmoid(x)),
    # forms that overflow or meet 0 * inf are rewritten into ones that do not
    Row("log(1 + exp(x))", (1000.0,), 1000.0, (1.0,), "",
        lambda m, x: m.log(1.0 + m.exp(x)), their_value=inf),
    Row("log(sigmoid(x))", (-1000.0,), -1000.0, (1.0,), "",
        lambda m, x: m.log(m.sigmoid(x)), their_value=-inf),
    Row("sqrt(x**4)", (0.0,), 0.0, (0.0,), "", lambda m, x: m.sqrt(x**4)),
    Row("cbrt(x**3)", (0.0,), 0.0, (1.0,), "", lambda m, x: m.cbrt(x**3)),
    Row("cbrt(x)**3", (0.0,), 0.0, (1.0,), "", lambda m, x: m.cbrt(x)**3),
    Row("erf(x)", (0.0,), 0.0, (TWO_OVER_SQRT_PI,), "jax torch", lambda m, x: m.erf(x)),
    Row("expm1(x)", (0.0,), 0.0, (1.0,), "jax torch", lambda m, x: m.expm1(x)),
    # 0 * inf
    Row("0 * log(x)", (0.0,), nan, (0.0,), "", lambda m, x: 0.0 * m.log(x), ValueError),
    Row("x * log(x)", (0.0,), nan, (nan,), "jax torch", lambda m, x: x * m.log(x), ValueError),
    Row("x * y", (inf, 0.0), nan, (0.0, inf), "jax torch", lambda m, x, y: x * y),
    Row("sqrt(x)**2", (0.0,), 0.0, (nan,), "jax torch", lambda m, x: m.sqrt(x)**2,
        ZeroDivisionError),
    # each where sends the adjoint to the branch it took: at 0 both take their 0
    Row("where(x > 0, x, 0) - where(-x > 0, -x, 0)", (0.0,), 0.0, (0.0,), "jax torch",
        lambda m, x: m.where(x > 0, x, m.zero(x)) - m.where(-x > 0, -x, m.zero(x))),
]
IDS = [f"{r.expr} at {r.point}" for r in ROWS]


def same(a: float, b: float) -> bool:
    """Equal as floats: nan equals nan, signs of zero ignored, 1e-12 relative."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)


def check(row: Row, value, grad) -> None:
    assert same(value, row.value), (row.expr, row.point, value)
    assert len(grad) == len(row.grad)
    assert all(same(g, e) for g, e in zip(grad, row.grad)), (row.expr, row.point, grad)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_numpy_backend(row):
    f = symback.compile(row.expr, wrt=_xs(row.point), backend="numpy")
    with numpy.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, grad = f.value_and_grad(*row.point)
        check(row, value, grad)
        # and elementwise, in an array with ordinary points around it
        arrays = [numpy.array([0.3, p, 0.7]) for p in row.point]
        value, grad = f.value_and_grad(*arrays)
        check(row, value[1], [g[1] for g in grad])


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_python_backend(row):
    f = symback.compile(row.expr, wrt=_xs(row.point))
    if row.raises is not None:
        with pytest.raises(row.raises):
            f.value_and_grad(*row.point)
        return
    check(row, *f.value_and_grad(*row.point))


def test_constant_exponents_build_no_log():
    for text in ("x**2", "x**3", "x**-2", "pow(x, 3)", "x^4", "x**2.0"):
        source = symback.compile(text).source
        assert "log" not in source.split("def gradient")[1], text


# --- JAX and PyTorch, when installed ---------------------------------------------------------

def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.scipy.special import erf
    ns = SimpleNamespace(pow=jnp.power, sqrt=jnp.sqrt, cbrt=jnp.cbrt, log=jnp.log,
                         log1p=jnp.log1p, asin=jnp.arcsin, acos=jnp.arccos,
                         acosh=jnp.arccosh, atanh=jnp.arctanh, abs=jnp.abs, sign=jnp.sign,
                         max=jnp.maximum, min=jnp.minimum, clip=jnp.clip, where=jnp.where,
                         hypot=jnp.hypot, atan2=jnp.arctan2, softplus=jax.nn.softplus,
                         sigmoid=jax.nn.sigmoid, exp=jnp.exp, tanh=jnp.tanh, erf=erf, expm1=jnp.expm1,
                         zero=jnp.zeros_like)

    def run(row: Row):
        args = tuple(jnp.float64(p) for p in row.point)
        fn = lambda *a: row.ref(ns, *a)  # noqa: E731
        value, grad = jax.value_and_grad(fn, argnums=tuple(range(len(args))))(*args)
        return float(value), tuple(float(g) for g in grad)
    return run


def _torch():
    torch = pytest.importorskip("torch")
    ns = SimpleNamespace(pow=torch.pow, sqrt=torch.sqrt, cbrt=None, log=torch.log,
                         log1p=torch.log1p, asin=torch.asin, acos=torch.acos,
                         acosh=torch.acosh, atanh=torch.atanh, abs=torch.abs, sign=torch.sign,
                         max=torch.maximum, min=torch.minimum, clip=torch.clamp,
                         where=torch.where, hypot=torch.hypot, atan2=torch.atan2,
                         softplus=torch.nn.functional.softplus, sigmoid=torch.sigmoid,
                         exp=torch.exp, tanh=torch.tanh, erf=torch.erf, expm1=torch.expm1,
                         zero=torch.zeros_like)

    def run(row: Row):
        if row.expr.startswith("cbrt"):
            pytest.skip("torch has no cbrt")
        args = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in row.point]
        out = row.ref(ns, *args)
        out.backward()
        return float(out), tuple(float(a.grad) if a.grad is not None else 0.0 for a in args)
    return run


@pytest.mark.parametrize("framework", ["jax", "torch"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_against_frameworks(row, framework):
    run = _jax() if framework == "jax" else _torch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grad = run(row)
    expected = row.value if row.their_value is None else row.their_value
    assert same(value, expected), (framework, value)
    agrees = all(same(g, e) for g, e in zip(grad, row.grad))
    assert agrees == (framework in row.agree.split()), (framework, grad, row.grad)
