"""The hand-written references of benchmarks/loops.py are what symback's rolled loops are
judged against, so they are checked here against their definitions: Rosenbrock's value against
the plain sum and its gradient against central differences; the numba pairwise energy against
the plain-Python double loop (value) and central differences of it (gradient). Seconds."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")

from benchmarks import loops


def _central_difference(f, x, h):
    grad = []
    for k in range(len(x)):
        up, down = list(x), list(x)
        up[k] += h
        down[k] -= h
        grad.append((f(up) - f(down)) / (2 * h))
    return grad


def _rosenbrock_definition(x):
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(len(x) - 1))


def test_hand_numpy_rosenbrock_matches_its_definition():
    x = [0.3, -1.2, 0.8, 1.4, -0.5]
    value, grad = loops.rosenbrock_numpy(np.array(x))
    assert isinstance(grad, np.ndarray) and grad.dtype == np.float64 and grad.shape == (5,)
    assert math.isclose(value, _rosenbrock_definition(x), rel_tol=1e-14)
    fd = _central_difference(_rosenbrock_definition, x, 1e-6)
    assert np.allclose(grad, fd, rtol=1e-7, atol=1e-6), (grad, fd)


def test_hand_numba_pairwise_matches_its_definition():
    pytest.importorskip("numba")
    X = loops.pairwise_point(5)
    value, grad = loops.pairwise_numba(X)
    points = X.tolist()
    assert math.isclose(value, loops.pairwise_definition(points), rel_tol=1e-12)

    def energy(flat):
        return loops.pairwise_definition([flat[3 * p:3 * p + 3] for p in range(5)])
    fd = np.array(_central_difference(energy, X.ravel().tolist(), 1e-6)).reshape(5, 3)
    assert np.allclose(grad, fd, rtol=1e-6, atol=1e-8 * np.abs(fd).max()), (grad, fd)


def test_hand_numba_rosenbrock_matches_hand_numpy():
    pytest.importorskip("numba")
    x = loops.rosenbrock_point(1000)
    assert loops.rel_error(loops.rosenbrock_numba(x), loops.rosenbrock_numpy(x)) < 1e-13
