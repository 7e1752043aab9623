"""Reverse mode: only the active path, exact zeros, cheap gradients, names of adjoints."""

from __future__ import annotations

import math

import pytest

import symback
from symback.reverse import gradient


def test_reverse_constant_exponent_builds_no_log():
    f = symback.compile("x**2 + x**3")
    assert "log" not in f.source
    assert f.gradient(-2.0) == (-4.0 + 12.0,)
    assert f.gradient(0.0) == (0.0,)


def test_reverse_only_active_path():
    e = symback.parse("y**x + sin(y)")
    g = e.graph
    n = len(g)
    result = gradient(g, e.outputs[0], [g.lookup_var("x")])
    new_ops = g.ops[n:]
    assert "cos" not in new_ops                 # sin(y) does not depend on x
    assert len(result.grads) == 1


def test_reverse_wrt_absent_variable_is_zero():
    f = symback.compile("x * y", wrt=["x", "w"])
    assert f.inputs == ("x", "w", "y")
    assert f.wrt == ("x", "w")
    assert f.gradient(2.0, 5.0, 3.0) == (3.0, 0.0)
    assert f.value_and_grad(2.0, 5.0, 3.0) == (6.0, (3.0, 0.0))


def test_reverse_wrt_string():
    f = symback.compile("x * y * z", wrt="z, x")
    assert f.inputs == ("z", "x", "y")
    assert f.gradient(1.0, 2.0, 3.0) == (6.0, 3.0)


def test_reverse_where_branch_not_taken_contributes_exact_zero():
    """The JAX/PyTorch 'double where' NaN: here the untaken sqrt branch gives exactly 0."""
    f = symback.compile("where(x > 0, sqrt(x), 0)")
    assert f.value_and_grad(-1.0) == (0.0, (0.0,))
    v, (d,) = f.value_and_grad(4.0)
    assert (v, d) == (2.0, 0.25)


def test_reverse_lazy_branches_in_python_backend():
    f = symback.compile("where(x > 0, log(x), x) + where(x < 1, 0, sqrt(x - 1))")
    assert f.forward(-3.0) == -3.0
    assert f.gradient(-3.0) == (1.0,)
    assert "if " in f.source


def test_reverse_nested_where_guards():
    f = symback.compile("where(x > 0, where(x > 1, log(x - 1), sqrt(x)), -x)")
    assert f.forward(-2.0) == 2.0
    assert f.forward(0.25) == 0.5
    assert f.forward(3.0) == pytest.approx(math.log(2.0))
    assert f.gradient(0.25) == (1.0,)
    assert f.gradient(-2.0) == (-1.0,)


def test_reverse_shared_subexpressions_accumulate():
    f = symback.compile("s = sin(x); s * s + s")
    x = 0.7
    assert f.gradient(x)[0] == pytest.approx(2 * math.sin(x) * math.cos(x) + math.cos(x))


def test_reverse_adjoint_names():
    f = symback.compile("p = x + y; q = p * z; r = q**2")
    assert "d_q = 2.0 * q" in f.source
    assert "d_p = d_q * z" in f.source


def test_reverse_product_chain_is_linear():
    """product_n: sympy's symbolic gradient is O(n^2); ours stays ~3x the forward."""
    for n in (10, 100, 1000):
        f = symback.compile("*".join(f"x{i}" for i in range(n)))
        assert f.stats["value_and_grad_ops"] <= 3 * f.stats["forward_ops"] + 3


def test_reverse_gradient_of_gradient():
    """The gradient is a DAG in the same IR, so it can be differentiated again."""
    e = symback.parse("x**3 * y")
    g = e.graph
    x, y = g.lookup_var("x"), g.lookup_var("y")
    first = gradient(g, e.outputs[0], [x, y])
    second = gradient(g, first.grads[0], [x, y])
    from symback.graph import evaluate
    values = evaluate(g, {"x": 2.0, "y": 5.0}, max(second.grads))
    assert [values[n] for n in second.grads] == [6 * 2.0 * 5.0, 3 * 4.0]


def test_reverse_node_shared_by_two_where_branches():
    """sqrt(x) is needed when x > 0 or x > 1: computed under `c1 or c2` on the python
    backend, and its gradient term multiplied per branch, so x = -1 gives exact zeros."""
    text = "where(x > 0, sqrt(x), 0) + where(x > 1, sqrt(x), 0)"
    f = symback.compile(text)
    assert " or " in f.source
    assert f.value_and_grad(-1.0) == (0.0, (0.0,))
    assert f.value_and_grad(4.0) == (4.0, (0.5,))
    v, (d,) = f.value_and_grad(0.25)
    assert (v, d) == (0.5, 1.0)
    numpy = pytest.importorskip("numpy")
    n = symback.compile(text, backend="numpy")
    with numpy.errstate(invalid="ignore"):
        value, (grad,) = n.value_and_grad(numpy.array([-1.0, 0.25, 4.0]))
    assert value.tolist() == [0.0, 0.5, 4.0]
    assert grad.tolist() == [0.0, 1.0, 0.5]


def test_reverse_both_branches_make_a_node_unconditional():
    f = symback.compile("where(x > 0, sqrt(x) + 1, sqrt(x) * 2)")
    body = f.source.split("def forward")[1].split("return")[0]
    assert "if _t1:\n        _t2 = math.sqrt" not in body        # computed once, unguarded
    assert f.forward(4.0) == 3.0 and f.forward(0.0) == 0.0
