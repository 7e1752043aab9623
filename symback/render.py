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
    for stmt in fn.statements:
        guard = stmt.guard if backend.lazy else -1
        if guard != current:
            if guard != -1:
                lines.extend(_define_guard(fn, guard, defined))
                lines.append(f"if {_test(fn, guard)}:")
            current = guard
        indent = "    " if guard != -1 else ""
        lines.append(f"{indent}{stmt.target} = {expression(stmt, backend)}")
    return lines


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
        uses_module = uses_module or any(f"{be.module}." in line for line in lines)
        uses_module = uses_module or f"{be.module}." in spec.returns
        functions.append({
            "name": spec.name,
            "params": ", ".join(f"{p}: {be.number_type}" for p in program.params),
            "annotation": spec.annotation,
            "doc": spec.doc,
            "body": lines,
            "returns": spec.returns,
        })
    template = _environment().get_template(be.template)
    return template.render(
        version=__version__,
        backend=be.name,
        title=_escape(title),
        expression=_shown_expression(text),
        imports=[be.module] if uses_module else [],
        constants=list(extra.items()),
        exported=list(extra) + [f["name"] for f in functions],
        functions=functions,
    )


def result_texts(fn: Function, backend: str) -> list[str]:
    """The printed results of a function. On the python backend a result that can be an int
    (`x + y` called with ints) is converted with float(), so results are always floats."""
    be = BACKENDS[backend]
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
