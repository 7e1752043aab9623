"""Several outputs: forward -> tuple, jacobian rows per output in WRT order, built by reverse
sweeps (one per output) or forward sweeps (one per input); both checked against sympy."""

from __future__ import annotations

import random

import pytest
import sympy as sp

import symback
from symback.derivatives import sweep_costs
from symback.forward import jvp
from oracles.graph_twin import close, evaluate, sympy_outputs
from oracles.workloads import random_expression, workload

MODES = ("reverse", "forward")


def check_jacobian(compiled: symback.Compiled, point: list[float], rel: float = 1e-9) -> None:
    outs, symbols = sympy_outputs(compiled)
    values, rows = compiled.value_and_jacobian(*point)
    assert compiled.forward(*point) == values
    assert compiled.jacobian(*point) == rows
    assert len(rows) == len(outs)
    for k, out in enumerate(outs):
        assert close(values[k], evaluate(out, symbols, point), rel)
        assert len(rows[k]) == len(symbols)
        for j, s in enumerate(symbols):
            want = evaluate(sp.diff(out, s), symbols, point)
            assert close(rows[k][j], want, rel), (k, j, rows[k][j], want)


@pytest.mark.parametrize("mode", MODES)
def test_small_vector_function(mode: str) -> None:
    f = symback.compile("p = x*y; q = sin(x) + z**2; p, q, p*q", mode=mode)
    assert f.outputs == ("p", "q", "f2")
    assert f.modes == {"jacobian": mode}
    check_jacobian(f, [0.3, -1.2, 2.0])


@pytest.mark.parametrize("mode", MODES)
def test_list_of_expressions(mode: str) -> None:
    f = symback.compile(["x*y", "exp(x - y)", "where(x > y, x, y**2)"], mode=mode)
    assert f.outputs == ("f0", "f1", "f2")
    check_jacobian(f, [0.5, 1.5])
    check_jacobian(f, [2.5, 1.5])


def test_modes_give_equal_values() -> None:
    text = "a = tanh(x*y + z); b = a*x - log(1 + y*y); a, b, a*b, x"
    point = [0.3, 0.7, -0.2]
    rev = symback.compile(text, mode="reverse").jacobian(*point)
    fwd = symback.compile(text, mode="forward").jacobian(*point)
    for r, f in zip(rev, fwd):
        for a, b in zip(r, f):
            assert close(a, b, 1e-13)


def test_auto_picks_forward_for_few_inputs_many_outputs() -> None:
    # Eight outputs share one deep subexpression of two inputs: eight reverse sweeps walk it
    # eight times, two forward sweeps walk it twice.
    text = ("a = sin(x*y + exp(x)); b = tanh(a*a + cos(a)); c = sqrt(1 + b*b) * log(2 + a*a)\n"
            + ", ".join(f"c*{k}.5 + b" for k in range(8)))
    f = symback.compile(text)
    assert f.modes == {"jacobian": "forward"}
    assert f.stats["jacobian_ops"] < symback.compile(text, mode="reverse").stats["jacobian_ops"]
    check_jacobian(f, [0.2, 0.4])


def test_independent_outputs_stay_reverse() -> None:
    # Outputs with nothing in common: a reverse sweep per output touches only its own nodes.
    f = symback.compile(", ".join(f"sin({k}*x + y) * exp(x*{k})" for k in range(1, 9)))
    assert f.modes == {"jacobian": "reverse"}
    check_jacobian(f, [0.2, 0.4])


def test_auto_picks_reverse_for_many_inputs_few_outputs() -> None:
    # Two outputs of one deep function of twelve inputs: two reverse sweeps beat twelve
    # forward sweeps through the shared tail.
    names = [f"x{k}" for k in range(12)]
    s = " + ".join(f"sin({n})*{m}" for n, m in zip(names, names[1:]))
    text = f"a = {s}; b = tanh(a)*a; c = exp(b)*cos(b); c, b*c"
    f = symback.compile(text)
    assert f.modes == {"jacobian": "reverse"}
    assert f.stats["jacobian_ops"] < symback.compile(text, mode="forward").stats["jacobian_ops"]
    check_jacobian(f, [0.1 * k for k in range(12)])


