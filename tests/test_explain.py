"""symback.explain: the worked backpropagation example, its formats and its command."""

from __future__ import annotations

import json
import math
import random

import pytest

import symback
from symback.cli import main
from symback.explain import DomainError, explain
from symback.report import format_json, format_markdown, format_text

TUTORIAL = "p = x + y; q = p * z; r = q**2"
AT = {"x": 1, "y": 3, "z": 3}


# --- the tutorial example, number for number ----------------------------------------------

def test_tutorial_forward_values_and_equations():
    t = explain(TUTORIAL, at=AT)
    assert t.output == "r" and t.value == 144.0
    assert [(s.name, s.value) for s in t.forward] == [
        ("x", 1.0), ("y", 3.0), ("z", 3.0), ("p", 4.0), ("q", 12.0), ("r", 144.0)]
    assert [s.equation for s in t.forward[3:]] == ["p = x + y", "q = p · z", "r = q²"]


def test_tutorial_local_partials():
    t = explain(TUTORIAL, at=AT)
    assert [(e.label, e.formula, e.value) for e in t.edges] == [
        ("∂p/∂x", "1", 1.0), ("∂p/∂y", "1", 1.0), ("∂q/∂p", "z", 3.0), ("∂q/∂z", "p", 4.0),
        ("∂r/∂q", "2 · q", 24.0)]


def test_tutorial_adjoints_and_gradient():
    t = explain(TUTORIAL, at=AT)
    assert {a.name: a.value for a in t.backward} == {
        "r": 1.0, "q": 24.0, "p": 72.0, "x": 72.0, "y": 72.0, "z": 96.0}
    assert t.grad == (72.0, 72.0, 96.0)
    p = next(a for a in t.backward if a.name == "p")
    assert [(u.via, u.adjoint, u.partial, u.value) for u in p.terms] == [("q", 24.0, 3.0, 72.0)]
    assert [a.name for a in t.backward] == ["r", "q", "p", "x", "y", "z"]
    for g in t.gradient:
        assert g.finite_difference == pytest.approx(g.value, rel=1e-8)


def test_tutorial_text():
    text = format_text(explain(TUTORIAL, at=AT))
    assert "∂r/∂p = ∂r/∂q · ∂q/∂p = 24 · 3 = 72" in text
    assert "∂r/∂z = ∂r/∂q · ∂q/∂z = 24 · 4 = 96" in text
    assert "q = p · z" in text and "r = q²" in text
    assert "r = 144" in text


def test_same_trace_from_one_expression_string():
    """((x + y) * z)**2 without names: intermediates get t1, t2 and the output f."""
    t = explain("((x + y) * z)**2", at=[1, 3, 3])
    assert [s.equation for s in t.forward if s.kind == "op"] == [
        "t1 = x + y", "t2 = t1 · z", "f = t2²"]
    assert t.grad == (72.0, 72.0, 96.0)


def test_short_names_avoid_user_names():
    t = explain("t1 = x * y; t1 + sin(x)", at={"x": 0.5, "y": 2})
    names = [s.name for s in t.forward]
    assert len(set(names)) == len(names)
    assert "t1" in names and "t2" in names


# --- the trace is the compiled gradient ----------------------------------------------------

_UNARY = ["sin({})", "cos({})", "tanh({})", "exp(0.3 * {})", "sigmoid({})", "softplus({})",
          "atan({})", "sqrt(1 + {0} * {0})", "log(1 + {0} * {0})", "abs({})", "erf({})",
          "({})**2", "({})**3", "-({})", "cbrt({})"]
_BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (1.5 + {} ** 2)", "max({}, {})",
           "min({}, {})", "hypot({}, {})", "atan2({}, 2 + {} ** 2)",
           "where({0} > {1}, {0} * {1}, {1} - {0})", "where({0} < 0, log(-{0}), sqrt({1}**2))"]


def _random_expression(rng: random.Random, names: list[str], size: int,
                       binary: list[str] = _BINARY) -> str:
    """Statements `a0 = ...; a1 = ...` mixing the table's ops, reusing earlier values."""
    pool = list(names)
    lines = []
    for k in range(size):
        if rng.random() < 0.4:
            text = rng.choice(_UNARY).format(rng.choice(pool))
        else:
            text = rng.choice(binary).format(rng.choice(pool), rng.choice(pool))
        lines.append(f"a{k} = {text}")
        pool.append(f"a{k}")
    lines.append(" + ".join(pool[-3:]))
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(40))
def test_trace_gradient_equals_compiled_gradient(seed):
    rng = random.Random(seed)
    names = ["x", "y", "z"]
    text = _random_expression(rng, names, rng.randint(3, 12))
    at = {n: rng.uniform(-2, 2) for n in names}
    compiled = symback.compile(text, wrt=names)
    try:
        expected = compiled.gradient(*at.values())
    except (ValueError, ZeroDivisionError):
        with pytest.raises(DomainError):
            explain(text, at=at, wrt=names)
        return
    t = explain(text, at=at, wrt=names)
    assert t.value == compiled.forward(*at.values())
    # Same rules, same accumulation order, same exact zeros: the same floats, bit for bit.
    assert t.grad == expected, text


