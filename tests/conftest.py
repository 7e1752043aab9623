"""Shared fixtures: the workload corpus and paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = sorted((ROOT / "benchmarks" / "workloads").glob("*.expr"))


def workload_ids() -> list[str]:
    return [p.stem for p in WORKLOADS]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
