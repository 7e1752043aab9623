"""Every workload: value and gradient at its `# point:` against sympy's exact derivative."""

from __future__ import annotations

import math

import pytest

import symback
from oracles import array_oracle, graph_twin, workloads
from oracles import sympy_oracle as oracle

TOLERANCE = 1e-9


def _load(path):
    source = symback.read_expr_file(path)
    exact_text = source.text
    if "chain_1000" in path.name:
        # No Python-syntax parser accepts 1,000 nested parentheses (CPython stops at 200), so
        # sympy reads the expression from symback's graph here; chain_100 checks the parse.
        exact_text = None
    return source, exact_text


@pytest.mark.parametrize("path", workloads.PATHS, ids=workloads.NAMES)
def test_workload_matches_sympy(path):
    source, exact_text = _load(path)
    compiled = symback.compile(source.text, wrt=source.vars, name=source.name)
    names = array_oracle.element_names(compiled)           # array elements: x_0, x_1, ...
    point = dict(zip(names, source.point))
    args = array_oracle.args_of(compiled, source.point)
    if exact_text is None:
        (expr,) = graph_twin.to_sympy(compiled.expression)
    elif source.shapes:       # an array program: Python's own reading of the comprehensions
        (expr,) = array_oracle.to_sympy(exact_text, {n: source.shapes.get(n, ())
                                                     for n in source.vars})
    else:
        (expr,) = oracle.to_sympy(exact_text, source.vars)
    exact_value, exact_grad = oracle.gradient(expr, array_oracle.element_names(
        compiled, compiled.wrt), point)
    value, grad = compiled.value_and_grad(*args)
    assert compiled.forward(*args) == value
    assert compiled.gradient(*args) == grad
    grad = array_oracle.flatten(grad)
    scale = max(abs(g) for g in exact_grad)
    errors = [oracle.rel_error(value, exact_value)]
    errors += [oracle.rel_error(g, e, scale) for g, e in zip(grad, exact_grad)]
    assert max(errors) <= TOLERANCE, f"max relative error {max(errors):.3g}"
    assert all(math.isfinite(g) for g in grad)


@pytest.mark.parametrize("path", workloads.PATHS, ids=workloads.NAMES)
def test_workload_gradient_is_cheap(path):
    """The cheap gradient principle: value_and_grad costs at most 4x the forward ops."""
    source, _ = _load(path)
    stats = symback.compile(source.text, wrt=source.vars).stats
    assert stats["value_and_grad_ops"] <= 4 * stats["forward_ops"], stats


@pytest.mark.parametrize("name", ["seed", "product_10", "rosenbrock_10", "softmax_xent_10",
                                  "chain_100"])
def test_oracle_chain_rule_agrees_with_whole_diff(name):
    """The oracle's fast path (local sympy.diff + numeric chain rule) equals sympy.diff of
    the whole formula, so the workload checks above rest on sympy's exact derivatives."""
    source = workloads.workload(name)
    (expr,) = oracle.to_sympy(source.text, source.vars)
    point = dict(zip(source.vars, source.point))
    value, grad = oracle.gradient(expr, source.vars, point)
    value2, grad2 = oracle.gradient_by_diff(expr, source.vars, point)
    assert oracle.rel_error(value, value2) < 1e-25
    assert max(oracle.rel_error(a, b, 1) for a, b in zip(grad, grad2)) < 1e-25
