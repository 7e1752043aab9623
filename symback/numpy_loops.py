"""Rolled loops on the numpy backend: no Python loop, every iteration at once.

The body graph is printed once, on arrays whose last axis runs over the iterations (the
batch axes S come first, as everywhere in the numpy backend):

- a loop of one `for` clause with constant bounds whose reads are affine in its variable
  (`x[i + 1]`, `W[2 * i, 0]`) reads slices (views, no copies): `x[..., 1:1000]`; its
  adjoints are slice updates, `d_x[..., 1:1000] += ...`;
- any other loop (several clauses, bounds that depend on outer variables, `if` filters,
  non-affine indices) builds index arrays of all its iterations (`numpy.repeat`, a mask per
  filter), gathers with fancy indexing, and adds adjoints with `_scatter_add` (bincount, or
  `numpy.add.at` with batch axes), which handles repeated indices.

Captured values get a last axis of length 1 (`numpy.expand_dims`), so they broadcast
against the iterations; the sum is over the last axis.

Loops of one function over the same body, iterations and operands (a sum, its partials,
the scatter of its adjoint) share their work: a body value that several of them need is
computed by the first and kept in its variable for the others (`_Shared`), so
`value_and_grad` computes `x[1:] - x[:-1]**2` once, as a hand-written version would.
"""

from __future__ import annotations

from typing import Any

from . import indices
from .indices import Index
from .loop_code import _captures, _operands, body_code, fresh, per_function, taken_names
from .loops import Clause, Loop, Scatter
from .schedule import Function, Stmt


class _Space:
    """How the iterations of one loop are laid out on the last axis."""

    def __init__(self, printer: Any, clauses: tuple[Clause, ...], reads: list[tuple],
                 used: set[str]) -> None:
        self.printer = printer
        self.lines: list[str] = []
        self.sliced = _sliceable(clauses, reads)
        if not clauses:                       # an element read outside any loop
            self.count = "1"
            return
        fors = [c for c in clauses if c.kind == "for"]
        if self.sliced:
            self.var = fors[0].var
            self.range = range(*fors[0].bounds)     # type: ignore[arg-type]
            self.count = str(len(self.range))
            return
        self.count = fresh("_m", used)
        self._build(clauses, used)

    def _build(self, clauses: tuple[Clause, ...], used: set[str]) -> None:
        """Index arrays of the loop variables over every iteration, in loop order."""
        names: list[str] = []
        lines = self.lines
        for c in clauses:
            if c.kind == "if":
                mask = fresh("_keep", used)
                shape = f"{names[0]}.shape"
                lines.append(f"{mask} = numpy.broadcast_to({indices.text(c.cond, True)}, "
                             f"{shape})")
                lines += [f"{v} = {v}[{mask}]" for v in names]
                continue
            start, stop, step = (indices.text(b, True) for b in c.bounds)
            s = c.bounds[2]
            assert isinstance(s, int)
            if not names:
                lines.append(f"{c.var} = numpy.arange({start}, {stop}, {step})")
                names.append(c.var)
                continue
            n, first = fresh("_n", used), fresh("_first", used)
            span = f"({stop}) - ({start})" if s > 0 else f"({start}) - ({stop})"
            zero = f"numpy.zeros_like({names[0]})"
            lines.append(f"{n} = numpy.maximum(({span} + {abs(s) - 1}) // {abs(s)}, 0) + {zero}")
            lines.append(f"{first} = numpy.repeat({start} + {zero}, {n})")
            lines += [f"{v} = numpy.repeat({v}, {n})" for v in names]
            lines.append(f"{c.var} = {first} + (numpy.arange({n}.sum()) - numpy.repeat("
                         f"numpy.cumsum({n}) - {n}, {n})) * {s}")
            names.append(c.var)
        lines.append(f"{self.count} = len({names[0]})")

    def read(self, array: str, index: tuple[Index, ...]) -> str:
        """The text of a read of every iteration (shape S + (m,), or S + (1,))."""
        if not self.sliced:
            fixed = not any(indices.variables(i) for i in index)   # the same every time
            return (f"{array}[..., {', '.join(indices.text(i, True) for i in index)}"
                    f"{', None' if fixed else ''}]")
        parts = []
        varying = False
        for i in index:
            form = indices.affine(i)
            assert form is not None
            coef = form[0].get(self.var, 0)
            if coef == 0:
                parts.append(str(form[1]))
                continue
            varying = True
            parts.append(_slice(coef, form[1], self.range))
        return f"{array}[..., {', '.join(parts)}{'' if varying else ', None'}]"

    def index_var(self, var: str) -> str:
        """A loop variable as numbers."""
        if self.sliced:
            r = self.range
            return f"numpy.arange({r.start}, {r.stop}, {r.step}, dtype=numpy.float64)"
        return f"{var}.astype(numpy.float64)"


