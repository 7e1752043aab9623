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

from dataclasses import dataclass

from .graph import Graph
from .reverse import local_partials, times


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
    return Tangent([tan.get(o, zero) if o <= top else zero for o in outputs], named)


def _tangent_of(g: Graph, node: int, tan: dict[int, int],
                has_tangent: bytearray) -> int | None:
    """sum_k tangent[arg_k] * partial_k for one op node; None for an exact zero."""
    acc: int | None = None
    for _, arg, p in local_partials(g, node, has_tangent):
        term = times(g, tan[arg], p)
        if term is None:
            continue
        acc = term if acc is None else g.apply("add", acc, term)
    return acc


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
