"""LaTeX: the worked backpropagation example and the gradient formulas, as `align*` blocks.

- `format_latex(trace)` (`symback explain --format latex`) writes the seed tutorial's layout:
  the forward pass (each node's equation and value), the local partial derivative on every
  edge, the backward pass (each adjoint as its chain-rule products, with the numbers filled
  in) and the gradient. Formulas are printed by `sympy.latex` from the same graph nodes the
  compiler uses; the layout (fractions of partials, numbers) is written here.
- `gradient_latex(expr)` (`symback latex EXPR`) prints the value and gradient formulas of
  `symback.to_sympy`: the shared subexpressions are named (`t_{1} = x + y`) and used by name.

Both need amsmath (`\\usepackage{amsmath}`): `align*` and `\\intertext`. Every row is
`lhs &= rhs`, rows end with `\\\\` (but the last), section titles are `\\intertext{...}`.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, Callable, Mapping, Sequence

from .explain import Adjoint, Trace, Value, prepare
from .graph import Graph, Node
from .ops import OPS
from .report import DEFAULT_DIGITS, DEFAULT_LIMIT, MAX_TERMS, number


# --- pieces ---------------------------------------------------------------------------------

def latex_number(v: Value, digits: int = DEFAULT_DIGITS) -> str:
    """A value in LaTeX: 144, 0.841471, -3, 1.5 \\cdot 10^{-7}, \\infty, \\mathrm{nan}."""
    text = number(v, digits)
    if text in ("inf", "-inf"):
        return text.replace("inf", "\\infty")
    if text in ("nan", "true", "false"):
        return f"\\mathrm{{{text}}}"
    m = re.fullmatch(r"(-?[0-9.]+)e([-+]?)0*([0-9]+)", text)
    if m:
        sign = "-" if m.group(2) == "-" else ""
        return f"{m.group(1)} \\cdot 10^{{{sign}{m.group(3)}}}"
    return text


def _signed(text: str) -> str:
    return f"\\left({text}\\right)" if text.startswith("-") else text


class _Printer:
    """sympy.latex of graph nodes, with named nodes (inputs, intermediates) as symbols."""

    def __init__(self, g: Graph, names: Mapping[int, str]) -> None:
        import sympy

        self.sp = sympy
        self.g = g
        self.names = names
        self.symbols: dict[str, Any] = {}

    def symbol(self, name: str) -> Any:
        if name not in self.symbols:
            self.symbols[name] = self.sp.Symbol(name, real=True)
        return self.symbols[name]

    def name(self, name: str) -> str:
        return self.sp.latex(self.symbol(name))

    def partial(self, top: str, bottom: str) -> str:
        return f"\\frac{{\\partial {self.name(top)}}}{{\\partial {self.name(bottom)}}}"

    def expr(self, node: int, top: bool = True) -> Any:
        """The sympy expression of `node`, with named nodes as symbols (with `top` False,
        `node` itself is written out: the right-hand side of its own equation) and the
        nodes the rules built printed out. A loop over an explicit post-order stack."""
        from .sympy_graph import leaf, settled

        sp, g, names = self.sp, self.g, self.names
        done: dict[int, Any] = {}
        stack = [node]
        with sp.evaluate(False):
            while stack:
                n = stack[-1]
                if n in done:
                    stack.pop()
                    continue
                if n in names and (top or n != node):
                    done[n] = self.symbol(names[n])
                elif g.ops[n] == "var":
                    done[n] = self.symbol(g.values[n])
                elif g.ops[n] == "const":
                    done[n] = leaf(sp, g, n, {})
                else:
                    todo = [a for a in g.args[n] if a not in done]
                    if todo:
                        stack.extend(reversed(todo))
                        continue
                    done[n] = settled(OPS[g.ops[n]].sympy(sp, *(done[a] for a in g.args[n])))
                stack.pop()
        return done[node]

    def latex(self, e: Any) -> str:
        return self.sp.latex(e)


def _rows_block(sections: list[tuple[str, list[str]]], header: list[str]) -> str:
    """`% header` lines, then one align* with an \\intertext per section."""
    lines = [f"% {h}" for h in header] + ["\\begin{align*}"]
    body: list[str] = []
    for title, rows in sections:
        if title:
            body.append(f"\\intertext{{{title}}}")
        body.extend(rows)
    last_row = max((k for k, line in enumerate(body) if not line.startswith("\\intertext")),
                   default=-1)
    for k, line in enumerate(body):
        if line.startswith("\\intertext") or k == last_row:
            lines.append(line)
        else:
            lines.append(line + " \\\\")
    lines.append("\\end{align*}")
    return "\n".join(lines) + "\n"


def _cut(items: Sequence[Any], limit: int, what: str, row: Callable[[Any], str]) -> list[str]:
    """The rows of at most `limit` items (0: all): head and tail, with an \\intertext saying
    how many were cut. Only the rows shown are printed (sympy.latex is not cheap)."""
    if limit <= 0 or len(items) <= limit:
        return [row(x) for x in items]
    head = (limit + 1) // 2
    tail = limit - head
    note = (f"\\intertext{{$\\vdots$ {len(items) - limit:,} {what} not shown "
            "(--limit N shows more, --limit 0 all)}")
    return [row(x) for x in items[:head]] + [note] + \
        [row(x) for x in (items[len(items) - tail:] if tail else [])]


# --- explain --format latex -----------------------------------------------------------------------

def format_latex(trace: Trace, *, limit: int = DEFAULT_LIMIT,
                 digits: int = DEFAULT_DIGITS) -> str:
    """The trace as a LaTeX `align*` block: forward pass, local partials, backward pass,
    gradient; one row per forward step, edge, adjoint and gradient component."""
    g = trace.graph
    p = _Printer(g, trace.names)
    numeric = trace.point is not None

    def num(v: Value) -> str:
        return latex_number(v, digits)

    def forward_row(s: Any) -> str:
        if s.kind != "op":
            what = num(s.value) if numeric else "\\text{input}"
            if s.kind == "parameter":
                what += " \\quad \\text{(not differentiated)}"
            return f"{p.name(s.name)} &= {what}"
        rhs = p.latex(p.expr(s.node, top=False))
        row = f"{p.name(s.name)} &= {rhs}"
        if numeric and s.value is not None and num(s.value) != rhs:
            row += f" = {num(s.value)}"
        if not s.taken:
            row += " \\quad \\text{(not needed: where() took the other branch)}"
        return row

    def edge_row(e: Any) -> str:
        formula = p.latex(_edge_expr(p, g, e.node_id, e.arg_id))
        row = f"{p.partial(e.node, e.arg)} &= {formula}"
        if numeric:
            value = num(e.value) if e.value is not None else "\\text{undefined}"
            if value != formula:
                row += f" = {value}"
        if not e.taken:
            row += " \\quad \\text{(branch not taken: contributes 0)}"
        return row

    def gradient_row(entry: Any) -> str:
        row = f"{p.partial(trace.output, entry.name)} &= {num(entry.value)}"
        if entry.finite_difference is not None:
            row += f" \\quad \\text{{(finite differences: ${num(entry.finite_difference)}$)}}"
        return row

    sections = [("1. Forward pass: each node in order, its equation, its value",
                 _cut(trace.forward, limit, "nodes", forward_row)),
                ("2. Local partial derivatives: one per edge of the graph",
                 _cut(trace.edges, limit, "edges", edge_row)),
                (f"3. Backward pass: ${p.partial(trace.output, 'node')}$ is the sum over the "
                 f"node's users $u$ of ${p.partial(trace.output, 'u')} "
                 f"{p.partial('u', 'node')}$",
                 _cut(trace.backward, limit, "adjoints", lambda a: _chain_row(trace, p, a, num)))]
    if trace.gradient and numeric:
        checked = any(e.finite_difference is not None for e in trace.gradient)
        sections.append(("4. Gradient, checked against central finite differences" if checked
                         else "4. Gradient",
                         _cut(trace.gradient, limit, "inputs", gradient_row)))
    ins = ", ".join(trace.label(n) for n in trace.inputs) or "no inputs"
    header = [f"Backpropagation through {trace.output}({ins})"]
    if numeric:
        at = ", ".join(f"{trace.label(k)} = {number(v, digits)}"
                       for k, v in trace.point.items())
        header.append(f"at {at}: {trace.output} = {number(trace.value, digits)}")
    else:
        header.append("no point given: formulas only")
    header.append("written by symback explain --format latex; needs \\usepackage{amsmath}")
    return _rows_block(sections, [h.replace("\n", " ") for h in header])


def _edge_expr(p: _Printer, g: Graph, node: int, arg: int) -> Any:
    """∂node/∂arg as the rule table builds it (the sum when `arg` is used twice). The rules
    build interned nodes, so these are the nodes explain built and evaluated."""
    rules = OPS[g.ops[node]].partials
    handles = [Node(g, node)] + [Node(g, a) for a in g.args[node]]
    parts = []
    for k, a in enumerate(g.args[node]):
        if a == arg and rules[k] is not None:
            made = rules[k](*handles)
            parts.append(made.id if isinstance(made, Node) else g.const(float(made)))
    exprs = [p.expr(n) for n in parts]
    if len(exprs) == 1:
        return exprs[0]
    with p.sp.evaluate(False):
        return p.sp.Add(*exprs)


def _chain_row(trace: Trace, p: _Printer, a: Adjoint, num: Callable[[Value], str]) -> str:
    """One backward row: the adjoint, its chain-rule products, their numbers, its value."""
    out = trace.output
    lhs = p.partial(out, a.name)
    numeric = trace.point is not None
    if a.seed:
        return f"{lhs} &= 1"
    if not a.terms:
        return f"{lhs} &= 0 \\quad \\text{{(no path from {out})}}"
    symbols, numbers = [], []
    for t in a.terms[:MAX_TERMS]:
        local = p.partial(t.via, a.name)
        if t.via == out:
            symbols.append(local)
            numbers.append(num(t.partial))
        else:
            symbols.append(f"{p.partial(out, t.via)} {local}")
            numbers.append(f"{num(t.adjoint)} \\cdot {_signed(num(t.partial))}")
    more = len(a.terms) - MAX_TERMS
    symbolic = " + ".join(symbols)
    numeric_text = " + ".join(numbers[:1] + [_signed(n) for n in numbers[1:]])
    if more > 0:
        symbolic += f" + \\dots \\text{{ ({more:,} more terms)}}"
        numeric_text += " + \\dots"
    parts = [] if symbolic == lhs else [symbolic]
    if numeric:
        value = num(a.value)
        if numeric_text != value:
            parts.append(numeric_text)
        parts.append(value)
    return f"{lhs} &= " + " = ".join(parts or [symbolic])


# --- symback latex: the gradient formulas -----------------------------------------------------

def gradient_latex(obj: Any, wrt: Sequence[Any] | str | None = None, *,
                   max_chars: int | None = None, max_nodes: int | None = None) -> str:
    """The value and gradient of an expression as a LaTeX `align*` block: one row per shared
    subexpression (named as in `symback.to_sympy`), the value, one row per partial.

    Args:
        obj: what `symback.to_sympy` takes (text, Compiled, Expression, sympy object).
        wrt: the inputs to differentiate (default: all).
        max_chars, max_nodes: size limits for text input (as `symback.compile`).
    """
    import sympy

    from .sympy_graph import gradient_to_sympy
    from .sympy_out import resolve

    if isinstance(obj, str) and (max_chars is not None or max_nodes is not None):
        from . import api
        obj = api.parse(obj, None if wrt is None else api._input_names(wrt, "wrt"),
                        max_chars=max_chars, max_nodes=max_nodes)
    expression, wrt_names = resolve(obj, wrt)
    result = gradient_to_sympy(expression, wrt_names, _MAX_FORMULA_DEPTH)
    outputs = list(expression.output_names)
    values = result.value if isinstance(result.value, list) else [result.value]
    rows_of = result.gradient if isinstance(result.value, list) else [result.gradient]
    def lat(e: Any) -> str:
        return sympy.latex(_tidy(e))

    rows = [f"{lat(sym)} &= {lat(rhs)}" for sym, rhs in result.replacements]
    for name, value, grads in zip(outputs, values, rows_of):
        out_sym = sympy.Symbol(name, real=True)
        if not (isinstance(value, sympy.Symbol) and value.name == name):   # named already
            rows.append(f"{lat(out_sym)} &= {lat(value)}")
        for w, d in zip(wrt_names, grads):
            rows.append(f"\\frac{{\\partial {lat(out_sym)}}}{{\\partial "
                        f"{lat(sympy.Symbol(w, real=True))}}} &= {lat(d)}")
    header = [f"value and gradient of {', '.join(outputs)} with respect to "
              f"{', '.join(wrt_names) or 'nothing'}; shared subexpressions are named",
              "written by symback latex; needs \\usepackage{amsmath}"]
    return _rows_block([("", rows)], header)


# Formulas of `symback latex` span at most this many graph nodes from top to bottom (deeper
# ones are cut by naming a node): sympy.latex recurses, a few sympy levels per node.
_MAX_FORMULA_DEPTH = 20

# sympy's evaluation (2*a*x for a*(2*x)) is applied for display to formulas at most this
# deep; its assumption queries recurse over the tree.
_TIDY_MAX_DEPTH = 60


def _tidy(e: Any) -> Any:
    """`e` rebuilt with sympy's automatic evaluation, so it reads as a person writes it
    (`2 a x`, not `a 2 x`); deeper formulas are left as they are. Loops, no recursion."""
    from .sympy_graph import post_order

    if not getattr(e, "args", None):
        return e
    order = post_order(e)
    depth: dict[int, int] = {}
    for node in order:
        depth[id(node)] = 1 + max((depth.get(id(a), 0) for a in node.args), default=0)
        if depth[id(node)] > _TIDY_MAX_DEPTH:
            return e
    built: dict[int, Any] = {}
    for node in order:
        built[id(node)] = node.func(*(built[id(a)] for a in node.args)) if node.args else node
    return built[id(e)]


# --- the command line -----------------------------------------------------------------------------

def add_command(sub: argparse._SubParsersAction, add_input_arguments: Callable[..., None],
                read_input: Callable[..., tuple[str, str]]) -> None:
    """Add `symback latex EXPR | -f FILE` to the command line's subcommands."""
    p = sub.add_parser("latex", help="print the gradient formulas as LaTeX",
                       description="Print the value and gradient of EXPR (or -f FILE) as a "
                       "LaTeX align* block, shared subexpressions named (needs amsmath).")
    add_input_arguments(p)

    def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
        text, _ = read_input(args, parser)
        limits = {"max_chars": None, "max_nodes": None} if args.no_limits else {}
        expression, wrt = prepare(text, args.wrt, **limits)
        sys.stdout.write(gradient_latex(expression, wrt))
        return 0

    p.set_defaults(run=run)


__all__ = ["add_command", "format_latex", "gradient_latex", "latex_number"]
