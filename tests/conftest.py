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

# The compile cache: off for the suite (a test that reuses an expression must compile it, and
# the suite must not write into the user's cache folder), and pointed at a temporary folder
# anyway, for the tests that turn it on (cache=True) and for subprocesses. tests/test_cache.py
# gives each test its own folder.
import atexit  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402

os.environ["SYMBACK_CACHE"] = "0"
os.environ["SYMBACK_CACHE_DIR"] = tempfile.mkdtemp(prefix="symback-test-cache-")
atexit.register(shutil.rmtree, os.environ["SYMBACK_CACHE_DIR"], ignore_errors=True)
