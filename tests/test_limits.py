"""Resource bounds: constant folding stays bounded, size limits have clear messages and can be
lifted, deep nesting and long sums compile without recursion in linear time.

No timed assertions: hangs are caught by an alarm, linear growth is checked on node and
operation counts, and the timings are printed (`pytest -s`). The 1,000,000-term sum and the
100,000-level nested product run only with SYMBACK_BIG=1 (minutes: symback's compile, then
CPython's own compile of a 36-59 MB module on first use).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from contextlib import contextmanager
from pathlib import Path

import pytest

import symback
from symback.cli import main

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def alarm(seconds: int):
    """Fail instead of hanging (not a timing assertion: the bound is 100x the usual time)."""
    def fire(*_):
        raise AssertionError(f"did not finish within {seconds} s")
    old = signal.signal(signal.SIGALRM, fire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --- constant folding ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "10**10**10", "9**9**9**9", "2**2**2**2**2**2**2", "(10**10**10)**(10**10**10)",
    "x * 10**10**10", "x**10**10", "x**(2**62)", "exp(exp(exp(exp(10))))", "1e308 * 1e308 * x",
    "pow(9, pow(9, pow(9, 9)))", "x**9**9**9", "-(2**2**2**2**2) + x",
    "*".join(str(k) for k in range(1, 400)) + " * x",                  # 399!
    "+".join(f"{k}**{k}**{k}" for k in range(2, 60)),
])
def test_folding_is_bounded(text):
    with alarm(20):
        f = symback.compile(text)
        f.module
    g = f.expression.graph
    for k, op in enumerate(g.ops):       # every folded constant is a finite float
        if op == "const":
            assert isinstance(g.values[k], float)


def test_huge_folds_stay_symbolic_and_raise_when_called():
    f = symback.compile("10**10**10 + x")
    with pytest.raises(OverflowError):
        f.forward(1.0)
    import numpy
    with numpy.errstate(over="ignore"):
        assert symback.compile("10**10**10 + x", backend="numpy").forward(1.0) == numpy.inf


def test_large_integer_exponent_with_int_argument_does_not_hang():
    f = symback.compile("x**1000000000 + x**3")
    with alarm(10):
        with pytest.raises(OverflowError):
            f.forward(3)                 # an int argument: no 1.5-billion-bit integer
        assert f.forward(1) == 2.0
        assert f.value_and_grad(-1) == (0.0, (-999999997.0,))


# --- size limits -----------------------------------------------------------------------------

def test_max_chars():
    with pytest.raises(symback.LimitError) as info:
        symback.compile("x + y + z", max_chars=5)
    err = info.value
    assert "the input is 9 characters; the limit is 5" in err.message
    assert "max_chars=None" in err.message and "--no-limits" in err.message
    assert (err.line, err.column) == (1, 6)
    assert symback.compile("x + y + z", max_chars=None).forward(1, 2, 3) == 6.0
    assert symback.compile("x + y + z", max_chars=9).forward(1, 2, 3) == 6.0


def test_max_nodes_while_parsing_is_a_limit_error_at_the_place():
    with pytest.raises(symback.LimitError) as info:
        symback.compile("x + y + z + w + v", max_nodes=6)
    err = info.value
    assert "the graph exceeds 6 nodes" in err.message and "max_nodes=None" in err.message
    assert err.line == 1 and err.column is not None
    assert symback.compile("x + y + z + w + v", max_nodes=None).forward(1, 1, 1, 1, 1) == 5.0


def test_max_nodes_while_differentiating_points_at_the_output():
    text = "a = x + y\nsin(a) * cos(a) * exp(x)"
    n = len(symback.parse(text).graph)
    with pytest.raises(symback.LimitError) as info:
        symback.compile(text, max_nodes=n + 2)
    err = info.value
    assert "while building the derivatives" in err.message
    assert (err.line, err.column) == (2, 1)
    assert str(err).count("\n") == 2


def test_default_limits_are_generous():
    text = "+".join(f"x{k}" for k in range(2000))
    assert len(symback.compile(text).inputs) == 2000


def test_cli_no_limits(tmp_path, capsys, monkeypatch):
    path = tmp_path / "big.expr"
    path.write_text("x +" + " " * 20_000_000 + "y")     # 20,000,004 characters
    assert main(["compile", "-f", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("symback: error: the input is 20,000,004 characters; the limit is "
                          "20,000,000 (lift it with max_chars=None or --no-limits) at 1:")
    out = tmp_path / "big.py"
    assert main(["compile", "-f", str(path), "--no-limits", "-o", str(out)]) == 0
    assert "def forward(x: float, y: float)" in out.read_text()


# --- deep nesting and long sums: no recursion, linear growth ----------------------------------

_RUN = textwrap.dedent("""
    import json, sys, time
    sys.setrecursionlimit(120)      # far below what a recursive walk of the input would need
    import symback
    kind, n = sys.argv[1], int(sys.argv[2])
    if kind == "nest":              # x*(1.5 + x*(1.5 + ...)): n levels of parentheses
        text = "x*(1.5 + " * n + "x" + ")" * n
    elif kind == "parens":          # ((((x)))): n levels of parentheses
        text = "(" * n + "x" + ")" * n
    elif kind == "calls":           # sin(cos(sin(...))): n nested calls
        text = "".join("sin(" if k % 2 else "cos(" for k in range(n)) + "x" + ")" * n
    else:                           # a flat sum of n terms over 100 inputs
        text = "+".join(f"x{k % 100}" for k in range(n))
    t0 = time.perf_counter()
    f = symback.compile(text, max_nodes=None, max_chars=None)
    t1 = time.perf_counter()
    f.module
    t2 = time.perf_counter()
    value, grad = f.value_and_grad(*[0.5] * len(f.inputs))
    t3 = time.perf_counter()
    print(json.dumps({"n": n, "chars": len(text), "nodes": f.stats["graph_nodes"],
                      "ops": f.stats["value_and_grad_ops"], "source": len(f.source),
                      "compile": t1 - t0, "import": t2 - t1, "call": t3 - t2,
                      "value": value, "grad0": grad[0], "grad_len": len(grad)}))
