"""The numba backend: the python program under numba.njit, and `<name>_batch` array entry
points. Skipped when numba is not installed (`pip install .[numba]`). Every numba compile
costs about a second, so the tests share a few compiled modules."""

from __future__ import annotations

import ast
import importlib.util
import math
import random

import pytest

import symback

from oracles.workloads import random_expression, workload

numba = pytest.importorskip("numba")
np = pytest.importorskip("numpy")

CASES = ["seed", "rosenbrock_10", "softmax_xent_10"]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))


@pytest.mark.parametrize("name", CASES)
def test_scalar_functions_match_the_python_backend(name):
    src = workload(name)
    py = symback.compile(src.text, wrt=src.vars)
    nb = symback.compile(src.text, wrt=src.vars, backend="numba")
    v1, g1 = py.value_and_grad(*src.point)
    v2, g2 = nb.value_and_grad(*src.point)
    assert _close(v2, v1) and all(_close(b, a) for a, b in zip(g1, g2))
    assert isinstance(v2, float) and isinstance(g2, tuple)


def test_batch_matches_scalar_calls_and_random_expressions():
    rng = random.Random(7)
    text = " + ".join(random_expression(rng, ["x", "y"], 12) for _ in range(3))
    nb = symback.compile(text, wrt=["x", "y"], backend="numba").module
    py = symback.compile(text, wrt=["x", "y"]).module
    xs = np.linspace(-1.5, 1.5, 37)
    ys = np.linspace(0.7, -0.3, 37)
    v, g = nb.value_and_grad_batch(xs, ys)
    assert v.shape == xs.shape and v.dtype == np.float64
    for k in range(len(xs)):
        v0, g0 = py.value_and_grad(float(xs[k]), float(ys[k]))
        assert _close(float(v[k]), v0)
        assert all(_close(float(g[j][k]), g0[j]) for j in range(2))
    nb._PARALLEL_WORK = 0                    # the parallel kernel: the same numbers
    try:
        vp, gp = nb.value_and_grad_batch(xs, ys)
    finally:
        nb._PARALLEL_WORK = 1_000_000
    assert np.array_equal(vp, v) and all(np.array_equal(a, b) for a, b in zip(gp, g))


def test_batch_broadcasts_and_returns_new_arrays():
    m = symback.compile("p = x + y; q = p * z; r = q**2", backend="numba").module
    x = np.arange(3.0).reshape(3, 1)
    y = np.arange(4.0).reshape(1, 4)
    v, (dx, dy, dz) = m.value_and_grad_batch(x, y, 2.0)
    assert v.shape == dx.shape == dz.shape == (3, 4)
    assert np.array_equal(v, ((x + y) * 2.0) ** 2)
    assert np.array_equal(dz, 2.0 * ((x + y) * 2.0) * (x + y))
    assert not np.shares_memory(dx, x) and dx is not dy
    f = m.forward_batch([1, 2], 3, 3)                 # lists and ints are accepted
    assert f.tolist() == [144.0, 225.0]
    assert m.gradient_batch(np.ones(0), 1.0, 1.0)[0].shape == (0,)


def test_where_is_lazy_and_division_by_zero_is_inf():
    """error_model="numpy": inf/nan instead of exceptions, as on the numpy backend; the
    branch of where that is not taken is not computed (no nan from sqrt(-4))."""
    m = symback.compile("where(x > 0, sqrt(x), -x) + 1/y", wrt=["x", "y"],
                        backend="numba").module
    assert m.value_and_grad(-4.0, 2.0) == (4.5, (-1.0, -0.25))
    v, (dx, dy) = m.value_and_grad(-4.0, 0.0)
    assert v == math.inf and dx == -1.0 and dy == -math.inf
    v, (dx, dy) = m.value_and_grad_batch(np.array([-4.0, 4.0]), 2.0)
    assert v.tolist() == [4.5, 2.5] and dx.tolist() == [-1.0, 0.25]


