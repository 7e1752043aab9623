"""How a function's statements are written: which temporaries are printed inside their user.

The graph already does the algebra: constant folding, interning (common subexpressions are
one node), the identities of the rule table (`x*1 -> x`, `x**0.5 -> sqrt(x)`,
`x**-1 -> 1/x`, negations hoisted out of products so they cancel) and dead code removal
(`Graph.live`: a function schedules only the nodes its results need). What is left is how the
program is *written*, never what it computes:

`inline_plan` (printers with `inline`, the python ones): a temporary used exactly once is
written into its user's expression instead of a statement of its own
(`d_x = _t5 * _t6 + _t7 * _t8`), so adjoint sums read as one n-ary sum rather than a chain
of temporaries. Statements stay short: at most `MAX_OPS` operations and `MAX_DEPTH` levels
of nesting per line. Only unnamed temporaries are inlined: the user's names (`p`, `q`) and
adjoint names (`d_q`) stay lines. Which operand slots may take an expression, and with
which precedence, is the printer's spelling data (`printers.Spelling`). The scheduler asks
for the plan before it names the temporaries, so the ones printed as lines are numbered
`_t1, _t2, ...` without gaps.

`Program.op_count` still counts primitive operations: an inlined statement keeps its place in
`Function.statements` and is only flagged (`Stmt.inline`), so it counts as the one operation
it is, wherever it is printed.
"""

from __future__ import annotations

from collections import Counter
from itertools import chain
from typing import TYPE_CHECKING, Any, Callable

from .ops import OPS

if TYPE_CHECKING:
    from .graph import Graph

# Bounds on one printed statement when temporaries are inlined into it.
MAX_OPS = 8
MAX_DEPTH = 4

# The ops whose result is a number (not a condition): only they are inlined.
_REAL_OPS = frozenset(name for name, op in OPS.items() if op.kind == "real")


def inline_plan(g: Graph, nodes: list[int], guards: list, pinned: set[int],
                temps: set[int], spelling: Callable[[str, list], Any]) -> set[int]:
    """The positions of the statements printed inside their user's expression.

    Args:
        g: the graph.
        nodes: the node of each statement, in statement order.
        guards: the guard of each statement (statements with equal guards are computed
            under the same condition).
        pinned: nodes that must stay lines (results, `where` conditions).
        temps: the unnamed nodes (only they are inlined).
        spelling: the printer's `Printer.spelling`, `(op, operands) -> Spelling`: which
            operand slots take an expression (constants among the operands are floats).

    A statement is inlined when its node is a temporary used by exactly one operand of one
    later statement, both statements have the same guard (so laziness is unchanged), the
    user's spelling has a slot that can take an expression (`Spelling.slots`), and the
    user's line stays within `MAX_OPS` operations and `MAX_DEPTH` levels.
    """
    ops, args, values = g.ops, g.args, g.values
    uses = Counter(chain.from_iterable(map(args.__getitem__, nodes)))
    inlinable = {i for i in temps if uses[i] == 1 and ops[i] in _REAL_OPS} - pinned
    if len(set(nodes)) < len(nodes):          # computed under two guards: keep both lines
        seen: set[int] = set()
        twice: set[int] = set()
        for i in nodes:
            (twice if i in seen else seen).add(i)
        inlinable -= twice
    candidates = {i: k for k, i in enumerate(nodes) if i in inlinable}  # -> statement position
    inlined: set[int] = set()
    line_ops = [1] * len(nodes)               # per statement: operations of its line,
    line_depth = [1] * len(nodes)             # and levels of nesting
    for m, user in enumerate(nodes):
        user_args = args[user]
        if ops[user] not in OPS:              # a loop: its operands stay lines of their own
            continue
        for a in user_args:
            if a in candidates:
                break
        else:                                 # nothing to inline: a line of one operation
            continue
        operands = [values[a] if ops[a] == "const" else a for a in user_args]
        slots = spelling(ops[user], operands).slots
        n_ops, depth = 1, 1
        for slot, a in enumerate(user_args):
            k = candidates.get(a)
            if k is None or slots[slot] is None or guards[k] != guards[m]:
                continue
            more, deeper = n_ops + line_ops[k], line_depth[k] + 1
            if more > MAX_OPS or deeper > MAX_DEPTH:
                continue
            n_ops = more
            if deeper > depth:
                depth = deeper
            inlined.add(k)
        line_ops[m], line_depth[m] = n_ops, depth
    return inlined


__all__ = ["MAX_DEPTH", "MAX_OPS", "inline_plan"]
