"""Printers: how each backend writes the statements of a scheduled program.

One printer class per backend (SymPy's `PythonCodePrinter` / `NumPyPrinter` are the model).
A printer owns every fact about its backend's spelling:

- `spellings`: op name -> `Spelling` (the text, and the precedences of the text and of each
  operand slot as data); a test checks that every printer spells every op of the rule table;
- the helper functions and modules its code needs, *recorded while printing* (`used_modules`,
  `used_helpers`), so the imports come from what was printed, never from scanning text;
- its reserved names, laziness (guards honoured or not), number and annotation types, and
  how its functions lay out and return their results.

A printer instance records what one module uses: make a new one per module.
The templates (`templates/<backend>.py.j2`) lay out the module around the printed lines.
Adding a backend is one printer class, one template and its entry in `render.PRINTERS`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from . import loop_code
from .ops import OPS
from .schedule import NEVER, RESERVED, Function, Stmt

# Precedence of printed expressions, as in Python's grammar: a higher number binds tighter.
ATOM = 5              # a name, a number, a call, anything in parentheses


@dataclass(frozen=True)
class Spelling:
    """How a printer writes one op.

    Attributes:
        text: a format string over the operand texts (`{0}`, `{1}`, ...).
        precedence: how tightly the printed text binds (`ATOM` for a call or a
            parenthesised text; 0: always parenthesised when inlined).
        slots: per operand, the least precedence an inlined text may have there without
            parentheses, or None if nothing may be inlined there (the operand is printed
            more than once, which would compute it twice, or sits inside a conditional).
        tight: a negative number operand is parenthesised (`(-2.0) ** 3`, `-(-x)`).
        modules: the modules the text uses (imported when it is printed).
        helpers: the helper functions the text calls (written into the module when printed).
    """

    text: str
    precedence: int
    slots: tuple[int | None, ...]
    tight: bool = False
    modules: tuple[str, ...] = ()
    helpers: tuple[str, ...] = ()


def call(name: str, arity: int, helper: bool = False) -> Spelling:
    """A function call `name(a, b)`: an atom; each operand is a whole argument. A dotted
    name uses its module (`math.sin` uses `math`); a helper is a function of the module."""
    module = name.split(".")[0] if "." in name else None
    return Spelling(f"{name}({', '.join(f'{{{k}}}' for k in range(arity))})", ATOM,
                    (0,) * arity, modules=(module,) if module else (),
                    helpers=(name,) if helper else ())


def compound(text: str, arity: int, *modules: str) -> Spelling:
    """A parenthesised expression that prints an operand more than once or inside a
    conditional: an atom, nothing inlined into it."""
    return Spelling(text, ATOM, (None,) * arity, modules=modules)


# The operators of Python's grammar, shared by every printer of Python code: (text, result
# precedence, least precedence of each operand). Right operands of left-associative
# operators need one more: `a - (b - c)` keeps its parentheses (and `a + (b + c)` too: float
# addition does not associate). Comparisons take no inlined operands.
OPERATORS: dict[str, Spelling] = {
    "add": Spelling("{0} + {1}", 1, (1, 2)),
    "sub": Spelling("{0} - {1}", 1, (1, 2)),
    "mul": Spelling("{0} * {1}", 2, (2, 3)),
    "div": Spelling("{0} / {1}", 2, (2, 3)),
    "neg": Spelling("-{0}", 3, (3,), tight=True),
    "powi": Spelling("{0} ** {1}", 4, (ATOM, ATOM), tight=True),
    **{name: Spelling(f"{{0}} {symbol} {{1}}", 0, (None, None)) for name, symbol in (
        ("lt", "<"), ("le", "<="), ("gt", ">"), ("ge", ">="), ("eq", "=="), ("ne", "!="))},
}

# `x ** 2` as `x * x` (see `Printer.spelling`): the operand is printed twice, so nothing is
# inlined into it.
SQUARE = Spelling("{0} * {0}", 2, (None, None))

# Integer exponents up to this size are printed as ints (`x ** 3`). Larger ones are printed
# as floats: with an int argument, `3 ** 1000000000` is a 1.5-billion-bit integer that takes
# minutes to compute, while `3 ** 1000000000.0` raises OverflowError at once; for a float
# base both spellings give the same result.
_INT_EXPONENT_MAX = 64

# The functions every generated module may define, and the module constants.
FUNCTIONS = ("forward", "gradient", "value_and_grad", "jacobian", "value_and_jacobian",
             "hessian", "hvp", "jacobian_values", "hessian_values")

# Names no generated module may give a value: keywords, builtins, the module's functions and
# constants and their private companions.
COMMON_RESERVED = RESERVED | frozenset(
    set(FUNCTIONS) | {"jvp", "INPUTS", "WRT", "OUTPUTS", "EXPRESSION"}
    | {"JACOBIAN_ROWS", "JACOBIAN_COLS", "HESSIAN_ROWS", "HESSIAN_COLS"}
    | {f"_{f}" for f in FUNCTIONS}
)


class Printer:
    """The statements of a program in one backend's Python: the base of every printer.

    Class attributes (the backend's facts):
        name: the backend's name (`compile(backend=...)`).
        template: the Jinja template that lays out the module.
        module: the module whose constants (`nan`, `inf`) the printed numbers use.
        spellings: op name -> `Spelling`, one per op of the rule table.
        reserved: names user names must not take (they are renamed: `math_`).
        lazy: honour guards: compute a `where` branch only when it is taken.
        inline: print single-use temporaries inside their user (optimize.py).
        scalars_only: the public functions take numbers only (an array argument gets a hint
            to use the numpy backend; an array input is any sequence).
        standalone_functions: each public function reads only the module's imports and
            constants, so `Compiled` may compile it on first use, alone.
        data_calls: the functions run on data: inputs by name, DataFrame columns, `reduce=`
            and dask arrays (symback.data).
        array_style: how an array input reaches the element-wise program and how its
            gradient comes back (symback.array_wrappers): "sequence", "indexed" or
            "stacked".
        decorator: a line printed above each public wrapper (numba's njit), or "".
        number_type: the annotation of inputs and results.
        always_imported: modules every module of this backend imports.
        analyses: the analyses of the program it reads (`analyses.annotate`).
    """

    name = ""
    template = ""
    module = "math"
    spellings: ClassVar[dict[str, Spelling]] = {}
    reserved: frozenset[str] = COMMON_RESERVED
    lazy = True
    inline = False
    scalars_only = False
    standalone_functions = False
    data_calls = False
    array_style = "stacked"
    decorator = ""
    number_type = "float"
    always_imported: frozenset[str] = frozenset()
    analyses: tuple[str, ...] = ("int_safety",)
    matrix_layout = "nested tuples"   # how a docstring names the layout of a matrix
    batch = False         # writes `<name>_batch` array entry points (`kernel`)
    chunked = False       # runs large inputs in chunks (`function` gets the chunked returns)

    def __init__(self) -> None:
        self.used_modules: set[str] = set()
        self.used_helpers: set[str] = set()

    # --- what was printed ------------------------------------------------------------------

    def use(self, spelling: Spelling) -> str:
        """Record the modules and helpers `spelling` needs; return its text."""
        if spelling.modules:
            self.used_modules.update(spelling.modules)
        if spelling.helpers:
            self.used_helpers.update(spelling.helpers)
        return spelling.text

    def imports(self) -> list[str]:
        """The modules the printed code needs, sorted."""
        return sorted(self.used_modules | self.always_imported)

    def helper_sources(self) -> list[str]:
        """The source of the helper functions the printed code calls, in print order."""
        return []

    # --- operands and statements -----------------------------------------------------------

    def number(self, value: float) -> str:
        if math.isnan(value):
            self.used_modules.add(self.module)
            return f"{self.module}.nan"
        if math.isinf(value):
            self.used_modules.add(self.module)
            return f"{'-' if value < 0 else ''}{self.module}.inf"
        return repr(float(value))

    def operand(self, x: Any, integer: bool = False, tight: bool = False) -> str:
        """A name as it is; a number printed (as an int if `integer` and small, in
        parentheses if negative and `tight`)."""
        if isinstance(x, str):
            return x
        integer = integer and abs(x) <= _INT_EXPONENT_MAX
        text = str(int(x)) if integer else self.number(x)
        return f"({text})" if tight and text.startswith("-") else text

    def spelling(self, op: str, operands: tuple | list) -> Spelling:
        """How `op` of `operands` (constants are floats) is written: its spelling, except
        that `x ** 2` is written `x * x`. Both are one correctly rounded operation, so the
        values are bit-identical; the product is faster in CPython (no call into `pow`) and
        overflows to inf instead of raising OverflowError."""
        if op == "powi" and operands[1] == 2.0 and operands[0].__class__ is not float:
            return SQUARE
        return self.spellings[op]

    def expression(self, stmt: Stmt, inlined: dict[str, tuple[str, int]] | None = None,
                   spelling: Spelling | None = None) -> str:
        """The right-hand side of one statement (written with `spelling`, by default
        `self.spelling(...)`); `inlined` maps the names of inlined operands to their
        (text, precedence), parenthesised where the slot binds tighter."""
        spelling = spelling or self.spelling(stmt.op, stmt.operands)
        ints = OPS[stmt.op].int_operands
        texts = [x if x.__class__ is str else self.operand(x, k in ints, spelling.tight)
                 for k, x in enumerate(stmt.operands)]
        if inlined:
            for slot, x in enumerate(stmt.operands):
                if x in inlined:
                    text, prec = inlined[x]
                    need = spelling.slots[slot]
                    texts[slot] = text if need is not None and prec >= need else f"({text})"
        return self.use(spelling).format(*texts)

    def body(self, fn: Function) -> list[str]:
        """The lines of a function body (without the return), guarded blocks indented."""
        lines: list[str] = []
        defined: set[int] = set()
        current = -1
        frees = self.frees(fn)
        inlined: dict[str, tuple[str, int]] = {}
        for k, stmt in enumerate(fn.statements):
            if stmt.inline:                   # printed later, inside its one user
                spelling = self.spelling(stmt.op, stmt.operands)
                inlined[stmt.target] = (self.expression(stmt, inlined, spelling),
                                        spelling.precedence)
                continue
            guard = stmt.guard if self.lazy else -1
            if guard == NEVER:            # read only by a branch never taken
                continue
            if guard != current:
                if guard != -1:
                    lines.extend(_define_guard(fn, guard, defined))
                    lines.append(f"if {_test(fn, guard)}:")
                current = guard
            indent = "    " if guard != -1 else ""
            if stmt.op in ("loop", "scatter"):     # several lines (symback.loop_code)
                lines.extend(indent + line for line in self.loop_lines(fn, stmt))
            else:
                lines.append(f"{indent}{stmt.target} = {self.expression(stmt, inlined)}")
            if k in frees:
                lines.append(f"{indent}del {', '.join(frees[k])}")
        return lines

    def frees(self, fn: Function) -> dict[int, list[str]]:
        """Statement index -> names to `del` after it (none: scalars are cheap to keep)."""
        return {}

    def loop_lines(self, fn: Function, stmt: Stmt) -> list[str]:
        """The lines of a rolled loop or an array adjoint (symback.loop_code)."""
        return loop_code.loop_lines(self, fn, stmt, fn.arrays)

    # --- functions and their results -------------------------------------------------------

    def params(self, fn: Function) -> list[str]:
        """The parameters of a public function, annotated."""
        return [f"{p}: {self.number_type}" for p in fn.params]

    def results(self, fn: Function, results: list, expand: bool = True) -> list[str]:
        """The printed `results` of `fn`. A result that can be an int (`x + y` called
        with ints) is converted with float(), so results are always floats."""
        return [f"float({x})" if x in fn.int_results else self.operand(x) for x in results]

    def prologue(self, fn: Function) -> list[str]:
        """Lines at the top of a function: the inputs converted to floats when int
        arguments could build huge integers (see `analyses.int_safety`)."""
        if not fn.float_inputs:
            return []
        return (["# inputs as floats, so that int arguments give float arithmetic"]
                + [f"{p} = float({p})" for p in fn.float_inputs])

    def function(self, fn: Function, returns: str, chunked_returns: str | None) -> dict[str, Any]:
        """The template data of one function, beyond its name, annotation and docstring."""
        body = self.body(fn)
        return {"params": self.params(fn), "body": self.prologue(fn) + body, "returns": returns}

    def matrix(self, rows: list[str], fn: Function | None = None) -> str:
        """A matrix (Jacobian, Hessian) of `fn` from its printed rows: nested tuples."""
        return tuple_text(rows)

    def matrix_type(self, row_type: str, n_rows: int) -> str:
        return f"tuple[{', '.join([row_type] * n_rows)}]"

    def vector(self, items: list[str], fn: Function | None = None) -> str:
        """The values of a sparse matrix (`jacobian_values`) from their printed texts."""
        return tuple_text(items) if items else "()"

    def vector_type(self) -> str:
        return f"tuple[{self.number_type}, ...]"

    def array_type(self, shape: tuple[int, ...]) -> str:
        """The annotation of an array input's gradient (rolled loops)."""
        return "numpy.ndarray"

    def kernel(self, fn: Function, name: str, doc: str, returns: str) -> dict[str, Any]:
        """With `batch`: the template data of `<name>_batch` (see `NumbaPrinter`)."""
        raise NotImplementedError(f"the {self.name} backend writes no batch functions")


def tuple_text(items: list[str]) -> str:
    """A Python tuple display of already printed items."""
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


# --- signatures ---------------------------------------------------------------------------

# Generated code is wrapped as black (and `ruff format`) would wrap it, at black's width.
LINE = 88
_PUNCTUATION = re.compile(r"[\[\]\(\),]")


def signature(name: str, params: list[str], returns: str = "") -> list[str]:
    """The lines of `def name(params) -> returns:` as black writes them.

    One line when it fits in `LINE` characters. Otherwise black splits at the parameters'
    parenthesis: the parameters on one indented line if they fit (and are more than one:
    a lone parameter gets a trailing comma), else one a line with a trailing comma; then
    `) -> returns:`, itself split at its last bracket when too long (`_wrap`).
    """
    tail = f" -> {returns}:" if returns else ":"
    one = f"def {name}({', '.join(params)}){tail}"
    if len(one) <= LINE:
        return [one]
    joined = "    " + ", ".join(params)
    if len(params) > 1 and len(joined) <= LINE:
        body = [joined]
    else:
        body = [f"    {p}," for p in params]
    return [f"def {name}("] + body + _wrap(")" + tail, "")


def _wrap(line: str, indent: str) -> list[str]:
    """`line` (ending in a bracketed part, then at most `:` or `,`), split as black's right
    hand split does: at the opening bracket of its last bracketed part, the contents on one
    line if they fit, else one item a line with a trailing comma, each wrapped again."""
    if len(indent + line) <= LINE:
        return [indent + line]
    close = max(line.rfind("]"), line.rfind(")"))
    depth, start = 0, -1
    for k in range(close, -1, -1):
        depth += {"]": 1, ")": 1, "[": -1, "(": -1}.get(line[k], 0)
        if depth == 0:
            start = k
            break
    if start < 0:
        return [indent + line]
    inner = line[start + 1:close]
    head, tail = indent + line[:start + 1], indent + line[close:]
    inside = indent + "    "
    if len(inside + inner) <= LINE:
        return [head, inside + inner, tail]
    lines = [head]
    for item in _items(inner):
        if len(inside) + len(item) < LINE:      # fits with its comma: the common case
            lines.append(f"{inside}{item},")
        else:
            lines += _wrap(item + ",", inside)
    return lines + [tail]


def _items(text: str) -> list[str]:
    """The comma-separated items of `text` at bracket depth 0."""
    if "[" not in text and "(" not in text:
        return [item.strip() for item in text.split(",")]
    items, depth, start = [], 0, 0
    for match in _PUNCTUATION.finditer(text):
        ch = match.group()
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif depth == 0:
            items.append(text[start:match.start()].strip())
            start = match.end()
    items.append(text[start:].strip())
    return items


# --- guards: boolean variables for lazily computed `where` branches -------------------------

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


# --- the python backend ------------------------------------------------------------------------

def _calls(arity: int, **names: str) -> dict[str, Spelling]:
    return {op: call(name, arity) for op, name in names.items()}


class PythonPrinter(Printer):
    """Scalar Python over `math`: lazy `where`, single-use temporaries inlined."""

    name = "python"
    template = "python.py.j2"
    module = "math"
    reserved = COMMON_RESERVED | {"math"}
    lazy = True
    inline = True
    scalars_only = True
    standalone_functions = True
    array_style = "sequence"
    spellings: ClassVar[dict[str, Spelling]] = {
        **OPERATORS,
        **_calls(1, **{op: f"math.{op}" for op in (
            "exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "cbrt", "sin", "cos",
            "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
            "erf", "erfc")}),
        **_calls(2, pow="math.pow", atan2="math.atan2", hypot="math.hypot"),
        "abs": call("abs", 1),
        **_calls(2, min="min", max="max"),
        # exp of -|x| only: no overflow for any x
        "sigmoid": compound("(1.0 / (1.0 + math.exp(-{0})) if {0} >= 0.0 "
                            "else math.exp({0}) / (1.0 + math.exp({0})))", 1, "math"),
        "softplus": compound("(math.log1p(math.exp(-abs({0}))) + max({0}, 0.0))", 1, "math"),
        # 0.0 * x keeps nan a nan and the sign of zero
        "sign": compound("(1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0 * {0})", 1),
        "where": compound("({1} if {0} else {2})", 3),
    }

    def params(self, fn: Function) -> list[str]:
        return [f"{p}: {_nested_type('list', len(fn.arrays[p]))}" if p in fn.arrays
                else f"{p}: {self.number_type}" for p in fn.params]

    def array_type(self, shape: tuple[int, ...]) -> str:
        return _nested_type("tuple", len(shape), ", ...")

    def prologue(self, fn: Function) -> list[str]:
        """The scalar prologue; an array input becomes a flat list of floats, its shape
        checked (loops index it row-major: `X[3 * i + j]`)."""
        lines = super().prologue(fn)
        for p, shape in fn.arrays.items():
            rows, loops = p, ""
            for k in range(len(shape) - 1):
                loops += f" for _r{k} in {rows}"
                rows = f"_r{k}"
            lines += [f"{p} = [float(_v){loops} for _v in {rows}]",
                      f"if len({p}) != {_size(shape)}:",
                      f"    raise ValueError(f\"{p} must have shape {shape!r}, got {{len({p})}} "
                      "values\")"]
        return lines

    def results(self, fn: Function, results: list, expand: bool = True) -> list[str]:
        """Scalar results as floats; an array adjoint (a flat list) as (nested) tuples."""
        shaped = scatter_shapes(fn)
        texts = super().results(fn, results, expand)
        for k, x in enumerate(results):
            if x in shaped:
                texts[k] = _nested(x, shaped[x])
        return texts


class NumbaPrinter(PythonPrinter):
    """The python backend's scalar program compiled by `numba.njit`, plus `<name>_batch`
    entry points that run it over arrays in one parallel loop."""

    name = "numba"
    template = "numba.py.j2"
    reserved = PythonPrinter.reserved | {
        "numba", "numpy", "_JIT", "_flat_arrays", "_args", "_out", "_i", "_size",
        "_PARALLEL_WORK"} | {f"{f}_batch" for f in FUNCTIONS} | {
        f"_{f}_kernel{s}" for f in FUNCTIONS for s in ("", "_serial", "_parallel")}
    always_imported = frozenset({"numba", "numpy"})
    batch = True
    scalars_only = False                     # numba's own errors say what went wrong
    standalone_functions = False             # kernels and *_batch call each other
    array_style = "indexed"                  # one array to unbox, not 1,000 floats
    decorator = "@numba.njit(**_JIT)"
    spellings: ClassVar[dict[str, Spelling]] = {
        **PythonPrinter.spellings,
        "cbrt": call("numpy.cbrt", 1),       # numba compiles numpy.cbrt, not math.cbrt
    }

    def params(self, fn: Function) -> list[str]:
        return [f"{p}: numpy.ndarray" if p in fn.arrays else f"{p}: {self.number_type}"
                for p in fn.params]

    def prologue(self, fn: Function) -> list[str]:
        """The scalar prologue; an array input (a float64 array) has its shape checked."""
        lines = Printer.prologue(self, fn)
        for p, shape in fn.arrays.items():
            lines += [f"if {p}.shape != {shape!r}:",
                      f"    raise ValueError(\"{p} must be a float64 array of shape {shape!r}\")"]
        return lines

    def results(self, fn: Function, results: list, expand: bool = True) -> list[str]:
        return Printer.results(self, fn, results, expand)

    def array_type(self, shape: tuple[int, ...]) -> str:
        return "numpy.ndarray"

    def kernel(self, fn: Function, name: str, doc: str, returns: str) -> dict[str, Any]:
        """A batch kernel: before the loop, each input array `_args[j]` and each result
        row `_out[k]` is bound to a name of its own (`_arg0`, `_out0`); the loop body reads
        the inputs of point _i, runs the statements and writes the results to element _i
        of the rows. Indexing the tuple `_args` and the 2-D `_out` inside a prange loop made
        numba's parallel loop about 3x slower (product_10, 1e6 points, one thread: 23 ms
        against 7 ms)."""
        used = set(fn.params) | {s.target for s in fn.statements} | {g.target for g in fn.guards}
        args = [_fresh(f"_arg{j}", used) for j in range(len(fn.params))]
        rows = [_fresh(f"_out{k}", used) for k in range(len(fn.results))]
        setup = [f"{a} = _args[{j}]" for j, a in enumerate(args)]
        setup += [f"{r} = _out[{k}]" for k, r in enumerate(rows)]
        lines = [f"{p} = {a}[_i]" for p, a in zip(fn.params, args)]
        lines += self.body(fn)
        lines += [f"{r}[_i] = {self.operand(x)}" for r, x in zip(rows, fn.results)]
        return {
            "name": name,
            "kernel": f"_{name}_kernel",
            "signature": signature(f"{name}_batch", fn.params),
            "args": ", ".join(fn.params),
            "doc": doc,
            "setup": setup,
            "body": lines or ["pass"],          # no inputs and no results: nothing to do
            "n_results": len(fn.results),
            "ops": max(1, len(fn.statements)),
            "returns": returns,
        }


def scatter_shapes(fn: Function) -> dict[str, tuple[int, ...]]:
    """The array adjoints among the names of `fn`, with their shapes."""
    return {s.target: fn.structures[s.node].shape for s in fn.statements if s.op == "scatter"}


def _nested_type(kind: str, depth: int, more: str = "") -> str:
    """`list[float]`, `list[list[float]]`, `tuple[float, ...]`, ..."""
    text = "float"
    for _ in range(depth):
        text = f"{kind}[{text}{more}]"
    return text


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


def _nested(name: str, shape: tuple[int, ...]) -> str:
    """A flat list as a tuple (1-D) or nested tuples (row-major)."""
    if len(shape) == 1:
        return f"tuple({name})"
    strides = [_size(shape[k + 1:]) for k in range(len(shape))]
    last = len(shape) - 2
    text = f"tuple({name}[_k{last}:_k{last} + {shape[-1]}])"
    for level in range(last, -1, -1):
        start = "0" if level == 0 else f"_k{level - 1}"
        stop = str(_size(shape)) if level == 0 else f"_k{level - 1} + {strides[level - 1]}"
        text = f"tuple({text} for _k{level} in range({start}, {stop}, {strides[level]}))"
    return text


def _fresh(wanted: str, used: set[str]) -> str:
    """`wanted`, with "_" appended until it is no name in `used` (then added to it)."""
    while wanted in used:
        wanted += "_"
    used.add(wanted)
    return wanted


__all__ = ["ATOM", "COMMON_RESERVED", "FUNCTIONS", "LINE", "OPERATORS", "SQUARE", "NumbaPrinter",
           "Printer", "PythonPrinter", "Spelling", "call", "compound", "signature", "tuple_text"]
