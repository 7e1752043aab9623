"""Forward mode: tangents (directional derivatives) as new nodes of the same graph.

`jvp(g, outputs, {input: tangent})` walks ids upwards from the first seeded node (creation
order is a topological order): each node that depends on a seeded node and is needed by an
output gets the tangent `sum_k partial_k * tangent[arg_k]`, with the partials taken from the
rule table -- the same rules the reverse pass uses -- and products built by `reverse.times`,
so exact zeros stay exact and branches of `where` that were not taken contribute nothing.

Because tangents are ordinary interned, folded graph nodes, forward mode composes with
reverse mode: the jvp of the gradient nodes is a Hessian-vector product (forward over
reverse), and with unit tangents (the constant 1, folded away) it is a column of the Hessian.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from .graph import Graph
from .indices import text as index_text
from .loops import Loop, Scatter
from .reverse import gradient, local_partials, times, weighted_spec


@dataclass
class Tangent:
    """The result of a forward sweep.

    Attributes:
        outputs: per requested output, the node of its tangent (the constant 0 if none).
        named: for each user-named node on the active path, the node of its tangent.
    """

    outputs: list[int]
    named: dict[str, int]


def jvp(g: Graph, outputs: list[int], tangents: dict[int, int]) -> Tangent:
    """Add the nodes of the directional derivatives of `outputs` to `g`.

    Args:
        g: the graph (it grows).
        outputs: the nodes to differentiate.
        tangents: seed node -> the node of its tangent (e.g. an input -> the constant 1, or
            an input -> a new input `v_x` for a Hessian-vector product). Seeds whose tangent
            is the constant 0 are ignored.

    Returns:
        A `Tangent`; an output that does not depend on any seed gets the constant 0.
    """
    zero = g.const(0.0)
    tan: dict[int, int] = {}
    for seed in sorted(tangents):
        if not g.is_const(tangents[seed], 0.0):
            tan[seed] = tangents[seed]
    named: dict[str, int] = {}
    if not tan or not outputs:
        return Tangent([tan.get(o, zero) for o in outputs], named)
    top = max(outputs)
    seeds = list(tan)
    active = g.depends_on(seeds, top)
    needed = _ancestors(g, outputs, top)
    has_tangent = bytearray(top + 1)           # flags by node id: i in tan
    for seed in seeds:
        if seed <= top:
            has_tangent[seed] = 1
    for i in range(min(seeds), top + 1):
        if i in tan or not (active[i] and needed[i]):
            continue
        op = g.ops[i]
        if op in ("var", "const"):
            continue
        t = _tangent_of(g, i, tan, has_tangent)
        if t is not None:
            tan[i] = t
            has_tangent[i] = 1
            if i in g.names:
                named.setdefault(g.names[i], t)
    return Tangent([tan[o] if o in tan else _zero_like(g, o) for o in outputs], named)


def _zero_like(g: Graph, node: int) -> int:
    """The tangent 0 of a node: an array adjoint's is an empty scatter (zeros)."""
    if g.ops[node] == "scatter":
        spec = g.values[node]
        return g.structure("scatter", Scatter(spec.array, spec.shape, []), ())
    return g.const(0.0)


def _tangent_of(g: Graph, node: int, tan: dict[int, int],
                has_tangent: bytearray) -> int | None:
    """sum_k tangent[arg_k] * partial_k for one op node; None for an exact zero. A rolled
    loop adds the tangent of its arrays' reads; an array adjoint's tangent is a scatter."""
    if g.ops[node] == "scatter":
        return _scatter_tangent(g, node, tan.get)
    acc: int | None = None
    for _, arg, p in local_partials(g, node, has_tangent):
        term = times(g, tan[arg], p)
        if term is None:
            continue
        acc = term if acc is None else g.apply("add", acc, term)
    if g.ops[node] == "loop":
        moved = _loop_tangent(g, node, tan.get)
        if moved is not None:
            acc = moved if acc is None else g.apply("add", acc, moved)
    return acc


