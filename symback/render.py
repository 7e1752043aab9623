"""Rendering: a scheduled, annotated program -> the source text of a standalone module.

The backend's printer (`printers.py`) prints the statements and the results; a Jinja2
template per backend (`Printer.template`) lays out the module around them. Templates get
plain data only: the header, the imports, the argument names and, per function, its lines of
code. Rendering only prints: the analyses the printers read (`analyses.annotate`) have run.

Everything that reaches the output is either produced here from validated data (identifiers
the parser accepted, floats printed with `repr`) or escaped (the expression text, which may
hold arbitrary comments, is shown in the docstring with every unusual character escaped).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from ._version import __version__
from .array_wrappers import Group, inner_name, wrappers
from .numpy_printer import NumpyPrinter
from .printers import NumbaPrinter, Printer, PythonPrinter, signature, tuple_text
from .schedule import Program

# An expression longer than this is shown shortened in the module docstring.
_DOC_CHARS = 2000

# The backends: name -> printer class.
PRINTERS: dict[str, type[Printer]] = {
    p.name: p for p in (PythonPrinter, NumpyPrinter, NumbaPrinter)}


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


def _operations(n: int) -> str:
    return f"{n} operation{'s' if n != 1 else ''}"


def function_specs(program: Program, printer: Printer, outputs: list[str], wrt: list[str],
                   rows: str = "") -> list[FunctionSpec]:
    """How each function returns its results, with its docstring.

    With `rows` ("batch": numba's `<name>_batch` array versions, "chunked": numpy's large
    inputs), the results are the rows of the array `_out`, matrices reshaped slices of it
    with the batch axes first (`_rows_matrix`).
    """
    funcs = program.functions
    num = "numpy.ndarray" if rows == "batch" else printer.number_type
    n_in = len(wrt)

    def texts(fname: str, expand: bool = True, upto: int | None = None) -> list[str]:
        fn = funcs[fname]
        if rows:
            return [f"_out[{k}]" for k in range(len(fn.results))][:upto]
        return printer.results(fn, fn.results[:upto], expand)

    def ops(fname: str) -> str:
        return _operations(program.op_count(fname)).capitalize()

    arrays = next(iter(funcs.values())).arrays if funcs else {}
    types = [printer.array_type(arrays[w]) if w in arrays and not rows else num for w in wrt]
    grad_type = f"tuple[{', '.join(types)}]" if n_in else "tuple[()]"

    def matrix(fname: str, flat: list[str], n_rows: int, first: int = 0) -> str:
        if rows:
            return _rows_matrix(first, n_rows, n_in)
        return printer.matrix([tuple_text(flat[k * n_in:(k + 1) * n_in]) if n_in else "()"
                               for k in range(n_rows)], funcs[fname])

    def values(fname: str, what: str, rows_name: str) -> FunctionSpec:
        """A sparse matrix's `<kind>_values`: its structural nonzeros, in the order of the
        module's `<KIND>_ROWS`, `<KIND>_COLS`."""
        kind = "batch axes first, then the nonzeros" if printer.vector_type() == \
            "numpy.ndarray" else "a tuple"
        text = "numpy.moveaxis(_out, 0, -1)" if rows else \
            printer.vector(texts(fname, False), funcs[fname])
        return FunctionSpec(fname, text, "numpy.ndarray" if rows else printer.vector_type(),
                            f"Return the structural nonzeros of {what} at "
                            f"({rows_name}, {rows_name.replace('ROWS', 'COLS')}), as "
                            f"{kind}. {ops(fname)}.")

    if len(outputs) == 1:
        f, partials = outputs[0], [f"d{outputs[0]}/d{w}" for w in wrt]
        shown = tuple_text(partials) if partials else "()"
        value = texts("forward")[0]
        vg = texts("value_and_grad")
        specs = [
            FunctionSpec("forward", value, num, f"Return {f}. {ops('forward')}."),
            FunctionSpec("gradient", tuple_text(texts("gradient")) if n_in else "()",
                         grad_type, f"Return {shown}. {ops('gradient')}."),
            FunctionSpec("value_and_grad",
                         f"{vg[0]}, {tuple_text(vg[1:]) if n_in else '()'}",
                         f"tuple[{num}, {grad_type}]",
                         f"Return ({f}, {shown}). {ops('value_and_grad')}."),
        ]
        if "hessian" in funcs:
            specs.append(
                FunctionSpec("hessian", matrix("hessian", texts("hessian", False), n_in),
                             printer.matrix_type(grad_type, n_in),
                             f"Return the Hessian of {f} (symmetric, WRT order) as "
                             f"{printer.matrix_layout}. {ops('hessian')}."))
        if "hessian_values" in funcs:
            specs.append(values("hessian_values", f"the Hessian of {f} (lower triangle)",
                                "HESSIAN_ROWS"))
        if "hvp" in funcs:
            vs = ", ".join(funcs["hvp"].params[len(funcs["hvp"].params) - n_in:])
            specs.append(
                FunctionSpec("hvp", tuple_text(texts("hvp")) if n_in else "()", grad_type,
                             f"Return the Hessian of {f} times the vector ({vs}), in WRT "
                             f"order. {ops('hvp')}."))
        return specs
    n_out = len(outputs)
    if "jacobian_values" in funcs:
        return [
            FunctionSpec("forward", tuple_text(texts("forward")),
                         f"tuple[{', '.join([num] * n_out)}]",
                         f"({', '.join(outputs)}); {ops('forward')}."),
            values("jacobian_values", f"the Jacobian of ({', '.join(outputs)})",
                   "JACOBIAN_ROWS"),
        ]
    vj = texts("value_and_jacobian", upto=n_out)
    vj_raw = texts("value_and_jacobian", False)
    out_type = f"tuple[{', '.join([num] * n_out)}]"
    jac_type = printer.matrix_type(grad_type, n_out)
    return [
        FunctionSpec("forward", tuple_text(texts("forward")), out_type,
                     f"({', '.join(outputs)}); {ops('forward')}."),
        FunctionSpec("jacobian", matrix("jacobian", texts("jacobian", False), n_out), jac_type,
                     f"one row per output ({', '.join(outputs)}), each in WRT order; "
                     f"{ops('jacobian')}."),
        FunctionSpec("value_and_jacobian",
                     f"{tuple_text(vj[:n_out])}, "
                     f"{matrix('value_and_jacobian', vj_raw[n_out:], n_out, n_out)}",
                     f"tuple[{out_type}, {jac_type}]",
                     f"(values, jacobian); {ops('value_and_jacobian')}."),
    ]


