"""Backpropagation step by step: builds the worked example a tutorial draws, for any expression.

`explain(expr, at={...})` returns a `symback.trace.Trace`: the forward pass (each node, its
equation in the user's names, its value), the local partial derivative on every edge (its
formula and value), the backward pass (each adjoint as the chain-rule sum of products over the
node's users) and the gradient with a central finite-difference check.

The trace is built from the compiler's own graph and rule table, never from a second
implementation: the forward values come from `graph.evaluate` (each op's `eval`), the local
partials are the nodes `reverse.local_partials` builds (the same helper reverse and forward
mode call), evaluated numerically, and the adjoints are accumulated in the same order as
`symback.reverse.gradient`, with the same exact zeros: an edge whose partial is the constant
0 contributes nothing, and a `where` branch that was not taken contributes nothing (the python
backend does not even compute it). So the trace's gradient is the compiled gradient, number
for number.

The model is `symback.trace`, formulas are printed by `symback.formula`, formatting (text,
markdown, json) lives in `symback.report`, DOT output in `symback.dot`.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from . import source
from .arrays import element_labels, element_names
from .errors import ArgumentError, SymbackError
from .formula import formula as _formula
from .formula import node_names, rhs as _rhs, value_text as _short
from .graph import DEFAULT_MAX_NODES, Graph, evaluate
from .parse import DEFAULT_MAX_CHARS, Expression, parse
from .reverse import local_partials
from .trace import (Adjoint, Edge, GradientEntry, Step, Term, TorchCheck, Trace, Value,
                    head_and_tail)

# Central finite differences use h = _FD_STEP * max(1, |x|) (a power of two near eps**(1/3)).
_FD_STEP = 2.0 ** -17

# What `check` accepts: finite differences, finite differences and PyTorch, or nothing.
CHECKS = ("fd", "torch", "none")


class DomainError(SymbackError):
    """The expression (or a local partial on the active path) is undefined at the point."""


def explain(expr: str | Expression,
            at: Mapping[str, float] | Sequence[float] | str | None = None,
            *, wrt: Sequence[str] | str | None = None, output: str | int | None = None,
            check: str | None = "fd", check_limit: int = 0,
            finite_differences: bool = True, torch: bool = False,
            max_chars: int | None = DEFAULT_MAX_CHARS,
            max_nodes: int | None = DEFAULT_MAX_NODES) -> Trace:
    """Explain backpropagation through an expression, step by step.

    Args:
        expr: the expression text (as for `symback.compile`), or a parsed `Expression`.
        at: the point: a mapping input name -> number, numbers in input order, or a string
            of `NAME=VALUE` items ("x=1 y=2" or "x=1,y=2"). Default: the text's `# point:`
            line, else no point (formulas only, no numbers).
        wrt: the inputs to differentiate, in order (default: every input).
        output: for several outputs, which one to explain (name or index; default the first).
        check: how the gradient is checked: "fd" (central finite differences, the default),
            "torch" (finite differences and PyTorch autograd, `Trace.torch`), "none" or None.
        check_limit: with N > 0, finite differences only for the first and last gradient
            entries a report with `limit=N` shows (the same head and tail); 0: all.
        finite_differences: False is `check="none"` (kept for older callers).
        torch: True is `check="torch"` (kept for older callers).
        max_chars, max_nodes: size limits, as for `symback.compile`.

    Returns:
        The `Trace`.

    Raises:
        ParseError, LimitError: as `symback.compile`.
        ArgumentError: a bad point (unknown or missing input, not a number), `wrt`, `output`
            or `check`, or the torch check without PyTorch installed.
        DomainError: an op on the active path is undefined at the point (`log(-1)`).
    """
    check = "none" if check is None else check
    if check not in CHECKS:
        raise ArgumentError(f"unknown check {check!r} (choose from {', '.join(CHECKS)})")
    use_torch = torch or check == "torch"
    use_fd = finite_differences and check != "none"
    expression, wrt_names = prepare(expr, wrt, max_chars=max_chars, max_nodes=max_nodes)
    if at is None and isinstance(expression.text, str):
        at = source.point_directive(expression.text, expression.inputs)
    point = source.resolve_point(expression.inputs, at, expression.shapes) \
        if at is not None else None
    if use_torch:
        from .torch_check import require_torch
        require_torch()
    trace = _Builder(expression, wrt_names, point, _choose_output(expression, output)).build(
        use_fd, check_limit)
    if use_torch and point is not None:
        from .torch_check import torch_check
        trace.torch = torch_check(trace)
    return trace


def prepare(expr: str | Expression, wrt: Sequence[str] | str | None = None, *,
            max_chars: int | None = DEFAULT_MAX_CHARS,
            max_nodes: int | None = DEFAULT_MAX_NODES) -> tuple[Expression, list[str]]:
    """Parse as `symback.compile` does: (expression, the inputs to differentiate).

    `wrt` (or else the text's `# vars:` line) gives the input order; the differentiated
    inputs are `wrt`, or every input.
    """
    if isinstance(expr, Expression):
        names = source.input_names(wrt, "wrt") if wrt is not None else list(expr.inputs)
        return expr, names
    declared = source.input_names(wrt, "wrt") if wrt is not None \
        else source.declared_inputs(expr)
    expression = parse(expr, declared, max_chars=max_chars, max_nodes=max_nodes,
                       shapes=source.declared_array_shapes(expr), loops="unroll")
    if wrt is not None and expression.shapes:       # an array stands for its elements
        declared = [e for n in declared for e in element_names(n, expression.shapes)]
    return expression, (declared if wrt is not None else list(expression.inputs))


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

    def build(self, finite_differences: bool, check_limit: int = 0) -> Trace:
        """The trace; finite differences (if asked) for the gradient entries a report
        with `limit=check_limit` shows (0: all)."""
        g, out, ex = self.g, self.out, self.ex
        live = [i for i in g.live([out])]
        names = node_names(g, ex.inputs, ex.bindings, out, live, ex.output_names[self.which])
        shown = element_labels(ex.shapes)               # x_3 is shown as x[3]
        for name, label in shown.items():
            node = g.lookup_var(name)
            if node is not None:
                names[node] = label
        self.evaluate()
        taken = self.taken_flags(live)
        self.check_forward(live, taken, names)
        active = g.depends_on([w for w in self.wrt_nodes if w is not None], out) \
            if self.wrt_nodes else bytearray(out + 1)
        wrt_set = set(self.wrt)
        forward = []
        for name in ex.inputs:
            node = g.lookup_var(name)
            forward.append(Step(node, shown.get(name, name),
                                "input" if name in wrt_set else "parameter", "var", "",
                                self.value(node)))
        for i in live:
            forward.append(Step(i, names[i], "op", g.ops[i], _rhs(g, i, names),
                                self.value(i), bool(taken[i])))
        partials = self.partial_nodes(live, taken, active)
        self.evaluate()                                   # the rules' new nodes
        edges = self.edges(partials, taken, names)
        backward, adj = self.backward(partials, taken, active, names)
        grads = []
        fds: dict[str, float] = {}
        if finite_differences and self.point:
            head, tail, _ = head_and_tail(self.wrt, check_limit)
            fds = self.finite_differences(head + tail)
        for name, w in zip(self.wrt, self.wrt_nodes):
            value: Value = None
            if self.point is not None:
                value = adj.get(w, 0.0) if w is not None else 0.0
            grads.append(GradientEntry(shown.get(name, name), value, fds.get(name)))
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
            args = g.args[i]
            found = []
            for k, _, node in local_partials(g, i, active):
                edge_taken = True
                if g.ops[i] == "where" and self.point is not None:
                    edge_taken = (k == 1) == bool(self.vals[args[0]])
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
            rows.append(Adjoint(w, names.get(w, name), tuple(terms.pop(w, ())), value,
                                seed=w == out))
        return rows, adj

    def finite_differences(self, wrt: list[str]) -> dict[str, float]:
        """Central differences of the output for each input in `wrt` (nan if the output is
        undefined on either side)."""
        g, out, point = self.g, self.out, dict(self.point or {})
        result = {}
        for name in wrt:
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


__all__ = ["CHECKS", "Adjoint", "DomainError", "Edge", "GradientEntry", "Step", "Term", "Trace",
           "TorchCheck", "explain", "prepare"]
