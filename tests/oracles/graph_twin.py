"""The sympy twin of a parsed symback graph: each node rebuilt with the rule table's sympy
spelling (`OPS[op].sympy`), in creation order (no recursion). Not independent of symback's
parser and graph -- `sympy_oracle` is -- but it lets sympy check what symback built from the
same graph: Jacobians, Hessians, and texts sympy's parser cannot read (1,000 nested
parentheses)."""

from __future__ import annotations

import math
import sys
from typing import Sequence

import sympy as sp

import symback
from symback.ops import OPS
from symback.parse import Expression

from .sympy_oracle import Evaluator


def to_sympy(expression: Expression, names: Sequence[str] | None = None) -> list[sp.Expr]:
    """The outputs of `expression` as sympy expressions of real symbols named after its
    inputs (or `names`). Only the nodes the outputs need are built; constants are exact."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50000))  # sympy recurses on depth
    g = expression.graph
    symbols = {n: sp.Symbol(n, real=True) for n in (names or expression.inputs)}
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
    return [value[o] for o in expression.outputs]


def sympy_outputs(compiled: symback.Compiled) -> tuple[list[sp.Expr], list[sp.Symbol]]:
    """The outputs of a compiled expression as sympy expressions, and the wrt symbols."""
    outputs = to_sympy(compiled.expression, compiled.inputs)
    return outputs, [sp.Symbol(w, real=True) for w in compiled.wrt]


def evaluate(expr: sp.Expr, symbols: list[sp.Symbol], point: list[float]) -> float:
    """expr at point, evaluated with 30 digits."""
    return float(Evaluator(dict(zip([s.name for s in symbols], point)))(expr))


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    """a and b agree to `rel`, relative to max(1, |b|)."""
    return math.isclose(a, b, rel_tol=rel, abs_tol=rel)
