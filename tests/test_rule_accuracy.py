"""Accuracy of every local partial in float64 (issue 9), against mpmath at 50 digits.

A rule that is exact in algebra may lose every digit in float64: tanh's `1 - out*out` is 0 at
x = 20, sigmoid's `o*(1 - o)` is 0 at x = 37, asinh's `1/sqrt(x*x + 1)` is 0 at x = -8e159,
and `1/(1 - x*x)` for atanh near 1 keeps only a few digits. So each rule is sampled over its
whole domain -- the interior, near the edges of the mathematical domain, at huge and tiny
magnitudes, in saturated regions, and on a grid of magnitudes and signs for binary ops -- and
three float64 evaluations of the partial are compared with the exact one:

* "rule": the rule's node, built with `Node` handles in a graph exactly as the reverse pass
  builds it, evaluated by `symback.graph.evaluate`, i.e. with each op's `eval` -- which is the
  python backend's semantics (the `eval` of every op is the function its `math` spelling
  calls: `_sigmoid`, `_softplus`, `_cbrt`, `_sign` are those spellings written as functions);
* "python": the gradient of the one-op program, compiled by `symback.compile` (python
  backend), called point by point: the real generated code, after the optimizer's rewrites;
* "numpy": the same program compiled by the numpy backend, called once on arrays of all the
  points (numpy's own spellings of the forward values: `numpy.cbrt`, `logaddexp`, `_erf`).

The exact partial is written here with mpmath, from its textbook formula, at the exact float
input (`mpmath.mpf(float)` is exact) -- independent of symback's rules -- and is itself checked
against `sympy.diff` of each op's sympy twin at interior points (`test_oracle_matches_sympy`).

What is required, per point and operand, by the class of the exact partial:

* normal (2**-1022 <= |exact| <= DBL_MAX): the partial is finite and within `ULPS` ulps of the
  exact value (ulps = |got - exact| / ulp(exact), ulp of the exact value's binade). On the
  python backend a math error (ValueError, OverflowError, ZeroDivisionError) is a failure:
  "a gradient call must not raise where the value is defined".
* zero or subnormal: not nan, no error, |got| <= 2**-1021 (it stayed in the underflow range)
  and, if nonzero, the sign of the exact one. Gradual underflow legitimately costs relative
  digits there, so no ulp bound is asked.
* overflowing (|exact| > DBL_MAX, or infinite as sqrt'(0)): an error is allowed (the python
  backend raises ZeroDivisionError / OverflowError like `math`); otherwise not nan, the exact
  one's sign, and |got| >= 2**1023.

Points where the op's own exact value overflows float64 (exp(710), pow(1e300, 1.5)) are out of
scope: the forward pass has no finite value to differentiate there.

Kinks are not sampled: abs and sign away from 0, min and max away from ties, `where` at both
branches, hypot away from (0, 0), atan2 away from (0, 0) (test_edge_points checks the
conventions there); their partials must simply be exact. Comparisons have no partials.
"""

from __future__ import annotations

import functools
import math
import random
import warnings
from collections.abc import Callable
from typing import Any

import mpmath
import numpy
import pytest
import sympy as sp

import symback
from symback.graph import Graph, Node, evaluate
from symback.ops import OPS

DPS = 50
TINY = 2.2250738585072014e-308          # smallest normal float64
HUGE = 1.7976931348623157e308           # largest finite float64
ULPS = 4
# A larger bound for an op needs a comment saying which correctly-rounded steps add up to it.
ULPS_FOR: dict[str, float] = {}
# Partials that are constants or an operand itself (kinks are not sampled): exactly right.
EXACTLY = frozenset({"add", "sub", "mul", "neg", "abs", "sign", "min", "max", "where"})
MATH_ERRORS = (ArithmeticError, ValueError)   # ZeroDivisionError, OverflowError, ValueError

ACCURACY_OPS = [op for op in OPS.values() if op.kind == "real"]
NAMES = [op.name for op in ACCURACY_OPS]

# --- the exact functions and partials, in mpmath -------------------------------------------
# Each entry: (value, (partial per operand, or None)). They take mpf arguments (a `where`
# condition is the float c, the branch taken is `c > 0`) and return an mpf, or +-inf where
# the partial is infinite. They are evaluated under `mpmath.workdps(DPS)`.

