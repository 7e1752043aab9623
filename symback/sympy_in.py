"""sympy in: a sympy expression (or a list of them, or a Matrix) -> a symback `Expression`.

`symback.compile(e)` calls `expression(e, wrt)` when `e` is a sympy object, and then runs the
usual pipeline on the graph built here, so sympy users get symback's reverse-mode gradient
(no `diff` per input, no expression swell) from one call.

How the conversion works:

- The sympy tree is walked twice, both times with loops: a post-order over an explicit stack
  lists every distinct sub-object once, children before parents (a 10,000-deep expression
  converts without RecursionError); then one loop builds each one into the graph with
  `Graph.apply`, which interns, folds constants and applies the table's identities. Objects
  are remembered by identity: sympy's shared subtrees are built once, and equal subtrees that
  are distinct objects meet again in the graph's interning. Nothing here asks sympy anything
  recursive (no `free_symbols`, `==` on big trees, printing or assumptions).
- Outputs: one `Expr` gives the output `f`; a list or tuple gives `f0, f1, ...`; a `Matrix` is
  flattened in row-major order (a column or row vector gives `f0, f1, ...`, an m x n matrix
  `f0_0, f0_1, ...`), so `compile(Matrix([...]))` is the Jacobian of its entries.
- Inputs: the differentiated ones are `wrt` (sympy Symbols, or names) in that order; the other
  symbols follow as plain parameters, in the natural order of their names (`x2` before `x10`).
  Without `wrt`, every symbol is differentiated, in that natural order.
- Names: a Symbol whose name is a valid symback name keeps it. Others get a safe ASCII name,
  deterministically: `x_{1}` -> `x_1`, `α` -> `alpha`, `x'` -> `x_prime`, a keyword or function
  name gets a trailing `_` (`lambda_`, `sin_`), and two different Symbols with one name (a
  `Dummy`, or other assumptions) get `_2`, `_3`. `INPUTS` of the module holds the safe names
  (they are the parameter names); the module docstring lists each renamed symbol
  (`x_1 = Symbol('x_{1}')`), and `SympyExpression.symbols` maps safe names to the Symbols.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Sequence

from .errors import ArgumentError
from .graph import DEFAULT_MAX_NODES, Graph
from .ops import CONSTANTS, FUNCTIONS
from .parse import Expression, name_problem

# sympy's text form is shown in the module docstring only for trees this small: `sstr`
# recurses (about 200 levels is its limit), prints shared subtrees once per use and sorts
# the terms of sums (2 s for 5,000 terms); the docstring shows 2,000 characters anyway.
_TEXT_MAX_DEPTH = 100
_TEXT_MAX_TREE = 2_000

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def is_sympy(obj: Any) -> bool:
    """True for a sympy object, or a non-empty list/tuple holding at least one; sympy is not
    imported to find out."""
    if isinstance(obj, (list, tuple)):
        return any(_from_sympy_module(item) for item in obj)
    return _from_sympy_module(obj)


def _from_sympy_module(obj: Any) -> bool:
    # the class or a base class comes from sympy (an undefined Function's class has none)
    return any((getattr(c, "__module__", None) or "").split(".", 1)[0] == "sympy"
               for c in type(obj).__mro__)


@dataclass
class SympyExpression(Expression):
    """An `Expression` built from sympy objects.

    Attributes:
        symbols: safe input name -> the sympy Symbol it stands for.
        wrt: the safe names of the differentiated inputs, in order.
    """

    symbols: dict[str, Any] = field(default_factory=dict)
    wrt: list[str] = field(default_factory=list)


def expression(obj: Any, wrt: Sequence[Any] | str | None = None, *,
               max_nodes: int | None = DEFAULT_MAX_NODES) -> SympyExpression:
    """Convert a sympy Expr, a list/tuple of them, or a Matrix into a `SympyExpression`.

    Args:
        obj: the sympy object(s). Plain int/float items of a list are constants.
        wrt: the inputs to differentiate, in order: sympy Symbols, or their names (the
            sympy name or the safe name), or one string "x, y". Default: every symbol.
        max_nodes: the graph's size limit (None lifts it).

    Raises:
        ArgumentError: an unsupported sympy function or object (named in the message), a
            non-finite or complex number, a bad `wrt`.
        LimitError: the graph exceeds `max_nodes`.
    """
    import sympy

    items, labels = _outputs(sympy, obj)
    order, symbols = _post_order(sympy, items)
    names = _safe_names(symbols)
    wrt_syms = _resolve_wrt(sympy, wrt, symbols, names)
    for s in wrt_syms:
        if s not in names:                   # a wrt symbol that does not occur: gradient 0
            names[s] = _unique(_safe_base(s.name), set(names.values()))
    wanted = set(wrt_syms)
    others = sorted((s for s in symbols if s not in wanted),
                    key=lambda s: (_natural(s.name), names[s]))
    inputs = [names[s] for s in wrt_syms + others]
    g = Graph(max_nodes)
    for name in inputs:
        g.var(name)
    built = _Builder(sympy, g, names).build(order)
    outputs = []
    for item, label in zip(items, labels):
        node = built[id(item)]
        if isinstance(node, tuple) or node is True or node is False:
            raise ArgumentError(f"output {label} is a condition ({_short(sympy, item)}), "
                                "not a number; a condition can only choose a Piecewise branch")
        outputs.append(node)
    by_name = {names[s]: s for s in wrt_syms + others}
    text = _text(sympy, obj, order, items, by_name)
    reached = set(outputs)                    # the inputs the outputs read, for warnings
    for i in g.live(outputs):                 # about wrt names that do not occur (without
        reached.update(g.args[i])             # sympy's recursive free_symbols)
    uses = {g.values[v]: 0 for v in reached if g.ops[v] == "var"}
    return SympyExpression(g, outputs, labels, inputs, text, {}, [0] * len(outputs), uses,
                           symbols=by_name, wrt=[names[s] for s in wrt_syms])


# --- outputs and inputs ---------------------------------------------------------------------

def _outputs(sp: Any, obj: Any) -> tuple[list[Any], list[str]]:
    """The output objects and their labels (f; f0, f1, ...; f0_0, ... for a matrix)."""
    if isinstance(obj, sp.MatrixBase):
        rows, cols = obj.shape
        items = [_item(sp, v) for v in obj]                      # row-major
        if not items:
            raise ArgumentError("the Matrix is empty")
        if rows == 1 or cols == 1:
            return items, [f"f{k}" for k in range(len(items))]
        return items, [f"f{i}_{j}" for i in range(rows) for j in range(cols)]
    if isinstance(obj, (list, tuple)):
        if not obj:
            raise ArgumentError("the list of expressions is empty")
        items = [_item(sp, v) for v in obj]
        return items, [f"f{k}" for k in range(len(items))]
    return [_item(sp, obj)], ["f"]


def _item(sp: Any, v: Any) -> Any:
    if isinstance(v, bool):
        raise ArgumentError(f"an output must be an expression, not {v!r}")
    if isinstance(v, (int, float)):
        return sp.Float(v) if isinstance(v, float) else sp.Integer(v)
    if not isinstance(v, sp.Basic):
        raise ArgumentError(f"a list of sympy expressions cannot hold {type(v).__name__} "
                            "items (give all items as sympy expressions or all as strings)")
    if isinstance(v, sp.MatrixBase):
        raise ArgumentError("a Matrix inside a list is not supported; pass the Matrix itself")
    return v


def _post_order(sp: Any, roots: list[Any]) -> tuple[list[Any], list[Any]]:
    """Every distinct object under `roots`, children first (by identity), and the Symbols
    in order of first appearance. Loops over an explicit stack: no recursion."""
    seen: set[int] = set()
    order: list[Any] = []
    symbols: list[Any] = []
    known_symbols: set[Any] = set()
    leaf_types = (sp.Symbol, sp.Number, sp.NumberSymbol)
    for root in roots:
        stack = [(root, False)]
        while stack:
            obj, expanded = stack.pop()
            if id(obj) in seen:
                continue
            if expanded or isinstance(obj, leaf_types) or not obj.args:
                seen.add(id(obj))
                order.append(obj)
                if isinstance(obj, sp.Symbol) and obj not in known_symbols:
                    known_symbols.add(obj)
                    symbols.append(obj)
                continue
            if type(obj).__name__ not in _NODES:     # say so before walking inside it
                raise _unsupported(sp, obj)
            stack.append((obj, True))
            for child in reversed(obj.args):
                if id(child) not in seen:
                    stack.append((child, False))
    return order, symbols


def _natural(name: str) -> list[Any]:
    """Sort key: digit runs compare as numbers (x2 < x10)."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part)
            for part in re.split(r"(\d+)", name) if part]


