"""Reference values: exact gradient evaluated with mpmath at 30 digits.

The workload text is read by a small parser of our own (Python expression
syntax: + - * / **, unary minus, calls, parentheses) into a hash-consed DAG, so
the oracle exists even for workloads CPython's parser rejects (chain_1000 has
1000 nested parentheses).  Float literals and the sample point are taken as the
exact binary64 values the peers compute with.

Two methods (the runner tries them in this order):

* ``sympy`` (primary): the DAG becomes a sympy expression, ``sympy.diff`` gives
  the exact gradient, and every expression is evaluated with mpmath at 40
  digits by an iterative, memoised walk (no recursion limit, no compiler).
  sympy.diff is superlinear on some workloads (product_1000, chain_1000), so it
  runs under a time cap.
* ``ad`` (fallback, when sympy hits its cap): reverse accumulation over the DAG
  in mpmath at 40 digits, with the textbook derivative of each operation.

Both report 30 significant digits.
"""

from __future__ import annotations

import re

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


class Graph:
    """The parsed expression as a hash-consed DAG: node i = (op, payload, children).

    ops: num (payload: literal text), var (payload: name), add (payload: signs),
    mul (payload: powers +1/-1, i.e. * or /), neg, pow, call (payload: function name).
    Children always have smaller ids than their parents.
    """

    def __init__(self):
        self.nodes: list[tuple] = []
        self._index: dict[tuple, int] = {}

    def add(self, op: str, payload=None, children: tuple = ()) -> int:
        key = (op, payload, tuple(children))
        if key not in self._index:
            self._index[key] = len(self.nodes)
            self.nodes.append(key)
        return self._index[key]


FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "tanh", "sinh", "cosh", "sqrt", "asin", "acos", "atan",
             "abs")


class _Parser:
    """Recursive descent over Python's expression grammar (the subset workloads use)."""

    def __init__(self, text: str, names):
        self.toks = tokenize(text)
        self.i = 0
        self.names = set(names)
        self.g = Graph()

    def peek(self):
        return self.toks[self.i]

    def take(self, value=None):
        tok = self.toks[self.i]
        if value is not None and tok[1] != value:
            raise SyntaxError(f"expected {value!r}, got {tok[1]!r}")
        self.i += 1
        return tok

    def parse(self) -> tuple[Graph, int]:
        root = self.expr()
        if self.peek()[0] != "end":
            raise SyntaxError(f"trailing input at {self.peek()[1]!r}")
        return self.g, root

    def expr(self):  # term (('+'|'-') term)*   -> one n-ary add
        terms, signs = [self.term()], [1]
        while self.peek()[1] in ("+", "-"):
            signs.append(1 if self.take()[1] == "+" else -1)
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else self.g.add("add", tuple(signs), tuple(terms))

    def term(self):  # unary (('*'|'/') unary)*   -> one n-ary mul
        factors, powers = [self.unary()], [1]
        while self.peek()[1] in ("*", "/"):
            powers.append(1 if self.take()[1] == "*" else -1)
            factors.append(self.unary())
        return factors[0] if len(factors) == 1 else self.g.add("mul", tuple(powers), tuple(factors))

    def unary(self):  # ('-'|'+') unary | power ; -x**2 == -(x**2) as in Python
        if self.peek()[1] == "-":
            self.take()
            return self.g.add("neg", None, (self.unary(),))
        if self.peek()[1] == "+":
            self.take()
            return self.unary()
        return self.power()

    def power(self):  # atom ['**' unary]  (right associative)
        base = self.atom()
        if self.peek()[1] == "**":
            self.take()
            return self.g.add("pow", None, (base, self.unary()))
        return base

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return self.g.add("num", value)
        if kind == "name":
            if self.peek()[1] == "(":
                if value not in FUNCTIONS:
                    raise SyntaxError(f"unknown function {value!r}")
                self.take("(")
                args = [self.expr()]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expr())
                self.take(")")
                return self.g.add("call", value, tuple(args))
            if value not in self.names:
                raise SyntaxError(f"unknown variable {value!r}")
            return self.g.add("var", value)
        if value == "(":
            e = self.expr()
            self.take(")")
            return e
        raise SyntaxError(f"unexpected token {value!r}")


def parse(workload) -> tuple[Graph, int]:
    return _Parser(workload.text, workload.vars).parse()


def _literal(text: str):
    """Python's value of a numeric literal: int, or the binary64 float."""
    return int(text) if re.fullmatch(r"\d+", text) else float(text)


def to_sympy(sympy, graph: Graph, root: int):
    """Build the sympy expression bottom-up.

    Float literals become exact Rationals of their binary64 value, so sympy never
    rounds constants while it simplifies and differentiates."""
    funcs = {n: getattr(sympy, n) for n in FUNCTIONS if n != "abs"} | {"abs": sympy.Abs}
    built = []
    for op, payload, ch in graph.nodes[: root + 1]:
        args = [built[c] for c in ch]
        if op == "num":
            v = _literal(payload)
            e = sympy.Integer(v) if isinstance(v, int) else sympy.Rational(v)
        elif op == "var":
            e = sympy.Symbol(payload)
        elif op == "add":
            e = sympy.Add(*[a if s > 0 else -a for s, a in zip(payload, args)])
        elif op == "mul":
            e = sympy.Mul(*[a if p > 0 else sympy.Pow(a, -1) for p, a in zip(payload, args)])
        elif op == "neg":
            e = -args[0]
        elif op == "pow":
            e = sympy.Pow(args[0], args[1])
        else:
            e = funcs[payload](*args)
        built.append(e)
    return built[root]


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