mpf, inf = mpmath.mpf, mpmath.inf


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x)) if x >= 0 else mpmath.exp(x) / (1 + mpmath.exp(x))


def _dsigmoid(x):
    e = mpmath.exp(-abs(x))
    return e / (1 + e) ** 2


def _softplus(x):
    return max(x, 0) + mpmath.log1p(mpmath.exp(-abs(x)))


def _cbrt(x):
    return mpmath.sign(x) * mpmath.cbrt(abs(x))


def _dcbrt(x):
    return inf if x == 0 else 1 / (3 * mpmath.cbrt(abs(x)) ** 2)


def _dsqrt(x):
    return inf if x == 0 else 1 / (2 * mpmath.sqrt(x))


def _dasin(x):
    return inf if abs(x) == 1 else 1 / mpmath.sqrt((1 - x) * (1 + x))


def _pow(x, y):
    return mpmath.power(x, int(y)) if x < 0 else mpmath.power(x, y)


def _pow_dbase(x, y):
    if y == 0:
        return mpf(0)                    # the table's convention, also at x = 0
    return y * (mpmath.power(x, int(y) - 1) if x < 0 else mpmath.power(x, y - 1))


def _pow_dexp(x, y):
    return mpmath.power(x, y) * mpmath.log(x)


def _erfc(x):
    # mpmath's erfc fails on |x| > ~1e154; only the value's size matters there (it is 0 or 2)
    return mpmath.erfc(x) if abs(x) < 1e100 else mpf(0 if x > 0 else 2)


def _atan2(y, x):
    return mpmath.atan2(y, x)


EXACT: dict[str, tuple[Callable[..., Any], tuple[Callable[..., Any] | None, ...]]] = {
    "add": (lambda a, b: a + b, (lambda a, b: mpf(1), lambda a, b: mpf(1))),
    "sub": (lambda a, b: a - b, (lambda a, b: mpf(1), lambda a, b: mpf(-1))),
    "mul": (lambda a, b: a * b, (lambda a, b: b, lambda a, b: a)),
    "div": (lambda a, b: a / b, (lambda a, b: 1 / b, lambda a, b: -a / (b * b))),
    "pow": (_pow, (_pow_dbase, _pow_dexp)),
    "powi": (lambda x, n: mpmath.power(x, int(n)),
             (lambda x, n: int(n) * mpmath.power(x, int(n) - 1), None)),
    "neg": (lambda x: -x, (lambda x: mpf(-1),)),
    "exp": (mpmath.exp, (mpmath.exp,)),
    "expm1": (mpmath.expm1, (mpmath.exp,)),
    "log": (mpmath.log, (lambda x: 1 / x,)),
    "log1p": (mpmath.log1p, (lambda x: 1 / (1 + x),)),
    "log2": (lambda x: mpmath.log(x, 2), (lambda x: 1 / (x * mpmath.log(2)),)),
    "log10": (mpmath.log10, (lambda x: 1 / (x * mpmath.log(10)),)),
    "sqrt": (mpmath.sqrt, (_dsqrt,)),
    "cbrt": (_cbrt, (_dcbrt,)),
    "sin": (mpmath.sin, (mpmath.cos,)),
    "cos": (mpmath.cos, (lambda x: -mpmath.sin(x),)),
    "tan": (mpmath.tan, (lambda x: mpmath.sec(x) ** 2,)),
    "asin": (mpmath.asin, (_dasin,)),
    "acos": (mpmath.acos, (lambda x: -_dasin(x),)),
    "atan": (mpmath.atan, (lambda x: 1 / (1 + x * x),)),
    "sinh": (mpmath.sinh, (mpmath.cosh,)),
    "cosh": (mpmath.cosh, (mpmath.sinh,)),
    "tanh": (mpmath.tanh, (lambda x: mpmath.sech(x) ** 2,)),
    "asinh": (mpmath.asinh, (lambda x: 1 / mpmath.sqrt(x * x + 1),)),
    "acosh": (mpmath.acosh, (lambda x: inf if x == 1 else 1 / mpmath.sqrt((x - 1) * (x + 1)),)),
    "atanh": (mpmath.atanh, (lambda x: 1 / ((1 - x) * (1 + x)),)),
    "erf": (mpmath.erf, (lambda x: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x),)),
    "erfc": (_erfc, (lambda x: -2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x),)),
    "sigmoid": (_sigmoid, (_dsigmoid,)),
    "softplus": (_softplus, (_sigmoid,)),
    "abs": (abs, (mpmath.sign,)),
    "sign": (mpmath.sign, (lambda x: mpf(0),)),
    "atan2": (_atan2, (lambda y, x: x / (x * x + y * y), lambda y, x: -y / (x * x + y * y))),
    "hypot": (lambda x, y: mpmath.sqrt(x * x + y * y),
              (lambda x, y: x / mpmath.sqrt(x * x + y * y),
               lambda x, y: y / mpmath.sqrt(x * x + y * y))),
    "min": (min, (lambda a, b: mpf(a < b), lambda a, b: mpf(b < a))),
    "max": (max, (lambda a, b: mpf(a > b), lambda a, b: mpf(b > a))),
    "where": (lambda c, a, b: a if c > 0 else b,
              (None, lambda c, a, b: mpf(c > 0), lambda c, a, b: mpf(not c > 0))),
}