def _usable(name: str) -> bool:
    """Whether a symbol name can be an input name as it is."""
    return (bool(_IDENTIFIER.match(name)) and name_problem(name, hints=False) is None
            and name not in FUNCTIONS and name not in CONSTANTS)


def _safe_base(name: str) -> str:
    """A readable ASCII identifier for any symbol name (maybe already taken)."""
    if _usable(name):
        return name
    parts = []
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "_"):
            parts.append(ch)
        elif ch == "'":
            parts.append("_prime")
        elif ord(ch) > 127:
            parts.append("_" + _ascii_letter(ch) + "_")
        else:
            parts.append("_")
    text = re.sub(r"_+", "_", "".join(parts)).strip("_") or "v"
    if text[0].isdigit():
        text = "v_" + text
    while not _usable(text):
        text += "_"
    return text


def _ascii_letter(ch: str) -> str:
    """α -> alpha, Ω -> Omega, é -> e; otherwise u03b1-style."""
    name = unicodedata.name(ch, "")
    m = re.match(r"GREEK (SMALL|CAPITAL) LETTER (\w+)$", name)
    if m:
        word = m.group(2).lower()
        return word if m.group(1) == "SMALL" else word.capitalize()
    plain = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9]", "", plain)
    return plain or f"u{ord(ch):04x}"