def _rows_matrix(first: int, n_rows: int, n_cols: int) -> str:
    """A matrix from the rows `first`.. of the array `_out` (one result per row, of the
    inputs' broadcast shape S): an S + (n_rows, n_cols) array, batch axes first as in NumPy
    and JAX (a view of `_out`, which no other result shares)."""
    rows_of_out = "_out" if first == 0 else f"_out[{first}:]"
    return (f"numpy.moveaxis({rows_of_out}.reshape(({n_rows}, {n_cols}) + _out.shape[1:]), "
            "(0, 1), (-2, -1))")


def render(program: Program, printer: Printer, *, outputs: list[str], wrt: list[str],
           text: str, title: str, extra: dict[str, Any],
           arrays: tuple[list[Group], list[Group]] | None = None, rolled: bool = False
           ) -> str:
    """The module source.

    Args:
        program: the scheduled program, annotated (`analyses.annotate`).
        printer: a new printer of the backend (it records what the module uses).
        outputs: the output names; wrt: the inputs differentiated, in order.
        text: the source expression (shown, escaped, in the docstring).
        title: the docstring's first line.
        extra: module constants, name -> Python literal text (INPUTS, WRT, OUTPUTS, ...).
        arrays: (inputs, wrt) as groups when some input is an array: the functions are
            printed under private names and public wrappers take the arrays
            (`symback.array_wrappers`).
        rolled: the program has rolled loops: its functions take the arrays themselves,
            and there are no batch kernels or chunks (the arrays are not batch axes).
    """
    specs = function_specs(program, printer, outputs, wrt)
    chunked = function_specs(program, printer, outputs, wrt, "chunked") \
        if printer.chunked and not rolled else None
    functions = []
    for k, spec in enumerate(specs):
        fn = program.functions[spec.name]
        data = printer.function(fn, spec.returns, chunked[k].returns if chunked else None)
        functions.append({
            "name": spec.name,
            "doc": spec.doc,
            "signature": signature(inner_name(spec.name) if arrays else spec.name,
                                   data.pop("params"), spec.annotation),
            **data,
        })
    kernels = []
    if printer.batch and not rolled:
        for spec in function_specs(program, printer, outputs, wrt, "batch"):
            kernels.append(printer.kernel(program.functions[spec.name],
                                          inner_name(spec.name) if arrays else spec.name,
                                          spec.doc, spec.returns))
    helpers = printer.helper_sources()
    template = _environment().get_template(printer.template)
    exported = sorted(list(extra) + [f["name"] for f in functions]
                      + [f"{k['name']}_batch" for k in kernels])
    if arrays:
        names = [f["name"] for f in functions]
        batched = names if kernels else []
        exported = sorted(list(extra) + names + [f"{n}_batch" for n in batched])
        array_helpers, array_wrappers = wrappers(printer.array_style, printer.decorator, names,
                                                 arrays[0], arrays[1], batched)
    source = template.render(
        helpers=helpers,
        version=__version__,
        backend=printer.name,
        title=_escape(title),
        expression=_shown_expression(text),
        imports=printer.imports(),
        constants=list(extra.items()),
        exported=exported,
        functions=functions,
        kernels=kernels,
    )
    if arrays:
        source = (source.rstrip("\n") + "\n\n\n" + array_helpers + "\n\n\n" + array_wrappers
                  + "\n")
    return source


__all__ = ["PRINTERS", "FunctionSpec", "function_specs", "render", "templates_dir"]