""")


def run_big(kind: str, n: int, timeout: int = 1200) -> dict:
    """Compile, import and call in a fresh interpreter whose recursion limit is 120."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", _RUN, kind, str(n)], capture_output=True,
                          text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    print(f"\n{kind} n={n}: {result}")
    return result


def test_100k_deep_parentheses_compile_without_recursion():
    r = run_big("parens", 100_000)
    assert r["value"] == 0.5 and r["grad0"] == 1.0


@pytest.mark.skipif(not os.environ.get("SYMBACK_BIG"), reason="set SYMBACK_BIG=1 (about a "
                    "minute: 500,000 nodes, a 36 MB module)")
def test_100k_deep_nesting_compiles_without_recursion():
    r = run_big("nest", 100_000)
    # f = x*(1.5 + g) at x = 0.5 has the fixed point f = 1.5, and f' = 1.5 + g + x*g' the
    # fixed point f' = 6
    assert r["value"] == pytest.approx(1.5) and r["grad0"] == pytest.approx(6.0)
    assert r["ops"] < 12 * 100_000


def test_deep_nested_calls_compile_without_recursion():
    r = run_big("calls", 5_000)
    assert r["ops"] < 10 * 5_000


@pytest.mark.parametrize("kind", ["sum", "nest"])
def test_growth_is_linear(kind):
    """Doubling the input doubles the graph and the program (counts, not time)."""
    small, large = run_big(kind, 10_000), run_big(kind, 20_000)
    for key in ("nodes", "ops", "source"):
        assert 1.8 < large[key] / small[key] < 2.2, (key, small[key], large[key])
    if kind == "sum":
        assert large["value"] == 0.5 * 20_000 and large["grad0"] == 200.0


@pytest.mark.skipif(not os.environ.get("SYMBACK_BIG"), reason="set SYMBACK_BIG=1 (minutes)")
def test_million_term_sum():
    r = run_big("sum", 1_000_000, timeout=3600)
    assert r["value"] == 500_000.0 and r["grad0"] == 10_000.0 and r["grad_len"] == 100
