"""The benchmark runner's CI smoke run: `python -m benchmarks --quick` completes, shows every
peer (a missing one as "not installed"), and writes its JSON. Nothing about time is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_quick_run(tmp_path):
    out = tmp_path / "quick.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--peers", "symback,handwritten,sympy",
         "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| seed" in result.stdout and "symback" in result.stdout
    data = json.loads(out.read_text())
    assert data, "the runner wrote no results"
