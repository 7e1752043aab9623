"""The parser's rolled loops (`symback.loops`): a mixin of `parse._Parser`.

When the token stream (`arrays.Expander`) meets a comprehension, it asks `roll` whether to
keep it a loop: a `sum`, `prod`, `min` or `max` of enough iterations (or every one with
loops="roll") whose body indexes no list. The answer is its clauses, with the loop
variables as `indices` trees; the Expander then hands the parser one "loop" token, and
`rolled` parses the body tokens into a graph of their own, in which the loop variables,
element reads (`x[i + 1]`) and captured outer values are inputs (`LoopScope`), and adds one
loop node to the program's graph. In a program with rolled loops every array input is one
graph variable; `read` makes `x[3]` outside loops a loop without clauses, and `whole_sum`
rolls `sum(x)`, `prod(x)`, `min(x)`, `max(x)` and `dot(a, b)`.

The methods use the parser's state: `graph` (the current graph: the program's, or a body's
while one is parsed), `top` (the program's), `loop` (the `LoopScope` being parsed), `loops`
(the mode), `whole`, `arrays`, `shapes`, `reads`, `read_body`, and its token stream.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import indices
from .arrays import Expander, int_value
from .errors import LimitError
from .graph import Graph
from .indices import text as index_text
from .loops import AUTO_ROLL, ROLLED, Clause, Loop, count_at_least


class LoopParsing:
    """The rolled-loop methods of the parser (mixed into `parse._Parser`)."""

    def roll(self, opener: Any, raw: list[tuple], body: list[Any]
             ) -> tuple[Clause, ...] | None:
        """Asked by the Expander for each comprehension: its clauses if it stays a loop
        (a `sum` of enough iterations, or every `sum` with loops="roll"), else None. A body
        that indexes a list (`r = [...]; sum(r[i] ...)`) is unrolled: loops read inputs."""
        if (self.loops == "unroll" or opener.text not in ROLLED or self.scope is not None
                or self.loop is not None or (self.shapes and not self.whole)):
            return None
        for k, t in enumerate(body[:-1]):
            if (t.kind == "name" and body[k + 1].text == "[" and t.text in self.bound
                    and self.bound[t.text].kind == "array"):
                return None
        env: dict[str, Any] = {}
        clauses = []
        for kind, tok, spec in raw:
            if kind == "if":
                cond = int_value(spec, env, self.length, self.error, "a condition")
                clauses.append(Clause("if", cond=cond))
                continue
            bounds = [int_value(a, env, self.length, self.error, "a range bound") for a in spec]
            bounds = ([0] if len(bounds) == 1 else []) + bounds + ([1] if len(bounds) < 3 else [])
            if not isinstance(bounds[2], int):
                raise self.error("the step of a rolled loop's range() must be a constant", tok)
            if bounds[2] == 0:
                raise self.error("range() step must not be zero", tok)
            clauses.append(Clause("for", tok.text, tuple(bounds)))
            env[tok.text] = indices.var(tok.text)
        found = tuple(clauses)
        if self.loops == "auto" and not count_at_least(found, AUTO_ROLL):
            return None
        if opener.text in ("min", "max") and not count_at_least(found, 1):
            raise self.error(f"{opener.text}() of an empty range", opener)
        return found

    def rolled(self, tok: Any) -> int:
        """A rolled comprehension (a "loop" token): its body parsed into a graph of its own,
        then one loop node in the program's graph (returned)."""
        body_toks, clauses = tok.payload
        env = {c.var: indices.var(c.var) for c in clauses if c.kind == "for"}
        last = body_toks[-1]
        token = type(tok)
        end = token("end", "", last.pos + len(last.text))
        saved = self.graph, self.toks, self.tok, self.ahead
        scope = self.loop = LoopScope(env, clauses, Graph(self.top.max_nodes))
        self.graph = scope.body
        self.toks = iter(Expander(iter(body_toks + [end]), token, self.length, self.error,
                                  self.reserved, self.top.max_nodes, None, env))
        self.tok, self.ahead = next(self.toks), None
        try:
            start = self.tok
            val = self.expression(allow_tuple=False)[0]
            if self.tok.kind != "end":
                raise self.error(f"unexpected {self.show(self.tok)}", self.tok)
            self.require_real(val, start)
        finally:
            self.graph, self.toks, self.tok, self.ahead = saved
            self.loop = None
        arrays = tuple(dict.fromkeys(a for a, _ in scope.reads.values()))
        spec = Loop(tok.text, clauses, scope.body, val.node, scope.reads, arrays,
                    tuple(scope.captures.values()), tok.pos)
        return self.loop_node(spec, list(scope.captures))

    def loop_node(self, spec: Loop, captured: list[int]) -> int:
        args = tuple(self.arrays[a].node for a in spec.arrays) + tuple(captured)
        try:
            node = self.top.structure("loop", spec, args)
        except LimitError as exc:
            raise self.error(exc.message, spec.pos, cls=LimitError) from None
        self.rolled_any = self.rolled_any or bool(spec.clauses)
        return node

    def capture(self, outer: int) -> int:
        """The body var of an outer node read inside a rolled loop."""
        assert self.loop is not None
        found = self.loop.captures.get(outer)
        if found is None:
            if self.top.ops[outer] == "const":
                return self.graph.const(self.top.values[outer])
            found = self.loop.captures[outer] = self.graph.var(f"@{outer}")
        return found

    def read(self, name: str, index: tuple[int, ...]) -> int:
        """`x[3]` of a whole-array input outside any loop: a loop without clauses."""
        flat = 0
        for i, n in zip(index, self.shapes[name]):
            flat = flat * n + i
        node = self.reads.get((name, flat))
        if node is None:
            var = self.read_body.var(f"{name}[{', '.join(map(str, index))}]")
            spec = Loop("sum", (), self.read_body, var, {var: (name, index)}, (name,), ())
            node = self.reads[(name, flat)] = self.loop_node(spec, [])
        return node

    def whole_sum(self, tok: Any, args: list[Any]) -> int | None:
        """sum(x) and dot(a, b) of whole-array inputs as a rolled loop, when loops roll and
        the arrays are large enough (its node); else None (they are unrolled)."""
        name = tok.text
        if (name not in ROLLED + ("dot",) or not self.whole or self.loops == "unroll"
                or not args or not all(a.kind == "array" and a.node >= 0 for a in args)
                or len({a.shape for a in args}) != 1 or len(args) != (2 if name == "dot" else 1)):
            return None
        shape = args[0].shape
        size = 1
        for n in shape:
            size *= n
        if self.loops == "auto" and size < AUTO_ROLL:
            return None
        names = [v for v in ("i", "j", "k", "l", "m", "n") if not self.reserved(v)]
        names += [f"i{k}_" for k in range(len(shape))]
        loop_vars = names[:len(shape)]
        clauses = tuple(Clause("for", v, (0, n, 1)) for v, n in zip(loop_vars, shape))
        body = Graph(None)
        index = tuple(indices.var(v) for v in loop_vars)
        key = ", ".join(loop_vars)
        reads = {body.var(f"{a.name}[{key}]"): (a.name, index) for a in args}
        nodes = list(reads)
        result = nodes[0] if len(nodes) == 1 else body.apply("mul", nodes[0], nodes[-1])
        arrays = tuple(dict.fromkeys(a.name for a in args))
        spec = Loop("sum" if name == "dot" else name, clauses, body, result, reads,  # type: ignore
                    arrays, (), tok.pos)
        return self.loop_node(spec, [])