def _unique(base: str, used: set[str]) -> str:
    if base not in used:
        return base
    k = 2
    while f"{base}_{k}" in used:
        k += 1
    return f"{base}_{k}"


def _safe_names(symbols: list[Any]) -> dict[Any, str]:
    """Symbol -> its input name. Symbols whose names are usable as they are keep them (the
    first one seen, if two Symbols share a name); the others are renamed after them,
    Dummies last."""
    names: dict[Any, str] = {}
    used: set[str] = set()
    for s in symbols:
        if _usable(s.name) and s.name not in used:
            names[s] = s.name
            used.add(s.name)
    dummies = [s for s in symbols if type(s).__name__ == "Dummy"]   # renamed last
    for s in [s for s in symbols if type(s).__name__ != "Dummy"] + dummies:
        if s not in names:
            names[s] = _unique(_safe_base(s.name), used)
            used.add(names[s])
    return names


def _resolve_wrt(sp: Any, wrt: Sequence[Any] | str | None, symbols: list[Any],
                 names: dict[Any, str]) -> list[Any]:
    """The wrt Symbols, in order. Names match a symbol's sympy name first, then its safe
    name; a name that matches nothing becomes a new real Symbol (gradient 0)."""
    if wrt is None:
        return sorted(symbols, key=lambda s: (_natural(s.name), names[s]))
    if isinstance(wrt, str):
        wrt = [w for w in re.split(r"[,\s]+", wrt) if w]
    elif isinstance(wrt, sp.Basic) or not isinstance(wrt, (list, tuple)):
        wrt = [wrt]
    by_sympy_name: dict[str, Any] = {}
    for s in symbols:
        by_sympy_name.setdefault(s.name, s)
    by_safe_name = {n: s for s, n in names.items()}
    result: list[Any] = []
    seen: set[Any] = set()
    for w in wrt:
        if isinstance(w, sp.Symbol):
            sym = w
        elif isinstance(w, str):
            sym = by_sympy_name.get(w) or by_safe_name.get(w) or sp.Symbol(w, real=True)
        else:
            raise ArgumentError(f"wrt: expected sympy Symbols or names, got "
                                f"{type(w).__name__}")
        if sym in seen:
            raise ArgumentError(f"wrt: {sym.name!r} is listed twice")
        seen.add(sym)
        result.append(sym)
    return result


