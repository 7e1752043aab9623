"""Analyses of a scheduled program that the printers read: run once, before rendering.

`annotate(program)` writes onto each `Function`:

- `int_results`, `float_inputs` (python and numba printers): how a function stays in floats
  when called with ints (`int_safety`);
- `full_results` (numpy printer): the results computed from every input, which therefore
  already have the inputs' broadcast shape (`broadcast_results`).

The printers only print what these say; nothing here prints.
"""

from __future__ import annotations

import functools

from .ops import OPS
from .schedule import Function, Program

# Called with ints, an int result may have this many times the digits of the inputs before
# the inputs are converted on entry instead: x0*x1*...*x9 grows 10x (fine), repeated squaring
# 2**k-fold (a chain of 30 squarings would build billion-digit integers).
_INT_GROWTH = 64


def annotate(program: Program, needed: tuple[str, ...] = ("int_safety", "broadcast")
             ) -> Program:
    """Annotate every function of `program` (in place; returns it) with the analyses
    `needed` (a printer's `Printer.analyses`): "int_safety", "broadcast"."""
    for fn in program.functions.values():
        if "int_safety" in needed:
            fn.int_results, fn.float_inputs = int_safety(fn)
        if "broadcast" in needed:
            fn.full_results = broadcast_results(fn)
    return program


def int_safety(fn: Function) -> tuple[frozenset[str], tuple[str, ...]]:
    """How a python-backend function stays in floats when called with ints.

    Operations that keep ints ints (`x + y`, `x * x`, see `Op.keeps_int`) compute exact
    integers from int arguments. Usually that is harmless, and the results that can be ints
    get a float() (the first item), unless converting the inputs that feed such operations
    on entry takes fewer calls (the second item: the inputs to convert on entry; then no
    result needs converting). When an int result could have more than `_INT_GROWTH` times
    the digits of the inputs (`Op.int_growth`: products add digits, `x**n` multiplies them),
    the inputs are always converted on entry.
    """
    params = set(fn.params)
    growth = {p: 1 for p in fn.params}        # names that may hold an int -> digit growth
    feeders: set[str] = set()
    largest = 1
    cap = 1 << 62
    for stmt in fn.statements:
        op = OPS.get(stmt.op)
        if op is None or not op.keeps_int:    # None: a loop or scatter (symback.loops)
            continue
        operands = stmt.operands
        sizes = []
        for k in _real_slots(stmt.op, len(operands)):
            size = growth.get(operands[k])      # None: a constant or a float-only name
            if size is None:
                break
            sizes.append(size)
        else:
            if op.int_growth == "sum":
                size = sum(sizes)
            elif op.int_growth == "power":
                size = sizes[0] * max(1, abs(int(operands[op.int_operands[0]])))
            else:
                size = max(sizes, default=1)
            if size > cap:
                size = cap
            growth[stmt.target] = size
            if size > largest:
                largest = size
            for k in _real_slots(stmt.op, len(operands)):
                if operands[k] in params:
                    feeders.add(operands[k])
    maybe_int = {x for x in fn.results if isinstance(x, str) and x in growth}
    feeders |= maybe_int & params
    if largest <= _INT_GROWTH and len(maybe_int) <= len(feeders):
        return frozenset(maybe_int), ()   # fewer conversions on the results than on the inputs
    return frozenset(), tuple(p for p in fn.params if p in feeders)


@functools.lru_cache(maxsize=None)
def _real_slots(name: str, n: int) -> tuple[int, ...]:
    """The operand positions of op `name` (with `n` operands) that take real values which
    may be ints: not conditions, not the integer constants it prints as ints (`x ** 2`)."""
    op = OPS[name]
    return tuple(k for k in range(n) if op.operand_kind(k) == "real" and k not in op.int_operands)


def broadcast_results(fn: Function) -> frozenset[str]:
    """The results of `fn` computed (by elementwise ops) from every one of its inputs, so of
    the inputs' broadcast shape. Inputs themselves are not among them."""
    bit = {p: 1 << k for k, p in enumerate(fn.params)}
    full = (1 << len(fn.params)) - 1
    mask: dict[str, int] = {}
    for stmt in fn.statements:
        m = 0
        for x in stmt.operands:
            if isinstance(x, str):
                m |= bit.get(x, 0) | mask.get(x, 0)
        mask[stmt.target] = m
    return frozenset(x for x in fn.results
                     if isinstance(x, str) and x not in bit and mask.get(x, 0) == full)


__all__ = ["annotate", "broadcast_results", "int_safety"]
