"""The library API: `compile`, `parse`, `read_expr_file`, and the `Compiled` result.

`compile` runs the whole pipeline -- parse, reverse, schedule, render -- and returns the
module source with its functions ready to call:

    >>> import symback
    >>> f = symback.compile("((x + y) * z)**2")
    >>> f.value_and_grad(1, 3, 3)
    (144.0, (72.0, 72.0, 96.0))
"""

from __future__ import annotations

import builtins
import functools
import gc
import linecache
import os
import re
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from . import parse as _parse
from . import derivatives, optimize, schedule
from .errors import ArgumentError, LimitError, SymbackError
from .graph import DEFAULT_MAX_NODES
from .parse import DEFAULT_MAX_CHARS, Expression, directives
from .render import (BACKENDS, FunctionSpec, batch_result_texts, render, result_texts,
                     tuple_text)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MODULE_NAME = re.compile(r"[^A-Za-z0-9_]")


def parse(expr: str, inputs: Sequence[str] | None = None, *,
          max_chars: int | None = DEFAULT_MAX_CHARS,
          max_nodes: int | None = DEFAULT_MAX_NODES) -> Expression:
    """Parse an expression into its computation graph (`Expression.graph`).

    Args:
        expr: the expression text (statements separated by newlines or ';').
        inputs: input names in order; defaults to the text's `# vars:` line, then to the
            order of first appearance.
        max_chars, max_nodes: size limits; None lifts a limit.

    Raises:
        ParseError: with the line and column of the offending text.
        LimitError: the input exceeds a limit.
    """
    declared = _input_names(inputs, "inputs") if inputs is not None else _declared(expr)
    return _parse.parse(expr, declared, max_chars=max_chars, max_nodes=max_nodes)


def _declared(text: Any) -> list[str] | None:
    if not isinstance(text, str):
        return None
    line = directives(text).get("vars")
    if line is None:
        return None
    try:
        return _input_names(line, "# vars")
    except ArgumentError as exc:               # a fault in the text: show where it is
        raise _parse.directive_error(text, "vars", exc.message) from None


def _input_names(names: Sequence[str] | str, what: str) -> list[str]:
    """Validate a list of input names (or one string of names separated by ',' or spaces)."""
    if isinstance(names, str):
        names = [n for n in re.split(r"[,\s]+", names) if n]
    result: list[str] = []
    for n in names:
        if not isinstance(n, str) or not _IDENTIFIER.match(n) or n.startswith("__"):
            shown = _parse.quote(n) if isinstance(n, str) else repr(n)
            raise ArgumentError(f"{what}: {shown} is not a valid input name "
                                "(ASCII letters, digits and '_', not starting with '__')")
        problem = _parse.name_problem(n, hints=False)
        if problem is not None:
            raise ArgumentError(f"{what}: {problem}")
        if n in result:
            raise ArgumentError(f"{what}: {n!r} is listed twice")
        result.append(n)
    return result


