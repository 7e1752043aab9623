"""Fuzzing the parser and compiler: random bytes, token soups and mutated valid expressions.

The contract under test (issue 3): whatever the text, `symback.compile` either returns a
module or raises a `SymbackError` subclass that carries a line and column and renders as one
headline plus a source line and a caret line. Nothing else escapes (no IndexError, no
RecursionError, ...). Every module that compiles is valid Python: it is imported and called
at a point, and calling it may only raise the `math` exceptions of a domain error.

The default run is a few thousand examples per strategy (well under a minute in all). For a
long run set SYMBACK_FUZZ_EXAMPLES, e.g. `SYMBACK_FUZZ_EXAMPLES=100000 pytest
tests/test_fuzz.py`; it is the number of examples of each strategy. For coverage-guided
fuzzing see tests/fuzz_atheris.py.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import symback
from oracles import array_oracle, workloads
from symback.ops import CONSTANTS, FUNCTIONS

EXAMPLES = int(os.environ.get("SYMBACK_FUZZ_EXAMPLES", "0")) or None

ROOT = Path(__file__).resolve().parent.parent


def fuzz_settings(default: int):
    return settings(max_examples=EXAMPLES or default, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


# Exceptions a generated python-backend module may raise when called: the `math` module's
# domain and range errors (documented behaviour), nothing else.
MATH_ERRORS = (ValueError, ZeroDivisionError, OverflowError)

VALID = [
    "x", "x + y", "((x + y) * z)**2", "sin(x) * exp(-y**2)", "x**y", "x**2 + x**3",
    "sqrt(x*x + y*y)", "where(x > 0, x, -x)", "max(x, y, z) - min(x, y)", "hypot(x, y)",
    "atan2(y, x)", "abs(x) + sign(y)", "log1p(exp(x))", "p = x + y\nq = p * z\nq**2",
    "a = sin(x); b = cos(x); a, b", "# vars: y x\nx*y", "sigmoid(x) * softplus(y)",
    "where(x >= 1, sqrt(x - 1), 0) + erf(x) - erfc(y)", "x / (y - 1) + cbrt(x)",
    "tanh(x)**3 / cosh(y) + asinh(x) * atan(y)", "pow(x, 2.5) + 2^x - 1e-3*x",
    "f = x*y  # a comment\nf + 1", "(x\n + y)", "-x**-2 + --y", "log(x) + log2(y) + log10(z)",
]
VALID += [p.read_text() for p in workloads.PATHS
          if p.stat().st_size < 4000]

TOKENS = (
    list(FUNCTIONS) + list(CONSTANTS)
    + ["x", "y", "z", "d_x", "math", "np", "numpy", "forward", "print", "__import__", "_",
       "lambda", "if", "else", "import", "for", "not", "True", "None", "__builtins__", "os"]
    + ["0", "1", "2", "0.5", "1e308", "1e-320", "1e999", "2.", ".5", "10", "0e0", "3j", "1_0"]
    + ["+", "-", "*", "/", "**", "^", "(", ")", ",", "=", "==", "!=", "<", "<=", ">", ">=",
       ";", "\n", " ", "\t", "#", "# vars: x y", ".", "[", "]", "{", "}", "'", '"', "\\",
       ":", ":=", "@", "%", "!", "`", "\r", "\x00", "\x1b", "\u2028", "\ufeff", "ｘ", "é",
       '"""', "f'", "**-", "--"]
)

ALPHABET = st.sampled_from(
    list("xyz()+-*/^,;=<>.!#e0123456789 \n\t_") + ["\r", "\x00", "\x0c", "\u00e9", "\u2028",
                                                    "\uff58", "\ud800", "'", '"', "\\", "[", ":"])


def check(text: str, backend: str = "python") -> None:
    """The contract: a module that imports and runs, or a positioned SymbackError."""
    try:
        compiled = symback.compile(text, backend=backend)
    except symback.SymbackError as exc:
        check_error(exc)
        return
    module = compiled.module                      # valid Python, imports
    assert module.INPUTS == compiled.inputs
    size = len(array_oracle.element_names(compiled))     # array inputs: every element
    point = array_oracle.args_of(compiled, [0.5 + 0.25 * k for k in range(size)])
    fn = getattr(module, "value_and_grad", None) or module.value_and_jacobian
    try:
        fn(*point)
    except MATH_ERRORS:
        pass


def check_error(exc: symback.SymbackError) -> None:
    assert exc.line is not None and exc.column is not None, f"no position: {exc!r}"
    assert exc.line >= 1 and exc.column >= 1
    lines = str(exc).split("\n")
    assert len(lines) == 3, f"not headline + source + caret: {str(exc)!r}"
    assert lines[0].endswith(f" at {exc.line}:{exc.column}")
    assert lines[2].strip() and set(lines[2].strip()) == {"^"}
    for line in lines:
        assert "\r" not in line and "\x1b" not in line and "\u2028" not in line


@pytest.mark.parametrize("text", VALID)
def test_corpus_compiles(text):
    check(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(text, backend="numpy")


@fuzz_settings(1200)
@given(st.binary(max_size=60))
@example(b"\xff\xfe")
@example(b"x\x00")
def test_random_bytes(data):
    check(data.decode("latin-1"))
    check(data.decode("utf-8", errors="surrogateescape"))


@fuzz_settings(1200)
@given(st.text(ALPHABET, max_size=40))
def test_random_text(text):
    check(text)


@fuzz_settings(2000)
@given(st.lists(st.sampled_from(TOKENS), max_size=25), st.booleans())
def test_token_soup(tokens, spaced):
    check((" " if spaced else "").join(tokens))


@st.composite
def mutated(draw):
    """A valid expression with a few random edits: delete, insert, replace, swap, cut."""
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        n = len(text)
        at = draw(st.integers(0, n))
        what = draw(st.sampled_from(["delete", "insert", "replace", "swap", "cut", "dup"]))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(ALPHABET, max_size=3)))
        if what == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 5)):]
        elif what == "insert":
            text = text[:at] + piece + text[at:]
        elif what == "replace":
            text = text[:at] + piece + text[at + len(piece):]
        elif what == "swap" and n > 1:
            b = draw(st.integers(0, n - 1))
            lo, hi = sorted((at if at < n else n - 1, b))
            text = text[:lo] + text[hi] + text[lo + 1:hi] + text[lo] + text[hi + 1:]
        elif what == "cut":
            text = text[:at]
        elif what == "dup":
            text = text[:at] + text[at // 2:at] + text[at:]
    return text


@fuzz_settings(2000)
@given(mutated())
def test_mutated_expressions(text):
    check(text)


@fuzz_settings(250)
@given(mutated())
def test_mutated_expressions_numpy(text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        check(text, backend="numpy")


def test_non_string_input_is_a_symback_error():
    for bad in (b"x + 1", None, 3.0, ["x", 1]):
        with pytest.raises(symback.SymbackError):
            symback.compile(bad)  # type: ignore[arg-type]


def test_math_errors_are_the_only_call_errors():
    """The generated python module raises math's exceptions at domain errors (documented)."""
    f = symback.compile("sqrt(x) + log(y)")
    with pytest.raises(ValueError):
        f.forward(-1.0, 1.0)
    with pytest.raises(ValueError):
        f.forward(1.0, 0.0)
    with pytest.raises(ZeroDivisionError):
        f.gradient(0.0, 1.0)
    assert math.isfinite(f.forward(4.0, 1.0))
