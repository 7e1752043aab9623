"""The parser: expression text -> computation graph, without ever evaluating the text.

A regular-expression tokenizer and an operator-precedence (shunting-yard) parser written as
loops over explicit stacks: nesting depth is bounded by memory, not by Python's recursion
limit or CPython's 200-parentheses limit. Nodes are built in the graph as soon as an operator
is reduced, so no syntax tree is kept and a million-term sum needs small stacks.

The input language is Python expression syntax: numbers, names, `+ - * / **` (`^` is also
power), unary `-`/`+`, parentheses, calls of the functions in the rule table, comparisons
inside `where(cond, a, b)`, constants `pi` and `e`, `#` comments. Statements are separated by
newlines or `;` (inside parentheses a newline continues the statement, as in Python);
`name = expr` binds a named intermediate; `name(a, b) = expr` defines a function that later
statements call (expanded in the graph by `symback.functions`); the last statement is the
output (an expression, a bound name, or `a, b, ...` for several outputs).

Every error is a `ParseError` with the line and column of the offending text.
"""

from __future__ import annotations

import difflib
import keyword
import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterator

from .arrays import (
    REDUCERS,
    Expander,
    element_indices,
    element_name,
    int_value,
    split_commas,
)
from .errors import ArgumentError, LimitError, ParseError, SymbackWarning, warn
from .functions import DEF_HEAD, Function, defined_later, expand, param_name
from .graph import DEFAULT_MAX_NODES, Graph
from .indices import text as index_text
from .loops import LOOP_MODES, index_in_range
from .ops import BINARY, CONSTANTS, FUNCTIONS, OPS, VARIADIC
from .parse_loops import ElementNames, LoopParsing, LoopScope
from .typos import near_misses

DEFAULT_MAX_CHARS = 20_000_000

_TOKEN = re.compile(r"""
    (?P<ws>[ \t\f\r]+)
  | (?P<comment>\#[^\n]*)
  | (?P<nl>\n)
  | (?P<number>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|//|<=|>=|==|!=|[-+*/^(),=;<>%\[\]])
""", re.VERBOSE)

# Characters that are not part of the language, with the reason a user most likely typed them.
_REJECTED = {
    ".": "attribute access ('.') is not supported",
    "{": "braces are not supported",
    "}": "braces are not supported",
    "'": "strings are not supported",
    '"': "strings are not supported",
    "\\": "backslashes are not supported (to continue a line, wrap the expression in parentheses)",
    ":": "':' is not supported (no lambdas, slices or ':=')",
    "!": "'!' is not supported (use '!=' to compare)",
    "`": "backticks are not supported",
}

# Python operators that are not part of the language (matched as tokens, to say so).
_UNSUPPORTED = {
    "//": "'//' (floor division) is not supported: use '/' (there is no floor function)",
    "%": "'%' (remainder) is not supported: there is no remainder or floor function",
}

_KEYWORD_HINTS = {
    "lambda": "lambdas are not supported",
    "if": "conditional expressions are not supported; use where(cond, a, b) (an 'if' filter "
          "goes after a comprehension's 'for')",
    "else": "conditional expressions are not supported; use where(cond, a, b)",
    "and": "boolean operators are not supported; nest where() instead",
    "or": "boolean operators are not supported; nest where() instead",
    "not": "boolean operators are not supported; nest where() instead",
    "for": "a comprehension goes inside sum(...), prod(...), min(...), max(...) or [...]",
    "import": "imports are not supported",
}

# Binding power of infix operators; '**' is right-associative and binds tighter than unary
# minus on its left (-x**2 == -(x**2)) but not on its right (2**-x).
_PREC = {"<": 1, "<=": 1, ">": 1, ">=": 1, "==": 1, "!=": 1,
         "+": 2, "-": 2, "*": 3, "/": 3, "**": 5, "^": 5}
_UNARY_PREC = 4
_RIGHT_ASSOC = {"**", "^"}

# Calls on whole arrays, handled by the parser (not ops of the rule table); `len` is read as
# an integer, and sum/prod/min/max with a `for` are comprehensions (symback.arrays).
_ARRAY_CALLS = {"sum": "add", "prod": "mul", "dot": "add"}


@dataclass
class Expression:
    """A parsed expression: its graph, outputs and inputs.

    Attributes:
        graph: the computation graph.
        outputs: node ids of the outputs, in order.
        output_names: a label per output (the name written last, or "f", "f0", "f1", ...).
        inputs: input names in order of first appearance.
        text: the source text.
        bindings: bound name -> node; positions: where each output's text starts;
        uses: each free name that occurs in the text -> the offset of its first use.
    """

    graph: Graph
    outputs: list[int]
    output_names: list[str]
    inputs: list[str]
    text: str
    bindings: dict[str, int] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)
    uses: dict[str, int] = field(default_factory=dict)    # free name -> first use offset
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)  # array inputs
    rolled: bool = False          # some comprehension is a loop node (symback.loops)

    def error(self, message: str, offset: int = 0, cls: type = ParseError) -> ParseError:
        """An error located at `offset` in the text (e.g. at an output: `positions[k]`)."""
        return _Source(self.text).error(message, offset, 1, cls)


@dataclass
class _Tok:
    kind: str      # "number", "name", "op", "nl", "end", "loop" (a rolled comprehension)
    text: str
    pos: int       # offset in the source text
    payload: Any = None   # a "loop" token's (body tokens, clauses)


@dataclass
class _Val:
    node: int
    kind: str      # "real" or "bool"
    pos: int       # where the value's text starts, for error messages
    name: str | None = None   # the name the user wrote, when the value is just a name
    elems: list[int] | None = None       # an array's element nodes, row-major (kind "array")
    shape: tuple[int, ...] = ()


