"""Sparse Jacobians and Hessians: the structure from the graph, each nonzero computed once.

The structure is found in two steps, both on the graph, never on numbers:

1. Candidates by dependency: d out_k / d x_j can only be nonzero if node out_k depends on
   input x_j (a bitset pass over the graph, `input_dependencies`); for a Hessian, the
   candidates of row i are the inputs its gradient node depends on.
2. The entries themselves: the candidate columns are colored so that no two columns of one
   color share a candidate row (greedy, in column order: `color_columns`), and one sweep per
   color differentiates along the sum of its unit vectors. Each compressed entry is then
   exactly one derivative node (the other columns of its color are structurally absent from
   that row). An entry whose node folds to the constant 0 is structurally zero and left
   out, so the pattern is exactly the set of derivative nodes that are not the constant 0.

Jacobian: forward sweeps over column colors, or reverse sweeps over row colors (the gradient
of the sum of the outputs of one row color), whichever needs fewer sweeps. Hessian: forward
over reverse, the jvp of the gradient along each column color, and only of the rows whose
entry in that color lies in the lower triangle: the upper triangle is never built. The work
is the number of colors times a sweep (3 for a tridiagonal Hessian, whatever n), not n
gradients.

Patterns are lists of (row, column) in row-major order: deterministic, since every step
loops over ids and lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .derivatives import (Plan, check_mode, check_plan, hvp, labelled_gradient,
                          tangent_inputs)
from .errors import ArgumentError, MissingDependencyError
from .forward import jvp
from .graph import Graph
from .reverse import gradient


@dataclass
class Sparse:
    """A sparse matrix of derivative nodes.

    Attributes:
        rows, cols: the structural nonzeros, row-major (a Hessian: the lower triangle).
        nodes: the node of each nonzero, in the same order.
        shape: (rows, columns) of the dense matrix.
        colors: the number of sweeps that built it.
        mode: "forward" or "reverse" (the sweep direction).
    """

    rows: list[int]
    cols: list[int]
    nodes: list[int]
    shape: tuple[int, int]
    colors: int
    mode: str


def input_dependencies(g: Graph, wrt: list[int], nodes: list[int]) -> list[int]:
    """Per node of `nodes`, a bitset (int) of the positions in `wrt` it depends on."""
    if not nodes:
        return []
    top = max(nodes)
    deps = [0] * (top + 1)
    for j, w in enumerate(wrt):
        if w <= top:
            deps[w] |= 1 << j
    args = g.args
    for i in range(top + 1):
        m = deps[i]
        for a in args[i]:
            m |= deps[a]
        deps[i] = m
    return [deps[n] for n in nodes]


def _bits(mask: int) -> list[int]:
    """The positions of the set bits of `mask`, increasing."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def color_columns(pattern: list[list[int]], n_cols: int) -> list[int]:
    """A color per column such that no row has two candidate columns of one color
    (greedy in column order; deterministic).

    Args:
        pattern: per row, its candidate columns.
        n_cols: the number of columns.
    """
    col_rows: list[list[int]] = [[] for _ in range(n_cols)]
    for i, cols in enumerate(pattern):
        for j in cols:
            col_rows[j].append(i)
    row_colors: list[set[int]] = [set() for _ in pattern]   # membership only
    colors = [0] * n_cols
    for j in range(n_cols):
        taken: set[int] = set()
        for i in col_rows[j]:
            taken |= row_colors[i]
        c = 0
        while c in taken:
            c += 1
        colors[j] = c
        for i in col_rows[j]:
            row_colors[i].add(c)
    return colors


def _groups(colors: list[int]) -> list[list[int]]:
    groups: list[list[int]] = [[] for _ in range(max(colors, default=-1) + 1)]
    for j, c in enumerate(colors):
        groups[c].append(j)
    return groups


def _transpose(pattern: list[list[int]], n_cols: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(n_cols)]
    for i, cols in enumerate(pattern):
        for j in cols:
            out[j].append(i)
    return out


