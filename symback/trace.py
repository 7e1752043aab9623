"""The trace model: a worked example of backpropagation as plain dataclasses.

`symback.explain` builds a `Trace`; `symback.report` formats it, `symback.dot` draws it,
`symback.torch_check` cross-checks it. This module holds only the data and its conversion to
plain JSON-ready data (`trace_dict`); it imports nothing of the builder or the formatters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Union

from .graph import Graph

Value = Union[float, bool, None]
"""A node's value: a float, a bool (comparisons), or None (no point given / not computed)."""


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

    def label(self, name: str) -> str:
        """How an input is shown: its name in the trace (x[3] for the element x_3 of an
        array input)."""
        node = self.graph.lookup_var(name) if self.graph is not None else None
        return self.names.get(node, name) if node is not None else name

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
        """Plain data (lists, dicts, numbers, strings) for JSON; see `trace_dict`."""
        return trace_dict(self)


# --- plain data ---------------------------------------------------------------------------

def head_and_tail(rows: list[Any], limit: int) -> tuple[list[Any], list[Any], int]:
    """(head, tail, number cut): at most `limit` rows in all (0: no limit)."""
    if limit <= 0 or len(rows) <= limit:
        return rows, [], 0
    head = (limit + 1) // 2
    tail = limit - head
    return rows[:head], rows[len(rows) - tail:] if tail else [], len(rows) - limit


def _json_value(v: Value) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def trace_dict(trace: Trace, limit: int = 0) -> dict[str, Any]:
    """The trace as plain data; with `limit`, each list keeps its head and tail and the
    number of items cut is given under "cut"."""
    j = _json_value
    cut: dict[str, int] = {}

    def listed(name: str, items: list[Any], item: Callable[[Any], dict[str, Any]]) -> list:
        head, tail, n = head_and_tail(items, limit)
        if n:
            cut[name] = n
        return [item(x) for x in head + tail]

    data: dict[str, Any] = {
        "expression": trace.expression,
        "output": trace.output,
        "outputs": list(trace.outputs),
        "inputs": list(trace.inputs),
        "wrt": list(trace.wrt),
        "point": None if trace.point is None else {k: j(v) for k, v in trace.point.items()},
        "value": j(trace.value),
        "forward": listed("forward", trace.forward, lambda s: {
            "name": s.name, "kind": s.kind, "op": s.op, "equation": s.equation,
            "value": j(s.value), "needed": s.taken}),
        "partials": listed("partials", trace.edges, lambda e: {
            "node": e.node, "arg": e.arg, "label": e.label, "formula": e.formula,
            "value": j(e.value), "taken": e.taken}),
        "backward": listed("backward", trace.backward, lambda a: {
            "name": a.name, "adjoint": f"∂{trace.output}/∂{a.name}", "value": j(a.value),
            "seed": a.seed, "terms": [{"via": t.via, "adjoint": j(t.adjoint),
                                       "partial": j(t.partial), "value": j(t.value)}
                                      for t in a.terms]}),
        "gradient": listed("gradient", trace.gradient, lambda g: {
            "input": g.name, "value": j(g.value), "finite_difference": j(g.finite_difference),
            "difference": j(g.difference)}),
    }
    if trace.torch is not None:
        data["torch"] = {"version": trace.torch.version, "value": j(trace.torch.value),
                         "gradient": {n: j(v) for n, v in zip(trace.wrt, trace.torch.gradient)}}
    if cut:
        data["cut"] = cut
    return data


__all__ = ["Adjoint", "Edge", "GradientEntry", "Step", "Term", "TorchCheck", "Trace", "Value",
           "head_and_tail", "trace_dict"]
