"""Rendering: a scheduled program -> the source text of a standalone Python module.

Python prints the statements (spellings come from the rule table); a Jinja2 template per
backend lays out the module around them. Templates get plain data only: the header, the
imports, the argument names and, per function, its lines of code.

Everything that reaches the output is either produced here from validated data (identifiers
the parser accepted, floats printed with `repr`) or escaped (the expression text, which may
hold arbitrary comments, is shown in the docstring with every unusual character escaped).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ._version import __version__
from . import numpy_helpers, optimize
from .ops import OPS
from .schedule import Function, Program, Stmt

# An expression longer than this is shown shortened in the module docstring.
_DOC_CHARS = 2000


@dataclass(frozen=True)
class Backend:
    """How one backend prints: which spelling of the rule table, which module, laziness."""

    name: str
    template: str
    module: str           # the one module the generated code imports
    lazy: bool            # honour guards: compute `where` branches only when taken
    number_type: str      # the annotation of inputs and results
    inline: bool = False  # print single-use temporaries inside their user (optimize.py)
    spelling: str = ""    # which spelling of the rule table ("" = the backend's name)


BACKENDS: dict[str, Backend] = {
    "python": Backend("python", "python.py.j2", "math", True, "float", inline=True),
    "numpy": Backend("numpy", "numpy.py.j2", "numpy", False, "numpy.ndarray | float"),
    "numba": Backend("numba", "numba.py.j2", "math", True, "float", inline=True,
                     spelling="python"),
}


def templates_dir() -> Path:
    """The templates: inside the installed package (wheel), else the repository's templates/."""
    packaged = Path(__file__).resolve().parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


@functools.lru_cache(maxsize=None)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )


# --- printing statements ---------------------------------------------------------------------

def _number(value: float, backend: Backend) -> str:
    if math.isnan(value):
        return f"{backend.module}.nan"
    if math.isinf(value):
        return f"{'-' if value < 0 else ''}{backend.module}.inf"
    return repr(float(value))


# Integer exponents up to this size are printed as ints (`x ** 3`). Larger ones are printed
# as floats: with an int argument, `3 ** 1000000000` is a 1.5-billion-bit integer that takes
# minutes to compute, while `3 ** 1000000000.0` raises OverflowError at once; for a float
# base both spellings give the same result.
_INT_EXPONENT_MAX = 64


def _operand(x: Any, backend: Backend, integer: bool = False, tight: bool = False) -> str:
    if isinstance(x, str):
        return x
    integer = integer and abs(x) <= _INT_EXPONENT_MAX
    text = str(int(x)) if integer else _number(x, backend)
    return f"({text})" if tight and text.startswith("-") else text


def expression(stmt: Stmt, backend: Backend,
               inlined: dict[str, tuple[str, int]] | None = None) -> str:
    """The right-hand side of one statement, in the backend's spelling; `inlined` maps the
    names of inlined operands to their (text, precedence)."""
    op = OPS[stmt.op]
    spelling = getattr(op, backend.spelling or backend.name)
    tight = "**" in spelling or spelling.startswith("-")
    texts = [_operand(x, backend, integer=k in op.int_operands, tight=tight)
             for k, x in enumerate(stmt.operands)]
    if inlined:
        return optimize.inline_text(stmt, spelling, texts, inlined)
    return spelling.format(*texts)


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def body(fn: Function, backend: Backend) -> list[str]:
    """The lines of a function body (without the return), guarded blocks indented."""
    lines: list[str] = []
    defined: set[int] = set()
    current = -1
    frees = _last_uses(fn) if backend.name == "numpy" else {}
    inlined: dict[str, tuple[str, int]] = {}
    for k, stmt in enumerate(fn.statements):
        if stmt.inline:                   # printed later, inside its one user
            spelling = getattr(OPS[stmt.op], backend.spelling or backend.name)
            inlined[stmt.target] = (expression(stmt, backend, inlined),
                                    optimize.result_precedence(spelling))
            continue
        guard = stmt.guard if backend.lazy else -1
        if guard != current:
            if guard != -1:
                lines.extend(_define_guard(fn, guard, defined))
                lines.append(f"if {_test(fn, guard)}:")
            current = guard
        indent = "    " if guard != -1 else ""
        lines.append(f"{indent}{stmt.target} = {expression(stmt, backend, inlined)}")
        if k in frees:
            lines.append(f"{indent}del {', '.join(frees[k])}")
    return lines


