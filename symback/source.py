"""Source files and their directives: the one reader of `.expr` text around the expression.

An `.expr` file is an expression text that may carry directive comment lines:

    # vars: x y z          the input order (names separated by spaces or commas)
    # point: 1, 3, 3       a sample point, one number per input (spaces or commas)
    # name: seed           the module's name
    # description: ...     free text (benchmarks)
    # size: ...            free text (benchmarks)

The first line of each kind counts. This module also checks input names (`input_names`) and
reads `NAME=VALUE` lists (`assignments`), so the library, the command line, the tests and the
benchmarks read the same things the same way.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from .arrays import declared_shapes, element_indices, element_name
from .errors import ArgumentError, ParseError
from .parse import name_problem, quote

DIRECTIVES = ("vars", "point", "name", "description", "size")
_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(" + "|".join(DIRECTIVES) + r")[ \t]*:(.*)$", re.M)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SEPARATORS = re.compile(r"[,\s]+")
_MODULE_NAME = re.compile(r"[^A-Za-z0-9_]")


def directives(text: str) -> dict[str, str]:
    """The directive lines of a text: key -> its value, stripped (the first line of each
    key counts)."""
    found: dict[str, str] = {}
    for m in _DIRECTIVE.finditer(text):
        found.setdefault(m.group(1), m.group(2).strip())
    return found


def is_directive(line: str) -> bool:
    """True if `line` is a directive comment (`# vars: x y`)."""
    return _DIRECTIVE.match(line) is not None


# An item of a list: text up to a space or comma, where a bracketed part ("x=[1, 2, 3]") may
# hold spaces and commas of its own.
_ITEM = re.compile(r"(?:\[[^\]]*\]?|[^\s,\[])+")


def split_list(text: str) -> list[str]:
    """The items of a list written with spaces and/or commas: "x, y z" -> ["x", "y", "z"];
    a bracketed value stays one item: "x=[1, 2] y=3" -> ["x=[1, 2]", "y=3"]."""
    return _ITEM.findall(text)


def directive_error(text: str, key: str, message: str) -> ParseError:
    """A `ParseError` pointing at the value of the first `# key:` line of `text` (or 1:1)."""
    for m in _DIRECTIVE.finditer(text):
        if m.group(1) == key:
            start = text.rfind("\n", 0, m.start()) + 1
            line = text.count("\n", 0, m.start()) + 1
            return ParseError(message, line, m.start(2) - start + 1,
                              m.group(0).rstrip("\r"), 1)
    first = text.split("\n", 1)[0]
    return ParseError(message, 1, 1, first.rstrip("\r"), 1)


# --- names -----------------------------------------------------------------------------------

def input_names(names: Sequence[str] | str, what: str) -> list[str]:
    """Check a list of input names (or one string of names separated by commas or spaces).

    Raises:
        ArgumentError: a name that is not an identifier, a keyword, starts with '__' or is
            listed twice; the message starts with `what` ("wrt", "# vars").
    """
    if isinstance(names, str):
        names = split_list(names)
    elif not hasattr(names, "__iter__"):
        raise ArgumentError(f"{what} must be a list of names or one string such as 'x, y', "
                            f"not {type(names).__name__}")
    result: list[str] = []
    seen: set[str] = set()                  # `n in result` made 1,000 names cost 0.5M compares
    for n in names:
        if not isinstance(n, str) or not _IDENTIFIER.match(n) or n.startswith("__"):
            shown = quote(n) if isinstance(n, str) else repr(n)
            raise ArgumentError(f"{what}: {shown} is not a valid input name "
                                "(ASCII letters, digits and '_', not starting with '__')")
        problem = name_problem(n, hints=False)
        if problem is not None:
            raise ArgumentError(f"{what}: {problem}")
        if n in seen:
            raise ArgumentError(f"{what}: {n!r} is listed twice")
        seen.add(n)
        result.append(n)
    return result


def declared_inputs(text: object) -> list[str] | None:
    """The names of the text's `# vars:` line, or None (no line, or not a text).

    Raises:
        ParseError: a bad name, located on the `# vars:` line.
    """
    if not isinstance(text, str):
        return None
    line = directives(text).get("vars")
    if line is None:
        return None
    try:
        return vars_line(line)[0]
    except ArgumentError as exc:               # a fault in the text: show where it is
        raise directive_error(text, "vars", exc.message) from None


def vars_line(line: str) -> tuple[list[str], dict[str, tuple[int, ...]]]:
    """A `# vars:` line (`x[1000] W[4,3] t`) -> (names, array name -> shape).

    Raises:
        ArgumentError: a bad name or shape.
    """
    items = declared_shapes(line, "# vars")
    names = input_names([n for n, _ in items], "# vars")
    return names, {n: shape for n, shape in items if shape}


def declared_array_shapes(text: object) -> dict[str, tuple[int, ...]]:
    """The arrays of the text's `# vars:` line (`x[1000]`) -> shape; {} if none."""
    if not isinstance(text, str) or "vars" not in directives(text):
        return {}
    try:
        return vars_line(directives(text)["vars"])[1]
    except ArgumentError as exc:
        raise directive_error(text, "vars", exc.message) from None


