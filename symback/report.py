"""Formatting a `Trace` for people and tools: aligned text tables, markdown, JSON.

Text and markdown show values with a fixed number of significant digits (`digits`, default 6;
0 means the shortest text that reads back to the same float) and summarise big traces: each
table shows at most `limit` rows (its head and its tail, with a line saying how many rows were
cut), and a sum of many chain-rule terms shows its first few. JSON carries every value at full
precision; non-finite values are the strings "inf", "-inf" and "nan".
"""

from __future__ import annotations

import json
import math
from typing import Callable

from .trace import Adjoint, Trace, Value, head_and_tail, trace_dict

DEFAULT_LIMIT = 40        # rows per table in text and markdown
DEFAULT_DIGITS = 6
MAX_TERMS = 4             # chain-rule terms shown in one sum
FORMATS = ("text", "markdown", "json")


def format_trace(trace: Trace, fmt: str = "text", *, limit: int | None = None,
                 digits: int = DEFAULT_DIGITS) -> str:
    """The trace as text, markdown or json.

    Args:
        trace: from `symback.explain`.
        fmt: "text", "markdown" or "json".
        limit: at most this many rows per table (0: all). Default 40 for text and markdown,
            all for json.
        digits: significant digits of the numbers in text and markdown (0: shortest exact).
    """
    if fmt == "json":
        return format_json(trace, limit=limit or 0)
    if limit is None:
        limit = DEFAULT_LIMIT
    if fmt == "markdown":
        return format_markdown(trace, limit=limit, digits=digits)
    if fmt == "text":
        return format_text(trace, limit=limit, digits=digits)
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")


# --- numbers -------------------------------------------------------------------------------------

