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


def test_stage_profile_runs():
    """`python -m benchmarks.stages` (issue 16's per-stage profile) prints one row per
    workload with every stage, and the compile it times is the ordinary one."""
    from benchmarks import stages
    from benchmarks.workload import by_name
    wl = by_name(["seed"])[0]
    spent = stages.measure(wl.text, list(wl.vars), wl.point)
    assert set(stages.STAGES) <= set(spent)
    assert all(v >= 0.0 for k, v in spent.items() if k != "other")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SYMBACK_CACHE="0")
    result = subprocess.run([sys.executable, "-m", "benchmarks.stages", "--only", "seed",
                             "chain_100", "--repeat", "1"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows] == ["workload", "seed", "chain_100"]
    assert all(len(r.split("|")) == len(stages.STAGES) + 4 for r in rows)
