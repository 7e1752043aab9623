"""Optimizer passes over a scheduled program (after `schedule`, before `render`).

The graph already does the algebra: constant folding, interning (common subexpressions are
one node), the identities of the rule table (`x*1 -> x`, `x**0.5 -> sqrt(x)`,
`x**-1 -> 1/x`, negations hoisted out of products so they cancel) and dead code removal
(`Graph.live`: a function schedules only the nodes its results need). The pass here works
on the flat SSA statements of each function and changes how the program is *written*, never
what it computes:

`mark_inline` (printers with `inline`, the python ones): a temporary used exactly once is
written into its user's expression instead of a statement of its own
(`d_x = _t5 * _t6 + _t7 * _t8`), so adjoint sums read as one n-ary sum rather than a chain
of temporaries. Statements stay short: at most `MAX_OPS` operations and `MAX_DEPTH` levels
of nesting per line. Only unnamed temporaries are inlined: the user's names (`p`, `q`) and
adjoint names (`d_q`) stay lines. Which operand slots may take an expression, and with
which precedence, is the printer's spelling data (`printers.Spelling`).

`Program.op_count` still counts primitive operations: an inlined statement keeps its place in
`Function.statements` and is only flagged (`Stmt.inline`), so it counts as the one operation
it is, wherever it is printed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .ops import OPS
from .schedule import Function, Program, Stmt

if TYPE_CHECKING:
    from .printers import Printer

# Bounds on one printed statement when temporaries are inlined into it.
MAX_OPS = 8
MAX_DEPTH = 4


def optimize(program: Program, printer: Printer) -> Program:
    """Apply the passes the printer asks for to every function of `program` (in place;
    returns it)."""
    if printer.inline:
        for fn in program.functions.values():
            mark_inline(fn, program.temps, printer)
    return program


def mark_inline(fn: Function, temps: frozenset[str] | set[str], printer: Printer) -> None:
    """Flag the statements of `fn` that are printed inside their user's expression.

    A statement is inlined when its target is a temporary (in `temps`) used by exactly one
    operand of one later statement (not a result, not a guard's condition), both statements
    have the same guard (so laziness is unchanged), the user's spelling has a slot that can
    take an expression (`Spelling.slots`), and the user's line stays within `MAX_OPS`
    operations and `MAX_DEPTH` levels.
    """
    uses: dict[str, int] = {}
    for stmt in fn.statements:
        for x in stmt.operands:
            if isinstance(x, str):
                uses[x] = uses.get(x, 0) + 1
    pinned = {x for x in fn.results if isinstance(x, str)} | {g.cond for g in fn.guards}
    candidates: dict[str, int] = {}           # target -> statement index
    for k, stmt in enumerate(fn.statements):
        if (stmt.target in temps and uses.get(stmt.target) == 1 and stmt.target not in pinned
                and OPS[stmt.op].kind == "real"):
            candidates[stmt.target] = k
    size: list[tuple[int, int]] = [(1, 1)] * len(fn.statements)     # (ops, depth) per line
    for m, user in enumerate(fn.statements):
        slots = printer.spelling(user).slots
        ops, depth = 1, 1
        for slot, x in enumerate(user.operands):
            k = candidates.get(x) if isinstance(x, str) else None
            if k is None or fn.statements[k].guard != user.guard or slots[slot] is None:
                continue
            sub_ops, sub_depth = size[k]
            if ops + sub_ops > MAX_OPS or max(depth, sub_depth + 1) > MAX_DEPTH:
                continue
            ops, depth = ops + sub_ops, max(depth, sub_depth + 1)
            s = fn.statements[k]             # (a constructor call: dataclasses.replace is slow)
            fn.statements[k] = Stmt(s.target, s.op, s.operands, s.node, s.guard, True)
        size[m] = (ops, depth)


__all__ = ["MAX_DEPTH", "MAX_OPS", "mark_inline", "optimize"]