def test_trace_adjoints_of_named_nodes_follow_the_chain_rule():
    t = explain("a = x * y; b = sin(a); c = a + b; c * x", at={"x": 0.7, "y": -1.3})
    for adj in t.backward:
        if adj.seed or not adj.terms:
            continue
        assert adj.value == pytest.approx(math.fsum(u.adjoint * u.partial for u in adj.terms))
    assert t.grad == pytest.approx(symback.compile("a = x * y; b = sin(a); c = a + b; c * x")
                                   .gradient(0.7, -1.3), rel=1e-15)


def test_where_branch_not_taken_is_not_computed():
    text = "where(x > 0, sqrt(x), log(-x)) * y"
    t = explain(text, at={"x": 2.0, "y": 3.0})
    assert t.grad == symback.compile(text).gradient(2.0, 3.0)
    idle = [s for s in t.forward if not s.taken]
    assert idle and all(s.kind == "op" for s in idle)
    assert any(not e.taken and e.value == 0 for e in t.edges)
    assert "not needed" in format_text(t)


def test_domain_error_names_the_node():
    with pytest.raises(DomainError, match=r"t1 = log\(x\) is undefined.*x = -1"):
        explain("log(x) + y", at={"x": -1, "y": 2})
    with pytest.raises(DomainError, match=r"∂a/∂x"):
        explain("a = sqrt(x); a * y", at={"x": 0, "y": 1})


def test_parameters_not_differentiated():
    t = explain("x * y + y", at={"x": 2, "y": 5}, wrt=["x"])
    assert t.grad == (5.0,)
    assert [s.kind for s in t.forward[:2]] == ["input", "parameter"]
    assert [e.label for e in t.edges] == ["∂t1/∂x", "∂f/∂t1"]


def test_point_errors():
    with pytest.raises(symback.ArgumentError, match="not an input"):
        explain("x + y", at={"x": 1, "y": 2, "w": 3})
    with pytest.raises(symback.ArgumentError, match="no value for 'y'"):
        explain("x + y", at={"x": 1})
    with pytest.raises(symback.ArgumentError, match="not a number"):
        explain("x + y", at={"x": 1, "y": "two"})
    with pytest.raises(symback.ArgumentError, match="2 values for 3 inputs"):
        explain("x + y + z", at=[1, 2])


def test_point_line_of_the_text_is_the_default():
    t = explain("# vars: x y z\n# point: 1 3 3\n" + TUTORIAL.replace("; ", "\n"))
    assert t.grad == (72.0, 72.0, 96.0)


def test_no_point_gives_formulas():
    t = explain(TUTORIAL)
    assert t.point is None and t.value is None
    assert [e.formula for e in t.edges][-1] == "2 · q"
    text = format_text(t)
    assert "∂r/∂p = ∂r/∂q · ∂q/∂p" in text and "formulas only" in text


def test_several_outputs():
    t = explain("a = x * y; b = x + y; a, b", at={"x": 2, "y": 3}, output="b")
    assert t.output == "b" and t.grad == (1.0, 1.0)
    assert explain("a = x * y; b = x + y; a, b", at={"x": 2, "y": 3}).grad == (3.0, 2.0)
    with pytest.raises(symback.ArgumentError, match="no output"):
        explain("a = x * y; b = x + y; a, b", at={"x": 2, "y": 3}, output="c")


def test_constant_and_input_outputs():
    t = explain("x", at={"x": 4})
    assert t.grad == (1.0,) and t.value == 4.0
    assert "∂x/∂x = 1" in format_text(t)


# --- formats -------------------------------------------------------------------------------

def test_json_is_complete_and_exact():
    data = json.loads(format_json(explain("sin(x) * y", at={"x": 0.1, "y": 3})))
    assert data["value"] == math.sin(0.1) * 3
    assert data["gradient"][0]["value"] == 3 * math.cos(0.1)
    assert {"forward", "partials", "backward", "gradient", "point"} <= set(data)
    assert data["backward"][0]["seed"] is True


