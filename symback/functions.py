"""Functions defined in the language: `softclip(u) = u / (1 + abs(u))`.

A definition's body is parsed once into a small graph of its own (a template) in which
parameter k is the input named "k" (a digit string, which no user name can be, so a free name
of a callee can never be captured by a caller's parameter) and every other name -- a free
input, or a name bound before the definition -- is an input under its own name. Calls of
earlier functions inside a body are expanded into the template while it is parsed, so a
template holds primitive ops only.

A call is expanded by replaying the template into the caller's graph with the parameters
bound to the argument nodes: one loop over the template's nodes, never recursion, whatever
the nesting of calls or definitions. The graph interns every node, so the same function
called twice with the same arguments is one set of nodes, and folding and the algebraic
identities apply to the actual arguments. Derivatives need nothing more: the graph holds
only primitive ops.

A function can call only functions defined before it, so recursion, direct or through
another function, cannot be written (the parser says so, with a caret).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from .graph import Graph

# The head of a definition at the start of a statement: `name(a, b) =` (not `==`), on one line.
DEF_HEAD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[ \t]*\([^()\n;#=]*\)[ \t]*=(?!=)")


@dataclass
class Function:
    """A function defined in the text.

    Attributes:
        name: its name; params: the parameter names, in order; pos: offset of the name.
        body: the template graph; result: the body node of the value.
        order: the template nodes the value needs, leaves included, in topological order.
    """

    name: str
    params: tuple[str, ...]
    pos: int
    body: Graph
    result: int
    order: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        needed = bytearray(self.result + 1)
        needed[self.result] = 1
        args = self.body.args
        for i in range(self.result, -1, -1):
            if needed[i]:
                for a in args[i]:
                    needed[a] = 1
        self.order = tuple(i for i in range(self.result + 1) if needed[i])

    @property
    def arity(self) -> int:
        return len(self.params)

    def arity_text(self) -> str:
        n = self.arity
        return f"{n} argument{'' if n == 1 else 's'}"


def param_name(k: int) -> str:
    """The template input that stands for parameter k."""
    return str(k)


def expand(fn: Function, graph: Graph, args: list[int], leaf: Callable[[str], int]) -> int:
    """Build `fn(*args)` in `graph` and return its node.

    `leaf(name)` gives the node in `graph` of a name the body uses that is not a parameter
    (a free input, or a name bound before the definition).

    Raises:
        LimitError: the graph grows past its node limit.
    """
    body = fn.body
    ops, bargs, values = body.ops, body.args, body.values
    mapped: dict[int, int] = {}
    for i in fn.order:
        op = ops[i]
        if op == "const":
            mapped[i] = graph.const(values[i])
        elif op == "var":
            name = values[i]
            mapped[i] = args[int(name)] if name.isdigit() else leaf(name)
        else:
            mapped[i] = graph.apply(op, *[mapped[a] for a in bargs[i]])
    return mapped[fn.result]


def defined_later(text: str, name: str, after: int) -> int | None:
    """The offset of a definition of `name` after offset `after`, if the text has one (to say
    "defined below" rather than "unknown function")."""
    head = re.compile(r"(?:^|[\n;])[ \t]*(" + re.escape(name)
                      + r")[ \t]*\([^()\n;#=]*\)[ \t]*=(?!=)")
    m = head.search(text, after)
    return m.start(1) if m else None
