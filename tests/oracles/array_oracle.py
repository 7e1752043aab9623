"""The oracle for array programs: the text read with Python's own meaning of indexing,
comprehensions, `range`, `len` and `sum`, over sympy symbols (x_0, W_1_2, ... as symback
names the elements), so the unrolled scalar formula comes from Python, not from symback.

Test texts only (trusted strings): each statement is evaluated by Python over sympy objects.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import sympy as sp

from . import sympy_oracle


class Arr:
    """A row-major array of sympy expressions, indexed as a[i] or a[i, j]."""

    def __init__(self, items: list[Any], shape: tuple[int, ...]) -> None:
        self.items, self.shape = items, shape

    @classmethod
    def of(cls, value: Any) -> Any:
        if isinstance(value, Arr) or not isinstance(value, list):
            return value
        rows = [cls.of(v) for v in value]
        if rows and isinstance(rows[0], Arr):
            return cls([e for r in rows for e in r.items], (len(rows),) + rows[0].shape)
        return cls(rows, (len(rows),))

    def __getitem__(self, index: Any) -> Any:
        index = index if isinstance(index, tuple) else (index,)
        assert len(index) == len(self.shape) and all(0 <= i < n for i, n in
                                                     zip(index, self.shape))
        flat = 0
        for i, n in zip(index, self.shape):
            flat = flat * n + i
        return self.items[flat]

    def __iter__(self):
        return iter(self.items)


def symbols(shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """name -> Arr of real symbols (or one symbol for shape ())."""
    found: dict[str, Any] = {}
    for name, shape in shapes.items():
        if not shape:
            found[name] = sp.Symbol(name, real=True)
            continue
        idx = list(itertools.product(*(range(n) for n in shape)))
        found[name] = Arr([sp.Symbol(name + "".join(f"_{i}" for i in k), real=True)
                           for k in idx], shape)
    return found


def to_sympy(text: str, shapes: dict[str, tuple[int, ...]]) -> list[Any]:
    """The outputs of an array program, flattened, as sympy expressions."""
    ns: dict[str, Any] = dict(sympy_oracle.FUNCTIONS)
    ns.update({
        "__builtins__": {}, "range": range, "sum": lambda g: sum(g, sp.Integer(0)),
        "prod": lambda g: math.prod(g, start=sp.Integer(1)),
        "min": lambda *a: sp.Min(*(a[0] if len(a) == 1 else a)),
        "max": lambda *a: sp.Max(*(a[0] if len(a) == 1 else a)),
        "dot": lambda a, b: sum((p * q for p, q in zip(Arr.of(a), Arr.of(b))), sp.Integer(0)),
        "len": lambda a, axis=0: Arr.of(a).shape[axis],
    })
    ns.update(symbols(shapes))
    result: Any = None
    for line in text.splitlines():
        code = line.split("#", 1)[0]
        for stmt in (s for s in code.split(";") if s.strip()):
            name, eq, body = stmt.partition("=")
            if eq and name.strip().isidentifier() and not body.startswith("="):
                ns[name.strip()] = result = Arr.of(eval(body, ns))  # noqa: S307 test text
            else:
                result = Arr.of(eval(stmt, ns))  # noqa: S307 (trusted test strings)
    items = result if isinstance(result, tuple) else (result,)
    flat: list[Any] = []
    for item in items:
        flat += item.items if isinstance(item, Arr) else [sp.sympify(item)]
    return flat


def element_names(compiled: Any, names: Any = None) -> list[str]:
    """The element variables of a compiled program's inputs (or of `names`), in order:
    x_0, x_1, ... for an array x, the name itself for a scalar."""
    found: list[str] = []
    for name in compiled.inputs if names is None else names:
        shape = compiled.shapes[name]
        if not shape:
            found.append(name)
        else:
            found += [name + "".join(f"_{i}" for i in k)
                      for k in itertools.product(*(range(n) for n in shape))]
    return found


def args_of(compiled: Any, flat: list[float]) -> list[Any]:
    """Flat values (one per element, in input order) as the arguments of the compiled
    functions: nested lists for arrays, floats for scalars."""
    args, start = [], 0
    for name in compiled.inputs:
        shape = compiled.shapes[name]
        size = math.prod(shape)
        chunk = list(flat[start:start + size])
        start += size
        if not shape:
            args.append(chunk[0])
            continue
        for n in reversed(shape[1:]):
            chunk = [chunk[k:k + n] for k in range(0, len(chunk), n)]
        args.append(chunk)
    return args


def flatten(grad: Any) -> list[float]:
    """A gradient grouped by input (nested tuples or arrays) as one flat list."""
    flat: list[float] = []
    stack = [grad]
    while stack:
        item = stack.pop()
        if isinstance(item, (tuple, list)) or hasattr(item, "ndim") and item.ndim:
            stack.extend(reversed(list(item)))
        else:
            flat.append(float(item))
    return flat
