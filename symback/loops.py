"""Rolled loops: a `sum(E for i in range(n) ...)` kept as one node of the graph.

Unrolled, a comprehension is n copies of its body; rolled, it is one node whose value is
the sum of a small *body graph* over the iterations. The body graph is an ordinary `Graph`
of the rule table's ops whose inputs (vars) stand for

- the loop variables used as numbers (`i * x[i]`), named as the user wrote them;
- element reads `x[i + 1]`, `W[i, j]` of array inputs, at integer expressions of the loop
  variables (`symback.indices` trees), named by their text;
- captured values from outside the loop (a bound name, a scalar input, an earlier loop's
  result), named `@<outer node id>`.

The loop node in the outer graph has the op "loop", its `Loop` record as its value, and as
operands first the whole-array input vars it reads and then its captured outer nodes, so
liveness, scheduling and the dependency analyses see a loop as one operation.

Derivatives use the same rule table on the body graph: the partial of a sum loop with
respect to a captured value is another sum loop over the body's partial
(`reverse.local_partials`), and the adjoint of an array input is a *scatter*
(`reverse.gradient`): per iteration, `d_x[i + 1] += seed * d(body)/d(x[i + 1])`. Printers
write a loop as `for` loops (python, numba) or as slices and index arrays (numpy).

An element read outside any loop (`x[3]` in a rolled program) is a loop with no clauses
whose body is the read itself, so it goes through the same machinery.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator

from . import indices
from .graph import Graph
from .indices import Index

# `loops="auto"` rolls a sum, min or max comprehension of at least this many iterations.
AUTO_ROLL = 256

# The reductions that stay loops.
ROLLED = ("sum", "prod", "min", "max")

LOOP_MODES = ("auto", "roll", "unroll")


@dataclass(frozen=True)
class Clause:
    """`for var in range(start, stop, step)` (kind "for") or `if cond` (kind "if")."""

    kind: str
    var: str = ""
    bounds: tuple[Index, Index, Index] = (0, 0, 1)
    cond: Index = 1


@dataclass(eq=False)
class Loop:
    """A rolled reduction: the sum, product, min or max of `body[result]` over the
    iterations of `clauses`.

    A min, max or prod is differentiated as a weighted sum, d(L) = sum_i w_i d(f_i)
    (`reverse.weights`): for a min or max the iterations that reach it share its
    derivative equally; for a prod w_i is the product of the other factors.

    Attributes:
        kind: "sum", "prod", "min" or "max".
        clauses: the `for` and `if` clauses, outermost first.
        body: the body graph (shared by the loops derived from this one).
        result: the body node summed.
        reads: body var node -> (array name, one index per axis).
        arrays: the arrays the loop reads, in the order of the loop node's first operands.
        captures: body var nodes of captured outer values, in the order of the loop node's
            operands after the arrays.
        pos: where the comprehension starts in the text (for messages).
    """

    kind: str
    clauses: tuple[Clause, ...]
    body: Graph
    result: int
    reads: dict[int, tuple[str, tuple[Index, ...]]]
    arrays: tuple[str, ...]
    captures: tuple[int, ...]
    pos: int = 0
    _partials: dict[int, int] = field(default_factory=dict, repr=False)
    _weights: tuple | None = field(default=None, repr=False)   # reverse.weights

    def derived(self, result: int) -> "Loop":
        """The sum loop over the same iterations of another body node (a partial)."""
        return replace(self, kind="sum", result=result, _partials={}, _weights=None)

    @property
    def loop_vars(self) -> tuple[str, ...]:
        return tuple(c.var for c in self.clauses if c.kind == "for")

    def is_read(self) -> bool:
        """An element read outside any loop: no clauses, the body is the read."""
        return not self.clauses and self.result in self.reads

    def partial(self, capture: int) -> int:
        """The body node of d(result)/d(capture var), built once per capture (by the rule
        table, through `symback.reverse`)."""
        return self._partials[capture]


@dataclass(eq=False)
class Scatter:
    """The adjoint of one array input: zeros, plus for each term (a loop that reads the
    array, with its seed), per iteration `d_x[index] += seed * d(body)/d(x[index])`.

    Attributes:
        array: the array input; shape: its shape.
        terms: per loop, (the loop, its seed's body var, [(read var, body node of the
            term)]); the scatter node's operands are, per term in order, the seed (the
            loop's adjoint) followed by the loop's operands.
    """

    array: str
    shape: tuple[int, ...]
    terms: list[tuple[Loop, int, list[tuple[int, int]]]]


def body_ops(spec: "Loop | Scatter") -> int:
    """The operations of one iteration of a loop's body (of every term of a scatter), at
    least 1: the element read of a loop without clauses counts as one."""
    if isinstance(spec, Loop):
        return _ops(spec.body, [spec.result])
    return max(1, sum(_ops(loop.body, [t for _, t in items]) for loop, _, items in spec.terms))


def _ops(body: Graph, roots: list[int]) -> int:
    if all(body.ops[r] in ("var", "const") for r in roots):     # an element read
        return 1
    return max(1, len(body.live(roots)))


def iterations(clauses: tuple[Clause, ...], cap: int | None = None) -> Iterator[dict[str, int]]:
    """The environments of the loop variables, in order (stops after `cap` of them)."""
    work: list[tuple[int, dict[str, int]]] = [(0, {})]
    count = 0
    while work:
        k, env = work.pop()
        if k == len(clauses):
            yield env
            count += 1
            if cap is not None and count >= cap:
                return
            continue
        c = clauses[k]
        if c.kind == "if":
            if indices.evaluate(c.cond, env):
                work.append((k + 1, env))
            continue
        r = range(*(indices.evaluate(b, env) for b in c.bounds))
        for v in reversed(r):
            work.append((k + 1, {**env, c.var: v}))


def count_at_least(clauses: tuple[Clause, ...], n: int) -> bool:
    """True if the clauses run at least `n` iterations (without enumerating more)."""
    if all(c.kind == "for" and all(isinstance(b, int) for b in c.bounds) for c in clauses):
        total = 1
        for c in clauses:
            total *= len(range(*c.bounds))
        return total >= n
    return sum(1 for _ in iterations(clauses, n)) >= n


def ranges(clauses: tuple[Clause, ...]) -> dict[str, tuple[int, int]] | None:
    """An interval [lo, hi] per loop variable that holds every value it takes (filters
    ignored), or None if a bound is not affine or a range is empty."""
    found: dict[str, tuple[int, int]] = {}
    for c in clauses:
        if c.kind != "for":
            continue
        start, stop, step = (_interval(b, found) for b in c.bounds)
        if start is None or stop is None or step is None or step[0] != step[1]:
            return None
        s = step[0]
        if s > 0:
            lo, hi = start[0], stop[1] - 1
        else:
            lo, hi = stop[0] + 1, start[1]
        if lo > hi:
            return None
        found[c.var] = (lo, hi)
    return found


def _interval(e: Index, env: dict[str, tuple[int, int]]) -> tuple[int, int] | None:
    """The interval of an affine expression over the variables' intervals, or None."""
    form = indices.affine(e)
    if form is None:
        return None
    coefs, const = form
    lo = hi = const
    for v, c in coefs.items():
        if v not in env:
            return None
        a, b = env[v]
        lo += min(c * a, c * b)
        hi += max(c * a, c * b)
    return lo, hi


def index_in_range(clauses: tuple[Clause, ...], index: Index, size: int,
                   limit: int = 2_000_000) -> int | None:
    """None if `index` stays in 0..size-1 on every iteration; else a value it takes that is
    out of range. Decided by intervals when the clauses have affine bounds and no filter,
    else by running the iterations (at most `limit` of them; beyond, by intervals)."""
    bounds = ranges(clauses)
    span = _interval(index, bounds) if bounds is not None else None
    if span is not None and 0 <= span[0] and span[1] < size:
        return None
    if not count_at_least(clauses, limit + 1):
        for env in iterations(clauses):
            v = indices.evaluate(index, env)
            if not 0 <= v < size:
                return v
        return None
    if span is not None and not any(c.kind == "if" for c in clauses):
        return span[0] if span[0] < 0 else span[1]
    return None

__all__ = ["AUTO_ROLL", "LOOP_MODES", "ROLLED", "Clause", "Loop", "Scatter", "count_at_least",
           "index_in_range", "iterations", "ranges"]
