"""sympy in: `symback.compile(sympy_expr)` against sympy's exact derivatives (issue 13)."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.codegen import cfunctions as cf

import symback

try:                                    # the oracle's home: tests/oracles/ or tests/oracle.py
    from oracles import sympy_oracle as oracle
except ImportError:
    import oracle

x, y, z = sp.symbols("x y z", real=True)
NAMES = ["x", "y", "z"]


def _check(expr, point, wrt=(x, y, z), tol=1e-12, floor=1e-300):
    """compile(expr) at `point` against the 30-digit oracle; returns the compiled. Errors
    are relative to the largest gradient component (at least `floor`: float64 cannot
    resolve a result that cancels far below its terms)."""
    f = symback.compile(expr, wrt=list(wrt))
    names = [s.name for s in wrt]
    at = dict(zip(names, point))
    exact_value, exact_grad = oracle.gradient(expr, names, at)
    value, grad = f.value_and_grad(*point)
    scale = max([abs(float(g)) for g in exact_grad] + [floor])
    assert oracle.rel_error(value, exact_value, floor) <= tol, (value, exact_value)
    for got, want in zip(grad, exact_grad):       # as the docstring says: against `scale`
        assert float(abs(mpmath.mpf(got) - want)) <= tol * scale, (grad, exact_grad)
    return f


def test_seed():
    f = symback.compile(((x + y) * z) ** 2)
    assert f.value_and_grad(1, 3, 3) == (144.0, (72.0, 72.0, 96.0))
    assert f.inputs == ("x", "y", "z") and f.outputs == ("f",)
    assert "sympy: z**2*(x + y)**2" in f.source


def test_string_input_does_not_import_sympy():
    code = "import sys, symback; symback.compile('x*y'); print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


# --- random expressions (hypothesis) against sympy.diff at 30 digits -----------------------

UNARY = [sp.sin, sp.cos, sp.tanh, sp.atan, sp.asinh, sp.erf, lambda a: -a,
         lambda a: sp.exp(sp.sin(a)), lambda a: sp.sqrt(1 + a ** 2),
         lambda a: sp.log(1 + a ** 2), lambda a: sp.log(2 + a ** 2, 3), lambda a: a ** 3,
         lambda a: (1 + a ** 2) ** sp.Rational(1, 3), lambda a: (2 + sp.sin(a)) ** -2,
         lambda a: a / 3, lambda a: 1 / (1 + a ** 2), lambda a: sp.Rational(-5, 7) * a]
BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
          lambda a, b: a / (1 + b ** 2), lambda a, b: sp.atan2(a, 2 + b ** 2),
          lambda a, b: (1 + a ** 2) ** sp.sin(b), lambda a, b: a * (1 + b ** 2) ** -1 / (2 + sp.cos(a)),
          lambda a, b: sp.Add(a, b, a * b, 2 * a, -3 * b)]


@st.composite
def sympy_programs(draw):
    """A random sympy expression over x, y, z whose subexpressions are reused (shared)."""
    pool = [x, y, z]
    for _ in range(draw(st.integers(2, 6))):
        if draw(st.booleans()):
            fn = draw(st.sampled_from(UNARY))
            pool.append(fn(draw(st.sampled_from(pool))))
        else:
            fn = draw(st.sampled_from(BINARY))
            pool.append(fn(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))))
    return pool[-1] + pool[-2] * pool[-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sympy_programs(), st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_sympy_expressions_against_diff(expr, point):
    if expr.has(sp.zoo, sp.oo, sp.nan):      # sympy folded a division by zero
        return
    try:
        exact_value, _ = oracle.gradient(expr, NAMES, dict(zip(NAMES, point)))
    except (ValueError, ZeroDivisionError):
        return
    if not mpmath_finite(exact_value) or abs(exact_value) > 1e12:
        return
    _check(expr, point, tol=1e-9, floor=1.0)


def mpmath_finite(v):
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError, OverflowError):
        return False


# --- deep, wide, shared ------------------------------------------------------------------------

def test_deep_expression_converts_without_recursion():
    e = x
    for _ in range(10_000):
        e = sp.sin(e, evaluate=False)       # built bottom-up, never printed or evaluated
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(300)              # far below what a recursive walk would need
    try:
        f = symback.compile(e)
    finally:
        sys.setrecursionlimit(old)
    v, d = 0.7, 1.0
    for _ in range(10_000):
        d *= math.cos(v)
        v = math.sin(v)
    value, (grad,) = f.value_and_grad(0.7)
    assert value == pytest.approx(v, rel=1e-12) and grad == pytest.approx(d, rel=1e-9)
    assert f.stats["forward_ops"] == 10_000
    assert "too large to print" in f.source


def test_wide_add_of_10000_terms():
    e = sp.Add(*[sp.sin(k * x) for k in range(1, 10_001)])
    f = symback.compile(e)
    value, (grad,) = f.value_and_grad(0.3)
    assert value == pytest.approx(math.fsum(math.sin(k * 0.3) for k in range(1, 10_001)),
                                  abs=1e-9)
    assert grad == pytest.approx(math.fsum(k * math.cos(k * 0.3) for k in range(1, 10_001)),
                                 rel=1e-9)


def test_shared_subtrees_stay_shared():
    # a DAG whose tree has 2**40 leaves: one node per level in the graph
    e = x + y
    for _ in range(40):
        e = sp.Mul(sp.sin(e, evaluate=False), sp.cos(e, evaluate=False), evaluate=False)
    f = symback.compile(e)
    assert f.stats["forward_ops"] == 1 + 3 * 40
    shared = (x + y) ** 2
    f = symback.compile(sp.sin(shared) + sp.cos(shared) + sp.exp(shared))
    ops = f.expression.graph.ops
    assert ops.count("powi") + ops.count("exp") + ops.count("sin") == 3   # one node each
    text = symback.compile("p = (x + y)**2; cos(p) + exp(p) + sin(p)")  # sympy's order
    assert f.stats["forward_ops"] == text.stats["forward_ops"] == 7


# --- functions ---------------------------------------------------------------------------------

@pytest.mark.parametrize("expr", [
    sp.Piecewise((x ** 2, x > 1), (sp.sin(y), x < -1), (x * y, True)),
    sp.Piecewise((x * y, sp.And(x > 0, y < 1)), (sp.exp(x), sp.Or(x < -1, sp.Not(y > 2))),
                 (z, True)),
    sp.Piecewise((x, sp.Ge(x, y)), (y, sp.Le(y, z)), (z - x, sp.Eq(x, 0)), (2 * z, True)),
    sp.Min(x, y, z) + 2 * sp.Max(x, y * z, 0.25),
    sp.log(2 + x ** 2, 3) + sp.log(3 + y ** 2, sp.E) + sp.log(z ** 2 + 1, 10),
    sp.Abs(x - y) + sp.sign(y - z) * x,
    sp.sqrt(1 + x ** 2) * (1 + y ** 2) ** sp.Rational(-1, 2) + (2 + z) ** sp.Rational(3, 2),
    sp.sinh(x) + sp.cosh(y) + sp.tan(z) + sp.asin(x / 3) + sp.acos(y / 3) + sp.atanh(z / 3),
    sp.acosh(2 + x ** 2) + sp.erfc(y) + sp.pi * x + sp.E * y + sp.Float("0.125") * z,
])
@pytest.mark.parametrize("point", [(0.4, 0.7, -0.3), (-1.6, 2.5, 0.9), (1.7, -0.4, 0.2)])
def test_functions_against_diff(expr, point):
    _check(expr, point)


def test_heaviside_at_zero_and_piecewise_without_otherwise():
    f = symback.compile([sp.Heaviside(x), sp.Heaviside(x, 1), sp.Heaviside(x, 0)])
    assert f.forward(0.0) == (0.5, 1.0, 0.0)
    assert f.forward(-2.0) == (0.0, 0.0, 0.0) and f.forward(3.0) == (1.0, 1.0, 1.0)
    h = symback.compile(sp.Heaviside(x - 0.1) * y + sp.Heaviside(y, 1) * z, wrt=[x, y, z])
    assert h.value_and_grad(0.4, 0.7, -0.3) == (0.7 - 0.3, (0.0, 1.0, 1.0))
    assert h.value_and_grad(-1.6, 2.5, 0.9) == (0.9, (0.0, 0.0, 1.0))
    g = symback.compile(sp.Piecewise((x, x > 0)))          # undefined elsewhere: nan
    assert g.forward(2.0) == 2.0 and math.isnan(g.forward(-1.0))


def test_principal_root_stays_a_power():
    # sympy's x**(1/3) is the principal root: not real for x < 0 (cbrt would be -2 at -8)
    f = symback.compile(x ** sp.Rational(1, 3))
    assert f.forward(8.0) == pytest.approx(2.0)
    with pytest.raises(ValueError):
        f.forward(-8.0)
    assert symback.compile(cf.Cbrt(x)).forward(-8.0) == pytest.approx(-2.0)


def test_codegen_cfunctions():
    exprs = [cf.log1p(x), cf.expm1(x), cf.log2(y), cf.log10(y), cf.exp2(x), cf.Cbrt(y),
             cf.Sqrt(y), cf.hypot(x, y), cf.fma(x, y, 2)]
    f = symback.compile(exprs, wrt=[x, y])
    a, b = 0.3, 2.5
    assert f.forward(a, b) == pytest.approx(
        (math.log1p(a), math.expm1(a), math.log2(b), math.log10(b), 2 ** a, b ** (1 / 3),
         math.sqrt(b), math.hypot(a, b), a * b + 2), rel=1e-15)
    jac = f.jacobian(a, b)
    assert jac[0] == pytest.approx((1 / (1 + a), 0.0)) and jac[4][0] == pytest.approx(
        math.log(2) * 2 ** a)


def test_division_is_written_as_division():
    f = symback.compile(x / 3 + x * y ** -1)
    assert "x / 3.0" in f.source and "x / y" in f.source
    assert f.forward(1.0, 7.0) == 1.0 / 3.0 + 1.0 / 7.0


# --- errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, name", [
    (sp.gamma(x), "'gamma'"),
    (sp.Function("g")(x) + 1, "'g'"),
    (sp.floor(x), "'floor'"),
    (sp.Integral(x, (x, 0, 1)) * y, "'Integral'"),
    (sp.besselj(0, x), "'besselj'"),
    (x + sp.I, "'ImaginaryUnit'"),
])
def test_unsupported_functions_are_named(expr, name):
    with pytest.raises(symback.ArgumentError) as info:
        symback.compile(expr)
    assert f"{name} is not supported by symback (supported: Abs, Add" in info.value.message


@pytest.mark.parametrize("expr, words", [
    (x + sp.oo, "oo is not a finite real number"),
    (x * sp.zoo, "zoo is not a finite real number"),
    (x > 0, "output f is a condition"),
    (x + sp.Integer(10) ** 400, "too large for a float"),
])
def test_bad_values(expr, words):
    with pytest.raises(symback.ArgumentError, match=words):
        symback.compile(expr)


def test_size_limit_and_determinism():
    with pytest.raises(symback.LimitError):
        symback.compile(sp.Add(*[sp.sin(k * x) for k in range(1, 100)]), max_nodes=50)
    code = ("import sympy, symback, hashlib; a = sympy.symbols('b a x_{2} \u03b1 c1 c10 c2');"
            "e = sympy.Piecewise((a[0] * a[1], a[2] > a[3]), (sympy.Max(*a), True))"
            " + sympy.Min(*a[3:]) * sympy.exp(sum(a));"
            "print(hashlib.sha256(symback.compile(e).source.encode()).hexdigest())")
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("0", "1", "12345")}
    assert len(outs) == 1


def test_bad_list_items_and_wrt():
    with pytest.raises(symback.ArgumentError, match="cannot hold str"):
        symback.compile([x, "y"])
    with pytest.raises(symback.ArgumentError, match="listed twice"):
        symback.compile(x * y, wrt=[x, "x"])
    with pytest.raises(symback.ArgumentError, match="Symbols or names"):
        symback.compile(x * y, wrt=[x + y])


# --- names, inputs, outputs --------------------------------------------------------------------

def test_non_identifier_symbol_names():
    s1, alpha, prime, lam = sp.Symbol("x_{1}"), sp.Symbol("α"), sp.Symbol("x'"), \
        sp.Symbol("lambda")
    sin_, dummy = sp.Symbol("sin"), sp.Dummy("x_{1}")
    f = symback.compile(s1 * alpha + prime * lam + sin_ + 2 * dummy,
                        wrt=[s1, alpha, prime, lam, sin_, dummy])
    assert f.inputs == ("x_1", "alpha", "x_prime", "lambda_", "sin_", "x_1_2")
    assert f.module.INPUTS == f.inputs
    assert "input x_1 = sympy Symbol('x_{1}')" in f.source
    assert "input alpha = sympy Symbol('\\u03b1')" in f.source
    assert "input x_1_2 = sympy Dummy('x_{1}')" in f.source
    assert f.value_and_grad(2, 3, 5, 7, 11, 13) == (2 * 3 + 5 * 7 + 11 + 26,
                                                     (3.0, 2.0, 7.0, 5.0, 1.0, 2.0))
    same_name = symback.compile(sp.Symbol("x") + 2 * sp.Symbol("x", positive=True))
    assert same_name.inputs == ("x", "x_2")
    assert symback.compile(sp.Symbol("2x") + sp.Symbol("__a")).inputs == ("v_2x", "a")


def test_input_order_and_wrt():
    a = sp.symbols("a2 a10 a1")
    assert symback.compile(sum(a)).inputs == ("a1", "a2", "a10")     # natural order
    f = symback.compile(x * y + z, wrt=[z, "x"])
    assert f.inputs == ("z", "x", "y") and f.wrt == ("z", "x")
    assert f.gradient(1, 2, 3) == (1.0, 3.0)
    g = symback.compile(x * y, wrt="y, q")                          # q does not occur: 0
    assert g.inputs == ("y", "q", "x") and g.gradient(2, 5, 3) == (3.0, 0.0)


def test_matrix_and_lists():
    m = sp.Matrix([[x * y, y], [sp.exp(x), z]])
    f = symback.compile(m, wrt=[x, y, z])
    assert f.outputs == ("f0_0", "f0_1", "f1_0", "f1_1")
    assert f.jacobian(1.0, 2.0, 3.0) == ((2.0, 1.0, 0.0), (0.0, 1.0, 0.0),
                                         (math.e, 0.0, 0.0), (0.0, 0.0, 1.0))
    col = symback.compile(sp.Matrix([x * y, x + y]))
    assert col.outputs == ("f0", "f1") and col.jacobian(2.0, 3.0) == ((3.0, 2.0), (1.0, 1.0))
    lst = symback.compile((x ** 2, 3, 0.5 * x))
    assert lst.forward(2.0) == (4.0, 3.0, 1.0)
    assert symback.compile(sp.ImmutableMatrix([[x, x ** 2]])).outputs == ("f0", "f1")


def test_wrt_warning_names_only_symbols_that_do_not_occur():
    import warnings
    x, y = sp.symbols("x y")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        symback.compile(2 * x / (sp.sin(2 * x) + 2) ** 2, wrt=[x, y], cache=False)
    messages = [str(w.message) for w in caught if isinstance(w.message, symback.SymbackWarning)]
    assert len(messages) == 1 and "'y' does not occur" in messages[0], messages
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        symback.compile(sp.exp(x) * x, wrt=[x], cache=False)
    assert not [w for w in caught if isinstance(w.message, symback.SymbackWarning)]
