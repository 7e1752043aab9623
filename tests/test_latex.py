"""LaTeX output (issue 13): `explain --format latex` and `symback latex`, checked by
structure and, where sympy's LaTeX parser is available, by parsing every right-hand side back
and comparing it numerically with the values."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import symback
from symback.latex import format_latex, gradient_latex, latex_number

SEED = "p = x + y; q = p * z; r = q**2"
SEED_FILE = Path(__file__).resolve().parent.parent / "benchmarks" / "workloads" / "seed.expr"


def _parse_latex():
    """sympy's parse_latex with a backend that works here, or None."""
    try:
        from sympy.parsing.latex import parse_latex
        parse_latex("x + 1", backend="lark")
        return lambda s: parse_latex(s, backend="lark")
    except Exception:                       # lark missing; antlr4 needs a pinned version
        pass
    try:
        from sympy.parsing.latex import parse_latex
        parse_latex("x + 1")
        return parse_latex
    except Exception:
        return None


PARSE = _parse_latex()


def _rows(block: str) -> list[str]:
    """The rows of the align* block (without \\intertext lines and the line ends)."""
    lines = block.splitlines()
    start, end = lines.index("\\begin{align*}"), lines.index("\\end{align*}")
    return [line.removesuffix(" \\\\") for line in lines[start + 1:end]
            if not line.startswith("\\intertext")]


def _check_structure(block: str) -> list[str]:
    """One align* block; every row but the last ends with \\\\ and has exactly one &=."""
    assert block.count("\\begin{align*}") == 1 and block.count("\\end{align*}") == 1
    lines = block.splitlines()
    start, end = lines.index("\\begin{align*}"), lines.index("\\end{align*}")
    assert all(line.startswith("% ") for line in lines[:start])
    body = lines[start + 1:end]
    rows = [k for k, line in enumerate(body) if not line.startswith("\\intertext")]
    for k in rows:
        assert body[k].count("&=") == 1, body[k]
        assert body[k].endswith(" \\\\") == (k != rows[-1]), body[k]
    assert block.count("\\begin{cases}") == block.count("\\end{cases}")
    assert block.count("{") == block.count("}")
    assert block.count("\\left") == block.count("\\right")
    return _rows(block)


def test_seed_derivation():
    trace = symback.explain(SEED, at={"x": 1, "y": 3, "z": 3})
    block = format_latex(trace)
    rows = _check_structure(block)
    # one row per forward step, edge, adjoint and gradient component
    assert len(rows) == len(trace.forward) + len(trace.edges) + len(trace.backward) + 3
    assert "p &= x + y = 4" in rows and "q &= p z = 12" in rows and "r &= q^{2} = 144" in rows
    assert "\\frac{\\partial r}{\\partial q} &= 2 q = 24" in rows
    assert ("\\frac{\\partial r}{\\partial p} &= \\frac{\\partial r}{\\partial q} "
            "\\frac{\\partial q}{\\partial p} = 24 \\cdot 3 = 72") in rows
    assert block.count("\\intertext{") == 4
    assert "% at x = 1, y = 3, z = 3: r = 144" in block


def test_seed_file_through_the_command_line():
    path = SEED_FILE
    out = subprocess.run([sys.executable, "-m", "symback", "explain", "-f", str(path),
                          "--format", "latex"], capture_output=True, text=True, check=True)
    rows = _check_structure(out.stdout)
    assert "f &= t_{2}^{2} = 144" in rows
    assert "\\frac{\\partial f}{\\partial x} &= 72 \\quad \\text{(finite differences: $72$)}" \
        in rows


def test_gradient_without_finite_differences():
    trace = symback.explain(SEED, at={"x": 1, "y": 3, "z": 3}, finite_differences=False)
    block = format_latex(trace)
    _check_structure(block)
    assert "\\intertext{4. Gradient}" in block and "finite differences" not in block


def test_without_a_point_formulas_only():
    trace = symback.explain(SEED)
    rows = _check_structure(format_latex(trace))
    assert "p &= x + y" in rows and "x &= \\text{input}" in rows
    assert "\\frac{\\partial r}{\\partial p} &= \\frac{\\partial r}{\\partial q} " \
           "\\frac{\\partial q}{\\partial p}" in rows


def test_where_and_limits():
    trace = symback.explain("where(x > 0, sqrt(x), -x) * tanh(y)", at={"x": -1, "y": 0.5})
    block = format_latex(trace)
    _check_structure(block)
    assert "(not needed: where() took the other branch)" in block
    assert "(branch not taken: contributes 0)" in block
    big = symback.explain(" + ".join(f"sin(x{k})" for k in range(50)),
                          at={f"x{k}": 0.1 * k for k in range(50)})
    cut = format_latex(big, limit=10)
    _check_structure(cut)
    assert "nodes not shown (--limit N shows more, --limit 0 all)" in cut


