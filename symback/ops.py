"""The rule table: every primitive operation symback knows, defined in exactly one place.

Each `Op` record holds the semantics of one primitive: its name and arity, how to evaluate it
on numbers (constant folding), its local partial derivatives, its sympy twin (the test
oracle), where the tests sample it, and what it does at kinks. How each backend spells it is
the backend's printer's (`printers.py`; a test checks every printer spells every op).

Local partials are written with the graph's own constructors, so `cos(x)` inside the rule for
`sin` *is* the user's `cos(x)` node when there is one. A rule receives `(out, *args)` as graph
nodes and may use `out`, the node's own output, to reuse forward values (exp: `out`,
sigmoid: `out * sigmoid(-x)`, sqrt: `0.5 / out`). A rule returns a node or a number; `None` in the
partials tuple means that no derivative flows through that operand (a condition, or an
exponent that is an integer constant).

Conventions at kinks and ties follow PyTorch's documented rule for non-differentiable points
(the minimum-norm subgradient where the function is locally convex):
abs'(0) = 0, sign' = 0, max/min at a tie give 0.5 to each side, hypot at (0, 0) gives (0, 0),
`where(c, a, b)` sends the whole adjoint to the branch it took, and a branch not taken
contributes an exact 0 (no `0 * inf = nan`, unlike both JAX and PyTorch), and
x**y at (0, 0) has gradient (0, 0) (as PyTorch). Singular points stay singular:
sqrt'(0), cbrt'(0), log'(0) are infinite (the numpy backend returns inf, the python backend
raises ZeroDivisionError like `math` does), atan2 at (0, 0) has no derivative (nan / raises).

Adding an operation means adding one record here and its spelling to the printers' tables
(a helper function where a backend lacks it); the parser, reverse pass, analyses and the
table-driven tests read this table and nothing else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable

Rule = Callable[..., Any]

# The precedence of an atom (a name, a number, a function call) in `Op.display`.
ATOM = 6


@dataclass(frozen=True)
class Op:
    """One primitive operation.

    Attributes:
        name: the op's name in the graph and (for functions) in the input language.
        arity: number of operands.
        partials: one rule per operand, `(out, *args) -> node | number`, or None.
        eval: numeric evaluation used for constant folding (may raise; then no folding).
        sympy: the sympy twin, `(sympy_module, *args) -> sympy expression`.
        domain: per operand, the interval the tests sample from.
        kind: "real" or "bool" (comparisons produce conditions for `where`).
        operand_kinds: the kind each operand must have ("real" unless said otherwise).
        smooth: False where the op has kinks or jumps (tests keep away from them).
        simplify: algebraic identities tried before a node is built, `(graph, *ids) -> id | None`.
        int_operands: operands that are integer constants, printed as ints (`x ** 2`).
        keeps_int: True if the python spelling gives an int when its real operands are ints
            (`x + y`), so the python backend converts such results to float.
        selects: the first operand (a condition) chooses which other operand is the result
            (`where`): only the chosen one need be computed (lazy evaluation and guards).
        int_growth: with `keeps_int`, how the digits of an int result grow from those of the
            operands: "max" (`x + y`), "sum" (`x * y`), "power" (`x ** n`: n times).
        note: the convention at kinks, ties and singular points, for the docs.
        display: how `explain` writes the op for people: (format over operand texts,
            precedence of the result, least precedence each operand needs before it is
            parenthesised). Precedences: 0 comparison, 1 sum, 2 product, 3 unary minus,
            4 power, 6 atom. `{k:sup}` writes operand k in superscript digits (`x²`).
            Filled from `_DISPLAY` below; a function reads `name(a, b)`.
        torch: the PyTorch twin, `(torch_module, *operand_tensors) -> tensor`, used by the
            `explain --check torch` cross-check. Filled from `_TORCH` below.
    """

    name: str
    arity: int
    partials: tuple[Rule | None, ...]
    eval: Callable[..., Any] | None
    sympy: Callable[..., Any]
    domain: tuple[tuple[float, float], ...] = ()
    kind: str = "real"
    operand_kinds: tuple[str, ...] = ()
    smooth: bool = True
    simplify: Callable[..., int | None] | None = None
    int_operands: tuple[int, ...] = ()
    keeps_int: bool = False
    int_growth: str = "max"
    selects: bool = False
    note: str = ""
    display: tuple[str, int, tuple[int, ...]] = ("", ATOM, ())
    torch: Callable[..., Any] | None = None

    def operand_kind(self, k: int) -> str:
        return self.operand_kinds[k] if self.operand_kinds else "real"


# --- graph constructors for use inside rules -----------------------------------------------
# Rules are called with graph nodes (`symback.graph.Node`); these helpers build new nodes in
# the same graph. Numbers are allowed in any position and become constant nodes.

def _graph_of(args: tuple[Any, ...]) -> Any:
    for a in args:
        if hasattr(a, "graph"):
            return a.graph
    raise TypeError("a rule must receive at least one graph node")


def _builder(name: str) -> Callable[..., Any]:
    def build(*args: Any) -> Any:
        return _graph_of(args).node(name, *args)
    build.__name__ = name
    return build


sqrt, exp, log, sin, cos, sinh, cosh, sign = (_builder(n) for n in (
    "sqrt", "exp", "log", "sin", "cos", "sinh", "cosh", "sign"))
sigmoid, eq, ne, ge, le, where, hypot = (_builder(n) for n in (
    "sigmoid", "eq", "ne", "ge", "le", "where", "hypot"))
absolute, minimum = _builder("abs"), _builder("min")


def _nonzero(x: Any) -> Any:
    """x, with 0 replaced by 1: divides and logs stay finite where the other factor is 0."""
    return where(eq(x, 0.0), 1.0, x)


# --- numeric helpers for folding (the python backend's semantics) ---------------------------

def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0 * x


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _softplus(x: float) -> float:
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


def _div(x: float, y: float) -> float:
    return x / y


def _sp_where(sp: Any, c: Any, a: Any, b: Any) -> Any:
    return sp.Piecewise((a, c), (b, True))


# Integer exponents up to this size are printed as `x ** n` (exact for negative x too).
_POWI_MAX = 2**31

# --- algebraic identities (tried before a node is interned) --------------------------------
# Only identities that hold for every float, inf and nan included: x*1 -> x, x+0 -> x, but
# never x*0 -> 0 or x-x -> 0.

def _simplify_add(g: Any, a: int, b: int) -> int | None:
    if g.is_const(b, 0.0):
        return a
    if g.is_const(a, 0.0):
        return b
    if g.op(b) == "neg":                      # a + (-b) -> a - b
        return g.apply("sub", a, g.args[b][0])
    if g.op(a) == "neg":                      # (-a) + b -> b - a
        return g.apply("sub", b, g.args[a][0])
    return None


def _simplify_sub(g: Any, a: int, b: int) -> int | None:
    if g.is_const(b, 0.0):
        return a
    if g.is_const(a, 0.0):
        return g.apply("neg", b)
    if g.op(b) == "neg":                      # a - (-b) -> a + b
        return g.apply("add", a, g.args[b][0])
    if g.is_const(b) and g.value(b) < 0:      # a - (-2) -> a + 2
        return g.apply("add", a, g.const(-g.value(b)))
    return None


def _hoist_neg(g: Any, op: str, a: int, b: int) -> int | None:
    """(-a) * b -> -(a*b), a * (-b) -> -(a*b), (-a) * (-b) -> a*b; the same for `/`.

    IEEE multiplication and division are sign-symmetric (the sign of the result is the xor of
    the operands' signs, the magnitude is rounded the same way), so these are exact for every
    float, inf and nan included. Hoisting the negation out lets negations cancel along a chain
    of products (the reverse sweep of sin(cos(sin(...))) multiplies by -sin at every other
    step) and melt into an enclosing + or - (`c + -(a*b)` is `c - a*b`).
    """
    neg_a, neg_b = g.op(a) == "neg", g.op(b) == "neg"
    if not (neg_a or neg_b):
        return None
    core = g.apply(op, g.args[a][0] if neg_a else a, g.args[b][0] if neg_b else b)
    return core if neg_a and neg_b else g.apply("neg", core)


def _scales_exactly(c: float) -> bool:
    """True for c = +-2**k, k >= 0: c*x is exact (or overflows), never rounded."""
    m, _ = math.frexp(abs(c)) if math.isfinite(c) else (0.0, 0)
    return m == 0.5 and abs(c) >= 1.0


def _fold_scale(g: Any, c: int, x: int) -> int | None:
    """c1 * (c2 * x) -> (c1*c2) * x when that is exact for every x: c2 = +-2**k (k >= 0)
    makes c2*x exact, and |c1| >= 1 makes both sides overflow together. (The reverse sweep
    of 100*u**2 builds 100 * (2*u).)"""
    if g.op(x) != "mul" or not g.is_const(c):
        return None
    c1 = g.value(c)
    for inner, other in (g.args[x], g.args[x][::-1]):
        if g.is_const(inner) and _scales_exactly(g.value(inner)) and abs(c1) >= 1.0 \
                and math.isfinite(c1 * g.value(inner)):
            return g.apply("mul", g.const(c1 * g.value(inner)), other)
    return None


def _simplify_mul(g: Any, a: int, b: int) -> int | None:
    if g.ops[a] not in _MUL_RULES and g.ops[b] not in _MUL_RULES:
        return None                           # no constant, no negation: no rule applies
    for x, y in ((a, b), (b, a)):
        if g.is_const(y, 1.0):
            return x
        if g.is_const(y, -1.0):
            return g.apply("neg", x)
        folded = _fold_scale(g, y, x)
        if folded is not None:
            return folded
    return _hoist_neg(g, "mul", a, b)


# The operand ops some rule of `_simplify_mul` reads (constants: x*1, x*-1, exact scaling;
# negations: hoisting).
_MUL_RULES = frozenset({"const", "neg"})


def _simplify_div(g: Any, a: int, b: int) -> int | None:
    if g.is_const(b, 1.0):
        return a
    if g.is_const(b, -1.0):
        return g.apply("neg", a)
    return _hoist_neg(g, "div", a, b)


def _simplify_neg(g: Any, a: int) -> int | None:
    if g.op(a) == "neg":
        return g.args[a][0]
    if g.op(a) == "sub":                      # -(a - b) -> b - a (equal; only a zero's sign may differ)
        x, y = g.args[a]
        return g.apply("sub", y, x)
    if g.op(a) == "mul":                      # -(2 * x) -> -2 * x (exact: sign flip)
        x, y = g.args[a]
        if g.is_const(x):
            return g.apply("mul", g.const(-g.value(x)), y)
        if g.is_const(y):
            return g.apply("mul", x, g.const(-g.value(y)))
    return None


def _simplify_pow(g: Any, a: int, b: int) -> int | None:
    """Constant exponents: x**0 -> 1, x**1 -> x, x**0.5 -> sqrt, x**-1 -> 1/x, integers -> powi."""
    if not g.is_const(b):
        return None
    c = g.value(b)
    if c == 0.0:
        return g.const(1.0)                   # also for nan and inf: Python's 0-th power is 1
    if c == 1.0:
        return a
    if c == 0.5:
        return g.apply("sqrt", a)
    if c == -1.0:
        return g.apply("div", g.const(1.0), a)
    if math.isfinite(c) and c == int(c) and abs(c) <= _POWI_MAX:
        return g.apply("powi", a, b)
    return None


def _simplify_where(g: Any, c: int, a: int, b: int) -> int | None:
    if a == b:
        return a
    if g.is_const(c):
        return a if g.value(c) else b
    return None


def _simplify_minmax(g: Any, a: int, b: int) -> int | None:
    return a if a == b else None


# --- accuracy rewrites ------------------------------------------------------------------------
# Forms equal over the reals wherever the original is defined, rewritten into one that is
# defined and accurate on more of float64: without them the value overflows
# (log(1 + exp(x)) at x = 710), underflows (log(sigmoid(x)) at x = -746), or the chain rule
# meets 0 * inf although the derivative exists (sqrt(x**4), cbrt(x**3) and cbrt(x)**3 at 0).

def _int_power(g: Any, node: int) -> tuple[int, int] | None:
    """(base, n) if `node` is base**n with a constant integer n, also written base*base."""
    if g.op(node) == "powi":
        base, n = g.args[node]
        return base, int(g.value(n))
    if g.op(node) == "mul" and g.args[node][0] == g.args[node][1]:
        return g.args[node][0], 2
    return None


def _simplify_log(g: Any, a: int) -> int | None:
    if g.op(a) == "add":                                  # log(1 + exp(u)) -> softplus(u)
        for one, other in (g.args[a], g.args[a][::-1]):
            if g.is_const(one, 1.0) and g.op(other) == "exp":
                return g.apply("softplus", g.args[other][0])
    if g.op(a) == "sigmoid":                              # log(sigmoid(u)) -> -softplus(-u)
        return g.apply("neg", g.apply("softplus", g.apply("neg", g.args[a][0])))
    return None


def _simplify_log1p(g: Any, a: int) -> int | None:
    if g.op(a) == "exp":                                  # log1p(exp(u)) -> softplus(u)
        return g.apply("softplus", g.args[a][0])
    return None


def _simplify_sqrt(g: Any, a: int) -> int | None:
    power = _int_power(g, a)                              # sqrt(u**2k) -> |u|**k
    if power is None or power[1] % 2:
        return None
    base, n = power
    k = n // 2
    if k % 2:
        base = g.apply("abs", base)
    return g.apply("pow", base, g.const(float(k)))


def _simplify_cbrt(g: Any, a: int) -> int | None:
    power = _int_power(g, a)                              # cbrt(u**3k) -> u**k
    if power is None or power[1] % 3:
        return None
    return g.apply("pow", power[0], g.const(float(power[1] // 3)))


def _simplify_powi(g: Any, a: int, b: int) -> int | None:
    n = int(g.value(b))                                   # cbrt(u)**3k -> u**k
    if g.op(a) == "cbrt" and n % 3 == 0:
        return g.apply("pow", g.args[a][0], g.const(float(n // 3)))
    return None


# --- derivative rules that need a few lines ---------------------------------------------------

# The smallest and largest normal float64.
_TINY, _HUGE = 2.2250738585072014e-308, 1.7976931348623157e308


def _pow_dbase(out: Any, x: Any, y: Any) -> Any:
    # y * x**(y - 1). Computed as y * (out / x) where out = x**y is a normal float: one
    # rounding more than out, whereas x**(y - 1) loses |ln x| ulps when y - 1 is rounded
    # (y = 0.1), and keeps y's dependence at y == 0 (the mixed second derivative). Where out
    # is 0, subnormal or infinite, or x == 0, y * x**(y - 1) is exact enough (y - 1 is exact
    # there) and is written so that y == 0 gives 0 (not 0 * 0**-1), as JAX and PyTorch do.
    fallback = x ** (where(eq(y, 0.0), 1.0, y) - 1.0)
    return y * where(ne(x, 0.0), _if_normal(out, out / x, fallback), fallback)


def _pow_dexp(out: Any, x: Any, y: Any) -> Any:
    # out * log(x); at x == 0 the term is out * log(1) = 0 (JAX and PyTorch give 0 there too).
    # Where out = x**y is subnormal or overflows (x**y * log(x) may still be normal), the
    # product is taken as h * log(x) * h with h = x**(y/2), whose factors stay normal.
    ln = log(_nonzero(x))
    half = x ** (0.5 * y)
    return _if_normal(out, out * ln, (half * ln) * half)


def _if_normal(v: Any, then: Any, otherwise: Any) -> Any:
    """`then` where v is a normal float (not 0, subnormal, infinite or nan), else `otherwise`."""
    size = absolute(v)
    return where(ge(size, _TINY), where(le(size, _HUGE), then, otherwise), otherwise)


def _powi_dbase(out: Any, x: Any, n: Any) -> Any:
    return n * x ** (n.value - 1.0)          # built through pow: x**1 -> x, x**0 -> 1


def _cbrt_d(out: Any, x: Any) -> Any:
    # 1 / (3 cbrt(x)**2), written (cbrt(x) / x) / 3: the rounding error of cbrt(x) counts
    # once, not twice as in (1/3) / (out*out) (math.cbrt is not correctly rounded: at
    # x = 1 - 2**-52 it gives 1.0, and (1/3) / (out*out) was 4 ulps off). At x == 0 that is
    # 0/0: there the derivative is infinite, (1/3) / (out*out).
    return where(eq(x, 0.0), (1.0 / 3.0) / (out * out), (out / x) / 3.0)


def _tanh_d(out: Any, x: Any) -> Any:
    # sech(x)**2 = 4e / (1 + e)**2 with e = exp(-2|x|): accurate for every x, where
    # 1 - tanh(x)**2 cancels to 0 once tanh(x) rounds to 1 (|x| > 19) and loses digits
    # long before (at x = 3, 1 - t*t has 100 ulps of error).
    e = exp(-2.0 * absolute(x))
    return (4.0 * e) / ((1.0 + e) * (1.0 + e))


def _exp_neg_square(x: Any) -> Any:
    """exp(-x*x) to a few ulps. exp(-(x*x)) magnifies the rounding of x*x by x*x (300 ulps at
    x = 26); instead x is split as s + (a - s) with s holding 26 bits (Veltkamp's split, so
    s*s is exact), and exp(-a*a) = exp(-s*s) * exp(-(a - s)*(a + s)). |x| is capped at 28,
    where exp(-x*x) is already 0 (and the split cannot overflow)."""
    a = minimum(absolute(x), 28.0)
    c = 134217729.0 * a
    s = c - (c - a)
    return exp(-(s * s)) * exp((s - a) * (s + a))


# --- the table -------------------------------------------------------------------------------

_R = (-3.0, 3.0)          # sampling intervals for the table-driven tests
_POS = (0.2, 4.0)
_UNIT = (-0.9, 0.9)
_SQRT_PI = math.sqrt(math.pi)
_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _arith(name, partials, fn, sp, simplify, domain=(_R, _R), keeps_int=True, int_growth="max"):
    return Op(name, 2, partials, fn, sp, domain, simplify=simplify, keeps_int=keeps_int,
              int_growth=int_growth)


def _fn(name, partial, fn, sp, domain=(_R,), **kw):
    return Op(name, 1, (partial,), fn, sp, domain, **kw)


def _cmp(name, fn, sp_name):
    return Op(name, 2, (None, None), fn, lambda sp, a, b: getattr(sp, sp_name)(a, b), (_R, _R),
              kind="bool", smooth=False)


_TABLE: list[Op] = [
    #      name   partials (out, *args)
    _arith("add", (lambda o, a, b: 1.0, lambda o, a, b: 1.0),
           lambda a, b: a + b, lambda sp, a, b: a + b, _simplify_add),
    _arith("sub", (lambda o, a, b: 1.0, lambda o, a, b: -1.0),
           lambda a, b: a - b, lambda sp, a, b: a - b, _simplify_sub),
    _arith("mul", (lambda o, a, b: b, lambda o, a, b: a),
           lambda a, b: a * b, lambda sp, a, b: a * b, _simplify_mul, int_growth="sum"),
    _arith("div", (lambda o, a, b: 1.0 / b, lambda o, a, b: -o / b),
           _div, lambda sp, a, b: a / b, _simplify_div, domain=(_R, _POS), keeps_int=False),
    _arith("pow", (_pow_dbase, _pow_dexp),
           math.pow, lambda sp, a, b: a ** b, _simplify_pow, domain=(_POS, _R), keeps_int=False),
    Op("powi", 2, (_powi_dbase, None), math.pow,
       lambda sp, a, b: a ** b, (_R, (-3.0, 4.0)), simplify=_simplify_powi,
       keeps_int=True, int_operands=(1,), int_growth="power",
       note="integer constant exponent; x**2 at 0 has derivative 0 (no log term is built)"),
    Op("neg", 1, (lambda o, a: -1.0,), lambda a: -a, lambda sp, a: -a, (_R,),
       simplify=_simplify_neg, keeps_int=True),
    #   name   local partial (out, x), then evaluation and sympy twin
    _fn("exp", lambda o, x: o, math.exp, lambda sp, x: sp.exp(x)),
    _fn("expm1", lambda o, x: exp(x), math.expm1, lambda sp, x: sp.exp(x) - 1),
    _fn("log", lambda o, x: 1.0 / x,
        math.log, lambda sp, x: sp.log(x), (_POS,), simplify=_simplify_log),
    _fn("log1p", lambda o, x: 1.0 / (1.0 + x),
        math.log1p, lambda sp, x: sp.log(1 + x), (_POS,), simplify=_simplify_log1p),
    _fn("log2", lambda o, x: (1.0 / _LN2) / x, math.log2, lambda sp, x: sp.log(x, 2), (_POS,)),
    _fn("log10", lambda o, x: (1.0 / _LN10) / x, math.log10, lambda sp, x: sp.log(x, 10), (_POS,)),
    _fn("sqrt", lambda o, x: 0.5 / o,
        math.sqrt, lambda sp, x: sp.sqrt(x), (_POS,), simplify=_simplify_sqrt,
        note="sqrt'(0) is infinite: inf on numpy, ZeroDivisionError on python"),
    _fn("cbrt", _cbrt_d,
        math.cbrt, lambda sp, x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3), (_POS,),
        simplify=_simplify_cbrt,
        note="cbrt'(0) is infinite"),
    _fn("sin", lambda o, x: cos(x), math.sin, lambda sp, x: sp.sin(x)),
    _fn("cos", lambda o, x: -sin(x), math.cos, lambda sp, x: sp.cos(x)),
    _fn("tan", lambda o, x: 1.0 + o * o, math.tan, lambda sp, x: sp.tan(x), (_UNIT,)),
    _fn("asin", lambda o, x: 1.0 / sqrt((1.0 - x) * (1.0 + x)),
        math.asin, lambda sp, x: sp.asin(x), (_UNIT,)),
    _fn("acos", lambda o, x: -1.0 / sqrt((1.0 - x) * (1.0 + x)),
        math.acos, lambda sp, x: sp.acos(x), (_UNIT,)),
    _fn("atan", lambda o, x: 1.0 / (1.0 + x * x), math.atan, lambda sp, x: sp.atan(x)),
    _fn("sinh", lambda o, x: cosh(x), math.sinh, lambda sp, x: sp.sinh(x)),
    _fn("cosh", lambda o, x: sinh(x), math.cosh, lambda sp, x: sp.cosh(x)),
    _fn("tanh", _tanh_d, math.tanh, lambda sp, x: sp.tanh(x)),
    _fn("asinh", lambda o, x: 1.0 / hypot(1.0, x), math.asinh, lambda sp, x: sp.asinh(x)),
    _fn("acosh", lambda o, x: 1.0 / (sqrt(x - 1.0) * sqrt(x + 1.0)),
        math.acosh, lambda sp, x: sp.acosh(x), ((1.2, 4.0),)),
    _fn("atanh", lambda o, x: 1.0 / ((1.0 - x) * (1.0 + x)),
        math.atanh, lambda sp, x: sp.atanh(x), (_UNIT,)),
    _fn("erf", lambda o, x: (2.0 / _SQRT_PI) * _exp_neg_square(x),
        math.erf, lambda sp, x: sp.erf(x)),
    _fn("erfc", lambda o, x: (-2.0 / _SQRT_PI) * _exp_neg_square(x),
        math.erfc, lambda sp, x: sp.erfc(x)),
    _fn("sigmoid", lambda o, x: o * sigmoid(-x), _sigmoid, lambda sp, x: 1 / (1 + sp.exp(-x))),
    _fn("softplus", lambda o, x: sigmoid(x), _softplus, lambda sp, x: sp.log(1 + sp.exp(x))),
    _fn("abs", lambda o, x: sign(x), abs, lambda sp, x: sp.Abs(x), smooth=False, keeps_int=True,
        note="abs'(0) = 0 (PyTorch's minimum-norm subgradient; JAX gives 1)"),
    _fn("sign", lambda o, x: 0.0,
        _sign, lambda sp, x: sp.sign(x), smooth=False, note="sign' = 0 everywhere, also at 0"),
    # atan2: x / r**2 and -y / r**2 with r = hypot(x, y), divided by r twice: x*x + y*y
       # underflows to 0 near 1e-160 (atan2(1e-200, 1e-200) had slope inf) and overflows
       # near 1e155 (slope 0), while the ratios x / r, y / r stay in [-1, 1].
    Op("atan2", 2,
       (lambda o, y, x: (x / hypot(x, y)) / hypot(x, y),
        lambda o, y, x: -(y / hypot(x, y)) / hypot(x, y)),
       math.atan2, lambda sp, y, x: sp.atan2(y, x), (_R, _POS),
       note="atan2(y, x) has no derivative at (0, 0): nan on numpy, ZeroDivisionError on python"),
    Op("hypot", 2, (lambda o, x, y: x / _nonzero(o), lambda o, x, y: y / _nonzero(o)),
       math.hypot, lambda sp, x, y: sp.sqrt(x * x + y * y), (_R, _R),
       smooth=False, note="gradient at (0, 0) is (0, 0), the minimum-norm subgradient"),
    Op("min", 2, (lambda o, a, b: 0.5 - 0.5 * sign(a - b), lambda o, a, b: 0.5 + 0.5 * sign(a - b)),
       min, lambda sp, a, b: sp.Min(a, b), (_R, _R), smooth=False,
       simplify=_simplify_minmax, keeps_int=True,
       note="at a tie each operand gets 0.5 (as JAX and PyTorch)"),
    Op("max", 2, (lambda o, a, b: 0.5 + 0.5 * sign(a - b), lambda o, a, b: 0.5 - 0.5 * sign(a - b)),
       max, lambda sp, a, b: sp.Max(a, b), (_R, _R), smooth=False,
       simplify=_simplify_minmax, keeps_int=True,
       note="at a tie each operand gets 0.5 (as JAX and PyTorch)"),
    Op("where", 3, (None, lambda o, c, a, b: where(c, 1.0, 0.0), lambda o, c, a, b: where(c, 0.0, 1.0)),
       lambda c, a, b: a if c else b, _sp_where, ((-1.0, 1.0), _R, _R),
       operand_kinds=("bool", "real", "real"), smooth=False, simplify=_simplify_where,
       keeps_int=True, selects=True,
       note="the adjoint goes to the branch taken; the condition gets none"),
    _cmp("lt", lambda a, b: a < b, "Lt"),
    _cmp("le", lambda a, b: a <= b, "Le"),
    _cmp("gt", lambda a, b: a > b, "Gt"),
    _cmp("ge", lambda a, b: a >= b, "Ge"),
    _cmp("eq", lambda a, b: a == b, "Eq"),
    _cmp("ne", lambda a, b: a != b, "Ne"),
]

# How `explain` writes each infix op (see `Op.display`); every other op reads `name(a, b)`.
_DISPLAY: dict[str, tuple[str, int, tuple[int, ...]]] = {
    "add":  ("{0} + {1}",  1, (1, 1)),
    "sub":  ("{0} - {1}",  1, (1, 2)),
    "mul":  ("{0} · {1}",  2, (2, 2)),
    "div":  ("{0} / {1}",  2, (2, 3)),
    "pow":  ("{0}**{1}",   4, (5, 4)),
    "powi": ("{0}{1:sup}", 4, (ATOM, 0)),
    "neg":  ("-{0}",       3, (3,)),
    "lt":   ("{0} < {1}",  0, (1, 1)),
    "le":   ("{0} ≤ {1}",  0, (1, 1)),
    "gt":   ("{0} > {1}",  0, (1, 1)),
    "ge":   ("{0} ≥ {1}",  0, (1, 1)),
    "eq":   ("{0} == {1}", 0, (1, 1)),
    "ne":   ("{0} ≠ {1}",  0, (1, 1)),
}

# The PyTorch twin of each op (see `Op.torch`): (torch, *operand tensors) -> tensor.
_TORCH: dict[str, Callable[..., Any]] = {
    "add":      lambda t, a, b: a + b,
    "sub":      lambda t, a, b: a - b,
    "mul":      lambda t, a, b: a * b,
    "div":      lambda t, a, b: a / b,
    "pow":      lambda t, a, b: t.pow(a, b),
    "powi":     lambda t, a, n: t.pow(a, n),
    "neg":      lambda t, a: -a,
    "exp":      lambda t, a: t.exp(a),
    "expm1":    lambda t, a: t.expm1(a),
    "log":      lambda t, a: t.log(a),
    "log1p":    lambda t, a: t.log1p(a),
    "log2":     lambda t, a: t.log2(a),
    "log10":    lambda t, a: t.log10(a),
    "sqrt":     lambda t, a: t.sqrt(a),
    "cbrt":     lambda t, a: t.sign(a) * t.abs(a).pow(1.0 / 3.0),   # torch has no cbrt
    "sin":      lambda t, a: t.sin(a),
    "cos":      lambda t, a: t.cos(a),
    "tan":      lambda t, a: t.tan(a),
    "asin":     lambda t, a: t.asin(a),
    "acos":     lambda t, a: t.acos(a),
    "atan":     lambda t, a: t.atan(a),
    "sinh":     lambda t, a: t.sinh(a),
    "cosh":     lambda t, a: t.cosh(a),
    "tanh":     lambda t, a: t.tanh(a),
    "asinh":    lambda t, a: t.asinh(a),
    "acosh":    lambda t, a: t.acosh(a),
    "atanh":    lambda t, a: t.atanh(a),
    "erf":      lambda t, a: t.special.erf(a),
    "erfc":     lambda t, a: t.special.erfc(a),
    "sigmoid":  lambda t, a: t.sigmoid(a),
    "softplus": lambda t, a: t.logaddexp(t.zeros_like(a), a),
    "abs":      lambda t, a: t.abs(a),
    "sign":     lambda t, a: t.sign(a),
    "atan2":    lambda t, y, x: t.atan2(y, x),
    "hypot":    lambda t, a, b: t.hypot(a, b),
    "min":      lambda t, a, b: t.minimum(a, b),
    "max":      lambda t, a, b: t.maximum(a, b),
    "where":    lambda t, c, a, b: t.where(c, a, b),
    "lt":       lambda t, a, b: t.lt(a, b),
    "le":       lambda t, a, b: t.le(a, b),
    "gt":       lambda t, a, b: t.gt(a, b),
    "ge":       lambda t, a, b: t.ge(a, b),
    "eq":       lambda t, a, b: t.eq(a, b),
    "ne":       lambda t, a, b: t.ne(a, b),
}


def _with_side_facts(op: Op) -> Op:
    """The record with its `display` and `torch` facts filled in (tests check that every
    op has both)."""
    call = f"{op.name}({', '.join(f'{{{k}}}' for k in range(op.arity))})"
    display = _DISPLAY.get(op.name, (call, ATOM, (0,) * op.arity))
    return replace(op, display=display, torch=_TORCH.get(op.name))


OPS: dict[str, Op] = {op.name: _with_side_facts(op) for op in _TABLE}

# Names the input language accepts as function calls, and the op each one builds. `pow(a, b)`
# is `a ** b`; `min` and `max` take two or more arguments (folded left to right).
FUNCTIONS: dict[str, str] = {
    name: name for name, op in OPS.items()
    if op.kind == "real" and name not in ("add", "sub", "mul", "div", "neg", "powi")
}
VARIADIC = frozenset({"min", "max"})

# Named constants of the input language.
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

# Infix operators of the input language and the ops they build.
BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "^": "pow",
          "<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
