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

from . import __version__
from . import numpy_helpers
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


BACKENDS: dict[str, Backend] = {
    "python": Backend("python", "python.py.j2", "math", True, "float"),
    "numpy": Backend("numpy", "numpy.py.j2", "numpy", False, "numpy.ndarray | float"),
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


def _operand(x: Any, backend: Backend, integer: bool = False, tight: bool = False) -> str:
    if isinstance(x, str):
        return x
    text = str(int(x)) if integer else _number(x, backend)
    return f"({text})" if tight and text.startswith("-") else text


def expression(stmt: Stmt, backend: Backend) -> str:
    """The right-hand side of one statement, in the backend's spelling."""
    op = OPS[stmt.op]
    spelling = getattr(op, backend.name)
    tight = "**" in spelling or spelling.startswith("-")
    texts = [_operand(x, backend, integer=k in op.int_operands, tight=tight)
             for k, x in enumerate(stmt.operands)]
    return spelling.format(*texts)


def _tuple(items: list[str]) -> str:
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def body(fn: Function, backend: Backend) -> list[str]:
    """The lines of a function body (without the return), guarded blocks indented."""
    lines: list[str] = []
    defined: set[int] = set()
    current = -1
    frees = _last_uses(fn) if backend.name == "numpy" else {}
    for k, stmt in enumerate(fn.statements):
        guard = stmt.guard if backend.lazy else -1
        if guard != current:
            if guard != -1:
                lines.extend(_define_guard(fn, guard, defined))
                lines.append(f"if {_test(fn, guard)}:")
            current = guard
        indent = "    " if guard != -1 else ""
        lines.append(f"{indent}{stmt.target} = {expression(stmt, backend)}")
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
    if g.base == -1:
        return g.cond if g.positive else f"not {g.cond}"
    return g.target


def _define_guard(fn: Function, index: int, defined: set[int]) -> list[str]:
    """Lines defining the boolean guard variables `index` needs (outer guards first)."""
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
           title: str, extra: dict[str, Any]) -> str:
    """The module source.

    Args:
        program: the scheduled program.
        specs: the functions to write, in order (each named in `program.functions`).
        backend: a key of `BACKENDS`.
        text: the source expression (shown, escaped, in the docstring).
        title: the docstring's first line.
        extra: module constants, name -> Python literal text (INPUTS, WRT, OUTPUTS, ...).
    """
    be = BACKENDS[backend]
    functions = []
    uses_module = False
    for spec in specs:
        lines = body(program.functions[spec.name], be)
        if be.name == "numpy":
            lines = _numpy_prologue(program.functions[spec.name], spec.returns) + lines
        uses_module = uses_module or any(f"{be.module}." in line for line in lines)
        uses_module = uses_module or f"{be.module}." in spec.returns
        functions.append({
            "name": spec.name,
            "params": ", ".join(f"{p}: {be.number_type}"
                                for p in program.functions[spec.name].params),
            "annotation": spec.annotation,
            "doc": spec.doc,
            "body": lines,
            "returns": spec.returns,
        })
    helpers: list[str] = []
    modules = [be.module] if uses_module else []
    if be.name == "numpy":
        every = [line for f in functions for line in f["body"] + [f["returns"]]]
        for name in numpy_helpers.needed(every):
            source, imports, _ = numpy_helpers.HELPERS[name]
            helpers.append(source)
            modules += [m for m in imports if m not in modules]
        modules = sorted(set(modules) | {"numpy"})
    template = _environment().get_template(be.template)
    return template.render(
        helpers=helpers,
        version=__version__,
        backend=be.name,
        title=_escape(title),
        expression=_shown_expression(text),
        imports=modules,
        constants=list(extra.items()),
        exported=list(extra) + [f["name"] for f in functions],
        functions=functions,
    )


def result_texts(fn: Function, backend: str, expand: bool = True) -> list[str]:
    """The printed results of a function. On the python backend a result that can be an int
    (`x + y` called with ints) is converted with float(), so results are always floats. On
    the numpy backend results are expanded to the inputs' broadcast shape (unless `expand`
    is False: entries of a matrix, broadcast when the matrix is filled)."""
    be = BACKENDS[backend]
    if be.name == "numpy":
        return _numpy_results(fn) if expand else [_operand(x, be) for x in fn.results]
    maybe_int = set(fn.params) if be.name == "python" else set()
    if maybe_int:
        for stmt in fn.statements:
            op = OPS[stmt.op]
            if op.keeps_int and all(x in maybe_int if isinstance(x, str) else k in op.int_operands
                                    for k, x in enumerate(stmt.operands)
                                    if op.operand_kind(k) == "real"):
                maybe_int.add(stmt.target)
    return [f"float({x})" if isinstance(x, str) and x in maybe_int else _operand(x, be)
            for x in fn.results]


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