def _last_uses(fn: Function) -> dict[int, list[str]]:
    """Statement index -> intermediates last used there (numpy backend). Deleting them frees
    their arrays at once, so the next statements reuse that memory instead of holding every
    intermediate of a long program alive (a gigabyte on a million points) until return."""
    keep = set(fn.params) | {x for x in fn.results if isinstance(x, str)}
    last: dict[str, int] = {}
    for k, stmt in enumerate(fn.statements):
        for x in stmt.operands:
            if isinstance(x, str) and x not in keep:
                last[x] = k
    frees: dict[int, list[str]] = {}
    for name, k in last.items():
        frees.setdefault(k, []).append(name)
    return {k: sorted(set(names)) for k, names in frees.items()}


def _test(fn: Function, index: int) -> str:
    g = fn.guards[index]
    if g.base == -1 and not g.any_of:
        return g.cond if g.positive else f"not {g.cond}"
    return g.target


def _define_guard(fn: Function, index: int, defined: set[int]) -> list[str]:
    """Lines defining the boolean guard variables `index` needs (its parts first)."""
    g = fn.guards[index]
    if not g.any_of:
        return _define_chain(fn, index, defined)
    lines = [line for k in g.any_of for line in _define_chain(fn, k, defined)]
    if index not in defined:
        defined.add(index)
        lines.append(f"{g.target} = {' or '.join(_test(fn, k) for k in g.any_of)}")
    return lines


def _define_chain(fn: Function, index: int, defined: set[int]) -> list[str]:
    """Lines defining a guard `base and cond` and the guards it refines (outer first)."""
    chain = []
    while index != -1 and index not in defined:
        chain.append(index)
        index = fn.guards[index].base
    lines = []
    for k in reversed(chain):
        g = fn.guards[k]
        defined.add(k)
        if g.base != -1:
            test = g.cond if g.positive else f"not {g.cond}"
            lines.append(f"{g.target} = {_test(fn, g.base)} and {test}")
    return lines


# --- the module ------------------------------------------------------------------------------

def _escape(text: str) -> str:
    """Text safe inside a triple-quoted docstring: printable ASCII, everything else escaped."""
    out = []
    for ch in text:
        if ch == "\n" or (" " <= ch <= "~" and ch not in '\\"'):
            out.append(ch)
        elif ord(ch) < 256:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def _shown_expression(text: str) -> str:
    text = text.strip("\n")
    if len(text) > _DOC_CHARS:
        text = text[:_DOC_CHARS] + f"\n... ({len(text):,} characters in all)"
    return "\n".join("    " + line.rstrip() for line in _escape(text).split("\n"))


@dataclass(frozen=True)
class FunctionSpec:
    """How one function of the module is presented: name, result text, docstring."""

    name: str
    returns: str          # the return expression
    annotation: str       # the return annotation
    doc: str


def render(program: Program, specs: list[FunctionSpec], *, backend: str, text: str,
           title: str, extra: dict[str, Any],
           batch: list[FunctionSpec] | None = None,
           chunked: list[FunctionSpec] | None = None) -> str:
    """The module source.

    Args:
        program: the scheduled program.
        specs: the functions to write, in order (each named in `program.functions`).
        backend: a key of `BACKENDS`.
        text: the source expression (shown, escaped, in the docstring).
        title: the docstring's first line.
        extra: module constants, name -> Python literal text (INPUTS, WRT, OUTPUTS, ...).
        batch: numba backend: the `<name>_batch` array entry points to write, their
            `returns` written over the rows `_out[k]` of the kernel's result array.
        chunked: numpy backend: `specs` again, their `returns` written over the rows
            `_out[k]` of the array that `_chunked` fills on large inputs (one per spec).
    """
    be = BACKENDS[backend]
    functions = []
    uses_module = False
    for k, spec in enumerate(specs):
        fn = program.functions[spec.name]
        lines = body(fn, be)
        numpy_parts: dict[str, Any] = {"block": None}
        if be.name == "numpy":
            numpy_parts = _numpy_parts(fn, lines, chunked[k].returns if chunked else None)
            lines = _numpy_prologue(fn, spec.returns) + (
                [] if numpy_parts["block"] is not None else lines)
        else:
            lines = _int_safety(fn)[0] + lines
        uses_module = uses_module or any(f"{be.module}." in line for line in lines)
        uses_module = uses_module or f"{be.module}." in spec.returns
        functions.append({
            "name": spec.name,
            "params": ", ".join(f"{p}: {be.number_type}" for p in fn.params),
            "annotation": spec.annotation,
            "doc": spec.doc,
            "body": lines,
            "returns": spec.returns,
            **numpy_parts,
        })
    helpers: list[str] = []
    modules = [be.module] if uses_module else []
    if be.name == "numpy":
        every = [line for f in functions
                 for line in f["body"] + [f["returns"]] + (f["block"] or [])]
        chunks = ["_chunked"] if any(f["block"] is not None for f in functions) else []
        for name in numpy_helpers.needed(every, chunks):
            source, imports, _ = numpy_helpers.HELPERS[name]
            helpers.append(source)
            modules += [m for m in imports if m not in modules]
        modules = sorted(set(modules) | {"numpy"})
    kernels = [_kernel(program.functions[spec.name], spec, be) for spec in batch or []]
    if be.name == "numba":
        modules = sorted(set(modules) | {"numba", "numpy"})
    template = _environment().get_template(be.template)
    return template.render(
        helpers=helpers,
        version=__version__,
        backend=be.name,
        title=_escape(title),
        expression=_shown_expression(text),
        imports=modules,
        constants=list(extra.items()),
        exported=sorted(list(extra) + [f["name"] for f in functions]
                        + [f"{k['name']}_batch" for k in kernels]),
        functions=functions,
        kernels=kernels,
    )


