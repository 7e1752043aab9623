"""The optimizer passes (symback/optimize.py and the table's simplifications): each one
preserves values, and the printed program stays short, flat and counted consistently."""

from __future__ import annotations

import ast
import math
import random

import pytest

import symback
from symback import optimize, render
from symback.ops import OPS
from symback.printers import ATOM, PythonPrinter

from oracles.workloads import random_expression, workload

WORKLOAD_NAMES = ["seed", "chain_100", "product_100", "rosenbrock_10", "lennard_jones_10",
                  "mlp_small", "softmax_xent_10"]


@pytest.fixture
def no_inline(monkeypatch):
    """Compile on the python backend with inlining switched off (the reference)."""
    def compile_plain(*args, **kwargs):
        plain = type("PlainPython", (PythonPrinter,), {"inline": False})
        with monkeypatch.context() as m:
            m.setitem(render.PRINTERS, "python", plain)
            return symback.compile(*args, **kwargs)
    return compile_plain


_BUILTIN_OPS = ("abs", "min", "max")


def _count_ops(node: ast.AST) -> int:
    """Binary operators, unary minus, math calls and abs/min/max, as the benchmark runner
    counts them."""
    n = 0
    for sub in ast.walk(node):
        if isinstance(sub, ast.BinOp) or (isinstance(sub, ast.UnaryOp)
                                          and isinstance(sub.op, ast.USub)
                                          and not isinstance(sub.operand, ast.Constant)):
            n += 1
        elif isinstance(sub, ast.Call) and (isinstance(sub.func, ast.Attribute)
                                            or getattr(sub.func, "id", "") in _BUILTIN_OPS):
            n += 1
    return n


def _function(source: str, name: str) -> ast.FunctionDef:
    return next(f for f in ast.parse(source).body
                if isinstance(f, ast.FunctionDef) and f.name == name)


def _depth(node: ast.AST) -> int:
    """Nesting depth of operations in an expression (a name or number is 0)."""
    best = 0
    stack = [(node, 0)]
    while stack:
        sub, d = stack.pop()
        if isinstance(sub, ast.UnaryOp) and isinstance(sub.operand, ast.Constant):
            continue                                      # a negative literal
        if isinstance(sub, (ast.BinOp, ast.UnaryOp, ast.Call)):
            d += 1
        best = max(best, d)
        stack.extend((child, d) for child in ast.iter_child_nodes(sub))
    return best


# --- values are preserved ---------------------------------------------------------------------

@pytest.mark.parametrize("name", WORKLOAD_NAMES)
def test_inlining_gives_bit_identical_results(name, no_inline):
    src = workload(name)
    inlined = symback.compile(src.text, wrt=src.vars)
    plain = no_inline(src.text, wrt=src.vars)
    assert inlined.source != plain.source or name == "seed"
    rng = random.Random(name)
    for _ in range(5):
        point = [p + rng.uniform(-0.05, 0.05) for p in src.point]
        assert inlined.value_and_grad(*point) == plain.value_and_grad(*point)
        assert inlined.forward(*point) == plain.forward(*point)


def test_inlining_random_expressions_bit_identical(no_inline):
    rng = random.Random(6)
    for trial in range(60):
        text = random_expression(rng, ["x", "y", "z"], rng.randrange(3, 25))
        inlined = symback.compile(text, wrt=["x", "y", "z"], hessian=trial % 4 == 0)
        plain = no_inline(text, wrt=["x", "y", "z"], hessian=trial % 4 == 0)
        for _ in range(3):
            point = [rng.uniform(-1.5, 1.5) for _ in range(3)]
            assert _same(inlined.value_and_grad(*point), plain.value_and_grad(*point)), text
            if trial % 4 == 0:
                assert _same(inlined.hessian(*point), plain.hessian(*point)), text


