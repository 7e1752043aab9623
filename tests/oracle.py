"""The test oracle: sympy's exact derivatives, evaluated with mpmath at 30 digits.

Independent of symback: expressions are read by sympy's own parser (`parse_expr`, on our
trusted test strings) with a function table written here, not taken from symback's rule
table; derivatives come from `sympy.diff`; values from an mpmath evaluator.

For big expressions, differentiating the whole formula once per input is quadratic in sympy
(`product_1000` would take hours), so `gradient` takes sympy's exact local derivative of
every node of the formula (`sympy.diff` of the node's function) and applies the chain rule
numerically at 30 digits: the same exact derivative, in time linear in the formula's size.
`gradient_by_diff` differentiates the whole formula with `sympy.diff`; tests check that both
agree on the small workloads.
"""

from __future__ import annotations

import re
import sys
from typing import Any, Sequence

import mpmath
import sympy as sp
from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

DPS = 30

FUNCTIONS: dict[str, Any] = {
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "asin": sp.asin, "acos": sp.acos,
    "atan": sp.atan, "atan2": sp.atan2, "sinh": sp.sinh, "cosh": sp.cosh, "tanh": sp.tanh,
    "asinh": sp.asinh, "acosh": sp.acosh, "atanh": sp.atanh, "exp": sp.exp,
    "expm1": lambda x: sp.exp(x) - 1, "log": sp.log, "log1p": lambda x: sp.log(1 + x),
    "log2": lambda x: sp.log(x) / sp.log(2), "log10": lambda x: sp.log(x) / sp.log(10),
    "sqrt": sp.sqrt, "cbrt": lambda x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3),
    "abs": sp.Abs, "sign": sp.sign, "erf": sp.erf, "erfc": sp.erfc, "pow": lambda a, b: a ** b,
    "hypot": lambda a, b: sp.sqrt(a ** 2 + b ** 2), "min": sp.Min, "max": sp.Max,
    "sigmoid": lambda x: 1 / (1 + sp.exp(-x)), "softplus": lambda x: sp.log(1 + sp.exp(x)),
    "where": lambda c, a, b: sp.Piecewise((a, c), (b, True)), "pi": sp.pi, "e": sp.E,
}

_ASSIGN = re.compile(r"^\s*([A-Za-z_]\w*)\s*=(?!=)(.*)$", re.S)


def to_sympy(text: str, names: Sequence[str]) -> list[Any]:
    """The outputs of an expression text as sympy expressions of real symbols `names`."""
    symbols = {n: sp.Symbol(n, real=True) for n in names}
    local: dict[str, Any] = dict(FUNCTIONS)
    local.update(symbols)
    statements = []
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        statements += [s for s in code.split(";") if s.strip()]
    result: Any = None
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        for stmt in statements:
            m = _ASSIGN.match(stmt)
            body = m.group(2) if m else stmt
            value = parse_expr(body, local_dict=local, evaluate=False,
                               transformations=standard_transformations + (convert_xor,))
            if m:
                local[m.group(1)] = value
            result = value
    finally:
        sys.setrecursionlimit(old)
    return list(result) if isinstance(result, (tuple, sp.Tuple)) else [result]


class Evaluator:
    """Evaluates sympy expressions at a point with mpmath, iteratively, sharing subtrees."""

    def __init__(self, point: dict[str, float]) -> None:
        mpmath.mp.dps = DPS
        self.memo: dict[Any, Any] = {}
        self.point = {k: mpmath.mpf(v) for k, v in point.items()}

    def __call__(self, expr: Any) -> Any:
        memo = self.memo
        stack = [expr]
        while stack:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            pending = [a for a in node.args if a not in memo]
            if pending and not isinstance(node, (sp.Number, sp.Symbol)):
                stack.extend(pending)
                continue
            stack.pop()
            memo[node] = self._one(node)
        return memo[expr]

    def _one(self, node: Any) -> Any:
        if isinstance(node, sp.Symbol):
            return self.point[node.name]
        if isinstance(node, sp.Rational):
            return mpmath.mpf(node.p) / node.q
        if isinstance(node, sp.Number):
            return mpmath.mpf(str(node)) if not node.is_infinite else mpmath.inf
        if node is sp.pi:
            return +mpmath.pi
        if node is sp.E:
            return +mpmath.e
        if node in (sp.true, sp.false):
            return bool(node)
        args = [self.memo[a] for a in node.args]
        return _apply(node, args)


def _power(base: Any, ex: Any) -> Any:
    if ex == int(ex):
        return base ** int(ex) if base != 0 or ex >= 0 else mpmath.inf
    return mpmath.power(base, ex)


