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

from typing import Any

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
              used: set[str], known: dict[int, str] | None = None, keep: set[int] = set()
              ) -> tuple[list[str], list[str], dict[int, str]]:
    """The lines computing `roots` of a body graph, the texts of the roots, and the names
    of the body nodes in `keep` it computed.

    `texts` maps body var names to their text in this place; `used` are names the body may
    not take (it grows with the body's names); `known` are body nodes computed before, by
    name; the nodes in `keep` are not freed (a later loop reads them, see numpy_loops)."""
    variables = [body.lookup_var(n) for n in body.variables()]
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
    return printer.body(fn), [printer.operand(x) for x in fn.results], computed


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


def loop_lines(printer: Any, fn: Function, stmt: Stmt, arrays: dict[str, tuple[int, ...]]
               ) -> list[str]:
    """The lines of a loop or scatter statement of `fn` (python and numba)."""
    spec = fn.structures[stmt.node]
    used = taken_names(fn)
    operands = _operands(stmt, printer)
    if isinstance(spec, Scatter):
        return _scatter_lines(printer, stmt.target, spec, operands, arrays, used)
    texts = _captures(spec, operands)
    texts.update(_reads(printer.array_style, spec, texts, arrays))
    inner, (value,), _ = body_code(printer, spec.body, [spec.result], texts, used)
    if not spec.clauses:                     # an element read, or a loop-free body
        return inner + [f"{stmt.target} = {value}"]
    return ([f"{stmt.target} = 0.0"]
            + _nest(spec.clauses, inner + [f"{stmt.target} += {value}"]))


def _reads(style: str, spec: Loop, texts: dict[str, str],
           arrays: dict[str, tuple[int, ...]]) -> dict[str, str]:
    """Body var name -> the text of its element read (`arrays`: param -> shape)."""
    return {spec.body.values[v]: element(style, texts[a], idx, arrays[texts[a]])
            for v, (a, idx) in spec.reads.items()}


def _scatter_lines(printer: Any, target: str, spec: Scatter, operands: list[str],
                   arrays: dict[str, tuple[int, ...]], used: set[str]) -> list[str]:
    size = 1
    for n in spec.shape:
        size *= n
    if printer.array_style == "sequence":
        lines = [f"{target} = [0.0] * {size}"]
    else:
        lines = [f"{target} = numpy.zeros({spec.shape!r})"]
        printer.used_modules.add("numpy")
    k = 0
    for loop, seed_var, items in spec.terms:
        seed, rest = operands[k], operands[k + 1:]
        k += 1 + len(loop.arrays) + len(loop.captures)
        texts = _captures(loop, rest)
        texts["@seed"] = seed
        texts.update(_reads(printer.array_style, loop, texts, arrays))
        inner, values, _ = body_code(printer, loop.body, [t for _, t in items], texts, used)
        for (v, _), value in zip(items, values):
            _, idx = loop.reads[v]
            inner.append(f"{element(printer.array_style, target, idx, spec.shape)} += {value}")
        lines += _nest(loop.clauses, inner)
    return lines


__all__ = ["body_code", "element", "flat_index", "headers", "loop_lines", "taken_names"]
