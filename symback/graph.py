"""The computation graph: an append-only, interned DAG of primitive operations.

A node is an integer id, its index in the graph's lists. Arguments are always created before
their users, so creation order is a topological order: every pass over the graph is a plain
loop over ids, forwards or backwards, and nothing recurses.

Nodes are interned (hash-consed): building `sin(x)` twice returns the same id, so identical
subexpressions are one node, in the user's expression and in the derivative rules alike.
Constants are folded when the result is a finite float, and the table's algebraic identities
(`x*1 -> x`, `x+0 -> x`, ...) are applied before a node is built.

The graph knows nothing about differentiation; `reverse.py` adds adjoint nodes to it.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import LimitError
from .ops import OPS

DEFAULT_MAX_NODES = 5_000_000


class Graph:
    """An interned DAG. Kinds of node: "var" (an input), "const" (a float), or an op name.

    Attributes:
        ops: per node, "var", "const" or the name of an op in `symback.ops.OPS`.
        args: per node, the ids of its operands (empty for leaves).
        values: per node, the float of a constant, the name of a var, else None.
        names: user-given names of intermediate nodes (`p = x + y` names the node of x + y).
        max_nodes: building more nodes than this raises `LimitError`.
    """

    def __init__(self, max_nodes: int | None = DEFAULT_MAX_NODES) -> None:
        self.ops: list[str] = []
        self.args: list[tuple[int, ...]] = []
        self.values: list[Any] = []
        self.names: dict[int, str] = {}
        self.arrays: dict[str, tuple[int, ...]] = {}   # whole-array vars -> shape (loops)
        self.max_nodes = max_nodes
        self._intern: dict[tuple[Any, ...], int] = {}
        self._vars: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.ops)

    # --- building --------------------------------------------------------------------------

    def _add(self, key: tuple[Any, ...], op: str, args: tuple[int, ...], value: Any) -> int:
        found = self._intern.get(key)
        if found is not None:
            return found
        if self.max_nodes is not None and len(self.ops) >= self.max_nodes:
            raise LimitError(f"the graph exceeds {self.max_nodes:,} nodes "
                             "(raise the limit with max_nodes=None or --no-limits)")
        self.ops.append(op)
        self.args.append(args)
        self.values.append(value)
        self._intern[key] = len(self.ops) - 1
        return len(self.ops) - 1

    def const(self, value: float) -> int:
        """The node of a float constant. 0.0 and -0.0 are different nodes."""
        value = float(value)
        key = ("const", value.hex())
        found = self._intern.get(key)       # most constants are made again (1.0, 2.0, ...)
        return found if found is not None else self._add(key, "const", (), value)

    def var(self, name: str) -> int:
        """The input node named `name`."""
        node = self._add(("var", name), "var", (), name)
        self._vars.setdefault(name, node)
        return node

    def apply(self, op: str, *args: int) -> int:
        """The node `op(*args)`, after constant folding and the op's algebraic identities."""
        spec = OPS[op]
        if len(args) != spec.arity:
            raise ValueError(f"{op} takes {spec.arity} operands, got {len(args)}")
        if spec.eval is not None:
            ops = self.ops
            for a in args:
                if ops[a] != "const":
                    break
            else:                           # constant operands only: fold
                folded = _fold(spec.eval, [self.values[a] for a in args])
                if folded is not None:
                    return self.const(folded)
        if spec.simplify is not None:
            simpler = spec.simplify(self, *args)
            if simpler is not None:
                return simpler
        return self._add((op, args), op, args, None)

    def structure(self, op: str, spec: Any, args: tuple[int, ...]) -> int:
        """A node that is not an op of the rule table: a rolled loop ("loop", its `Loop`)
        or the adjoint of an array input ("scatter", its `Scatter`); see symback.loops.
        Never interned: each is built once, by the parser or the reverse pass."""
        return self._add(("structure", len(self.ops)), op, tuple(args), spec)

    def node(self, op: str, *args: Any) -> "Node":
        """Like `apply`, on `Node` handles or numbers; returns a `Node`. Used by the rules."""
        ids = [a.id if isinstance(a, Node) else self.const(a) for a in args]
        return Node(self, self.apply(op, *ids))

    def name(self, node: int, name: str) -> None:
        """Give an intermediate node a user name (the first name given to a node wins)."""
        self.names.setdefault(node, name)

    # --- inspecting ------------------------------------------------------------------------

    def op(self, node: int) -> str:
        return self.ops[node]

    def is_const(self, node: int, value: float | None = None) -> bool:
        """True if `node` is a constant (equal to `value`, if given)."""
        if self.ops[node] != "const":
            return False
        return value is None or self.values[node] == value

    def value(self, node: int) -> Any:
        """The float of a constant, or the name of an input."""
        return self.values[node]

    def lookup_var(self, name: str) -> int | None:
        return self._vars.get(name)

    def variables(self) -> list[str]:
        """Input names in order of first appearance."""
        return list(self._vars)

    def depends_on(self, sources: list[int], upto: int) -> bytearray:
        """flags[i] == 1 iff node i (i <= upto) depends on one of `sources`."""
        flags = bytearray(upto + 1)
        for s in sources:
            if s <= upto:
                flags[s] = 1
        args = self.args
        for i in range(min(sources, default=upto + 1), upto + 1):
            if not flags[i]:
                for a in args[i]:
                    if flags[a]:
                        flags[i] = 1
                        break
        return flags

    def live(self, roots: list[int], known: "set[int] | dict[int, Any]" = ()) -> list[int]:
        """The op nodes needed to compute `roots`, in topological (id) order; nodes in
        `known` (already computed) and what only they need are left out."""
        if not roots:
            return []
        top = max(roots)
        needed = bytearray(top + 1)
        for r in roots:
            needed[r] = 1
        args, ops = self.args, self.ops
        for i in range(top, -1, -1):
            if needed[i] and i not in known:
                for a in args[i]:
                    needed[a] = 1
        return [i for i in range(top + 1)
                if needed[i] and ops[i] not in ("var", "const") and i not in known]

    def format_node(self, node: int) -> str:
        """A short text of one node, as in `t5 = mul t3 t4`."""
        op = self.ops[node]
        if op == "const":
            return repr(self.values[node])
        if op == "var":
            return self.values[node]
        return f"{op} " + " ".join(f"t{a}" for a in self.args[node])

    def __str__(self) -> str:
        return "\n".join(f"t{i} = {self.format_node(i)}" for i in range(len(self.ops)))