# --- sample points ----------------------------------------------------------------------------

MAGS = (1e-300, 1e-160, 1e-20, 1e20, 1e154, 1e160, 1e300)
ORDINARY = (1e-8, 0.1, 0.5, 1.0, 2.0, 3.0, 10.0, 100.0)


def _signed(values):
    return [s * v for v in values for s in (1.0, -1.0)]


def _reals(rng, op, extra=()):
    """Both signs of every magnitude, the op's own interval, log-uniform magnitudes."""
    lo, hi = op.domain[0]
    points = _signed(MAGS + ORDINARY + (TINY,))
    points += [rng.uniform(lo, hi) for _ in range(24)]
    points += [rng.uniform(-50.0, 50.0) for _ in range(24)]     # saturation sets in here
    points += [rng.choice((1.0, -1.0)) * 2.0 ** rng.uniform(-120, 120) for _ in range(24)]
    return points + list(extra)


def _positives(rng, op, extra=()):
    near_one = [1.0 + s * 2.0 ** -k for k in (1, 4, 10, 20, 30, 40, 52) for s in (1, -1)]
    subnormal = [1e-308, 9e-309]         # not awkward here: 1/x, x**(1/3) of them are normal
    points = [v for v in _reals(rng, op) if v > 0] + near_one + subnormal + [HUGE]
    points += [rng.uniform(*op.domain[0]) for _ in range(12)]
    return points + list(extra)


def _unit_edges(rng, closed):
    """(-1, 1): +-(1 - 2**-k) for every k up to 53, tiny magnitudes, uniform; +-1 if closed."""
    points = _signed([1.0 - 2.0 ** -k for k in range(1, 54)])
    points += _signed((1e-300, 1e-160, 1e-20, 1e-8, 0.5, 0.9999999999233575, 0.9999999999904198))
    points += [rng.uniform(-1.0, 1.0) for _ in range(24)]
    return points + ([1.0, -1.0] if closed else [])


def _grid(values_a, values_b):
    return [(a, b) for a in values_a for b in values_b]


GRID = tuple(_signed((1e-300, 1e-160, 1e-20, 0.3, 1.0, 3.7, 1e20, 1e154, 1e160, 1e300)))
POW_BASES = (TINY, 1e-300, 1e-160, 1e-20, 1e-5, 0.1, 0.5, 0.9, 0.999999, 1.0, 1.000001, 1.5, 2.0,
             10.0, 1e5, 1e20, 1e154, 1e160, 1e300)
POW_EXPONENTS = (-3.3, -1.0, -0.5, -1e-17, 0.0, 1e-17, 0.1, 0.5, 1.0, 2.5, 3.0, 1e5, -1e5,
                 1.02, 1.03, 1.05, -1.03,      # x**y subnormal or near overflow, y*x**(y-1) not
                 1.0345, -1.0345, 1.9397)      # x**y ~ 4e-311 (43 bits), x**y * ln(x) normal