def number(v: Value, digits: int = DEFAULT_DIGITS) -> str:
    """A value as text: `144`, `0.841471`, `true`, `nan`; "" for None."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v)) if v or math.copysign(1.0, v) > 0 else "-0"
    return f"{v:.{digits}g}" if digits > 0 else repr(v)


def _difference(v: float | None) -> str:
    if v is None:
        return ""
    return "0" if v == 0 else f"{v:.2g}"


def _close(a: Value, b: Value, scale: float = 1.0) -> bool:
    if not isinstance(a, float) or not isinstance(b, float):
        return False
    if math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b), abs(scale))


def _sign_safe(text: str) -> str:
    """A number inside a product or after '+': parenthesised if negative."""
    return f"({text})" if text.startswith("-") else text


# --- the parts, as rows ------------------------------------------------------------------------

def _forward_rows(trace: Trace, digits: int, code: Callable[[str], str]) -> list[list[str]]:
    rows = []
    for s in trace.forward:
        if s.kind == "op":
            what = code(s.equation)
        else:
            what = "input" if s.kind == "input" else "input (not differentiated)"
        note = "output" if s.node == trace.output_node else ""
        if not s.taken:
            note = "not needed: where() took the other branch"
        rows.append([s.name, what, number(s.value, digits), note])
    return rows


def _edge_rows(trace: Trace, digits: int, code: Callable[[str], str]) -> list[list[str]]:
    rows = []
    for e in trace.edges:
        note = "" if e.taken else "branch not taken: contributes 0"
        value = number(e.value, digits) if e.value is not None or trace.point is None \
            else "undefined"
        rows.append([e.label, code(e.formula), value, note])
    return rows


def _chain(trace: Trace, a: Adjoint, digits: int) -> tuple[str, str, str, str]:
    """(adjoint, chain rule, numbers, value) of one backward row."""
    out = trace.output
    lhs = f"∂{out}/∂{a.name}"
    value = number(a.value, digits)
    if a.seed:
        return lhs, "", "", "1" if trace.point is not None else "1"
    if not a.terms:
        return lhs, "", "", f"0  (no path from {out})" if trace.point is not None else "0"
    symbols, numbers = [], []
    for t in a.terms[:MAX_TERMS]:
        local = f"∂{t.via}/∂{a.name}"
        if t.via == out:
            symbols.append(local if trace.point is not None else _formula_of(trace, t.via, a))
            numbers.append(number(t.partial, digits))
        else:
            symbols.append(f"∂{out}/∂{t.via} · {local}")
            numbers.append(f"{number(t.adjoint, digits)} · "
                           f"{_sign_safe(number(t.partial, digits))}")
    more = len(a.terms) - MAX_TERMS
    symbolic = " + ".join(symbols)
    numeric = " + ".join(numbers[:1] + [_sign_safe(n) for n in numbers[1:]])
    if more > 0:
        symbolic += f" + … ({more:,} more terms)"
        numeric += " + …"
    if trace.point is None:
        return lhs, symbolic, "", ""
    if symbolic == lhs:
        symbolic = ""
    if numeric == value:
        numeric = ""
    return lhs, symbolic, numeric, value


def _formula_of(trace: Trace, via: str, a: Adjoint) -> str:
    """The formula of the edge via -> a (a node used only by the output: its local partial)."""
    for e in trace.edges:
        if e.node == via and e.arg_id == a.node:
            return e.formula
    return f"∂{via}/∂{a.name}"


def _gradient_rows(trace: Trace, digits: int) -> list[list[str]]:
    rows = []
    for g in trace.gradient:
        check = ""
        if g.finite_difference is not None:
            check = "ok" if _close(g.value, g.finite_difference, _scale(trace)) else "differs"
        rows.append([f"∂{trace.output}/∂{g.name}", number(g.value, digits),
                     number(g.finite_difference, digits), _difference(g.difference), check])
    return rows


def _scale(trace: Trace) -> float:
    return float(trace.value) if isinstance(trace.value, float) and math.isfinite(trace.value) \
        else 1.0


def _torch_rows(trace: Trace, digits: int) -> list[list[str]]:
    tc = trace.torch
    assert tc is not None
    rows = [[trace.output, number(trace.value, digits), number(tc.value, digits),
             _difference(_minus(trace.value, tc.value))]]
    for g, t in zip(trace.gradient, tc.gradient):
        rows.append([f"∂{trace.output}/∂{g.name}", number(g.value, digits), number(t, digits),
                     _difference(_minus(g.value, t))])
    return rows


def _minus(a: Value, b: Value) -> float | None:
    if not isinstance(a, float) or not isinstance(b, float):
        return None
    if a == b:
        return 0.0
    return a - b


def _cut_note(n: int, what: str) -> str:
    return f"⋮  {n:,} {what} not shown (--limit N shows more, --limit 0 all)"


# --- text ------------------------------------------------------------------------------------

def _text_table(headers: list[str], rows: list[list[str]], limit: int, what: str,
                right: tuple[int, ...] = ()) -> list[str]:
    head, tail, cut = head_and_tail(rows, limit)
    shown = head + tail
    keep = [k for k in range(len(headers)) if any(r[k] for r in shown)
            or (headers[k] and not shown)]
    widths = {k: max([len(headers[k])] + [len(r[k]) for r in shown]) for k in keep}

    def line(cells: list[str]) -> str:
        parts = [cells[k].rjust(widths[k]) if k in right else cells[k].ljust(widths[k])
                 for k in keep]
        return ("  " + "  ".join(parts)).rstrip()

    rule = "  " + "  ".join(("─" if headers[k] else " ") * widths[k] for k in keep)
    lines = [line(headers), rule.rstrip()]
    lines += [line(r) for r in head]
    if cut:
        lines.append("  " + _cut_note(cut, what))
        lines += [line(r) for r in tail]
    return lines


def _header(trace: Trace, digits: int) -> list[str]:
    ins = ", ".join(trace.label(n) for n in trace.inputs) or "no inputs"
    lines = [f"Backpropagation through {trace.output}({ins})"]
    if len(trace.outputs) > 1:
        lines.append(f"(the expression has outputs {', '.join(trace.outputs)}; this is "
                     f"{trace.output}; choose another with --which)")
    if trace.point is None:
        lines.append("No point given (--at x=1 y=2 ...): formulas only.")
    else:
        at = ", ".join(f"{trace.label(k)} = {number(v, digits)}"
                       for k, v in trace.point.items())
        lines.append(f"at {at}:  {trace.output} = {number(trace.value, digits)}")
    return lines


def format_text(trace: Trace, *, limit: int = DEFAULT_LIMIT,
                digits: int = DEFAULT_DIGITS) -> str:
    """Aligned terminal tables: forward pass, local partials, backward pass, gradient."""
    plain = str
    out = _header(trace, digits)
    out += ["", "1. Forward pass: each node in order, its equation, its value"]
    out += _text_table(["node", "equation", "value", ""], _forward_rows(trace, digits, plain),
                       limit, "nodes", right=(2,))
    out += ["", "2. Local partial derivatives: one per edge of the graph"]
    if trace.edges:
        out += _text_table(["edge", "formula", "value", ""], _edge_rows(trace, digits, plain),
                           limit, "edges", right=(2,))
    else:
        out.append("  (none: the output does not depend on the differentiated inputs)")
    out += ["", f"3. Backward pass: ∂{trace.output}/∂node = sum over its users u of "
                f"∂{trace.output}/∂u · ∂u/∂node"]
    chains = [_chain(trace, a, digits) for a in trace.backward]
    head, tail, cut = head_and_tail(chains, limit)
    width = max((len(c[0]) for c in head + tail), default=0)
    for k, c in enumerate(head + tail):
        if cut and k == len(head):
            out.append("  " + _cut_note(cut, "adjoints"))
        parts = [p for p in c[1:] if p]
        out.append(("  " + c[0].ljust(width) + " = " + " = ".join(parts)).rstrip())
    if not chains:
        out.append("  (no adjoints: the output does not depend on the differentiated inputs)")
    if trace.gradient and trace.point is not None:
        checked = any(g.finite_difference is not None for g in trace.gradient)
        out += ["", "4. Gradient, checked against central finite differences" if checked
                else "4. Gradient"]
        out += _text_table(["", "value", "finite diff.", "difference", "check"],
                           _gradient_rows(trace, digits), limit, "inputs", right=(1, 2, 3))
    if trace.torch is not None:
        out += ["", f"5. PyTorch {trace.torch.version} autograd (float64), side by side"]
        out += _text_table(["", "symback", "torch", "difference"],
                           _torch_rows(trace, digits), limit, "rows", right=(1, 2, 3))
    return "\n".join(out) + "\n"


# --- markdown --------------------------------------------------------------------------------

def _code(text: str) -> str:
    return f"`{text}`" if text else ""


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(headers: list[str], rows: list[list[str]], limit: int, what: str) -> list[str]:
    head, tail, cut = head_and_tail(rows, limit)
    shown = head + tail
    keep = [k for k in range(len(headers)) if headers[k] or any(r[k] for r in shown)]
    lines = ["| " + " | ".join(headers[k] for k in keep) + " |",
             "|" + "|".join(" --- " for _ in keep) + "|"]
    lines += ["| " + " | ".join(_md_cell(r[k]) for k in keep) + " |" for r in head]
    if cut:
        lines.append("| " + " | ".join(["⋮"] * len(keep)) + " |")
        lines += ["| " + " | ".join(_md_cell(r[k]) for k in keep) + " |" for r in tail]
        lines += ["", f"*{cut:,} {what} not shown.*"]
    return lines


def format_markdown(trace: Trace, *, limit: int = DEFAULT_LIMIT,
                    digits: int = DEFAULT_DIGITS) -> str:
    """The trace as markdown: one heading and one table per part."""
    head = _header(trace, digits)
    out = [f"**{head[0]}**", ""] + [h.replace("*", "\\*") for h in head[1:]]
    out += ["", "#### Forward pass", ""]
    out += _md_table(["node", "equation", "value", ""], _forward_rows(trace, digits, _code),
                     limit, "nodes")
    out += ["", "#### Local partial derivatives", ""]
    out += _md_table(["edge", "formula", "value", ""], _edge_rows(trace, digits, _code),
                     limit, "edges")
    out += ["", "#### Backward pass (chain rule)", ""]
    rows = [[a, s, n, v] for a, s, n, v in (_chain(trace, x, digits) for x in trace.backward)]
    out += _md_table(["adjoint", "chain rule", "numbers", "value"], rows, limit, "adjoints")
    if trace.gradient and trace.point is not None:
        out += ["", "#### Gradient", ""]
        out += _md_table(["", "value", "finite diff.", "difference", "check"],
                         _gradient_rows(trace, digits), limit, "inputs")
    if trace.torch is not None:
        out += ["", f"#### PyTorch {trace.torch.version} autograd (float64)", ""]
        out += _md_table(["", "symback", "torch", "difference"], _torch_rows(trace, digits),
                         limit, "rows")
    return "\n".join(out) + "\n"


# --- json ------------------------------------------------------------------------------------

def format_json(trace: Trace, *, limit: int = 0) -> str:
    """The trace as a JSON document (UTF-8 text, keys in a fixed order)."""
    return json.dumps(trace_dict(trace, limit), ensure_ascii=False, indent=1) + "\n"


__all__ = ["DEFAULT_DIGITS", "DEFAULT_LIMIT", "FORMATS", "format_json", "format_markdown",
           "format_text", "format_trace", "number", "trace_dict"]
