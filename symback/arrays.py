"""Arrays in the input language: shapes, integer index arithmetic and comprehension expansion.

Everything here happens while parsing, so the graph stays scalar (the one IR):

- `declared_shapes` reads `x[1000] W[4,3] t` (a `# vars:` line) into names and shapes;
- `int_value` evaluates an integer expression of constants, loop variables and
  `len(x)` / `len(W, 1)` (indices, range bounds, `if` filters), with `+ - * // % **`,
  comparisons and `and`/`or`/`not`;
- `Expander` wraps the token stream: `sum/prod/min/max(E for i in range(...) ... if ...)` and
  `[E for ...]` become the unrolled tokens `((E0) + (E1) + ...)` and `[E0, E1, ...]`, with each
  loop variable replaced by its value. Expanded tokens go back onto the stream, so nested
  comprehensions expand in turn: loops over explicit stacks, no recursion. The number of
  iterations and of emitted tokens is checked against the node limit as it grows, so
  `range(10**9)` is a `LimitError` at once.

Element inputs are scalar graph variables named `x_0`, `W_1_2` (row-major).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from . import indices
from .errors import ArgumentError, LimitError, ParseError

_Tok = Any       # symback.parse._Tok (kind, text, pos); not imported: parse imports this module

REDUCERS = {"sum": "+", "prod": "*", "min": ",", "max": ","}
_ARRAY_DECL = re.compile(r"([^\s,\[\]]+)\s*(?:\[([^\]]*)\])?")   # names checked later

# Integer operators: binding power (higher binds tighter); '**' is right-associative.
_IPREC = {"or": 1, "and": 2, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
          "+": 5, "-": 5, "*": 6, "//": 6, "%": 6, "**": 8}
_IUNARY = {"not": 3, "-": 7, "+": 7}
_BIG = 2 ** 62


def element_name(name: str, index: tuple[int, ...]) -> str:
    """The graph variable of one element of an array input: x_3, W_1_2."""
    return name + "".join(f"_{i}" for i in index)


def element_labels(shapes: dict[str, tuple[int, ...]]) -> dict[str, str]:
    """Element variable -> the name a reader writes: x_3 -> x[3], W_1_2 -> W[1, 2]."""
    return {element_name(name, i): f"{name}[{', '.join(map(str, i))}]"
            for name, shape in shapes.items() for i in element_indices(shape)}


def element_names(name: str, shapes: dict[str, tuple[int, ...]]) -> list[str]:
    """The graph variables of an input: its elements for an array, else the name."""
    if name not in shapes:
        return [name]
    return [element_name(name, i) for i in element_indices(shapes[name])]


def element_indices(shape: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Every index of `shape`, row-major."""
    result: list[tuple[int, ...]] = [()]
    for n in shape:
        result = [idx + (i,) for idx in result for i in range(n)]
    return result


def declared_shapes(line: str, what: str = "# vars") -> list[tuple[str, tuple[int, ...]]]:
    """`x[1000] W[4,3] t` -> [("x", (1000,)), ("W", (4, 3)), ("t", ())].

    Raises:
        ArgumentError: a shape that is not whole numbers >= 1 (names are checked by
            `source.input_names`).
    """
    items: list[tuple[str, tuple[int, ...]]] = []
    for m in _ARRAY_DECL.finditer(line):
        shape: tuple[int, ...] = ()
        if m.group(2) is not None:
            sizes = [x.strip() for x in m.group(2).split(",")]
            if not all(x.isdigit() and int(x) >= 1 for x in sizes):
                raise ArgumentError(f"{what}: the shape of {m.group(1)!r} must be whole "
                                    f"numbers >= 1, not [{m.group(2)}]")
            shape = tuple(int(x) for x in sizes)
        items.append((m.group(1), shape))
    return items


