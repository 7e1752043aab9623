"""Backpropagation step by step: the worked example a tutorial draws, for any expression.

`explain(expr, at={...})` returns a `Trace`: the forward pass (each node, its equation in the
user's names, its value), the local partial derivative on every edge (its formula and value),
the backward pass (each adjoint as the chain-rule sum of products over the node's users) and
the gradient with a central finite-difference check.

The trace is built from the compiler's own graph and rule table, never from a second
implementation: the forward values come from each op's `eval`, the local partials are the
nodes the table's rules build (evaluated numerically), and the adjoints are accumulated in
the same order as `symback.reverse.gradient`, with the same exact zeros: an edge whose
partial is the constant 0 contributes nothing, and a `where` branch that was not taken
contributes nothing (the python backend does not even compute it). So the trace's gradient is
the compiled gradient, number for number.

Formatting (text, markdown, json) lives in `symback.report`, DOT output in `symback.dot`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

from . import api
from .errors import ArgumentError, SymbackError
from .graph import Graph, Node, evaluate
from .ops import OPS
from .parse import Expression, directives

Value = Union[float, bool, None]
"""A node's value: a float, a bool (comparisons), or None (no point given / not computed)."""

# Longest text of an inline partial formula; longer ones are cut with an ellipsis.
MAX_FORMULA_CHARS = 160

# Central finite differences use h = _FD_STEP * max(1, |x|) (a power of two near eps**(1/3)).
_FD_STEP = 2.0 ** -17


class DomainError(SymbackError):
    """The expression (or a local partial on the active path) is undefined at the point."""


