"""The rule table, walked op by op: every local partial against sympy.diff of the op's sympy
twin, every numeric evaluation against the twin, every spelling against the evaluation."""

from __future__ import annotations

import math
import random

import pytest
import sympy as sp

import symback
from symback.graph import Graph, Node, evaluate
from symback.ops import FUNCTIONS, OPS

SAMPLES = 6
OPS_WITH_PARTIALS = [op for op in OPS.values() if op.kind == "real"]


def _points(op, rng):
    for _ in range(SAMPLES):
        point = []
        for k, (lo, hi) in enumerate(op.domain):
            v = rng.uniform(lo, hi)
            point.append(float(round(v)) if k in op.int_operands else v)
        yield point


def _twin(op, symbols):
    """The op's sympy twin; a condition operand becomes a comparison of a symbol with 0."""
    args = [s > 0 if op.operand_kind(k) == "bool" else s for k, s in enumerate(symbols)]
    return op.sympy(sp, *args)


def _values(op, symbols, point):
    return {s: (sp.Integer(int(v)) if k in op.int_operands else sp.Float(v, 30))
            for k, (s, v) in enumerate(zip(symbols, point))}


def test_every_real_operand_has_a_rule():
    """Adding an op without a derivative rule is impossible: only conditions and integer
    exponents may have None."""
    for op in OPS.values():
        assert len(op.partials) == op.arity, op.name
        assert len(op.domain) == op.arity, op.name
        for k, rule in enumerate(op.partials):
            if rule is None:
                assert op.kind == "bool" or op.operand_kind(k) == "bool" \
                    or k in op.int_operands, f"{op.name} operand {k} has no rule"


@pytest.mark.parametrize("op", OPS_WITH_PARTIALS, ids=[op.name for op in OPS_WITH_PARTIALS])
def test_partials_match_sympy_diff(op):
    rng = random.Random(op.name)
    symbols = sp.symbols(f"a0:{op.arity}", real=True)
    twin = _twin(op, symbols)
    for point in _points(op, rng):
        g = Graph()
        args = [g.var(f"a{k}") for k in range(op.arity)]
        if op.operand_kind(0) == "bool":
            args[0] = g.apply("gt", args[0], g.const(0.0))
        if op.int_operands:
            for k in op.int_operands:
                args[k] = g.const(point[k])
        out = g.apply(op.name, *args)
        if g.ops[out] != op.name:
            continue            # the simplifier rewrote it (e.g. x**1); covered elsewhere
        inputs = {f"a{k}": v for k, v in enumerate(point)}
        subs = _values(op, symbols, point)
        for k, rule in enumerate(op.partials):
            if rule is None:
                continue
            partial = rule(Node(g, out), *(Node(g, a) for a in args))
            node = partial.id if isinstance(partial, Node) else g.const(partial)
            got = evaluate(g, inputs, node)[node]
            exact = sp.diff(twin, symbols[k]).evalf(30, subs=subs)
            assert float(exact) == pytest.approx(got, rel=1e-12, abs=1e-12), \
                (op.name, k, point)


@pytest.mark.parametrize("op", list(OPS.values()), ids=list(OPS))
def test_eval_matches_sympy_twin(op):
    rng = random.Random("eval" + op.name)
    symbols = sp.symbols(f"a0:{op.arity}", real=True)
    twin = _twin(op, symbols)
    for point in _points(op, rng):
        args = list(point)
        if op.operand_kind(0) == "bool":
            args[0] = point[0] > 0
        got = op.eval(*args)
        exact = twin.subs(_values(op, symbols, point))
        if op.kind == "bool":
            assert bool(got) == bool(exact)
        else:
            assert float(exact.evalf(30)) == pytest.approx(got, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_python_spelling_matches_eval(name):
    """Every function, compiled through the python backend, equals the table's eval."""
    op = OPS[FUNCTIONS[name]]
    rng = random.Random("spell" + name)
    for point in _points(op, rng):
        if name == "where":
            f = symback.compile("where(c > 0, a, b)", wrt=["c", "a", "b"])
            expected = point[1] if point[0] > 0 else point[2]
        else:
            names = [f"a{k}" for k in range(op.arity)]
            f = symback.compile(f"{name}({', '.join(names)})", wrt=names)
            expected = op.eval(*point)
        assert f.forward(*point) == pytest.approx(expected, rel=1e-14, abs=1e-300)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_gradient_matches_finite_differences(name):
    """A second, independent oracle for each function: central differences."""
    op = OPS[FUNCTIONS[name]]
    rng = random.Random("fd" + name)
    names = [f"a{k}" for k in range(op.arity)]
    text = "where(a0 > 0, a1, a2)" if name == "where" else f"{name}({', '.join(names)})"
    f = symback.compile(text, wrt=names)
    for point in _points(op, rng):
        grad = f.gradient(*point)
        for k in range(op.arity):
            if k in op.int_operands:
                continue
            h = 1e-6 * max(1.0, abs(point[k]))
            up, down = list(point), list(point)
            up[k] += h
            down[k] -= h
            fd = (f.forward(*up) - f.forward(*down)) / (2 * h)
            if name == "where" and k == 0:
                fd = 0.0        # the condition is piecewise constant
            assert grad[k] == pytest.approx(fd, rel=1e-6, abs=1e-6), (name, k, point)


def test_notes_document_every_nonsmooth_op():
    for op in OPS.values():
        if not op.smooth and op.kind == "real":
            assert op.note, f"{op.name} has kinks: its table entry must say its convention"


def test_table_constants_are_right():
    assert math.isclose(OPS["log2"].eval(8.0), 3.0)
    assert OPS["sign"].eval(0.0) == 0.0 and OPS["sign"].eval(-2.0) == -1.0
