"""The parser: what it accepts, and the message and position of every kind of bad input."""

from __future__ import annotations

import math

import pytest

import symback
from symback import ParseError, SymbackError


def value(text, *args, **kw):
    return symback.compile(text, **kw).forward(*args)


@pytest.mark.parametrize("text, args, expected", [
    ("((x + y) * z)**2", (1, 3, 3), 144.0),
    ("x ^ 2", (3,), 9.0),                                   # ^ is power, not xor
    ("-x**2", (3,), -9.0),                                  # ** binds tighter than unary -
    ("2**-x", (1,), 0.5),
    ("2**3**2", (), 512.0),                                 # right-associative
    ("x - y - z", (1, 2, 3), -4.0),                         # left-associative
    ("x / y / z", (8, 2, 2), 2.0),
    ("--x", (2,), 2.0),
    ("+x", (2,), 2.0),
    ("pi * e", (), math.pi * math.e),
    ("1e-3 * x + .5 + 2.", (1000,), 3.5),
    ("max(x, y, 3)", (1, 2), 3.0),                          # min/max take 2 or more
    ("pow(x, 3)", (2,), 8.0),
    ("where(x >= 0, x, -x)", (-2,), 2.0),
    ("where(x == y, 1, 0) + where(x != y, 10, 0)", (1, 1), 1.0),
    ("atan2(y, x)", (1, 1), math.atan2(1, 1)),
    ("p = x + y; q = p * z; r = q**2", (1, 3, 3), 144.0),
    ("p = x + y\nq = p * z\n\nq**2  # comment", (1, 3, 3), 144.0),
    ("a = (x +\n     y)\na", (1, 2), 3.0),                 # newlines inside parentheses
    ("x;", (4,), 4.0),
    ("  x\t+\t1  ", (1,), 2.0),
    ("theta_1 * _x2", (2, 3), 6.0),
])
def test_parse_accepts(text, args, expected):
    assert value(text, *args) == pytest.approx(expected, rel=1e-15)


def test_parse_inputs_in_order_of_first_appearance():
    f = symback.compile("z * a + b * z")
    assert f.inputs == ("z", "a", "b")


def test_parse_vars_line_sets_order_and_unused_input_gets_zero():
    f = symback.compile("# vars: b a unused\na * b")
    assert f.inputs == ("b", "a", "unused")
    assert f.gradient(2, 3, 7) == (3.0, 2.0, 0.0)


def test_parse_named_intermediates_are_kept():
    f = symback.compile("p = x + y; q = p * z; r = q**2")
    assert f.outputs == ("r",)
    for line in ("p = x + y", "q = p * z", "d_q = ", "d_p = "):
        assert line in f.source


def test_parse_several_outputs():
    f = symback.compile("a = x * y; a, x + y")
    assert f.outputs == ("a", "f1")
    assert f.forward(2, 3) == (6.0, 5.0)


def test_parse_deep_nesting_10000():
    text = "sin(" * 10000 + "x" + ")" * 10000
    f = symback.compile(text)
    x = 0.3
    expected, slope = x, 1.0
    for _ in range(10000):
        slope *= math.cos(expected)
        expected = math.sin(expected)
    v, (g,) = f.value_and_grad(x)
    assert v == pytest.approx(expected, rel=1e-12)
    assert g == pytest.approx(slope, rel=1e-9)


def test_parse_deep_parentheses():
    f = symback.compile("(" * 50000 + "x" + ")" * 50000 + " + 1")
    assert f.forward(1) == 2.0


def test_parse_one_megabyte_expression():
    terms = [f"x{i % 50} * {i % 7 + 1}.5" for i in range(90000)]
    text = " + ".join(terms)
    assert len(text) > 1_000_000
    f = symback.compile(text)
    point = [0.01 * k for k in range(50)]
    grad = f.gradient(*point)
    expected = [0.0] * 50
    for i in range(90000):
        expected[i % 50] += i % 7 + 1.5
    assert grad == pytest.approx(expected, rel=1e-12)


def error_of(text, **kw):
    with pytest.raises(ParseError) as info:
        symback.compile(text, **kw)
    return info.value


