"""A symback graph and its gradient as sympy expressions, without swell (the core of
`symback.to_sympy` and `Compiled.sympy()`).

`gradient_to_sympy(expression, wrt)` runs reverse mode on the graph (the same
`reverse.gradient` that `compile` uses) and writes the result the way `sympy.cse` would:
every node that is used more than once, and every named intermediate (`p = x + y`), becomes
a replacement `(Symbol, Expr)`; everything else is inlined into its one user. So the value
and the gradient share their subexpressions through the replacement symbols and nothing is
duplicated: the size of the result is linear in the size of the graph.

Each node is converted with its op's sympy twin (`Op.sympy` in the rule table) under
`sympy.evaluate(False)`: sympy then keeps symback's structure as it is and never runs its
assumption queries, which recurse over the whole tree (a sympy `sin(sin(...))` 330 deep
fails to build with evaluation on). The walk is a loop over node ids.

Inputs are real sympy Symbols (`Symbol("x", real=True)`; symback computes over the reals), or
the original Symbols when the expression came from sympy. Replacement symbols take the
user's names for named intermediates and `t1, t2, ...` otherwise (skipping input names).

This module imports no front end (api, explain): `Compiled.sympy()` calls it directly.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

from .graph import Graph
from .ops import OPS
from .parse import Expression


class SympyGradient(NamedTuple):
    """What `to_sympy` returns.

    Attributes:
        replacements: `(Symbol, Expr)` pairs in dependency order, as `sympy.cse` gives them:
            each right-hand side uses inputs and earlier replacement symbols only.
        value: the output (an Expr), or a list of Exprs for several outputs.
        gradient: `[d value / d w for w in wrt]`, or for several outputs one such row per
            output (the Jacobian).
    """

    replacements: list[tuple[Any, Any]]
    value: Any
    gradient: list[Any]


def gradient_to_sympy(expression: Expression, wrt: Sequence[str],
                      max_depth: int | None = None) -> SympyGradient:
    """The value and gradient of a parsed expression as sympy expressions, shared parts
    named. `wrt` are input names (an unknown one gets a new input: gradient 0); `max_depth`
    also names nodes whose formula would be deeper (see `graph_to_sympy`)."""
    import sympy

    from . import reverse

    g = expression.graph
    for name in wrt:
        if g.lookup_var(name) is None:
            g.var(name)                          # an input that does not occur: gradient 0
    wrt_nodes = [g.lookup_var(n) for n in wrt]
    rows = [reverse.gradient(g, out, wrt_nodes).grads  # type: ignore[arg-type]
            for out in expression.outputs]
    roots = list(expression.outputs) + [d for row in rows for d in row]
    symbols = _input_symbols(sympy, expression)
    replacements, exprs = graph_to_sympy(sympy, g, roots, symbols, expression.inputs,
                                         max_depth)
    values = [exprs[n] for n in expression.outputs]
    grads = [[exprs[d] for d in row] for row in rows]
    if len(values) == 1:
        return SympyGradient(replacements, values[0], grads[0])
    return SympyGradient(replacements, values, grads)


def _input_symbols(sp: Any, expression: Expression) -> dict[str, Any]:
    """Input name -> Symbol: the original ones for sympy input, else real Symbols."""
    original = getattr(expression, "symbols", {})
    return {name: original.get(name) or sp.Symbol(name, real=True)
            for name in expression.graph.variables()}


def graph_to_sympy(sp: Any, g: Graph, roots: list[int], inputs: dict[str, Any],
                   taken: Sequence[str] = (), max_depth: int | None = None
                   ) -> tuple[list[tuple[Any, Any]], dict[int, Any]]:
    """The live nodes under `roots` as sympy expressions, shared nodes as replacements.

    A node becomes a replacement when it is used more than once (as an operand, or also as
    a root) or carries a user name, or (with `max_depth`) when its inlined formula would
    span more than `max_depth` graph nodes from top to bottom -- unless it is a leaf or a
    condition (a sympy Symbol cannot stand for a condition inside a Piecewise).

    Args:
        sp: the sympy module.
        g: the graph.
        roots: the nodes wanted.
        inputs: input name -> its Symbol.
        taken: names replacement symbols must not use (besides the inputs').
        max_depth: bound the depth of every formula (sympy's printers recurse: a chain of
            a few hundred inlined nodes cannot be printed); None: no bound.

    Returns:
        (replacements in dependency order, node -> sympy expression for every live node and
        every root; a replaced node maps to its replacement symbol).
    """
    live = g.live(roots)
    uses: dict[int, int] = {}
    for n in roots:
        uses[n] = uses.get(n, 0) + 1
    for i in live:
        for a in g.args[i]:
            uses[a] = uses.get(a, 0) + 1
    used_names = set(inputs) | set(taken) | {s.name for s in inputs.values()}
    counter = 0
    replacements: list[tuple[Any, Any]] = []
    exprs: dict[int, Any] = {}
    depth: dict[int, int] = {}                   # graph nodes in the inlined formula, deepest
    with sp.evaluate(False):
        for n in roots:
            if g.ops[n] in ("var", "const"):
                exprs[n] = leaf(sp, g, n, inputs)
        for i in live:
            for a in g.args[i]:
                if a not in exprs:
                    exprs[a] = leaf(sp, g, a, inputs)
            e = settled(OPS[g.ops[i]].sympy(sp, *(exprs[a] for a in g.args[i])))
            depth[i] = 1 + max(depth.get(a, 0) for a in g.args[i])
            deep = max_depth is not None and depth[i] > max_depth
            if OPS[g.ops[i]].kind == "real" and (uses.get(i, 0) > 1 or i in g.names or deep):
                name = g.names.get(i)
                if name is None or name in used_names:
                    counter += 1
                    while f"t{counter}" in used_names:
                        counter += 1
                    name = f"t{counter}"
                used_names.add(name)
                sym = sp.Symbol(name, real=True)
                replacements.append((sym, e))
                e = sym
                depth[i] = 0
            exprs[i] = e
    return replacements, exprs


def leaf(sp: Any, g: Graph, node: int, inputs: dict[str, Any]) -> Any:
    """A constant or an input as sympy: integers exact, pi and e by name, else a Float."""
    if g.ops[node] == "var":
        return inputs[g.values[node]]
    v = g.values[node]
    if math.isnan(v):
        return sp.nan
    if math.isinf(v):
        return sp.oo if v > 0 else -sp.oo
    if v == int(v) and abs(v) < 2 ** 53:
        return sp.Integer(int(v))
    if v == math.pi:
        return sp.pi
    if v == math.e:
        return sp.E
    return sp.Float(v)


def inline(replacements: list[tuple[Any, Any]], expr: Any) -> Any:
    """`expr` (an Expr or a list, nested once) with the replacement symbols substituted
    back: the inverse of `sympy.cse`. Each right-hand side is rebuilt over the already
    rebuilt earlier ones, so shared parts stay shared objects; the rebuild is a loop (sympy's
    own `xreplace`/`subs` recurse over the tree)."""
    import sympy

    done: dict[Any, Any] = {}
    with sympy.evaluate(False):
        for sym, rhs in replacements:
            done[sym] = _rebuild(rhs, done)
        if isinstance(expr, list):
            return [[_rebuild(e, done) for e in x] if isinstance(x, list) else _rebuild(x, done)
                    for x in expr]
        return _rebuild(expr, done)


def post_order(expr: Any) -> list[Any]:
    """Every distinct sub-object of a sympy expression (by identity), children first: a loop
    over an explicit stack (sympy's own walks recurse)."""
    order: list[Any] = []
    seen: set[int] = set()
    stack = [(expr, False)]
    while stack:
        e, expanded = stack.pop()
        if id(e) in seen:
            continue
        if expanded or not e.args or e.is_Symbol or e.is_Number:
            seen.add(id(e))
            order.append(e)
        else:
            stack.append((e, True))
            stack.extend((a, False) for a in e.args if id(a) not in seen)
    return order


def _rebuild(expr: Any, mapping: dict[Any, Any]) -> Any:
    """expr with the Symbols in `mapping` replaced (shared parts stay shared objects)."""
    built: dict[int, Any] = {}
    for e in post_order(expr):
        if e.is_Symbol:
            built[id(e)] = mapping.get(e, e)
        elif not e.args or e.is_Number:
            built[id(e)] = e
        else:
            args = [built[id(a)] for a in e.args]
            same = all(a is b for a, b in zip(args, e.args))
            built[id(e)] = e if same else settled(e.func(*args))
    return built[id(expr)]


def settled(e: Any) -> Any:
    """e, with the assumption sympy asks of every operand (commutativity) computed now,
    while its operands know theirs: asked first at the top of a deep unevaluated tree, it
    recurses down the whole tree."""
    _ = e.is_commutative
    return e



__all__ = ["SympyGradient", "gradient_to_sympy", "graph_to_sympy", "inline", "leaf",
           "post_order", "settled"]
