"""Derivative programs built from the two sweeps: Jacobians, Hessians, Hessian-vector products.

Everything here is a composition of `reverse.gradient` and `forward.jvp` over one graph, so
every derivative is a DAG in the same IR, interned and folded like the user's expression:

- Jacobian of several outputs: one reverse sweep per output, or one forward sweep per input,
  whichever is cheaper (`mode="auto"`), or the one asked for.
- Hessian of one output: forward over reverse (the jvp of the gradient nodes along each unit
  vector: a column per input) or reverse over reverse (the gradient of each gradient node: a
  row per input), whichever is cheaper. Only the upper triangle is built; it is mirrored.
- Hessian-vector product: forward over reverse, the jvp of the gradient nodes along new inputs
  `v_<name>`: the cost of a few gradients, whatever the number of inputs.

"Cheaper" is decided by counting: a bitset pass estimates the work of each choice; when the
estimates are close both candidates are built and their live operations counted exactly (the
losing candidate's nodes stay in the graph, dead, and are never scheduled).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import ArgumentError
from .forward import jvp
from .graph import Graph
from .reverse import gradient

MODES = ("auto", "reverse", "forward")

# When one choice's estimated cost is more than this factor below the other's, it is built
# alone; otherwise both are built and counted exactly.
_CLEAR_WIN = 2.0


@dataclass
class Jacobian:
    """rows[k][j] = d outputs[k] / d wrt[j]; `mode` is the sweep direction that built it."""

    rows: list[list[int]]
    mode: str
    labels: dict[int, str] = field(default_factory=dict)


@dataclass
class Hessian:
    """matrix[i][j] = d2 output / d wrt[i] d wrt[j] (symmetric: one node per pair)."""

    matrix: list[list[int]]
    mode: str                     # "forward" (forward over reverse) or "reverse" (over reverse)
    labels: dict[int, str] = field(default_factory=dict)


@dataclass
class Plan:
    """What the scheduler needs for the functions of one module.

    Attributes:
        roots: function name -> the nodes it returns, in order.
        labels: function name -> preferred names of some of its nodes (`d_p`, `dp_dx`), in
            the functions that compute them as derivatives (not in `forward`).
        extra_params: function name -> var nodes it takes after the inputs (hvp's `v_x`...).
        modes: "jacobian" / "hessian" -> the direction chosen.
    """

    roots: dict[str, list[int]]
    labels: dict[str, dict[int, str]]
    extra_params: dict[str, list[int]]
    modes: dict[str, str]


def check_mode(mode: str) -> str:
    """Validate a `mode=` argument.

    Raises:
        ArgumentError: the mode is not one of "auto", "reverse", "forward".
    """
    if mode not in MODES:
        raise ArgumentError(f"unknown mode {mode!r} (choose from {', '.join(MODES)})")
    return mode


def _label(g: Graph, node: int, name: str) -> str:
    return f"d{name}_d{g.values[node]}" if g.ops[node] == "var" else f"d{name}"


def jacobian(g: Graph, outputs: list[int], wrt: list[int], mode: str = "auto") -> Jacobian:
    """Add the nodes of the Jacobian of `outputs` with respect to `wrt` to `g`.

    Args:
        g: the graph (it grows).
        outputs: the output nodes (rows).
        wrt: the input nodes (columns).
        mode: "reverse" (a sweep per output), "forward" (a sweep per input) or "auto" (fewer
            operations).

    Returns:
        The `Jacobian`.
    """
    check_mode(mode)
    if mode == "auto":
        fwd_cost, rev_cost = sweep_costs(g, wrt, outputs)
        if rev_cost * _CLEAR_WIN < fwd_cost or len(outputs) == 1:
            mode = "reverse"
        elif fwd_cost * _CLEAR_WIN < rev_cost:
            mode = "forward"
        else:
            rev = _jacobian_reverse(g, outputs, wrt)
            fwd = _jacobian_forward(g, outputs, wrt)
            n_rev = len(g.live(outputs + [d for row in rev.rows for d in row]))
            n_fwd = len(g.live(outputs + [d for row in fwd.rows for d in row]))
            return fwd if n_fwd < n_rev else rev
    return _jacobian_reverse(g, outputs, wrt) if mode == "reverse" else \
        _jacobian_forward(g, outputs, wrt)


def _jacobian_reverse(g: Graph, outputs: list[int], wrt: list[int]) -> Jacobian:
    rows, labels = [], {}
    for out in outputs:
        sweep = gradient(g, out, wrt)
        rows.append(sweep.grads)
        for who, node in sweep.adjoints.items():
            labels.setdefault(node, "d_" + who)
    return Jacobian(rows, "reverse", labels)


def _jacobian_forward(g: Graph, outputs: list[int], wrt: list[int]) -> Jacobian:
    columns, labels = [], {}
    one = g.const(1.0)
    for w in wrt:
        sweep = jvp(g, outputs, {w: one})
        columns.append(sweep.outputs)
        for who, node in sweep.named.items():
            labels.setdefault(node, _label(g, w, who))
    rows = [[columns[j][k] for j in range(len(wrt))] for k in range(len(outputs))]
    return Jacobian(rows, "forward", labels)


def hessian(g: Graph, output: int, wrt: list[int], grads: list[int],
            mode: str = "auto") -> Hessian:
    """Add the nodes of the Hessian of `output` to `g`, from its gradient nodes.

    Args:
        g: the graph (it grows).
        output: the differentiated node (kept for symmetry with `jacobian`; unused).
        wrt: the input nodes.
        grads: the gradient nodes of `output` with respect to `wrt` (from `reverse.gradient`).
        mode: "forward" (forward over reverse: a jvp of the gradient per input), "reverse"
            (reverse over reverse: a gradient of each gradient entry) or "auto".

    Returns:
        The symmetric `Hessian`; only the upper triangle is differentiated, then mirrored.
    """
    check_mode(mode)
    if mode == "auto":
        fwd_cost, rev_cost = sweep_costs(g, wrt, grads)
        if fwd_cost * _CLEAR_WIN < rev_cost:
            mode = "forward"
        elif rev_cost * _CLEAR_WIN < fwd_cost:
            mode = "reverse"
        else:
            fwd = _hessian_forward(g, wrt, grads)
            rev = _hessian_reverse(g, wrt, grads)
            n_fwd = len(g.live(_upper(fwd.matrix)))
            n_rev = len(g.live(_upper(rev.matrix)))
            return rev if n_rev < n_fwd else fwd
    return _hessian_forward(g, wrt, grads) if mode == "forward" else \
        _hessian_reverse(g, wrt, grads)


def _upper(matrix: list[list[int]]) -> list[int]:
    return [matrix[i][j] for i in range(len(matrix)) for j in range(i, len(matrix))]


def _hessian_forward(g: Graph, wrt: list[int], grads: list[int]) -> Hessian:
    n = len(wrt)
    matrix = [[-1] * n for _ in range(n)]
    labels: dict[int, str] = {}
    one = g.const(1.0)
    for j in range(n):                    # column j, rows 0..j: d grads[i] / d wrt[j]
        sweep = jvp(g, grads[:j + 1], {wrt[j]: one})
        for i, node in enumerate(sweep.outputs):
            matrix[i][j] = matrix[j][i] = node
        for who, node in sweep.named.items():
            labels.setdefault(node, _label(g, wrt[j], who))
    return Hessian(matrix, "forward", labels)


def _hessian_reverse(g: Graph, wrt: list[int], grads: list[int]) -> Hessian:
    n = len(wrt)
    matrix = [[-1] * n for _ in range(n)]
    for i in range(n):                    # row i, columns i..n-1: d grads[i] / d wrt[j]
        sweep = gradient(g, grads[i], wrt[i:])
        for k, node in enumerate(sweep.grads):
            matrix[i][i + k] = matrix[i + k][i] = node
    return Hessian(matrix, "reverse")


def tangent_inputs(g: Graph, wrt: list[int], taken: list[str]) -> list[int]:
    """New var nodes `v_<name>`, one per input of `wrt`, named unlike any var of `g` and any
    name in `taken` (a `_` is appended until the name is free)."""
    used = set(taken)
    nodes = []
    for w in wrt:
        name = f"v_{g.values[w]}"
        while name in used or g.lookup_var(name) is not None:
            name += "_"
        used.add(name)
        nodes.append(g.var(name))
        if g.values[w] in g.arrays:          # a whole-array input: so is its tangent
            g.arrays[name] = g.arrays[g.values[w]]
    return nodes


def hvp(g: Graph, wrt: list[int], grads: list[int], v: list[int]) -> list[int]:
    """The nodes of H @ v: the directional derivative of the gradient along `v` (forward
    over reverse), one sweep whatever the number of inputs."""
    return jvp(g, grads, dict(zip(wrt, v))).outputs


def plan(g: Graph, outputs: list[int], wrt: list[int], *, hessian_too: bool = False,
         mode: str = "auto", taken: list[str] | None = None, dense: bool = True) -> Plan:
    """The functions of a module and the nodes each returns.

    One output: forward, gradient, value_and_grad (+ hessian, hvp with `hessian_too`).
    Several outputs: forward, jacobian, value_and_jacobian.

    Args:
        g: the graph (it grows).
        outputs: the output nodes.
        wrt: the input nodes to differentiate with respect to.
        hessian_too: also build `hessian` and `hvp` (one output only).
        mode: how Jacobians and Hessians are built: "auto", "reverse" or "forward".
        taken: parameter names the tangent inputs of hvp must not take.
        dense: with `hessian_too`, build the dense `hessian` too (not for whole-array
            inputs of rolled loops: hvp only).

    Raises:
        ArgumentError: `hessian_too` with several outputs, or a bad mode.
    """
    check_plan(outputs, hessian_too, mode)
    if len(outputs) > 1:
        jac = jacobian(g, outputs, wrt, mode)
        flat = [d for row in jac.rows for d in row]
        return Plan({"forward": outputs, "jacobian": flat, "value_and_jacobian": outputs + flat},
                    {"jacobian": jac.labels, "value_and_jacobian": jac.labels}, {},
                    {"jacobian": jac.mode})
    grads, labels = labelled_gradient(g, outputs[0], wrt)
    roots = {"forward": list(outputs), "gradient": grads, "value_and_grad": outputs + grads}
    if not hessian_too:
        return Plan(roots, {"gradient": labels, "value_and_grad": labels}, {}, {})
    v = tangent_inputs(g, wrt, list(taken or []))
    roots["hvp"] = hvp(g, wrt, grads, v)
    if not dense:
        return Plan(roots, {"gradient": labels, "value_and_grad": labels, "hvp": labels},
                    {"hvp": v}, {})
    hess = hessian(g, outputs[0], wrt, grads, mode)
    roots["hessian"] = [d for row in hess.matrix for d in row]
    return Plan(roots, {"gradient": labels, "value_and_grad": labels, "hvp": labels,
                        "hessian": {**hess.labels, **labels}}, {"hvp": v},
                {"hessian": hess.mode})


def check_plan(outputs: list[int], hessian_too: bool, mode: str) -> None:
    """Refuse a bad mode, or a Hessian of several outputs, with an `ArgumentError`."""
    check_mode(mode)
    if hessian_too and len(outputs) != 1:
        raise ArgumentError(f"a Hessian needs one output; this expression has {len(outputs)} "
                            "(compile each output separately)")


def labelled_gradient(g: Graph, output: int, wrt: list[int]) -> tuple[list[int], dict[int, str]]:
    """The gradient nodes of `output` by `wrt`, and the names `d_<name>` of its adjoints."""
    sweep = gradient(g, output, wrt)
    labels: dict[int, str] = {}
    for who, node in sweep.adjoints.items():
        labels.setdefault(node, "d_" + who)
    return sweep.grads, labels


def sweep_costs(g: Graph, sources: list[int], roots: list[int]) -> tuple[int, int]:
    """Estimated work of forward sweeps (one per source) and reverse sweeps (one per root).

    Forward: for each node needed by a root, the number of sources it depends on. Reverse: for
    each node that depends on a source, the number of roots that need it. One pass each way
    with integers as bitsets.
    """
    if not roots or not sources:
        return 0, 0
    top = max(roots)
    args = g.args
    src = [0] * (top + 1)
    for j, s in enumerate(sources):
        if s <= top:
            src[s] |= 1 << j
    for i in range(top + 1):
        m = src[i]
        for a in args[i]:
            m |= src[a]
        src[i] = m
    need = [0] * (top + 1)
    for k, r in enumerate(roots):
        need[r] |= 1 << k
    fwd = rev = 0
    for i in range(top, -1, -1):
        m = need[i]
        if not m:
            continue
        for a in args[i]:
            need[a] |= m
        if src[i]:
            fwd += src[i].bit_count()
            rev += m.bit_count()
    return fwd, rev