def test_markdown_tables():
    md = format_markdown(explain(TUTORIAL, at=AT))
    assert "| ∂r/∂p | ∂r/∂q · ∂q/∂p | 24 · 3 | 72 |" in md
    assert "| q | `q = p · z` | 12 |" in md


def _big_expression(statements: int) -> str:
    """A chain of statements over 10 inputs: three graph nodes per statement."""
    lines = ["s0 = x0 * x1", "s1 = x1 + x2"]
    for k in range(2, statements):
        lines.append(f"s{k} = tanh(s{k - 1} * x{k % 10} + s{k - 2})")
    return "\n".join(lines)


def test_big_graph_is_summarised():
    text = _big_expression(3400)
    at = {f"x{k}": 0.1 * (k + 1) for k in range(10)}
    t = explain(text, at=at)
    assert len(t.forward) > 10_000
    out = format_text(t, limit=20)
    assert out.count("\n") < 150
    assert "not shown" in out
    data = json.loads(format_json(t, limit=10))
    assert data["cut"]["forward"] == len(t.forward) - 10
    assert t.grad == pytest.approx(symback.compile(text, max_nodes=None)
                                   .gradient(*at.values()), rel=1e-12)


# --- torch ---------------------------------------------------------------------------------

def test_torch_table_covers_every_op():
    from symback.ops import OPS
    from symback.torch_check import TORCH
    assert sorted(TORCH) == sorted(OPS)


@pytest.mark.parametrize("seed", range(10))
def test_torch_agrees(seed):
    pytest.importorskip("torch")
    rng = random.Random(1000 + seed)
    names = ["x", "y", "z"]
    # torch.where multiplies the zero adjoint of a branch not taken by its partial: keep
    # both branches finite (log(-x) for x > 0 would give nan there, by torch's design).
    finite = [b for b in _BINARY if "log(-" not in b]
    text = _random_expression(rng, names, 8, finite)
    at = {n: rng.uniform(-2, 2) for n in names}
    try:
        t = explain(text, at=at, wrt=names, torch=True)
    except (DomainError, symback.ParseError):
        pytest.skip("point outside the domain")
    assert t.torch is not None
    assert t.torch.value == pytest.approx(t.value, rel=1e-12)
    assert t.torch.gradient == pytest.approx(t.grad, rel=1e-9, abs=1e-12)


def test_torch_check_on_the_tutorial():
    pytest.importorskip("torch")
    t = explain(TUTORIAL, at=AT, torch=True)
    assert t.torch.gradient == (72.0, 72.0, 96.0) and t.torch.value == 144.0
    assert "PyTorch" in format_text(t)


def test_torch_missing_message(monkeypatch):
    import builtins
    real = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("no torch")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(symback.ArgumentError, match="needs PyTorch.*pip install torch"):
        explain(TUTORIAL, at=AT, torch=True)


# --- the command ---------------------------------------------------------------------------

def test_cli_explain(capsys):
    assert main(["explain", TUTORIAL, "--at", "x=1", "y=3", "z=3"]) == 0
    out = capsys.readouterr().out
    assert "∂r/∂p = ∂r/∂q · ∂q/∂p = 24 · 3 = 72" in out


def test_cli_explain_file_point(tmp_path, capsys):
    f = tmp_path / "tutorial.expr"
    f.write_text("# vars: x y z\n# point: 1 3 3\np = x + y\nq = p * z\nr = q**2\n")
    assert main(["explain", "-f", str(f), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [g["value"] for g in data["gradient"]] == [72.0, 72.0, 96.0]


@pytest.mark.parametrize("at, message", [
    (["x=1", "y=3"], "no value for 'z'"),
    (["x=1", "y=3", "z=3", "w=0"], "'w' is not an input"),
    (["x=1", "y=three", "z=3"], "not a number"),
    (["x1"], "expected NAME=VALUE"),
])
def test_cli_bad_point_is_a_usage_error(at, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["explain", TUTORIAL, "--at", *at])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_domain_error(capsys):
    assert main(["explain", "log(x)", "--at", "x=-1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("symback: error: f = log(x) is undefined")
    assert err.count("\n") == 1


def test_cli_parse_error_as_compile(capsys):
    assert main(["explain", "sin(x", "--at", "x=1"]) == 1
    assert "expected ')'" in capsys.readouterr().err


def test_cli_limit_and_commas(capsys):
    assert main(["explain", TUTORIAL, "--at", "x=1,y=3,z=3", "--limit", "2",
                 "--format", "markdown"]) == 0
    assert "not shown" in capsys.readouterr().out