def _sliceable(clauses: tuple[Clause, ...], reads: list[tuple]) -> bool:
    """One `for` clause with constant bounds, every read affine in its variable along at
    most one axis."""
    if len(clauses) != 1 or clauses[0].kind != "for":
        return False
    if not all(isinstance(b, int) for b in clauses[0].bounds):
        return False
    for _, index in reads:
        forms = [indices.affine(i) for i in index]
        if any(f is None for f in forms):
            return False
        if sum(1 for f in forms if f[0]) > 1:     # type: ignore[index]
            return False
    return True


def _slice(coef: int, const: int, r: range) -> str:
    """The slice of coef * v + const for v in r."""
    if len(r) == 0:
        return "0:0"
    start = coef * r.start + const
    step = coef * r.step
    stop: Any = start + step * len(r)
    if stop < 0:
        stop = ""
    step_text = "" if step == 1 else f":{step}"
    return f"{start}:{stop}{step_text}"


class _Shared:
    """The body values of one function's loops that more than one loop over the same body,
    iterations and operands needs, and those already computed, by name."""

    def __init__(self, printer: Any, fn: Function) -> None:
        self.need: dict[tuple, dict[int, int]] = {}
        self.known: dict[tuple, dict[int, str]] = {}
        self.kept: set[str] = set()           # their names: no later loop may reuse them
        self.shapes: dict[str, frozenset] = {}   # input texts and kept names -> what their
                                                 # shape is the broadcast of (`_in_place`)
        self.taken = taken_names(fn)
        for stmt in fn.statements:
            spec = fn.structures.get(stmt.node)
            if spec is not None and not (isinstance(spec, Loop) and spec.is_read()):
                for key, roots, body in _uses(spec, _operands(stmt, printer)):
                    if not key[1]:            # an element read outside loops: nothing shared
                        continue
                    counts = self.need.setdefault(key, {})
                    for n in body.live(roots):
                        counts[n] = counts.get(n, 0) + 1

    def code(self, printer: Any, key: tuple, body: Any, roots: list[int], texts: dict[str, str],
             used: set[str]) -> tuple[list[str], list[str]]:
        known = self.known.setdefault(key, {})
        shared = {n for n, c in self.need.get(key, {}).items() if c > 1}
        # Kept: the shared values some other value reads (not those only shared values
        # read: a later loop starts from the shared values that read them).
        keep = {a for n in self.need.get(key, {}) if n not in shared
                for a in body.args[n] if a in shared}
        sources: dict[str, frozenset] = {}

        def rewrite(fn: Function) -> dict[str, str]:
            return _in_place(printer, fn, self.shapes, sources)

        lines, values, computed = body_code(printer, body, roots, texts, used, dict(known),
                                            keep, rewrite)
        self.shapes.update((name, sources[name]) for name in computed.values()
                           if name in sources)
        known.update(computed)
        self.kept.update(computed.values())
        return lines, values


# Ops whose numpy spelling has a ufunc with `out=`, for in-place statements.
_UFUNCS = {"add": "numpy.add", "sub": "numpy.subtract", "mul": "numpy.multiply",
           "div": "numpy.divide", "neg": "numpy.negative"}