def test_jacobian_and_hessian_entry_points():
    jac = symback.compile("x*y, sin(x)", backend="numba").module
    assert jac.value_and_jacobian(1.0, 2.0) == ((2.0, math.sin(1.0)),
                                                ((2.0, 1.0), (math.cos(1.0), 0.0)))
    batch = jac.jacobian_batch([1.0, 2.0], 2.0)          # shape (2,) + (outputs, inputs)
    assert batch.shape == (2, 2, 2)
    assert batch[:, 1, 0].tolist() == [math.cos(1.0), math.cos(2.0)]
    hes = symback.compile("x*y*sin(x)", backend="numba", hessian=True).module
    py = symback.compile("x*y*sin(x)", hessian=True).module
    assert all(_close(a, b) for ra, rb in zip(hes.hessian(1.0, 2.0), py.hessian(1.0, 2.0))
               for a, b in zip(ra, rb))
    hv = hes.hvp_batch([1.0, 2.0], 2.0, 1.0, 0.0)
    assert _close(float(hv[0][1]), py.hvp(2.0, 2.0, 1.0, 0.0)[0])


def test_module_imports_only_numba_numpy_math():
    src = workload("softmax_xent_10")
    source = symback.compile(src.text, backend="numba").source
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        assert not isinstance(node, ast.ImportFrom)
    assert imported == {"math", "numba", "numpy"}
    assert "def value_and_grad_batch(" in source and "numba.prange" in source


def test_saved_module_is_importable_and_caches(tmp_path):
    """A module saved to a .py file turns numba's cache on (machine code in __pycache__)."""
    c = symback.compile("exp(x) * y", backend="numba", name="cached")
    path = c.save(tmp_path / "cached_expr.py")
    spec = importlib.util.spec_from_file_location("cached_expr", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod._JIT["cache"] is True
    assert mod.value_and_grad(0.0, 2.0) == (2.0, (2.0, 1.0))
    assert any((tmp_path / "__pycache__").glob("*.nbi"))
    assert c.module._JIT["cache"] is False              # compiled in memory: nothing to cache


def test_kernel_binds_arrays_before_the_loop_with_fresh_names():
    """The kernel names each input array and result row before its prange loop (_arg0,
    _out0); user names that look like those keep their meaning."""
    text = "_arg0 * _out1 + _arg0_ * exp(_out0)"
    m = symback.compile(text, backend="numba").module
    py = symback.compile(text)
    source = symback.compile(text, backend="numba").source
    loop = source.index("for _i in numba.prange", source.index("def _value_and_grad_kernel"))
    head = source[source.index("def _value_and_grad_kernel"):loop]
    assert "= _args[0]" in head and "= _out[0]" in head
    rng = np.random.default_rng(2)
    args = [rng.uniform(-1, 1, 300) for _ in range(4)]
    v, grads = m.value_and_grad_batch(*args)
    for k in (0, 151, 299):
        pv, pg = py.value_and_grad(*[a[k] for a in args])
        assert _close(v[k], pv) and all(_close(g[k], b) for g, b in zip(grads, pg))


def test_no_inputs():
    m = symback.compile("2.0 * 3", backend="numba").module
    assert m.value_and_grad() == (6.0, ())
    assert float(m.forward_batch()) == 6.0


def test_cli_offers_numba(tmp_path):
    from symback.cli import main
    out = tmp_path / "m.py"
    assert main(["compile", "x * y", "--backend", "numba", "-o", str(out)]) == 0
    assert "@numba.njit" in out.read_text()


def test_batch_layout_is_numpy_layout_and_compiled_exposes_it():
    """One layout on every backend: `<name>_batch` matrices are S + (rows, columns), the
    numpy backend's; `Compiled` gives the batch functions as attributes."""
    text = "x*y, sin(x), x"
    nb = symback.compile(text, backend="numba")
    npy = symback.compile(text, backend="numpy")
    x = np.linspace(0.1, 1.0, 6).reshape(2, 3)
    for fname in ("jacobian", "value_and_jacobian"):
        got, want = getattr(nb, f"{fname}_batch")(x, 2.0), getattr(npy, fname)(x, 2.0)
        np.testing.assert_allclose(got[-1] if fname != "jacobian" else got,
                                   want[-1] if fname != "jacobian" else want, rtol=1e-15)
    hes = symback.compile("x*x*y", backend="numba", hessian=True)
    assert hes.hessian_batch(x, 2.0).shape == (2, 3, 2, 2)
    with pytest.raises(AttributeError):
        _ = symback.compile("x").forward_batch                 # python backend: none