def _same(a, b) -> bool:
    """Equal, nan equal to nan, nested tuples compared item by item."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if isinstance(x, tuple):
            if not isinstance(y, tuple) or len(x) != len(y):
                return False
            stack.extend(zip(x, y))
        elif not (x == y or (math.isnan(x) and math.isnan(y))):
            return False
    return True


def test_parentheses_where_precedence_needs_them(no_inline):
    """Left-associative operators keep parentheses on the right (float + is not
    associative); powers of negated or multiplied operands are parenthesised."""
    text = "a - (b - c) + (a*b) / (c*a) - (b + c)**3 + (-(a*c))**3 + exp(a - b) ** 2"
    inlined = symback.compile(text, wrt=["a", "b", "c"])
    plain = no_inline(text, wrt=["a", "b", "c"])
    for point in ([1.0, 1e16, -1.0], [0.3, -0.7, 1.9], [-2.0, 0.5, 0.25]):
        assert inlined.value_and_grad(*point) == plain.value_and_grad(*point)


def test_where_keeps_lazy_branches():
    """A branch of `where` is still computed only when taken: no sqrt or log of a negative."""
    f = symback.compile("where(x > 0, sqrt(x) * log(x) + y, -x * y)", wrt=["x", "y"])
    assert f.value_and_grad(-4.0, 2.0) == (8.0, (-2.0, 4.0))
    v, (dx, dy) = f.value_and_grad(4.0, 2.0)
    assert v == math.sqrt(4.0) * math.log(4.0) + 2.0
    assert dx == pytest.approx((math.log(4.0) + 2.0) / (2.0 * math.sqrt(4.0)))


def test_square_is_a_product_bit_identical():
    f = symback.compile("x**2 + y**3", wrt=["x", "y"])
    assert "x * x" in f.source and "x ** 2" not in f.source
    rng = random.Random(2)
    for _ in range(200):
        x = rng.uniform(-1e3, 1e3) * 10 ** rng.randrange(-100, 100)
        assert f.forward(x, 0.0) == x ** 2
    assert f.forward(1e200, 0.0) == math.inf        # overflow is inf, as for any product
    assert f.forward(math.nan, 0.0) != f.forward(math.nan, 0.0)


def test_pow_rewrites_of_the_table_are_kept():
    f = symback.compile("x**0.5 + y**-1", wrt=["x", "y"])
    body = "\n".join(f.source.splitlines())
    assert "math.sqrt(x)" in body and "1.0 / y" in body and "math.pow" not in body
    assert f.value_and_grad(4.0, 2.0) == (2.5, (0.25, -0.25))


def test_negations_cancel_along_a_chain():
    """sin(cos(sin(...))): cos' = -sin, and the negations cancel in pairs."""
    src = workload("chain_100")
    f = symback.compile(src.text, wrt=src.vars)
    vg = _function(f.source, "value_and_grad")
    negs = sum(isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub) for n in ast.walk(vg))
    assert negs == 0
    assert f.stats["value_and_grad_ops"] <= 3 * f.stats["forward_ops"]


@pytest.mark.parametrize("text", ["x * (-y)", "(-x) * y", "(-x) * (-y)", "x / (-y)",
                                  "(-x) / y", "(-x) / (-y)"])
def test_negation_hoisting_is_exact(text):
    f = symback.compile(text, wrt=["x", "y"])
    reference = symback.compile(text.replace("(-x)", "(0 - x)").replace("(-y)", "(0 - y)"),
                                wrt=["x", "y"])
    specials = [0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, 1e-310, 3.0e300]
    for x in specials:
        for y in specials:
            try:
                want = eval(text, {"x": x, "y": y})        # test-owned text, plain floats
            except ZeroDivisionError:
                continue
            got = f.forward(x, y)
            assert got == want or (math.isnan(got) and math.isnan(want))
            assert math.copysign(1.0, got) == math.copysign(1.0, want) or math.isnan(want)
    assert reference.forward(1.5, 2.0) == f.forward(1.5, 2.0)


# --- dead code --------------------------------------------------------------------------------

def test_dead_code_is_removed():
    f = symback.compile("unused = exp(x) * 3; a = sin(x); b = a * y; b + x*0", wrt=["x", "y"])
    for fname in ("forward", "gradient", "value_and_grad"):
        body = ast.unparse(_function(f.source, fname))
        assert "exp" not in body and "unused" not in body and "* 3" not in body
    fwd = _function(f.source, "forward")
    assert "cos" not in ast.unparse(fwd)              # gradient-only nodes stay out of forward
    assert f.stats["forward_ops"] == 4                # sin, *, x*0, +