def _in_place(printer: Any, fn: Function, shapes: dict[str, frozenset],
              sources: dict[str, frozenset]) -> dict[str, str]:
    """Statements of a loop body that can write into the buffer of an operand instead of a
    new array (`numpy.multiply(_t3, _t4, out=_t3)`): a temporary of this body that is read
    for the last time there and already has the result's shape. Every body op is
    elementwise, so a value's shape is the broadcast of the shapes of the inputs it is
    computed from; an operand computed from all the inputs the others are computed from
    has the result's shape. Inputs (reads are views of the caller's arrays), values kept
    for later loops and the body's results are never written.

    `shapes`: for the body's input texts (and values kept from earlier loops), what their
    shape is the broadcast of (an array's reads, a captured value, the iteration axis);
    `sources` receives the same for each statement's target."""
    protected = set(fn.params) | {x for x in fn.results if isinstance(x, str)}
    last: dict[str, int] = {}
    for k, stmt in enumerate(fn.statements):
        for x in stmt.operands:
            if isinstance(x, str):
                last[x] = k
    found: dict[str, str] = {}
    for k, stmt in enumerate(fn.statements):
        names = [x for x in stmt.operands if isinstance(x, str)]
        mine = [sources.get(x) or shapes.get(x) or frozenset((x,)) for x in names]
        sources[stmt.target] = frozenset().union(*mine)
        if stmt.op not in _UFUNCS:
            continue
        for x, src in zip(names, mine):
            if (x in sources and x not in protected and last.get(x) == k
                    and all(other <= src for other in mine)):
                args = ", ".join(printer.operand(o) for o in stmt.operands)
                found[stmt.target] = f"{_UFUNCS[stmt.op]}({args}, out={x})"
                break
    return found


def _key(loop: Loop, operands: list[str]) -> tuple:
    return (id(loop.body), loop.clauses, tuple(operands[:len(loop.arrays) + len(loop.captures)]))


def _uses(spec: Loop | Scatter, operands: list[str]) -> list[tuple[tuple, list[int], Any]]:
    """(key, body roots, body) of each loop a loop or scatter statement runs."""
    if isinstance(spec, Loop):
        return [(_key(spec, operands), [spec.result], spec.body)]
    found, k = [], 0
    for loop, _, items in spec.terms:
        found.append((_key(loop, operands[k + 1:]), [t for _, t in items], loop.body))
        k += 1 + len(loop.arrays) + len(loop.captures)
    return found


def numpy_loop_lines(printer: Any, fn: Function, stmt: Stmt,
                     arrays: dict[str, tuple[int, ...]]) -> list[str]:
    """The lines of a loop or scatter statement of a numpy function."""
    spec = fn.structures[stmt.node]
    if isinstance(spec, Loop) and spec.is_read():    # x[3] outside any loop
        array, index = spec.reads[spec.result]
        name = printer.operand(stmt.operands[spec.arrays.index(array)])
        return [f"{stmt.target} = {name}[..., {', '.join(map(indices.text, index))}]"]
    shared = per_function(printer, fn, _Shared)
    used = shared.taken | shared.kept
    operands = _operands(stmt, printer)
    if isinstance(spec, Scatter):
        return _scatter(printer, stmt.target, spec, operands, used, shared)
    space = _Space(printer, spec.clauses, list(spec.reads.values()), used)
    lines = list(space.lines)
    texts = _texts(printer, spec, operands, space, lines, used, shared.shapes)
    inner, (value,) = shared.code(printer, _key(spec, operands), spec.body, [spec.result],
                                  texts, used)
    lines += inner
    if not spec.clauses:                      # an element read: no iteration axis
        return lines + [f"{stmt.target} = {value}"]
    if not _varies(spec, spec.result):
        value = f"{printer.helper('_spread')}({value}, {space.count})"
    return lines + [f"{stmt.target} = numpy.{spec.kind}({value}, axis=-1)"]


def _varies(spec: Loop, node: int) -> bool:
    """Whether a body node depends on the iteration (a read or a loop variable)."""
    body = spec.body
    sources = [v for v, (_, index) in spec.reads.items()
               if any(indices.variables(i) for i in index)]
    sources += [body.lookup_var(v) for v in spec.loop_vars if body.lookup_var(v) is not None]
    return bool(sources) and bool(body.depends_on(sources, node)[node])  # type: ignore


