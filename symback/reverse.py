"""Reverse mode: adjoints accumulated as new nodes of the same graph.

For an output node and a list of input nodes, walk the graph backwards from the output (ids
in decreasing order are a reverse topological order). Each node's adjoint is final when the
walk reaches it; its local partials come from the rule table and are multiplied in
(chain rule), then added to the adjoints of its operands. Only nodes that depend on a chosen
input get adjoints, so `x**2` never builds the `log(x)` term of the exponent's partial.

The adjoints are ordinary graph nodes, interned and folded like the user's, so the gradient
is itself a DAG (it can be differentiated again) and does not swell.

Zeros are symbolic: a partial that is the constant 0 contributes nothing, and an adjoint of
the form `where(c, g, 0)` stays in that form when multiplied (`where(c, g*p, 0)`), so a
branch that `where` did not take contributes an exact 0 -- never `0 * inf = nan`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterator

from .graph import Graph, Node
from .loops import Loop, Scatter
from .ops import OPS


@dataclass
class Gradient:
    """The result of a reverse pass.

    Attributes:
        output: the differentiated node.
        grads: per requested input, the node of d(output)/d(input).
        adjoints: for each named node on the active path (inputs and user-named
            intermediates), the node of its final adjoint: name -> node.
    """

    output: int
    grads: list[int]
    adjoints: dict[str, int]


def gradient(g: Graph, output: int, wrt: list[int]) -> Gradient:
    """Add the nodes of d(output)/d(w) for each w in `wrt` to `g`.

    Args:
        g: the graph (it grows).
        output: the node to differentiate.
        wrt: input nodes (or any nodes) to differentiate with respect to.

    Returns:
        A `Gradient`; a `w` the output does not depend on gets the constant 0.
    """
    active = g.depends_on(wrt, output)
    adj: dict[int, int] = {}
    if active[output]:
        adj[output] = g.const(1.0)
    named: dict[str, int] = {}
    keep = set(wrt)       # membership only; adjoints of other nodes are dropped once used
    scatters: dict[int, list[tuple[int, int]]] = {}    # array var -> [(loop, its adjoint)]
    for i in range(output, -1, -1):
        a = adj.get(i) if i in keep else adj.pop(i, None)
        if a is None:
            continue
        if i in g.names:
            named.setdefault(g.names[i], a)
        op = g.ops[i]
        if op in ("var", "const"):
            continue
        if op == "loop":                   # the arrays it reads: scattered at the end
            for arr in g.args[i][:len(g.values[i].arrays)]:
                if active[arr]:
                    scatters.setdefault(arr, []).append((i, a))
        for _, arg, partial in local_partials(g, i, active):
            term = times(g, a, partial)
            if term is None:
                continue
            adj[arg] = term if arg not in adj else g.apply("add", adj[arg], term)
    grads = [scatter(g, w, scatters.get(w, [])) if g.ops[w] == "var" and g.values[w] in g.arrays
             else adj.get(w, g.const(0.0)) if w <= output else g.const(0.0) for w in wrt]
    for w, d in zip(wrt, grads):
        if g.ops[w] == "var":
            named.setdefault(g.values[w], d)
    return Gradient(output, grads, named)


def local_partials(g: Graph, node: int,
                   active: bytearray) -> Iterator[tuple[int, int, int]]:
    """The local partials of one op node, built by the rule table: the one rule-calling loop
    of reverse mode, forward mode and `explain`.

    Args:
        g: the graph (it grows: the rules build their partials as its nodes).
        node: an op node (not a `var` or `const`).
        active: flags by node id: a derivative flows into operands whose flag is set (e.g.
            the operand depends on the differentiated inputs).

    Yields:
        (operand position k, operand node, node of d(node)/d(operand k)) for each operand
        that is active and has a rule, in operand order. An operand used twice (`x * x`)
        appears once per position. Partials that fold to the constant 0 are yielded too
        (callers decide: `times` drops them). Lazily: nodes the caller builds between two
        items come before the next partial's nodes, so node ids (and the generated code)
        do not depend on how the loop is written.
    """
    if g.ops[node] == "loop":
        yield from _loop_partials(g, node, active)
        return
    rules = OPS[g.ops[node]].partials
    args = g.args[node]
    handles: list[Node] | None = None
    for k, arg in enumerate(args):
        if not active[arg] or rules[k] is None:
            continue
        if handles is None:           # built once, and only when a rule runs
            handles = [Node(g, node)] + [Node(g, x) for x in args]
        made = rules[k](*handles)
        yield k, arg, made.id if isinstance(made, Node) else g.const(float(made))


def _loop_partials(g: Graph, node: int, active: bytearray) -> Iterator[tuple[int, int, int]]:
    """The partials of a rolled loop with respect to its captured values: loops over the
    body's partials, which the rule table builds on the body graph (arrays: `scatter`).
    A sum's are sums of df/dc; a min's, max's or prod's are `weighted` sums."""
    spec: Loop = g.values[node]
    args = g.args[node]
    first = len(spec.arrays)
    for k, cap in enumerate(spec.captures):
        arg = args[first + k]
        if not active[arg]:
            continue
        if not spec._partials:
            found = gradient(spec.body, spec.result, list(spec.captures)).grads
            spec._partials.update(zip(spec.captures, found))
        p = spec.partial(cap)
        if spec.body.is_const(p, 0.0):
            yield first + k, arg, g.const(0.0)
        elif spec.kind == "sum":
            yield first + k, arg, g.structure("loop", spec.derived(p), args)
        else:
            yield first + k, arg, weighted(g, node, p)


def weights(g: Graph, node: int) -> tuple[int, tuple[tuple[int, int], ...]]:
    """d(L) = sum_i w_i d(f_i) for a rolled min, max or prod L of the body values f_i: the
    body node of w_i, and the values it reads from outside, as (body var, outer node).

    - min and max: w_i = where(f_i == L, 1 / count, 0), count the sum loop of
      where(f_i == L, 1, 0): the iterations that reach the extremum share its derivative.
    - prod: with `zeros` the number of f_i equal to 0 and `rest` the product of the others,
      w_i = rest / f_i without zeros, rest for the one zero factor, else 0: the product of
      the other factors, exact at zeros.
    """
    spec: Loop = g.values[node]
    if spec._weights is None:
        body, f = spec.body, spec.result
        zero, one = body.const(0.0), body.const(1.0)
        if spec.kind == "prod":
            is_zero = body.apply("eq", f, zero)
            zeros = g.structure("loop", spec.derived(body.apply("where", is_zero, one, zero)),
                                g.args[node])
            rest = g.structure("loop", replace(spec.derived(body.apply("where", is_zero, one, f)),
                                               kind="prod"), g.args[node])
            zv, rv = body.var(f"@{zeros}"), body.var(f"@{rest}")
            alone = body.apply("where", body.apply("eq", zv, one), rv, zero)
            w = body.apply("where", body.apply("eq", zv, zero), body.apply("div", rv, f),
                           body.apply("where", is_zero, alone, zero))
            spec._weights = (w, ((zv, zeros), (rv, rest)))
        else:
            lv = body.var(f"@{node}")
            chosen = body.apply("eq", f, lv)
            count = g.structure("loop", replace(spec.derived(body.apply("where", chosen, one,
                                                                          zero)),
                                                captures=spec.captures + (lv,)),
                                g.args[node] + (node,))
            share = g.apply("div", g.const(1.0), count)
            sv = body.var(f"@{share}")
            spec._weights = (body.apply("where", chosen, sv, zero), ((lv, node), (sv, share)))
    return spec._weights


def weighted_spec(g: Graph, node: int, result: int) -> tuple[Loop, tuple[int, ...]]:
    """The sum loop of w_i * result_i (see `weights`) and its operands."""
    spec: Loop = g.values[node]
    w, extra = weights(g, node)
    term = times(spec.body, w, result)
    moved = replace(spec.derived(term if term is not None else spec.body.const(0.0)),
                    captures=spec.captures + tuple(v for v, _ in extra))
    return moved, g.args[node] + tuple(n for _, n in extra)


def weighted(g: Graph, node: int, result: int) -> int:
    """The node of the sum loop of w_i * result_i over a min, max or prod loop."""
    moved, args = weighted_spec(g, node, result)
    return g.structure("loop", moved, args)


def scatter(g: Graph, array: int, terms: list[tuple[int, int]]) -> int:
    """The adjoint of the whole-array input `array`: a scatter node (see `loops.Scatter`)
    adding, for each (loop, adjoint) in `terms`, adjoint * d(L)/d(read) at each read of
    the array (weighted for a min, max or prod), built on the loop's body graph by the
    rule table."""
    name = g.values[array]
    parts = []
    args: list[int] = []
    for loop, seed in terms:
        spec: Loop = g.values[loop]
        body = spec.body
        seed_var = body.const(g.values[seed]) if g.ops[seed] == "const" else body.var("@seed")
        reads = [v for v, (a, _) in spec.reads.items() if a == name]
        partials = [body.const(1.0)] if spec.is_read() else \
            gradient(body, spec.result, reads).grads       # (x[3] outside loops: 1)
        loop_args = g.args[loop]
        if spec.kind != "sum":
            w, _ = weights(g, loop)
            partials = [t if (t := times(body, w, p)) is not None else body.const(0.0)
                        for p in partials]
            spec, loop_args = weighted_spec(g, loop, spec.result)
        items = [(v, t) for v, p in zip(reads, partials)
                 if (t := times(body, seed_var, p)) is not None]
        if items:
            parts.append((spec, seed_var, items))
            args += [seed, *loop_args]
    return g.structure("scatter", Scatter(name, g.arrays[name], parts), tuple(args))


def _peel(g: Graph, node: int, wraps: list[tuple[int, bool]]) -> int:
    """Strip `where(c, u, 0)` / `where(c, 0, u)` wrappers, recording (c, taken) in `wraps`."""
    while g.ops[node] == "where":
        c, t, f = g.args[node]
        if g.is_const(f, 0.0):
            wraps.append((c, True))
            node = t
        elif g.is_const(t, 0.0):
            wraps.append((c, False))
            node = f
        else:
            break
    return node


# An adjoint that is a sum of at most this many `where(c, u, 0)` terms (a node used by
# several `where` branches) is multiplied term by term.
_MAX_GUARDED_TERMS = 8


def _guarded_terms(g: Graph, a: int) -> list[int]:
    """The terms of `a` if it is a sum of 2..8 `where(c, u, 0)`-style terms, else []."""
    if g.ops[a] != "add":
        return []
    terms, todo = [], [a]
    while todo:
        n = todo.pop()
        if g.ops[n] == "add":
            todo.extend(reversed(g.args[n]))
        elif _peel(g, n, []) != n:
            terms.append(n)
        else:
            return []
        if len(terms) + len(todo) > _MAX_GUARDED_TERMS:
            return []
    return terms


def times(g: Graph, a: int, b: int) -> int | None:
    """The product a*b of an adjoint and a partial, with exact symbolic zeros.

    Returns None for an exact zero. A factor `where(c, u, 0)` is pulled out of the product,
    `where(c, u*b, 0)`, so the other factor is only used where the branch was taken; a sum
    of such terms is multiplied term by term. (Recursion here is one level deep: the terms
    of a guarded sum are `where`s, which take the non-recursive path.)
    """
    if g.is_const(a, 0.0) or g.is_const(b, 0.0):
        return None
    parts = _guarded_terms(g, a)
    if parts:                 # (where(c1, u, 0) + where(c2, v, 0)) * b: one product per branch
        terms = [t for t in (times(g, p, b) for p in parts) if t is not None]
        if not terms:
            return None
        total = terms[0]
        for t in terms[1:]:
            total = g.apply("add", total, t)
        return total
    wraps: list[tuple[int, bool]] = []
    core_a = _peel(g, a, wraps)
    core_b = _peel(g, b, wraps)
    if g.is_const(core_a, 0.0) or g.is_const(core_b, 0.0):
        return None
    node = g.apply("mul", core_a, core_b)
    zero = g.const(0.0)
    for c, taken in reversed(wraps):
        node = g.apply("where", c, node, zero) if taken else g.apply("where", c, zero, node)
    return node
