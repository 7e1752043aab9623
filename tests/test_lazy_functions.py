"""`Compiled` compiles a python-backend function to bytecode on first use (issue 16): a
1,000-input module's compile() was about half of the build, and most callers use one or two
of its functions. The functions, tracebacks and `Compiled.module` are as before."""

from __future__ import annotations

import pickle
import traceback

import pytest

import symback
from symback.errors import MissingFunctionError

TEXT = ("# vars: x z\n\n\n# def value_and_grad(x, z): a comment, shown in the docstring\n"
        "g(t) = t * t\ny = g(log(x)) * sin(z) + x * z")


def test_value_and_grad_alone_compiles_only_itself():
    f = symback.compile(TEXT, cache=False, hessian=True)
    value, grad = f.value_and_grad(2.0, 0.5)
    namespace = f._lazy.module.__dict__
    assert "value_and_grad" in namespace
    assert not {"forward", "gradient", "hessian", "hvp"} & namespace.keys()
    assert f._module is None                    # the whole module was never compiled
    whole = f.module                            # still a full module on access
    assert {"forward", "gradient", "hessian", "hvp"} <= vars(whole).keys()
    assert whole.value_and_grad(2.0, 0.5) == (value, grad)
    assert f.forward(2.0, 0.5) == whole.forward(2.0, 0.5)
    assert f.hessian(2.0, 0.5) == whole.hessian(2.0, 0.5)


@pytest.mark.parametrize("name", ["forward", "gradient", "value_and_grad", "hessian"])
def test_traceback_shows_the_generated_line(name):
    f = symback.compile("y = log(x) * sin(z) + x * z", cache=False, hessian=True)
    with pytest.raises(ValueError) as info:
        getattr(f, name)(-1.0, 2.0)             # math.log of a negative number
    frame = traceback.extract_tb(info.value.__traceback__)[-1]
    assert frame.name == name
    lines = f.source.splitlines()
    assert lines[frame.lineno - 1].strip() == frame.line
    assert "math.log(x)" in frame.line
    start = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    assert frame.lineno > start + 1


def test_pickled_before_first_use_and_after():
    f = symback.compile("y = log(x) * sin(z) + x * z", cache=False)
    expected = f.value_and_grad(1.0, 2.0)
    for g in (pickle.loads(pickle.dumps(f)), pickle.loads(pickle.dumps(f.value_and_grad))):
        fn = g.value_and_grad if isinstance(g, symback.Compiled) else g
        assert fn(1.0, 2.0) == expected


def test_missing_function_still_explained():
    f = symback.compile("y = x * z", cache=False)
    with pytest.raises(MissingFunctionError, match="hessian=True"):
        f.hessian