def _tangent_reads(g: Graph, loop: Loop, arrays: tuple[int, ...],
                   tangent_of: Callable[[int], int | None]
                   ) -> tuple[dict[int, int], dict[int, tuple], list[str], list[int]]:
    """For the arrays of `loop` (their nodes `arrays`) that have tangent arrays: body read
    var -> the body var reading the tangent array at the same index; the loop's reads with
    those added; the tangent arrays' names and nodes."""
    seeds: dict[int, int] = {}
    reads = dict(loop.reads)
    names, nodes = [], []
    for name, node in zip(loop.arrays, arrays):
        t = tangent_of(node)
        if t is None:
            continue
        names.append(g.values[t])
        nodes.append(t)
        for v, (a, index) in loop.reads.items():
            if a == name:
                tv = loop.body.var(f"{g.values[t]}[{', '.join(index_text(i) for i in index)}]")
                reads[tv] = (g.values[t], index)
                seeds[v] = tv
    return seeds, reads, names, nodes


def _loop_tangent(g: Graph, node: int, tangent_of: Callable[[int], int | None]) -> int | None:
    """The tangent a rolled sum gets from its arrays: the sum loop of
    d(body)/d(x[index]) * v_x[index] over the reads of arrays with a tangent array."""
    spec: Loop = g.values[node]
    args = g.args[node]
    first = len(spec.arrays)
    seeds, reads, names, nodes = _tangent_reads(g, spec, args[:first], tangent_of)
    if not seeds:
        return None
    body = spec.body
    partials = gradient(body, spec.result, list(seeds)).grads
    total: int | None = None
    for (v, tv), p in zip(seeds.items(), partials):
        term = times(body, p, tv)
        if term is not None:
            total = term if total is None else body.apply("add", total, term)
    if total is None:
        return None
    if spec.kind != "sum":                    # min, max, prod: weighted (reverse.weights)
        spec, args = weighted_spec(g, node, total)
        total = spec.result
    moved = replace(spec, kind="sum", result=total, reads=reads,
                    arrays=spec.arrays + tuple(names), _partials={}, _weights=None)
    return g.structure("loop", moved, args[:first] + tuple(nodes) + args[first:])


def _scatter_tangent(g: Graph, node: int, tangent_of: Callable[[int], int | None]) -> int:
    """The tangent of an array adjoint: per term, the scatter of the tangent of
    seed * d(body)/d(read), by forward mode on the body graph, whose tangent inputs are
    reads of the tangent arrays and the captured tangents of captures and seed."""
    spec: Scatter = g.values[node]
    args = g.args[node]
    parts, new_args, k = [], [], 0
    for loop, seed_var, items in spec.terms:
        n_arrays, n_captures = len(loop.arrays), len(loop.captures)
        seed = args[k]
        arrays = args[k + 1:k + 1 + n_arrays]
        captures = args[k + 1 + n_arrays:k + 1 + n_arrays + n_captures]
        k += 1 + n_arrays + n_captures
        body = loop.body
        seeds, reads, names, nodes = _tangent_reads(g, loop, arrays, tangent_of)
        extra, extra_args = [], []
        for var, outer in list(zip(loop.captures, captures)) + [(seed_var, seed)]:
            t = tangent_of(outer) if body.ops[var] == "var" else None
            if t is None:
                continue
            if g.ops[t] == "const":
                seeds[var] = body.const(g.values[t])
                continue
            seeds[var] = body.var(f"@{t}")
            if seeds[var] not in extra:
                extra.append(seeds[var])
                extra_args.append(t)
        if not seeds:
            continue
        moved = jvp(body, [t for _, t in items], seeds).outputs
        kept = [(v, t) for (v, _), t in zip(items, moved) if not body.is_const(t, 0.0)]
        if not kept:
            continue
        term = replace(loop, reads=reads, arrays=loop.arrays + tuple(names),
                       captures=loop.captures + tuple(extra), _partials={})
        parts.append((term, seed_var, kept))
        new_args += [seed, *arrays, *nodes, *captures, *extra_args]
    return g.structure("scatter", Scatter(spec.array, spec.shape, parts), tuple(new_args))


def _ancestors(g: Graph, roots: list[int], top: int) -> bytearray:
    """flags[i] == 1 iff node i (i <= top) is needed to compute one of `roots`."""
    needed = bytearray(top + 1)
    for r in roots:
        needed[r] = 1
    args = g.args
    for i in range(top, -1, -1):
        if needed[i]:
            for a in args[i]:
                needed[a] = 1
    return needed
