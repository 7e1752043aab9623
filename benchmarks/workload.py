"""Loading of the ``*.expr`` workload files.

A workload file starts with ``# key: value`` header lines (vars, point, name,
description, size) followed by the expression text in Python syntax, which may
span several lines and contain ``#`` comments. The header lines are read by
``symback.source``, the same reader symback's library and command line use.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from symback.source import directives, is_directive, numbers, split_list

WORKLOAD_DIR = Path(__file__).resolve().parent / "workloads"

@dataclass(frozen=True)
class Workload:
    name: str
    vars: tuple[str, ...]
    point: tuple[float, ...]
    text: str  # expression text (everything after the header), comments kept
    description: str = ""
    size: str = ""
    path: str = ""
    digest: str = ""

    @property
    def n_inputs(self) -> int:
        return len(self.vars)

    @property
    def text_oneline(self) -> str:
        """The expression with ``#`` comments removed and lines joined by spaces."""
        lines = [line.split("#", 1)[0] for line in self.text.splitlines()]
        return " ".join(line.strip() for line in lines if line.strip())

    def python_function_source(self, fname: str = "f") -> str:
        """``def f(x, y, ...): return (<text>)`` -- parsed by CPython's parser."""
        args = ", ".join(self.vars)
        return f"def {fname}({args}):\n    return (\n{self.text}\n    )\n"


def load(path: str | Path) -> Workload:
    path = Path(path)
    raw = path.read_text()
    header = directives(raw)
    body: list[str] = []
    in_header = True
    for line in raw.splitlines():
        if in_header and (is_directive(line) or not line.strip()):
            continue
        in_header = False
        body.append(line)
    if "vars" not in header or "point" not in header:
        raise ValueError(f"{path}: missing '# vars:' or '# point:' header")
    names = tuple(split_list(header["vars"]))
    point = tuple(numbers(header["point"], f"{path}: '# point:'"))
    if len(names) != len(point):
        raise ValueError(f"{path}: {len(names)} vars but {len(point)} point values")
    return Workload(
        name=header.get("name", path.stem),
        vars=names,
        point=point,
        text="\n".join(body).strip("\n"),
        description=header.get("description", ""),
        size=header.get("size", ""),
        path=str(path),
        digest=hashlib.sha256(raw.encode()).hexdigest()[:16],
    )


def all_workloads(directory: str | Path = WORKLOAD_DIR) -> list[Workload]:
    """All workloads, ordered by family then numeric size (seed first).

    Workloads with array inputs (`# vars: x[1000]`, symback's array language) are left out:
    the peers read one scalar per name. tests/test_workloads.py checks them against sympy.
    """
    wls = [load(p) for p in Path(directory).glob("*.expr") if not _has_arrays(p)]
    return sorted(wls, key=sort_key)


def _has_arrays(path: Path) -> bool:
    return "[" in directives(path.read_text()).get("vars", "")


def sort_key(wl: Workload):
    m = re.match(r"^(.*?)(?:_(\d+))?$", wl.name)
    family, num = m.group(1), int(m.group(2) or 0)
    return (0 if wl.name == "seed" else 1, family, num, wl.name)


def by_name(names, directory: str | Path = WORKLOAD_DIR) -> list[Workload]:
    index = {wl.name: wl for wl in all_workloads(directory)}
    missing = [n for n in names if n not in index]
    if missing:
        raise SystemExit(f"unknown workload(s): {', '.join(missing)}; known: {', '.join(index)}")
    return [index[n] for n in names]