def check_shapes(shapes: object) -> dict[str, tuple[int, ...]]:
    """A `shapes=` argument: name -> tuple of sizes >= 1 (an int is a 1-D shape)."""
    if not isinstance(shapes, dict):
        raise ArgumentError(f"shapes must be a dict name -> shape, not {type(shapes).__name__}")
    result: dict[str, tuple[int, ...]] = {}
    for name, shape in shapes.items():
        dims = (shape,) if isinstance(shape, int) else shape
        if (not isinstance(name, str) or not isinstance(dims, tuple) or not dims
                or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                           for n in dims)):
            raise ArgumentError(f"shapes: {name!r} needs a shape of whole numbers >= 1, "
                                f"such as (1000,) or (4, 3), not {shape!r}")
        result[name] = dims
    return result


def groups(names: tuple[str, ...], shapes: dict[str, tuple[int, ...]]
           ) -> list[tuple[str, tuple[int, ...], list[str]]]:
    """Inputs as the user sees them: (name, shape, element variables), in order; an array's
    elements (x_0, x_1, ...) become one group `x` of its shape, a scalar `t` is (t, (), [t])."""
    owner = {element_name(a, i): a for a, s in shapes.items() for i in element_indices(s)}
    found: list[tuple[str, tuple[int, ...], list[str]]] = []
    for n in names:
        array = owner.get(n)
        if array is None:
            found.append((n, (), [n]))
        elif found and found[-1][0] == array:
            found[-1][2].append(n)
        else:
            found.append((array, shapes[array], [n]))
    return found


# --- integer expressions ------------------------------------------------------------------

def int_value(toks: list[_Tok], env: dict[str, int], length: Callable[[_Tok, int], int],
              error: Callable[..., ParseError], what: str) -> int:
    """Evaluate an integer expression (a list of tokens) with a shunting-yard loop.

    Args:
        env: loop variable -> value. length(name_token, axis): the size of an array's axis
            (raises itself for a name that is not an array). error(message, tok): a
            located ParseError. what: "an index", "a range bound", ... for messages.
    """
    if not toks:
        raise error(f"expected {what}", 0)
    values: list[int] = []
    stack: list[_Tok] = []                   # operators, '(' and unary ops
    unary: set[int] = set()                  # ids of stacked unary operator tokens
    expect_operand = True
    k = 0
    n = len(toks)

    def apply(op: _Tok) -> None:
        if id(op) in unary:
            a = values.pop()
            if not isinstance(a, int):               # a loop variable of a rolled loop
                values.append(indices.negate(op.text, a))
                return
            values.append(int(not a) if op.text == "not" else -a if op.text == "-" else a)
            return
        b, a = values.pop(), values.pop()
        t = op.text
        if not isinstance(a, int) or not isinstance(b, int):
            values.append(indices.combine(t, a, b))
            return
        if t in ("//", "%") and b == 0:
            raise error("integer division by zero", op)
        if t == "**" and (b < 0 or (abs(a) > 1 and b > 64)):
            raise error("the exponent of an integer '**' must be between 0 and 64", op)
        r = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
             "//": lambda: a // b, "%": lambda: a % b, "**": lambda: a ** b,
             "<": lambda: int(a < b), "<=": lambda: int(a <= b), ">": lambda: int(a > b),
             ">=": lambda: int(a >= b), "==": lambda: int(a == b), "!=": lambda: int(a != b),
             "and": lambda: int(bool(a) and bool(b)), "or": lambda: int(bool(a) or bool(b))}[t]()
        if abs(r) > _BIG:
            raise error(f"integer too large in {what}", op)
        values.append(r)

    def reduce(prec: int, right: bool) -> None:
        while stack and stack[-1].text != "(":
            top = stack[-1]
            p = _IUNARY[top.text] if id(top) in unary else _IPREC[top.text]
            if p < prec or (p == prec and right):
                return
            apply(stack.pop())

    while k < n:
        tok = toks[k]
        if expect_operand:
            if tok.kind == "number":
                if not tok.text.isdigit():
                    raise error(f"{what} must be an integer, not {tok.text}", tok)
                values.append(int(tok.text))
                expect_operand = False
            elif tok.kind == "name" and tok.text == "len":
                k, size = _len_call(toks, k, env, length, error)
                values.append(size)
                expect_operand = False
            elif tok.kind == "name" and tok.text in env:
                values.append(env[tok.text])
                expect_operand = False
            elif tok.kind == "name" and tok.text not in _IUNARY:
                raise error(f"{what} must be an integer expression of constants, loop "
                            f"variables and len(); {tok.text!r} is not one", tok)
            elif tok.text == "(":
                stack.append(tok)
            elif tok.text in _IUNARY:
                unary.add(id(tok))
                stack.append(tok)
            else:
                raise error(f"expected {what}, found {tok.text or 'end of line'!r}", tok)
        elif tok.text == ")":
            reduce(0, False)
            if not stack:
                raise error("unmatched ')'", tok)
            stack.pop()
        elif tok.text in _IPREC:
            reduce(_IPREC[tok.text], tok.text == "**")
            stack.append(tok)
            expect_operand = True
        elif tok.text == "/":
            raise error(f"'/' gives a non-integer in {what}; use '//'", tok)
        else:
            raise error(f"unexpected {tok.text!r} in {what}", tok)
        k += 1
    if expect_operand:
        raise error(f"{what} is incomplete", toks[-1])
    reduce(0, False)
    if stack:
        raise error("expected ')' to close '('", stack[-1])
    return values[0]