class ElementNames:
    """The graph variable names of array elements (x_3 -> "x[3]", W_1_2 -> "W[1, 2]"),
    answered by parsing the name: no table of a million names for a million elements."""

    def __init__(self, shapes: dict[str, tuple[int, ...]]) -> None:
        self.shapes = shapes

    def get(self, name: str) -> str | None:
        for array, shape in self.shapes.items():
            if not name.startswith(array + "_"):
                continue
            parts = name[len(array) + 1:].split("_")
            if (len(parts) == len(shape) and all(p.isdigit() and str(int(p)) == p for p in parts)
                    and all(int(p) < n for p, n in zip(parts, shape))):
                return f"{array}[{', '.join(parts)}]"
        return None

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __getitem__(self, name: str) -> str:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found


@dataclass
class LoopScope:
    """While a rolled loop's body is parsed: its loop variables (as `indices` trees), its
    clauses, its body graph, and what it captures and reads."""

    env: dict[str, Any]
    clauses: tuple[Clause, ...]
    body: Graph
    captures: dict[int, int] = field(default_factory=dict)   # outer node -> body var
    reads: dict[int, tuple[str, tuple]] = field(default_factory=dict)  # body var -> read

    def read(self, name: str, index: tuple) -> int:
        var = self.body.var(f"{name}[{', '.join(index_text(i) for i in index)}]")
        self.reads[var] = (name, index)
        return var


__all__ = ["ElementNames", "LoopParsing", "LoopScope"]
