"""Sparse Jacobians and Hessians (`compile(..., sparse=True)`): the pattern is the set of
derivative entries that are not identically zero, the values equal the dense derivative at
those positions, and the dense derivative is zero everywhere else. Oracles: sympy's dense
Jacobian / Hessian of the text read by sympy's own parser, hand-written derivatives of a
banded residual, and symback's dense Hessian (itself checked against sympy elsewhere)."""

from __future__ import annotations

import importlib.util
import math
import random

import pytest
import sympy as sp

import symback
from oracles.sympy_oracle import Evaluator, to_sympy
from oracles.workloads import random_expression, workload
from symback import sparse as sparse_mod

HAS_SCIPY = importlib.util.find_spec("scipy") is not None
HAS_NUMBA = importlib.util.find_spec("numba") is not None


def _value(expr: sp.Expr, names: list[str], point: list[float]) -> float:
    return float(Evaluator(dict(zip(names, point)))(expr))


def sympy_jacobian(text: str, names: list[str]) -> list[list[sp.Expr]]:
    """The dense Jacobian of the outputs of `text` (rows) by `names` (columns), by sympy."""
    symbols = [sp.Symbol(n, real=True) for n in names]
    return [[sp.diff(out, s) for s in symbols] for out in to_sympy(text, names)]


def sympy_hessian(text: str, names: list[str]) -> list[list[sp.Expr]]:
    symbols = [sp.Symbol(n, real=True) for n in names]
    (out,) = to_sympy(text, names)
    first = [sp.diff(out, s) for s in symbols]
    return [[sp.diff(first[i], symbols[j]) for j in range(len(names))]
            for i in range(len(names))]


def check_against_dense(rows: tuple, cols: tuple, values: list[float],
                        dense: list[list[sp.Expr]], names: list[str], point: list[float],
                        lower: bool = False, exact_pattern: bool = True) -> None:
    """Every value equals the dense entry at its position; every other entry (of the lower
    triangle, for a Hessian) is identically zero; positions are row-major and unique."""
    positions = list(zip(rows, cols))
    assert positions == sorted(set(positions))
    assert len(values) == len(positions)
    at = dict(zip(positions, values))
    for i, row in enumerate(dense):
        for j, entry in enumerate(row):
            if lower and j > i:
                assert (i, j) not in at
                continue
            if (i, j) in at:
                want = _value(entry, names, point)
                assert math.isclose(at[i, j], want, rel_tol=1e-9, abs_tol=1e-9), (i, j)
                if exact_pattern:
                    assert entry != 0, (i, j)          # a structural zero listed
            else:
                assert entry == 0 or _value(entry, names, point) == 0, (i, j)


@pytest.mark.parametrize("name", ["seed", "rosenbrock_10", "product_10", "softmax_xent_10"])
def test_hessian_workloads_against_sympy(name: str) -> None:
    w = workload(name)
    f = symback.compile(w.text, sparse=True, hessian=True)
    names = list(f.wrt)
    m = f.module
    values = m.hessian_values(*w.point)
    check_against_dense(m.HESSIAN_ROWS, m.HESSIAN_COLS, list(values),
                        sympy_hessian(w.text, names), names, w.point, lower=True)


@pytest.mark.parametrize("name", ["rosenbrock_100", "lennard_jones_10", "mlp_small"])
def test_hessian_workloads_against_dense(name: str) -> None:
    """Bigger workloads: against symback's dense Hessian, and its zeros are exact zeros of
    the graph (a constant 0 node) exactly where the pattern has no entry."""
    w = workload(name)
    f = symback.compile(w.text, sparse=True, hessian=True)
    d = symback.compile(w.text, hessian=True)
    h = d.hessian(*w.point)
    m = f.module
    at = dict(zip(zip(m.HESSIAN_ROWS, m.HESSIAN_COLS), m.hessian_values(*w.point)))
    assert all(j <= i for i, j in at)
    for i, row in enumerate(h):
        for j in range(i + 1):
            if (i, j) in at:
                assert math.isclose(at[i, j], row[j], rel_tol=1e-12, abs_tol=1e-12)
            else:
                assert row[j] == 0.0
    assert f.stats["hessian_values_ops"] <= d.stats["hessian_ops"]