@pytest.mark.parametrize("text, message, line, column", [
    # unknown function, with a suggestion
    ("sinn(x)", "unknown function 'sinn' (did you mean 'sin'?)", 1, 1),
    ("foo(x)", "unknown function 'foo'", 1, 1),
    # wrong arity
    ("atan2(x)", "atan2() takes 2 arguments, got 1", 1, 1),
    ("sin(x, y)", "sin() takes 1 argument, got 2", 1, 1),
    ("max(x)", "max() takes at least 2 arguments, got 1", 1, 1),
    ("sin()", "sin() needs 1 argument", 1, 5),
    # unbalanced parentheses
    ("sin(x", "expected ')' to close '('", 1, 4),
    ("(x + 1", "expected ')' to close '('", 1, 1),
    ("x + 1)", "unmatched ')'", 1, 6),
    ("a = (x\nb = 2", "expected an operator after 'x', found name 'b'", 2, 1),
    # trailing garbage and missing operators
    ("x y", "expected an operator after 'x', found name 'y'", 1, 3),
    ("2x", "expected an operator between '2' and 'x' (write 2*x)", 1, 2),
    ("x +", "expected an expression after '+'", 1, 3),
    ("x * * y", "expected an expression, found '*'", 1, 5),
    ("1.2.3", "malformed number '1.2.3'", 1, 1),
    ("3j", "complex numbers are not supported: '3j'", 1, 1),
    ("1e400", "number '1e400' is too large for a float", 1, 1),
    # empty input
    ("", "empty expression: there is nothing to compile", 1, 1),
    ("  # only a comment\n", "empty expression: there is nothing to compile", 1, 1),
    # assignment to an input, a function name or a constant; rebinding
    ("y = x + 1; x = 2", "'x' is used at 1:5 before this definition", 1, 12),
    ("sin = x", "cannot assign to 'sin': it is a function name", 1, 1),
    ("pi = 3", "cannot assign to 'pi': it is a constant", 1, 1),
    ("a = x; a = 2", "'a' is already bound at 1:1; each name is bound once", 1, 8),
    ("# vars: x\nx = 1", "cannot assign to 'x': it is a declared input", 2, 1),
    # use before definition
    ("q = p * z; p = x + y", "'p' is used at 1:5 before this definition", 1, 12),
    # attribute access, indexing
    ("x.real", "attribute access ('.') is not supported", 1, 2),
    ("math.sin(x)", "attribute access ('.') is not supported", 1, 5),
    ("x[0]", "'x' is not declared as an array", 1, 1),
    # keywords, lambda, strings
    ("lambda: x", "'lambda': lambdas are not supported", 1, 1),
    ("x if x > 0 else y", "'if': conditional expressions are not supported", 1, 3),
    ("x and y", "'and': boolean operators are not supported", 1, 3),
    ("import os", "'import': imports are not supported", 1, 1),
    ("None + x", "'None': it is a Python keyword and cannot be a name", 1, 1),
    ("'abc'", "strings are not supported", 1, 1),
    ('x + "1"', "strings are not supported", 1, 5),
    # other syntax
    ("sin + 1", "'sin' is a function; call it as sin(...)", 1, 1),
    ("x(2)", "unknown function 'x'", 1, 1),
    ("max(x, y=1)", "keyword arguments are not supported", 1, 9),
    ("x == = 1", "'=' is only allowed at the start of a statement", 1, 6),
    ("(x, y)", "unexpected ',' inside parentheses (tuples are not supported)", 1, 3),
    ("a = x, y", "several outputs ('a, b') cannot be bound to one name", 1, 6),
    ("x > 0", "a comparison can only be the condition of where()", 1, 1),
    ("where(x, 1, 2)", "where() expects a comparison as its condition", 1, 7),
    ("0 < x < 1", "chained comparisons are not supported", 1, 7),
    ("x @ y", "operator '@' is not supported", 1, 3),
    ("x \\\n+ 1", "backslashes are not supported", 1, 3),
    ("__x + 1", "names starting with '__' are not allowed: '__x'", 1, 1),
])
def test_parse_errors(text, message, line, column):
    err = error_of(text)
    assert message in err.message
    assert (err.line, err.column) == (line, column)
    assert isinstance(err, SymbackError)
    shown = str(err).splitlines()
    assert shown[0] == f"{err.message} at {line}:{column}"
    caret = shown[2]
    assert caret.strip().startswith("^")
    assert len(caret) - len(caret.lstrip()) == column + 1      # two spaces, then the column


def test_parse_error_caret_is_under_the_token():
    err = error_of("x + sinn(y)")
    assert str(err).splitlines()[1:] == ["  x + sinn(y)", "      ^^^^"]


def test_parse_error_on_a_long_line_shows_a_window():
    text = "x + " * 100000 + "sinn(x)"
    err = error_of(text)
    shown = str(err).splitlines()
    assert len(shown[1]) < 200 and shown[1].startswith("  ...")
    assert shown[2].index("^") == shown[1].index("sinn")


def test_parse_non_string_input():
    with pytest.raises(SymbackError):
        symback.compile(42)  # type: ignore[arg-type]
