"""symback.to_dot and `symback graph`: the computation graph in Graphviz DOT."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

import symback
from symback.cli import main
from symback.dot import render

TUTORIAL = "p = x + y; q = p * z; r = q**2"
AT = {"x": 1, "y": 3, "z": 3}

_NODE = re.compile(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"(.*)\];$')
_EDGE = re.compile(r'^  (n\d+) -> (n\d+)(?: \[(.*)\])?;$')
_ATTR = re.compile(r'^  (rankdir=\w+|label="(?:[^"\\]|\\.)*"|(graph|node|edge) \[.*\]);$')


def parse_dot(text: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """A structural parse of the DOT symback writes: every line is a node, an edge, or a
    graph attribute; labels are well-quoted. Returns (node -> label, edges)."""
    lines = text.splitlines()
    assert lines[0] == "digraph backprop {" and lines[-1] == "}"
    nodes: dict[str, str] = {}
    edges = []
    for line in lines[1:-1]:
        if m := _NODE.match(line):
            assert m.group(1) not in nodes, f"node declared twice: {line}"
            nodes[m.group(1)] = m.group(2).replace("\\n", "\n")
        elif m := _EDGE.match(line):
            label = re.search(r'label="((?:[^"\\]|\\.)*)"', m.group(3) or "")
            edges.append((m.group(1), m.group(2), label.group(1) if label else ""))
        else:
            assert _ATTR.match(line), f"unexpected DOT line: {line!r}"
    for a, b, _ in edges:
        assert a in nodes and b in nodes, "edge to an undeclared node"
    return nodes, edges


def test_one_dot_node_per_graph_node():
    text = symback.to_dot(TUTORIAL, at=AT)
    nodes, edges = parse_dot(text)
    g = symback.parse(TUTORIAL).graph
    ex = symback.parse(TUTORIAL)
    expected = len(ex.inputs) + len(g.live(ex.outputs))
    assert len(nodes) == expected == 6
    assert sorted(nodes.values()) == sorted([
        "x = 1", "y = 3", "z = 3", "p = x + y\n= 4", "q = p · z\n= 12", "r = q²\n= 144"])
    assert sorted(label for _, _, label in edges) == sorted([
        "∂p/∂x = 1", "∂p/∂y = 1", "∂q/∂p = z = 3", "∂q/∂z = p = 4", "∂r/∂q = 2 · q = 24"])


def test_backward_labels_carry_adjoints():
    nodes, _ = parse_dot(symback.to_dot(TUTORIAL, at=AT, backward=True))
    labels = "\n".join(nodes.values())
    for line in ("∂r/∂r = 1", "∂r/∂q = 24", "∂r/∂p = 72", "∂r/∂x = 72", "∂r/∂z = 96"):
        assert line in labels


def test_without_a_point_formulas_only():
    nodes, edges = parse_dot(symback.to_dot(TUTORIAL))
    assert "p = x + y" in nodes.values()
    assert ("∂r/∂q = 2 · q") in [label for _, _, label in edges]


def test_inactive_edges_are_dashed_and_unlabelled():
    text = symback.to_dot("where(x > 0, x * y, 0)", at={"x": 1, "y": 2}, wrt=["x"])
    nodes, edges = parse_dot(text)
    assert "style=dashed" in text
    assert len(nodes) == 2 + 3          # x, y, x > 0, x * y, where


def test_trace_and_string_give_the_same_dot():
    trace = symback.explain(TUTORIAL, at=AT)
    assert symback.to_dot(trace) == symback.to_dot(TUTORIAL, at=AT)


def test_quotes_and_backslashes_are_escaped():
    from symback.dot import _quote
    assert _quote('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_graphviz_parses_it():
    text = symback.to_dot("a = sin(x) * y; b = where(a > 0, sqrt(a), a**2); b + x",
                          at={"x": 0.4, "y": -2}, backward=True)
    done = subprocess.run(["dot", "-Tcanon"], input=text.encode(), capture_output=True)
    assert done.returncode == 0, done.stderr.decode()


def test_cli_graph_prints_dot(capsys):
    assert main(["graph", TUTORIAL, "--at", "x=1", "y=3", "z=3", "--backward"]) == 0
    nodes, _ = parse_dot(capsys.readouterr().out)
    assert len(nodes) == 6


def test_cli_graph_writes_dot_file(tmp_path):
    out = tmp_path / "g.dot"
    assert main(["graph", TUTORIAL, "-o", str(out)]) == 0
    parse_dot(out.read_text())


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")
def test_cli_graph_renders_svg(tmp_path):
    out = tmp_path / "g.svg"
    assert main(["graph", TUTORIAL, "--at", "x=1", "y=3", "z=3", "-o", str(out)]) == 0
    assert out.read_text().lstrip().startswith("<?xml")
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


def test_missing_dot_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(symback.ArgumentError, match="apt-get install graphviz"):
        render("digraph {}", tmp_path / "g.png")
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix(tmp_path, capsys):
    assert main(["graph", TUTORIAL, "-o", str(tmp_path / "g.jpg")]) == 1
    assert "choose a .dot" in capsys.readouterr().err