class Compiled:
    """A compiled expression: the generated module's source and its functions.

    Attributes:
        source: the generated module, as text.
        inputs: the input names, in the order the functions take them (the module's INPUTS).
        wrt: the inputs the gradient is taken with respect to (the module's WRT).
        outputs: the output names (the module's OUTPUTS).
        backend: the backend that printed the module.
        stats: operation counts: forward_ops, gradient_ops, value_and_grad_ops (one output)
            or jacobian_ops (several), hessian_ops and hvp_ops (with hessian=True), and
            graph_nodes.
        expression: the parsed `Expression` (graph, outputs, inputs).
        modes: how derivatives were built: "jacobian" / "hessian" -> "reverse" or "forward".
    """

    def __init__(self, source: str, inputs: tuple[str, ...], wrt: tuple[str, ...],
                 outputs: tuple[str, ...], backend: str, stats: dict[str, int],
                 expression: Expression, name: str,
                 modes: dict[str, str] | None = None) -> None:
        self.source = source
        self.inputs = inputs
        self.wrt = wrt
        self.outputs = outputs
        self.backend = backend
        self.stats = stats
        self.expression = expression
        self.name = name
        self.modes = dict(modes or {})
        self._module: types.ModuleType | None = None

    @property
    def module(self) -> types.ModuleType:
        """The generated module, compiled to bytecode on first use."""
        if self._module is None:
            filename = f"<symback:{self.name}>"
            code = builtins.compile(self.source, filename, "exec")
            module = types.ModuleType(self.name)
            module.__file__ = filename
            exec(code, module.__dict__)  # our generated source, never the user's text
            linecache.cache[filename] = (len(self.source), None,
                                         self.source.splitlines(True), filename)
            self._module = module
        return self._module

    def _function(self, name: str) -> Callable[..., Any]:
        fn = getattr(self.module, name, None)
        if fn is None:
            raise AttributeError(f"this module has no {name}() "
                                 f"(it has {', '.join(self.module.__all__)})")
        return fn

    @property
    def forward(self) -> Callable[..., Any]:
        """forward(*inputs) -> the value (a tuple of values for several outputs)."""
        return self._function("forward")

    @property
    def gradient(self) -> Callable[..., Any]:
        """gradient(*inputs) -> tuple of partial derivatives, in `wrt` order."""
        return self._function("gradient")

    @property
    def value_and_grad(self) -> Callable[..., Any]:
        """value_and_grad(*inputs) -> (value, gradient tuple)."""
        return self._function("value_and_grad")

    @property
    def jacobian(self) -> Callable[..., Any]:
        """jacobian(*inputs) -> one row per output, each a tuple in `wrt` order."""
        return self._function("jacobian")

    @property
    def value_and_jacobian(self) -> Callable[..., Any]:
        """value_and_jacobian(*inputs) -> (tuple of values, jacobian)."""
        return self._function("value_and_jacobian")

    @property
    def hessian(self) -> Callable[..., Any]:
        """hessian(*inputs) -> the symmetric matrix of second derivatives in `wrt` order
        (nested tuples on the python backend, an array of shape (n, n) + broadcast shape on
        numpy). Needs `compile(..., hessian=True)`."""
        return self._function("hessian")

    @property
    def hvp(self) -> Callable[..., Any]:
        """hvp(*inputs, *v) -> the Hessian times the vector v (one entry per `wrt` input).
        Needs `compile(..., hessian=True)`."""
        return self._function("hvp")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the module to `path` atomically (a temporary file, then a rename).

        Raises:
            ArgumentError: the folder does not exist, the target is a folder or read-only,
                or the file cannot be written. Nothing is left behind on failure.
        """
        return write_atomic(Path(path), self.source)

    def sympy(self) -> Any:
        """The value and gradient as sympy expressions: `symback.to_sympy(self)`."""
        from .sympy_graph import gradient_to_sympy
        return gradient_to_sympy(self.expression, list(self.wrt))

    def __repr__(self) -> str:
        return (f"<symback.Compiled {self.name}: {', '.join(self.outputs)} of "
                f"({', '.join(self.inputs)}), {self.backend} backend>")


def _without_gc(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run `fn` with the cyclic garbage collector paused.

    Compiling allocates millions of small tuples and ints that live until the end (the
    graph) and form no cycles; each collection walks all of them again, which made a
    1,000,000-term sum take ~30% longer and grow faster than linearly.
    """
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()
    return wrapper