def _len_call(toks: list[_Tok], k: int, env: dict[str, int],
              length: Callable[[_Tok, int], int], error: Callable[..., ParseError]
              ) -> tuple[int, int]:
    """`len(name)` or `len(name, axis)` at toks[k]; returns (index of ')', size)."""
    tok = toks[k]
    if k + 3 >= len(toks) or toks[k + 1].text != "(" or toks[k + 2].kind != "name":
        raise error("write len(x) or len(W, axis) with an array name", tok)
    name = toks[k + 2]
    if toks[k + 3].text == ")":
        return k + 3, length(name, 0)
    if (toks[k + 3].text == "," and k + 5 < len(toks) and toks[k + 4].kind == "number"
            and toks[k + 4].text.isdigit() and toks[k + 5].text == ")"):
        return k + 5, length(name, int(toks[k + 4].text))
    raise error("write len(x) or len(W, axis) with an array name and a whole-number axis", tok)


def start_at(opener: _Tok) -> int:
    """Where a buffered comprehension's bracket is: 0 for '[', 1 for `sum(`."""
    return 0 if opener.text == "[" else 1


def split_commas(toks: list[_Tok]) -> list[list[_Tok]]:
    """Split a token list at its top-level commas."""
    parts: list[list[_Tok]] = [[]]
    depth = 0
    for t in toks:
        if t.text in ("(", "["):
            depth += 1
        elif t.text in (")", "]"):
            depth -= 1
        if t.text == "," and depth == 0:
            parts.append([])
        else:
            parts[-1].append(t)
    return parts


# --- comprehension expansion --------------------------------------------------------------