@pytest.mark.parametrize("mode", ("auto",) + MODES)
def test_auto_never_worse_than_either(mode: str) -> None:
    text = "a = x*y*z; b = sin(a) + cos(x); a + b, a*b, exp(b)"
    ops = symback.compile(text, mode=mode).stats["jacobian_ops"]
    best = min(symback.compile(text, mode=m).stats["jacobian_ops"] for m in MODES)
    assert ops >= best
    if mode == "auto":
        assert ops == best


@pytest.mark.parametrize("name", ["seed", "rosenbrock_10", "softmax_xent_10", "product_10",
                                  "lennard_jones_10"])
@pytest.mark.parametrize("mode", MODES)
def test_workload_gradients_as_jacobian_rows(name: str, mode: str) -> None:
    # The workload and two outputs derived from it: f, f**2 / 2, and the first input.
    w = workload(name)
    body, last = w.text.rstrip().rsplit("\n", 1)
    text = f"{body}\nf = {last}\nf, 0.5*f**2, {w.vars[0]}"
    f = symback.compile(text, mode=mode)
    single = symback.compile(w.text)
    values, rows = f.value_and_jacobian(*w.point)
    value, grad = single.value_and_grad(*w.point)
    assert close(values[0], value, 1e-12)
    for a, b in zip(rows[0], grad):
        assert close(a, b, 1e-12)
    for a, b in zip(rows[1], grad):
        assert close(a, value * b, 1e-9)
    assert rows[2] == tuple(1.0 if k == 0 else 0.0 for k in range(len(w.vars)))


@pytest.mark.parametrize("name", ["seed", "rosenbrock_10", "softmax_xent_10"])
def test_workload_against_sympy(name: str) -> None:
    w = workload(name)
    body, last = w.text.rstrip().rsplit("\n", 1)
    f = symback.compile(f"{body}\nf = {last}\nf, sqrt(1 + f*f)", mode="forward")
    check_jacobian(f, w.point)


@pytest.mark.parametrize("seed", range(12))
def test_random_vector_functions(seed: int) -> None:
    rng = random.Random(seed)
    names = ["x", "y", "z"]
    outs = [random_expression(rng, names, rng.randrange(2, 8)) for _ in range(rng.randrange(2, 5))]
    point = [round(rng.uniform(-1.5, 1.5), 3) for _ in names]
    for mode in MODES:
        f = symback.compile(outs, wrt=names, mode=mode)
        check_jacobian(f, point, 1e-8)


def test_wrt_orders_columns() -> None:
    f = symback.compile("x*y, x + 2*y", wrt="y,x")
    assert f.inputs == ("y", "x")
    assert f.jacobian(3.0, 5.0) == ((5.0, 3.0), (2.0, 1.0))


def test_list_items_must_be_single_expressions() -> None:
    with pytest.raises(symback.ArgumentError):
        symback.compile(["x, y", "x"])
    with pytest.raises(symback.ArgumentError):
        symback.compile(["a = x; a"])
    with pytest.raises(symback.ArgumentError):
        symback.compile([])
    with pytest.raises(symback.ArgumentError):
        symback.compile(["x"], mode="sideways")


def test_jvp_is_directional_derivative() -> None:
    f = symback.compile("sin(x*y) + x**3")
    g = f.expression.graph
    x, y = g.lookup_var("x"), g.lookup_var("y")
    tangent = jvp(g, f.expression.outputs, {x: g.const(2.0), y: g.const(-1.0)})
    # evaluate the tangent node through a compiled python module of the same graph
    from symback import analyses, schedule
    from symback.printers import PythonPrinter
    from symback.render import render
    program = schedule.schedule(g, [x, y], {"forward": tangent.outputs, "gradient": [],
                                            "value_and_grad": tangent.outputs})
    src = render(analyses.annotate(program), PythonPrinter(), outputs=["t"], wrt=[],
                 text="t", title="t", extra={})
    space: dict = {}
    exec(compile(src, "<t>", "exec"), space)
    import math
    xv, yv = 0.7, 1.3
    want = 2.0 * (yv * math.cos(xv * yv) + 3 * xv**2) - 1.0 * (xv * math.cos(xv * yv))
    assert close(space["forward"](xv, yv), want, 1e-13)


def test_sweep_costs_counts_work() -> None:
    f = symback.compile("x*y, y*z, z*x, x+y+z")
    g = f.expression.graph
    sources = [g.lookup_var(n) for n in "xyz"]
    fwd, rev = sweep_costs(g, sources, f.expression.outputs[:4])
    assert fwd > 0 and rev > 0