@_without_gc
def compile(expr: str | Sequence[str], wrt: Sequence[str] | str | None = None,
            name: str | None = None, *, backend: str = "python", hessian: bool = False,
            mode: str = "auto", max_chars: int | None = DEFAULT_MAX_CHARS,
            max_nodes: int | None = DEFAULT_MAX_NODES) -> Compiled:
    """Compile an expression to a module computing its value and exact gradient.

    Args:
        expr: the expression text. It may hold several statements (`p = x + y; p * z`),
            `#` comments and a `# vars: x y z` line giving the input order. A last
            statement `a, b, c` (or a list of one-expression strings) gives several outputs:
            `forward` returns a tuple and `jacobian` one row per output.
            A sympy Expr, a list of them or a Matrix is converted by `symback.sympy_in`
            (`wrt` may then hold sympy Symbols).
        wrt: the inputs to differentiate with respect to, in order (a list, or one string
            such as "x,y"). They come first among the function parameters; other free
            names follow as parameters that are not differentiated. Default: every input,
            in the order of the `# vars:` line or of first appearance. A name that does
            not occur gets a gradient of 0.
        name: the module's name (shown in its docstring); default "expr".
        backend: "python" (scalars, `math` only), "numpy" (arrays with broadcasting) or
            "numba" (the python program compiled by `numba.njit`, plus `<name>_batch`
            functions over arrays, parallel over points; needs `pip install symback[numba]`).
        hessian: also write `hessian(*inputs)` and `hvp(*inputs, *v)` (one output only).
        mode: how Jacobians and Hessians are built: "auto" (fewer operations), "reverse"
            (a reverse sweep per output; reverse over reverse) or "forward" (a forward sweep
            per input; forward over reverse).
        max_chars, max_nodes: size limits of the input and the graph; None lifts them.

    Returns:
        A `Compiled` with `.source`, `.forward`, `.gradient`, `.value_and_grad`, `.save()`.

    Raises:
        ParseError: the expression is not valid (with line, column and a caret).
        LimitError: the input is larger than a limit.
        ArgumentError: a bad `wrt`, `name`, `backend` or `mode`, or `hessian` with several
            outputs.
    """
    if backend not in BACKENDS:
        raise ArgumentError(f"unknown backend {backend!r} (choose from {', '.join(BACKENDS)})")
    derivatives.check_mode(mode)
    n_listed = None
    converted = None
    from . import sympy_in                 # sympy itself is imported only for sympy input
    if sympy_in.is_sympy(expr):            # a sympy Expr, a list of them or a Matrix
        converted = sympy_in.expression(expr, wrt, max_nodes=max_nodes)
        expr, wrt = converted.text, converted.wrt if converted.inputs else None
    if not isinstance(expr, str) and isinstance(expr, (list, tuple)):
        n_listed = len(expr)
        expr = _join_outputs(expr)
    module_name = _module_name(name)
    declared = _input_names(wrt, "wrt") if wrt is not None else _declared(expr)
    expression = converted if converted is not None else \
        _parse.parse(expr, declared, max_chars=max_chars, max_nodes=max_nodes)
    if n_listed is not None and len(expression.outputs) != n_listed:
        raise ArgumentError(f"a list of {n_listed} expressions gave {len(expression.outputs)} "
                            "outputs: each item must be one expression")
    g = expression.graph
    inputs = expression.inputs
    wrt_names = declared if wrt is not None else inputs
    param_nodes = [g.lookup_var(n) for n in inputs]
    wrt_nodes = [g.lookup_var(n) for n in wrt_names]
    try:
        built = derivatives.plan(g, expression.outputs, wrt_nodes,  # type: ignore[arg-type]
                                 hessian_too=hessian, mode=mode, taken=list(inputs))
    except LimitError as exc:                   # the derivative graph is too large: point
        raise expression.error(f"{exc.message} while building the derivatives",  # at the
                               expression.positions[-1], LimitError) from None   # output
    roots = built.roots
    program = schedule.schedule(g, param_nodes, roots, built.labels,  # type: ignore[arg-type]
                                built.extra_params)
    program = optimize.optimize(program, inline=BACKENDS[backend].inline)
    specs = _function_specs(program, expression, list(wrt_names), backend)
    out_names = tuple(expression.output_names)
    extra = {"INPUTS": repr(tuple(inputs)), "WRT": repr(tuple(wrt_names)),
             "OUTPUTS": repr(out_names)}
    title = _title(out_names, inputs, module_name)
    batch = None
    if backend == "numba":                 # array entry points: <name>_batch
        batch = _function_specs(program, expression, list(wrt_names), backend, batch=True)
    chunked = None
    if backend == "numpy":                 # large arrays: results are rows of _chunked's _out
        chunked = _function_specs(program, expression, list(wrt_names), backend, chunked=True)
    source = render(program, specs, backend=backend, text=expression.text, title=title,
                    extra=extra, batch=batch, chunked=chunked)
    stats = {f"{fname}_ops": program.op_count(fname) for fname in roots}
    stats["graph_nodes"] = len(g)
    return Compiled(source, tuple(inputs), tuple(wrt_names), out_names, backend, stats,
                    expression, module_name, built.modes)


