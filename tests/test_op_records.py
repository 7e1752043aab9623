"""Every op's record carries its side facts: the display spelling `explain` prints and the
PyTorch twin `--check torch` runs. Adding an op to the table without them fails here."""

from __future__ import annotations

import string

import pytest

from symback.formula import formula
from symback.graph import Graph
from symback.ops import ATOM, OPS


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_display_spelling(name):
    op = OPS[name]
    fmt, precedence, needs = op.display
    fields = [f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None]
    assert sorted(set(fields)) == [str(k) for k in range(op.arity)]
    assert 0 <= precedence <= ATOM
    assert len(needs) == op.arity and all(0 <= n <= ATOM for n in needs)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_op_has_a_torch_twin(name):
    assert callable(OPS[name].torch)


def test_display_spellings_print_as_before():
    g = Graph()
    x, y, z = g.var("x"), g.var("y"), g.var("z")
    names = {x: "x", y: "y", z: "z"}
    cases = {
        g.apply("mul", g.apply("add", x, y), z): "(x + y) · z",
        g.apply("sub", x, g.apply("sub", y, z)): "x - (y - z)",
        g.apply("powi", g.apply("add", x, y), g.const(-2.0)): "(x + y)⁻²",
        g.apply("le", x, y): "x ≤ y",
        g.apply("where", g.apply("gt", x, y), g.apply("sin", x), z): "where(x > y, sin(x), z)",
        g.apply("neg", g.apply("pow", x, y)): "-x**y",
    }
    for node, text in cases.items():
        assert formula(g, node, names) == text