class Expander:
    """The token stream with every comprehension unrolled (see the module docstring)."""

    def __init__(self, toks: Iterator[_Tok], make: Callable[[str, str, int], _Tok],
                 length: Callable[[_Tok, int], int], error: Callable[..., ParseError],
                 reserved: Callable[[str], bool], max_nodes: int | None,
                 roll: Callable[[_Tok, list[tuple], list[_Tok]], Any] | None = None,
                 env: dict[str, Any] | None = None) -> None:
        self.src = toks
        self.roll = roll                 # roll(opener, clauses, body): a rolled loop's
                                         # clauses, or None to unroll (symback.loops)
        self.env = env or {}             # loop variables of an enclosing rolled loop
        self.make = make                 # make(kind, text, pos) -> a token
        self.length = length
        self.error = error
        self.reserved = reserved         # names a loop variable may not take
        self.budget = max_nodes
        self.pending: list[_Tok] = []    # tokens to emit next, reversed
        self.through = 0                 # tokens to pass on without looking
        self.prev: _Tok | None = None

    def raw(self) -> _Tok:
        return self.pending.pop() if self.pending else next(self.src)

    def __iter__(self) -> Iterator[_Tok]:
        while True:
            tok = self.raw()
            if self.through:
                self.through -= 1
            elif self.opens(tok):
                self.comprehension(tok)
                continue
            self.prev = tok
            yield tok
            if tok.kind == "end":
                return

    def opens(self, tok: _Tok) -> bool:
        """True if `tok` may start a comprehension: `sum(`, `prod(`, `min(`, `max(`, or a
        `[` where an operand is expected (not an index)."""
        if tok.kind == "name" and tok.text in REDUCERS:
            nxt = self.raw()
            self.pending.append(nxt)
            return nxt.text == "("
        if tok.text == "[":
            p = self.prev
            return p is None or p.kind == "nl" or (p.kind == "op" and p.text not in (")", "]"))
        return False

    def comprehension(self, opener: _Tok) -> None:
        """Buffer `opener` to its matching bracket; unroll it if it is a comprehension."""
        buf = [opener]
        if opener.text != "[":
            buf.append(self.raw())               # '('
        depth, top_for, any_for = 1, -1, False
        while depth:
            tok = self.raw()
            buf.append(tok)
            if tok.kind == "end":
                break
            if tok.text in ("(", "["):
                depth += 1
            elif tok.text in (")", "]"):
                depth -= 1
            elif tok.kind == "name" and tok.text == "for":
                any_for = True
                if depth == 1 and top_for < 0:
                    top_for = len(buf) - 1
        if depth and top_for >= 0:
            close = "]" if opener.text == "[" else ")"
            raise self.error(f"expected {close!r} to close {buf[start_at(opener)].text!r}",
                             buf[start_at(opener)])
        if top_for < 0 or depth:
            # Not a comprehension: pass it on; look inside again only if a 'for' is there.
            self.pending.extend(reversed(buf))
            self.through = (2 if opener.text != "[" else 1) if any_for else len(buf)
            return
        start = start_at(opener) + 1
        body, clauses = buf[start:top_for], buf[top_for:-1]
        if not body:
            raise self.error("expected an expression before 'for'", buf[top_for])
        loops = self.clauses(clauses)
        names = {c[1].text for c in loops if c[0] == "for"}
        for k, t in enumerate(body):
            if t.text == "for" and k + 1 < len(body) and body[k + 1].text in names:
                raise self.error(f"loop variable {body[k + 1].text!r} is already used by an "
                                 "enclosing loop", body[k + 1])
        rolled = self.roll(opener, loops, body) if self.roll is not None else None
        if rolled is not None:                  # one token: the parser builds a loop node
            tok = self.make("loop", opener.text, opener.pos)
            tok.payload = ([t for t in body if t.kind != "nl"], rolled)
            self.pending.append(tok)
            return
        out = self.unroll(opener, body, loops)
        self.pending.extend(reversed(out))

    def unroll(self, opener: _Tok, body: list[_Tok], loops: list[tuple]) -> list[_Tok]:
        envs = self.iterations(loops, len(body) + 3)
        kind = "[" if opener.text == "[" else opener.text
        make, pos = self.make, opener.pos
        out: list[_Tok] = []
        if kind == "[":
            out.append(make("op", "[", pos))
        elif not envs:
            if kind in ("min", "max"):
                raise self.error(f"{kind}() of an empty range", opener)
            return [make("number", "0" if kind == "sum" else "1", pos)]
        elif kind in ("min", "max") and len(envs) > 1:
            out += [make("name", kind, pos), make("op", "(", pos)]
        else:
            out.append(make("op", "(", pos))
        sep = "," if kind == "[" else REDUCERS[kind]
        for j, env in enumerate(envs):
            if j:
                out.append(make("op", sep, pos))
            out.append(make("op", "(", pos))
            for t in body:
                if t.kind == "name" and t.text in env:
                    v = env[t.text]
                    if v < 0:
                        out += [make("op", "(", t.pos), make("op", "-", t.pos),
                                make("number", str(-v), t.pos), make("op", ")", t.pos)]
                    else:
                        out.append(make("number", str(v), t.pos))
                else:
                    out.append(t)
            out.append(make("op", ")", pos))
        out.append(make("op", "]" if kind == "[" else ")", pos))
        return out

    def known(self, value: Any, tok: _Tok) -> int:
        """`value` if it is a number; an error if it depends on a rolled loop's variable."""
        if isinstance(value, int):
            return value
        names = ", ".join(repr(v) for v in sorted(indices.variables(value)))
        raise self.error(f"this comprehension is inside a rolled loop and depends on its "
                         f"variable {names}: write the loops as one comprehension, "
                         "sum(E for i in range(n) for j in range(i + 1, n))", tok)

    def clauses(self, toks: list[_Tok]) -> list[tuple]:
        """`for i in range(...)` and `if cond` clauses -> [("for", name_tok, args), ("if",
        tok, cond_toks)]."""
        parts: list[list[_Tok]] = []
        depth = 0
        for t in toks:
            if depth == 0 and t.kind == "name" and t.text in ("for", "if"):
                parts.append([])
            if t.text in ("(", "["):
                depth += 1
            elif t.text in (")", "]"):
                depth -= 1
            parts[-1].append(t)
        loops: list[tuple] = []
        seen: set[str] = set()
        for p in parts:
            if p[0].text == "if":
                if len(p) < 2:
                    raise self.error("expected a condition after 'if'", p[0])
                loops.append(("if", p[0], p[1:]))
                continue
            if len(p) < 2 or p[1].kind != "name":
                raise self.error("expected a loop variable after 'for'", p[0])
            var = p[1]
            if var.text in seen or self.reserved(var.text):
                raise self.error(f"{var.text!r} cannot be a loop variable here: the name is "
                                 "already in use", var)
            seen.add(var.text)
            if (len(p) < 6 or p[2].text != "in" or p[3].text != "range" or p[4].text != "("
                    or p[-1].text != ")"):
                at = p[2] if len(p) > 2 else var
                raise self.error("write 'for NAME in range(...)': loops run over ranges", at)
            args = split_commas(p[5:-1])
            if not 1 <= len(args) <= 3 or not all(args):
                raise self.error("range() takes 1 to 3 integer arguments", p[3])
            loops.append(("for", var, args))
        return loops

    def iterations(self, loops: list[tuple], cost: int) -> list[dict[str, int]]:
        """Every environment of the loops that passes the filters, in order; an explicit
        stack of (clause index, environment). Checked against the node limit as it grows."""
        done: list[dict[str, int]] = []
        work: list[tuple[int, dict[str, int]]] = [(0, {})]
        steps = 0
        budget = self.budget
        while work:
            k, env = work.pop()
            if k == len(loops):
                done.append(env)
                if budget is not None and len(done) * cost > 4 * budget:
                    raise self.error(f"the comprehension unrolls to more than {budget:,} "
                                     "terms (lift the limit with max_nodes=None)",
                                     loops[0][1], cls=LimitError)
                continue
            kind, tok, spec = loops[k]
            if kind == "if":
                if self.known(int_value(spec, {**self.env, **env}, self.length, self.error,
                                        "a condition"), tok):
                    work.append((k + 1, env))
                continue
            bounds = [self.known(int_value(a, {**self.env, **env}, self.length, self.error,
                                           "a range bound"), tok) for a in spec]
            if len(bounds) == 3 and bounds[2] == 0:
                raise self.error("range() step must not be zero", tok)
            r = range(*bounds)
            steps += len(r)
            if budget is not None and steps > budget:
                raise self.error(f"the loops run more than {budget:,} iterations (lift the "
                                 "limit with max_nodes=None)", tok, cls=LimitError)
            for v in reversed(r):
                work.append((k + 1, {**env, tok.text: v}))
        return done
