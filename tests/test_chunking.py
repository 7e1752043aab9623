"""Chunked evaluation on the numpy backend: above 2 * _CHUNK points a function runs its
statements on _CHUNK points at a time (`_chunked` in the generated module). Every operation
is elementwise, so the chunked results must be bit-identical to one unchunked evaluation,
with the same shapes, and must never be bare scalars or the caller's own arrays.

The tests set the module's `_CHUNK` small (so chunking happens on a few hundred points) or
huge (so it never happens) and compare the two byte for byte. No timings."""

from __future__ import annotations

import random

import numpy as np
import pytest
from oracles.workloads import random_expression, workload

import symback

UNCHUNKED = 10**12

# Every function of the language at least once, `where` and comparisons included.
EVERY_OP = ("where(x > y, exp(x) * sin(y), log1p(x*x) + erf(y)) + hypot(x, y) + atan2(y, x)"
            " + max(x, y, 0.5) * min(x, 2) + abs(x) ** 1.5 + sign(y) * sigmoid(x)"
            " + softplus(y) + erfc(x) + tanh(x) + cbrt(y) + sqrt(x*x + 1) + x ** y"
            " + where(x <= 0.3, cos(x), tan(y / 4)) + where(x == y, 1, 2) * where(x != 1, x, 0)"
            " + asinh(x) + acosh(y*y + 1) + atanh(y / 4) + asin(x / 4) + acos(y / 4) + atan(x)"
            " + expm1(y) + log2(y*y + 1) + log10(x*x + 2) + log(x*x + 1) + sinh(x) + cosh(y)"
            " + where(x < y, x, y) * where(x >= y, 3, y)")


def _bits(value: object) -> tuple:
    """Shape, dtype and bytes: equal only for bit-identical arrays (nan payloads, -0.0)."""
    a = np.asarray(value)
    return a.shape, a.dtype, a.tobytes()


def _flatten(result: object) -> list:
    """The arrays of a result: an array, or (nested) tuples of arrays."""
    todo, out = [result], []
    while todo:
        item = todo.pop()
        if isinstance(item, tuple):
            todo.extend(reversed(item))
        else:
            out.append(item)
    return out


def _call_both(module, name: str, args: list, chunk: int) -> tuple[object, object, int]:
    """`module.name(*args)` unchunked and with `_CHUNK = chunk`; and how many calls went
    through `_chunked`."""
    calls = []
    original = module._chunked

    def counting(*a):
        calls.append(1)
        return original(*a)

    module._chunked = counting
    try:
        module._CHUNK = UNCHUNKED
        plain = getattr(module, name)(*args)
        assert not calls
        module._CHUNK = chunk
        chunked = getattr(module, name)(*args)
    finally:
        module._chunked = original
        module._CHUNK = 16384
    return plain, chunked, len(calls)


def assert_identical(module, name: str, args: list, chunk: int, expect_chunked: bool) -> None:
    plain, chunked, n_calls = _call_both(module, name, args, chunk)
    assert n_calls == (1 if expect_chunked else 0)
    assert type(plain) is type(chunked)
    a, b = _flatten(plain), _flatten(chunked)
    assert len(a) == len(b)
    shape = np.broadcast_shapes(*[np.shape(x) for x in args])
    inputs = [x for x in args if isinstance(x, np.ndarray)]
    for p, c in zip(a, b):
        assert _bits(p) == _bits(c)
        assert isinstance(c, np.ndarray) and c.dtype == np.float64
        assert c.shape[:len(shape)] == shape               # matrices: shape + (rows, cols)
        assert c.flags.writeable
        assert not any(np.shares_memory(c, x) for x in inputs)


def _near(rng: np.random.Generator, centre: list[float], shape: tuple) -> list:
    return [c + rng.uniform(-0.05, 0.05, shape) for c in centre]


@pytest.mark.parametrize("name", ["seed", "rosenbrock_10", "softmax_xent_10", "product_10",
                                  "chain_100", "mlp_small"])
@pytest.mark.parametrize("n", [63, 64, 65, 257, 0])
def test_workloads_chunked_equal_unchunked(name: str, n: int) -> None:
    w = workload(name)
    m = symback.compile(w.text, backend="numpy", hessian=len(w.vars) <= 10).module
    rng = np.random.default_rng(n)
    pts = _near(rng, w.point, (n,))
    chunk = 32                       # 63, 64 points: not chunked (<= 2 chunks); 65, 257: chunked
    for fname in ("forward", "gradient", "value_and_grad"):
        assert_identical(m, fname, pts, chunk, expect_chunked=n > 2 * chunk)
    if hasattr(m, "hessian"):
        assert_identical(m, "hessian", pts, chunk, expect_chunked=n > 2 * chunk)
        vs = _near(rng, [1.0] * len(w.vars), (n,))
        assert_identical(m, "hvp", pts + vs, chunk, expect_chunked=n > 2 * chunk)


