"""The code of rolled loops (symback.loops): `for` loops, or slices and index arrays.

A loop statement of a function (`_t3 = loop(...)`, a `Loop`) or the adjoint of an array input
(`d_x = scatter(...)`, a `Scatter`) is printed by the function's printer as several lines.
The body graph is scheduled like any function (`schedule.schedule`: dead code removal,
guards, inlining, names that do not clash with the enclosing function's) and printed by the
same printer, with each body input replaced by its text: an element read (`x[i + 1]`), a
captured value (the outer name), the loop variable, the scatter's seed.

Three styles, after `Printer.array_style`:

- "sequence" (python): array inputs are flat lists of floats; `x[3 * i + j]`;
- "indexed" (numba): float64 arrays; `X[i, j]`;
- "stacked" (numpy): arrays of shape S + shape; no Python loop: one `for` clause with
  constant bounds and affine reads becomes slices (`x[..., 1:1000]`), anything else index
  arrays of every iteration (`numpy.repeat`, masks for `if` filters) and fancy indexing;
  adjoints are added with slice updates, or `_scatter_add` for index arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from . import indices
from .graph import Graph
from .indices import Index
from .loops import Clause, Loop, Scatter
from .schedule import Function, Stmt, schedule


def taken_names(fn: Function) -> set[str]:
    """Every name the enclosing function uses."""
    return (set(fn.params) | {s.target for s in fn.statements}
            | {g.target for g in fn.guards})


def fresh(prefix: str, used: set[str]) -> str:
    """The first of `prefix`1, `prefix`2, ... that is not in `used` (then added to it)."""
    k = 1
    while f"{prefix}{k}" in used:
        k += 1
    used.add(f"{prefix}{k}")
    return f"{prefix}{k}"


def body_code(printer: Any, body: Graph, roots: list[int], texts: dict[str, str],
              used: set[str], known: dict[int, str] | None = None, keep: set[int] = set(),
              rewrite: Callable[[Function], dict[str, str]] | None = None
              ) -> tuple[list[str], list[str], dict[int, str]]:
    """The lines computing `roots` of a body graph, the texts of the roots, and the names
    of the body nodes in `keep` it computed.

    `texts` maps body var names to their text in this place; `used` are names the body may
    not take (it grows with the body's names); `known` are body nodes computed before, by
    name; the nodes in `keep` are not freed (a later loop reads them, see numpy_loops);
    `rewrite(fn)` may give other right-hand sides for some statements, by target."""
    if all(body.ops[r] in ("var", "const") for r in roots):    # an element read: no code
        return [], [printer.operand(body.values[r]) if body.ops[r] == "const"
                    else texts.get(body.values[r], body.values[r]) for r in roots], {}
    needed = set(roots)
    for i in body.live(roots, known or {}):
        needed.update(body.args[i])
    variables = [v for v in needed if body.ops[v] == "var"]
    program = schedule(body, variables, {"body": roots},  # type: ignore[arg-type]
                       reserved=printer.reserved | frozenset(used),
                       inline=printer.spelling if printer.inline else None, lazy=printer.lazy,
                       known=known)
    fn = program.functions["body"]
    rename = {p: texts.get(body.values[v], p) for p, v in zip(program.params, variables)}

    def sub(x: Any) -> Any:
        return rename.get(x, x) if isinstance(x, str) else x

    fn.statements = [s._replace(operands=tuple(sub(x) for x in s.operands))
                     for s in fn.statements]
    fn.results = [sub(x) for x in fn.results]
    computed = {s.node: s.target for s in fn.statements if s.node in keep}
    fn.params = [t for t in rename.values() if isinstance(t, str)] + list(computed.values()) \
        + list((known or {}).values())                       # never freed (`del`)
    used.update(s.target for s in fn.statements)
    used.update(g.target for g in fn.guards)
    lines = printer.body(fn)
    if rewrite is not None:
        other = rewrite(fn)
        for k, line in enumerate(lines):
            target = line.split(" = ", 1)[0]
            if target in other and " = " in line:
                lines[k] = f"{target} = {other[target]}"
    return lines, [printer.operand(x) for x in fn.results], computed


def _operands(stmt: Stmt, printer: Any) -> list[str]:
    return [printer.operand(x) for x in stmt.operands]


def _captures(spec: Loop, operands: list[str]) -> dict[str, str]:
    first = len(spec.arrays)
    found = {spec.body.values[c]: operands[first + k] for k, c in enumerate(spec.captures)}
    found.update({a: operands[k] for k, a in enumerate(spec.arrays)})
    return found


# --- python and numba: for loops ----------------------------------------------------------

def flat_index(index: tuple[Index, ...], shape: tuple[int, ...]) -> Index:
    """The row-major flat index of a multi-index."""
    flat: Index = 0
    for i, n in zip(index, shape):
        flat = indices.combine("+", indices.combine("*", flat, n), i) if not isinstance(flat, int) \
            or not isinstance(i, int) else flat * n + i
    return flat


def element(style: str, array: str, index: tuple[Index, ...], shape: tuple[int, ...]) -> str:
    """The text of one element of an array input in a `for` loop."""
    if style == "sequence":
        return f"{array}[{indices.text(flat_index(index, shape))}]"
    return f"{array}[{', '.join(indices.text(i) for i in index)}]"


def headers(clauses: tuple[Clause, ...]) -> list[str]:
    """The `for` and `if` lines of a loop nest, each one level deeper than the last."""
    lines = []
    for depth, c in enumerate(clauses):
        pad = "    " * depth
        if c.kind == "if":
            lines.append(f"{pad}if {indices.text(c.cond)}:")
            continue
        start, stop, step = (indices.text(b) for b in c.bounds)
        args = stop if start == "0" and step == "1" else \
            f"{start}, {stop}" if step == "1" else f"{start}, {stop}, {step}"
        lines.append(f"{pad}for {c.var} in range({args}):")
    return lines


def _nest(clauses: tuple[Clause, ...], inner: list[str]) -> list[str]:
    pad = "    " * len(clauses)
    return headers(clauses) + [pad + line for line in inner]


@dataclass
class _Run:
    """One loop nest a statement runs: a sum into `target`, or one term of a scatter into
    the array adjoint `target` (with its seed and the body nodes it adds)."""

    loop: Loop
    operands: list[str]                 # the loop's arrays, then its captures
    target: str
    seed: str | None = None
    items: list[tuple[int, int]] = field(default_factory=list)
    shape: tuple[int, ...] = ()          # a scatter's array

    @property
    def key(self) -> tuple:
        return (id(self.loop.body), self.loop.clauses, tuple(self.operands))

    def roots(self) -> list[int]:
        return [self.loop.result] if self.seed is None else [t for _, t in self.items]


def _runs(spec: Loop | Scatter, target: str, operands: list[str]) -> list[_Run]:
    if isinstance(spec, Loop):
        return [_Run(spec, operands, target)]
    runs, k = [], 0
    for loop, _, items in spec.terms:
        n = len(loop.arrays) + len(loop.captures)
        runs.append(_Run(loop, operands[k + 1:k + 1 + n], target, operands[k], items,
                         spec.shape))
        k += 1 + n
    return runs


class _Fusion:
    """Which loop statements of a function run in one loop nest: a later statement over the
    same body, iterations and operands joins an earlier one when everything it reads is
    computed before the earlier one and both have the same guard (the sum of a loss and the
    scatter of its gradient, the partials with respect to captured parameters): one pass
    over the data instead of one per statement."""

    def __init__(self, printer: Any, fn: Function) -> None:
        self.joined: dict[str, list[Stmt]] = {}
        self.absorbed: set[str] = set()
        self.taken = taken_names(fn)
        defined = {p: -1 for p in fn.params}
        for k, stmt in enumerate(fn.statements):
            defined.setdefault(stmt.target, k)
        loops = [(k, stmt) for k, stmt in enumerate(fn.statements) if stmt.node in fn.structures]
        for a, (k, lead) in enumerate(loops):
            runs = self.single(printer, fn, lead)
            if lead.target in self.absorbed or runs is None or not runs.loop.clauses:
                continue
            seeds = {runs.seed} - {None}
            for m, other in loops[a + 1:]:
                run = self.single(printer, fn, other)
                if (run is None or other.target in self.absorbed or run.key != runs.key
                        or other.guard != lead.guard
                        or not all(defined.get(x, -1) < k for x in other.operands
                                   if isinstance(x, str))
                        or (run.seed is not None and seeds and run.seed not in seeds)):
                    continue
                seeds |= {run.seed} - {None}
                self.absorbed.add(other.target)
                self.joined.setdefault(lead.target, []).append(other)

    @staticmethod
    def single(printer: Any, fn: Function, stmt: Stmt) -> _Run | None:
        runs = _runs(fn.structures[stmt.node], stmt.target, _operands(stmt, printer))
        return runs[0] if len(runs) == 1 else None



def per_function(printer: Any, fn: Function, plan: Callable[[Any, Function], Any]) -> Any:
    """`plan(printer, fn)`, made once per printed function and kept on the printer (a plan
    of which loops of `fn` share work: `_Fusion`, `numpy_loops._Shared`)."""
    memo = printer.__dict__.setdefault("_loop_plans", {})
    key = (plan, fn.name)
    if key not in memo:
        memo[key] = plan(printer, fn)
    return memo[key]


def loop_lines(printer: Any, fn: Function, stmt: Stmt, arrays: dict[str, tuple[int, ...]]
               ) -> list[str]:
    """The lines of a loop or scatter statement of `fn` (python and numba), with the
    statements `_Fusion` joins to it; nothing for a statement joined to an earlier one."""
    fusion = per_function(printer, fn, _Fusion)
    if stmt.target in fusion.absorbed:
        return []
    spec = fn.structures[stmt.node]
    if isinstance(spec, Loop) and spec.is_read():    # x[3] outside any loop
        array, index = spec.reads[spec.result]
        name = printer.operand(stmt.operands[spec.arrays.index(array)])
        return [f"{stmt.target} = {element(printer.array_style, name, index, arrays[name])}"]
    used = set(fusion.taken)
    lines: list[str] = []
    statements = [stmt] + fusion.joined.get(stmt.target, [])
    runs: list[_Run] = []
    for s in statements:
        spec = fn.structures[s.node]
        if isinstance(spec, Scatter):
            lines.append(_zeros(printer, s.target, spec.shape))
        runs += _runs(spec, s.target, _operands(s, printer))
    if len(statements) > 1 or isinstance(fn.structures[stmt.node], Loop):
        return lines + _nest_runs(printer, runs, arrays, used)
    for run in runs:                          # the terms of one scatter, one nest each
        lines += _nest_runs(printer, [run], arrays, used)
    return lines


def _zeros(printer: Any, target: str, shape: tuple[int, ...]) -> str:
    if printer.array_style == "sequence":
        size = 1
        for n in shape:
            size *= n
        return f"{target} = [0.0] * {size}"
    printer.used_modules.add("numpy")
    return f"{target} = numpy.zeros({shape!r})"


def _nest_runs(printer: Any, runs: list[_Run], arrays: dict[str, tuple[int, ...]],
               used: set[str]) -> list[str]:
    """One loop nest computing every run (all over the same body and iterations)."""
    first = runs[0]
    loop = first.loop
    texts = _captures(loop, first.operands)
    seeds = [r.seed for r in runs if r.seed is not None]
    if seeds:
        texts["@seed"] = seeds[0]
    texts.update(_reads(printer.array_style, loop, texts, arrays))
    roots = [n for r in runs for n in r.roots()]
    inner, values, _ = body_code(printer, loop.body, roots, texts, used)
    if not loop.clauses and first.seed is None:     # an element read outside any loop
        return inner + [f"{first.target} = {values[0]}"]
    before, k = [], 0
    for run in runs:
        if run.seed is None and run.loop.kind in ("sum", "prod"):
            sign = "+" if run.loop.kind == "sum" else "*"
            before.append(f"{run.target} = {'0.0' if sign == '+' else '1.0'}")
            inner.append(f"{run.target} {sign}= {values[k]}")
            k += 1
            continue
        if run.seed is None:                  # min, max
            start = printer.number(math.inf if run.loop.kind == "min" else -math.inf)
            before.append(f"{run.target} = {start}")
            inner.append(f"{run.target} = {run.loop.kind}({run.target}, {values[k]})")
            k += 1
            continue
        for v, _ in run.items:
            _, idx = loop.reads[v]
            inner.append(f"{element(printer.array_style, run.target, idx, run.shape)} "
                         f"+= {values[k]}")
            k += 1
    return before + _nest(loop.clauses, inner)


def _reads(style: str, spec: Loop, texts: dict[str, str],
           arrays: dict[str, tuple[int, ...]]) -> dict[str, str]:
    """Body var name -> the text of its element read (`arrays`: param -> shape)."""
    return {spec.body.values[v]: element(style, texts[a], idx, arrays[texts[a]])
            for v, (a, idx) in spec.reads.items()}


__all__ = ["body_code", "element", "flat_index", "headers", "loop_lines", "taken_names"]
