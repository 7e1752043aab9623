"""The shared test helpers live in the `oracles` package next to this file (the sympy oracle,
the graph twin, the workloads); make it importable under any pytest import mode."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent)
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)
