"""The library API: `compile`, `parse`, `read_expr_file`, and the `Compiled` result.

`compile` runs the whole pipeline -- parse, reverse, schedule, render -- and returns the
module source with its functions ready to call:

    >>> import symback
    >>> f = symback.compile("((x + y) * z)**2")
    >>> f.value_and_grad(1, 3, 3)
    (144.0, (72.0, 72.0, 96.0))
"""

from __future__ import annotations

import functools
import gc
import math
import os
import tempfile
import types
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

from . import parse as _parse
from . import analyses, derivatives, schedule
from . import cache as _cache
from . import sparse as _sparse
from .arrays import check_shapes, element_names, groups
from .calls import hand_out, missing_message
from .errors import (ArgumentError, LimitError, MissingFunctionError, SymbackError,
                     SymbackWarning, warn)
from .array_wrappers import Group
from .flat import FlatFunction
from .graph import DEFAULT_MAX_NODES
from .loader import LazyModule, load_module
from .parse import DEFAULT_MAX_CHARS, Expression
from .printers import FUNCTIONS as MODULE_FUNCTIONS
from .progress import stage
from .render import PRINTERS, render
from .source import ExprFile, read_expr_file
from .source import declared_array_shapes as _declared_shapes
from .source import declared_inputs as _declared
from .source import input_names as _input_names
from .source import module_name as _module_name



def parse(expr: str, inputs: Sequence[str] | None = None, *,
          max_chars: int | None = DEFAULT_MAX_CHARS,
          max_nodes: int | None = DEFAULT_MAX_NODES, strict: bool = False,
          shapes: dict[str, Any] | None = None, loops: str = "auto") -> Expression:
    """Parse an expression into its computation graph (`Expression.graph`).

    Args:
        expr: the expression text (statements separated by newlines or ';').
        inputs: input names in order; defaults to the text's `# vars:` line, then to the
            order of first appearance.
        max_chars, max_nodes: size limits; None lifts a limit.
        strict: every free name must be declared (by `inputs` or `# vars:`).
        shapes: array inputs -> shape (`{"x": (1000,)}`), added to the `# vars:` line's
            (`# vars: x[1000] W[4,3]`).

    Raises:
        ParseError: with the line and column of the offending text.
        LimitError: the input exceeds a limit.
        ArgumentError: a bad `inputs`, limit or `strict`.

    Warns:
        SymbackWarning: a free name looks like a typo of a bound name or a function.
    """
    check_options(max_chars=max_chars, max_nodes=max_nodes, strict=strict)
    declared = _input_names(inputs, "inputs") if inputs is not None else _declared(expr)
    return _parse.parse(expr, declared, max_chars=max_chars, max_nodes=max_nodes,
                        strict=strict, shapes=_all_shapes(expr, shapes), loops=loops)