# --- building the graph ---------------------------------------------------------------------

# sympy class name -> the symback op of the same one-operand function.
_UNARY = {
    "sin": "sin", "cos": "cos", "tan": "tan", "asin": "asin", "acos": "acos", "atan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asinh": "asinh", "acosh": "acosh",
    "atanh": "atanh", "exp": "exp", "erf": "erf", "erfc": "erfc", "Abs": "abs", "sign": "sign",
    # sympy.codegen.cfunctions: the C library's functions, with the same semantics as symback's
    "log1p": "log1p", "expm1": "expm1", "log2": "log2", "log10": "log10", "Cbrt": "cbrt",
    "Sqrt": "sqrt",
}
_BINARY = {"atan2": "atan2", "hypot": "hypot"}
_RELATIONAL = {"StrictLessThan": "lt", "LessThan": "le", "StrictGreaterThan": "gt",
               "GreaterThan": "ge", "Equality": "eq", "Unequality": "ne"}
_OTHER = ("Add", "Mul", "Pow", "log", "Min", "Max", "Piecewise", "Heaviside", "exp2", "fma",
          "Integer", "Rational", "Float", "pi", "E", "Symbol", "And", "Or", "Not")
SUPPORTED = tuple(sorted(set(_UNARY) | set(_BINARY) | set(_RELATIONAL) | set(_OTHER)))
_NODES = frozenset(SUPPORTED) | {"ExprCondPair"}     # class names with args we convert


def _unsupported(sp: Any, obj: Any) -> ArgumentError:
    return ArgumentError(f"sympy {_what(sp, obj)} {type(obj).__name__!r} is not supported by "
                         f"symback (supported: {', '.join(SUPPORTED)})")


