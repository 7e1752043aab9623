"""Functions defined in the language: `softclip(u) = u / (1 + abs(u))`, expanded in the graph
builder. Values and gradients equal the hand-expanded text; every misuse is a ParseError
with its position."""

from __future__ import annotations

import sys

import pytest

import symback
from symback import LimitError, ParseError

POINT = (0.3, -0.7, 1.9)


@pytest.mark.parametrize("text, expanded", [
    ("softclip(u) = u / (1 + abs(u))\nsoftclip(x) + softclip(2*y)",
     "x / (1 + abs(x)) + (2*y) / (1 + abs(2*y))"),
    ("f(a, b) = a*b + sin(a)\nf(x, y) - f(y, x)",
     "(x*y + sin(x)) - (y*x + sin(y))"),
    # a body may call earlier definitions, use free names (inputs) and earlier bound names
    ("k = 2*z\nsq(u) = u*u\nf(u) = sq(u) + k*x\nf(y) * f(x)",
     "# vars: z x y\nk = 2*z\n(y*y + k*x) * (x*x + k*x)"),
    # parameters are local: `x` inside g is g's parameter, inside f1 it is the input x
    ("f1(u) = u + x\ng(x) = f1(3*x) * x\ng(y)",
     "# vars: x y\n((3*y) + x) * y"),
    # nested calls, and the constant arguments fold
    ("h(u) = exp(-u*u)\nh(h(x)) + h(2)",
     "exp(-exp(-x*x)*exp(-x*x)) + exp(-4)"),
    ("f(u) = where(u > 0, sqrt(u), 0)\nf(x) + f(y)",
     "where(x > 0, sqrt(x), 0) + where(y > 0, sqrt(y), 0)"),
    ("# vars: z y x\nf(u) = u**2\nf(x - y) + z",
     "# vars: z y x\n(x - y)**2 + z"),
])
def test_calls_equal_the_hand_expanded_text(text, expanded):
    f = symback.compile(text)
    g = symback.compile(expanded)
    assert f.inputs == g.inputs
    value, grad = f.value_and_grad(*POINT[:len(f.inputs)])
    expected, expected_grad = g.value_and_grad(*POINT[:len(g.inputs)])
    assert value == pytest.approx(expected, rel=1e-14)
    assert grad == pytest.approx(expected_grad, rel=1e-14)


def test_expansion_is_the_same_program_as_the_hand_written_text():
    f = symback.compile("softclip(u) = u / (1 + abs(u))\nsoftclip(x) + softclip(2*y)")
    g = symback.compile("x / (1 + abs(x)) + (2*y) / (1 + abs(2*y))")
    def body(src):                                  # the module past its docstring
        return src[src.index('"""', src.index('"""') + 3):]
    assert body(f.source) == body(g.source)
    assert f.stats == g.stats


def test_same_arguments_share_one_expansion():
    once = symback.parse("f(u) = sin(u) * exp(u)\nf(x)")
    twice = symback.parse("f(u) = sin(u) * exp(u)\nf(x) + f(x)")
    assert len(twice.graph) == len(once.graph) + 1              # only the '+' is new
    f = symback.compile("f(u) = sin(u) * exp(u)\nf(x) + f(x)")
    assert f.stats["forward_ops"] == symback.compile("f(u) = sin(u) * exp(u)\nf(x)").stats[
        "forward_ops"] + 1


def test_hessian_and_jacobian_through_functions():
    f = symback.compile("sq(u) = u*u\nsq(x + y) * z", hessian=True)
    g = symback.compile("(x + y)*(x + y) * z", hessian=True)
    for row, expected in zip(f.hessian(*POINT), g.hessian(*POINT)):
        assert row == pytest.approx(expected, rel=1e-14)
    j = symback.compile("r(a, b) = hypot(a, b)\nr(x, y), r(y, z)")
    for row, expected in zip(j.jacobian(*POINT),
                             symback.compile("hypot(x, y), hypot(y, z)").jacobian(*POINT)):
        assert row == pytest.approx(expected, rel=1e-14)


def test_a_definition_is_not_an_output_and_explain_still_works():
    from symback.explain import explain
    f = symback.compile("p = x + y\nsq(u) = u*u\nq = sq(p)\nq")
    assert f.outputs == ("q",)
    trace = explain(symback.parse("sq(u) = u*u\nq = sq(x + y)\nq"), {"x": 1.0, "y": 2.0})
    assert trace.value == pytest.approx(9.0)


def test_unused_function_free_names_are_inputs_in_order_of_appearance():
    f = symback.compile("f(u) = u * a\nf(b)")
    assert f.inputs == ("a", "b")


def test_deep_nesting_of_calls_does_not_recurse():
    n = 5000
    text = "g(u) = 0.5*u + 1\n" + "g(" * n + "x" + ")" * n
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(120)
    try:
        f = symback.compile(text)
    finally:
        sys.setrecursionlimit(limit)
    x, expected = 0.25, 0.25
    for _ in range(n):
        expected = 0.5 * expected + 1
    assert f.forward(x) == pytest.approx(expected)
    assert f.gradient(x)[0] == pytest.approx(0.5 ** n)


def test_long_chain_of_definitions_does_not_recurse():
    lines = ["f0(u) = sin(u)"] + [f"f{k}(u) = f{k - 1}(u) * 0.5 + u" for k in range(1, 300)]
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(120)
    try:
        f = symback.compile("\n".join(lines + ["f299(x)"]))
    finally:
        sys.setrecursionlimit(limit)
    import math
    expected = math.sin(0.4)
    for _ in range(299):
        expected = expected * 0.5 + 0.4
    assert f.forward(0.4) == pytest.approx(expected)