def compute_sympy(workload) -> dict:
    """sympy.diff of the whole expression, evaluated with mpmath."""
    import mpmath
    import sympy

    graph, root = parse(workload)
    expr = to_sympy(sympy, graph, root)
    syms = [sympy.Symbol(v) for v in workload.vars]
    grads = [sympy.diff(expr, s) for s in syms]
    with mpmath.workdps(DIGITS + 10):
        env = {s: mpmath.mpf(float(p)) for s, p in zip(syms, workload.point)}
        vals = evaluate(sympy, mpmath, [expr, *grads], env)
        strs = [mpmath.nstr(v, DIGITS) for v in vals]
    return {"value": strs[0], "grad": strs[1:], "digits": DIGITS, "method": "sympy"}


def compute_ad(workload) -> dict:
    """Fallback: reverse accumulation over the parsed DAG in mpmath at 40 digits,
    with the textbook local derivative of each operation (no sympy)."""
    import mpmath

    graph, root = parse(workload)
    nodes = graph.nodes[: root + 1]
    point = dict(zip(workload.vars, workload.point))
    with mpmath.workdps(DIGITS + 10):
        mpf = mpmath.mpf
        val: list = []
        const: list[bool] = []
        for op, payload, ch in nodes:  # forward sweep
            a = [val[c] for c in ch]
            if op == "num":
                v = mpf(_literal(payload))
            elif op == "var":
                v = mpf(float(point[payload]))
            elif op == "add":
                v = mpmath.fsum(x if s > 0 else -x for s, x in zip(payload, a))
            elif op == "mul":
                v = mpf(1)
                for p, x in zip(payload, a):
                    v = v * x if p > 0 else v / x
            elif op == "neg":
                v = -a[0]
            elif op == "pow":
                v = mpmath.power(a[0], a[1])
            else:
                v = abs(a[0]) if payload == "abs" else getattr(mpmath, payload)(*a)
            val.append(v)
            const.append(op == "num" or (op != "var" and all(const[c] for c in ch)))
        adj = [mpf(0)] * len(nodes)
        adj[root] = mpf(1)
        for i in range(root, -1, -1):  # reverse sweep
            op, payload, ch = nodes[i]
            g = adj[i]
            if not ch or g == 0:
                continue
            a = [val[c] for c in ch]
            if op == "add":
                for s, c in zip(payload, ch):
                    adj[c] += g if s > 0 else -g
            elif op == "mul":
                terms = [x if p > 0 else 1 / x for p, x in zip(payload, a)]
                prefix = [mpf(1)]
                for t in terms[:-1]:
                    prefix.append(prefix[-1] * t)
                suffix = mpf(1)
                for k in range(len(terms) - 1, -1, -1):
                    others = prefix[k] * suffix
                    d = others if payload[k] > 0 else -others / (a[k] * a[k])
                    adj[ch[k]] += g * d
                    suffix *= terms[k]
            elif op == "neg":
                adj[ch[0]] -= g
            elif op == "pow":
                b, e = a
                adj[ch[0]] += g * e * mpmath.power(b, e - 1)
                if not const[ch[1]]:
                    adj[ch[1]] += g * val[i] * mpmath.log(b)
            else:
                u, v = a[0], val[i]
                d = {
                    "sin": lambda: mpmath.cos(u), "cos": lambda: -mpmath.sin(u),
                    "tan": lambda: 1 + v * v, "exp": lambda: v, "log": lambda: 1 / u,
                    "tanh": lambda: 1 - v * v, "sinh": lambda: mpmath.cosh(u),
                    "cosh": lambda: mpmath.sinh(u), "sqrt": lambda: 1 / (2 * v),
                    "asin": lambda: 1 / mpmath.sqrt(1 - u * u), "acos": lambda: -1 / mpmath.sqrt(1 - u * u),
                    "atan": lambda: 1 / (1 + u * u), "abs": lambda: mpmath.sign(u),
                }[payload]()
                adj[ch[0]] += g * d
        var_id = {payload: i for i, (op, payload, _) in enumerate(nodes) if op == "var"}
        grads = [adj[var_id[v]] if v in var_id else mpf(0) for v in workload.vars]
        strs = [mpmath.nstr(x, DIGITS) for x in [val[root], *grads]]
    return {"value": strs[0], "grad": strs[1:], "digits": DIGITS, "method": "mpmath-ad"}


METHODS = {"sympy": compute_sympy, "ad": compute_ad}


def compute_deep(workload, method: str = "sympy") -> dict:
    """``METHODS[method]`` in a thread with a large stack and recursion limit: sympy's
    diff/hash recurse once per nesting level (1000+ for chain_1000)."""
    from benchmarks.deep import run_deep

    try:
        return run_deep(lambda: METHODS[method](workload))
    except BaseException as exc:  # reported to the runner
        raise RuntimeError(f"{type(exc).__name__}: {str(exc)[:200]}") from None


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