class _Builder:
    """Builds each object of a post-order into the graph. Values are node ids for numbers,
    and for conditions either a comparison node ("rel", id), ("and"|"or", [conds]),
    ("not", cond), or True/False."""

    def __init__(self, sp: Any, g: Graph, names: dict[Any, str]) -> None:
        self.sp = sp
        self.g = g
        self.names = names
        self.memo: dict[int, Any] = {}

    def build(self, order: list[Any]) -> dict[int, Any]:
        for obj in order:
            self.memo[id(obj)] = self.one(obj)
        return self.memo

    def arg(self, obj: Any, parent: Any) -> int:
        """The node of a numeric operand (a condition here is an error)."""
        v = self.memo[id(obj)]
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        raise ArgumentError(f"{type(parent).__name__} has a condition as an operand "
                            f"({_short(self.sp, obj)}); conditions can only choose a "
                            "Piecewise branch")

    def cond(self, obj: Any, parent: Any) -> Any:
        v = self.memo[id(obj)]
        if isinstance(v, (tuple, bool)):
            return v
        raise ArgumentError(f"{type(parent).__name__} needs a condition, got "
                            f"{_short(self.sp, obj)}")

    def one(self, obj: Any) -> Any:
        sp, g = self.sp, self.g
        kind = type(obj).__name__
        if isinstance(obj, sp.Symbol):
            return g.var(self.names[obj])
        if obj is sp.true or obj is sp.false:
            return bool(obj)
        if isinstance(obj, (sp.Number, sp.NumberSymbol)) or obj is sp.zoo:
            return self.number(obj)
        args = obj.args
        if kind in _UNARY and len(args) == 1:
            return g.apply(_UNARY[kind], self.arg(args[0], obj))
        if kind in _BINARY and len(args) == 2:
            return g.apply(_BINARY[kind], self.arg(args[0], obj), self.arg(args[1], obj))
        if kind in _RELATIONAL:
            return ("rel", g.apply(_RELATIONAL[kind], self.arg(obj.lhs, obj),
                                   self.arg(obj.rhs, obj)))
        method = getattr(self, f"_{kind}", None)
        if method is not None and kind in _OTHER:
            return method(obj, args)
        if kind == "ExprCondPair":
            return None                       # read by its Piecewise
        raise _unsupported(sp, obj)

    # -- numbers -----------------------------------------------------------------------------

    def number(self, obj: Any) -> int:
        sp = self.sp
        if obj is sp.pi:
            return self.g.const(math.pi)
        if obj is sp.E:
            return self.g.const(math.e)
        if obj is sp.zoo or obj.is_Number and not obj.is_finite:   # oo, -oo, zoo, nan
            raise ArgumentError(f"sympy number {obj} is not a finite real number")
        try:
            value = float(obj)
        except (TypeError, ValueError):
            raise ArgumentError(f"sympy number {obj} is not a real number") from None
        except OverflowError:
            raise ArgumentError(f"sympy number {_short(sp, obj)} is too large for a "
                                "float") from None
        if not math.isfinite(value):
            raise ArgumentError(f"sympy number {_short(sp, obj)} is too large for a float")
        return self.g.const(value)

    # -- arithmetic --------------------------------------------------------------------------

    def _Add(self, obj: Any, args: tuple[Any, ...]) -> int:
        """A chain of + and -: a term with a negative coefficient is subtracted."""
        g = self.g
        acc: int | None = None
        for term in args:
            node = self.arg(term, obj)
            positive = self.negated(node)
            if acc is None:
                acc = node
            elif positive is not None:
                acc = g.apply("sub", acc, positive)
            else:
                acc = g.apply("add", acc, node)
        assert acc is not None
        return acc

    def negated(self, node: int) -> int | None:
        """-node as a node without a minus, if node is c * u with a constant c < 0."""
        g = self.g
        if g.op(node) == "mul":
            c, u = g.args[node]
            if g.is_const(c) and g.value(c) < 0:
                return g.apply("mul", g.const(-g.value(c)), u)
        return None

    def _Mul(self, obj: Any, args: tuple[Any, ...]) -> int:
        """A product; factors with negative exponents (and a rational coefficient's
        denominator) are divided by, so x/3 is x / 3 (correctly rounded), not x * 0.333."""
        sp, g = self.sp, self.g
        num: list[int] = []
        den: list[int] = []
        negate = False
        for factor in args:
            if isinstance(factor, sp.Rational) and not isinstance(factor, sp.Integer):
                p, q = int(factor.p), int(factor.q)
                negate ^= p < 0
                if abs(p) != 1:
                    num.append(self.number(sp.Integer(abs(p))))
                den.append(self.number(sp.Integer(q)))
            elif isinstance(factor, sp.Pow) and _negative_number(sp, factor.exp):
                den.append(self.power(factor.base, -factor.exp, factor))
            else:
                num.append(self.arg(factor, obj))
        top = self.product(num)
        if den:
            top = g.apply("div", top if top is not None else g.const(1.0), self.product(den))
        assert top is not None
        return g.apply("neg", top) if negate else top

    def product(self, nodes: list[int]) -> int | None:
        acc = None
        for n in nodes:
            acc = n if acc is None else self.g.apply("mul", acc, n)
        return acc

    def _Pow(self, obj: Any, args: tuple[Any, ...]) -> int:
        base, exp = args
        sp, g = self.sp, self.g
        if _negative_number(sp, exp) and isinstance(exp, sp.Rational) \
                and not isinstance(exp, sp.Integer):
            # x**(-1/2) -> 1/sqrt(x), x**(-3/2) -> 1/x**1.5
            return g.apply("div", g.const(1.0), self.power(base, -exp, obj))
        return self.power(base, exp, obj)

    def power(self, base: Any, exp: Any, parent: Any) -> int:
        """base**exp: integers through `pow` (which makes them powi), 1/2 -> sqrt; other
        rationals (1/3 included: sympy's x**(1/3) is the principal root, undefined for
        x < 0 over the reals, unlike cbrt) stay general powers."""
        sp, g = self.sp, self.g
        b = self.arg(base, parent) if id(base) in self.memo else self.convert_number(base)
        if isinstance(exp, sp.Rational) and exp.q == 2 and abs(exp.p) == 1:
            root = g.apply("sqrt", b)
            return root if exp.p > 0 else g.apply("div", g.const(1.0), root)
        e = self.arg(exp, parent) if id(exp) in self.memo else self.convert_number(exp)
        return g.apply("pow", b, e)

    def convert_number(self, obj: Any) -> int:
        """A number made here (a negated exponent) that the walk did not see."""
        if isinstance(obj, (self.sp.Number, self.sp.NumberSymbol)):
            return self.number(obj)
        raise AssertionError(f"not converted: {obj!r}")

    def _log(self, obj: Any, args: tuple[Any, ...]) -> int:
        # log(x, b) is already log(x)/log(b) in sympy; a second argument would be a base
        if len(args) == 2:
            return self.g.apply("div", self.g.apply("log", self.arg(args[0], obj)),
                                self.g.apply("log", self.arg(args[1], obj)))
        return self.g.apply("log", self.arg(args[0], obj))

    def _exp2(self, obj: Any, args: tuple[Any, ...]) -> int:
        return self.g.apply("pow", self.g.const(2.0), self.arg(args[0], obj))

    def _fma(self, obj: Any, args: tuple[Any, ...]) -> int:
        a, b, c = (self.arg(x, obj) for x in args)
        return self.g.apply("add", self.g.apply("mul", a, b), c)

    def _Min(self, obj: Any, args: tuple[Any, ...]) -> int:
        return self.fold("min", obj, args)

    def _Max(self, obj: Any, args: tuple[Any, ...]) -> int:
        return self.fold("max", obj, args)

    def fold(self, op: str, obj: Any, args: tuple[Any, ...]) -> int:
        acc = self.arg(args[0], obj)
        for a in args[1:]:
            acc = self.g.apply(op, acc, self.arg(a, obj))
        return acc

    # -- conditions and branches ----------------------------------------------------------------

    def _And(self, obj: Any, args: tuple[Any, ...]) -> Any:
        return ("and", [self.cond(a, obj) for a in args])

    def _Or(self, obj: Any, args: tuple[Any, ...]) -> Any:
        return ("or", [self.cond(a, obj) for a in args])

    def _Not(self, obj: Any, args: tuple[Any, ...]) -> Any:
        return ("not", self.cond(args[0], obj))

    def _Piecewise(self, obj: Any, args: tuple[Any, ...]) -> int:
        """A chain of where: the first pair whose condition holds wins. Without a final
        (expr, True) pair sympy's value is undefined where no condition holds: nan."""
        g = self.g
        pairs = [(self.arg(p.args[0], obj), self.cond(p.args[1], obj)) for p in args]
        acc = g.const(math.nan)
        for value, cond in reversed(pairs):
            acc = branch(g, cond, value, acc)
        return acc

    def _Heaviside(self, obj: Any, args: tuple[Any, ...]) -> int:
        """Heaviside(x, h0) = 1 for x > 0, 0 for x < 0, h0 at 0 (sympy's default 1/2)."""
        g = self.g
        x = self.arg(args[0], obj)
        h0 = self.arg(args[1], obj) if len(args) > 1 else g.const(0.5)
        zero = g.const(0.0)
        inner = g.apply("where", g.apply("lt", x, zero), zero, h0)
        return g.apply("where", g.apply("gt", x, zero), g.const(1.0), inner)