def _texts(printer: Any, spec: Loop, operands: list[str], space: _Space, lines: list[str],
           used: set[str], shapes: dict[str, frozenset]) -> dict[str, str]:
    """Body var name -> text: captures with an iteration axis of 1, reads, loop variables.
    Captures and index-array reads are bound to names once (they are copies). `shapes`
    records what each text's shape is the broadcast of (see `_in_place`)."""
    outer = _captures(spec, operands)
    texts: dict[str, str] = {}
    for c in spec.captures:
        name = spec.body.values[c]
        texts[name] = fresh("_c", used)
        lines.append(f"{texts[name]} = {_axis(outer[name], spec)}")
        shapes[texts[name]] = frozenset({("captured", outer[name])})
    for v, (a, index) in spec.reads.items():
        text = space.read(outer[a], index) if spec.clauses else \
            f"{outer[a]}[..., {', '.join(map(indices.text, index))}]"
        if not space.sliced and spec.clauses:
            name = fresh("_r", used)
            lines.append(f"{name} = {text}")
            text = name
        texts[spec.body.values[v]] = text
        varies = any(indices.variables(i) for i in index)
        shapes[text] = frozenset({("read", outer[a], varies)})
    for var in spec.loop_vars:
        if spec.body.lookup_var(var) is not None:
            texts[var] = space.index_var(var)
            shapes[texts[var]] = frozenset({("iterations",)})
    return texts


def _axis(text: str, spec: Loop) -> str:
    """An outer value with an iteration axis of length 1 (none for a loop-free read)."""
    return f"numpy.expand_dims({text}, -1)" if spec.clauses else text


def _scatter(printer: Any, target: str, spec: Scatter, operands: list[str],
             used: set[str], shared: _Shared) -> list[str]:
    lines = [f"{target} = numpy.zeros(_shape + {spec.shape!r})"]
    k = 0
    for loop, _, items in spec.terms:
        seed, rest = operands[k], operands[k + 1:]
        k += 1 + len(loop.arrays) + len(loop.captures)
        space = _Space(printer, loop.clauses, list(loop.reads.values()), used)
        lines += space.lines
        texts = _texts(printer, loop, rest, space, lines, used, shared.shapes)
        roots = [t for _, t in items]
        if not loop.clauses:                  # x[3] outside loops: d_x[..., 3] += seed
            texts["@seed"] = seed
        elif _reads_seed(loop.body, roots):
            texts["@seed"] = fresh("_seed", used)
            lines.append(f"{texts['@seed']} = {_axis(seed, loop)}")
            shared.shapes[texts["@seed"]] = frozenset({("captured", seed)})
        inner, values = shared.code(printer, _key(loop, rest), loop.body, roots, texts, used)
        lines += inner
        for (v, _), value in zip(items, values):
            _, index = loop.reads[v]
            lines.append(_add(printer, target, index, value, space, bool(loop.clauses)))
    return lines


def _reads_seed(body: Any, roots: list[int]) -> bool:
    seed = body.lookup_var("@seed")
    if seed is None:
        return False
    return any(body.depends_on([seed], r)[r] for r in roots)


def _add(printer: Any, target: str, index: tuple[Index, ...], value: str, space: _Space,
         looped: bool) -> str:
    """`target[index] += value` over every iteration."""
    if not looped:
        return f"{target}[..., {', '.join(map(indices.text, index))}] += {value}"
    if space.sliced:
        text = space.read(target, index)
        if text.endswith(", None]"):          # the same element on every iteration
            printer.helper("_spread")
            return f"{text[:-7]}] += numpy.sum(_spread({value}, {space.count}), axis=-1)"
        return f"{text} += {value}"
    printer.helper("_scatter_add")
    parts = ", ".join(indices.text(i, True) for i in index)
    return f"_scatter_add({target}, ({parts},), {value}, {space.count})"


__all__ = ["numpy_loop_lines"]