def _apply(node: Any, args: list[Any]) -> Any:
    name = type(node).__name__
    if isinstance(node, sp.Add):
        return mpmath.fsum(args)
    if isinstance(node, sp.Mul):
        out = mpmath.mpf(1)
        for a in args:
            out *= a
        return out
    if isinstance(node, sp.Pow):
        return _power(*args)
    if isinstance(node, sp.Piecewise):
        for value, cond in args:                      # args are evaluated ExprCondPairs
            if cond:
                return value
        raise ValueError("no branch of Piecewise applies")
    if name == "ExprCondPair":
        return tuple(args)
    simple = {
        "sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "asin": mpmath.asin,
        "acos": mpmath.acos, "atan": mpmath.atan, "sinh": mpmath.sinh, "cosh": mpmath.cosh,
        "tanh": mpmath.tanh, "asinh": mpmath.asinh, "acosh": mpmath.acosh,
        "atanh": mpmath.atanh, "exp": mpmath.exp, "erf": mpmath.erf, "erfc": mpmath.erfc,
        "Abs": mpmath.fabs, "sign": mpmath.sign, "atan2": mpmath.atan2,
        "Min": min, "Max": max, "re": mpmath.re, "im": mpmath.im,
        "DiracDelta": lambda x, *k: mpmath.mpf(0) if x != 0 else mpmath.inf,
        "Heaviside": lambda x, *h: mpmath.mpf(1) if x > 0 else mpmath.mpf(0) if x < 0 else mpmath.mpf("0.5"),
        "StrictGreaterThan": lambda a, b: a > b, "StrictLessThan": lambda a, b: a < b,
        "GreaterThan": lambda a, b: a >= b, "LessThan": lambda a, b: a <= b,
        "Equality": lambda a, b: a == b, "Unequality": lambda a, b: a != b,
        "And": lambda *a: all(a), "Or": lambda *a: any(a), "Not": lambda a: not a,
        "ITE": lambda c, a, b: a if c else b,       # sympy folds nested where() conditions
    }
    if name == "log":
        return mpmath.log(args[0]) if len(args) == 1 else mpmath.log(args[0], args[1])
    if name in simple:
        return simple[name](*args)
    raise NotImplementedError(f"oracle cannot evaluate {name}")


def gradient(expr: Any, names: Sequence[str], point: dict[str, float]) -> tuple[Any, list[Any]]:
    """(value, [d expr / d name for name in names]) at `point`, exact to ~30 digits.

    Reverse accumulation over sympy's expression tree: every node's local partial
    derivatives are `sympy.diff` of that node's function with respect to each argument
    (cached per function), evaluated at the argument values; the chain rule multiplies
    them along every path from the root. Iterative, and linear in the tree size.
    """
    ev = Evaluator(point)
    value = ev(expr)
    grads = {n: mpmath.mpf(0) for n in names}
    work = [(expr, mpmath.mpf(1))]
    while work:
        node, weight = work.pop()
        if weight == 0 or isinstance(node, sp.Number) or node in (sp.pi, sp.E):
            continue
        if isinstance(node, sp.Symbol):
            if node.name in grads:
                grads[node.name] += weight
            continue
        args = node.args
        values = [ev(a) for a in args]
        if isinstance(node, sp.Add):
            work.extend((a, weight) for a in args)
        elif isinstance(node, sp.Mul):
            prefix = [mpmath.mpf(1)]
            for v in values:
                prefix.append(prefix[-1] * v)
            suffix = mpmath.mpf(1)
            for k in range(len(values) - 1, -1, -1):
                work.append((args[k], weight * prefix[k] * suffix))
                suffix *= values[k]
        elif isinstance(node, sp.Pow):                  # d b**e = e*b**(e-1) db + b**e log(b) de
            base, ex = values
            work.append((args[0], weight * ex * _power(base, ex - 1)))
            if not isinstance(args[1], sp.Number):
                work.append((args[1], weight * _power(base, ex) * mpmath.log(base)))
        elif isinstance(node, sp.Piecewise):
            for pair, (_, cond) in zip(args, values):
                if cond:
                    work.append((pair.args[0], weight))
                    break
        else:
            for k, arg in enumerate(args):
                work.append((arg, weight * _local_partial(node, k, values)))
    return value, [grads[n] for n in names]


_PARTIALS: dict[tuple[Any, int, int], Any] = {}


def _local_partial(node: Any, k: int, values: list[Any]) -> Any:
    """d node / d (its k-th argument), from sympy.diff on dummy arguments, at `values`."""
    key = (node.func, len(values), k)
    if key not in _PARTIALS:
        dummies = sp.symbols(f"_a0:{len(values)}", real=True)
        _PARTIALS[key] = (dummies, sp.diff(node.func(*dummies), dummies[k]))
    dummies, formula = _PARTIALS[key]
    return Evaluator({d.name: v for d, v in zip(dummies, values)})(formula)


def gradient_by_diff(expr: Any, names: Sequence[str],
                     point: dict[str, float]) -> tuple[Any, list[Any]]:
    """The same as `gradient`, by `sympy.diff` of the whole expression (small formulas)."""
    ev = Evaluator(point)
    symbols = {s.name: s for s in expr.free_symbols}
    grads = [ev(sp.diff(expr, symbols[n])) if n in symbols else mpmath.mpf(0) for n in names]
    return ev(expr), grads


def rel_error(got: float, exact: Any, scale: Any = 0) -> float:
    """|got - exact| / |exact|; components far smaller than `scale` (the largest component
    of the same gradient) are measured against 1e-12 * scale instead of their own size."""
    exact = mpmath.mpf(exact)
    floor = mpmath.mpf(1e-12) * abs(mpmath.mpf(scale))
    denom = max(abs(exact), floor, mpmath.mpf(1e-300))
    return float(abs(mpmath.mpf(got) - exact) / denom)