def _join_outputs(items: Sequence[Any]) -> str:
    """A list of expression strings as one text whose last statement is `e1, e2, ...`."""
    if not items:
        raise ArgumentError("the list of expressions is empty")
    for item in items:
        if not isinstance(item, str):
            raise ArgumentError(f"a list of expressions must hold strings, not "
                                f"{type(item).__name__}")
        if "\n" in item or ";" in item or "#" in item:
            raise ArgumentError("each item of a list of expressions must be one expression "
                                "(for statements and comments, write one text whose last "
                                "statement is 'a, b, ...')")
    return ", ".join(items)


def _module_name(name: str | None) -> str:
    if name is None:
        return "expr"
    if not isinstance(name, str) or not name:
        raise ArgumentError("name must be a non-empty string")
    return _MODULE_NAME.sub("_", name)[:100]


def _title(outputs: tuple[str, ...], inputs: list[str], module: str) -> str:
    args = ", ".join(inputs)
    what = outputs[0] if len(outputs) == 1 else f"({', '.join(outputs)})"
    kind = "gradient" if len(outputs) == 1 else "Jacobian"
    return f"{module}: value and {kind} of {what}({args}), compiled by symback."


def _function_specs(program: schedule.Program, expression: Expression, wrt: list[str],
                    backend: str, batch: bool = False,
                    chunked: bool = False) -> list[FunctionSpec]:
    """How each function returns its results, with its docstring. With `batch` (numba),
    the `<name>_batch` array versions: the same layout over the rows of `_out`. With
    `chunked` (numpy), the same functions returning the rows of the array `_out` that
    `_chunked` fills (matrices are reshaped slices of it)."""
    outs = expression.output_names
    funcs = program.functions
    num = "numpy.ndarray" if batch else BACKENDS[backend].number_type
    n_in = len(wrt)

    def texts(fname: str, expand: bool = True) -> list[str]:
        if batch or chunked:
            return batch_result_texts(funcs[fname])
        return result_texts(funcs[fname], backend, expand)

    def ops(fname: str) -> str:
        n = program.op_count(fname)
        return f"{n} operation{'s' if n != 1 else ''}."[:-1].capitalize()

    grad_type = f"tuple[{', '.join([num] * n_in)}]" if n_in else "tuple[()]"
    as_array = backend == "numpy"          # matrices are stacked arrays on numpy

    def matrix(flat: list[str], n_rows: int, first: int = 0) -> str:
        if chunked:                        # rows first.. of _out, already stacked
            rows_of_out = "_out" if first == 0 else f"_out[{first}:]"
            return f"{rows_of_out}.reshape(({n_rows}, {n_in}) + _out.shape[1:])"
        text = tuple_text([tuple_text(flat[k * n_in:(k + 1) * n_in]) if n_in else "()"
                           for k in range(n_rows)])
        return f"_matrix({text}, _shape)" if as_array else text

    if len(outs) == 1:
        f, partials = outs[0], [f"d{outs[0]}/d{w}" for w in wrt]
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
            hess_type = "numpy.ndarray" if as_array else f"tuple[{', '.join([grad_type] * n_in)}]"
            layout = "an (n, n) + shape array" if as_array else "nested tuples"
            vs = ", ".join(funcs["hvp"].params[len(funcs["hvp"].params) - n_in:])
            specs += [
                FunctionSpec("hessian", matrix(texts("hessian", False), n_in), hess_type,
                             f"Return the Hessian of {f} (symmetric, WRT order) as {layout}. "
                             f"{ops('hessian')}."),
                FunctionSpec("hvp", tuple_text(texts("hvp")) if n_in else "()", grad_type,
                             f"Return the Hessian of {f} times the vector ({vs}), in WRT "
                             f"order. {ops('hvp')}."),
            ]
        return specs
    n_out = len(outs)

    def rows(flat: list[str]) -> str:
        return matrix(flat, n_out)

    vj = texts("value_and_jacobian")
    vj_raw = texts("value_and_jacobian", False)
    out_type = f"tuple[{', '.join([num] * n_out)}]"
    jac_type = "numpy.ndarray" if as_array else f"tuple[{', '.join([grad_type] * n_out)}]"
    return [
        FunctionSpec("forward", tuple_text(texts("forward")), out_type,
                     f"({', '.join(outs)}); {ops('forward')}."),
        FunctionSpec("jacobian", rows(texts("jacobian", False)), jac_type,
                     f"one row per output ({', '.join(outs)}), each in WRT order; "
                     f"{ops('jacobian')}."),
        FunctionSpec("value_and_jacobian",
                     f"{tuple_text(vj[:n_out])}, {matrix(vj_raw[n_out:], n_out, n_out)}",
                     f"tuple[{out_type}, {jac_type}]",
                     f"(values, jacobian); {ops('value_and_jacobian')}."),
    ]