@pytest.mark.parametrize("v, text", [(144.0, "144"), (-3.0, "-3"), (1.5e-7, "1.5 \\cdot 10^{-7}"),
                                     (2e20, "2 \\cdot 10^{20}"), (math.inf, "\\infty"),
                                     (-math.inf, "-\\infty"), (math.nan, "\\mathrm{nan}"),
                                     (True, "\\mathrm{true}")])
def test_numbers(v, text):
    assert latex_number(v) == text


def test_gradient_formulas_of_the_seed():
    block = gradient_latex(SEED)
    rows = _check_structure(block)
    assert rows[:3] == ["p &= x + y", "q &= p z", "r &= q^{2}"]
    assert "\\frac{\\partial r}{\\partial z} &= p t_{1}" in rows
    out = subprocess.run([sys.executable, "-m", "symback", "latex", "-f",
                          str(SEED_FILE)],
                         capture_output=True, text=True, check=True).stdout
    rows = _check_structure(out)
    assert "f &= t_{2}^{2}" in rows and len(rows) == 4 + 1 + 3


def test_gradient_formulas_read_as_written():
    rows = _check_structure(gradient_latex("a*x**2 + b", wrt="x"))
    assert rows == ["f &= a x^{2} + b", "\\frac{\\partial f}{\\partial x} &= 2 a x"]
    deep = "x"
    for _ in range(300):
        deep = f"sin({deep})"
    _check_structure(gradient_latex(deep))          # too deep to tidy: printed as built


def test_gradient_formulas_of_a_jacobian_and_sympy_input():
    rows = _check_structure(gradient_latex("a = x*y; b = exp(x - y); a, b", wrt="x"))
    assert "\\frac{\\partial a}{\\partial x} &= y" in rows
    assert any(r.startswith("\\frac{\\partial b}{\\partial x} &= ") for r in rows)
    x, alpha = sp.Symbol("x"), sp.Symbol("α")
    rows = _check_structure(gradient_latex(sp.sin(alpha * x)))
    assert any("\\alpha" in r for r in rows)


def test_cli_errors():
    out = subprocess.run([sys.executable, "-m", "symback", "latex", "sin(x"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 1 and "expected ')'" in out.stderr


# --- parsing back ------------------------------------------------------------------------------

GREEK = ["alpha", "beta", "gamma", "delta", "kappa", "lambda", "mu", "nu", "xi", "rho",
         "sigma", "tau", "phi", "chi", "psi", "omega", "eta", "zeta", "theta", "iota"]


def _renamer(trace):
    """(rename, values): the parser reads t_{10} badly, so multi-character names are replaced
    by Greek letters before parsing; values maps the parsed symbols to the trace's values."""
    table, values = {}, {}
    for step in trace.forward:
        latex_name = sp.latex(sp.Symbol(step.name))
        if len(latex_name) > 1:
            table[latex_name] = "\\" + GREEK[len(table)]
            symbol = sp.Symbol(GREEK[len(table) - 1])
        else:
            symbol = sp.Symbol(latex_name)
        values[symbol] = step.value
    pattern = re.compile("|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
                         or "(?!)")

    def rename(text):
        return pattern.sub(lambda m: table[m.group()], text)

    return rename, values


def _evaluate(formula, rename, values):
    parsed = PARSE(rename(formula)).subs(sp.Symbol("e"), sp.E)
    return complex(parsed.subs(values).evalf(20))


@pytest.mark.skipif(PARSE is None, reason="sympy's parse_latex needs lark or antlr4 4.11")
@pytest.mark.parametrize("text, at", [
    (SEED, {"x": 1, "y": 3, "z": 3}),
    ("t = x*y + sin(x); u = exp(-t) / (1 + y**2); sqrt(u + 1) * log(2 + x)",
     {"x": 0.7, "y": -1.3}),
    ("a = x0 - x1; b = a*a + 2; b**-3 - b**-6", {"x0": 0.4, "x1": 1.5}),
])
def test_right_hand_sides_parse_back_to_the_values(text, at):
    trace = symback.explain(text, at=at)
    rows = _rows(format_latex(trace))
    rename, values = _renamer(trace)
    checked = 0
    for step, row in zip(trace.forward, rows):
        rhs = row.split(" &= ")[1]
        if step.kind != "op":
            continue
        got = _evaluate(rhs.split(" = ")[0], rename, values)
        assert abs(got - step.value) <= 1e-12 * max(1.0, abs(step.value)), (row, got)
        checked += 1
    assert checked == sum(s.kind == "op" for s in trace.forward)
    # partials: the formula's value is the value written after it
    for row in rows[len(trace.forward):len(trace.forward) + len(trace.edges)]:
        rhs = row.split(" &= ")[1]
        parts = rhs.split(" = ")
        want = float(parts[-1].replace(" \\cdot 10^{", "e").replace("}", "")) \
            if re.fullmatch(r"[-0-9.e{}\\cdot ^]+", parts[-1]) else None
        if want is not None:
            got = _evaluate(parts[0], rename, values)
            assert abs(got - want) <= 1e-5 * max(1.0, abs(want)), (row, got)
