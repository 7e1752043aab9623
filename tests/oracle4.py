"""Shared helpers of the issue-4 tests (Jacobian, Hessian, numpy backend): a sympy twin of a
parsed expression built from the rule table, a small random-expression generator, and the
shared workloads."""

from __future__ import annotations

import math
import random
from pathlib import Path

import sympy as sp

import symback
from symback.ops import OPS

WORKLOADS = Path(__file__).resolve().parent.parent / "benchmarks" / "workloads"


def workload(name: str) -> symback.api.ExprFile:
    """One of the shared workloads (benchmarks/workloads/<name>.expr)."""
    return symback.read_expr_file(WORKLOADS / f"{name}.expr")


def sympy_outputs(compiled: symback.Compiled) -> tuple[list[sp.Expr], list[sp.Symbol]]:
    """The outputs of a compiled expression as sympy expressions, and the wrt symbols."""
    expression = compiled.expression
    g = expression.graph
    symbols = {name: sp.Symbol(name, real=True) for name in compiled.inputs}
    top = max(expression.outputs)
    needed = bytearray(top + 1)
    for r in expression.outputs:
        needed[r] = 1
    for i in range(top, -1, -1):
        if needed[i]:
            for a in g.args[i]:
                needed[a] = 1
    value: dict[int, sp.Expr] = {}
    for i in range(top + 1):
        if not needed[i]:
            continue
        op = g.ops[i]
        if op == "const":
            value[i] = sp.Rational(g.values[i])
        elif op == "var":
            value[i] = symbols[g.values[i]]
        else:
            value[i] = OPS[op].sympy(sp, *(value[a] for a in g.args[i]))
    return [value[o] for o in expression.outputs], [symbols[w] for w in compiled.wrt]


def evaluate(expr: sp.Expr, symbols: list[sp.Symbol], point: list[float]) -> float:
    """expr at point, evaluated with 30 digits."""
    return float(sp.N(expr.subs(dict(zip(symbols, [sp.Rational(p) for p in point]))), 30))


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    """a and b agree to `rel`, relative to max(1, |b|)."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)


_UNARY = ["sin({})", "cos({})", "tanh({})", "atan({})", "exp(tanh({}))", "log(1 + ({})**2)",
          "sqrt(1 + ({})**2)", "sigmoid({})", "softplus({})", "({})**2", "({})**3",
          "-({})", "erf({})", "asinh({})", "cosh(tanh({}))"]
_BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1.5 + ({})**2)",
           "hypot(({}), 1 + ({})**2)", "atan2({}, 2 + ({})**2)"]


def random_expression(rng: random.Random, names: list[str], size: int) -> str:
    """A random smooth expression over `names` with about `size` operations, built as text
    from the bottom up (no recursion): every function is applied where it is defined."""
    pool = list(names) + [repr(round(rng.uniform(-2, 2), 3)) for _ in range(2)]
    parts = [rng.choice(names) for _ in range(max(2, size // 2))]
    for _ in range(size):
        if rng.random() < 0.45 or len(parts) < 2:
            k = rng.randrange(len(parts))
            parts[k] = rng.choice(_UNARY).format(parts[k])
        else:
            a = parts.pop(rng.randrange(len(parts)))
            b = parts.pop(rng.randrange(len(parts)))
            parts.append(rng.choice(_BINARY).format(a, b))
        if rng.random() < 0.2:
            parts.append(rng.choice(pool))
    text = parts[0]
    for extra in parts[1:]:
        text = f"({text}) + ({extra})"
    return text