def _sample(op) -> list[tuple[float, ...]]:
    """Deterministic sample points of one op (tuples of floats, one per operand)."""
    rng = random.Random("accuracy-" + op.name)
    name = op.name
    unary: list[float] | None = None
    if name in ("exp", "expm1"):
        unary = _reals(rng, op, _signed((20.0, 37.0, 40.0, 700.0, 708.0, 745.0))
                       + [709.78, 710.0, -744.0, -1e-10])
    elif name in ("log", "log2", "log10"):
        unary = _positives(rng, op)
    elif name == "log1p":
        unary = _positives(rng, op, [-1.0 + 2.0 ** -k for k in range(1, 54)]
                           + [-0.5, -1e-300, -1e-160, -1e-20, -1e-8])
    elif name in ("sqrt", "cbrt"):
        unary = _positives(rng, op, [0.0])
        if name == "cbrt":
            unary += [-v for v in unary if v > 0]
    elif name in ("sin", "cos", "tan"):
        unary = _reals(rng, op, _signed((math.pi / 2, math.pi, 1e22, 1.5707963267948968,
                                         1.5707963267948963, 3 * math.pi / 2)))
    elif name in ("asin", "acos"):
        unary = _unit_edges(rng, closed=True)
    elif name == "atanh":
        unary = _unit_edges(rng, closed=False)
    elif name == "acosh":
        unary = [1.0] + [1.0 + 2.0 ** -k for k in range(1, 53)]
        unary += [1.5, 2.0, 10.0, 1e20, 1e154, 1e160, 1e300, HUGE]
        unary += [rng.uniform(*op.domain[0]) for _ in range(12)]
        unary += [1.0 + 2.0 ** rng.uniform(-50, 50) for _ in range(12)]
    elif name in ("sinh", "cosh"):
        unary = _reals(rng, op, _signed((20.0, 700.0, 709.0, 710.0, 710.4, 711.0)))
    elif name == "tanh":
        unary = _reals(rng, op, _signed((0.5, 5.0, 19.0, 20.0, 22.0, 40.0, 300.0, 355.0)))
    elif name in ("erf", "erfc"):
        unary = _reals(rng, op, _signed((0.4, 0.6, 2.0, 5.0, 10.0, 20.0, 26.0, 26.5, 27.0)))
    elif name == "sigmoid":
        unary = _reals(rng, op, _signed((20.0, 37.0, 40.0, 700.0, 745.0, 750.0)))
    elif name == "softplus":
        unary = _reals(rng, op, _signed((20.0, 37.0, 40.0, 700.0, 745.0, 800.0)))
    elif name in ("asinh", "atan"):      # x*x overflows from 1.35e154 on
        unary = _reals(rng, op, _signed((8e159, 6.7e153, 1.34e154, 1.35e154)))
    elif op.arity == 1:                  # neg, abs, sign
        unary = [v for v in _reals(rng, op) if not (op.name in ("abs", "sign") and v == 0.0)]
    if unary is not None:
        return [(v,) for v in unary]
    if name in ("add", "sub", "mul", "div", "atan2", "hypot"):
        nonzero = name in ("div",)
        points = _grid(GRID + (0.0,), GRID if nonzero else GRID + (0.0,))
        points = [p for p in points if p != (0.0, 0.0)]
        points += [(rng.uniform(-3, 3), rng.uniform(0.2, 4)) for _ in range(16)]
        return points
    if name == "pow":
        points = _grid(POW_BASES, POW_EXPONENTS)
        points += _grid((-1e-20, -0.5, -1.0, -2.0, -3.7, -1e20, -1e100),
                        (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0))
        points += [(rng.uniform(0.2, 4), rng.uniform(-3, 3)) for _ in range(16)]
        return points
    if name == "powi":
        return _grid(GRID + (0.5, -0.5, 2.0), (-3.0, -2.0, -1.0, 2.0, 3.0, 4.0, 7.0))
    if name in ("min", "max"):
        return [p for p in _grid(GRID, GRID) if p[0] != p[1]]
    if name == "where":
        return [(c, a, b) for c in (-1.0, -1e-300, 1e-300, 1.0) for a in (0.3, -1e300)
                for b in (2.0, 1e-300)]
    raise AssertionError(f"no sampling rule for {name}: add one")


# --- the exact partials at the sample points ------------------------------------------------

def _mp(v: float) -> Any:
    return mpf(v)


