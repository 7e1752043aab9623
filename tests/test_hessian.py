"""Second derivatives: hessian() (symmetric, from the gradient DAG by forward-over-reverse or
reverse-over-reverse) and hvp() (forward over reverse), against sympy."""

from __future__ import annotations

import random

import pytest
import sympy as sp

import symback
from oracles.graph_twin import close, evaluate, sympy_outputs
from oracles.workloads import random_expression, workload

MODES = ("forward", "reverse")


def sympy_hessian(compiled: symback.Compiled, point: list[float],
                  entries: list[tuple[int, int]] | None = None) -> dict[tuple[int, int], float]:
    (out,), symbols = sympy_outputs(compiled)
    n = len(symbols)
    pairs = entries or [(i, j) for i in range(n) for j in range(i, n)]
    first = {}
    result = {}
    for i, j in pairs:
        if i not in first:
            first[i] = sp.diff(out, symbols[i])
        result[(i, j)] = evaluate(sp.diff(first[i], symbols[j]), symbols, point)
    return result


def check_hessian(compiled: symback.Compiled, point: list[float], rel: float = 1e-9,
                  entries: list[tuple[int, int]] | None = None) -> None:
    h = compiled.hessian(*point)
    n = len(compiled.wrt)
    assert len(h) == n and all(len(row) == n for row in h)
    for i in range(n):
        for j in range(n):
            assert h[i][j] == h[j][i]
    for (i, j), want in sympy_hessian(compiled, point, entries).items():
        assert close(h[i][j], want, rel), (i, j, h[i][j], want)


def check_hvp(compiled: symback.Compiled, point: list[float], v: list[float]) -> None:
    h = compiled.hessian(*point)
    hv = compiled.hvp(*point, *v)
    assert len(hv) == len(v)
    for i, row in enumerate(h):
        want = sum(a * b for a, b in zip(row, v))
        scale = sum(abs(a * b) for a, b in zip(row, v))
        assert abs(hv[i] - want) <= 1e-12 * max(1.0, scale), (i, hv[i], want)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", ["seed", "rosenbrock_10", "product_10", "softmax_xent_10"])
def test_workloads_against_sympy(name: str, mode: str) -> None:
    w = workload(name)
    f = symback.compile(w.text, hessian=True, mode=mode)
    assert f.modes == {"hessian": mode}
    check_hessian(f, w.point)
    rng = random.Random(name)
    check_hvp(f, w.point, [rng.uniform(-1, 1) for _ in w.point])


def test_mlp_small_sampled_entries() -> None:
    w = workload("mlp_small")
    f = symback.compile(w.text, hessian=True)
    rng = random.Random(4)
    n = len(w.vars)
    entries = sorted({tuple(sorted((rng.randrange(n), rng.randrange(n)))) for _ in range(12)})
    check_hessian(f, w.point, entries=entries)      # type: ignore[arg-type]
    check_hvp(f, w.point, [rng.uniform(-1, 1) for _ in range(n)])


def test_modes_agree_on_lennard_jones() -> None:
    w = workload("lennard_jones_10")
    fwd = symback.compile(w.text, hessian=True, mode="forward").hessian(*w.point)
    rev = symback.compile(w.text, hessian=True, mode="reverse").hessian(*w.point)
    for a, b in zip(fwd, rev):
        for x, y in zip(a, b):
            assert close(x, y, 1e-9)


@pytest.mark.parametrize("seed", range(15))
def test_random_expressions(seed: int) -> None:
    rng = random.Random(1000 + seed)
    names = ["x", "y", "z"]
    text = random_expression(rng, names, rng.randrange(2, 9))
    point = [round(rng.uniform(-1.5, 1.5), 3) for _ in names]
    for mode in MODES:
        f = symback.compile(text, wrt=names, hessian=True, mode=mode)
        check_hessian(f, point, 1e-8)
        check_hvp(f, point, [0.5, -1.0, 2.0])


def test_auto_is_no_worse_than_either_mode() -> None:
    for name in ["rosenbrock_10", "softmax_xent_10", "product_10", "mlp_small"]:
        text = workload(name).text
        ops = {m: symback.compile(text, hessian=True, mode=m).stats["hessian_ops"]
               for m in ("auto",) + MODES}
        assert ops["auto"] == min(ops["forward"], ops["reverse"]), (name, ops)


def test_rosenbrock_100_stays_small() -> None:
    # The Hessian of a chain-structured function is banded: folding and symbolic zeros keep
    # its program a small multiple of the gradient's, far below n gradients.
    f = symback.compile(workload("rosenbrock_100").text, hessian=True)
    assert f.stats["hessian_ops"] < 3 * f.stats["gradient_ops"]
    assert f.stats["hvp_ops"] < 3 * f.stats["gradient_ops"]
    h = f.hessian(*[0.5] * 100)
    assert h[0][0] == 1200 * 0.25 - 400 * 0.5 + 2          # 1200 x0^2 - 400 x1 + 2
    assert h[0][2] == 0.0 and h[0][1] == -400 * 0.5


def test_piecewise_second_derivatives() -> None:
    # where/abs/max: second derivatives of the branch taken; sign' = 0.
    f = symback.compile("where(x > 0, x**3, -x**2) + abs(y)*y + max(x*y, y)", hessian=True)
    h = f.hessian(2.0, 3.0)
    assert h == ((12.0, 1.0), (1.0, 2.0))
    h = f.hessian(-2.0, -3.0)                # -x**2, -y**2, max takes x*y = 6
    assert h == ((-2.0, 1.0), (1.0, -2.0))
    h = f.hessian(-2.0, 3.0)                 # max takes y: no cross term
    assert h == ((-2.0, 0.0), (0.0, 2.0))


def test_no_log_term_for_integer_powers() -> None:
    # x**3 at negative x: neither the gradient nor the Hessian builds log(x).
    f = symback.compile("x**3 * y", hessian=True)
    assert "log" not in f.source
    assert f.hessian(-2.0, 1.0) == ((-12.0, 12.0), (12.0, 0.0))


def test_tangent_names_do_not_clash() -> None:
    f = symback.compile("x * v_x + v_x_**2", hessian=True)
    import inspect
    params = list(inspect.signature(f.hvp).parameters)
    assert params[:3] == ["x", "v_x", "v_x_"]
    assert len(set(params)) == 6
    check_hvp(f, [1.0, 2.0, 3.0], [1.0, -1.0, 0.5])


def test_hessian_needs_one_output() -> None:
    with pytest.raises(symback.ArgumentError):
        symback.compile("x*y, x+y", hessian=True)


def test_no_inputs_and_constant_hessian() -> None:
    f = symback.compile("3*x + 2*y", hessian=True)
    assert f.hessian(1.0, 2.0) == ((0.0, 0.0), (0.0, 0.0))
    assert f.hvp(1.0, 2.0, 1.0, 1.0) == (0.0, 0.0)


def test_source_is_deterministic() -> None:
    text = workload("softmax_xent_10").text
    a = symback.compile(text, hessian=True).source
    b = symback.compile(text, hessian=True).source
    assert a == b
