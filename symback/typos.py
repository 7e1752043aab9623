"""Free names that look like typos: `loss = (x-y)**2; los * 2` makes `los` an input.

Any name that is not bound becomes an input, so a misspelt bound name compiles silently into
a function whose gradient with respect to x and y is 0. `near_misses` finds the free names
that are a small edit away from a bound name or a function name; the caller warns.

What counts as near (tuned so that ordinary names stay quiet: x, y, a, b, tau, sig, x1/x2):
- the shorter name has at least 3 characters for one edit, at least 5 for two (an edit is an
  insertion, deletion, substitution or swap of neighbours);
- against a function, at least 4 characters (`tau` is not `tan`), or the name is a function
  name glued to another name of the expression (`sinx`: did you mean `sin(x)`?);
- names that differ only in their digits (`w1`, `w2`; `h_10`, `h_11`) are distinct on purpose.
The work is bounded: past `_BUDGET` comparisons (machine-written expressions with thousands
of names) the rest is not checked.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

_BUDGET = 20_000           # comparisons: about 0.1 s at the most
_LONGEST = 40               # longer names are not compared
_DIGITS = re.compile(r"[0-9]+")


def distance(a: str, b: str, limit: int) -> int:
    """Edit distance of a and b (optimal string alignment: insert, delete, substitute, swap
    neighbours), or `limit + 1` when it is larger than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        prev2, prev = prev, row
    return min(prev[-1], limit + 1)


def _allowed_edits(a: str, b: str, least: int) -> int:
    shorter = min(len(a), len(b))
    if shorter < least:
        return 0
    return 2 if shorter >= 5 else 1


def _glued(name: str, functions: Iterable[str], names: set[str]) -> str | None:
    """`sinx` -> 'sin(x)' when `sin` is a function and `x` a name of the expression."""
    for f in functions:
        rest = name[len(f):]
        if name.startswith(f) and rest in names:
            return f"{f}({rest})"
    return None


def near_misses(free: Sequence[str], bound: Sequence[str],
                functions: Sequence[str]) -> list[tuple[str, str]]:
    """(free name, what it probably meant) for each free name that looks like a typo of a
    bound name (`'loss'`) or a function (`'sigmoid'`, `'sin(x)'`), in the order of `free`."""
    found: list[tuple[str, str]] = []
    names = set(free) | set(bound)
    others = [(other, least, _DIGITS.sub("0", other))
              for group, least in ((bound, 3), (functions, 4)) for other in group]
    budget = _BUDGET
    for name in free:
        budget -= len(functions)
        if budget < 0:
            return found
        if len(name) > _LONGEST:
            continue
        glued = _glued(name, functions, names)
        if glued is not None:
            found.append((name, glued))
            continue
        skeleton = _DIGITS.sub("0", name)
        for other, least, other_skeleton in others:
            budget -= 1
            if budget < 0:
                return found
            edits = _allowed_edits(name, other, least)
            if edits and other_skeleton != skeleton and distance(name, other, edits) <= edits:
                found.append((name, other))
                break
    return found