@functools.cache
def _cases(name: str) -> list[tuple[tuple[float, ...], tuple[Any, ...]]]:
    """(point, exact partial per operand (None where no rule)) for every in-scope point."""
    op = OPS[name]
    value_fn, partial_fns = EXACT[name]
    cases = []
    with mpmath.workdps(DPS):
        for point in _sample(op):
            args = [_mp(v) for v in point]
            value = value_fn(*args)
            if abs(value) > HUGE:
                continue                 # the forward value itself overflows: out of scope
            exact = []
            for k, fn in enumerate(partial_fns):
                rule = op.partials[k]
                if fn is None or rule is None or (name == "pow" and k == 1 and point[0] < 0):
                    exact.append(None)   # no rule, or (x < 0) no real derivative in y
                else:
                    exact.append(+fn(*args))
            cases.append((point, tuple(exact)))
    assert len(cases) >= 10, name
    return cases


def _ulp(exact: Any) -> float:
    """The ulp of the binade of `exact` (a normal number)."""
    f = float(exact)
    u = math.ulp(f)
    if math.frexp(f)[0] in (0.5, -0.5) and abs(mpf(f)) > abs(exact):
        u /= 2                           # exact is just below a power of two
    return u


def _judge(got: Any, exact: Any, error: str | None, allowed: float) -> float | str | None:
    """None if `got` is acceptable, else the ulps (a float) or what is wrong (a string)."""
    with mpmath.workdps(DPS):
        size = abs(exact)
        if TINY <= size <= HUGE:
            if error is not None:
                return f"raised {error}"
            if not math.isfinite(got):
                return math.inf
            ulps = float(abs(mpf(got) - exact) / _ulp(exact))
            return None if ulps <= allowed else ulps
        if size > HUGE:                  # overflows, or infinite
            if error is not None:
                return None
            if math.isnan(got) or abs(got) < 2.0 ** 1023 or (got > 0) != (exact > 0):
                return "expected overflow"
            return None
        if error is not None:            # zero or subnormal
            return f"raised {error} (exact underflows)"
        if math.isnan(got) or abs(got) > 2.0 ** -1021 \
                or (got != 0 and exact != 0 and (got > 0) != (exact > 0)):
            return "expected underflow"
        return None


def _check(name: str, backend: str, results: list[tuple[tuple[float, ...], int, Any, Any,
                                                          str | None]]) -> None:
    """Fail with the worst points, if any result is not acceptable."""
    allowed = 0.0 if name in EXACTLY else ULPS_FOR.get(name, ULPS)
    bad = []
    for point, k, got, exact, error in results:
        verdict = _judge(got, exact, error, allowed)
        if verdict is not None:
            bad.append((point, k, got, exact, verdict))
    if not bad:
        return
    bad.sort(key=lambda b: -b[4] if isinstance(b[4], float) else -math.inf)
    head = (f"{name} [{backend}]: {len(bad)} of {len(results)} partials are off by more "
            f"than {allowed} ulps (worst first):")
    lines = [head]
    for point, k, got, exact, verdict in bad[:8]:
        shown = f"{verdict:.4g} ulps" if isinstance(verdict, float) else verdict
        lines.append(f"  operand {k} at {point!r}: got {got!r}, exact "
                     f"{mpmath.nstr(exact, 17)}: {shown}")
    pytest.fail("\n".join(lines), pytrace=False)


# --- the three evaluations ---------------------------------------------------------------------

def _rule_graph(op, point):
    g = Graph(max_nodes=None)
    args = [g.var(f"a{k}") for k in range(op.arity)]
    if op.operand_kind(0) == "bool":
        args[0] = g.apply("gt", args[0], g.const(0.0))
    for k in op.int_operands:
        args[k] = g.const(point[k])
    out = g.apply(op.name, *args)
    assert g.ops[out] == op.name, (op.name, point)
    return g, args, out


@pytest.mark.parametrize("name", NAMES)
def test_rule_accuracy(name):
    """The rule's own node, evaluated with the table's `eval` (the python backend's math)."""
    op = OPS[name]
    results = []
    for point, exact in _cases(name):
        g, args, out = _rule_graph(op, point)
        inputs = {f"a{k}": v for k, v in enumerate(point)}
        for k, rule in enumerate(op.partials):
            if exact[k] is None:
                continue
            partial = rule(Node(g, out), *(Node(g, a) for a in args))
            node = partial.id if isinstance(partial, Node) else g.const(partial)
            errors: dict[int, str] = {}
            got = evaluate(g, inputs, node, errors=errors)[node]
            error = None if got is not None else "; ".join(errors.values()) or "an error"
            results.append((point, k, got, exact[k], error))
    _check(name, "rule", results)