def evaluate(g: Graph, point: dict[str, float], upto: int, vals: list[Any] | None = None,
             errors: dict[int, str] | None = None) -> list[Any]:
    """Evaluate nodes 0..upto numerically with the table's `eval` functions.

    Conditions evaluate to bools; `where` (`Op.selects`) takes the value of the branch its
    condition picks
    (the other branch may fail without harm). A node that cannot be computed (log(-1), 1/0,
    an input missing from `point`) gets None and an entry in `errors` (its own error; nodes
    computed from it get None without an entry).

    Args:
        g: the graph.
        point: input name -> value.
        upto: the last node to evaluate.
        vals: values already computed for nodes 0..len(vals)-1 (extended in place).
        errors: collects node -> reason for nodes whose own evaluation failed.

    Returns:
        `vals`, one value per node 0..upto.
    """
    vals = [] if vals is None else vals
    errors = {} if errors is None else errors
    ops, args, values = g.ops, g.args, g.values
    for i in range(len(vals), upto + 1):
        op = ops[i]
        v: Any
        if op == "const":
            v = values[i]
        elif op == "var":
            v = point.get(values[i])
            if v is None:
                errors[i] = f"no value for {values[i]!r}"
            else:
                v = float(v)
        elif OPS[op].selects:                    # where(c, a, b): the branch c picks
            c, a, b = args[i]
            cond = vals[c]
            v = None if cond is None else vals[a] if cond else vals[b]
        else:
            xs = [vals[a] for a in args[i]]
            if None in xs:
                v = None
            else:
                try:
                    v = OPS[op].eval(*xs)
                except (ArithmeticError, ValueError) as exc:
                    v = None
                    errors[i] = failure_reason(exc)
                else:
                    if isinstance(v, int) and not isinstance(v, bool):
                        v = float(v)
        vals.append(v)
    return vals


def failure_reason(exc: BaseException) -> str:
    """A short reason for a failed float operation."""
    if isinstance(exc, ZeroDivisionError):
        return "division by zero"
    if isinstance(exc, OverflowError):
        return "overflow"
    return str(exc) or type(exc).__name__


def _fold(fn: Any, values: list[Any]) -> float | None:
    """fn(*values) if it is a finite float; None (do not fold) on any error or overflow.

    Every evaluation is one float operation, so folding takes constant time whatever the
    constants: 10**10**10 overflows at once and stays symbolic.
    """
    try:
        result = fn(*values)
    except (ArithmeticError, ValueError, TypeError):
        return None
    if isinstance(result, bool):
        return 1.0 if result else 0.0
    if not isinstance(result, (int, float)) or isinstance(result, complex):
        return None
    result = float(result)
    return result if math.isfinite(result) else None


class Node:
    """A handle on one node of a graph, with operator overloading, for writing rules."""

    __slots__ = ("graph", "id")

    def __init__(self, graph: Graph, node: int) -> None:
        self.graph = graph
        self.id = node

    @property
    def value(self) -> Any:
        return self.graph.values[self.id]

    def _bin(self, op: str, other: Any, reflected: bool = False) -> "Node":
        return self.graph.node(op, other, self) if reflected else self.graph.node(op, self, other)

    def __add__(self, o: Any) -> "Node": return self._bin("add", o)
    def __radd__(self, o: Any) -> "Node": return self._bin("add", o, True)
    def __sub__(self, o: Any) -> "Node": return self._bin("sub", o)
    def __rsub__(self, o: Any) -> "Node": return self._bin("sub", o, True)
    def __mul__(self, o: Any) -> "Node": return self._bin("mul", o)
    def __rmul__(self, o: Any) -> "Node": return self._bin("mul", o, True)
    def __truediv__(self, o: Any) -> "Node": return self._bin("div", o)
    def __rtruediv__(self, o: Any) -> "Node": return self._bin("div", o, True)
    def __pow__(self, o: Any) -> "Node": return self._bin("pow", o)
    def __rpow__(self, o: Any) -> "Node": return self._bin("pow", o, True)
    def __neg__(self) -> "Node": return self.graph.node("neg", self)
    def __pos__(self) -> "Node": return self

    def __repr__(self) -> str:
        return f"Node(t{self.id} = {self.graph.format_node(self.id)})"
