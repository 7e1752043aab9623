"""Compiled.flat(): one vector θ for scipy's solvers, on every backend.

Oracles: the sympy oracle on Python's reading of the array text (gradients), central finite
differences (Jacobians and Hessians), and the known minimizers of the problems.
"""

from __future__ import annotations

import numpy as np
import pytest

import symback
from oracles import array_oracle
from oracles import sympy_oracle as oracle

scipy_optimize = pytest.importorskip("scipy.optimize")

ROSEN = "# vars: x[8]\nsum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))"
RESIDUALS = "# vars: p[2] t[6] y[6]\n[p[0]*exp(p[1]*t[i]) - y[i] for i in range(len(t))]"
BACKENDS = ["python", "numpy", "numba"]


def _backend(backend):
    if backend == "numba":
        pytest.importorskip("numba")
    return backend


def _fd(fn, theta, h=1e-6):
    cols = []
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        cols.append((np.asarray(fn(theta + e)) - np.asarray(fn(theta - e))) / (2 * h))
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rosenbrock_gradient_hessian_and_trust_ncg(backend):
    F = symback.compile(ROSEN, hessian=True, backend=_backend(backend)).flat()
    assert F.size == 8 and F.names == ("x",)
    theta = np.linspace(-0.5, 1.2, 8)
    value, grad = F.fun_and_jac(theta)
    (expr,) = array_oracle.to_sympy(ROSEN, {"x": (8,)})
    names = [f"x_{i}" for i in range(8)]
    exact_value, exact_grad = oracle.gradient(expr, names, dict(zip(names, theta.tolist())))
    assert oracle.rel_error(value, exact_value) < 1e-12
    assert max(oracle.rel_error(g, e, 1) for g, e in zip(grad, exact_grad)) < 1e-12
    assert value == F.fun(theta) and np.array_equal(grad, F.jac(theta))
    hess = F.hess(theta)
    assert hess.shape == (8, 8)
    np.testing.assert_allclose(hess, _fd(F.jac, theta), rtol=1e-6, atol=1e-4)
    p = np.arange(8.0) - 3
    np.testing.assert_allclose(F.hessp(theta, p), hess @ p, rtol=1e-12, atol=1e-9)
    result = scipy_optimize.minimize(F.fun_and_jac, np.zeros(8), jac=True, hessp=F.hessp,
                                     method="trust-ncg")
    assert result.success
    np.testing.assert_allclose(result.x, np.ones(8), atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_residual_vector_with_least_squares(backend):
    t = np.linspace(0, 1, 6)
    y = 2.0 * np.exp(-1.5 * t)
    F = symback.compile(RESIDUALS, wrt=["p"], backend=_backend(backend)).flat(t=t, y=y)
    theta = np.array([1.0, 0.3])
    assert F.fun(theta).shape == (6,)
    jac = F.jac(theta)
    assert jac.shape == (6, 2)
    np.testing.assert_allclose(jac, _fd(F.fun, theta), rtol=1e-7, atol=1e-8)
    result = scipy_optimize.least_squares(F.fun, np.array([1.0, 0.0]), jac=F.jac)
    np.testing.assert_allclose(result.x, [2.0, -1.5], atol=1e-8)
    values, jac2 = F.fun_and_jac(theta)
    assert np.array_equal(values, F.fun(theta)) and np.array_equal(jac2, jac)


def test_pack_unpack_and_fixed_inputs():
    f = symback.compile("# vars: W[2,3] b c[2]\nsum(W[i, j]*c[i] for i in range(2) "
                        "for j in range(3)) * b", wrt=["W", "b"])
    F = f.flat(c=[1.0, -2.0])
    assert F.size == 7 and F.names == ("W", "b") and F.shapes == {"W": (2, 3), "b": ()}
    W = np.arange(6.0).reshape(2, 3)
    theta = F.pack(W=W, b=0.5)
    assert theta.tolist() == [0, 1, 2, 3, 4, 5, 0.5]
    back = F.unpack(theta)
    assert np.array_equal(back["W"], W) and back["b"] == 0.5
    value = (W[0].sum() * 1.0 - 2.0 * W[1].sum()) * 0.5
    assert F.fun(theta) == pytest.approx(value)
    grad = F.jac(theta)
    np.testing.assert_allclose(grad, _fd(F.fun, theta), rtol=1e-8, atol=1e-8)
    for bad, message in [({}, "give a value for 'c'"), ({"c": [1.0]}, "must have shape (2,)"),
                         ({"c": [1, 2], "b": 1}, "'b' is differentiated"),
                         ({"c": [1, 2], "z": 1}, "'z' is not an input")]:
        with pytest.raises(symback.ArgumentError, match=None) as info:
            f.flat(**bad)
        assert message in info.value.message
    with pytest.raises(symback.ArgumentError, match="shape"):
        F.fun(np.zeros(3))
    with pytest.raises(symback.ArgumentError, match="missing: b"):
        F.pack(W=W)


def test_scalar_program_flat():
    F = symback.compile("(x - 3)**2 + (y + 1)**2").flat()
    result = scipy_optimize.minimize(F.fun_and_jac, np.zeros(2), jac=True, method="L-BFGS-B")
    np.testing.assert_allclose(result.x, [3.0, -1.0], atol=1e-6)
    assert F.unpack(result.x).keys() == {"x", "y"}