def _program(op, point):
    """(text, wrt, the point in parameter order, gradient position of each operand)."""
    names = [f"a{k}" for k in range(op.arity)]
    text = {"add": "a0 + a1", "sub": "a0 - a1", "mul": "a0 * a1", "div": "a0 / a1",
            "neg": "-a0", "where": "where(a0 > 0, a1, a2)"}.get(op.name)
    if text is None:
        text = f"{op.name}({', '.join(names)})"
    if op.name == "powi":
        return f"a0 ** {int(point[1])}", ("a0",), point[:1], {0: 0}
    if op.name == "where":
        return text, ("a1", "a2"), (point[1], point[2], point[0]), {1: 0, 2: 1}
    if op.name == "pow" and point[0] < 0:
        return text, ("a0",), point, {0: 0}
    return text, tuple(names), point, {k: k for k in range(op.arity)}


@functools.cache
def _compiled(text: str, wrt: tuple[str, ...], backend: str) -> symback.Compiled:
    return symback.compile(text, wrt=list(wrt), backend=backend)


def _by_program(name):
    groups: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
    op = OPS[name]
    for point, exact in _cases(name):
        text, wrt, call, where = _program(op, point)
        groups.setdefault((text, wrt), []).append((point, exact, call, where))
    return groups


@pytest.mark.parametrize("name", NAMES)
def test_python_gradient_accuracy(name):
    """The gradient of the one-op program, compiled by the python backend."""
    results = []
    for (text, wrt), rows in _by_program(name).items():
        f = _compiled(text, wrt, "python")
        for point, exact, call, where in rows:
            try:
                _, grad = f.value_and_grad(*call)
                error = None
            except MATH_ERRORS as exc:
                grad, error = None, type(exc).__name__
            for k, pos in where.items():
                if exact[k] is not None:
                    got = None if grad is None else grad[pos]
                    results.append((point, k, got, exact[k], error))
    _check(name, "python", results)


@pytest.mark.parametrize("name", NAMES)
def test_numpy_gradient_accuracy(name):
    """The same program compiled by the numpy backend, called once on arrays of the points."""
    results = []
    for (text, wrt), rows in _by_program(name).items():
        f = _compiled(text, wrt, "numpy")
        columns = [numpy.array(c, dtype=numpy.float64) for c in zip(*[r[2] for r in rows], strict=True)]
        with numpy.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, grad = f.value_and_grad(*columns)
        for i, (point, exact, _call, where) in enumerate(rows):
            for k, pos in where.items():
                if exact[k] is not None:
                    got = float(numpy.broadcast_to(grad[pos], columns[0].shape)[i])
                    results.append((point, k, got, exact[k], None))
    _check(name, "numpy", results)


# --- the oracle itself ---------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_oracle_matches_sympy(name):
    """The mpmath partials above equal sympy.diff of the op's sympy twin (interior points)."""
    op = OPS[name]
    rng = random.Random("oracle-" + name)
    symbols = sp.symbols(f"a0:{op.arity}", real=True)
    args = [s > 0 if op.operand_kind(k) == "bool" else s for k, s in enumerate(symbols)]
    twin = op.sympy(sp, *args)
    _, partial_fns = EXACT[name]
    for _ in range(3):
        point = []
        for k, (lo, hi) in enumerate(op.domain):
            v = rng.uniform(lo, hi)
            point.append(float(round(v)) if k in op.int_operands else v)
        subs = {s: (sp.Integer(int(v)) if k in op.int_operands else sp.Float(v, DPS))
                for k, (s, v) in enumerate(zip(symbols, point, strict=True))}
        with mpmath.workdps(DPS):
            for k, fn in enumerate(partial_fns):
                if (fn is None) != (op.partials[k] is None):
                    pytest.fail(f"{name} operand {k}: the oracle and the table disagree on "
                                "whether there is a partial")
                if fn is None:
                    continue
                mine = fn(*[mpf(v) for v in point])
                theirs = sp.diff(twin, symbols[k]).evalf(DPS, subs=subs)
                theirs = mpf(str(sp.N(theirs, DPS)))
                assert abs(mine - theirs) <= mpf(10) ** -40 * max(1, abs(theirs)), \
                    (name, k, point, mine, theirs)


def test_every_op_has_an_oracle_and_samples():
    assert set(NAMES) == set(EXACT), set(NAMES) ^ set(EXACT)
