"""The numpy backend: the same program on arrays. Results equal the python backend's
elementwise, have the inputs' broadcast shape (constants too), and never alias the inputs."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import symback
from oracles import workloads
from oracles.workloads import random_expression, workload

ROOT = Path(__file__).resolve().parent.parent

WORKLOADS = ["seed", "rosenbrock_10", "rosenbrock_100", "product_10", "product_100",
             "softmax_xent_10", "mlp_small", "lennard_jones_10", "chain_100"]


def assert_same(array_value: object, python_values: list[float], rel: float = 1e-12) -> None:
    got = np.asarray(array_value, dtype=float)
    want = np.asarray(python_values, dtype=float)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rel, atol=rel)


def sample_points(rng: random.Random, centre: list[float], k: int, spread: float) -> np.ndarray:
    """k points near `centre`, as an array of shape (len(centre), k)."""
    return np.array([[c + rng.uniform(-spread, spread) for _ in range(k)] for c in centre])


@pytest.mark.parametrize("name", WORKLOADS)
def test_workloads_match_python(name: str) -> None:
    w = workload(name)
    py = symback.compile(w.text)
    vec = symback.compile(w.text, backend="numpy")
    points = sample_points(random.Random(name), w.point, 5, 0.05)
    value, grad = vec.value_and_grad(*points)
    assert value.shape == (5,)
    assert len(grad) == len(w.vars) and all(g.shape == (5,) for g in grad)
    for k in range(5):
        v, g = py.value_and_grad(*points[:, k])
        assert_same(value[k], v)
        assert_same([d[k] for d in grad], list(g))
    assert_same(vec.forward(*points), [py.forward(*points[:, k]) for k in range(5)])


@pytest.mark.parametrize("name", ["seed", "rosenbrock_10", "softmax_xent_10", "product_10"])
def test_hessian_and_hvp_match_python(name: str) -> None:
    w = workload(name)
    py = symback.compile(w.text, hessian=True)
    vec = symback.compile(w.text, backend="numpy", hessian=True)
    n = len(w.vars)
    rng = random.Random(name)
    points = sample_points(rng, w.point, 3, 0.1)
    v = sample_points(rng, [0.0] * n, 3, 1.0)
    h = vec.hessian(*points)
    assert h.shape == (3, n, n)                   # batch axes first, as in JAX
    hv = vec.hvp(*points, *v)
    for k in range(3):
        assert_same(h[k], py.hessian(*points[:, k]))
        assert_same([e[k] for e in hv], list(py.hvp(*points[:, k], *v[:, k])))


PIECEWISE = [
    "where(x > y, x*y, sin(x) - y)",
    "min(x, y)**2 + max(x*z, y)",
    "abs(x - y) * sign(z) + abs(z)",
    "where(x >= 0, sqrt(x) , -x) * y",
    "hypot(x, y) + atan2(y, 2 + z*z)",
    "where(x < 0, where(y < 0, x*y, x + y), exp(-x))",
    "erf(x) * erfc(y) + cbrt(z)",
    "log(1 + x*x) + softplus(y) + sigmoid(z)",
]


@pytest.mark.parametrize("text", PIECEWISE)
def test_piecewise_match_python(text: str) -> None:
    py = symback.compile(text, wrt="x,y,z")
    vec = symback.compile(text, wrt="x,y,z", backend="numpy")
    rng = random.Random(text)
    pts = np.array([[rng.choice([-1.5, -0.3, 0.0, 0.4, 2.0]) + rng.uniform(-0.1, 0.1)
                     for _ in range(40)] for _ in range(3)])
    pts[:, :3] = [[1.0, 2.0, 0.0], [1.0, -2.0, 0.0], [0.5, 0.5, 0.5]]   # ties and zeros
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, grad = vec.value_and_grad(*pts)
    for k in range(pts.shape[1]):
        try:
            v, g = py.value_and_grad(*pts[:, k])
        except (ValueError, ZeroDivisionError):
            continue                      # python raises where numpy gives nan/inf
        assert_same(value[k], v)
        assert_same([d[k] for d in grad], list(g))


@pytest.mark.parametrize("seed", range(10))
def test_random_expressions_match_python(seed: int) -> None:
    rng = random.Random(seed)
    names = ["x", "y", "z"]
    text = random_expression(rng, names, rng.randrange(2, 10))
    py = symback.compile(text, wrt=names, hessian=True)
    vec = symback.compile(text, wrt=names, backend="numpy", hessian=True)
    pts = np.array([[rng.uniform(-1.5, 1.5) for _ in range(6)] for _ in names])
    value, grad = vec.value_and_grad(*pts)
    h = vec.hessian(*pts)
    for k in range(6):
        v, g = py.value_and_grad(*pts[:, k])
        assert_same(value[k], v, 1e-11)
        assert_same([d[k] for d in grad], list(g), 1e-11)
        assert_same(h[k], py.hessian(*pts[:, k]), 1e-10)


def test_vector_outputs_and_jacobian() -> None:
    text = "a = x*y; b = exp(x) + z; a, b, 2.0"
    py = symback.compile(text)
    vec = symback.compile(text, backend="numpy")
    x, y, z = np.linspace(0, 1, 4), np.linspace(1, 2, 4), np.ones(4)
    values, jac = vec.value_and_jacobian(x, y, z)
    assert len(values) == 3 and all(v.shape == (4,) for v in values)
    assert jac.shape == (4, 3, 3)
    np.testing.assert_array_equal(vec.jacobian(x, y, z), jac)
    for k in range(4):
        pv, pj = py.value_and_jacobian(x[k], y[k], z[k])
        assert_same([v[k] for v in values], list(pv))
        assert_same(jac[k], pj)


SHAPES = [
    ((), (), ()),
    ((5,), (5,), (5,)),
    ((3, 4), (3, 4), (3, 4)),
    ((3, 1), (1, 4), (3, 4)),
    ((5,), (), (5,)),
    ((2, 1, 3), (4, 1), (2, 4, 3)),
]


@pytest.mark.parametrize("sx,sy,shape", SHAPES)
def test_broadcast_shapes(sx: tuple, sy: tuple, shape: tuple) -> None:
    f = symback.compile("3*x + y + x**2", backend="numpy", hessian=True)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, sx) if sx else 0.25
    y = rng.uniform(-1, 1, sy) if sy else -0.5
    value, (dx, dy) = f.value_and_grad(x, y)
    assert np.shape(value) == shape and np.shape(dx) == shape and np.shape(dy) == shape
    assert isinstance(dy, (np.ndarray, np.floating))
    np.testing.assert_array_equal(dy, np.ones(shape))          # constant, still full shape
    np.testing.assert_allclose(dx, np.broadcast_to(3 + 2 * np.asarray(x), shape))
    assert f.forward(x, y).shape == shape
    assert f.hessian(x, y).shape == shape + (2, 2)
    np.testing.assert_array_equal(f.hessian(x, y)[..., 0, 0], np.full(shape, 2.0))
    assert all(np.shape(e) == shape for e in f.gradient(x, y))


def test_scalars_ints_and_lists() -> None:
    f = symback.compile("x*y + 1", backend="numpy")
    value, (dx, dy) = f.value_and_grad(2, 3)
    assert value == 7.0 and dx == 3.0 and dy == 2.0
    assert np.asarray(value).dtype == np.float64 and np.asarray(dx).dtype == np.float64
    value, (dx, dy) = f.value_and_grad([1, 2], [3, 4])
    np.testing.assert_array_equal(value, [4.0, 9.0])
    np.testing.assert_array_equal(dx, [3.0, 4.0])


def test_results_do_not_alias_inputs() -> None:
    f = symback.compile("x*y", backend="numpy")
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    dx, dy = f.gradient(x, y)
    assert not np.shares_memory(dx, y) and not np.shares_memory(dy, x)
    dx[:] = 0.0
    np.testing.assert_array_equal(y, [3.0, 4.0])
    assert dx.flags.writeable and dy.flags.writeable


def test_domain_errors_give_nan_with_warnings() -> None:
    vec = symback.compile("sqrt(x) + log(y)", backend="numpy")
    with pytest.warns(RuntimeWarning):
        value, (dx, dy) = vec.value_and_grad(np.array([-1.0, 4.0]), np.array([0.0, 1.0]))
    assert math.isnan(value[0]) and value[1] == 2.0
    assert dy[0] == math.inf
    py = symback.compile("sqrt(x) + log(y)")
    with pytest.raises(ValueError):
        py.value_and_grad(-1.0, 1.0)


def test_million_points() -> None:
    w = workload("rosenbrock_10")
    f = symback.compile(w.text, backend="numpy")
    pts = [np.full(1_000_000, p) for p in w.point]
    value, grad = f.value_and_grad(*pts)
    assert value.shape == (1_000_000,) and len(grad) == 10
    v, g = symback.compile(w.text).value_and_grad(*w.point)
    assert value[123_456] == pytest.approx(v, rel=1e-14)
    assert grad[9][999_999] == pytest.approx(g[9], rel=1e-14)


def test_erf_helpers_match_math() -> None:
    f = symback.compile("erf(x), erfc(x)", backend="numpy")
    xs = np.concatenate([np.linspace(-30, 30, 20001), np.geomspace(1e-300, 30, 3000),
                         -np.geomspace(1e-300, 30, 3000),
                         [0.0, -0.0, 0.84375, 1.25, 2.857, 6.0, 26.5, 27.3, np.inf, -np.inf]])
    erf, erfc = f.forward(xs)
    want_erf = np.array([math.erf(x) for x in xs])
    want_erfc = np.array([math.erfc(x) for x in xs])
    np.testing.assert_allclose(erf, want_erf, rtol=1e-14, atol=0)
    np.testing.assert_allclose(erfc, want_erfc, rtol=1e-14, atol=1e-300)
    e, c = f.forward(np.nan)
    assert math.isnan(e) and math.isnan(c)


def test_helpers_only_when_used() -> None:
    src = symback.compile("x*y", backend="numpy").source
    assert "_erf" not in src and "import math" not in src
    src = symback.compile("erf(x)", backend="numpy").source
    assert "def _erf(" in src and "def _erfc(" not in src and "import math" not in src


def test_erf_coefficients_are_rederivable() -> None:
    # How the helper's constants were made: Taylor coefficients of erf(x)/x in x**2, and the
    # Chebyshev fit of exp(a*a)*erfc(a)*(a+1) in y = (a-4)/(a+4), converted to powers of y.
    import mpmath as mp

    from symback.numpy_helpers import ERFC_POS
    space: dict = {"numpy": np}
    exec(ERFC_POS, space)
    mp.mp.dps = 40
    taylor = [2 / mp.sqrt(mp.pi) * (-1) ** n / (mp.factorial(n) * (2 * n + 1))
              for n in range(len(space["_ERF_SMALL"]))]
    assert [float(c) for c in taylor] == list(space["_ERF_SMALL"])
    deg, n_nodes = len(space["_ERFCX"]) - 1, 4 * (len(space["_ERFCX"]) - 1)
    ys = [mp.cos(mp.pi * (j + mp.mpf(1) / 2) / n_nodes) for j in range(n_nodes)]
    vals = [mp.exp(x * x) * mp.erfc(x) * (x + 1) for x in (4 * (1 + y) / (1 - y) for y in ys)]
    cheb = [2 * sum(v * mp.cos(mp.pi * k * (j + mp.mpf(1) / 2) / n_nodes)
                    for j, v in enumerate(vals)) / n_nodes for k in range(deg + 1)]
    cheb[0] /= 2
    powers = np.polynomial.chebyshev.cheb2poly([float(c) for c in cheb])
    np.testing.assert_allclose(powers, space["_ERFCX"], rtol=0, atol=1e-15)


def test_generated_source_imports_only_numpy() -> None:
    src = symback.compile(workload("mlp_small").text, backend="numpy", hessian=True).source
    imports = [line for line in src.splitlines() if line.startswith(("import ", "from "))]
    assert imports == ["import numpy"]


def test_source_is_byte_identical_across_hash_seeds() -> None:
    code = ("import symback, sys; sys.stdout.write(symback.compile("
            "open(sys.argv[1]).read(), backend='numpy', hessian=True).source)")
    path = str(workloads.path("softmax_xent_10"))
    outputs = set()
    for seed in ("1", "2", "random"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=str(ROOT))
        outputs.add(subprocess.run([sys.executable, "-c", code, path], env=env, check=True,
                                   capture_output=True, text=True).stdout)
    assert len(outputs) == 1


def test_cli_numpy_hessian(tmp_path: Path) -> None:
    out = tmp_path / "m.py"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "symback", "compile", "x*y**2", "--backend", "numpy",
                    "--hessian", "-o", str(out)], env=env, check=True, capture_output=True)
    space: dict = {}
    exec(compile(out.read_text(), str(out), "exec"), space)
    h = space["hessian"](np.array([1.0, 2.0]), 3.0)
    assert h.shape == (2, 2, 2)
    np.testing.assert_array_equal(h[..., 1, 1], [2.0, 4.0])


@pytest.mark.parametrize("chunk", [None, 2])
def test_every_returned_array_is_its_own(chunk) -> None:
    """x and y share one adjoint in ((x + y) * z)**2: gradient returned the same array
    twice, so writing into g[0] changed g[1]."""
    m = symback.compile("((x + y) * z)**2", backend="numpy").module
    if chunk is not None:
        m._CHUNK = chunk                                   # the chunked path too
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    for g in (m.gradient(x, 3.0, 3.0), m.value_and_grad(x, 3.0, 3.0)[1]):
        assert all(a is not b for k, a in enumerate(g) for b in g[k + 1:])
        before = [a.copy() for a in g]
        g[0][...] = -1.0
        np.testing.assert_array_equal(g[1], before[1])
        np.testing.assert_array_equal(g[2], before[2])
    value, grad = symback.compile("exp(x)", backend="numpy").value_and_grad(x)
    assert value is not grad[0]                            # d exp(x) / dx is exp(x)


def test_matrices_have_the_batch_axes_first() -> None:
    """A Jacobian is S + (outputs, inputs), a Hessian S + (inputs, inputs), as in JAX."""
    x, y = np.linspace(0.1, 1.0, 6).reshape(2, 3), 2.0
    jac = symback.compile("x*y, sin(x), x", backend="numpy").jacobian(x, y)
    assert jac.shape == (2, 3, 3, 2)
    np.testing.assert_array_equal(jac[..., 1, 0], np.cos(x))
    hess = symback.compile("x*x*y", backend="numpy", hessian=True).hessian(x, y)
    assert hess.shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(hess[..., 0, 1], 2 * x)