def branch(g: Graph, cond: Any, a: int, b: int) -> int:
    """The node of `a if cond else b` for a condition built by `_Builder`: And and Or become
    nested where (And(c1, c2): where(c1, where(c2, a, b), b)), Not swaps the branches.
    A loop over an explicit stack of tasks: a continuation ("then", c, None, b) builds
    where(c, <the result just made>, b); ("else", c, a, None) fills the other slot."""
    tasks: list[tuple[str, Any, Any, Any]] = [("build", cond, a, b)]
    results: list[int] = []
    while tasks:
        kind, c, x, y = tasks.pop()
        if kind == "then":
            x = results.pop()
        elif kind == "else":
            y = results.pop()
        if c is True:
            results.append(x)
        elif c is False:
            results.append(y)
        elif c[0] == "rel":
            results.append(g.apply("where", c[1], x, y))
        elif c[0] == "not":
            tasks.append(("build", c[1], y, x))
        elif len(c[1]) == 1:
            tasks.append(("build", c[1][0], x, y))
        elif c[0] == "and":                  # where(c1, And(rest) ? x : y, y)
            tasks.append(("then", c[1][0], None, y))
            tasks.append(("build", ("and", c[1][1:]), x, y))
        else:                                # or: where(c1, x, Or(rest) ? x : y)
            tasks.append(("else", c[1][0], x, None))
            tasks.append(("build", ("or", c[1][1:]), x, y))
    return results.pop()


