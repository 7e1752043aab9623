"""symback.source: the one reader of `.expr` directives, input names and points."""

from __future__ import annotations

import pytest

import symback
from symback import source
from symback.cli import main

TEXT = "# vars: x, y z\n# point: 1, 3 3\n# name: tutorial\np = x + y\nq = p * z\nr = q**2\n"


def test_directives_first_line_of_each_kind():
    found = source.directives(TEXT + "# point: 9 9 9\n")
    assert found == {"vars": "x, y z", "point": "1, 3 3", "name": "tutorial"}
    assert source.is_directive("  # size: 3") and not source.is_directive("x  # vars: y")


@pytest.mark.parametrize("text", ["1, 3, 3", "1 3 3", "1,3,3", " 1 ,3  3 "])
def test_point_accepts_spaces_and_commas(text):
    assert source.point_directive(f"# point: {text}\nx+y+z", ["x", "y", "z"]) == \
        {"x": 1.0, "y": 3.0, "z": 3.0}


def test_point_errors():
    with pytest.raises(symback.ArgumentError, match="must hold numbers, not 'two'"):
        source.point_directive("# point: 1 two\nx+y", ["x", "y"])
    with pytest.raises(symback.ArgumentError, match="has 1 numbers for 2 inputs"):
        source.point_directive("# point: 1\nx+y", ["x", "y"])


def test_read_expr_file_accepts_commas(tmp_path):
    path = tmp_path / "t.expr"
    path.write_text(TEXT)
    found = symback.read_expr_file(path)
    assert found.vars == ["x", "y", "z"] and found.point == [1.0, 3.0, 3.0]
    assert found.name == "tutorial"
    assert symback.api.read_expr_file is source.read_expr_file


def test_one_behaviour_for_library_and_command_line(tmp_path, capsys):
    """`# point: 1, 3, 3` worked in symback.explain() but `explain -f` rejected it."""
    path = tmp_path / "t.expr"
    path.write_text(TEXT)
    assert symback.explain(TEXT).grad == (72.0, 72.0, 96.0)
    assert main(["explain", "-f", str(path)]) == 0
    assert "∂r/∂z     96" in capsys.readouterr().out


def test_vars_error_points_at_the_line():
    with pytest.raises(symback.ParseError) as exc:
        symback.compile("x + 1\n# vars: x 1y\n")
    assert (exc.value.line, exc.value.column) == (2, 8)
    assert "'1y' is not a valid input name" in exc.value.message


def test_input_names():
    assert source.input_names("x, y z", "wrt") == ["x", "y", "z"]
    for bad, message in [("x x", "listed twice"), ("1y", "not a valid input name"),
                         ("lambda", "keyword"), ("__x", "not a valid input name")]:
        with pytest.raises(symback.ArgumentError, match=message):
            source.input_names(bad, "wrt")


def test_assignments_and_points():
    assert source.assignments("x=1 y=2,z=-3e2") == {"x": "1", "y": "2", "z": "-3e2"}
    assert source.assignments(["x=1", "y=2,z=3"]) == {"x": "1", "y": "2", "z": "3"}
    assert source.is_assignments("x=1,y=2") and not source.is_assignments("x*y")
    assert not source.is_assignments("p = x + y; p")
    with pytest.raises(symback.ArgumentError, match="expected NAME=VALUE, got 'x1'"):
        source.assignments("x1")
    with pytest.raises(symback.ArgumentError, match="'x' is given twice"):
        source.assignments("x=1 x=2")
    assert source.resolve_point(["x", "y"], "y=2, x=1") == {"x": 1.0, "y": 2.0}