def module_name(name: str | None) -> str:
    """A module name made of ASCII letters, digits and '_' (others become '_'); "expr" for
    None.

    Raises:
        ArgumentError: `name` is not a non-empty string.
    """
    if name is None:
        return "expr"
    if not isinstance(name, str) or not name:
        raise ArgumentError("name must be a non-empty string")
    return _MODULE_NAME.sub("_", name)[:100]


# --- points ----------------------------------------------------------------------------------

def numbers(text: str, what: str) -> list[float]:
    """The numbers of a list written with spaces and/or commas ("1, 3 3").

    Raises:
        ArgumentError: an item is not a number.
    """
    values = []
    for item in split_list(text):
        try:
            values.append(float(item))
        except ValueError:
            raise ArgumentError(f"{what} must hold numbers, not {quote(item)}") from None
    return values


def point_directive(text: str, inputs: Sequence[str]) -> dict[str, float] | None:
    """The text's `# point:` line as input name -> value (inputs in order), or None.

    Raises:
        ArgumentError: the line holds something other than numbers, or too few or too many.
    """
    line = directives(text).get("point")
    if line is None:
        return None
    values = numbers(line, "the '# point:' line")
    if len(values) != len(inputs):
        raise ArgumentError(f"'# point:' has {len(values)} numbers for {len(inputs)} inputs "
                            f"({', '.join(inputs)})")
    return dict(zip(inputs, values))


def is_names(text: str) -> bool:
    """True if `text` is a list of identifiers (spaces or commas between them)."""
    items = split_list(text)
    return bool(items) and all(_IDENTIFIER.match(item) is not None for item in items)


def is_assignments(text: str) -> bool:
    """True if `text` is a list of `NAME=VALUE` items (spaces or commas between items)."""
    items = split_list(text)
    return bool(items) and all(_split_assignment(item) is not None for item in items)


def assignments(items: str | Sequence[str]) -> dict[str, str]:
    """`NAME=VALUE` items -> {NAME: VALUE} (values as written).

    Args:
        items: one string ("x=1 y=2", "x=1,y=2") or several (["x=1", "y=2,z=3"]).

    Raises:
        ArgumentError: an item is not NAME=VALUE, or a name is given twice.
    """
    if isinstance(items, str):
        items = [items]
    found: dict[str, str] = {}
    for item in (x for text in items for x in split_list(text)):
        pair = _split_assignment(item)
        if pair is None:
            raise ArgumentError(f"expected NAME=VALUE, got {quote(item)}")
        if pair[0] in found:
            raise ArgumentError(f"{pair[0]!r} is given twice")
        found[pair[0]] = pair[1]
    return found


def _split_assignment(item: str) -> tuple[str, str] | None:
    name, eq, value = item.partition("=")
    if not eq or not _IDENTIFIER.match(name) or not value or "=" in value:
        return None
    return name, value


