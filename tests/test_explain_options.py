"""Bugs of issue 10 in `explain` and the command line's options, each fixed and kept fixed."""

from __future__ import annotations

import importlib
import json

import pytest

import symback
from symback.cli import main
from symback.report import format_text

# the module (the package's `explain` attribute is the function)
explain_module = importlib.import_module("symback.explain")


# --- the point as a string -------------------------------------------------------------------

@pytest.mark.parametrize("at", ["x=1 y=2", "x=1,y=2", "y=2, x=1"])
def test_library_point_as_a_string_of_pairs(at):
    t = symback.explain("x*y", at=at)
    assert t.point == {"x": 1.0, "y": 2.0} and t.grad == (2.0, 1.0)


@pytest.mark.parametrize("at, message", [
    ({"x": 1}, "no value for 'y'"), ({"x": 1, "y": 2, "w": 3}, "'w' is not an input"),
    ({"x": 1, "y": "two"}, "not a number"), ("x=1 y", "expected NAME=VALUE"),
])
def test_library_errors_do_not_use_command_line_wording(at, message):
    with pytest.raises(symback.ArgumentError) as exc:
        symback.explain("x + y", at=at)
    assert message in exc.value.message and "--at" not in exc.value.message


def test_command_line_adds_its_prefix(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["explain", "x + y", "--at", "x=1", "w=2"])
    assert exc.value.code == 2
    assert "error: --at: 'w' is not an input" in capsys.readouterr().err


# --- options in any order --------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["explain", "--at", "x=1", "y=2", "x*y"],
    ["explain", "--at", "x=1,y=2", "x*y"],
    ["explain", "x*y", "--at", "x=1", "y=2"],
    ["explain", "--wrt", "x", "y", "--at", "x=1", "y=2", "x*y"],
    ["explain", "--at", "x=1", "y=2", "--wrt", "x,y", "x*y"],
    ["explain", "--at", "x=1", "y=2", "--wrt", "x", "y", "x*y"],
    ["explain", "--wrt", "x", "y", "x*y", "--at", "x=1", "y=2"],
])
def test_explain_options_in_any_order(argv, capsys):
    assert main(argv + ["--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["expression"] == "x*y" and data["point"] == {"x": 1.0, "y": 2.0}
    assert [g["value"] for g in data["gradient"]] == [2.0, 1.0]


@pytest.mark.parametrize("argv", [
    ["compile", "--wrt", "x", "y", "a*x*y"],
    ["compile", "--wrt", "x,y", "a*x*y"],
    ["compile", "a*x*y", "--wrt", "x", "y"],
    ["compile", "--wrt", "x", "y", "--backend", "python", "a*x*y"],
])
def test_compile_wrt_takes_the_same_lists(argv, capsys):
    assert main(argv) == 0
    assert "WRT = ('x', 'y')" in capsys.readouterr().out


def test_graph_options_in_any_order(capsys):
    assert main(["graph", "--at", "x=1", "y=2", "x*y"]) == 0
    assert "x = 1" in capsys.readouterr().out


def test_two_expressions_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compile", "x", "y"])
    assert exc.value.code == 2 and "give one expression" in capsys.readouterr().err


def test_a_name_after_wrt_is_not_taken_for_the_expression(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["compile", "--wrt", "x", "y"])
    assert exc.value.code == 2 and "give an expression" in capsys.readouterr().err
    assert main(["compile", "y", "--wrt", "x", "y"]) == 0
    assert "WRT = ('x', 'y')" in capsys.readouterr().out


# --- the hint names the real option ------------------------------------------------------------

def test_several_outputs_hint_names_which():
    t = symback.explain("a = x*y; b = a + x; a, b", at={"x": 1, "y": 2}, output="b")
    assert "choose another with --which" in format_text(t)


# --- checks: only what is shown, or none ----------------------------------------------------

SUM = " + ".join(f"sin(x{k})" for k in range(30))
AT = [f"x{k}=0.5" for k in range(30)]


def test_check_none_skips_finite_differences(capsys):
    t = symback.explain("x*y", at={"x": 1, "y": 2}, check="none")
    assert [g.finite_difference for g in t.gradient] == [None, None]
    assert symback.explain("x*y", at="x=1 y=2", check=None).gradient[0].finite_difference \
        is None
    assert main(["explain", "x*y", "--at", "x=1", "y=2", "--check", "none"]) == 0
    out = capsys.readouterr().out
    assert "finite diff" not in out and "4. Gradient\n" in out


def test_finite_differences_only_for_the_rows_shown():
    t = symback.explain(SUM, at=dict.fromkeys([f"x{k}" for k in range(30)], 0.5),
                        check_limit=4)
    checked = [g.name for g in t.gradient if g.finite_difference is not None]
    assert checked == ["x0", "x1", "x28", "x29"]


def test_command_line_checks_only_the_rows_shown(monkeypatch, capsys):
    calls = []
    real = explain_module.evaluate

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)
    monkeypatch.setattr(explain_module, "evaluate", counting)
    assert main(["explain", SUM, "--at", *AT, "--limit", "4"]) == 0
    assert "⋮  26 inputs not shown" in capsys.readouterr().out
    assert len(calls) <= 2 * 4 + 4                 # two per checked input, a few to build