@pytest.mark.parametrize("chunk", [1, 7, 16, 100])
def test_every_op_and_broadcast_shapes(chunk: int) -> None:
    m = symback.compile(EVERY_OP, backend="numpy", hessian=True).module
    rng = np.random.default_rng(chunk)
    x = rng.uniform(0.1, 2.0, (23, 1))
    y = rng.uniform(0.1, 2.0, (1, 19))
    y[0, 3] = x[5, 0]                                  # x == y somewhere: both `where` arms
    with np.errstate(all="ignore"):
        for fname in ("forward", "gradient", "value_and_grad", "hessian"):
            assert_identical(m, fname, [x, y], chunk, expect_chunked=23 * 19 > 2 * chunk)
            assert_identical(m, fname, [x[:, 0], 0.7], chunk, expect_chunked=23 > 2 * chunk)
            assert_identical(m, fname, [1.3, y], chunk, expect_chunked=19 > 2 * chunk)


def test_special_values_and_domain_errors() -> None:
    m = symback.compile("sqrt(x) + log(y) + x / y + where(x > 0, x, -x)", backend="numpy").module
    x = np.array([-1.0, 0.0, -0.0, np.inf, -np.inf, np.nan, 1e-310, 4.0] * 9)
    y = np.array([0.0, -0.0, 1.0, np.inf, np.nan, -1.0, 2.0, 1e308, 3.0] * 8)
    with np.errstate(all="ignore"):
        for fname in ("forward", "value_and_grad"):
            assert_identical(m, fname, [x, y], 5, expect_chunked=True)


def test_jacobian_several_outputs() -> None:
    text = "a = x * y + sin(z); b = where(x > z, exp(y), x * z); c = 3.0; a, b, c, x"
    m = symback.compile(text, backend="numpy").module
    rng = np.random.default_rng(3)
    args = [rng.normal(size=(40, 1)), rng.normal(size=(1, 6)), rng.normal(size=(40, 6))]
    for fname in ("forward", "jacobian", "value_and_jacobian"):
        assert_identical(m, fname, args, 11, expect_chunked=True)
    jac = m.jacobian(*args)
    assert jac.shape == (40, 6, 4, 3)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_hessian_modes(mode: str) -> None:
    w = workload("rosenbrock_10")
    m = symback.compile(w.text, backend="numpy", hessian=True, mode=mode).module
    pts = _near(np.random.default_rng(5), w.point, (301,))
    assert_identical(m, "hessian", pts, 100, expect_chunked=True)
    assert m.hessian(*pts).shape == (301, 10, 10)


def test_zero_size_and_scalars() -> None:
    m = symback.compile("x * y + 2", backend="numpy", hessian=True).module
    m._CHUNK = 1
    try:
        v, (dx, dy) = m.value_and_grad(np.ones((0, 3)), np.ones((1, 3)))
        assert v.shape == dx.shape == dy.shape == (0, 3)
        assert m.hessian(np.ones(0), 1.0).shape == (0, 2, 2)
        v, (dx, dy) = m.value_and_grad(2.0, 3.0)           # shape (): never chunked
        assert v == 8.0 and dx == 3.0 and dy == 2.0 and np.shape(dx) == ()
    finally:
        m._CHUNK = 16384


def test_results_are_new_arrays_when_they_equal_an_input() -> None:
    m = symback.compile("x * y + z", backend="numpy").module
    x, y, z = (np.arange(100.0) + k for k in range(3))
    _, chunked, n_calls = _call_both(m, "value_and_grad", [x, y, z], 10)
    _, (dx, dy, dz) = chunked
    assert n_calls == 1
    assert np.array_equal(dx, y) and np.array_equal(dy, x) and np.array_equal(dz, 1.0 + 0 * x)
    assert not any(np.shares_memory(d, a) for d in (dx, dy, dz) for a in (x, y, z))
    # gradient() computes nothing (inputs and a constant): no block, no chunks, new arrays
    _, grads, n_calls = _call_both(m, "gradient", [x, y, z], 10)
    assert n_calls == 0 and not any(np.shares_memory(d, a) for d in grads for a in (x, y, z))
    dx[:] = -1.0
    assert y[0] == 1.0


@pytest.mark.parametrize("seed", range(6))
def test_random_expressions(seed: int) -> None:
    rng = random.Random(seed)
    text = random_expression(rng, ["x", "y", "z"], 14)
    m = symback.compile(text, backend="numpy", hessian=True).module
    nrng = np.random.default_rng(seed)
    args = [nrng.uniform(0.5, 1.5, (9, 1)), nrng.uniform(0.5, 1.5, (1, 11)), 0.8]
    with np.errstate(all="ignore"):
        for fname in ("value_and_grad", "hessian", "hvp"):
            extra = [1.0, nrng.uniform(size=(9, 11)), -0.5] if fname == "hvp" else []
            assert_identical(m, fname, args + extra, 4, expect_chunked=True)


def test_generated_module_layout() -> None:
    src = symback.compile("((x + y) * z)**2", backend="numpy").source
    assert "_CHUNK = 16384" in src and "def _chunked(" in src
    assert "def _value_and_grad(x, y, z):" in src
    assert src.count("_t1 = x + y") == 3                 # statements once per function
    assert "recurs" not in src
    # a function without computed results has no block and no chunking
    src = symback.compile("x + 2*y", backend="numpy").source
    assert "def _gradient(" not in src and "def _value_and_grad(" in src
