"""Random expressions (hypothesis) against two independent oracles: sympy's exact
derivatives, and central finite differences.

Each example is a small program of named intermediates that reuse each other (shared
subexpressions), written at once as symback text and as a sympy expression built directly,
so the oracle does not depend on symback's parser.
"""

from __future__ import annotations

import math

import mpmath
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import symback

from oracles import sympy_oracle as oracle

NAMES = ["x", "y", "z"]
SYMBOLS = {n: sp.Symbol(n, real=True) for n in NAMES}

# (text template, sympy builder, smooth): arguments may be any real number (bounded inputs).
UNARY = [
    ("sin({0})", lambda a: sp.sin(a), True),
    ("cos({0})", lambda a: sp.cos(a), True),
    ("tanh({0})", lambda a: sp.tanh(a), True),
    ("atan({0})", lambda a: sp.atan(a), True),
    ("exp(sin({0}))", lambda a: sp.exp(sp.sin(a)), True),
    ("sigmoid({0})", lambda a: 1 / (1 + sp.exp(-a)), True),
    ("softplus({0})", lambda a: sp.log(1 + sp.exp(a)), True),
    ("sqrt(1 + {0}**2)", lambda a: sp.sqrt(1 + a ** 2), True),
    ("log(1 + {0}*{0})", lambda a: sp.log(1 + a * a), True),
    ("asinh({0})", lambda a: sp.asinh(a), True),
    ("erf({0})", lambda a: sp.erf(a), True),
    ("-{0}", lambda a: -a, True),
    ("({0})^3", lambda a: a ** 3, True),
    ("abs({0})", lambda a: sp.Abs(a), False),
]
BINARY = [
    ("({0} + {1})", lambda a, b: a + b, True),
    ("({0} - {1})", lambda a, b: a - b, True),
    ("({0} * {1})", lambda a, b: a * b, True),
    ("({0} / (1 + {1}**2))", lambda a, b: a / (1 + b ** 2), True),
    ("hypot({0}, 1 + {1}**2)", lambda a, b: sp.sqrt(a ** 2 + (1 + b ** 2) ** 2), True),
    ("atan2({0}, 2 + {1}**2)", lambda a, b: sp.atan2(a, 2 + b ** 2), True),
    ("pow(1 + {0}**2, sin({1}))", lambda a, b: (1 + a ** 2) ** sp.sin(b), True),
    ("max({0}, {1})", lambda a, b: sp.Max(a, b), False),
    ("min({0}, {1})", lambda a, b: sp.Min(a, b), False),
    ("where({0} > {1}, {0} * {1}, {1} - {0})",
     lambda a, b: sp.Piecewise((a * b, a > b), (b - a, True)), False),
]


@st.composite
def programs(draw, smooth_only=False):
    """(text, sympy output, smooth): 2-6 statements `t<k> = op(...)` over inputs and
    earlier statements, then an output that combines the last two."""
    unary = [u for u in UNARY if u[2] or not smooth_only]
    binary = [b for b in BINARY if b[2] or not smooth_only]
    names = list(NAMES)
    exprs = {n: SYMBOLS[n] for n in NAMES}
    lines = []
    smooth = True
    for k in range(draw(st.integers(2, 6))):
        pick = lambda: draw(st.sampled_from(names))  # noqa: E731
        if draw(st.booleans()):
            text, build, ok = draw(st.sampled_from(unary))
            a = pick()
            rhs, value = text.format(a), build(exprs[a])
        else:
            text, build, ok = draw(st.sampled_from(binary))
            a, b = pick(), pick()
            rhs, value = text.format(a, b), build(exprs[a], exprs[b])
        smooth = smooth and ok
        name = f"t{k}"
        lines.append(f"{name} = {rhs}")
        exprs[name] = value
        names.append(name)
    last, other = names[-1], draw(st.sampled_from(names[:-1]))
    lines.append(f"{last} * {other} + {last}")
    return "\n".join(lines), exprs[last] * exprs[other] + exprs[last], smooth


points = st.lists(st.floats(-2.0, 2.0, allow_nan=False).map(lambda v: round(v, 3)),
                  min_size=3, max_size=3)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), points)
def test_random_expressions_match_sympy(program, point):
    text, expr, smooth = program
    if not smooth:
        # At a kink or a tie the derivative is a convention, and sympy simplifies first
        # (Max(x, Max(x, y)) -> Max(x, y)) where symback composes conventions: keep away.
        assume(len(set(point)) == 3 and 0.0 not in point)
    compiled = symback.compile(text, wrt=NAMES)
    value, grad = compiled.value_and_grad(*point)
    at = dict(zip(NAMES, point))
    exact_value, exact_grad = oracle.gradient_by_diff(expr, NAMES, at)
    assume(all(mpmath.isfinite(v) for v in [exact_value, *exact_grad]))
    scale = max(abs(g) for g in exact_grad)
    # the value may cancel to ~0 (exact 1e-31, float 0.0): measure it against O(1) too
    assert oracle.rel_error(value, exact_value, 1.0) <= 1e-9, text
    for got, exact in zip(grad, exact_grad):
        assert oracle.rel_error(got, exact, scale) <= 1e-9, (text, point, grad, exact_grad)


@settings(max_examples=200, deadline=None)
@given(programs(smooth_only=True), points)
def test_random_expressions_match_finite_differences(program, point):
    text, _, _ = program
    f = symback.compile(text, wrt=NAMES)
    grad = f.gradient(*point)
    for k in range(3):
        h = 1e-5 * max(1.0, abs(point[k]))
        up, down = list(point), list(point)
        up[k] += h
        down[k] -= h
        fd = (f.forward(*up) - f.forward(*down)) / (2 * h)
        assert math.isclose(grad[k], fd, rel_tol=1e-5, abs_tol=1e-5 * max(1, abs(fd))), \
            (text, point, k, grad[k], fd)


@settings(max_examples=100, deadline=None)
@given(programs(), points)
def test_random_expressions_are_deterministic(program, point):
    text, _, _ = program
    assert symback.compile(text).source == symback.compile(text).source
