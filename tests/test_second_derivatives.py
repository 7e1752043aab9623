"""Second derivatives of every rule at special points (issue 9, part 2).

test_ops.py checks each rule's first partials in the interior of its domain; the Hessian is
the derivative of those rules, and it is where a rule written for the first derivative can be
wrong at special points: pow's base partial `y * x**(where(y == 0, 1, y) - 1)` is right at
y = 0 but its y-derivative there is not (the `where` freezes the exponent), so
`pow(x, y)` at (4, 0) had d2/dxdy = 1 instead of x**(y-1) * (1 + y ln x) = 0.25.

For every op of kind "real" in the rule table, the one-op program over x (and y) is compiled
with hessian=True on the python and numpy backends, and its full Hessian and a Hessian-vector
product are compared with sympy's exact second derivatives of the op's sympy twin, evaluated
at 40 digits, at points where every operand is one of SPECIAL (all combinations for binary
ops). A point is used when the op's exact value there is a finite real number and the op is
smooth there (kinks, ties and the origin of hypot are conventions, see KINKS); an entry is
compared when its exact value is a finite real number (pow at x < 0: d/dy involves log x,
complex, and only d2/dx2 is compared).

The python backend may raise a math error only where some exact entry is undefined (one call
returns the whole matrix); the numpy backend runs under numpy.errstate and must return finite
numbers matching sympy in every defined entry. Each test collects every mismatch of its
(op, backend) pair and reports them together: op, point, entry, got and exact.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy
import pytest
import sympy as sp

import symback
from symback.ops import FUNCTIONS, OPS

SPECIAL = (0.0, 1.0, -1.0, 2.0, -2.5, 0.5, 4.0, 1e-3, 10.0)
REL = 1e-12                 # relative tolerance, absolute below magnitude 1
DIGITS = 40
BACKENDS = ("python", "numpy")
MATH_ERRORS = (ValueError, ZeroDivisionError, OverflowError)

X, Y = sp.symbols("x y", real=True)

REAL_OPS = [op for op in OPS.values() if op.kind == "real"]

# Ops that are not function calls in the language.
INFIX = {"add": "x + y", "sub": "x - y", "mul": "x * y", "div": "x / y", "neg": "-x"}
# powi is `x ** n` with an integer constant n (the parser builds it, pow(x, n) simplifies to it).
POWI_EXPONENTS = (2, 3, -2, 4, -3)

# Where each non-smooth op is not differentiable (twice): such points are conventions
# (op.note), not derivatives, and are left out. Every op with smooth=False must be listed.
KINKS: dict[str, Callable[..., bool]] = {
    "abs": lambda x: x == 0,             # abs'(0) = 0 by convention
    "sign": lambda x: x == 0,            # jump at 0
    "min": lambda x, y: x == y,          # tie: 0.5 to each side
    "max": lambda x, y: x == y,
    "hypot": lambda x, y: x == 0 and y == 0,     # gradient (0, 0) by convention
    "where": lambda x, y: True,          # never table-driven: see WHERE_CASES
}

# Extra points for pow beyond the SPECIAL grid: negative bases with integer exponents.
EXTRA_POINTS: dict[str, list[tuple[float, ...]]] = {
    "pow": [(4.0, 0.0), (1.0, 0.0), (1.0, 1.0), (1.0, 2.0), (0.5, -1.0), (2.0, 0.5),
            (-2.0, 3.0), (-2.0, 2.0), (-2.0, -1.0), (-2.0, 0.0), (0.25, 3.0), (3.0, -2.0)],
}


@dataclass(frozen=True)
class Case:
    """One compiled program: an op spelled in the language, its exact twin, its points."""

    id: str
    op: str
    text: str
    names: tuple[str, ...]
    exact: Any                      # sympy expression in X (and Y)
    kink: Callable[..., bool] = field(default=lambda *p: False)
    extra: tuple[tuple[float, ...], ...] = ()

    def points(self) -> list[tuple[float, ...]]:
        grid = list(itertools.product(SPECIAL, repeat=len(self.names))) + list(self.extra)
        return list(dict.fromkeys(p for p in grid if not self.kink(*p)))


def _op_cases() -> list[Case]:
    cases = []
    for op in REAL_OPS:
        if op.name == "where":
            continue                    # needs a condition operand: WHERE_CASES
        kink = KINKS.get(op.name, lambda *p: False)
        if op.name == "powi":
            for n in POWI_EXPONENTS:
                cases.append(Case(f"powi[x**{n}]", "powi", f"x ** {n}", ("x",),
                                  op.sympy(sp, X, sp.Integer(n))))
            continue
        names = ("x", "y")[:op.arity]
        if op.name in FUNCTIONS:
            text = f"{op.name}({', '.join(names)})"
        else:
            text = INFIX[op.name]
        cases.append(Case(op.name, op.name, text, names, op.sympy(sp, *(X, Y)[:op.arity]),
                          kink, tuple(EXTRA_POINTS.get(op.name, ()))))
    return cases


def _where(cond: Any, a: Any, b: Any) -> Any:
    return OPS["where"].sympy(sp, cond, a, b)


# where(c, a, b): the second derivatives of the branch taken; points on the condition's
# boundary are left out (the comparison decides the edge, a convention).
WHERE_CASES = [
    Case("where[x>y: x*y | x-y]", "where", "where(x > y, x*y, x - y)", ("x", "y"),
         _where(X > Y, X * Y, X - Y), lambda x, y: x == y),
    Case("where[x>y: x**3*y | x*y**2]", "where", "where(x > y, x**3*y, x*y**2)", ("x", "y"),
         _where(X > Y, X**3 * Y, X * Y**2), lambda x, y: x == y),
    # The branch not taken is singular (log of x <= 0): it must contribute an exact 0.
    Case("where[x>0: log(x)*y | y*y]", "where", "where(x > 0, log(x)*y, y*y)", ("x", "y"),
         _where(X > 0, sp.log(X) * Y, Y * Y), lambda x, y: x == 0),
    Case("where[x<=y: sqrt(x)*y | exp(x)*y]", "where", "where(x <= y, sqrt(x)*y, exp(x)*y)",
         ("x", "y"), _where(X <= Y, sp.sqrt(X) * Y, sp.exp(X) * Y), lambda x, y: x == y),
]

OP_CASES = _op_cases()


# --- the exact side ----------------------------------------------------------------------

def _number(expr: Any, subs: dict[Any, Any], memo: dict[Any, bool]) -> sp.Float | None:
    """expr at subs to DIGITS digits, or None if that is not a finite real number, or if it
    is reached through a complex intermediate (x**y at x = -1, y = 2 is real, but d2/dy2 =
    x**y * log(x)**2 = -pi**2 is real only because log(-1) = i*pi is squared)."""
    if _complex_on_the_way(expr, subs, memo):
        return None
    value = expr.subs(subs, simultaneous=True)
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    value = value.evalf(DIGITS)
    if not value.is_number or value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    re, im = value.as_real_imag()
    if im != 0 or not re.is_finite:
        return None
    return sp.Float(re, DIGITS)


def _complex_on_the_way(expr: Any, subs: dict[Any, Any], memo: dict[Any, bool]) -> bool:
    """True if a function or power inside expr is not real at subs (only the branch a
    Piecewise takes counts: where's branch not taken may be undefined). memo: per point."""
    if expr in memo:
        return memo[expr]
    if isinstance(expr, sp.Piecewise):
        found = False
        for branch, cond in expr.args:
            if cond.subs(subs, simultaneous=True) == sp.true:
                found = _complex_on_the_way(branch, subs, memo)
                break
    elif any(_complex_on_the_way(a, subs, memo) for a in expr.args):
        found = True
    elif isinstance(expr, (sp.Function, sp.Pow)):
        value = expr.subs(subs, simultaneous=True)
        found = bool(value.is_number and not value.has(sp.nan, sp.zoo, sp.oo, -sp.oo)
                     and value.evalf(15).as_real_imag()[1] != 0)
    else:
        found = False
    memo[expr] = found
    return found


@dataclass(frozen=True)
class Exact:
    point: tuple[float, ...]
    hessian: tuple[tuple[sp.Float | None, ...], ...]     # None: not a finite real number

    @property
    def complete(self) -> bool:
        return all(e is not None for row in self.hessian for e in row)


@functools.cache
def exact_table(case: Case) -> tuple[list[Exact], list[tuple[float, ...]]]:
    """The exact Hessians at the case's points, and the points left out (value undefined)."""
    symbols = (X, Y)[:len(case.names)]
    second = [[sp.diff(case.exact, a, b) for b in symbols] for a in symbols]
    table, undefined = [], []
    for point in case.points():
        subs = {s: sp.Rational(v) for s, v in zip(symbols, point)}     # the floats, exactly
        memo: dict[Any, bool] = {}
        if _number(case.exact, subs, memo) is None:
            undefined.append(point)
            continue
        table.append(Exact(point, tuple(tuple(_number(e, subs, memo) for e in row)
                                        for row in second)))
    return table, undefined


@functools.cache
def compiled(case: Case, backend: str) -> symback.Compiled:
    return symback.compile(case.text, wrt=list(case.names), hessian=True, backend=backend)


def _close(got: float, want: sp.Float) -> bool:
    w = float(want)
    return math.isfinite(got) and abs(got - w) <= REL * max(1.0, abs(w))


def _vector(case: Case, point: tuple[float, ...]) -> list[float]:
    rng = random.Random(f"{case.id} {point}")
    return [rng.uniform(-1.0, 1.0) for _ in point]


def _call(f: Callable[..., Any], backend: str, args: list[float]) -> Any:
    if backend == "numpy":
        with numpy.errstate(all="ignore"):
            return numpy.asarray(f(*args), dtype=float)
    return f(*args)


def check_case(case: Case, backend: str) -> None:
    f = compiled(case, backend)
    table, _ = exact_table(case)
    assert table, f"{case.id}: no point of SPECIAL has a finite value"
    n = len(case.names)
    failures: list[str] = []
    compared = 0
    for ex in table:
        point = list(ex.point)
        at = f"{case.id} [{backend}] at {dict(zip(case.names, ex.point))}"
        v = _vector(case, ex.point)
        try:
            h = _call(f.hessian, backend, point)
        except MATH_ERRORS as e:
            if ex.complete:
                failures.append(f"{at}: hessian raised {e!r}; exact "
                                f"{[[float(w) for w in row] for row in ex.hessian]}")
            h = None
        if h is not None:
            for i, j in itertools.product(range(n), repeat=2):
                want = ex.hessian[i][j]
                if want is None:
                    continue
                compared += 1
                got = float(h[i][j])
                if not _close(got, want):
                    failures.append(f"{at}: H[{case.names[i]},{case.names[j]}] "
                                    f"got {got!r}, exact {float(want)!r}")
        try:
            hv = _call(f.hvp, backend, point + v)
        except MATH_ERRORS as e:
            if ex.complete:
                failures.append(f"{at}: hvp raised {e!r}")
            continue
        for i in range(n):
            row = ex.hessian[i]
            if any(w is None for w in row):
                continue
            want = sum((w * sp.Rational(vj) for w, vj in zip(row, v)), sp.Float(0, DIGITS))
            scale = sum(abs(float(w) * vj) for w, vj in zip(row, v))
            got = float(hv[i])
            if not (math.isfinite(got) and abs(got - float(want)) <= REL * max(1.0, scale)):
                failures.append(f"{at}: hvp[{case.names[i]}] with v={v} "
                                f"got {got!r}, exact {float(want)!r}")
    assert not failures, f"{len(failures)} wrong second derivatives:\n" + "\n".join(failures)
    assert compared, f"{case.id}: no Hessian entry was compared"


# --- the tests -----------------------------------------------------------------------------

def test_every_real_op_is_covered() -> None:
    covered = {c.op for c in OP_CASES + WHERE_CASES}
    assert covered == {op.name for op in REAL_OPS}
    for op in REAL_OPS:
        if not op.smooth:
            assert op.name in KINKS, f"non-smooth op {op.name!r} needs its kinks in KINKS"
    for case in OP_CASES + WHERE_CASES:
        e = symback.parse(case.text)
        assert [e.graph.ops[o] for o in e.outputs] == [case.op], case.id
        assert tuple(e.inputs) == case.names, case.id


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", OP_CASES, ids=[c.id for c in OP_CASES])
def test_second_derivatives_at_special_points(case: Case, backend: str) -> None:
    check_case(case, backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", WHERE_CASES, ids=[c.id for c in WHERE_CASES])
def test_where_second_derivatives(case: Case, backend: str) -> None:
    check_case(case, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pow_hessian_at_y_zero_regression(backend: str) -> None:
    """Issue 9: pow(x, y) at (4, 0). d2/dx2 = y (y-1) x**(y-2) = 0,
    d2/dxdy = x**(y-1) (1 + y ln x) = 1/4, d2/dy2 = x**y ln(x)**2 = ln(4)**2."""
    x, y = 4.0, 0.0
    hxx = y * (y - 1.0) * x ** (y - 2.0) + 0.0      # + 0.0: -0.0 reads as 0.0
    hxy = x ** (y - 1.0) * (1.0 + y * math.log(x))
    hyy = x ** y * math.log(x) ** 2
    assert (hxx, hxy) == (0.0, 0.25)
    want = ((hxx, hxy), (hxy, hyy))
    f = symback.compile("pow(x, y)", hessian=True, backend=backend)
    h = numpy.asarray(f.hessian(x, y), dtype=float)
    assert h.shape == (2, 2)
    assert h.ravel().tolist() == pytest.approx([hxx, hxy, hxy, hyy], rel=1e-14, abs=1e-15), \
        f"hessian at (4, 0): got {h.tolist()}, exact {want}"
    hv = [float(t) for t in f.hvp(x, y, 1.0, 1.0)]
    want_hv = [hxx + hxy, hxy + hyy]
    assert hv == pytest.approx(want_hv, rel=1e-14, abs=1e-15), \
        f"hvp at (4, 0) with v = (1, 1): got {hv}, exact {want_hv}"