def resolve_point(inputs: Sequence[str],
                  at: Mapping[str, object] | Sequence[object] | str,
                  shapes: Mapping[str, tuple[int, ...]] | None = None) -> dict[str, float]:
    """Check a point against the inputs: every input once, numbers only.

    Args:
        inputs: the input names, in order (the elements `x_0, x_1, ...` of an array input).
        at: a mapping name -> number, numbers in input order, or a string of `NAME=VALUE`
            items ("x=1 y=2", "x=1,y=2"). An array input takes all its elements at once, in
            row-major order: a sequence (or nested sequences, or an ndarray) in a mapping,
            `x=[1, 2, 3]` in a string.
        shapes: array input -> shape.

    Returns:
        name -> value, in input order.

    Raises:
        ArgumentError: an unknown input, a missing one, or a value that is not a number.
    """
    inputs = list(inputs)
    if isinstance(at, str):
        at = assignments(at)
    elif not isinstance(at, Mapping):
        values = list(at)
        if len(values) != len(inputs):
            raise ArgumentError(f"the point has {len(values)} values for {len(inputs)} inputs "
                                f"({', '.join(inputs) or 'none'})")
        at = dict(zip(inputs, values))
    if shapes:
        at = _array_values(at, shapes)
    point: dict[str, float] = {}
    for name, value in at.items():
        if name not in inputs:
            known = ", ".join(inputs) or "none"
            raise ArgumentError(f"{name!r} is not an input of the expression (inputs: {known})")
        try:
            if isinstance(value, bool):
                raise TypeError
            point[name] = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ArgumentError(f"the value of {name!r} is not a number: {value!r}") from None
    missing = [n for n in inputs if n not in point]
    if missing:
        raise ArgumentError(f"no value for {', '.join(repr(n) for n in missing)} "
                            f"(give {' '.join(n + '=VALUE' for n in missing)})")
    return {n: point[n] for n in inputs}


def _array_values(at: Mapping[str, object],
                  shapes: Mapping[str, tuple[int, ...]]) -> dict[str, object]:
    """`at` with each array's value spread over its elements (x=[1, 2] -> x_0=1, x_1=2)."""
    spread: dict[str, object] = {}
    for name, value in at.items():
        if name not in shapes:
            spread[name] = value
            continue
        if isinstance(value, str):
            value = numbers(value.strip().removeprefix("[").removesuffix("]"),
                            f"the value of {name!r}")
        flat = list(value.flat) if hasattr(value, "flat") else _flatten(value, name)
        indices = element_indices(tuple(shapes[name]))
        if len(flat) != len(indices):
            shape = "x".join(str(n) for n in shapes[name])
            raise ArgumentError(f"{name!r} is an array of shape {shape}: give {len(indices)} "
                                f"values, not {len(flat)}")
        spread.update((element_name(name, i), v) for i, v in zip(indices, flat))
    return spread


def _flatten(value: object, name: str) -> list[object]:
    """The numbers of nested sequences, row-major, without recursion."""
    if not isinstance(value, (list, tuple)):
        raise ArgumentError(f"{name!r} is an array: give its values as a list, not {value!r}")
    flat: list[object] = []
    stack = [iter(value)]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, (list, tuple)):
            stack.append(iter(item))
        else:
            flat.append(item)
    return flat


_END = object()


# --- files -----------------------------------------------------------------------------------

@dataclass
class ExprFile:
    """An .expr file: its text and the `# vars:`, `# point:`, `# name:` lines."""

    path: Path
    text: str
    vars: list[str] | None
    point: list[float] | None
    name: str
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # arrays of # vars:


def read_expr_file(path: str | os.PathLike[str]) -> ExprFile:
    """Read an .expr file (UTF-8 text; `# vars:`, `# point:` and `# name:` are optional).

    Raises:
        ArgumentError: the file cannot be read, is not UTF-8, or has a bad `# vars:` or
            `# point:` line (not names / not numbers, or not one number per name).
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
    names, shapes = vars_line(found["vars"]) if "vars" in found else (None, {})
    size = None if names is None else sum(_size(shapes.get(n, ())) for n in names)
    point = None
    if "point" in found:
        try:
            point = numbers(found["point"], "the '# point:' line")
        except ArgumentError as exc:
            raise ArgumentError(f"{str(p)!r}: {exc.message}") from None
        if names is not None and len(point) != size:
            raise ArgumentError(f"{str(p)!r}: '# point:' has {len(point)} numbers for "
                                f"{size} '# vars:'" + (" elements" if shapes else ""))
    return ExprFile(p, text, names, point, module_name(found.get("name") or p.stem), shapes)


def _size(shape: tuple[int, ...]) -> int:
    n = 1
    for k in shape:
        n *= k
    return n


__all__ = ["DIRECTIVES", "ExprFile", "assignments", "declared_array_shapes", "declared_inputs",
           "directive_error",
           "directives", "input_names", "is_assignments", "is_directive", "is_names",
           "module_name", "numbers", "point_directive", "read_expr_file", "resolve_point",
           "split_list", "vars_line"]