def jacobian(g: Graph, outputs: list[int], wrt: list[int], mode: str = "auto") -> Sparse:
    """The structural nonzeros of the Jacobian of `outputs` (rows) by `wrt` (columns).

    mode: "forward" (a sweep per column color), "reverse" (a sweep per row color) or "auto"
    (fewer sweeps; forward on a tie).
    """
    check_mode(mode)
    n, m = len(outputs), len(wrt)
    pattern = [_bits(d) for d in input_dependencies(g, wrt, outputs)]
    col_colors = color_columns(pattern, m)
    row_colors = color_columns(_transpose(pattern, m), n)
    if mode == "auto":
        mode = "reverse" if max(row_colors, default=-1) < max(col_colors, default=-1) \
            else "forward"
    entries: dict[tuple[int, int], int] = {}
    one = g.const(1.0)
    if mode == "forward":
        groups = _groups(col_colors)
        for group in groups:
            members = set(group)
            rows = [i for i in range(n) if any(j in members for j in pattern[i])]
            sweep = jvp(g, [outputs[i] for i in rows], {wrt[j]: one for j in group})
            for i, node in zip(rows, sweep.outputs):
                j = next(j for j in pattern[i] if j in members)
                entries[i, j] = node
    else:
        groups = _groups(row_colors)
        for group in groups:
            total = outputs[group[0]]
            for i in group[1:]:
                total = g.apply("add", total, outputs[i])
            cols = sorted({j for i in group for j in pattern[i]})
            sweep = gradient(g, total, [wrt[j] for j in cols])
            owner = {j: i for i in group for j in pattern[i]}
            for j, node in zip(cols, sweep.grads):
                entries[owner[j], j] = node
    return _collect(g, entries, (n, m), len(groups), mode)


def hessian(g: Graph, wrt: list[int], grads: list[int], mode: str = "auto") -> Sparse:
    """The structural nonzeros of the lower triangle of the Hessian whose gradient nodes
    (by `wrt`) are `grads`.

    The candidate pattern is colored (columns that share no candidate row get one color; the
    pattern is symmetric, so rows too). mode "forward": forward over reverse, one jvp of the
    gradient per color, asking for the rows whose entry of that color is in the lower
    triangle. "reverse": reverse over reverse, the gradient of the sum of the gradient
    entries of one color, with respect to the inputs of their lower-triangle entries.
    "auto": both, keeping the one with fewer operations.
    """
    check_mode(mode)
    n = len(wrt)
    pattern = [_bits(d) for d in input_dependencies(g, wrt, grads)]
    # d grads[i] / d x_j is symmetric: a candidate either way is a candidate both ways
    # (dependency analysis can see x_j in grads[i] but not x_i in grads[j]).
    sym = [set(cols) for cols in pattern]
    for i, cols in enumerate(pattern):
        for j in cols:
            sym[j].add(i)
    full = [sorted(s) for s in sym]
    groups = _groups(color_columns(full, n))
    if mode != "auto":
        return _hessian_sweeps(g, wrt, grads, full, groups, mode)
    fwd = _hessian_sweeps(g, wrt, grads, full, groups, "forward")
    rev = _hessian_sweeps(g, wrt, grads, full, groups, "reverse")
    return rev if len(g.live(rev.nodes)) < len(g.live(fwd.nodes)) else fwd


def _hessian_sweeps(g: Graph, wrt: list[int], grads: list[int], full: list[list[int]],
                    groups: list[list[int]], mode: str) -> Sparse:
    n = len(wrt)
    entries: dict[tuple[int, int], int] = {}
    one = g.const(1.0)
    for group in groups:
        members = set(group)
        if mode == "forward":
            rows, cols = [], []
            for i in range(n):
                for j in full[i]:
                    if j in members:
                        if j <= i:
                            rows.append(i)
                            cols.append(j)
                        break
            if rows:
                sweep = jvp(g, [grads[i] for i in rows], {wrt[j]: one for j in group})
                for i, j, node in zip(rows, cols, sweep.outputs):
                    entries[i, j] = node
        else:                      # the rows of this color share no column
            owner = {j: i for i in group for j in full[i] if j <= i}
            if not owner:
                continue
            total = grads[group[0]]
            for i in group[1:]:
                total = g.apply("add", total, grads[i])
            cols = sorted(owner)
            result = gradient(g, total, [wrt[j] for j in cols])
            for j, node in zip(cols, result.grads):
                entries[owner[j], j] = node
    return _collect(g, entries, (n, n), len(groups), mode)


