"""sympy out: `symback.to_sympy(...)`, the value and gradient of an expression as sympy
expressions with the shared nodes named, `sympy.cse` style (see `symback.sympy_graph`).

This module resolves what it is given -- a `Compiled`, a parsed `Expression`, expression
text (with its `# vars:` line) or a sympy object -- and which inputs to differentiate, then
hands the expression to `sympy_graph.gradient_to_sympy`.
"""

from __future__ import annotations

from typing import Any, Sequence

from .errors import ArgumentError
from .parse import Expression
from .sympy_graph import SympyGradient, gradient_to_sympy, inline


def to_sympy(obj: Any, wrt: Sequence[Any] | str | None = None, *,
             max_depth: int | None = None) -> SympyGradient:
    """The value and gradient of an expression as sympy expressions with shared parts named.

    Args:
        obj: a `symback.Compiled`, a parsed `Expression`, an expression text (statements,
            `# vars:` lines as for `compile`), or a sympy object (as `compile` accepts).
        wrt: the inputs to differentiate, in order (names, or Symbols for sympy input).
            Default: the compiled module's `wrt`, else every input.
        max_depth: also name every node whose inlined formula would be deeper than this
            many graph nodes, so that sympy (whose printers recurse) can print each formula;
            None (default): name only shared and named nodes.

    Returns:
        A `SympyGradient(replacements, value, gradient)`: `replacements` are `(Symbol, Expr)`
        pairs in dependency order; `value` an Expr (a list for several outputs);
        `gradient` a list in `wrt` order (a list of rows for several outputs).

    Raises:
        ParseError, LimitError, ArgumentError: as `symback.compile`.
    """
    expression, names = resolve(obj, wrt)
    return gradient_to_sympy(expression, names, max_depth)


def resolve(obj: Any, wrt: Sequence[Any] | str | None) -> tuple[Expression, list[str]]:
    """(expression, the input names to differentiate) for anything `to_sympy` takes."""
    from . import sympy_in
    from .explain import prepare

    compiled = getattr(obj, "expression", None)      # a Compiled (not imported: api uses us)
    if isinstance(compiled, Expression) and hasattr(obj, "wrt"):
        if wrt is None:
            return compiled, list(obj.wrt)
        return prepare(compiled, _names(compiled, wrt))
    if isinstance(obj, Expression):
        return prepare(obj, None if wrt is None else _names(obj, wrt))
    if sympy_in.is_sympy(obj):
        ex = sympy_in.expression(obj, wrt)
        return ex, list(ex.wrt)
    if isinstance(obj, str):
        return prepare(obj, wrt)
    raise ArgumentError(f"to_sympy takes a Compiled, an Expression, a text or a sympy "
                        f"expression, not {type(obj).__name__}")


def _names(expression: Expression, wrt: Sequence[Any] | str) -> Sequence[str] | str:
    """wrt as input names (a sympy expression's Symbols map to their safe names)."""
    if isinstance(wrt, str):
        return wrt
    symbols = getattr(expression, "symbols", {})
    names = []
    for w in wrt:
        if not isinstance(w, str):
            found = [n for n, s in symbols.items() if s == w]
            w = found[0] if found else getattr(w, "name", w)
        names.append(w)
    return names


__all__ = ["SympyGradient", "inline", "resolve", "to_sympy"]
