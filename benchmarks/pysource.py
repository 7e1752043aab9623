"""Helpers for peers that go through CPython's own parser.

* ``make_function`` turns a workload into a Python function over a namespace of
  math functions (``math``, ``numpy``, ``jax.numpy``, ``torch``, CasADi ...).
  A workload CPython cannot parse (e.g. more than 200 nested parentheses)
  raises ``ParseError`` with the short reason.
* ``count_ops`` implements the op-counting rule for generated Python source
  (see README.md, "Op count").
"""

from __future__ import annotations

import ast

from benchmarks.peers.base import ParseError

#: elementary functions of the workloads, by name
FUNCTION_NAMES = ("sin", "cos", "tan", "exp", "log", "tanh", "sinh", "cosh", "sqrt",
                  "asin", "acos", "atan", "abs")

#: names of calls that count as one primitive operation in generated source
#: (``add_grad`` is tangent's gradient accumulation, i.e. an addition)
COUNTED_CALLS = frozenset(FUNCTION_NAMES) | {
    "pow", "arcsin", "arccos", "arctan", "fabs", "square", "add_grad", "exp2", "log1p", "expm1",
}


def compile_python(source: str, filename: str = "<workload>"):
    """CPython compile; parser/compiler limits become ``ParseError``."""
    try:
        return compile(source, filename, "exec")
    except SyntaxError as exc:  # e.g. "too many nested parentheses"
        raise ParseError(f"CPython: {type(exc).__name__}: {exc.msg}") from None
    except (RecursionError, MemoryError) as exc:
        raise ParseError(f"CPython: {type(exc).__name__}: {str(exc)[:80]}") from None


def make_function(workload, namespace: dict, fname: str = "f"):
    """``def f(<vars>): return (<text>)`` evaluated in ``namespace``."""
    code = compile_python(workload.python_function_source(fname), f"<{workload.name}>")
    ns = dict(namespace)
    exec(code, ns)
    return ns[fname]


def _is_const(node) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _is_const(node.operand)
    if isinstance(node, ast.BinOp):
        return _is_const(node.left) and _is_const(node.right)
    return False


def _call_name(node: ast.Call) -> str:
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr
    if isinstance(f, ast.Name):
        return f.id
    return ""


def count_ops(tree) -> int:
    """Primitive operations in Python source or an AST node.

    Counts 1 for every binary arithmetic operator, augmented assignment,
    unary minus and call of an elementary function (``COUNTED_CALLS``).
    Constant sub-expressions (which CPython folds at compile time, e.g. the
    literal ``-0.596``), name loads, tuple packing, ``float()``/``tuple()``
    conversions and helper calls count 0.
    """
    if isinstance(tree, str):
        tree = ast.parse(tree)
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp):
            n += 0 if _is_const(node) else 1
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            n += 0 if _is_const(node) else 1
        elif isinstance(node, ast.AugAssign):
            n += 1
        elif isinstance(node, ast.Call):
            n += 1 if _call_name(node) in COUNTED_CALLS else 0
    return n


def count_function_ops(source: str, function_name: str) -> int | None:
    """``count_ops`` of one top-level ``def`` in ``source`` (None if absent)."""
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function_name:
            return count_ops(node)
    return None
