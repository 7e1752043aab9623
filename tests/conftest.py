"""The shared test helpers live in the `oracles` package next to this file (the sympy oracle,
the graph twin, the workloads); make it importable under any pytest import mode."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

# The tests test the checkout they are in: its symback comes first, before any installed one
# (an editable install of another checkout, or a wheel). Subprocesses inherit PYTHONPATH.
_ROOT = str(Path(__file__).resolve().parent.parent)
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != _ROOT])