# --- the trace -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One node of the forward pass.

    Attributes:
        node: the graph node id.
        name: the node's name: an input, a user-named intermediate, or a short `t1, t2, ...`.
        kind: "input" (differentiated), "parameter" (an input not differentiated) or "op".
        op: "var" for inputs, else the op's name in the rule table.
        expression: the right-hand side in the user's names (`p · z`); "" for inputs.
        value: the node's value at the point (None without a point, or when not computed).
        taken: False if the node only feeds a `where` branch that was not taken.
    """

    node: int
    name: str
    kind: str
    op: str
    expression: str
    value: Value
    taken: bool = True

    @property
    def equation(self) -> str:
        """`q = p · z`, or the bare name for an input."""
        return f"{self.name} = {self.expression}" if self.expression else self.name


@dataclass(frozen=True)
class Edge:
    """The local partial derivative ∂node/∂arg on one edge of the graph.

    Attributes:
        node, arg: names of the user node and of its operand.
        node_id, arg_id: their graph node ids.
        formula: the partial as the rule table builds it, in the user's names (`2 · q`).
            An operand used twice (`x · x`) gives one edge whose formula is the sum.
        value: the partial's value at the point (None without a point or if undefined).
        taken: False for the edge into a `where` branch that was not taken (an exact 0).
    """

    node: str
    arg: str
    node_id: int
    arg_id: int
    formula: str
    value: Value
    taken: bool = True

    @property
    def label(self) -> str:
        return f"∂{self.node}/∂{self.arg}"


@dataclass(frozen=True)
class Term:
    """One product of the chain rule: ∂out/∂via · ∂via/∂node."""

    via: str
    adjoint: Value
    partial: Value
    value: Value


@dataclass(frozen=True)
class Adjoint:
    """The adjoint ∂out/∂node: the sum of the node's chain-rule terms.

    Attributes:
        node: the graph node id.
        name: the node's name.
        terms: one per user of the node (in the order the reverse pass adds them).
        value: the adjoint's value (None without a point).
        seed: True for the output itself (∂out/∂out = 1).
    """

    node: int
    name: str
    terms: tuple[Term, ...]
    value: Value
    seed: bool = False


@dataclass(frozen=True)
class GradientEntry:
    """One component of the gradient, with its finite-difference check."""

    name: str
    value: Value
    finite_difference: Value = None

    @property
    def difference(self) -> float | None:
        """value - finite difference, or None when either is missing."""
        if not isinstance(self.value, float) or not isinstance(self.finite_difference, float):
            return None
        return self.value - self.finite_difference


@dataclass(frozen=True)
class TorchCheck:
    """The same computation run through PyTorch autograd in float64."""

    version: str
    value: float
    gradient: tuple[float, ...]


@dataclass
class Trace:
    """A worked example of backpropagation for one output of an expression.

    Attributes:
        expression: the source text.
        output: the name of the explained output.
        outputs: the names of all outputs of the expression.
        inputs: all input names, in parameter order.
        wrt: the inputs differentiated, in order (the gradient's order).
        point: input name -> value, or None (formulas only).
        value: the output's value (None without a point).
        forward: the forward pass: inputs first (in order), then each op node in id order.
        edges: the local partials of every differentiated edge, in forward order.
        backward: the adjoints, from the output back to the inputs.
        gradient: ∂output/∂w for each w in `wrt`, with finite differences.
        torch: the PyTorch check, when asked for.
        graph: the graph (it holds the partial nodes the rules built too).
        names: node id -> name, for every node of the trace.
    """

    expression: str
    output: str
    outputs: tuple[str, ...]
    inputs: tuple[str, ...]
    wrt: tuple[str, ...]
    point: dict[str, float] | None
    value: Value
    forward: list[Step]
    edges: list[Edge]
    backward: list[Adjoint]
    gradient: list[GradientEntry]
    torch: TorchCheck | None = None
    graph: Graph = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    output_node: int = field(default=-1, repr=False)
    names: dict[int, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def grad(self) -> tuple[Value, ...]:
        """The gradient values, in `wrt` order."""
        return tuple(e.value for e in self.gradient)

    def adjoint(self, name: str) -> Value:
        """The value of ∂output/∂name (0.0 for a differentiated input with no path)."""
        for a in self.backward:
            if a.name == name:
                return a.value
        raise KeyError(name)

    def step(self, name: str) -> Step:
        """The forward step of the node called `name`."""
        for s in self.forward:
            if s.name == name:
                return s
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (lists, dicts, numbers, strings) for JSON; see `symback.report`."""
        from .report import trace_dict
        return trace_dict(self)


# --- building the trace ---------------------------------------------------------------------

def explain(expr: str | Expression, at: Mapping[str, float] | Sequence[float] | None = None,
            *, wrt: Sequence[str] | str | None = None, output: str | int | None = None,
            finite_differences: bool = True, torch: bool = False,
            max_chars: int | None = api.DEFAULT_MAX_CHARS,
            max_nodes: int | None = api.DEFAULT_MAX_NODES) -> Trace:
    """Explain backpropagation through an expression, step by step.

    Args:
        expr: the expression text (as for `symback.compile`), or a parsed `Expression`.
        at: the point: a mapping input name -> number, or numbers in input order. Default:
            the text's `# point:` line, else no point (formulas only, no numbers).
        wrt: the inputs to differentiate, in order (default: every input).
        output: for several outputs, which one to explain (name or index; default the first).
        finite_differences: add a central finite-difference check to the gradient.
        torch: also run the expression through PyTorch autograd (`Trace.torch`).
        max_chars, max_nodes: size limits, as for `symback.compile`.

    Returns:
        The `Trace`.

    Raises:
        ParseError, LimitError: as `symback.compile`.
        ArgumentError: a bad point (unknown or missing input, not a number), `wrt` or
            `output`, or `torch=True` without PyTorch installed.
        DomainError: an op on the active path is undefined at the point (`log(-1)`).
    """
    expression, wrt_names = prepare(expr, wrt, max_chars=max_chars, max_nodes=max_nodes)
    if at is None and isinstance(expression.text, str):
        at = point_from_text(expression.text, expression.inputs)
    point = resolve_point(expression, at) if at is not None else None
    if torch:
        from .torch_check import require_torch
        require_torch()
    trace = _Builder(expression, wrt_names, point, _choose_output(expression, output)).build(
        finite_differences)
    if torch and point is not None:
        from .torch_check import torch_check
        trace.torch = torch_check(trace)
    return trace


def prepare(expr: str | Expression, wrt: Sequence[str] | str | None = None, *,
            max_chars: int | None = api.DEFAULT_MAX_CHARS,
            max_nodes: int | None = api.DEFAULT_MAX_NODES) -> tuple[Expression, list[str]]:
    """Parse as `symback.compile` does: (expression, the inputs to differentiate).

    `wrt` (or else the text's `# vars:` line) gives the input order; the differentiated
    inputs are `wrt`, or every input.
    """
    if isinstance(expr, Expression):
        names = api._input_names(wrt, "wrt") if wrt is not None else list(expr.inputs)
        return expr, names
    declared = api._input_names(wrt, "wrt") if wrt is not None else api._declared(expr)
    expression = api._parse.parse(expr, declared, max_chars=max_chars, max_nodes=max_nodes)
    return expression, (declared if wrt is not None else list(expression.inputs))


def point_from_text(text: str, inputs: Sequence[str]) -> dict[str, float] | None:
    """The `# point:` line of an .expr text as name -> value (inputs in order), or None.

    Raises:
        ArgumentError: the line holds something other than numbers, or too few/many.
    """
    line = directives(text).get("point")
    if line is None:
        return None
    try:
        values = [float(v) for v in line.replace(",", " ").split()]
    except ValueError:
        raise ArgumentError("the '# point:' line must hold numbers") from None
    if len(values) != len(inputs):
        raise ArgumentError(f"'# point:' has {len(values)} numbers for {len(inputs)} inputs "
                            f"({', '.join(inputs)})")
    return dict(zip(inputs, values))


def resolve_point(expression: Expression,
                  at: Mapping[str, float] | Sequence[float]) -> dict[str, float]:
    """Check a point against the expression's inputs: every input once, numbers only.

    Raises:
        ArgumentError: an unknown input, a missing one, or a value that is not a number.
    """
    inputs = list(expression.inputs)
    if not isinstance(at, Mapping):
        values = list(at)
        if len(values) != len(inputs):
            raise ArgumentError(f"the point has {len(values)} values for {len(inputs)} inputs "
                                f"({', '.join(inputs) or 'none'})")
        at = dict(zip(inputs, values))
    point: dict[str, float] = {}
    for name, value in at.items():
        if name not in inputs:
            known = ", ".join(inputs) or "none"
            raise ArgumentError(f"--at: {name!r} is not an input of the expression "
                                f"(inputs: {known})")
        try:
            if isinstance(value, bool):
                raise TypeError
            point[name] = float(value)
        except (TypeError, ValueError):
            raise ArgumentError(f"--at: the value of {name!r} is not a number: "
                                f"{value!r}") from None
    missing = [n for n in inputs if n not in point]
    if missing:
        raise ArgumentError(f"--at: no value for {', '.join(repr(n) for n in missing)} "
                            f"(give {' '.join(n + '=VALUE' for n in missing)})")
    return {n: point[n] for n in inputs}


def _choose_output(expression: Expression, output: str | int | None) -> int:
    names = expression.output_names
    if output is None:
        return 0
    if isinstance(output, int) and not isinstance(output, bool):
        if 0 <= output < len(names):
            return output
    elif output in names:
        return names.index(output)
    raise ArgumentError(f"no output {output!r} (the outputs are {', '.join(names)})")


class _Builder:
    """Builds one trace: names, forward values, edges, adjoints, gradient."""

    def __init__(self, expression: Expression, wrt: list[str], point: dict[str, float] | None,
                 which: int) -> None:
        self.ex = expression
        self.g = expression.graph
        self.point = point
        self.which = which
        self.out = expression.outputs[which]
        self.wrt = wrt
        self.wrt_nodes = [self.g.lookup_var(n) for n in wrt]
        self.vals: list[Value] = []
        self.errors: dict[int, str] = {}

    # -- values --------------------------------------------------------------------------------

    def evaluate(self) -> None:
        """Compute the values of every node not computed yet (nodes grow as rules run)."""
        if self.point is None:
            return
        evaluate(self.g, dict(self.point), len(self.g) - 1, self.vals, self.errors)

    # -- the steps -------------------------------------------------------------------------------

    def build(self, finite_differences: bool) -> Trace:
        g, out, ex = self.g, self.out, self.ex
        live = [i for i in g.live([out])]
        names = _names(g, ex, out, live, ex.output_names[self.which])
        self.evaluate()
        taken = self.taken_flags(live)
        self.check_forward(live, taken, names)
        active = g.depends_on([w for w in self.wrt_nodes if w is not None], out) \
            if self.wrt_nodes else bytearray(out + 1)
        wrt_set = set(self.wrt)
        forward = []
        for name in ex.inputs:
            node = g.lookup_var(name)
            forward.append(Step(node, name, "input" if name in wrt_set else "parameter", "var",
                                "", self.value(node)))
        for i in live:
            forward.append(Step(i, names[i], "op", g.ops[i], _rhs(g, i, names),
                                self.value(i), bool(taken[i])))
        partials = self.partial_nodes(live, taken, active)
        self.evaluate()                                   # the rules' new nodes
        edges = self.edges(partials, taken, names)
        backward, adj = self.backward(partials, taken, active, names)
        grads = []
        fds = self.finite_differences() if finite_differences and self.point else {}
        for name, w in zip(self.wrt, self.wrt_nodes):
            value: Value = None
            if self.point is not None:
                value = adj.get(w, 0.0) if w is not None else 0.0
            grads.append(GradientEntry(name, value, fds.get(name)))
        return Trace(ex.text, ex.output_names[self.which], tuple(ex.output_names),
                     tuple(ex.inputs), tuple(self.wrt), self.point, self.value(out), forward,
                     edges, backward, grads, graph=g, output_node=out, names=names)

    def value(self, node: int) -> Value:
        if self.point is None or node >= len(self.vals):
            return None
        return self.vals[node]

    def taken_flags(self, live: list[int]) -> bytearray:
        """flags[i] == 1 iff node i is needed for the output at this point: `where` needs
        only its condition and the branch it takes. Without a point every live node is."""
        g, out = self.g, self.out
        flags = bytearray(out + 1)
        flags[out] = 1
        known = self.point is not None
        for i in range(out, -1, -1):
            if not flags[i]:
                continue
            args = g.args[i]
            if known and g.ops[i] == "where" and self.vals[args[0]] is not None:
                flags[args[0]] = 1
                flags[args[1] if self.vals[args[0]] else args[2]] = 1
            else:
                for a in args:
                    flags[a] = 1
        return flags

    def check_forward(self, live: list[int], taken: bytearray, names: dict[int, str]) -> None:
        """Raise DomainError for the first needed node that could not be computed."""
        if self.point is None:
            return
        for i in live:
            if taken[i] and self.vals[i] is None:
                shown = ", ".join(f"{names[a]} = {_short(self.vals[a])}"
                                  for a in self.g.args[i] if a in names)
                raise DomainError(f"{names[i]} = {_rhs(self.g, i, names)} is undefined at this "
                                  f"point ({self.errors.get(i, 'undefined')}"
                                  f"{'; ' + shown if shown else ''})")

    def partial_nodes(self, live: list[int], taken: bytearray,
                      active: bytearray) -> dict[int, list[tuple[int, int, bool]]]:
        """Per needed, active op node: (operand position, partial node, edge taken) for each
        differentiated operand, built by the table's rules."""
        g = self.g
        result: dict[int, list[tuple[int, int, bool]]] = {}
        for i in live:
            if not taken[i] or not active[i]:
                continue
            rules = OPS[g.ops[i]].partials
            args = g.args[i]
            handles: list[Node] | None = None
            found = []
            for k, arg in enumerate(args):
                if not active[arg] or rules[k] is None:
                    continue
                if handles is None:
                    handles = [Node(g, i)] + [Node(g, x) for x in args]
                made = rules[k](*handles)
                node = made.id if isinstance(made, Node) else g.const(float(made))
                edge_taken = True
                if g.ops[i] == "where" and self.point is not None:
                    cond = self.vals[args[0]]
                    edge_taken = (k == 1) == bool(cond)
                found.append((k, node, edge_taken))
            if found:
                result[i] = found
        return result

    def edges(self, partials: dict[int, list[tuple[int, int, bool]]], taken: bytearray,
              names: dict[int, str]) -> list[Edge]:
        g = self.g
        edges = []
        for i, found in partials.items():
            args = g.args[i]
            merged: dict[int, list[tuple[int, bool]]] = {}
            for k, node, edge_taken in found:
                merged.setdefault(args[k], []).append((node, edge_taken))
            for arg, parts in merged.items():
                formula = " + ".join(_formula(g, p, names) for p, _ in parts)
                value: Value = None
                if self.point is not None:
                    vs = [self.value(p) for p, _ in parts]
                    value = None if any(v is None for v in vs) else math.fsum(
                        float(v) for v in vs)  # type: ignore[arg-type]
                    if len(vs) == 1:
                        value = vs[0]
                edges.append(Edge(names[i], names[arg], i, arg, formula, value,
                                  all(t for _, t in parts)))
        return edges

    def backward(self, partials: dict[int, list[tuple[int, int, bool]]], taken: bytearray,
                 active: bytearray, names: dict[int, str]
                 ) -> tuple[list[Adjoint], dict[int, float]]:
        """Accumulate adjoints in reverse id order, as `reverse.gradient` does."""
        g, out = self.g, self.out
        numeric = self.point is not None
        adj: dict[int, float] = {}
        reached: dict[int, bool] = {}
        terms: dict[int, list[Term]] = {}
        if active[out]:
            adj[out] = 1.0
            reached[out] = True
        rows: list[Adjoint] = []
        for i in range(out, -1, -1):
            if i not in reached:
                continue
            a = adj.get(i)
            if g.ops[i] == "var":
                continue
            rows.append(Adjoint(i, names[i], tuple(terms.pop(i, ())), a, seed=i == out))
            args = g.args[i]
            per_arg: dict[int, list[tuple[int, int]]] = {}
            for k, node, edge_taken in partials.get(i, ()):
                if not edge_taken or g.is_const(node, 0.0):
                    continue                       # an exact zero, as in reverse.times
                per_arg.setdefault(args[k], []).append((k, node))
            for arg, parts in per_arg.items():
                pvals: list[Value] = []
                total: Value = None
                for k, node in parts:
                    if numeric:
                        p = self.value(node)
                        if p is None:
                            raise DomainError(
                                f"the local partial ∂{names[i]}/∂{names[arg]} = "
                                f"{_formula(g, node, names)} is undefined at this point "
                                f"({self.errors.get(_root_error(g, node, self.vals), 'undefined')})")
                        pvals.append(p)
                        c = a * p  # type: ignore[operator]
                        adj[arg] = c if arg not in adj else adj[arg] + c
                        total = c if total is None else total + c
                reached[arg] = True
                partial: Value = None
                if numeric:
                    partial = pvals[0] if len(pvals) == 1 else math.fsum(pvals)  # type: ignore
                terms.setdefault(arg, []).append(Term(names[i], a, partial, total))
        for name, w in zip(self.wrt, self.wrt_nodes):
            if w is None:
                continue
            value = adj.get(w, 0.0) if numeric else None
            rows.append(Adjoint(w, name, tuple(terms.pop(w, ())), value, seed=w == out))
        return rows, adj

    def finite_differences(self) -> dict[str, float]:
        """Central differences of the output for each differentiated input (nan if the
        output is undefined on either side)."""
        g, out, point = self.g, self.out, dict(self.point or {})
        result = {}
        for name in self.wrt:
            x = point[name]
            h = _FD_STEP * max(1.0, abs(x))
            point[name] = x + h
            up = _output_value(g, out, point)
            point[name] = x - h
            down = _output_value(g, out, point)
            point[name] = x
            if isinstance(up, (int, float)) and isinstance(down, (int, float)):
                result[name] = (float(up) - float(down)) / (2.0 * h)
            else:
                result[name] = math.nan
        return result


# --- numeric evaluation (the table's eval functions, lazy `where`) ----------------------------

def _output_value(g: Graph, out: int, point: Mapping[str, float]) -> Value:
    return evaluate(g, dict(point), out)[out]


def _root_error(g: Graph, node: int, vals: list[Value]) -> int:
    """The node whose own evaluation failed, on the way to a None value at `node`."""
    while True:
        if g.ops[node] == "where":
            c, a, b = g.args[node]
            nxt = c if vals[c] is None else a if vals[c] else b
        else:
            nxt = next((x for x in g.args[node] if vals[x] is None), -1)
        if nxt < 0:
            return node
        node = nxt


def _short(v: Value) -> str:
    if v is None:
        return "undefined"
    if isinstance(v, bool):
        return "true" if v else "false"
    return _const_text(v)


# --- names and formulas ------------------------------------------------------------------------

def _names(g: Graph, ex: Expression, out: int, live: list[int], label: str) -> dict[int, str]:
    """Inputs and user-named nodes keep their names, an unnamed output takes the output's
    label (`f`), other nodes get `t1, t2, ...` in id order, skipping names already used."""
    names: dict[int, str] = {}
    used = set(ex.inputs) | set(ex.bindings) | set(g.names.values())
    for name in ex.inputs:
        node = g.lookup_var(name)
        if node is not None:
            names[node] = name
    for i in live:
        if i in g.names:
            names[i] = g.names[i]
    if out not in names and g.ops[out] != "const":
        name = label
        while name in used:
            name += "_"
        used.add(name)
        names[out] = name
    counter = 0
    for i in live:
        if i not in names:
            counter += 1
            while f"t{counter}" in used:
                counter += 1
            names[i] = f"t{counter}"
    return names


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")

# How each op reads: (format over operand texts, precedence, operand precedences). Function
# ops not listed read `name(a, b)`. Precedence: 0 comparison, 1 sum, 2 product, 3 unary minus,
# 4 power, 6 atom.
_SPELLING: dict[str, tuple[str, int, tuple[int, ...]]] = {
    "add": ("{0} + {1}", 1, (1, 1)),
    "sub": ("{0} - {1}", 1, (1, 2)),
    "mul": ("{0} · {1}", 2, (2, 2)),
    "div": ("{0} / {1}", 2, (2, 3)),
    "pow": ("{0}**{1}", 4, (5, 4)),
    "neg": ("-{0}", 3, (3,)),
    "lt": ("{0} < {1}", 0, (1, 1)),
    "le": ("{0} ≤ {1}", 0, (1, 1)),
    "gt": ("{0} > {1}", 0, (1, 1)),
    "ge": ("{0} ≥ {1}", 0, (1, 1)),
    "eq": ("{0} == {1}", 0, (1, 1)),
    "ne": ("{0} ≠ {1}", 0, (1, 1)),
}
_ATOM = 6


def _const_text(v: Any) -> str:
    """A constant as a reader writes it: 2, 0.5, -3, π, e."""
    if isinstance(v, bool):
        return "true" if v else "false"
    v = float(v)
    if v == math.pi:
        return "π"
    if v == math.e:
        return "e"
    if v == -math.pi:
        return "-π"
    if math.isfinite(v) and v == int(v) and abs(v) < 1e16:
        return "-0" if math.copysign(1.0, v) < 0 and v == 0 else str(int(v))
    return repr(v)


def _leaf(g: Graph, node: int, names: Mapping[int, str]) -> tuple[str, int] | None:
    """The text and precedence of a node printed by name or as a constant, else None."""
    if node in names:
        return names[node], _ATOM
    if g.ops[node] == "const":
        text = _const_text(g.values[node])
        return text, 3 if text.startswith("-") else _ATOM
    if g.ops[node] == "var":
        return g.values[node], _ATOM
    return None


def _apply_spelling(g: Graph, node: int, operands: list[tuple[str, int]]) -> tuple[str, int]:
    """One op over already printed operands, with parentheses where precedence needs them."""
    op = g.ops[node]
    if op == "powi":
        base, prec = operands[0]
        if prec < _ATOM:
            base = f"({base})"
        exponent = _const_text(g.values[g.args[node][1]]) if g.ops[g.args[node][1]] == "const" \
            else operands[1][0]
        return base + exponent.translate(_SUPERSCRIPT), 4
    spelling = _SPELLING.get(op)
    if spelling is None:
        return f"{op}({', '.join(t for t, _ in operands)})", _ATOM
    fmt, prec, needs = spelling
    texts = [t if p >= need else f"({t})" for (t, p), need in zip(operands, needs)]
    return fmt.format(*texts), prec


def _rhs(g: Graph, node: int, names: Mapping[int, str]) -> str:
    """The right-hand side of a forward equation: one op over named operands."""
    operands = []
    for a in g.args[node]:
        leaf = _leaf(g, a, names)
        operands.append(leaf if leaf is not None else (f"t{a}", _ATOM))
    return _apply_spelling(g, node, operands)[0]


def _formula(g: Graph, node: int, names: Mapping[int, str]) -> str:
    """A node as an inline formula: named nodes and constants as leaves, nodes the rules
    built printed out, without recursion (an explicit post-order stack)."""
    done: dict[int, tuple[str, int]] = {}
    stack = [node]
    while stack:
        n = stack[-1]
        if n in done:
            stack.pop()
            continue
        leaf = _leaf(g, n, names)
        if leaf is not None:
            done[n] = leaf
            stack.pop()
            continue
        todo = [a for a in g.args[n] if a not in done]
        if todo:
            stack.extend(reversed(todo))
            continue
        stack.pop()
        text, prec = _apply_spelling(g, n, [done[a] for a in g.args[n]])
        if len(text) > MAX_FORMULA_CHARS:
            text, prec = text[:MAX_FORMULA_CHARS - 1] + "…", _ATOM
        done[n] = (text, prec)
    return done[node][0]


__all__ = ["Adjoint", "DomainError", "Edge", "GradientEntry", "Step", "Term", "Trace",
           "TorchCheck", "explain", "point_from_text", "prepare", "resolve_point"]