def test_expansion_past_the_node_limit_is_a_limit_error_at_the_call():
    lines = ["f0(u) = sin(u) + cos(u)"] + [f"f{k}(u) = f{k - 1}(u + 1) * f{k - 1}(u - 1)"
                                           for k in range(1, 30)]
    with pytest.raises(LimitError):
        symback.compile("\n".join(lines + ["f29(x)"]), max_nodes=10_000)


@pytest.mark.parametrize("text, message, line, column", [
    ("f(x) = f(x - 1)\nf(y)", "'f' calls itself: recursion is not supported", 1, 8),
    ("f(x) = g(x)\ng(x) = f(x)\nf(y)", "'g' is defined later, at 2:1", 1, 8),
    ("f(u) = u * f\nf(y)", "'f' is the function being defined", 1, 12),
    ("f(u) = 2*u\nf(g(x)); g(u) = u", "'g' is defined later, at 2:10", 2, 3),
    ("sin(x) = x\nsin(y)", "cannot redefine the built-in function 'sin'", 1, 1),
    ("y + 1\nwhere(u, v) = u\n3", "cannot redefine the built-in function 'where'", 2, 1),
    ("max(a, b) = a\nmax(x, y)", "cannot redefine the built-in function 'max'", 1, 1),
    ("f(x) = x\nf(x) = 2*x\nf(y)", "'f' is already defined at 1:1", 2, 1),
    ("f(sin) = sin\nf(y)", "parameter 'sin' is named like a function", 1, 3),
    ("g(u) = u\nf(g) = g\nf(y)", "parameter 'g' is named like a function", 2, 3),
    ("f(f) = f\nf(y)", "parameter 'f' is named like a function", 1, 3),
    ("f(pi) = pi\nf(x)", "parameter 'pi' is named like a constant", 1, 3),
    ("f(a, a) = a\nf(y, y)", "parameter 'a' is listed twice", 1, 6),
    ("f(a, b, a) = a\nf(y, y, y)", "parameter 'a' is listed twice", 1, 9),
    ("f(a) = a\nf(y, z)", "f() takes 1 argument, got 2", 2, 1),
    ("f(a, b) = a\n3 + f(y)", "f() takes 2 arguments, got 1", 2, 5),
    ("f(a) = a\nf()", "f() needs 1 argument", 2, 3),
    ("f() = 1\nf()", "f() needs at least one parameter", 1, 3),
    ("f(u, 2) = u\nf(x)", "expected a parameter name, found number '2'", 1, 6),
    ("f(u v) = u\nf(x)", "expected ',' or ')' after a parameter", 1, 5),
    ("f(lambda) = 1\nf(x)", "'lambda': lambdas are not supported", 1, 3),
    ("f(u) = u\n", "the last statement defines 'f'", 1, 1),
    ("x + 1; f(u) = u", "the last statement defines 'f'", 1, 8),
    ("f(u) = u\nf + 1", "'f' is a function; call it as f(...)", 2, 1),
    ("f(u) = u\nf = 2\nf", "cannot assign to 'f': it is a function name", 2, 1),
    ("y + 1; y(u) = u; 3", "'y' is used as an input at 1:1", 1, 8),
    ("p = x; p(u) = u; p", "'p' is already bound at 1:1", 1, 8),
    ("pi(u) = u\npi(x)", "cannot define 'pi': it is a constant", 1, 1),
    ("# vars: x q\nq(u) = u\nq(x)", "cannot define 'q': it is a declared input", 2, 1),
    ("f(u) = u > 0\nf(x)", "a comparison can only be the condition of where()", 1, 8),
    ("f(u) = u\nf(x > 0)", "a comparison can only be the condition of where()", 2, 3),
    ("f(u) = u\nfx(y)", "unknown function 'fx' (did you mean 'f'?)", 2, 1),
    ("f(u) = u(2)\nf(x)", "'u' is a parameter, not a function", 1, 8),
    ("f(u) = \nf(x)", "expected an expression", 1, 8),
    ("f(u) = u + sinn(u)\nf(x)", "unknown function 'sinn'", 1, 12),
    ("f(u) = u + v\nv = 3\nf(x)", "'v' is used at 1:12 before this definition", 2, 1),
    ("f(u) = u +* 2\nf(x)", "expected an expression, found '*'", 1, 11),
    ("f(u) = u)\nf(x)", "unmatched ')'", 1, 9),
    ("f(u) = u, u\nf(x)", "several outputs ('a, b') cannot be bound to one name", 1, 9),
])
def test_definition_errors(text, message, line, column):
    with pytest.raises(ParseError) as info:
        symback.compile(text)
    err = info.value
    assert message in err.message
    assert (err.line, err.column) == (line, column)
    source_line = text.split("\n")[line - 1]                   # the caret is under the text
    assert str(err).split("\n")[1:] == [f"  {source_line}",
                                         "  " + " " * (column - 1) + "^" * err.width]


def test_strict_mode_checks_free_names_in_bodies():
    with pytest.raises(ParseError) as info:
        symback.compile("# vars: x\nf(u) = u + w\nf(x)", strict=True)
    assert (info.value.line, info.value.column) == (2, 12)
    f = symback.compile("# vars: x w\nf(u) = u + w\nf(x)", strict=True)
    assert f.forward(1, 2) == 3.0


def test_a_name_like_a_defined_function_is_warned_about():
    with pytest.warns(symback.SymbackWarning, match="did you mean the function 'softclip'"):
        symback.compile("softclip(u) = u / (1 + abs(u))\nsoftclip(x) + softclp")