def _kernel(fn: Function, spec: FunctionSpec, be: Backend) -> dict[str, Any]:
    """A numba batch kernel: before the loop, each input array `_args[j]` and each result
    row `_out[k]` is bound to a name of its own (`_arg0`, `_out0`); the loop body reads the
    inputs of point _i, runs the statements and writes the results to element _i of the
    rows. Indexing the tuple `_args` and the 2-D `_out` inside a prange loop made numba's
    parallel loop about 3x slower (product_10, 1e6 points, one thread: 23 ms against 7 ms)."""
    used = set(fn.params) | {s.target for s in fn.statements} | {g.target for g in fn.guards}
    args = [_fresh(f"_arg{j}", used) for j in range(len(fn.params))]
    rows = [_fresh(f"_out{k}", used) for k in range(len(fn.results))]
    setup = [f"{a} = _args[{j}]" for j, a in enumerate(args)]
    setup += [f"{r} = _out[{k}]" for k, r in enumerate(rows)]
    lines = [f"{p} = {a}[_i]" for p, a in zip(fn.params, args)]
    lines += body(fn, be)
    lines += [f"{r}[_i] = {_operand(x, be)}" for r, x in zip(rows, fn.results)]
    lines = lines or ["pass"]                  # no inputs and no results: nothing to do
    return {
        "name": spec.name,
        "kernel": f"_{spec.name}_kernel",
        "params": ", ".join(fn.params),
        "args": ", ".join(fn.params),
        "doc": spec.doc,
        "setup": setup,
        "body": lines,
        "n_results": len(fn.results),
        "ops": max(1, len(fn.statements)),
        "returns": spec.returns,
    }


def _fresh(wanted: str, used: set[str]) -> str:
    """`wanted`, with "_" appended until it is no name in `used` (then added to it)."""
    while wanted in used:
        wanted += "_"
    used.add(wanted)
    return wanted


def batch_result_texts(fn: Function) -> list[str]:
    """The results of a numba `<name>_batch` function: the rows of its result array."""
    return [f"_out[{k}]" for k in range(len(fn.results))]


def result_texts(fn: Function, backend: str, expand: bool = True) -> list[str]:
    """The printed results of a function. On the python and numba backends a result that
    can be an int (`x + y` called with ints) is converted with float(), so results are
    always floats. On the numpy backend results are expanded to the inputs' broadcast shape
    (unless `expand` is False: entries of a matrix, broadcast when the matrix is filled)."""
    be = BACKENDS[backend]
    if be.name == "numpy":
        return _numpy_results(fn) if expand else [_operand(x, be) for x in fn.results]
    _, wrap = _int_safety(fn)
    return [f"float({x})" if x in wrap else _operand(x, be) for x in fn.results]


# Called with ints, an int result may have this many times the digits of the inputs before
# the inputs are converted on entry instead: x0*x1*...*x9 grows 10x (fine), repeated squaring
# 2**k-fold (a chain of 30 squarings would build billion-digit integers).
_INT_GROWTH = 64


def _int_safety(fn: Function) -> tuple[list[str], set[str]]:
    """`_int_safety_of(fn)`, computed once per function (the results and the body both ask)."""
    if "int_safety" not in fn.notes:
        fn.notes["int_safety"] = _int_safety_of(fn)
    return fn.notes["int_safety"]