# --- shape of the printed program -------------------------------------------------------------

@pytest.mark.parametrize("name", WORKLOAD_NAMES + ["rosenbrock_100"])
def test_lines_are_short_and_op_counts_agree(name):
    src = workload(name)
    f = symback.compile(src.text, wrt=src.vars)
    for fname in ("forward", "gradient", "value_and_grad"):
        fn = _function(f.source, fname)
        assert _count_ops(fn) == f.stats[f"{fname}_ops"]        # ops, not lines, are counted
        for stmt in fn.body:
            if isinstance(stmt, ast.Assign):
                assert _count_ops(stmt.value) <= optimize.MAX_OPS
                assert _depth(stmt.value) <= optimize.MAX_DEPTH


def test_names_stay_lines_of_their_own():
    f = symback.compile("p = x + y; q = p * z; r = q**2", wrt=["x", "y", "z"])
    vg = ast.unparse(_function(f.source, "value_and_grad"))
    for line in ("p = x + y", "q = p * z", "r = q * q", "d_q = 2.0 * q", "d_p = d_q * z"):
        assert line in vg


def test_adjoint_sums_are_one_nary_line():
    """x is used by four terms: its adjoint is one sum, not a chain of temporaries."""
    f = symback.compile("sin(x) * y + cos(x) * z + x * y * z + exp(x)", wrt=["x", "y", "z"])
    for fname in ("gradient", "value_and_grad"):
        body = ast.unparse(_function(f.source, fname)).splitlines()
        lines = [ln.strip() for ln in body if ln.strip().startswith("d_x = ")]
        assert len(lines) == 1 and lines[0].count(" + ") + lines[0].count(" - ") >= 3
    v, g = f.value_and_grad(0.5, 2.0, 3.0)
    assert g[0] == pytest.approx(math.cos(0.5) * 2 - math.sin(0.5) * 3 + 6 + math.exp(0.5))


def test_spelling_precedences_are_data():
    """Every spelling either takes an inlined operand safely or refuses it: slots printed
    more than once or inside a conditional take none, calls take whole arguments."""
    py = PythonPrinter.spellings
    assert py["sin"].slots == (0,) and py["sin"].precedence == ATOM
    assert py["sub"].slots == (1, 2)
    assert py["sigmoid"].slots == (None,)                  # printed 3 times
    assert py["where"].slots == (None, None, None)         # branches are lazy
    assert py["atan2"].precedence == ATOM and py["lt"].precedence == 0
    for printer in render.PRINTERS.values():
        for name, spelling in printer.spellings.items():
            assert len(spelling.slots) == OPS[name].arity
            for k, need in enumerate(spelling.slots):
                text = "{%d}" % k
                assert need is None or (0 <= need <= ATOM and spelling.text.count(text) == 1)


def test_generated_source_is_deterministic():
    src = workload("lennard_jones_10")
    assert symback.compile(src.text).source == symback.compile(src.text).source


@pytest.mark.parametrize("text", ["100 * (2 * x)", "-(2 * x)", "3 * (4 * x)", "-3 * (8 * x)",
                                  "0.25 * (2 * x)", "3 * (0.5 * x)", "-(x * 3)"])
def test_constant_scaling_folds_only_when_exact(text):
    f = symback.compile(text, wrt=["x"])
    specials = [0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, math.nan, 5e-324, 2.5e-310,
                1.7e308, -8.9e307, 1e-300, 0.1]
    for x in specials:
        want = eval(text, {"x": x})                        # test-owned text, plain floats
        got = f.forward(x)
        assert got == want or (math.isnan(got) and math.isnan(want)), (text, x)
        assert math.copysign(1.0, got) == math.copysign(1.0, want) or math.isnan(want)


def test_scaled_squares_fold():
    """100*u**2 differentiates to 200*u, one op (not 100 * (2*u))."""
    f = symback.compile("100 * (y - x**2)**2", wrt=["x", "y"])
    assert "200.0 * " in f.source and "100.0 * (2.0" not in f.source
