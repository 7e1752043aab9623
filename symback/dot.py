"""The computation graph in Graphviz DOT, as a backpropagation tutorial draws it.

One DOT node per node of the trace (inputs, then each operation), labelled with its equation
and, given a point, its forward value; one edge per operand, labelled with the local partial
derivative (formula, and its value given a point). With `backward=True` every node also shows
its adjoint ∂out/∂node. Edges that carry no derivative (a `where` condition, an input that is
not differentiated) are dashed; so are nodes a `where` did not need at the point.

`render(dot_text, path)` turns the text into an SVG/PNG/PDF with Graphviz's `dot` program.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping, Sequence

from .errors import ArgumentError
from .explain import explain
from .parse import Expression
from .report import number
from .trace import Trace, Value

# File suffixes `render` hands to `dot -T<format>`.
RENDERED = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
DOT_SUFFIXES = (".dot", ".gv")
INSTALL_HINT = ("install Graphviz: 'apt-get install graphviz' (Debian/Ubuntu), "
                "'brew install graphviz' (macOS) or 'conda install graphviz'; the PyPI package "
                "'graphviz' is only a Python wrapper and needs the same program")

_INPUT_STYLE = 'shape=ellipse, style=filled, fillcolor="#dbeafe"'
_PARAM_STYLE = 'shape=ellipse, style="filled,dashed", fillcolor="#f1f5f9", color="#64748b"'
_OP_STYLE = 'shape=box, style="rounded,filled", fillcolor="#ffffff"'
_OUTPUT_STYLE = 'shape=box, style="rounded,filled", fillcolor="#fef3c7", peripheries=2'
_IDLE_STYLE = 'shape=box, style="rounded,dashed", color="#94a3b8", fontcolor="#64748b"'


def to_dot(source: str | Expression | Trace,
           at: Mapping[str, float] | Sequence[float] | None = None, *,
           wrt: Sequence[str] | str | None = None, output: str | int | None = None,
           backward: bool = False, digits: int = 6) -> str:
    """The computation graph of an expression (or of a `Trace`) in Graphviz DOT.

    Args:
        source: expression text, a parsed `Expression`, or a trace from `symback.explain`.
        at: the point (as for `explain`); without one, labels hold formulas only. Ignored
            when `source` is a trace.
        wrt, output: as for `explain`.
        backward: also label every node with its adjoint ∂out/∂node.
        digits: significant digits of the values shown.

    Returns:
        The DOT text (deterministic: nodes in id order, edges in operand order).
    """
    if isinstance(source, Trace):
        trace = source
    else:
        trace = explain(source, at, wrt=wrt, output=output, check="none")
    g = trace.graph
    known = trace.point is not None
    adjoints = {a.node: a.value for a in trace.backward}
    partials = {(e.node_id, e.arg_id): e for e in trace.edges}
    out = trace.output
    lines = ["digraph backprop {",
             "  rankdir=LR;",
             '  graph [fontname="Helvetica", fontsize=12, labelloc=t];',
             '  node [fontname="Helvetica", fontsize=11];',
             '  edge [fontname="Helvetica", fontsize=10, color="#475569"];']
    caption = f"{out}({', '.join(trace.inputs)})"
    if known:
        caption += " at " + ", ".join(f"{k} = {number(v, digits)}"
                                      for k, v in trace.point.items())  # type: ignore[union-attr]
    lines.append(f"  label={_quote(caption)};")
    for s in trace.forward:
        label = [s.equation]
        if known and s.kind != "op":
            label = [f"{s.name} = {number(s.value, digits)}"]
        elif known:
            label.append(f"= {number(s.value, digits)}" if s.value is not None else "(not computed)")
        if backward and s.node in adjoints:
            adj = adjoints[s.node]
            label.append(f"∂{out}/∂{s.name}" + (f" = {number(adj, digits)}" if known else ""))
        if s.kind == "input":
            style = _INPUT_STYLE
        elif s.kind == "parameter":
            style = _PARAM_STYLE
        elif not s.taken:
            style = _IDLE_STYLE
        elif s.node == trace.output_node:
            style = _OUTPUT_STYLE
        else:
            style = _OP_STYLE
        lines.append(f"  n{s.node} [label={_quote(chr(10).join(label))}, {style}];")
    for s in trace.forward:
        if s.kind != "op":
            continue
        seen: list[int] = []
        for a in g.args[s.node]:
            if g.ops[a] == "const" or a in seen:
                continue
            seen.append(a)
            edge = partials.get((s.node, a))
            if edge is None:
                lines.append(f'  n{a} -> n{s.node} [style=dashed, color="#94a3b8"];')
            elif not edge.taken:
                label = _edge_label(edge.label, edge.formula, 0.0, known, digits)
                lines.append(f"  n{a} -> n{s.node} [label={_quote(label + ' (not taken)')}, "
                             'style=dashed, color="#94a3b8", fontcolor="#64748b"];')
            else:
                label = _edge_label(edge.label, edge.formula, edge.value, known, digits)
                lines.append(f"  n{a} -> n{s.node} [label={_quote(label)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _edge_label(name: str, formula: str, value: Value, known: bool, digits: int) -> str:
    """`∂q/∂p = z = 3`: the partial's name, its formula, and its value given a point."""
    if not known:
        return f"{name} = {formula}"
    shown = number(value, digits) if value is not None else "undefined"
    return f"{name} = {shown}" if shown == formula else f"{name} = {formula} = {shown}"


def _quote(text: str) -> str:
    """A DOT double-quoted string (newlines become DOT's centred line breaks)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render(dot_text: str, path: str | os.PathLike[str]) -> Path:
    """Write `dot_text` to `path`: as DOT for .dot/.gv, else rendered by Graphviz's `dot`.

    The file is written atomically (a temporary file in the same folder, then a rename).

    Raises:
        ArgumentError: an unknown suffix, `dot` is not installed (the message says how to
            install it), `dot` failed, or the file cannot be written.
    """
    from .api import write_atomic
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix in DOT_SUFFIXES:
        return write_atomic(target, dot_text)
    fmt = RENDERED.get(suffix)
    if fmt is None:
        raise ArgumentError(f"cannot write {str(target)!r}: choose a .dot, .gv, .svg, .png or "
                            ".pdf file")
    program = shutil.which("dot")
    if program is None:
        raise ArgumentError(f"rendering {str(target)!r} needs the Graphviz 'dot' program, "
                            f"which is not installed: {INSTALL_HINT}; or write DOT text with "
                            f"-o {target.with_suffix('.dot').name}")
    try:
        done = subprocess.run([program, f"-T{fmt}"], input=dot_text.encode("utf-8"),
                              capture_output=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        raise ArgumentError(f"dot took too long to render {str(target)!r}; write DOT text "
                            "with a .dot file instead") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ArgumentError(f"dot failed to render {str(target)!r}"
                            f"{': ' + reason[0] if reason else ''}")
    return write_atomic(target, done.stdout)


__all__ = ["DOT_SUFFIXES", "INSTALL_HINT", "RENDERED", "render", "to_dot"]