def test_rosenbrock_pattern_and_cost() -> None:
    """Tridiagonal: 2n - 1 entries in the lower triangle, from 3 forward sweeps, and the
    values cost about a gradient, not n of them (operation counts, not timings)."""
    w = workload("rosenbrock_100")
    f = symback.compile(w.text, sparse=True, hessian=True)
    rows, cols = f.module.HESSIAN_ROWS, f.module.HESSIAN_COLS
    n = 100
    want = [(i, j) for i in range(n) for j in (i - 1, i) if j >= 0]
    assert list(zip(rows, cols)) == want
    assert f.stats["hessian_values_ops"] <= 2 * f.stats["value_and_grad_ops"]
    tridiagonal = [[j for j in (i - 1, i, i + 1) if 0 <= j < n] for i in range(n)]
    assert sparse_mod.color_columns(tridiagonal, n) == [i % 3 for i in range(n)]


def banded_text(n: int) -> str:
    """r_i = x_{i-1} - 2 x_i + x_{i+1} + 0.1 sin(x_i) x_i (x_{-1} = x_n = 0), as n
    statements, and the tuple of outputs."""
    lines = []
    for i in range(n):
        terms = [f"-2*x{i}", f"0.1*sin(x{i})*x{i}"]
        if i > 0:
            terms.insert(0, f"x{i - 1}")
        if i < n - 1:
            terms.append(f"x{i + 1}")
        lines.append(f"r{i} = " + " + ".join(terms))
    lines.append(", ".join(f"r{i}" for i in range(n)))
    return "\n".join(lines)


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_banded_residual_500(mode: str) -> None:
    n = 500
    f = symback.compile(banded_text(n), sparse=True, mode=mode)
    m = f.module
    rng = random.Random(5)
    x = [rng.uniform(-2, 2) for _ in range(n)]
    want = {}
    for i in range(n):
        if i > 0:
            want[i, i - 1] = 1.0
        want[i, i] = -2 + 0.1 * (math.cos(x[i]) * x[i] + math.sin(x[i]))
        if i < n - 1:
            want[i, i + 1] = 1.0
    assert list(zip(m.JACOBIAN_ROWS, m.JACOBIAN_COLS)) == sorted(want)
    for pos, v in zip(zip(m.JACOBIAN_ROWS, m.JACOBIAN_COLS), m.jacobian_values(*x)):
        assert math.isclose(v, want[pos], rel_tol=1e-13, abs_tol=1e-13), pos
    assert f.modes["jacobian"] == ("reverse" if mode == "reverse" else "forward")
    assert f.stats["jacobian_values_ops"] <= 8 * n          # a few per row, whatever n


def test_banded_residual_small_against_sympy() -> None:
    text = banded_text(12)
    names = [f"x{i}" for i in range(12)]
    f = symback.compile(text, sparse=True)
    point = [0.3 * i - 1.1 for i in range(12)]
    check_against_dense(f.module.JACOBIAN_ROWS, f.module.JACOBIAN_COLS,
                        list(f.jacobian_values(*point)), sympy_jacobian(text, names), names,
                        point)