class _Source:
    """The text and its line starts, to turn offsets into line:column for errors."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def error(self, message: str, pos: int, width: int = 1, cls: type = ParseError) -> ParseError:
        line = bisect_right(self.starts, pos) - 1
        start = self.starts[line]
        end = self.text.find("\n", start)
        src = self.text[start:] if end < 0 else self.text[start:end]
        return cls(message, line + 1, pos - start + 1, src.rstrip("\r"), width)


# Longest piece of user text quoted whole in a message; longer names are shortened.
_QUOTED = 40


def quote(text: str) -> str:
    """repr(text), shortened in the middle when long, so a message stays one short line."""
    if len(text) <= _QUOTED:
        return repr(text)
    return f"{text[:24]!r}...{text[-8:]!r} ({len(text):,} characters)"


def _describe(ch: str) -> str:
    """What an unexpected character is, by its Unicode name."""
    name = unicodedata.name(ch, "")
    shown = repr(ch) if ch.isprintable() else ""
    return f"{shown} (U+{ord(ch):04X}{' ' + name if name else ''})".strip()


def _tokens(src: _Source) -> Iterator[_Tok]:
    text, n, pos = src.text, len(src.text), 0
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        if m is None:
            ch = text[pos]
            if ch in _REJECTED:
                raise src.error(_REJECTED[ch], pos)
            if ord(ch) > 127:
                raise src.error(f"non-ASCII character {_describe(ch)} is not allowed; "
                                "names are ASCII letters, digits and '_'", pos)
            if ch.isprintable():
                raise src.error(f"operator {ch!r} is not supported", pos)
            raise src.error(f"unexpected control character {_describe(ch)}", pos)
        kind, end = m.lastgroup, m.end()
        if kind == "number" and end < n and (text[end].isalnum() or text[end] in "_."):
            _bad_number(src, pos, end)
        if kind not in ("ws", "comment"):
            yield _Tok(kind, m.group(), pos)  # type: ignore[arg-type]
        pos = end
    yield _Tok("end", "", n)


def _bad_number(src: _Source, start: int, end: int) -> None:
    """A number directly followed by letters, digits, '_' or '.': say what is wrong."""
    text = src.text
    stop = end
    while stop < len(text) and (text[stop].isalnum() or text[stop] in "_."):
        stop += 1
    word, follow = text[start:stop], text[end]
    if follow in "jJ":
        raise src.error(f"complex numbers are not supported: {quote(word)}", start, stop - start)
    if follow.isalpha() and follow not in "eE" and not text[start:end] == "0":
        num, rest = text[start:end], text[end:stop]
        hint = f" (write {num}*{rest})" if len(rest) <= _QUOTED else ""
        raise src.error(f"expected an operator between {quote(num)} and {quote(rest)}{hint}",
                        end)
    raise src.error(f"malformed number {quote(word)}", start, stop - start)


def name_problem(name: str, hints: bool = True) -> str | None:
    """Why `name` cannot be a name in an expression (a keyword, or starting with '__'),
    or None if it can. `hints`: say what the user probably meant (`if` -> use where())."""
    if keyword.iskeyword(name) or name in ("match", "case", "type", "_"):
        hint = "it is a Python keyword and cannot be a name"
        hint = _KEYWORD_HINTS.get(name, hint) if hints else hint
        return f"{quote(name)}: {hint}"
    if name.startswith("__"):
        return f"names starting with '__' are not allowed: {quote(name)}"
    return None


class _Parser(LoopParsing):
    def __init__(self, text: str, inputs: list[str] | None, max_nodes: int | None,
                 strict: bool = False, shapes: dict[str, tuple[int, ...]] | None = None,
                 loops: str = "auto", whole: bool = False) -> None:
        self.src = _Source(text)
        self.strict = strict                       # every free name must be declared
        self.graph = Graph(max_nodes)
        self.top = self.graph                      # the program's graph (not a body's)
        self.loops = loops                         # "auto", "roll", "unroll"
        self.whole = whole                         # array inputs are whole-array vars
        self.loop: LoopScope | None = None        # while a rolled loop's body is parsed
        self.rolled_any = False
        self.reads: dict[tuple[str, int], int] = {}   # outside loops: (array, flat) -> node
        self.read_body = Graph(None)               # the bodies of those reads
        self.bound: dict[str, _Val] = {}           # named intermediates
        self.used_inputs: dict[str, int] = {}      # input name -> first use offset
        self.declared = list(inputs or [])
        self.shapes = dict(shapes or {})           # array inputs -> shape
        self.arrays: dict[str, _Val] = {}          # array inputs whose elements exist
        self.elements = ElementNames(self.shapes)      # x_3 -> "x[3]", for messages
        self.declared_set = set(self.declared) | set(self.shapes)
        for name in self.declared:
            if name in self.shapes:
                self.array_input(name)
            else:
                self.graph.var(name)               # declared inputs come first, in order
        self.functions: dict[str, Function] = {}   # functions defined in the text
        self.scope: _Scope | None = None           # while parsing a definition's body
        self.last_definition: Function | None = None
        self.toks = iter(Expander(_tokens(self.src), _Tok, self.length, self.error,
                                  self.reserved, max_nodes, self.roll))
        self.tok = next(self.toks)
        self.ahead: _Tok | None = None

    # --- token stream ----------------------------------------------------------------------

    def advance(self) -> _Tok:
        tok = self.tok
        if self.ahead is not None:
            self.tok, self.ahead = self.ahead, None
        else:
            self.tok = next(self.toks)
        return tok

    def peek(self) -> _Tok:
        if self.ahead is None:
            self.ahead = next(self.toks)
        return self.ahead

    def error(self, message: str, tok: _Tok | int, width: int | None = None,
              cls: type = ParseError) -> ParseError:
        if isinstance(tok, int):
            return self.src.error(message, tok, width or 1, cls)
        return self.src.error(message, tok.pos, width or max(1, len(tok.text)), cls)

    # --- statements ------------------------------------------------------------------------

    def parse(self) -> Expression:
        last: tuple[list[_Val], list[str]] | None = None
        while self.tok.kind != "end":
            if self.tok.kind == "nl" or self.tok.text == ";":
                self.advance()
                continue
            last = self.statement()
        if last is None and self.last_definition is not None:
            fn = self.last_definition
            raise self.error(f"the last statement defines {quote(fn.name)}: end with the "
                             "expression to compute (a definition is not an output)", fn.pos,
                             len(fn.name))
        if last is None:
            raise self.error("empty expression: there is nothing to compile", 0)
        values, labels = last
        return Expression(self.graph, [v.node for v in values], labels,
                          self.graph.variables(), self.src.text,
                          {k: v.node for k, v in self.bound.items()},
                          [v.pos for v in values], dict(self.used_inputs),
                          {n: v.shape for n, v in self.arrays.items()}, self.rolled_any)

    def statement(self) -> tuple[list[_Val], list[str]] | None:
        """One statement; returns its values and their labels (for the last statement), or
        None for a function definition."""
        target = None
        if self.tok.kind == "name":
            self.check_name(self.tok)
        if (self.tok.kind == "name" and self.peek().text == "("
                and DEF_HEAD.match(self.src.text, self.tok.pos)):
            self.definition()
            return None
        if self.tok.kind == "name" and self.peek().text == "=":
            target = self.advance()
            self.check_target(target)
            self.advance()                          # '='
        start = self.tok
        values = self.expression(allow_tuple=target is None)
        if self.tok.kind not in ("nl", "end") and self.tok.text != ";":
            raise self.error(f"unexpected {self.show(self.tok)}", self.tok)
        if target is not None:
            val = values[0]
            if val.kind == "array":
                self.bound[target.text] = _Val(-1, "array", target.pos, None,
                                               self.elems(val), val.shape)
                return self.elements_of([val], target.text)
            if val.kind != "real":
                raise self.error("a comparison can only be the condition of where()", start)
            self.bound[target.text] = _Val(val.node, val.kind, target.pos)
            if self.graph.ops[val.node] not in ("var", "const"):
                self.graph.name(val.node, target.text)
            return values, [target.text]
        for v in values:
            if v.kind not in ("real", "array"):
                raise self.error("a comparison can only be the condition of where()", v.pos)
        if any(v.kind == "array" for v in values):
            return self.elements_of(values, None)
        if len(values) == 1:
            return values, [self.label(values[0], "f")]
        return values, [self.label(v, f"f{i}") for i, v in enumerate(values)]

    def elements_of(self, values: list[_Val], name: str | None
                    ) -> tuple[list[_Val], list[str]]:
        """Outputs with arrays flattened (row-major): an array named `r` gives r_0, r_1,
        ...; unnamed ones f0, f1, ... like several outputs."""
        flat: list[_Val] = []
        labels: list[str] = []
        for v in values:
            if v.kind != "array":
                flat.append(v)
                labels.append(self.label(v, f"f{len(labels)}"))
                continue
            base = name or v.name
            for idx, node in zip(element_indices(v.shape), self.elems(v)):
                flat.append(_Val(node, "real", v.pos))
                labels.append(element_name(base, idx) if base else f"f{len(labels)}")
        if not flat:
            raise self.error("the output is an empty array", values[0].pos)
        return flat, labels

    def label(self, val: _Val, default: str) -> str:
        """An output's label: the name the user wrote for it (an alias `phi = a; phi` is
        `phi`, not the node's first name `a`), else the node's name, else `default`."""
        g = self.graph
        if val.name is not None:
            return val.name
        if g.ops[val.node] == "var":
            return g.values[val.node]
        return g.names.get(val.node, default)

    def check_target(self, tok: _Tok) -> None:
        name = tok.text
        self.check_name(tok)
        if name in FUNCTIONS or name in self.functions:
            raise self.error(f"cannot assign to {quote(name)}: it is a function name", tok)
        if name in CONSTANTS:
            raise self.error(f"cannot assign to {quote(name)}: it is a constant", tok)
        if name in self.bound:
            first = self.src.error("", self.bound[name].pos)
            raise self.error(f"{quote(name)} is already bound at {first.line}:{first.column}; "
                             "each name is bound once", tok)
        if name in self.used_inputs:
            used = self.src.error("", self.used_inputs[name])
            raise self.error(f"{quote(name)} is used at {used.line}:{used.column} before this "
                             "definition (define it first, or use another name)", tok)
        if name in self.declared_set:
            raise self.error(f"cannot assign to {quote(name)}: it is a declared input", tok)
        if name in self.elements:
            raise self.error(f"cannot assign to {quote(name)}: it is the name of "
                             f"{self.elements[name]}", tok)
        if name in _ARRAY_CALLS:
            raise self.error(f"cannot assign to {quote(name)}: it is a function name", tok)

    def check_name(self, tok: _Tok) -> None:
        problem = name_problem(tok.text)
        if problem is not None:
            raise self.error(problem, tok)

    # --- function definitions: `name(a, b) = expr` (expansion: symback/functions.py) ---------

    def definition(self) -> None:
        """Parse `name(params) = body` and register the function."""
        head = self.advance()
        self.check_function_name(head)
        self.advance()                              # '('
        params: list[_Tok] = []
        while True:
            tok = self.tok
            if tok.kind != "name":
                if tok.text == ")" and not params:
                    raise self.error(f"{head.text}() needs at least one parameter (for a "
                                     f"constant, bind a name: '{head.text} = ...')", tok)
                raise self.error(f"expected a parameter name, found {self.show(tok)}", tok)
            self.check_parameter(tok, head, params)
            params.append(self.advance())
            if self.tok.text == ",":
                self.advance()
            elif self.tok.text == ")":
                break
            else:
                raise self.error(f"expected ',' or ')' after a parameter, found "
                                 f"{self.show(self.tok)}", self.tok)
        self.advance()                              # ')'
        self.advance()                              # '='
        outer = self.graph
        self.graph = Graph(outer.max_nodes)         # the body's template
        self.scope = _Scope(head.text, tuple(p.text for p in params), outer)
        try:
            start = self.tok
            val = self.expression(allow_tuple=False)[0]
            if self.tok.kind not in ("nl", "end") and self.tok.text != ";":
                raise self.error(f"unexpected {self.show(self.tok)}", self.tok)
            if val.kind != "real":
                raise self.error("a comparison can only be the condition of where()", start)
            fn = Function(head.text, self.scope.params, head.pos, self.graph, val.node)
        finally:
            self.graph, self.scope = outer, None
        self.functions[fn.name] = self.last_definition = fn

    def check_function_name(self, tok: _Tok) -> None:
        name = tok.text
        self.check_name(tok)
        if name in FUNCTIONS:
            raise self.error(f"cannot redefine the built-in function {quote(name)}", tok)
        if name in self.functions:
            first = self.at(self.functions[name].pos)
            raise self.error(f"{quote(name)} is already defined at {first}; each function is "
                             "defined once", tok)
        if name in CONSTANTS:
            raise self.error(f"cannot define {quote(name)}: it is a constant", tok)
        if name in self.bound:
            first = self.at(self.bound[name].pos)
            raise self.error(f"{quote(name)} is already bound at {first}; a function needs a "
                             "name of its own", tok)
        if name in self.used_inputs:
            raise self.error(f"{quote(name)} is used as an input at "
                             f"{self.at(self.used_inputs[name])}; a function needs a name of its "
                             "own", tok)
        if name in self.declared_set:
            raise self.error(f"cannot define {quote(name)}: it is a declared input", tok)

    def check_parameter(self, tok: _Tok, head: _Tok, params: list[_Tok]) -> None:
        name = tok.text
        self.check_name(tok)
        if name in FUNCTIONS or name in self.functions or name == head.text:
            raise self.error(f"parameter {quote(name)} is named like a function", tok)
        if name in CONSTANTS:
            raise self.error(f"parameter {quote(name)} is named like a constant", tok)
        if any(p.text == name for p in params):
            raise self.error(f"parameter {quote(name)} is listed twice", tok)

    def call_function(self, tok: _Tok, args: list[_Val]) -> _Val:
        """Expand a call of a function defined in the text into the current graph."""
        fn = self.functions[tok.text]
        if len(args) != fn.arity:
            raise self.error(f"{fn.name}() takes {fn.arity_text()}, got {len(args)}", tok)
        for a in args:
            self.require_real(a, tok)
        graph, bound = self.graph, self.bound
        if self.scope is not None:                  # into a body: names stay placeholders
            leaf = graph.var
        elif self.loop is not None:                 # into a rolled loop: outer values
            def leaf(name: str) -> int:             # are captured
                return self.capture(bound[name].node if name in bound
                                    else self.top.var(name))
        else:
            def leaf(name: str) -> int:
                return bound[name].node if name in bound else graph.var(name)
        try:
            node = expand(fn, graph, [a.node for a in args], leaf)
        except LimitError as exc:
            raise self.error(exc.message, tok, cls=LimitError) from None
        return _Val(node, "real", tok.pos)

    def unknown_call(self, tok: _Tok) -> ParseError | None:
        """The error for a call of a name that is not a function yet, if it is the function
        being defined or one defined later (recursion is not possible)."""
        name = tok.text
        if self.scope is not None and name == self.scope.name:
            return self.error(f"{quote(name)} calls itself: recursion is not supported (a "
                              "function can call only functions defined before it)", tok)
        if self.scope is not None and name in self.scope.params:
            return self.error(f"{quote(name)} is a parameter, not a function", tok)
        later = defined_later(self.src.text, name, tok.pos)
        if later is not None:
            return self.error(f"{quote(name)} is defined later, at {self.at(later)}: a function "
                              "can be called only after its definition (so no recursion)", tok)
        return None

    def at(self, pos: int) -> str:
        """`line:column` of an offset."""
        where = self.src.error("", pos)
        return f"{where.line}:{where.column}"

    # --- expressions (shunting-yard) -------------------------------------------------------

    def expression(self, allow_tuple: bool) -> list[_Val]:
        """Parse up to the end of the statement; returns one value, or several for `a, b`."""
        values: list[_Val] = []
        # Frames on the operator stack: ("bin", tok), ("neg", tok), ("pos", tok),
        # ("paren", tok), ("call", tok, first value index).
        stack: list[tuple] = []
        outputs: list[_Val] = []
        expect_operand = True
        depth = 0                                   # open '(' and calls: newlines continue
        while True:
            tok = self.tok
            if tok.kind == "nl" and depth:
                self.advance()                      # inside parentheses, as in Python
                continue
            if expect_operand:
                if tok.kind == "number":
                    values.append(_Val(self.number(tok), "real", tok.pos))
                    expect_operand = False
                elif tok.kind == "loop":
                    values.append(_Val(self.rolled(tok), "real", tok.pos))
                    expect_operand = False
                elif tok.kind == "name":
                    self.check_name(tok)
                    follow = self.peek().text
                    if tok.text == "len" and follow == "(":
                        values.append(self.length_value(tok))
                    elif follow == "(":
                        self.open_call(tok, stack, len(values))
                        depth += 1
                        continue
                    elif follow == "[":
                        values.append(self.index(tok))
                    else:
                        values.append(self.name_value(tok))
                    expect_operand = False
                elif tok.text in ("(", "["):
                    stack.append(("paren" if tok.text == "(" else "list", tok, len(values)))
                    depth += 1
                elif (tok.text == "]" and stack and stack[-1][0] == "list"
                      and len(values) == stack[-1][2]):
                    depth -= 1
                    self.close_list(stack.pop(), values)
                    expect_operand = False
                elif tok.text in ("-", "+"):
                    stack.append(("neg" if tok.text == "-" else "pos", tok))
                else:
                    raise self.expected_operand(tok, stack)
                self.advance()
                continue
            text = tok.text
            if tok.kind == "op" and text in _PREC:
                self.reduce(values, stack, _PREC[text], text in _RIGHT_ASSOC)
                if _PREC[text] == 1 and values[-1].kind == "bool":
                    raise self.error("chained comparisons are not supported; nest where() "
                                     "instead", tok)
                stack.append(("bin", tok))
                expect_operand = True
            elif text in (")", "]"):
                self.reduce(values, stack, 0, False)
                if not stack:
                    raise self.error(f"unmatched {text!r}", tok)
                frame = stack.pop()
                depth -= 1
                if (frame[0] == "list") != (text == "]"):
                    raise self.error(self.unclosed(frame), self.opener(frame))
                if frame[0] == "call":
                    self.close_call(frame, values)
                elif frame[0] == "list":
                    self.close_list(frame, values)
            elif text == ",":
                self.reduce(values, stack, 0, False)
                if stack and stack[-1][0] in ("call", "list"):
                    expect_operand = True
                elif stack:
                    raise self.error("unexpected ',' inside parentheses (tuples are not "
                                     "supported)", tok)
                elif not allow_tuple:
                    raise self.error("several outputs ('a, b') cannot be bound to one name", tok)
                else:
                    outputs.append(values.pop())
                    expect_operand = True
            elif tok.kind in ("nl", "end") or text == ";":
                self.reduce(values, stack, 0, False)
                if stack:
                    raise self.error(self.unclosed(stack[-1]), self.opener(stack[-1]))
                outputs.append(values.pop())
                return outputs
            elif text == "=":
                if stack and stack[-1][0] == "call":
                    raise self.error("keyword arguments are not supported", tok)
                raise self.error("'=' is only allowed at the start of a statement "
                                 "('name = expression'); use '==' to compare", tok)
            else:
                if tok.kind == "name":
                    self.check_name(tok)
                if text in _UNSUPPORTED:
                    raise self.error(_UNSUPPORTED[text], tok)
                raise self.error(f"expected an operator after {self.show_prev(values)}, "
                                 f"found {self.show(tok)}", tok)
            self.advance()

    @staticmethod
    def opener(frame: tuple) -> _Tok:
        """The '(' or '[' token of a parenthesis, list or call frame."""
        return frame[3] if frame[0] == "call" else frame[1]

    @staticmethod
    def unclosed(frame: tuple) -> str:
        return "expected ']' to close '['" if frame[0] == "list" else "expected ')' to close '('"

    def expected_operand(self, tok: _Tok, stack: list[tuple]) -> ParseError:
        if tok.kind in ("nl", "end") or tok.text == ";":
            if stack and stack[-1][0] in ("bin", "neg", "pos"):
                op = stack[-1][1]
                return self.error(f"expected an expression after {op.text!r}", op)
            if stack:
                return self.error(self.unclosed(stack[-1]), self.opener(stack[-1]))
            return self.error("expected an expression", tok)
        if tok.text in _UNSUPPORTED:
            return self.error(_UNSUPPORTED[tok.text], tok)
        if tok.text == ")" and stack and stack[-1][0] == "call":
            name = stack[-1][1].text
            return self.error(f"{name}() needs {self.arity_text(name)}", tok)
        if tok.text == "=":
            return self.error("'=' is only allowed at the start of a statement "
                              "('name = expression')", tok)
        return self.error(f"expected an expression, found {self.show(tok)}", tok)

    def reduce(self, values: list[_Val], stack: list[tuple], prec: int, right: bool) -> None:
        """Apply stacked operators that bind tighter than an incoming operator of `prec`."""
        while stack:
            frame = stack[-1]
            kind = frame[0]
            if kind == "bin":
                top = _PREC[frame[1].text]
                if top < prec or (top == prec and right):
                    return
                stack.pop()
                b = values.pop()
                a = values.pop()
                values.append(self.build(frame[1], BINARY[frame[1].text], [a, b], a.pos))
            elif kind in ("neg", "pos"):
                if _UNARY_PREC < prec:
                    return
                stack.pop()
                a = values.pop()
                if kind == "pos":
                    self.require_real(a, frame[1])
                    values.append(_Val(a.node, a.kind, frame[1].pos))
                else:
                    values.append(self.build(frame[1], "neg", [a], frame[1].pos))
            else:
                return                              # '(' or a call: stop here

    def build(self, tok: _Tok, op: str, args: list[_Val], pos: int) -> _Val:
        spec = OPS[op]
        for k, a in enumerate(args):
            if spec.operand_kind(k) == "bool" and a.kind != "bool":
                raise self.error(f"{tok.text}() expects a comparison as its condition, "
                                 "e.g. where(x > 0, x, 0)", a.pos)
            if spec.operand_kind(k) == "real":
                self.require_real(a, tok)
        try:
            node = self.graph.apply(op, *(a.node for a in args))
        except LimitError as exc:
            raise self.error(exc.message, tok, cls=LimitError) from None
        return _Val(node, spec.kind, pos)

    def require_real(self, val: _Val, tok: _Tok) -> None:
        if val.kind == "array":
            what = quote(val.name) if val.name else "this"
            raise self.error(f"{what} is an array: index it (x[i]) or reduce it (sum(x), "
                             "dot(a, b))", val.pos)
        if val.kind != "real":
            raise self.error("a comparison can only be the condition of where()", val.pos)

    # --- calls -----------------------------------------------------------------------------

    def open_call(self, tok: _Tok, stack: list[tuple], first: int) -> None:
        name = tok.text
        self.check_name(tok)
        if name not in FUNCTIONS and name not in self.functions and name not in _ARRAY_CALLS:
            problem = self.unknown_call(tok)
            if problem is not None:
                raise problem
            if name in self.bound or name in self.used_inputs or name in self.declared:
                raise self.error(f"{quote(name)} is a variable, not a function", tok)
            hint = difflib.get_close_matches(name, list(FUNCTIONS) + list(self.functions), n=1)
            more = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise self.error(f"unknown function {quote(name)}{more}", tok)
        self.advance()                              # the name
        stack.append(("call", tok, first, self.tok))
        self.advance()                              # '('

    def close_call(self, frame: tuple, values: list[_Val]) -> None:
        tok, first = frame[1], frame[2]
        name = tok.text
        args = values[first:]
        del values[first:]
        if name in self.functions:
            values.append(self.call_function(tok, args))
            return
        if name in _ARRAY_CALLS or (name in REDUCERS and len(args) == 1
                                    and args[0].kind == "array"):
            values.append(self.array_call(tok, args))
            return
        arity = OPS[FUNCTIONS[name]].arity
        if name in VARIADIC and len(args) >= arity:
            acc = args[0]
            for nxt in args[1:]:
                acc = self.build(tok, FUNCTIONS[name], [acc, nxt], tok.pos)
            values.append(acc)
            return
        if len(args) != arity:
            raise self.error(f"{name}() takes {self.arity_text(name)}, got {len(args)}", tok)
        values.append(self.build(tok, FUNCTIONS[name], args, tok.pos))

    def arity_text(self, name: str) -> str:
        if name in self.functions:
            return self.functions[name].arity_text()
        if name == "dot":
            return "2 arrays"
        if name not in FUNCTIONS:                   # sum, prod: an array or a generator
            return "1 array or a generator"
        n = OPS[FUNCTIONS[name]].arity
        words = {1: "1 argument", 2: "2 arguments", 3: "3 arguments"}
        return ("at least " if name in VARIADIC else "") + words.get(n, f"{n} arguments")

    # --- leaves ----------------------------------------------------------------------------

    def number(self, tok: _Tok) -> int:
        value = float(tok.text)
        if value == float("inf"):
            raise self.error(f"number {quote(tok.text)} is too large for a float", tok)
        return self.const(value, tok)

    def const(self, value: float, tok: _Tok) -> int:
        try:
            return self.graph.const(value)
        except LimitError as exc:
            raise self.error(exc.message, tok, cls=LimitError) from None

    def name_value(self, tok: _Tok) -> _Val:
        name = tok.text
        self.check_name(tok)
        if self.scope is not None:
            if name == self.scope.name:
                raise self.error(f"{quote(name)} is the function being defined: a body cannot "
                                 "use it (no recursion)", tok)
            local = self.scope.lookup(name, self.graph, self.bound)
            if local is not None:
                return _Val(local, "real", tok.pos, name)
        if self.loop is not None and name in self.loop.env:
            return _Val(self.graph.var(name), "real", tok.pos, name)
        if name in self.bound:
            val = self.bound[name]
            if self.loop is not None and val.kind == "real":
                return _Val(self.capture(val.node), "real", tok.pos, name)
            return _Val(val.node, val.kind, tok.pos, name, val.elems, val.shape)
        if name in CONSTANTS:
            return _Val(self.const(CONSTANTS[name], tok), "real", tok.pos)
        if name in FUNCTIONS or name in self.functions:
            raise self.error(f"{quote(name)} is a function; call it as {name}(...)", tok)
        if name in self.shapes:
            self.used_inputs.setdefault(name, tok.pos)
            arr = self.array_input(name)
            return _Val(arr.node, "array", tok.pos, name, arr.elems, arr.shape)
        if name in self.elements:
            raise self.error(f"{quote(name)} is the name of {self.elements[name]}; write "
                             f"{self.elements[name]}", tok)
        if self.strict and name not in self.declared_set:
            raise self.error(self.undeclared(name), tok)
        self.used_inputs.setdefault(name, tok.pos)
        try:
            if self.scope is not None:             # a free name in a body is an input, in
                self.scope.outer.var(name)         # order of first appearance in the text
            node = self.graph.var(name) if self.loop is None else \
                self.capture(self.top.var(name))
        except LimitError as exc:
            raise self.error(exc.message, tok, cls=LimitError) from None
        return _Val(node, "real", tok.pos, name)

    # --- arrays ----------------------------------------------------------------------------

    def array_input(self, name: str) -> _Val:
        """The array input `name`, its element variables created (row-major) on first use."""
        arr = self.arrays.get(name)
        if arr is None and self.whole:             # one var for the whole array
            arr = self.arrays[name] = _Val(self.top.var(name), "array", 0, name, None,
                                           self.shapes[name])
            self.top.arrays[name] = self.shapes[name]
        if arr is None:
            shape = self.shapes[name]
            try:
                nodes = [self.graph.var(element_name(name, i)) for i in element_indices(shape)]
            except LimitError as exc:
                raise self.error(exc.message, self.used_inputs.get(name, 0),
                                 cls=LimitError) from None
            arr = self.arrays[name] = _Val(-1, "array", 0, name, nodes, shape)
        return arr

    def elems(self, val: _Val) -> list[int]:
        """The element nodes of an array value; for a whole-array input, its element reads
        (built on first use)."""
        if val.elems is None and val.name in self.shapes and self.whole:
            arr = self.array_input(val.name)
            if arr.elems is None:
                arr.elems = [self.read(val.name, i) for i in element_indices(arr.shape)]
            return arr.elems
        return val.elems or []

    def array_of(self, tok: _Tok) -> _Val:
        """The array named by `tok` (a bound array or an array input)."""
        name = tok.text
        val = self.bound.get(name)
        if val is not None:
            if val.kind != "array":
                raise self.error(f"{quote(name)} is not an array", tok)
            return val
        if name in self.shapes:
            self.used_inputs.setdefault(name, tok.pos)
            return self.array_input(name)
        raise self.error(f"{quote(name)} is not declared as an array (declare its shape: "
                         f"'# vars: {name}[n]', or shapes={{{name!r}: (n,)}})", tok)

    def length(self, tok: _Tok, axis: int) -> int:
        """len(name) / len(name, axis), for integer expressions."""
        shape = self.array_of(tok).shape
        if axis >= len(shape):
            raise self.error(f"{quote(tok.text)} has {len(shape)} dimension"
                             f"{'s' if len(shape) != 1 else ''}; there is no axis {axis}", tok)
        return shape[axis]

    def reserved(self, name: str) -> bool:
        """True if `name` may not be a loop variable (it names something else)."""
        return (name in self.bound or name in self.declared_set or name in self.used_inputs
                or name in FUNCTIONS or name in CONSTANTS or name in _ARRAY_CALLS
                or name in ("len", "range") or name in self.elements
                or name_problem(name) is not None)

    def bracketed(self) -> list[_Tok]:
        """At NAME followed by '(' or '[': the tokens inside the brackets; leaves the
        closing bracket as the current token."""
        self.advance()                              # the name
        opener = self.tok
        close = ")" if opener.text == "(" else "]"
        inner: list[_Tok] = []
        depth = 0
        while True:
            self.advance()
            tok = self.tok
            if tok.kind == "end":
                raise self.error(f"expected {close!r} to close {opener.text!r}", opener)
            if tok.kind == "nl":
                continue
            if tok.text in ("(", "["):
                depth += 1
            elif tok.text in (")", "]"):
                if depth == 0:
                    if tok.text != close:
                        raise self.error(f"expected {close!r} to close {opener.text!r}", opener)
                    return inner
                depth -= 1
            inner.append(tok)

    def index(self, tok: _Tok) -> _Val:
        """`x[i]`, `W[i, j]`: the element, its indices evaluated now."""
        arr = self.array_of(tok)
        inner = self.bracketed()
        parts = split_commas(inner)
        if len(parts) != len(arr.shape):
            raise self.error(f"{quote(tok.text)} has {len(arr.shape)} dimension"
                             f"{'s' if len(arr.shape) != 1 else ''}, so it takes "
                             f"{len(arr.shape)} ind{'ices' if len(arr.shape) != 1 else 'ex'}, "
                             f"not {len(parts)}", tok)
        flat: Any = 0
        index: list[Any] = []
        env = self.loop.env if self.loop is not None else {}
        for axis, part in enumerate(parts):
            if not part:
                raise self.error("expected an index", tok)
            i = int_value(part, env, self.length, self.error, "an index")
            n = arr.shape[axis]
            bad = i if isinstance(i, int) and not 0 <= i < n else None
            if not isinstance(i, int) and self.loop is not None:
                bad = index_in_range(self.loop.clauses, i, n)
            if bad is not None:
                width = part[-1].pos + len(part[-1].text) - part[0].pos
                what = f"index {i}" if isinstance(i, int) else \
                    f"index {index_text(i)} reaches {bad}, which"
                raise self.error(f"{what} is out of range for {quote(tok.text)} "
                                 f"(axis {axis} has size {n}: 0 to {n - 1})", part[0].pos,
                                 width)
            index.append(i)
            flat = flat * n + i if isinstance(i, int) and isinstance(flat, int) else None
        whole = self.whole and arr.node >= 0         # an array input, not a list
        if self.loop is not None and whole:         # an element read in a rolled body
            return _Val(self.loop.read(tok.text, tuple(index)), "real", tok.pos)
        if flat is None:
            raise self.error(f"{quote(tok.text)} is a list, not an array input: a rolled loop "
                             "indexes array inputs only (compile with loops='unroll', or "
                             "write the list's expression inside the loop)", tok)
        if whole:
            return _Val(self.read(tok.text, tuple(index)), "real", tok.pos)
        node = self.elems(arr)[flat]
        if self.loop is not None:
            node = self.capture(node)
        return _Val(node, "real", tok.pos)

    def length_value(self, tok: _Tok) -> _Val:
        """`len(x)` in a real expression: its value as a constant."""
        toks = [tok, self.peek()]
        toks += self.bracketed() + [self.tok]
        value = int_value(toks, {}, self.length, self.error, "len()")
        return _Val(self.const(float(value), tok), "real", tok.pos)

    def close_list(self, frame: tuple, values: list[_Val]) -> None:
        """`[a, b, ...]` (what a list comprehension unrolls to): an array value."""
        items = values[frame[2]:]
        del values[frame[2]:]
        inner = items[0].shape if items and items[0].kind == "array" else ()
        elems: list[int] = []
        for item in items:
            if item.kind == "array" and item.shape == inner and inner:
                elems += self.elems(item)
            elif item.kind == "real" and not inner:
                elems.append(item.node)
            else:
                if item.kind == "bool":
                    self.require_real(item, frame[1])
                raise self.error("the items of a list must be all numbers or all arrays of "
                                 "one shape", item.pos)
        values.append(_Val(-1, "array", frame[1].pos, None, elems, (len(items),) + inner))

    def array_call(self, tok: _Tok, args: list[_Val]) -> _Val:
        """sum(x), prod(x), min(x), max(x) and dot(a, b) on whole arrays."""
        name = tok.text
        if self.loop is not None:
            raise self.error(f"{name}() of a whole array inside a rolled loop: bind it to a "
                             f"name before the loop (s = {name}(...))", tok)
        rolled = self.whole_sum(tok, args)
        if rolled is not None:
            return _Val(rolled, "real", tok.pos)
        if name == "dot":
            if len(args) != 2 or any(a.kind != "array" for a in args):
                raise self.error("dot() takes two arrays of one shape", tok)
            a, b = args
            if a.shape != b.shape:
                raise self.error(f"dot(): the shapes {a.shape} and {b.shape} differ", tok)
            terms = [self.build(tok, "mul", [_Val(p, "real", tok.pos), _Val(q, "real", tok.pos)],
                                tok.pos) for p, q in zip(self.elems(a), self.elems(b))]
        else:
            if len(args) != 1 or args[0].kind != "array":
                raise self.error(f"{name}() takes one array or a generator: {name}(x) or "
                                 f"{name}(E for i in range(n))", tok)
            terms = [_Val(p, "real", tok.pos) for p in self.elems(args[0])]
        op = _ARRAY_CALLS.get(name) or FUNCTIONS[name]
        if not terms:
            if name in ("min", "max"):
                raise self.error(f"{name}() of an empty array", tok)
            return _Val(self.const(1.0 if name == "prod" else 0.0, tok), "real", tok.pos)
        acc = terms[0]
        for t in terms[1:]:
            acc = self.build(tok, op, [acc, t], tok.pos)
        return _Val(acc.node, "real", tok.pos)

    # --- names that are probably typos ------------------------------------------------------

    def undeclared(self, name: str) -> str:
        """The strict-mode error for a free name that was not declared."""
        hint = near_misses([name], list(self.bound), list(FUNCTIONS))
        more = f"did you mean {hint[0][1]!r}? " if hint else ""
        return (f"{quote(name)} is not defined ({more}strict mode: inputs are declared by "
                "'# vars:' or wrt)")

    def warn_near_misses(self) -> None:
        """Warn about each free, undeclared name that looks like a typo of a bound name or
        a function: it silently became an input."""
        free = [n for n in self.used_inputs if n not in self.declared_set]
        functions = list(FUNCTIONS) + list(self.functions)
        for name, meant in near_misses(free, list(self.bound), functions):
            what = "the function " if meant in functions else ""
            warning = self.error(f"{quote(name)} is not bound, so it is an input (did you mean "
                                 f"{what}{meant!r}?)", self.used_inputs[name], len(name),
                                 cls=SymbackWarning)
            warn(warning)

    # --- messages --------------------------------------------------------------------------

    @staticmethod
    def show(tok: _Tok) -> str:
        if tok.kind == "end":
            return "end of input"
        if tok.kind == "nl":
            return "end of line"
        kind = {"number": "number", "name": "name"}.get(tok.kind, "")
        return f"{kind} {quote(tok.text)}".strip()

    def show_prev(self, values: list[_Val]) -> str:
        if not values:
            return "the expression"
        pos = values[-1].pos
        m = _TOKEN.match(self.src.text, pos)
        return quote(m.group()) if m else "the expression"


@dataclass
class _Scope:
    """While a definition's body is parsed: the function's name, its parameters, and the
    graph the definition's statement belongs to."""

    name: str
    params: tuple[str, ...]
    outer: Graph

    def lookup(self, name: str, body: Graph, bound: dict[str, _Val]) -> int | None:
        """The body node of a parameter or of a name bound before the definition (a
        placeholder input, replaced when a call is expanded), or None."""
        if name in self.params:
            return body.var(param_name(self.params.index(name)))
        if name in bound:
            return body.var(name)
        return None


