"""Integer expressions of loop variables: the indices, range bounds and filters of a rolled loop.

A rolled loop (`symback.loops`) keeps its loop variables symbolic, so `x[i + 1]`, `range(i + 1,
n)` and `if i < j` are integer expressions of them, not numbers. They are small trees of
tuples, built by `symback.arrays.int_value` (the same reader as unrolled indices) through
`combine` and `negate` whenever an operand is not a number; numbers fold as before:

- `("var", "i")`: a loop variable;
- `(op, a, b)` for `+ - * // % ** < <= > >= == != and or`, `("neg", a)`, `("not", a)`,
  where a and b are trees or ints.

`affine` reads a tree as `sum(coef * var) + const` when it is one (the fast paths: slices in
numpy, contiguous scatter-adds), and `text` prints a tree as Python source: affine trees in a
canonical form (`2 * i + 1`, so `x[1 + 2*i]` and `x[2*i + 1]` are the same read), others
with the parentheses their operators need. `text(..., vector=True)` spells the boolean
operators elementwise (`&`, `|`, `~`) for index arrays.
"""

from __future__ import annotations

from typing import Union

Index = Union[int, tuple]

# Python precedences of the integer operators (higher binds tighter).
_PREC = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
         "+": 5, "-": 5, "*": 6, "//": 6, "%": 6, "neg": 7, "**": 8}
_VECTOR = {"and": "&", "or": "|"}


def var(name: str) -> tuple:
    """The tree of loop variable `name`."""
    return ("var", name)


def combine(op: str, a: Index, b: Index) -> Index:
    """`a op b` where a or b is a tree (affine sums stay affine, so they print canonically)."""
    fa, fb = affine(a), affine(b)
    if op in ("+", "-") and fa is not None and fb is not None:
        sign = 1 if op == "+" else -1
        coefs = dict(fa[0])
        for v, c in fb[0].items():
            coefs[v] = coefs.get(v, 0) + sign * c
        return _from_affine(coefs, fa[1] + sign * fb[1])
    if op == "*" and fa is not None and fb is not None and (not fa[0] or not fb[0]):
        k, (coefs, const) = (fa[1], fb) if not fa[0] else (fb[1], fa)
        return _from_affine({v: k * c for v, c in coefs.items()}, k * const)
    return (op, a, b)


def negate(op: str, a: Index) -> Index:
    """Unary `-a`, `+a` or `not a` of a tree."""
    if op == "+":
        return a
    if op == "-":
        return combine("*", -1, a)
    return ("not", a)


def affine(e: Index) -> tuple[dict[str, int], int] | None:
    """({var: coef}, const) if `e` is an affine expression of loop variables, else None."""
    if isinstance(e, int):
        return {}, e
    if e[0] == "var":
        return {e[1]: 1}, 0
    if e[0] == "aff":
        return dict(e[1]), e[2]
    return None


def _from_affine(coefs: dict[str, int], const: int) -> Index:
    coefs = {v: c for v, c in coefs.items() if c}
    if not coefs:
        return const
    if const == 0 and len(coefs) == 1 and next(iter(coefs.values())) == 1:
        return ("var", next(iter(coefs)))
    return ("aff", tuple(sorted(coefs.items())), const)


def variables(e: Index) -> set[str]:
    """The loop variables `e` reads."""
    found: set[str] = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if isinstance(x, int):
            continue
        if x[0] == "var":
            found.add(x[1])
        elif x[0] == "aff":
            found.update(v for v, _ in x[1])
        else:
            todo.extend(x[1:])
    return found


def text(e: Index, vector: bool = False, names: dict[str, str] | None = None) -> str:
    """Python source of `e` (`vector`: elementwise boolean operators, for index arrays);
    `names` renames loop variables."""
    return _text(e, vector, names or {})[0]


def _text(e: Index, vector: bool, names: dict[str, str]) -> tuple[str, int]:
    if isinstance(e, int):
        return (str(e), 9) if e >= 0 else (str(e), 7)
    op = e[0]
    if op == "var":
        return names.get(e[1], e[1]), 9
    if op == "aff":
        parts = []
        for v, c in e[1]:
            name = names.get(v, v)
            term = name if abs(c) == 1 else f"{abs(c)} * {name}"
            parts.append((c < 0, term))
        if e[2]:
            parts.append((e[2] < 0, str(abs(e[2]))))
        neg, first = parts[0]
        out = ("-" + first) if neg else first
        for neg, term in parts[1:]:
            out += f" - {term}" if neg else f" + {term}"
        prec = 5 if len(parts) > 1 else (6 if " * " in out else 9)
        return out, (7 if neg and len(parts) == 1 else prec)
    if op in ("neg", "not"):
        inner, p = _text(e[1], vector, names)
        mine = _PREC[op]
        inner = inner if p > mine or (p == mine) else f"({inner})"
        if op == "neg":
            return f"-{inner}", mine
        return (f"~({inner})", 9) if vector else (f"not {inner}", mine)
    mine = _PREC[op]
    a, pa = _text(e[1], vector, names)
    b, pb = _text(e[2], vector, names)
    if vector and op in _VECTOR:
        return f"({a}) {_VECTOR[op]} ({b})", 1
    right = op == "**"
    if pa < mine or (pa == mine and right):
        a = f"({a})"
    if pb < mine or (pb == mine and not right) or (op == "**" and pb == 7):
        b = f"({b})"
    return f"{a} {op} {b}", mine


def evaluate(e: Index, env: dict[str, int]) -> int:
    """The value of `e` with loop variables from `env` (Python's integer semantics)."""
    if isinstance(e, int):
        return e
    op = e[0]
    if op == "var":
        return env[e[1]]
    if op == "aff":
        return sum(c * env[v] for v, c in e[1]) + e[2]
    if op == "neg":
        return -evaluate(e[1], env)
    if op == "not":
        return int(not evaluate(e[1], env))
    a, b = evaluate(e[1], env), evaluate(e[2], env)
    return _BINARY[op](a, b)


_BINARY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
           "//": lambda a, b: a // b, "%": lambda a, b: a % b, "**": lambda a, b: a ** b,
           "<": lambda a, b: int(a < b), "<=": lambda a, b: int(a <= b),
           ">": lambda a, b: int(a > b), ">=": lambda a, b: int(a >= b),
           "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
           "and": lambda a, b: int(bool(a) and bool(b)), "or": lambda a, b: int(bool(a) or bool(b))}


__all__ = ["Index", "affine", "combine", "evaluate", "negate", "text", "var", "variables"]