def _negative_number(sp: Any, obj: Any) -> bool:
    return isinstance(obj, sp.Number) and obj.is_finite and obj < 0


def _what(sp: Any, obj: Any) -> str:
    if isinstance(obj, (sp.Function, sp.FunctionClass)):
        return "function"
    return "object"


def _short(sp: Any, obj: Any) -> str:
    """A short text of a sympy object for a message (never printing a huge tree)."""
    if isinstance(obj, (sp.Symbol, sp.Number)) or len(obj.args) <= 3 and all(
            isinstance(a, (sp.Symbol, sp.Number)) for a in obj.args):
        text = sp.sstr(obj)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(obj).__name__}"


# --- the text shown in the module docstring --------------------------------------------------

def _text(sp: Any, obj: Any, order: list[Any], items: list[Any],
          by_name: dict[str, Any]) -> str:
    """sympy's own text of the input when small enough to print safely, else a summary;
    then a line per renamed symbol."""
    depth: dict[int, int] = {}
    tree: dict[int, int] = {}
    for o in order:
        kids = o.args if o.args and not isinstance(o, (sp.Symbol, sp.Number)) else ()
        depth[id(o)] = 1 + max((depth[id(a)] for a in kids), default=0)
        tree[id(o)] = 1 + sum(tree[id(a)] for a in kids)
    deepest = max(depth[id(i)] for i in items)
    size = sum(tree[id(i)] for i in items)
    if deepest <= _TEXT_MAX_DEPTH and size <= _TEXT_MAX_TREE:
        shown = sp.sstr(obj if not isinstance(obj, tuple) else list(obj))
    else:
        shown = (f"a sympy {type(obj).__name__} of {len(order):,} distinct subexpressions, "
                 f"depth {deepest:,} (too large to print)")
    lines = [f"sympy: {shown}"]
    for name, s in by_name.items():
        if s.name != name:
            lines.append(f"input {name} = sympy {type(s).__name__}({s.name!r})")
    return "\n".join(lines)


__all__ = ["SUPPORTED", "SympyExpression", "branch", "expression", "is_sympy"]
