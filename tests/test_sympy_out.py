"""sympy out: `symback.to_sympy` / `Compiled.sympy()` (issue 13), and the round trip
text -> to_sympy -> compile(sympy) on every workload."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import mpmath
import pytest
import sympy as sp
from oracles.workloads import SCALAR_PATHS

import symback
from symback.sympy_out import inline

try:                                    # the oracle's home: tests/oracles/ or tests/oracle.py
    from oracles import sympy_oracle as oracle
except ImportError:
    import oracle

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = SCALAR_PATHS         # sympy input has no arrays (IndexedBase) yet

SMALL = ["seed", "product_10", "rosenbrock_10", "softmax_xent_10", "mlp_small", "chain_100"]


def _load(path):
    source = symback.read_expr_file(path)
    symbols = [sp.Symbol(n, real=True) for n in source.vars]
    return source, symbols


def _close(a, b, scale, tol):
    return abs(a - b) <= tol * max(abs(b), scale)


@pytest.mark.parametrize("path", WORKLOADS, ids=[p.stem for p in WORKLOADS])
def test_workload_round_trip(path):
    """text -> compile; its to_sympy value, compiled again from sympy, has equal values and
    gradients; the to_sympy gradient, evaluated at 30 digits, is the compiled gradient."""
    source, symbols = _load(path)
    compiled = symback.compile(source.text, wrt=source.vars)
    result = compiled.sympy()
    assert len(result.gradient) == len(source.vars)
    value_expr = inline(result.replacements, result.value)
    again = symback.compile(value_expr, wrt=symbols)
    assert again.inputs == compiled.inputs
    value, grad = compiled.value_and_grad(*source.point)
    value2, grad2 = again.value_and_grad(*source.point)
    scale = max(abs(g) for g in grad)
    assert _close(value2, value, 0.0, 1e-13)
    assert all(_close(a, b, scale, 1e-13) for a, b in zip(grad2, grad))
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))         # the oracle hashes sympy trees: recursion
    try:
        ev = oracle.Evaluator(dict(zip(source.vars, source.point)))
        exact = {}
        for sym, rhs in result.replacements:           # the cse form, evaluated in order
            exact[sym.name] = ev(rhs)
            ev.point[sym.name] = exact[sym.name]
        assert _close(float(ev(result.value)), value, 0.0, 1e-12)
        for got, g in zip(result.gradient, grad):
            assert _close(float(ev(got)), g, scale, 1e-12)
    finally:
        sys.setrecursionlimit(old)


@pytest.mark.parametrize("name", SMALL)
def test_gradient_equals_sympy_diff_of_the_value(name):
    """Substituting the replacements back, the gradient is sympy.diff of the value."""
    source, symbols = _load(ROOT / "benchmarks" / "workloads" / f"{name}.expr")
    result = symback.to_sympy(source.text, wrt=source.vars)
    value = inline(result.replacements, result.value)
    grads = inline(result.replacements, result.gradient)
    mpmath.mp.dps = 30
    for k, s in enumerate(symbols[:12]):
        point = {v: p + 0.01 * k for v, p in zip(source.vars, source.point)}
        ev = oracle.Evaluator(point)
        want = ev(sp.diff(value, s))
        got = ev(grads[k])
        assert abs(got - want) <= mpmath.mpf(10) ** -24 * max(1, abs(want)), (s, got, want)


def test_named_intermediates_and_shared_nodes():
    r = symback.to_sympy("p = x + y; q = p * z; r = q**2")
    names = [s.name for s, _ in r.replacements]
    assert names[:3] == ["p", "q", "r"]
    rr = r.replacements[2][0]
    x, y, z = sp.symbols("x y z", real=True)
    assert r.replacements[0][1] == x + y and r.value == rr
    # each replacement is used at least twice, or is named; dependency order
    defined = {x, y, z}
    later = [rhs for _, rhs in r.replacements] + [r.value] + list(r.gradient)
    for k, (sym, rhs) in enumerate(r.replacements):
        assert rhs.free_symbols <= defined
        defined.add(sym)
        uses = sum(e.has(sym) for e in later[k + 1:])
        assert uses >= 2 or sym.name in ("p", "q", "r")
    assert [sp.simplify(inline(r.replacements, g) - d) for g, d in zip(
        r.gradient, [2 * (x + y) * z ** 2, 2 * (x + y) * z ** 2, 2 * (x + y) ** 2 * z])] \
        == [0, 0, 0]


def test_no_swell_on_products():
    """sympy.diff of a 100-factor product per input has 100 * 99 factors; the shared form
    stays linear in the graph."""
    text = " * ".join(f"x{i}" for i in range(100))
    compiled = symback.compile(text)
    r = compiled.sympy()
    size = sum(sp.count_ops(rhs) for _, rhs in r.replacements) + \
        sum(sp.count_ops(g) for g in r.gradient)
    assert size <= 2 * compiled.stats["value_and_grad_ops"]


def test_jacobian_and_wrt():
    r = symback.to_sympy("x*y, exp(x - y)")
    x, y = sp.symbols("x y", real=True)
    assert isinstance(r.value, list) and len(r.value) == 2
    assert len(r.gradient) == 2 and all(len(row) == 2 for row in r.gradient)
    full = inline(r.replacements, r.gradient)
    assert full[0] == [y, x]
    assert sp.simplify(full[1][0] - sp.exp(x - y)) == 0
    assert sp.simplify(full[1][1] + sp.exp(x - y)) == 0
    one = symback.to_sympy("a * x**2 + b", wrt=["x"])
    a = sp.Symbol("a", real=True)
    assert len(one.gradient) == 1 and sp.simplify(
        inline(one.replacements, one.gradient[0]) - 2 * a * sp.Symbol("x", real=True)) == 0
    zero = symback.to_sympy("x * y", wrt="x, w")
    assert zero.gradient[1] == 0


def test_sympy_input_keeps_its_symbols():
    s, t = sp.Symbol("x_{1}"), sp.Symbol("α", positive=True)
    e = sp.sin(s * t) + s
    compiled = symback.compile(e)
    r = compiled.sympy()
    assert inline(r.replacements, r.value).free_symbols == {s, t}
    grads = inline(r.replacements, r.gradient)
    assert [sp.simplify(g - e.diff(v)) for g, v in zip(grads, [s, t])] == [0, 0]
    assert symback.to_sympy(e, wrt=[t]).gradient != []
    direct = symback.to_sympy(e)
    assert direct.value == r.value


def test_deep_graph_converts_without_recursion():
    text = "x"
    for _ in range(2000):
        text = f"sin({text})"
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        r = symback.to_sympy(text)
    finally:
        sys.setrecursionlimit(old)
    assert len(r.gradient) == 1 and len(r.replacements) == 1999   # sin(...) but the output


def test_max_depth_bounds_every_formula():
    text = "x"
    for _ in range(500):
        text = f"sin({text})"
    r = symback.to_sympy(text, max_depth=10)
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        shown = [sp.sstr(rhs) for _, rhs in r.replacements] + [sp.sstr(r.gradient[0])]
    finally:
        sys.setrecursionlimit(old)
    assert max(len(t) for t in shown) < 2000
    at = {"x": 0.3}
    ev = oracle.Evaluator(at)
    for sym, rhs in r.replacements:
        ev.point[sym.name] = ev(rhs)
    v, d = 0.3, 1.0
    for _ in range(500):
        v, d = math.sin(v), d * math.cos(v)
    assert abs(float(ev(r.gradient[0])) - d) <= 1e-12 * abs(d)


def test_bad_input():
    with pytest.raises(symback.ArgumentError, match="to_sympy takes"):
        symback.to_sympy(42)
