"""The formula printer of `explain`: nodes written for people, in the user's names.

`p · z`, `2 · q`, `x²`, `sin(x)`, `x ≤ y`: each op reads as its rule-table record says
(`Op.display`: a format, its precedence and the precedence each operand needs), with
parentheses only where precedence needs them. Named nodes and constants are leaves (`π`,
`-3`, `0.5`); nodes the rules built are printed out, without recursion.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from .graph import Graph
from .ops import ATOM, OPS

# Longest text of an inline partial formula; longer ones are cut with an ellipsis.
MAX_FORMULA_CHARS = 160

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class _Operand(str):
    """An operand's text; the format spec `sup` writes it in superscript digits (`x{1:sup}`)."""

    def __format__(self, spec: str) -> str:
        if spec == "sup":
            return self.translate(_SUPERSCRIPT)
        return format(str(self), spec)


def node_names(g: Graph, inputs: list[str], bound: Any, out: int, live: list[int],
               label: str) -> dict[int, str]:
    """Node id -> name for the nodes of a trace.

    Inputs and user-named nodes keep their names, an unnamed output takes the output's label
    (`f`), other nodes get `t1, t2, ...` in id order, skipping names already used (`bound`:
    the names the user bound).
    """
    names: dict[int, str] = {}
    used = set(inputs) | set(bound) | set(g.names.values())
    for name in inputs:
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


def const_text(v: Any) -> str:
    """A constant as a reader writes it: 2, 0.5, -3, π, e, true."""
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


def value_text(v: Any) -> str:
    """A computed value in a message: as `const_text`, or "undefined" for None."""
    return "undefined" if v is None else const_text(v)


def _leaf(g: Graph, node: int, names: Mapping[int, str]) -> tuple[str, int] | None:
    """The text and precedence of a node printed by name or as a constant, else None."""
    if node in names:
        return names[node], ATOM
    if g.ops[node] == "const":
        text = const_text(g.values[node])
        return text, 3 if text.startswith("-") else ATOM
    if g.ops[node] == "var":
        return g.values[node], ATOM
    return None


def _apply(g: Graph, node: int, operands: list[tuple[str, int]]) -> tuple[str, int]:
    """One op over already printed operands, with parentheses where precedence needs them."""
    fmt, prec, needs = OPS[g.ops[node]].display
    texts = [_Operand(t if p >= need else f"({t})") for (t, p), need in zip(operands, needs)]
    return fmt.format(*texts), prec


def rhs(g: Graph, node: int, names: Mapping[int, str]) -> str:
    """The right-hand side of a forward equation: one op over named operands."""
    operands = []
    for a in g.args[node]:
        leaf = _leaf(g, a, names)
        operands.append(leaf if leaf is not None else (f"t{a}", ATOM))
    return _apply(g, node, operands)[0]


def formula(g: Graph, node: int, names: Mapping[int, str]) -> str:
    """A node as an inline formula: named nodes and constants as leaves, nodes the rules
    built printed out (an explicit post-order stack, no recursion), cut with an ellipsis
    past `MAX_FORMULA_CHARS`."""
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
        text, prec = _apply(g, n, [done[a] for a in g.args[n]])
        if len(text) > MAX_FORMULA_CHARS:
            text, prec = text[:MAX_FORMULA_CHARS - 1] + "…", ATOM
        done[n] = (text, prec)
    return done[node][0]


__all__ = ["MAX_FORMULA_CHARS", "const_text", "formula", "node_names", "rhs", "value_text"]
