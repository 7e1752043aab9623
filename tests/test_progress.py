"""Compile progress on the command line: silent for quick compiles and off a terminal."""

from __future__ import annotations

import io
import time

from symback import cli, progress


def _stderr_of(argv, capsys, monkeypatch, delay):
    monkeypatch.setattr(progress, "DELAY", delay)
    assert cli.main(argv) == 0
    return capsys.readouterr().err


def test_progress_prints_each_stage_once_past_the_delay(capsys, monkeypatch, tmp_path):
    err = _stderr_of(["compile", "x*sin(y)", "--progress", "-o", str(tmp_path / "m.py")],
                     capsys, monkeypatch, 0.0)
    stages = [line.split("...")[0] for line in err.splitlines() if "..." in line]
    assert stages == ["symback: parsing", "symback: differentiating", "symback: scheduling",
                      "symback: rendering"]


def test_quick_quiet_and_non_terminal_compiles_print_no_progress(capsys, monkeypatch):
    assert "..." not in _stderr_of(["compile", "x*y", "--progress"], capsys, monkeypatch, 60.0)
    assert "..." not in _stderr_of(["compile", "x*y", "--quiet"], capsys, monkeypatch, 0.0)
    assert "..." not in _stderr_of(["compile", "x*y"], capsys, monkeypatch, 0.0)  # not a tty


def test_a_long_stage_is_shown_while_it_runs():
    out = io.StringIO()
    with progress.Reporter(out, delay=0.05):
        progress.stage("differentiating")
        deadline = time.monotonic() + 5
        while "differentiating" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)                      # the stage has not ended: the watcher tells
    assert out.getvalue().startswith("symback: differentiating... (")
    progress.stage("after")                       # nobody listens any more
    assert "after" not in out.getvalue()