def _int_safety_of(fn: Function) -> tuple[list[str], set[str]]:
    """How a python-backend function stays in floats when called with ints.

    Operations that keep ints ints (`x + y`, `x * x`, see `Op.keeps_int`) compute exact
    integers from int arguments. Usually that is harmless, and the results that can be ints
    get a float() (returned in the second item), unless converting the inputs that feed
    such operations on entry takes fewer calls (the first item: lines for the top of the
    function; then no result needs converting). When an int result could have more than
    `_INT_GROWTH` times the digits of the inputs (products add digits, `x**n` multiplies
    them), the inputs are always converted on entry.
    """
    params = set(fn.params)
    growth = {p: 1 for p in fn.params}        # names that may hold an int -> digit growth
    feeders: set[str] = set()
    largest = 1
    for stmt in fn.statements:
        op = OPS[stmt.op]
        real = [x for k, x in enumerate(stmt.operands)
                if op.operand_kind(k) == "real" and k not in op.int_operands]
        if not op.keeps_int or not all(isinstance(x, str) and x in growth for x in real):
            continue
        sizes = [growth[x] for x in real]
        if stmt.op == "mul":
            size = sum(sizes)
        elif stmt.op == "powi":
            size = sizes[0] * max(1, abs(int(stmt.operands[1])))
        else:
            size = max(sizes, default=1)
        growth[stmt.target] = min(size, 1 << 62)
        largest = max(largest, growth[stmt.target])
        feeders.update(x for x in real if x in params)
    maybe_int = {x for x in fn.results if isinstance(x, str) and x in growth}
    feeders |= maybe_int & params
    if largest <= _INT_GROWTH and len(maybe_int) <= len(feeders):
        return [], maybe_int          # fewer conversions on the results than on the inputs
    lines = [f"{p} = float({p})" for p in fn.params if p in feeders]
    return ["# inputs as floats, so that int arguments give float arithmetic"] + lines, set()


def tuple_text(items: list[str]) -> str:
    """A Python tuple display of already printed items."""
    return _tuple(items)


# --- numpy: array inputs, results of the broadcast shape ---------------------------------------

def _numpy_prologue(fn: Function, returns: str) -> list[str]:
    """Convert the inputs to float64 arrays (so ints and lists work); compute the broadcast
    shape when a result has to be expanded to it."""
    lines = [f"{p} = numpy.asarray({p}, dtype=numpy.float64)" for p in fn.params]
    if "_shape" in returns:
        shapes = ", ".join(f"{p}.shape" for p in fn.params)
        lines.append(f"_shape = numpy.broadcast_shapes({shapes})")
    return lines


def _numpy_results(fn: Function) -> list[str]:
    """The printed results of a numpy function. A result computed from every input already
    has the broadcast shape (all ops are elementwise); any other result -- a constant, an
    input itself, or a value that depends on only some inputs -- is expanded to that shape
    as a new array, so no result aliases an input or comes back as a bare scalar."""
    bit = {p: 1 << k for k, p in enumerate(fn.params)}
    full = (1 << len(fn.params)) - 1
    mask: dict[str, int] = {}
    for stmt in fn.statements:
        m = 0
        for x in stmt.operands:
            if isinstance(x, str):
                m |= bit.get(x, 0) | mask.get(x, 0)
        mask[stmt.target] = m
    texts = []
    for x in fn.results:
        if isinstance(x, str) and x not in bit and mask.get(x, 0) == full:
            texts.append(x)
        else:
            texts.append(f"_expand({_operand(x, BACKENDS['numpy'])}, _shape)")
    return texts


def _numpy_parts(fn: Function, lines: list[str], chunked_returns: str | None) -> dict[str, Any]:
    """How a numpy function is split so that large inputs can run in cache-sized chunks.

    The statements go into a private function `_<name>(*params)` (the block) that returns
    every result in order. The public function calls it once on the inputs as they are, or,
    when the broadcast shape has more than 2 * _CHUNK points (`_large`), hands it to
    `_chunked`, which runs it on _CHUNK points at a time and fills the rows `_out[k]`.
    Every operation of the rule table is elementwise, so both paths give bit-identical
    values.

    A function without computed results (constants and inputs only) or without inputs gets
    no block: it has nothing to chunk (`block` is None).
    """
    params = set(fn.params)
    computed = [x for x in fn.results if isinstance(x, str) and x not in params]
    if chunked_returns is None or not computed or not fn.params:
        return {"block": None}
    numpy_backend = BACKENDS["numpy"]
    results = [_operand(x, numpy_backend) for x in fn.results]
    targets = [x if x in computed and x not in fn.results[:k] else "_"   # each name once
               for k, x in enumerate(fn.results)]
    if len(targets) == 1:
        unpack = f"{targets[0]} = _{fn.name}({', '.join(fn.params)})[0]"
    else:
        unpack = f"{', '.join(targets)} = _{fn.name}({', '.join(fn.params)})"
    return {
        "block": lines,
        "block_params": ", ".join(fn.params),
        "block_returns": _tuple(results),
        "args": _tuple(list(fn.params)),
        "n_results": len(fn.results),
        "chunked_returns": chunked_returns,
        "unpack": unpack,
    }