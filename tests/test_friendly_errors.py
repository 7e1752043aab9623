"""Errors a new user meets, with one line that says what to do: arrays on the python backend,
a function the module was not compiled with, arguments of the wrong type, Python operators
the language does not have."""

from __future__ import annotations

import pytest

import symback
from symback.errors import CallError, MissingFunctionError

numpy = pytest.importorskip("numpy")


@pytest.mark.parametrize("arg", [numpy.ones(3), [1.0, 2.0], numpy.ones((2, 2))])
@pytest.mark.parametrize("fname", ["forward", "gradient", "value_and_grad"])
def test_python_backend_called_with_an_array_says_use_numpy(fname, arg):
    f = symback.compile("sin(x) * y")
    with pytest.raises(CallError) as info:
        getattr(f, fname)(arg, 2.0)
    err = info.value
    assert isinstance(err, TypeError) and isinstance(err, symback.ArgumentError)
    assert str(err) == (f"{fname}() of the python backend takes numbers, not "
                        f"{type(arg).__name__} (argument 1): compile with backend=\"numpy\" "
                        "for arrays")
    assert "\n" not in str(err)


def test_other_type_errors_are_left_alone():
    f = symback.compile("sin(x) * y")
    with pytest.raises(TypeError) as info:
        f.forward("a", 2.0)
    assert not isinstance(info.value, CallError)
    assert f.forward(numpy.float64(0.5), 2) == f.module.forward(0.5, 2.0)


def test_missing_hessian_says_compile_with_hessian():
    f = symback.compile("x * y")
    assert not hasattr(f, "hessian")
    with pytest.raises(MissingFunctionError) as info:
        f.hvp
    assert isinstance(info.value, AttributeError)
    assert str(info.value) == ("this module has no hvp() (compile with hessian=True; its "
                               "functions: forward, gradient, value_and_grad)")
    with pytest.raises(symback.ArgumentError, match=r"use gradient\(\)"):
        f.jacobian
    assert symback.compile("x * y", hessian=True).hessian(1, 2) == ((0.0, 1.0), (1.0, 0.0))


@pytest.mark.parametrize("kwargs, message", [
    ({"hessian": "yes"}, "hessian must be True or False, not 'yes'"),
    ({"strict": 1}, "strict must be True or False, not 1"),
    ({"wrt": []}, "wrt is empty: name at least one input"),
    ({"wrt": [3]}, "wrt: 3 is not a valid input name"),
    ({"wrt": 3}, "wrt must be a list of names or one string such as 'x, y', not int"),
    ({"wrt": " , "}, "wrt is empty"),
    ({"backend": 3}, "unknown backend 3 (choose from python, numpy, numba)"),
    ({"backend": ["numpy"]}, "unknown backend ['numpy']"),
    ({"mode": 2}, "unknown mode 2"),
    ({"name": 2}, "name must be a non-empty string"),
    ({"max_chars": "10"}, "max_chars must be a whole number >= 1 or None, not '10'"),
    ({"max_nodes": 0}, "max_nodes must be a whole number >= 1 or None, not 0"),
    ({"max_nodes": True}, "max_nodes must be a whole number >= 1 or None, not True"),
])
def test_wrong_argument_types_are_argument_errors(kwargs, message):
    with pytest.raises(symback.ArgumentError) as info:
        symback.compile("x * y", **kwargs)
    assert str(info.value).startswith(message)


def test_save_takes_a_path():
    with pytest.raises(symback.ArgumentError, match="save\\(\\) takes a file path, not int"):
        symback.compile("x * y").save(3)


def test_parse_checks_its_arguments_too():
    with pytest.raises(symback.ArgumentError, match="inputs must be a list"):
        symback.parse("x * y", inputs=5)
    with pytest.raises(symback.ArgumentError, match="strict must be True or False"):
        symback.parse("x * y", strict="no")


@pytest.mark.parametrize("text, message, column, width", [
    ("x // 2", "'//' (floor division) is not supported: use '/' (there is no floor function)",
     3, 2),
    ("y = x % 2", "'%' (remainder) is not supported: there is no remainder or floor function",
     7, 1),
])
def test_python_operators_that_are_not_supported(text, message, column, width):
    with pytest.raises(symback.ParseError) as info:
        symback.compile(text)
    err = info.value
    assert (err.message, err.line, err.column, err.width) == (message, 1, column, width)
    assert str(err).endswith("^" * width)


def test_percent_in_a_comment_is_fine():
    assert symback.compile("x / 2  # 50% off").forward(3) == 1.5


def test_wrt_takes_any_iterable_of_names():
    assert symback.compile("x * y", wrt={"y": 0, "x": 0}.keys()).wrt == ("y", "x")
    assert symback.compile("x * y", wrt=(n for n in "xy")).wrt == ("x", "y")
