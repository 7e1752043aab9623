"""The package's import graph is acyclic, counting imports inside functions too.

Data flows one way (DESIGN.md): a module never imports, even lazily, a module that imports
it. The graph is read from the source with `ast`, so a lazy `from .report import x` inside a
function counts like a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "symback"

# Edges allowed to close a cycle for now (none: keep it that way).
_KNOWN: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    return "symback" if path.name == "__init__.py" else f"symback.{path.stem}"


def _imports(path: Path) -> set[str]:
    """The symback modules `path` imports anywhere in its body (`symback` itself for the
    package's `__init__`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "symback")
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
                if base.split(".")[0] != "symback":
                    continue
            else:
                parent = "symback" if node.level == 1 else ""
                base = f"{parent}.{node.module}" if node.module else parent
            if base == "symback":                 # from . import api, render
                found.update(f"symback.{a.name}" for a in node.names
                             if (PACKAGE / f"{a.name}.py").exists())
                if any(not (PACKAGE / f"{a.name}.py").exists() for a in node.names):
                    found.add("symback")
            else:
                found.add(base)
    if not is_package:
        found.discard(_module_name(path))
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _imports(p) for p in sorted(PACKAGE.glob("*.py"))}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph (as a path that returns to its start), or None."""
    state: dict[str, int] = {}                    # 1: on the stack, 2: done
    for root in sorted(graph):
        if root in state:
            continue
        stack = [(root, iter(sorted(graph[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, todo = stack[-1]
            nxt = next(todo, None)
            if nxt is None:
                stack.pop()
                path.pop()
                state[node] = 2
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif nxt not in state and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(sorted(graph[nxt]))))
    return None


def test_the_reader_sees_lazy_and_relative_imports():
    graph = _graph()
    assert "symback.api" in graph["symback"]                   # the package's own imports
    assert "symback.trace" in graph["symback.report"]
    assert "symback.torch_check" in graph["symback.explain"]   # a function-level import
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_import_graph_is_acyclic():
    graph = _graph()
    for module, imported in _KNOWN:
        graph[module].discard(imported)
    cycle = _cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_known_edges_still_exist():
    graph = _graph()
    stale = [edge for edge in _KNOWN if edge[1] not in graph.get(edge[0], set())]
    assert not stale, f"{stale} no longer exist: remove them from _KNOWN"


def test_the_trace_model_imports_no_builder_or_formatter():
    graph = _graph()
    assert graph["symback.trace"] <= {"symback.graph"}
    assert graph["symback.report"] <= {"symback.trace"}
    assert graph["symback.torch_check"] <= {"symback.trace", "symback.ops", "symback.errors"}
