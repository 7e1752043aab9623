"""Optimizer passes over a scheduled program (after `schedule`, before `render`).

The graph already does the algebra: constant folding, interning (common subexpressions are
one node), the identities of the rule table (`x*1 -> x`, `x**0.5 -> sqrt(x)`,
`x**-1 -> 1/x`, negations hoisted out of products so they cancel) and dead code removal
(`Graph.live`: a function schedules only the nodes its results need). The passes here work
on the flat SSA statements of each function and change how the program is *written*, never
what it computes:

1. `square_by_multiplication`: `x ** 2` is written `x * x`. Both are one correctly rounded
   operation, so the values are bit-identical; the product is faster in CPython (no call
   into `pow`) and overflows to inf instead of raising OverflowError.
2. `mark_inline` (python backend): a temporary used exactly once is written into its user's
   expression instead of a statement of its own (`d_x = _t5 * _t6 + _t7 * _t8`), so adjoint
   sums read as one n-ary sum rather than a chain of temporaries. Statements stay short: at
   most `MAX_OPS` operations and `MAX_DEPTH` levels of nesting per line. Only unnamed
   temporaries are inlined: the user's names (`p`, `q`) and adjoint names (`d_q`) stay lines.

`Program.op_count` still counts primitive operations: an inlined statement keeps its place in
`Function.statements` and is only flagged (`Stmt.inline`), so it counts as the one operation
it is, wherever it is printed.
"""

from __future__ import annotations

import functools

from .ops import OPS
from .schedule import Function, Program, Stmt

# Bounds on one printed statement when temporaries are inlined into it.
MAX_OPS = 8
MAX_DEPTH = 4

# Precedence of printed expressions, as in Python's grammar: a higher number binds tighter.
ATOM = 5              # a name, a number, a call, anything in parentheses

# Infix spellings: (precedence of the result, least precedence each operand may have
# without parentheses). Right operands of left-associative operators need one more:
# `a - (b - c)` must keep its parentheses (and `a + (b + c)` too: float addition does not
# associate).
INFIX: dict[str, tuple[int, ...]] = {
    "{0} + {1}": (1, 1, 2),
    "{0} - {1}": (1, 1, 2),
    "{0} * {1}": (2, 2, 3),
    "{0} / {1}": (2, 2, 3),
    "-{0}": (3, 3),
    "{0} ** {1}": (4, ATOM, ATOM),
}


def optimize(program: Program, *, inline: bool = False) -> Program:
    """Apply the passes to every function of `program` (in place; returns it).

    Args:
        program: the scheduled program.
        inline: also inline single-use temporaries (for backends printed as Python scalars).
    """
    for fn in program.functions.values():
        square_by_multiplication(fn)
        if inline:
            mark_inline(fn, program.temps)
    return program


def square_by_multiplication(fn: Function) -> None:
    """Rewrite `x ** 2` as `x * x` (bit-identical values)."""
    for k, stmt in enumerate(fn.statements):
        if stmt.op == "powi" and stmt.operands[1] == 2.0 and isinstance(stmt.operands[0], str):
            x = stmt.operands[0]
            fn.statements[k] = Stmt(stmt.target, "mul", (x, x), stmt.node, stmt.guard, stmt.inline)


@functools.lru_cache(maxsize=None)
def result_precedence(spelling: str) -> int:
    """How tightly the printed text of a spelling binds: an `INFIX` precedence, `ATOM` for a
    call or a parenthesised text, 0 (always parenthesise) for anything else."""
    if spelling in INFIX:
        return INFIX[spelling][0]
    if spelling.endswith(")") and _closes_at_end(spelling):
        return ATOM
    return 0


@functools.lru_cache(maxsize=None)
def slot_precedence(spelling: str, k: int) -> int | None:
    """The least precedence an inlined text may have in operand slot `k` of `spelling`
    without parentheses, or None if nothing may be inlined there (the slot is printed more
    than once, which would compute the operand twice, or sits in an unknown context)."""
    slot = "{%d}" % k
    if spelling.count(slot) != 1:
        return None
    if spelling in INFIX:
        return INFIX[spelling][1 + k]
    at = spelling.index(slot)
    before, after = spelling[:at], spelling[at + len(slot):]
    if (before.endswith("(") or before.endswith(", ")) and after[:1] in (")", ","):
        return 0                              # a whole argument of a call
    return None


def _closes_at_end(text: str) -> bool:
    """True if the last `)` of `text` closes a parenthesis opened before any top-level
    operator: `math.sin({0})`, `(a if c else b)`, but not `(a) + (b)`."""
    depth = 0
    for k, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and k != len(text) - 1:
                return False
        elif depth == 0 and ch in " +-*/<>=":
            return False
    return depth == 0


def mark_inline(fn: Function, temps: frozenset[str] | set[str]) -> None:
    """Flag the statements of `fn` that are printed inside their user's expression.

    A statement is inlined when its target is a temporary (in `temps`) used by exactly one
    operand of one later statement (not a result, not a guard's condition), both statements
    have the same guard (so laziness is unchanged), the user's spelling has a slot that can
    take an expression (see `slot_precedence`), and the user's line stays within `MAX_OPS`
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
        spelling = OPS[user.op].python
        ops, depth = 1, 1
        for slot, x in enumerate(user.operands):
            k = candidates.get(x) if isinstance(x, str) else None
            if k is None or fn.statements[k].guard != user.guard:
                continue
            if user.op == "where" or slot_precedence(spelling, slot) is None:
                continue
            sub_ops, sub_depth = size[k]
            if ops + sub_ops > MAX_OPS or max(depth, sub_depth + 1) > MAX_DEPTH:
                continue
            ops, depth = ops + sub_ops, max(depth, sub_depth + 1)
            s = fn.statements[k]             # (a constructor call: dataclasses.replace is slow)
            fn.statements[k] = Stmt(s.target, s.op, s.operands, s.node, s.guard, True)
        size[m] = (ops, depth)


def inline_text(stmt: Stmt, spelling: str, texts: list[str],
                inlined: dict[str, tuple[str, int]]) -> str:
    """Format `spelling` with operand `texts`, substituting the texts of inlined operands
    (name -> (text, precedence)), parenthesised where the slot binds tighter."""
    out = list(texts)
    for slot, x in enumerate(stmt.operands):
        if isinstance(x, str) and x in inlined:
            text, prec = inlined[x]
            need = slot_precedence(spelling, slot)
            out[slot] = text if need is not None and prec >= need else f"({text})"
    return spelling.format(*out)


__all__ = ["MAX_DEPTH", "MAX_OPS", "inline_text", "mark_inline", "optimize",
           "result_precedence", "slot_precedence", "square_by_multiplication"]