def _all_shapes(expr: object, shapes: dict[str, Any] | None) -> dict[str, tuple[int, ...]]:
    """The array inputs: the `# vars:` line's, then the `shapes=` argument's."""
    found = _declared_shapes(expr)
    if shapes is not None:
        found.update(check_shapes(shapes))
    return found


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
        expression: the parsed `Expression` (graph, outputs, inputs). After a cache hit it
            is rebuilt (by compiling again, without the cache) on first access.
        modes: how derivatives were built: "jacobian" / "hessian" -> "reverse" or "forward".
        shapes: every input -> its shape (`{"x": (1000,), "t": ()}`): an array input is
            one parameter (the module's SHAPES); its elements are the graph variables
            x_0, x_1, ... (W_1_2 for W[1, 2]).
    """

    _lazy: LazyModule | None = None     # class default: a Compiled unpickled from an older
                                        # version has no _lazy of its own

    def __init__(self, source: str, inputs: tuple[str, ...], wrt: tuple[str, ...],
                 outputs: tuple[str, ...], backend: str, stats: dict[str, int],
                 expression: Expression | None, name: str,
                 modes: dict[str, str] | None = None,
                 sparsity: dict[str, Any] | None = None,
                 shapes: dict[str, tuple[int, ...]] | None = None,
                 recipe: tuple[Any, dict[str, Any]] | None = None) -> None:
        self.source = source
        self.inputs = inputs
        self.wrt = wrt
        self.outputs = outputs
        self.backend = backend
        self.stats = stats
        self._expression = expression
        self._recipe = recipe               # (expr, options) to rebuild the expression
        self.name = name
        self.modes = dict(modes or {})
        self.sparsity = {k: _sparse.structure(m) for k, m in (sparsity or {}).items()}
        self.shapes = dict(shapes or {})
        self._module: types.ModuleType | None = None
        self._lazy: LazyModule | None = None
        self._functions: dict[str, Callable[..., Any]] = {}

    @property
    def expression(self) -> Expression:
        """The parsed `Expression`; after a cache hit, rebuilt on first access."""
        if self._expression is None and self._recipe is not None:
            expr, options = self._recipe
            with warnings.catch_warnings():         # they were given at the first compile
                warnings.simplefilter("ignore", SymbackWarning)
                self._expression = _compile(expr, **options).expression
        return self._expression  # type: ignore[return-value]

    @property
    def module(self) -> types.ModuleType:
        """The generated module, compiled to bytecode on first use."""
        if self._module is None:
            self._module = load_module(self.source, self.name)
        return self._module

    def _own(self, name: str) -> Any:
        """The module's function `name` or None. On the python backend without arrays each
        function is compiled on first use (`LazyModule`): `value_and_grad` alone never pays
        for compiling `forward`, `gradient`, `hessian`."""
        if self._module is None and PRINTERS[self.backend].standalone_functions \
                and not any(self.shapes.values()):
            if self._lazy is None:
                self._lazy = LazyModule(self.source, self.name)
            fn = self._lazy.function(name)
            if fn is not None:
                return fn
        return getattr(self.module, name, None)

    def _function(self, name: str) -> Callable[..., Any]:
        fn = self._functions.get(name)
        if fn is None:
            fn = self._own(name)
            if fn is None:
                raise MissingFunctionError(missing_message(name, self.module.__all__))
            printer = PRINTERS[self.backend]
            arrays = any(self.shapes.values())
            fn = hand_out(self, name, fn, numbers_only=printer.scalars_only and not arrays,
                          data=printer.data_calls,
                          float64_arrays=arrays and printer.array_style == "indexed")
            self._functions[name] = fn
        return fn

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the source, the options and the parsed expression; the module is rebuilt
        from the source on first use after unpickling, so a `Compiled` (and its functions)
        can be sent to multiprocessing and joblib workers."""
        state = dict(self.__dict__)
        state["_module"] = None
        state["_lazy"] = None
        state["_functions"] = {}
        return state

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
        (nested tuples on the python backend, an array of shape broadcast shape + (n, n) on
        numpy). Needs `compile(..., hessian=True)`."""
        return self._function("hessian")

    @property
    def hvp(self) -> Callable[..., Any]:
        """hvp(*inputs, *v) -> the Hessian times the vector v (one entry per `wrt` input).
        Needs `compile(..., hessian=True)`."""
        return self._function("hvp")

    def jacobian_sparsity(self) -> Any:
        """The Jacobian's structural nonzeros as a scipy.sparse.csr_array of ones
        (outputs x WRT), e.g. `least_squares(..., jac_sparsity=f.jacobian_sparsity())`.
        Needs `compile(..., sparse=True)` with several outputs, and scipy."""
        return self._pattern("jacobian")

    def hessian_sparsity(self) -> Any:
        """The Hessian's structural nonzeros (both triangles) as a scipy.sparse.csr_array of
        ones. Needs `compile(..., sparse=True, hessian=True)`, and scipy."""
        return self._pattern("hessian")

    def jacobian_sparse(self, *inputs: Any) -> Any:
        """The Jacobian at one point as a scipy.sparse.csr_array (outputs x WRT), from
        `jacobian_values`. Needs `compile(..., sparse=True)` with several outputs."""
        return self._pattern("jacobian", "jacobian_values", inputs)

    def hessian_sparse(self, *inputs: Any) -> Any:
        """The full symmetric Hessian at one point as a scipy.sparse.csr_array, from
        `hessian_values` (the lower triangle). Needs `compile(..., sparse=True,
        hessian=True)`."""
        return self._pattern("hessian", "hessian_values", inputs)

    def _pattern(self, kind: str, fname: str = "", inputs: tuple = ()) -> Any:
        """The pattern of the sparse `kind` as a csr_array, of ones or of the values
        `fname(*inputs)`."""
        if kind not in self.sparsity:
            flags = "sparse=True" + (", hessian=True" if kind == "hessian" else
                                     " and several outputs")
            raise MissingFunctionError(f"no sparse {kind}: compile with {flags}")
        values = self._function(fname)(*inputs) if fname else None
        rows, cols, shape = self.sparsity[kind]
        return _sparse.to_csr(rows, cols, shape, values, symmetric=kind == "hessian")

    def flat(self, **fixed: Any) -> FlatFunction:
        """The functions of one vector θ, for scipy's solvers: the `wrt` inputs flattened
        and concatenated in order, every other input bound to `fixed` (name=value, arrays
        of their shape). See `symback.flat.FlatFunction`: `size`, `fun`, `jac`,
        `fun_and_jac`, `hess`, `hessp` (with hessian=True), `pack`, `unpack`. Needs numpy.
        """
        return FlatFunction(self, fixed)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        """`<function>_batch` (numba backend): the function over arrays, parallel over
        points; results of the inputs' broadcast shape S, matrices S + (rows, columns)."""
        if not name.startswith("_") and (name.endswith("_batch") or name in MODULE_FUNCTIONS):
            return self._function(name)     # a missing one raises MissingFunctionError
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the module to `path` atomically (a temporary file, then a rename).

        Raises:
            ArgumentError: the path is not a str or path, the folder does not exist, the
                target is a folder or read-only, or the file cannot be written. Nothing is
                left behind on failure.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise ArgumentError(f"save() takes a file path, not {type(path).__name__}")
        return write_atomic(Path(path), self.source)

    def sympy(self) -> Any:
        """The value and gradient as sympy expressions: `symback.to_sympy(self)`."""
        from .sympy_graph import gradient_to_sympy
        expression = self.expression
        if expression.rolled:               # sympy gets every term (the loops unrolled)
            expression = _parse.parse(expression.text, list(expression.inputs),
                                      max_nodes=None, max_chars=None,
                                      shapes=expression.shapes, loops="unroll")
            return gradient_to_sympy(expression, [e for n in self.wrt
                                                  for e in element_names(n, self.shapes)])
        return gradient_to_sympy(expression, list(self.wrt))

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
            max_nodes: int | None = DEFAULT_MAX_NODES, strict: bool = False,
            sparse: bool = False, shapes: dict[str, Any] | None = None,
            loops: str = "auto", cache: bool | None = None) -> Compiled:
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
        strict: every free name must be declared, by `wrt` or the `# vars:` line (both
            together, with `wrt` first); any other name is a `ParseError`.
        sparse: write the structural nonzeros instead of dense matrices: with several
            outputs `JACOBIAN_ROWS`, `JACOBIAN_COLS` and `jacobian_values` (instead of
            `jacobian`, `value_and_jacobian`); with `hessian=True` `HESSIAN_ROWS`,
            `HESSIAN_COLS` (lower triangle) and `hessian_values` (instead of `hessian`).
        shapes: array inputs -> shape, as `{"x": (1000,), "W": (4, 3)}` (or the `# vars:`
            line: `# vars: x[1000] W[4,3] t`). The text indexes them (`x[i]`, `W[i, j]`)
            and reduces them (`sum(x)`, `sum(E for i in range(len(x)))`); `wrt` may name
            them.
        loops: "auto" (default) keeps a `sum`, `prod`, `min` or `max` comprehension of 256
            or more iterations as a loop in the generated code (`for` loops; slices on
            numpy), so code size and compile time do not grow with n; "roll" keeps every
            such comprehension a loop; "unroll" writes every term out. A program with
            rolled loops has `forward`, `gradient`, `value_and_grad` and, with
            `hessian=True`, `hvp` (no dense `hessian`); "auto" unrolls for `sparse`,
            several outputs, a Hessian through a `prod`, and `hessian` when the inputs have
            at most 1,000 elements ("roll" refuses those).
        cache: look the result up in, and store it into, the compile cache (see
            `symback.cache`): True or False; None (default) uses it unless the environment
            sets SYMBACK_CACHE=0. A hit does not parse: it returns in milliseconds.

    Returns:
        A `Compiled` with `.source`, `.forward`, `.gradient`, `.value_and_grad`, `.save()`.

    Raises:
        ParseError: the expression is not valid (with line, column and a caret).
        LimitError: the input is larger than a limit.
        ArgumentError: a bad `wrt`, `name`, `backend`, `mode`, limit or flag (of the wrong
            type, an empty `wrt`), or `hessian` with several outputs.

    Warns:
        SymbackWarning: a free name looks like a typo of a bound name or a function, or a
            `wrt` name does not occur in the expression.
    """
    if cache is not None and not isinstance(cache, bool):
        raise ArgumentError(f"cache must be True, False or None, not {cache!r}")
    options = {"wrt": wrt, "name": name, "backend": backend, "hessian": hessian, "mode": mode,
               "max_chars": max_chars, "max_nodes": max_nodes, "strict": strict,
               "sparse": sparse, "shapes": shapes, "loops": loops}
    key = _cache.key(expr, options) if _cache.enabled(cache) else None
    if key is None:
        return _compile(expr, **options)
    entry = _cache.load(key)
    if entry is not None and entry["meta"]["backend"] == backend:
        return _from_cache(entry, expr, options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SymbackWarning)
        compiled = _compile(expr, **options)
    symback_warnings = [w.message for w in caught if isinstance(w.message, SymbackWarning)]
    _cache.store(key, _cache_meta(compiled, symback_warnings), compiled.source, write_atomic)
    for w in caught:                                # as if they had not been caught
        if isinstance(w.message, SymbackWarning):
            warn(w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return compiled


def _cache_meta(compiled: Compiled, warned: list[SymbackWarning]) -> dict[str, Any]:
    """What a cache entry stores besides the source."""
    return {"inputs": list(compiled.inputs), "wrt": list(compiled.wrt),
            "outputs": list(compiled.outputs), "backend": compiled.backend,
            "stats": dict(compiled.stats), "name": compiled.name, "modes": dict(compiled.modes),
            "sparsity": {k: [list(r), list(c), list(shape)]
                         for k, (r, c, shape) in compiled.sparsity.items()},
            "shapes": {k: list(shape) for k, shape in compiled.shapes.items()},
            "warnings": [{"message": w.message, "line": w.line, "column": w.column,
                          "source_line": w.source_line, "width": w.width} for w in warned]}


def _from_cache(entry: dict[str, Any], expr: Any, options: dict[str, Any]) -> Compiled:
    """The `Compiled` of a checked cache entry; its warnings are given again."""
    meta = entry["meta"]
    for w in meta["warnings"]:
        warn(SymbackWarning(w["message"], w.get("line"), w.get("column"), w.get("source_line"),
                            w.get("width") or 1))
    recipe = (list(expr) if isinstance(expr, (list, tuple)) else expr, dict(options))
    return Compiled(entry["source"], tuple(meta["inputs"]), tuple(meta["wrt"]),
                    tuple(meta["outputs"]), meta["backend"], dict(meta["stats"]), None,
                    meta["name"], meta["modes"], sparsity=meta["sparsity"],
                    shapes={k: tuple(v) for k, v in meta["shapes"].items()}, recipe=recipe)


def _compile(expr: str | Sequence[str], wrt: Sequence[str] | str | None = None,
             name: str | None = None, *, backend: str = "python", hessian: bool = False,
             mode: str = "auto", max_chars: int | None = DEFAULT_MAX_CHARS,
             max_nodes: int | None = DEFAULT_MAX_NODES, strict: bool = False,
             sparse: bool = False, shapes: dict[str, Any] | None = None,
             loops: str = "auto") -> Compiled:
    """`compile` without the cache."""
    check_options(backend=backend, hessian=hessian, strict=strict, max_chars=max_chars,
                  max_nodes=max_nodes, sparse=sparse)
    printer = PRINTERS[backend]()
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
    wrt_list = _input_names(wrt, "wrt") if wrt is not None else None
    if wrt_list == []:
        raise ArgumentError("wrt is empty: name at least one input (or leave it out to "
                            "differentiate with respect to every input)")
    declared = wrt_list if wrt_list is not None else _declared(expr)
    if strict and wrt_list is not None:     # parameters may come from the `# vars:` line
        declared = wrt_list + [n for n in _declared(expr) or [] if n not in wrt_list]
    stage("parsing")
    all_shapes = _all_shapes(expr, shapes) if converted is None else {}
    expression = converted if converted is not None else \
        _parse.parse(expr, declared, max_chars=max_chars, max_nodes=max_nodes, strict=strict,
                     shapes=all_shapes, loops=loops)
    if expression.rolled and (sparse or len(expression.outputs) > 1
                              or (hessian and (_rolled_prod(expression.graph) or loops == "auto"
                                               and _elements(expression.shapes)
                                               <= DENSE_HESSIAN))):
        if loops != "auto":
            raise ArgumentError(_ROLLED_ONLY)
        expression = _parse.parse(expr, declared, max_chars=max_chars, max_nodes=max_nodes,
                                  strict=strict, shapes=all_shapes, loops="unroll")
    _warn_unused(wrt_list or [], expression)
    if wrt_list is not None and expression.shapes and not expression.rolled:
        wrt_list = [e for n in wrt_list for e in element_names(n, expression.shapes)]
    if n_listed is not None and len(expression.outputs) != n_listed:
        raise ArgumentError(f"a list of {n_listed} expressions gave {len(expression.outputs)} "
                            "outputs: each item must be one expression")
    g = expression.graph
    inputs = expression.inputs
    wrt_names = wrt_list if wrt_list is not None else inputs
    param_nodes = [g.lookup_var(n) for n in inputs]
    wrt_nodes = [g.lookup_var(n) for n in wrt_names]
    matrices: dict[str, _sparse.Sparse] = {}
    stage("differentiating")
    try:
        if sparse:
            built, matrices = _sparse.plan(g, expression.outputs,
                                           wrt_nodes,  # type: ignore[arg-type]
                                           hessian_too=hessian, mode=mode, taken=list(inputs))
        else:
            built = derivatives.plan(g, expression.outputs,
                                     wrt_nodes,  # type: ignore[arg-type]
                                     hessian_too=hessian, mode=mode, taken=list(inputs),
                                     dense=not expression.rolled)
    except LimitError as exc:                   # the derivative graph is too large: point
        raise expression.error(f"{exc.message} while building the derivatives",  # at the
                               expression.positions[-1], LimitError) from None   # output
    roots = built.roots
    stage("scheduling")
    program = schedule.schedule(g, param_nodes, roots, built.labels,  # type: ignore[arg-type]
                                built.extra_params, reserved=printer.reserved,
                                inline=printer.spelling if printer.inline else None,
                                lazy=printer.lazy)
    program = analyses.annotate(program, printer.analyses)
    out_names = tuple(expression.output_names)
    if expression.rolled:               # an array input is one variable of its shape
        in_groups = [(n, expression.shapes.get(n, ()), [n]) for n in inputs]
        wrt_groups = [(n, expression.shapes.get(n, ()), [n]) for n in wrt_names]
    else:
        in_groups = groups(tuple(inputs), expression.shapes)
        wrt_groups = groups(tuple(wrt_names), expression.shapes)
    arrays = None
    elements_wrt = list(wrt_names)      # the columns of Jacobians and Hessians
    if expression.shapes and not expression.rolled:   # one parameter per array
        # (symback.array_wrappers); rolled loops read the arrays themselves
        arrays = ([Group(n, shape, len(e)) for n, shape, e in in_groups],
                  [Group(n, shape, len(e)) for n, shape, e in wrt_groups])
        inputs = [g[0] for g in in_groups]
        wrt_names = [g[0] for g in wrt_groups]
    extra = {"INPUTS": repr(tuple(inputs)), "WRT": repr(tuple(wrt_names)),
             "OUTPUTS": repr(out_names)}
    for kind, matrix in matrices.items():
        extra[f"{kind.upper()}_ROWS"] = _sparse.index_text(matrix.rows)
        extra[f"{kind.upper()}_COLS"] = _sparse.index_text(matrix.cols)
    if expression.shapes:
        extra["SHAPES"] = repr({n: shape for n, shape, _ in in_groups})
    title = _title(out_names, inputs, module_name)
    stage("rendering")
    source = render(program, printer, outputs=list(out_names), wrt=elements_wrt,
                    text=expression.text, title=title, extra=extra, arrays=arrays,
                    rolled=expression.rolled)
    stats = {f"{fname}_ops": program.op_count(fname) for fname in roots}
    stats["graph_nodes"] = len(g)
    return Compiled(source, tuple(inputs), tuple(wrt_names), out_names, backend, stats,
                    expression, module_name, built.modes, sparsity=matrices,
                    shapes={n: shape for n, shape, _ in in_groups})


# With loops="auto" and hessian=True, programs with at most this many input elements are
# unrolled (for the dense `hessian`); larger ones keep their loops and get `hvp` only.
DENSE_HESSIAN = 1000


def _rolled_prod(g: Any) -> bool:
    """Whether a rolled prod is in the graph: its second derivatives are not written
    rolled (at a factor equal to 0 they need the products of all but two factors)."""
    return any(op == "loop" and g.values[i].kind == "prod" for i, op in enumerate(g.ops))


def _elements(shapes: dict[str, tuple[int, ...]]) -> int:
    return sum(math.prod(shape) for shape in shapes.values())


_ROLLED_ONLY = ("a program with rolled loops has forward, gradient, value_and_grad (and hvp "
                "with hessian=True, except through a prod) only: sparse=True, several "
                "outputs and hessian=True with a prod need loops='unroll' (or "
                "loops='auto', which unrolls for them)")


def check_options(**options: Any) -> None:
    """Refuse options of the wrong type with an `ArgumentError` (not a TypeError from deep
    inside): `backend` a string, `hessian`/`strict` True or False, limits whole numbers >= 1
    or None."""
    for key, value in options.items():
        if key == "backend":
            if not isinstance(value, str) or value not in PRINTERS:
                raise ArgumentError(f"unknown backend {value!r} "
                                    f"(choose from {', '.join(PRINTERS)})")
        elif key in ("hessian", "strict", "sparse"):
            if not isinstance(value, bool):
                raise ArgumentError(f"{key} must be True or False, not {value!r}")
        elif value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                    or value < 1):
            raise ArgumentError(f"{key} must be a whole number >= 1 or None, not {value!r}")


def _warn_unused(wrt: list[str], expression: Expression) -> None:
    """A `wrt` name that does not occur gets a gradient of 0: probably a typo, so warn."""
    missing = [n for n in wrt if n not in expression.uses]
    if missing:
        names = ", ".join(repr(n) for n in missing)
        warn(SymbackWarning(f"wrt: {names} {'does' if len(missing) == 1 else 'do'} not "
                                   "occur in the expression (the gradient is 0)"))


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


def _title(outputs: tuple[str, ...], inputs: list[str], module: str) -> str:
    args = ", ".join(inputs)
    what = outputs[0] if len(outputs) == 1 else f"({', '.join(outputs)})"
    kind = "gradient" if len(outputs) == 1 else "Jacobian"
    return f"{module}: value and {kind} of {what}({args}), compiled by symback."




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