def parse(text: str, inputs: list[str] | None = None, *,
          max_chars: int | None = DEFAULT_MAX_CHARS,
          max_nodes: int | None = DEFAULT_MAX_NODES, strict: bool = False,
          shapes: dict[str, tuple[int, ...]] | None = None, loops: str = "auto"
          ) -> Expression:
    """Parse expression text into a graph.

    A free name that looks like a typo of a bound name or a function (`loss = ...; los * 2`)
    is warned about with a `SymbackWarning` (see `symback.typos`).

    Args:
        text: the expression, one or more statements.
        inputs: names declared as inputs, in order (they come first in `Expression.inputs`,
            even if unused); other free names follow in order of first appearance.
        max_chars, max_nodes: size limits (None lifts them).
        strict: every free name must be one of `inputs`; any other is a `ParseError`.
        shapes: array inputs -> shape (`x[i]`, `sum(x)`; see symback.arrays); their
            elements are the graph variables x_0, x_1, ... (W_1_2 for 2-D), row-major.
            When a loop is rolled, an array input is one graph variable instead, read by
            loop nodes (symback.loops).
        loops: "auto" keeps a `sum` comprehension of `AUTO_ROLL` or more iterations as one
            loop node, "roll" keeps every `sum` comprehension, "unroll" none.

    Returns:
        The parsed `Expression`.

    Raises:
        ParseError: the text is not valid input; the error carries line and column.
        LimitError: the text or its graph exceeds a limit.
    """
    if not isinstance(text, str):
        raise ParseError(f"the expression must be a string, not {type(text).__name__}")
    if max_chars is not None and len(text) > max_chars:
        raise _Source(text).error(f"the input is {len(text):,} characters; the limit is "
                                  f"{max_chars:,} (lift it with max_chars=None or --no-limits)",
                                  max_chars, cls=LimitError)
    if loops not in LOOP_MODES:
        raise ArgumentError(f"loops must be one of {', '.join(LOOP_MODES)}, not {loops!r}")
    whole = bool(shapes) and loops != "unroll"
    parser = _Parser(text, inputs, max_nodes, strict, shapes, loops, whole)
    expression = parser.parse()
    if whole and not parser.rolled_any:         # nothing rolled: arrays are their elements
        parser = _Parser(text, inputs, max_nodes, strict, shapes, loops)
        expression = parser.parse()
    parser.warn_near_misses()
    return expression

