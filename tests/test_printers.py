"""The printers (symback/printers.py, numpy_printer.py): every backend spells every op of the
rule table, each spelling computes the op, and imports and helpers come from what was
printed."""

from __future__ import annotations

import math

import numpy
import pytest

import symback
from symback import numpy_helpers
from symback.ops import OPS
from symback.render import PRINTERS


def _namespace(printer) -> dict:
    """What a module of this backend defines: its modules and every helper it may call."""
    names = {"math": math, "numpy": numpy}
    for name in numpy_helpers.closure(set(numpy_helpers.HELPERS)):
        if printer.name == "numpy":
            exec(numpy_helpers.HELPERS[name][0], names)  # noqa: S102 -- our own helper source
    return names


@pytest.mark.parametrize("backend", sorted(PRINTERS))
def test_every_printer_spells_every_op(backend):
    assert set(PRINTERS[backend].spellings) == set(OPS)


@pytest.mark.parametrize("backend", sorted(PRINTERS))
@pytest.mark.parametrize("name", sorted(OPS))
def test_each_spelling_computes_its_op(backend, name):
    op = OPS[name]
    spelling = PRINTERS[backend].spellings[name]
    # a point inside the sampled domain; a condition is True, an integer exponent 3
    args = [True if op.operand_kind(k) == "bool" else 3.0 if k in op.int_operands
            else lo + 0.37 * (hi - lo) for k, (lo, hi) in enumerate(op.domain)]
    names = {f"a{k}": a for k, a in enumerate(args)}
    text = spelling.text.format(*names)
    got = eval(text, _namespace(PRINTERS[backend]), names)  # our own spelling table
    assert float(got) == pytest.approx(float(op.eval(*args)), rel=1e-14, abs=1e-300)


def test_imports_and_helpers_come_from_what_was_printed():
    src = symback.compile("sign(x) * y").source
    assert "import math" not in src
    src = symback.compile("erf(x) * y", backend="numpy").source
    assert "def _erf(" in src and "def _erfc_pos(" in src
    assert "def _sigmoid(" not in src and "def _erfc(" not in src
    src = symback.compile("sigmoid(x)", backend="numpy").source
    assert "def _sigmoid(" in src and "_erf" not in src



def test_numba_spells_cbrt_with_numpy():
    """math.cbrt is correctly rounded (abs(x) ** (1/3) was ~200 ulps off at extreme
    magnitudes); numba compiles numpy.cbrt but not math.cbrt."""
    assert PRINTERS["python"].spellings["cbrt"].text == "math.cbrt({0})"
    assert PRINTERS["numba"].spellings["cbrt"].text == "numpy.cbrt({0})"
    assert "import numpy" in symback.compile("cbrt(x)", backend="numba").source
