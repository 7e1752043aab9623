"""Reference values: sympy's exact gradient evaluated with mpmath at 30 digits.

The workload text is read by a small parser of our own (Python expression
syntax: + - * / **, unary minus, calls, parentheses) that builds sympy
expressions directly, so the oracle exists even for workloads CPython's parser
rejects (chain_1000 has 1000 nested parentheses).  Float literals and the
sample point are taken as the exact binary64 values the peers compute with.

Evaluation walks each expression DAG iteratively with mpmath, memoising shared
subexpressions, so neither deep nesting nor the size of the derivative
expressions hits Python's recursion limit or compiler.
"""

from __future__ import annotations

import re
import sys
import threading

DIGITS = 30

_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<num>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z_0-9]*)
  | (?P<op>\*\*|[-+*/(),])
""", re.VERBOSE)


def tokenize(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise SyntaxError(f"unexpected character {text[pos]!r} at offset {pos}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    out.append(("end", ""))
    return out


class _Parser:
    def __init__(self, sympy, text: str, names):
        self.sp = sympy
        self.toks = tokenize(text)
        self.i = 0
        self.symbols = {n: sympy.Symbol(n) for n in names}
        self.functions = {n: getattr(sympy, n) for n in
                          ("sin", "cos", "tan", "exp", "log", "tanh", "sinh", "cosh", "sqrt",
                           "asin", "acos", "atan")}
        self.functions["abs"] = sympy.Abs

    def peek(self):
        return self.toks[self.i]

    def take(self, value=None):
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise SyntaxError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self):
        e = self.expr()
        if self.peek()[0] != "end":
            raise SyntaxError(f"trailing input at {self.peek()[1]!r}")
        return e

    def expr(self):  # term (('+'|'-') term)*
        terms = [self.term()]
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            t = self.term()
            terms.append(t if op == "+" else -t)
        return terms[0] if len(terms) == 1 else self.sp.Add(*terms)

    def term(self):  # unary (('*'|'/') unary)*
        factors = [self.unary()]
        while self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            f = self.unary()
            factors.append(f if op == "*" else self.sp.Pow(f, -1))
        return factors[0] if len(factors) == 1 else self.sp.Mul(*factors)

    def unary(self):  # ('-'|'+') unary | power ; -x**2 == -(x**2) as in Python
        if self.peek()[1] == "-":
            self.take()
            return -self.unary()
        if self.peek()[1] == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self):  # atom ['**' unary]  (right associative)
        base = self.atom()
        if self.peek()[1] == "**":
            self.take()
            return self.sp.Pow(base, self.unary())
        return base

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            if re.fullmatch(r"\d+", value):
                return self.sp.Integer(int(value))
            return self.sp.Float(float(value))  # exactly the binary64 value
        if kind == "name":
            if self.peek()[1] == "(":
                if value not in self.functions:
                    raise SyntaxError(f"unknown function {value!r}")
                self.take("(")
                args = [self.expr()]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expr())
                self.take(")")
                return self.functions[value](*args)
            if value not in self.symbols:
                raise SyntaxError(f"unknown variable {value!r}")
            return self.symbols[value]
        if value == "(":
            e = self.expr()
            self.take(")")
            return e
        raise SyntaxError(f"unexpected token {value!r}")


def evaluate(sympy, mpmath, exprs, env) -> list:
    """Evaluate sympy expressions at ``env`` (Symbol -> mpf), iteratively, memoised by node."""
    memo: dict = {}
    funcs = {"sin": mpmath.sin, "cos": mpmath.cos, "tan": mpmath.tan, "exp": mpmath.exp,
             "log": mpmath.log, "tanh": mpmath.tanh, "sinh": mpmath.sinh, "cosh": mpmath.cosh,
             "asin": mpmath.asin, "acos": mpmath.acos, "atan": mpmath.atan, "Abs": abs}

    def leaf(node):
        if node.is_Symbol:
            return env[node]
        if node.is_Integer:
            return mpmath.mpf(int(node))
        if node.is_Rational:
            return mpmath.mpf(int(node.p)) / int(node.q)
        if node.is_Float:
            return mpmath.mpf(node._mpf_)
        if node is sympy.pi:
            return +mpmath.pi
        if node is sympy.E:
            return mpmath.e()
        raise ValueError(f"cannot evaluate {node!r}")

    for root in exprs:
        stack = [root]
        while stack:
            node = stack[-1]
            if node in memo:
                stack.pop()
                continue
            if not node.args:
                memo[node] = leaf(node)
                stack.pop()
                continue
            pending = [a for a in node.args if a not in memo]
            if pending:
                stack.extend(pending)
                continue
            stack.pop()
            vals = [memo[a] for a in node.args]
            if node.is_Add:
                memo[node] = mpmath.fsum(vals)
            elif node.is_Mul:
                r = vals[0]
                for v in vals[1:]:
                    r *= v
                memo[node] = r
            elif node.is_Pow:
                b, e = node.args
                if e.is_Integer:
                    memo[node] = vals[0] ** int(e)
                elif e == sympy.Rational(1, 2):
                    memo[node] = mpmath.sqrt(vals[0])
                else:
                    memo[node] = mpmath.power(vals[0], vals[1])
            else:
                name = type(node).__name__
                if name not in funcs:
                    raise ValueError(f"cannot evaluate function {name}")
                memo[node] = funcs[name](*vals)
    return [memo[r] for r in exprs]


def compute(workload) -> dict:
    """{"value": str, "grad": [str, ...], "digits": 30} for the workload's sample point."""
    import mpmath
    import sympy

    expr = _Parser(sympy, workload.text, workload.vars).parse()
    syms = [sympy.Symbol(v) for v in workload.vars]
    grads = [sympy.diff(expr, s) for s in syms]
    with mpmath.workdps(DIGITS + 10):
        env = {s: mpmath.mpf(float(p)) for s, p in zip(syms, workload.point)}
        vals = evaluate(sympy, mpmath, [expr, *grads], env)
        strs = [mpmath.nstr(v, DIGITS) for v in vals]
    return {"value": strs[0], "grad": strs[1:], "digits": DIGITS}


def compute_deep(workload) -> dict:
    """``compute`` in a thread with a large stack and recursion limit: sympy's
    diff/hash recurse once per nesting level (1000+ for chain_1000)."""
    result: dict = {}

    def target():
        try:
            result["ok"] = compute(workload)
        except BaseException as exc:  # reported to the runner
            result["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"

    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200_000)
    threading.stack_size(1 << 29)
    try:
        t = threading.Thread(target=target)
        t.start()
        t.join()
    finally:
        sys.setrecursionlimit(old_limit)
    if "error" in result:
        raise RuntimeError(result["error"])
    return result["ok"]


def max_error(oracle: dict, value: float, grad) -> float:
    """max over value and gradient components of |got - exact| / max(1, |exact|)."""
    import mpmath

    with mpmath.workdps(DIGITS + 10):
        exact = [mpmath.mpf(oracle["value"])] + [mpmath.mpf(g) for g in oracle["grad"]]
        got = [value, *grad]
        if len(got) != len(exact):
            return float("inf")
        worst = mpmath.mpf(0)
        for g, e in zip(got, exact):
            g = float(g)
            if g != g or g in (float("inf"), float("-inf")):
                return float("nan")
            err = abs(mpmath.mpf(g) - e) / max(mpmath.mpf(1), abs(e))
            worst = max(worst, err)
        return float(worst)
