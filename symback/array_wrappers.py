"""Array signatures: one parameter per array input in the generated module.

The scalar program is printed as always, under private names (`_forward_elements(x_0, x_1,
..., t)`); for each public function this module prints a short wrapper that takes the arrays
(`forward(x, t)`), passes their elements on, and gives each array input's gradient the
input's shape:

- python: any sequence of the declared length (nested for 2-D); gradients are tuples (nested);
- numpy: arrays of shape S + shape (batch axes first), element `x[..., i]`; gradients arrays
  of shape S + shape;
- numba: float64 arrays, read element by element inside the compiled wrapper (one argument
  to unbox, not 1,000); `<name>_batch` takes S + shape like numpy.

Jacobian and Hessian columns (and rows) stay the `wrt` elements, flattened in order.
Scalar-only programs get no wrappers: their modules are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from .arrays import element_indices

# What each function returns, as far as the wrapper regroups it: "value" (as is), "grad"
# (a flat tuple in WRT order, regrouped), "value_grad" (value, grad).
RESULTS = {"forward": "value", "gradient": "grad", "value_and_grad": "value_grad",
           "jacobian": "value", "value_and_jacobian": "value", "hessian": "value",
           "hvp": "grad", "jacobian_values": "value", "hessian_values": "value"}

_PY_HELPERS = '''def _elements(value, shape):
    """The elements of an array input, row-major, checked against its declared shape."""
    items = [value]
    for n in shape:
        if any(len(v) != n for v in items):
            raise ValueError(f"expected an array of shape {shape}")
        items = [e for v in items for e in v]
    return items


def _shaped(flat, shape):
    """A flat tuple as nested tuples of `shape` (row-major)."""
    for n in reversed(shape[1:]):
        flat = tuple(flat[k:k + n] for k in range(0, len(flat), n))
    return tuple(flat)'''

_NP_HELPERS = '''def _elements(value, shape):
    """The elements of an array input of shape S + shape, row-major: each of shape S."""
    a = numpy.asarray(value, dtype=numpy.float64)
    batch = a.shape[:a.ndim - len(shape)]
    if a.shape[a.ndim - len(shape):] != shape:
        raise ValueError(f"expected an array of shape S + {shape}, not {a.shape}")
    return numpy.moveaxis(a.reshape(batch + (-1,)), -1, 0)


def _stacked(items, shape):
    """Per-element results (each of shape S) as one array of shape S + shape."""
    return numpy.stack(items, axis=-1).reshape(numpy.shape(items[0]) + shape)'''


@dataclass
class Group:
    """An input as the user sees it: its name, shape (() for a scalar) and the printed
    names of its element parameters."""

    name: str
    shape: tuple[int, ...]
    size: int


def inner_name(name: str) -> str:
    """The private name of the element-wise function behind the wrapper `name`."""
    return f"_{name}_elements"


def _call_args(groups: list[Group], style: str) -> str:
    parts = []
    for g in groups:
        if not g.shape:
            parts.append(g.name)
        elif style == "indexed":
            parts += [f"{g.name}[{', '.join(map(str, i))}]" for i in element_indices(g.shape)]
        else:
            parts.append(f"*_elements({g.name}, {g.shape!r})")
    return ", ".join(parts)


def _regroup(var: str, groups: list[Group], style: str) -> str:
    """The text of the flat tuple `var` regrouped by the wrt groups."""
    items, start = [], 0
    for g in groups:
        if not g.shape:
            items.append(f"{var}[{start}]")
        else:
            part = f"{var}[{start}:{start + g.size}]"
            if style == "sequence":
                items.append(part if len(g.shape) == 1 else f"_shaped({part}, {g.shape!r})")
            elif style == "indexed":
                arr = f"numpy.array({part})"
                items.append(arr if len(g.shape) == 1 else f"{arr}.reshape({g.shape!r})")
            else:
                items.append(f"_stacked({part}, {g.shape!r})")
        start += g.size
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def wrappers(style: str, decorator: str, names: list[str], inputs: list[Group],
             wrt: list[Group], kernels: list[str]) -> tuple[str, str]:
    """(helpers, wrappers): the source of the helper functions and of the public wrappers
    of the functions `names` (and of `<name>_batch` for `kernels`, on numba).

    `style` is the printer's `array_style`: how an array argument reaches the element-wise
    function and how gradients are regrouped: "sequence" (python: any sequence, tuples
    back), "indexed" (numba: element reads inside the compiled wrapper, arrays back) or
    "stacked" (numpy, and every `_batch`: arrays S + shape). `decorator` is printed above
    each wrapper that is not a `_batch` (numba's njit)."""
    blocks = []
    shapes = ", ".join(f"{g.name} {g.shape}" for g in inputs if g.shape)
    for name in names:
        for batch in ([False, True] if name in kernels else [False]):
            params = list(inputs)
            if name == "hvp":
                params += [Group(f"v_{g.name}", g.shape, g.size) for g in wrt]
            public = f"{name}_batch" if batch else name
            inner = inner_name(name) + ("_batch" if batch else "")
            mode = "stacked" if batch else style
            call = f"{inner}({_call_args(params, mode)})"
            kind = RESULTS[name]
            doc = (f'"""{name}() with array inputs ({shapes}); gradients have their '
                   f'input\'s shape, Jacobian and Hessian columns are the WRT elements."""')
            lines = []
            if decorator and not batch:
                lines.append(decorator)
            lines += [f"def {public}({', '.join(g.name for g in params)}):", f"    {doc}"]
            if mode == "indexed":
                for g in params:
                    if g.shape:
                        message = f"{g.name} must have shape {g.shape}"
                        lines += [f"    if {g.name}.shape != {g.shape!r}:",
                                  f"        raise ValueError({message!r})"]
            if kind == "value":
                lines.append(f"    return {call}")
            elif kind == "grad":
                lines += [f"    _grad = {call}",
                          f"    return {_regroup('_grad', wrt, mode)}"]
            else:
                lines += [f"    _value, _grad = {call}",
                          f"    return _value, {_regroup('_grad', wrt, mode)}"]
            blocks.append("\n".join(lines))
    helpers = _PY_HELPERS if style == "sequence" else _NP_HELPERS
    return helpers, "\n\n\n".join(blocks)


__all__ = ["Group", "inner_name", "wrappers"]