def test_block_diagonal() -> None:
    """Blocks of 3 outputs over 3 inputs each: the pattern is the blocks, densely."""
    lines, outs, names = [], [], []
    for b in range(4):
        u, v, w = f"u{b}", f"v{b}", f"w{b}"
        names += [u, v, w]
        lines += [f"a{b} = {u}*{v} + exp({w})", f"b{b} = sin({u} - {w})*{v}",
                  f"c{b} = sqrt(1 + {u}**2 + {v}**2 + {w}**2)"]
        outs += [f"a{b}", f"b{b}", f"c{b}"]
    text = "\n".join(lines + [", ".join(outs)])
    f = symback.compile(text, sparse=True)
    point = [0.1 * k + 0.3 for k in range(12)]
    rows, cols = f.module.JACOBIAN_ROWS, f.module.JACOBIAN_COLS
    assert all(r // 3 == c // 3 for r, c in zip(rows, cols))
    check_against_dense(rows, cols, list(f.jacobian_values(*point)),
                        sympy_jacobian(text, names), names, point)
    # The sum of the blocks' energies: a block-diagonal Hessian.
    h_text = " + ".join(f"({o})**2" for o in [f"{u}*{v} + exp({w})" for u, v, w in
                                              zip(names[::3], names[1::3], names[2::3])])
    h = symback.compile(h_text, wrt=names, sparse=True, hessian=True)
    hr, hc = h.module.HESSIAN_ROWS, h.module.HESSIAN_COLS
    assert all(r // 3 == c // 3 for r, c in zip(hr, hc)) and len(hr) == 4 * 6
    check_against_dense(hr, hc, list(h.hessian_values(*point)), sympy_hessian(h_text, names),
                        names, point, lower=True)


@pytest.mark.parametrize("seed", range(6))
def test_random_sparse_dags(seed: int) -> None:
    """Outputs and Hessian terms that each read a random few of 10 inputs, sharing
    intermediates (named statements used by several outputs)."""
    rng = random.Random(seed)
    names = [f"x{k}" for k in range(10)]
    shared = [f"s{k} = " + random_expression(rng, rng.sample(names, 2), 3) for k in range(3)]
    outs = []
    for _ in range(6):
        pool = rng.sample(names, rng.randint(1, 3)) + rng.sample(["s0", "s1", "s2"], 1)
        outs.append(random_expression(rng, pool, 4))
    point = [rng.uniform(-1, 1) for _ in names]
    j_text = "\n".join(shared + [", ".join(outs)])
    for mode in ("forward", "reverse"):
        f = symback.compile(j_text, wrt=names, sparse=True, mode=mode)
        check_against_dense(f.module.JACOBIAN_ROWS, f.module.JACOBIAN_COLS,
                            list(f.jacobian_values(*point)), sympy_jacobian(j_text, names),
                            names, point, exact_pattern=False)
    h_text = "\n".join(shared + [" + ".join(f"({o})" for o in outs)])
    dense = sympy_hessian(h_text, names)
    for mode in ("forward", "reverse"):
        h = symback.compile(h_text, wrt=names, sparse=True, hessian=True, mode=mode)
        assert h.modes == {"hessian": mode}
        check_against_dense(h.module.HESSIAN_ROWS, h.module.HESSIAN_COLS,
                            list(h.hessian_values(*point)), dense, names, point, lower=True,
                            exact_pattern=False)


def test_structure_not_numbers() -> None:
    """An entry that is 0 at the point stays; an identically zero one never appears."""
    f = symback.compile("x*y + z**3 + 2*x", sparse=True, hessian=True)
    m = f.module
    assert list(zip(m.HESSIAN_ROWS, m.HESSIAN_COLS)) == [(1, 0), (2, 2)]
    assert m.hessian_values(1.0, 2.0, 0.0) == (1.0, 0.0)
    lin = symback.compile("3*x + y", sparse=True, hessian=True)
    assert lin.module.HESSIAN_ROWS == () and lin.module.hessian_values(1, 2) == ()
    j = symback.compile("x*y, 2.0, x - x", sparse=True)
    assert list(zip(j.module.JACOBIAN_ROWS, j.module.JACOBIAN_COLS)) == [(0, 0), (0, 1)]
    assert j.module.jacobian_values(0.0, 0.0) == (0.0, 0.0)


def test_deterministic() -> None:
    text = banded_text(30)
    assert symback.compile(text, sparse=True).source == symback.compile(text, sparse=True).source


def test_numpy_backend_shapes() -> None:
    text = banded_text(8)
    py = symback.compile(text, sparse=True)
    npf = symback.compile(text, sparse=True, backend="numpy")
    import numpy
    rng = numpy.random.default_rng(1)
    xs = [rng.uniform(-1, 1, (4, 3)) for _ in range(8)]
    vals = npf.jacobian_values(*xs)
    assert vals.shape == (4, 3, len(py.module.JACOBIAN_ROWS))
    for a in range(4):
        for b in range(3):
            want = py.jacobian_values(*[float(x[a, b]) for x in xs])
            assert numpy.allclose(vals[a, b], want, rtol=1e-14, atol=0)
    big = [numpy.full(40000, 0.25 * k) for k in range(8)]         # the chunked path
    assert npf.jacobian_values(*big).shape == (40000, len(py.module.JACOBIAN_ROWS))
    assert npf.jacobian_values(*[0.5] * 8).shape == (len(py.module.JACOBIAN_ROWS),)
    h = symback.compile("x*y + z**3 + 2*x", sparse=True, hessian=True, backend="numpy")
    assert h.hessian_values([1.0, 2.0], 2.0, [0.0, 1.0]).tolist() == [[1.0, 0.0], [1.0, 6.0]]


@pytest.mark.skipif(not HAS_NUMBA, reason="numba is not installed")
def test_numba_backend() -> None:
    import numpy
    h = symback.compile("x*y + z**3 + 2*x", sparse=True, hessian=True, backend="numba")
    assert h.hessian_values(1.0, 2.0, 1.0) == (1.0, 6.0)
    assert h.hessian_values_batch(numpy.array([1.0, 2.0]), 2.0, 1.0).tolist() == \
        [[1.0, 6.0], [1.0, 6.0]]


@pytest.mark.skipif(not HAS_SCIPY, reason="scipy is not installed")
def test_scipy_matrices() -> None:
    import numpy
    w = workload("rosenbrock_10")
    f = symback.compile(w.text, sparse=True, hessian=True)
    d = symback.compile(w.text, hessian=True)
    hs = f.hessian_sparse(*w.point)
    assert hs.shape == (10, 10) and hs.nnz == 28
    assert numpy.allclose(hs.toarray(), numpy.array(d.hessian(*w.point)), rtol=1e-14, atol=0)
    assert (f.hessian_sparsity().toarray() != 0).tolist() == (hs.toarray() != 0).tolist()
    j = symback.compile(banded_text(6), sparse=True)
    js = j.jacobian_sparse(*range(6))
    assert js.shape == (6, 6) and js.nnz == 16
    assert j.jacobian_sparsity().nnz == 16
    n = symback.compile(banded_text(6), sparse=True, backend="numpy")
    with pytest.raises(symback.errors.ArgumentError, match="one point"):
        n.jacobian_sparse(*[[0.0, 1.0]] * 6)


def test_errors() -> None:
    with pytest.raises(symback.errors.ArgumentError, match="several outputs"):
        symback.compile("x*y", sparse=True)
    with pytest.raises(symback.errors.ArgumentError, match="sparse must be"):
        symback.compile("x*y, x", sparse="yes")
    with pytest.raises(symback.errors.ArgumentError, match="one output"):
        symback.compile("x*y, x", sparse=True, hessian=True)
    dense = symback.compile("x*y", hessian=True)
    with pytest.raises(symback.errors.MissingFunctionError, match="sparse=True"):
        dense.hessian_sparse(1, 2)
    with pytest.raises(symback.errors.MissingFunctionError):
        dense.hessian_values(1, 2)


def test_cli(tmp_path) -> None:
    import subprocess
    import sys
    out = tmp_path / "band.py"
    src = tmp_path / "band.expr"
    src.write_text(banded_text(5))
    subprocess.run([sys.executable, "-m", "symback", "compile", "-f", str(src), "--sparse",
                    "-o", str(out)], check=True, capture_output=True)
    text = out.read_text()
    assert "JACOBIAN_ROWS = (0, 0, 1, 1, 1," in text and "def jacobian_values(" in text


class _Rosenbrock:
    """The README's cyipopt problem class (unconstrained, m = 0)."""

    def __init__(self, n):
        import numpy
        self.np = numpy
        xs = [f"x{i}" for i in range(n)]
        text = " + ".join(f"100*({xs[i + 1]} - {xs[i]}**2)**2 + (1 - {xs[i]})**2"
                          for i in range(n - 1))
        self.f = symback.compile(text, wrt=xs, hessian=True, sparse=True)

    def objective(self, x):
        return self.f.forward(*x)

    def gradient(self, x):
        return self.np.array(self.f.gradient(*x))

    def constraints(self, x):
        return self.np.zeros(0)

    def jacobian(self, x):
        return self.np.zeros(0)

    def jacobianstructure(self):
        return self.np.zeros(0, int), self.np.zeros(0, int)

    def hessianstructure(self):
        return self.f.module.HESSIAN_ROWS, self.f.module.HESSIAN_COLS

    def hessian(self, x, lagrange, obj_factor):
        return obj_factor * self.np.array(self.f.hessian_values(*x))


def test_ipopt_problem_class() -> None:
    """The triplets IPOPT gets are the lower triangle of the dense Hessian (checked without
    cyipopt); with cyipopt installed, IPOPT solves the problem."""
    n = 12
    p = _Rosenbrock(n)
    x = [0.1 * k - 0.4 for k in range(n)]
    dense = symback.compile(p.f.expression.text, wrt=list(p.f.wrt), hessian=True).hessian(*x)
    rows, cols = p.hessianstructure()
    got = p.hessian(x, [], 2.0)
    assert len(rows) == 2 * n - 1
    for r, c, v in zip(rows, cols, got):
        assert c <= r and v == 2.0 * dense[r][c]


def test_ipopt_solves() -> None:
    cyipopt = pytest.importorskip("cyipopt")
    import numpy
    n = 20
    nlp = cyipopt.Problem(n=n, m=0, problem_obj=_Rosenbrock(n), lb=[-5.0] * n, ub=[5.0] * n)
    nlp.add_option("print_level", 0)
    x, info = nlp.solve(numpy.zeros(n))
    assert numpy.allclose(x, 1.0, atol=1e-6), info
