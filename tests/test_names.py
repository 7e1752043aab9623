"""Names the user wrote: outputs keep the name written last (through aliases), free names that
look like typos of bound names or functions warn, and `strict=True` refuses undeclared names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import symback

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("text, outputs", [
    ("a = x + y; phi = a; phi", ("phi",)),       # an alias as the last statement
    ("a = x*y; b = a; a, b", ("a", "b")),         # two names of one node
    ("a = x*y; b = a", ("b",)),                   # the name bound last
    ("a = x*y; a", ("a",)),
    ("x*y", ("f",)),
    ("+x", ("x",)),
])
def test_output_takes_the_name_written_last(text, outputs):
    f = symback.compile(text)
    assert f.outputs == outputs
    assert f"OUTPUTS = {outputs!r}" in f.source


def test_alias_outputs_compute_both_rows():
    f = symback.compile("a = x*y; b = a; a, b")
    assert f.jacobian(2.0, 3.0) == ((3.0, 2.0), (3.0, 2.0))


def test_explain_which_alias():
    trace = symback.explain("a = x + y; phi = a; phi", at={"x": 1, "y": 2}, output="phi")
    assert trace.output == "phi"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-m", "symback", "explain", "--which", "phi",
                             "a = x + y; phi = a; phi", "--at", "x=1", "y=2"],
                            env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Backpropagation through phi(x, y)" in result.stdout