def _collect(g: Graph, entries: dict[tuple[int, int], int], shape: tuple[int, int],
             colors: int, mode: str) -> Sparse:
    """The entries that are not the constant 0, row-major."""
    rows, cols, nodes = [], [], []
    for (i, j) in sorted(entries):
        node = entries[i, j]
        if not g.is_const(node, 0.0):
            rows.append(i)
            cols.append(j)
            nodes.append(node)
    return Sparse(rows, cols, nodes, shape, colors, mode)


def plan(g: Graph, outputs: list[int], wrt: list[int], *, hessian_too: bool = False,
         mode: str = "auto", taken: list[str] | None = None) -> tuple[Plan, dict[str, Sparse]]:
    """The functions of a module compiled with `sparse=True`, and its sparse matrices.

    Several outputs: forward and `jacobian_values` (the Jacobian's nonzeros). One output with
    `hessian_too`: forward, gradient, value_and_grad, `hessian_values` (the lower triangle's
    nonzeros) and hvp. The dense `jacobian`, `value_and_jacobian` and `hessian` are not
    built: building every entry is what sparse=True avoids.

    Returns:
        The `Plan` (as `derivatives.plan`) and "jacobian" / "hessian" -> its `Sparse`.

    Raises:
        ArgumentError: one output without `hessian_too` (nothing sparse to build),
            `hessian_too` with several outputs, or a bad mode.
    """
    check_plan(outputs, hessian_too, mode)
    if len(outputs) > 1:
        jac = jacobian(g, outputs, wrt, mode)
        return (Plan({"forward": list(outputs), "jacobian_values": jac.nodes}, {}, {},
                     {"jacobian": jac.mode}), {"jacobian": jac})
    if not hessian_too:
        raise ArgumentError("sparse=True needs several outputs (a Jacobian) or hessian=True "
                            "(a Hessian); one output has only its gradient")
    grads, labels = labelled_gradient(g, outputs[0], wrt)
    hess = hessian(g, wrt, grads, mode)
    v = tangent_inputs(g, wrt, list(taken or []))
    roots = {"forward": list(outputs), "gradient": grads, "value_and_grad": outputs + grads,
             "hessian_values": hess.nodes, "hvp": hvp(g, wrt, grads, v)}
    return (Plan(roots, {"gradient": labels, "value_and_grad": labels, "hvp": labels,
                         "hessian_values": labels}, {"hvp": v}, {"hessian": hess.mode}),
            {"hessian": hess})


def to_csr(rows: tuple[int, ...], cols: tuple[int, ...], shape: tuple[int, int],
           values: Any = None, symmetric: bool = False) -> Any:
    """A scipy.sparse.csr_array of the pattern (ones, when `values` is None) or of the
    values at one point; `symmetric`: the lower triangle mirrored into a full matrix.

    Raises:
        MissingDependencyError: scipy is not installed.
        ArgumentError: `values` of several points (a batch).
    """
    try:
        import numpy
        import scipy.sparse
    except ImportError:
        raise MissingDependencyError("sparse matrices need scipy: pip install "
                                     "'symback[scipy]'") from None
    r = numpy.asarray(rows, dtype=numpy.int64)
    c = numpy.asarray(cols, dtype=numpy.int64)
    v = numpy.ones(len(r)) if values is None else numpy.asarray(values, dtype=numpy.float64)
    if v.shape != (len(r),):
        raise ArgumentError(f"a sparse matrix takes one point; the values have shape "
                            f"{v.shape}, not ({len(r)},)")
    if symmetric:
        off = r != c
        r, c, v = (numpy.concatenate([r, c[off]]), numpy.concatenate([c, r[off]]),
                   numpy.concatenate([v, v[off]]))
    return scipy.sparse.csr_array((v, (r, c)), shape=shape)


def index_text(values: list[int]) -> str:
    """A module constant: a tuple of ints, as Python text."""
    return "(" + ", ".join(map(str, values)) + ("," if len(values) == 1 else "") + ")"


__all__ = ["Sparse", "color_columns", "hessian", "index_text", "input_dependencies",
           "jacobian", "plan"]


def structure(matrix: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, int]]:
    """(rows, cols, shape) of a `Sparse`, or of such a triple stored as lists (a cache
    entry)."""
    if isinstance(matrix, (list, tuple)):
        rows, cols, shape = matrix
        return tuple(rows), tuple(cols), (shape[0], shape[1])
    return tuple(matrix.rows), tuple(matrix.cols), tuple(matrix.shape)