@dataclass
class ExprFile:
    """An .expr file: its text and the `# vars:`, `# point:`, `# name:` lines."""

    path: Path
    text: str
    vars: list[str] | None
    point: list[float] | None
    name: str


def read_expr_file(path: str | os.PathLike[str]) -> ExprFile:
    """Read an .expr file (UTF-8 text; `# vars:` and `# point:` lines are optional).

    Raises:
        ArgumentError: the file cannot be read, is not UTF-8 or has a bad `# point:` line.
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArgumentError(f"cannot read {str(p)!r}: not UTF-8 text "
                            f"(byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except OSError as exc:
        raise ArgumentError(f"cannot read {str(p)!r}: {exc.strerror or exc}") from None
    found = directives(text)
    names = _input_names(found["vars"], "# vars") if "vars" in found else None
    point = None
    if "point" in found:
        try:
            point = [float(v) for v in found["point"].split()]
        except ValueError:
            raise ArgumentError(f"{str(p)!r}: the '# point:' line must hold numbers") from None
        if names is not None and len(point) != len(names):
            raise ArgumentError(f"{str(p)!r}: '# point:' has {len(point)} numbers for "
                                f"{len(names)} '# vars:'")
    name = found.get("name") or p.stem
    return ExprFile(p, text, names, point, _module_name(name))


def write_atomic(path: Path, text: str | bytes) -> Path:
    """Write `text` (str as UTF-8, or bytes) to `path` through a temporary file in the same
    folder and a rename.

    Raises:
        ArgumentError: with a one-line reason; no partial or temporary file is left.
    """
    shown = str(path)
    if path.is_dir():
        raise ArgumentError(f"cannot write {shown!r}: it is a directory")
    folder = path.parent
    if not folder.is_dir():
        raise ArgumentError(f"cannot write {shown!r}: the folder {str(folder)!r} does not exist")
    if path.exists() and not path.stat().st_mode & 0o222:
        raise ArgumentError(f"cannot write {shown!r}: the file is read-only")
    if not folder.stat().st_mode & 0o222:
        raise ArgumentError(f"cannot write {shown!r}: the folder is read-only")
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        data = text.encode("utf-8") if isinstance(text, str) else text
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ArgumentError(f"cannot write {shown!r}: {exc.strerror or exc}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


__all__ = ["Compiled", "ExprFile", "SymbackError", "compile", "parse", "read_expr_file",
           "write_atomic"]
