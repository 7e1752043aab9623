"""Rolled loops (symback.loops): a `sum` comprehension kept as one loop node.

The oracle is the unrolled program (every term written out, itself checked against sympy by
test_arrays.py and test_workloads.py): rolled and unrolled must agree to 1e-12 relative on
every backend, in value and gradient, on fixed programs that reach the corners (filters,
bounds that depend on outer loop variables, non-affine indices, guards inside guards,
captures, reads outside loops) and on random ones.
"""

from __future__ import annotations

import importlib.util
import math
import random
import subprocess
import sys

import pytest

import symback
from symback.errors import ArgumentError, MissingFunctionError, ParseError

from oracles import array_oracle, workloads

BACKENDS = ["python", "numpy"] + (["numba"] if importlib.util.find_spec("numba") else [])
TOLERANCE = 1e-12


def _args(compiled, point):
    """Arguments in input order; arrays as lists (python) or float64 arrays."""
    import numpy as np
    args = []
    for name in compiled.inputs:
        value = point[name]
        if compiled.backend == "python":
            args.append(np.asarray(value).tolist() if compiled.shapes.get(name) else value)
        else:
            args.append(np.asarray(value, dtype=np.float64) if compiled.shapes.get(name)
                        else value)
    return args


def _flat(grad):
    import numpy as np
    return [float(v) for g in grad for v in np.ravel(np.asarray(g, dtype=np.float64))]


def _compare(text, point, backends=BACKENDS, shapes=None, must_roll=True):
    """Rolled on each backend against the unrolled python program."""
    reference = symback.compile(text, shapes=shapes, loops="unroll", cache=False)
    assert not reference.expression.rolled
    ref_value, ref_grad = reference.value_and_grad(*_args(reference, point))
    ref_flat = _flat(ref_grad)
    scale = max([abs(g) for g in ref_flat] + [1e-300])
    for backend in backends:
        rolled = symback.compile(text, shapes=shapes, loops="roll", backend=backend,
                                 cache=False)
        assert rolled.expression.rolled or not must_roll
        args = _args(rolled, point)
        value, grad = rolled.value_and_grad(*args)
        assert math.isclose(float(value), ref_value, rel_tol=TOLERANCE,
                            abs_tol=TOLERANCE * abs(ref_value) + 1e-300), (backend, value,
                                                                          ref_value)
        flat = _flat(grad)
        assert len(flat) == len(ref_flat)
        worst = max((abs(a - b) / scale for a, b in zip(flat, ref_flat)), default=0.0)
        assert worst <= TOLERANCE, (backend, worst)
        assert float(rolled.forward(*args)) == float(value)
        assert _flat(rolled.gradient(*args)) == flat


def _point(shapes, rng, low=-1.5, high=1.5, scalars=()):
    import numpy as np
    point = {n: np.asarray(rng.uniform(low, high, size=shape)) for n, shape in shapes.items()}
    for name in scalars:
        point[name] = float(rng.uniform(0.3, 1.2))
    return point


PROGRAMS = {
    "rosenbrock": ("# vars: x[40]\n"
                   "sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))",
                   {"x": (40,)}, ()),
    "pairs_if_where": ("# vars: X[12, 3]\n"
                       "r2(a, b, c) = a**2 + b**2 + c**2 + 0.5\n"
                       "sum(where(X[i, 0] > X[j, 0], 1/r2(X[i,0]-X[j,0], X[i,1]-X[j,1], "
                       "X[i,2]-X[j,2])**3, log1p(exp(X[i, 1]*X[j, 2]))) "
                       "for i in range(12) for j in range(i + 1, 12) if (i + 2*j) % 3 != 1)",
                       {"X": (12, 3)}, ()),
    "captures_and_index_numbers": (
        "# vars: t x[30]\na = exp(t)\n"
        "b = sum(a*sin(x[i])*i + x[i]*t for i in range(len(x)))\n"
        "c = sum(tanh(t*x[i]) * x[29 - i] for i in range(len(x)))\n"
        "b * c + x[3]**2 + a", {"x": (30,)}, ("t",)),
    "non_affine_indices": ("# vars: x[20] W[4, 5]\n"
                           "sum(x[i // 2] * x[(3*i) % 20] + W[i // 5, i % 5]**2 "
                           "for i in range(20)) + sum(x[i]*x[i-1] for i in range(19, 0, -2))",
                           {"x": (20,), "W": (4, 5)}, ()),
    "triangle_bounds": ("# vars: W[8, 8]\n"
                        "sum(W[i, j] * W[j, i] - W[i, i] * j for i in range(8) "
                        "for j in range(i, 8, 2))", {"W": (8, 8)}, ()),
    "guards_inside_guards": ("# vars: x[25]\n"
                             "s = sum(where(where(x[i] > 0, sqrt(x[i]), 0) > 0.5, "
                             "sqrt(x[i]) * x[i+1], where(x[i+1] < 0, -x[i+1], x[i]**2)) "
                             "for i in range(24))\ns", {"x": (25,)}, ()),
    "saturated": ("# vars: x[16] k\n"
                  "sum(tanh(k*20*x[i]) + sigmoid(40*k*x[i]) + softplus(30*x[i]) "
                  "for i in range(16))", {"x": (16,)}, ("k",)),
    "whole_array_calls": ("# vars: a[300] b[300]\nsum(a) * dot(a, b) + sum(b[i]**3 "
                          "for i in range(300))", {"a": (300,), "b": (300,)}, ()),
    "inner_constant_loop": ("# vars: W[10, 3] x[3]\n"
                            "sum(tanh(sum(W[i, k]*x[k] for k in range(3)))**2 "
                            "for i in range(10))", {"W": (10, 3), "x": (3,)}, ()),
    "min_and_max": ("# vars: x[40] t\n"
                    "max(sin(t*x[i]) * x[i+1] for i in range(39)) "
                    "+ min(x[i]**2 - t*i for i in range(40)) + max(x) * min(x)",
                    {"x": (40,)}, ("t",)),
    "closest_pair": ("# vars: X[10, 2]\n"
                     "min((X[i,0]-X[j,0])**2 + (X[i,1]-X[j,1])**2 "
                     "for i in range(10) for j in range(i+1, 10))", {"X": (10, 2)}, ()),
    "products": ("# vars: x[30] t\n"
                 "prod(1 + t*sin(x[i]) * x[i+1] for i in range(29)) + prod(x[i] for i in range(30))"
                 " + prod(x) * t", {"x": (30,)}, ("t",)),
    "two_loops_one_array": ("# vars: x[50] c\n"
                            "u = sum(c*x[i]**2 for i in range(50))\n"
                            "v = sum(cos(x[i] - x[i+1]) for i in range(49))\n"
                            "u*v + c*x[0]", {"x": (50,)}, ("c",)),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_rolled_matches_unrolled(name):
    import numpy as np
    text, shapes, scalars = PROGRAMS[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    _compare(text, _point(shapes, rng, scalars=scalars))


@pytest.mark.parametrize("name", ["rosenbrock_array_1000", "mlp"])
def test_array_workloads_both_ways(name):
    """Every array workload, rolled and unrolled (mlp indexes lists: nothing rolls)."""
    source = workloads.workload(name)
    compiled = symback.compile(source.text, loops="roll", cache=False)
    point = dict(zip(compiled.inputs, array_oracle.args_of(compiled, source.point)))
    _compare(source.text, point, must_roll=name != "mlp")


@pytest.mark.parametrize("zeros", [[3], [3, 17], [0, 5, 29]])
def test_products_at_zero_factors(zeros):
    """d prod / d x_k is the product of the other factors, exact when factors are 0."""
    import numpy as np
    text = "# vars: x[30]\nprod(x[i] for i in range(30)) + prod(x)**2"
    x = np.random.default_rng(1).uniform(0.6, 1.4, 30)
    x[zeros] = 0.0
    _compare(text, {"x": x})


def test_hessian_through_prod_unrolls_or_is_refused():
    text = "# vars: x[2000]\nprod(x[i]**2 + 1 for i in range(2000))"
    c = symback.compile(text.replace("2000", "300"), hessian=True, cache=False)
    assert not c.expression.rolled
    with pytest.raises(ArgumentError, match="hessian=True with a prod"):
        symback.compile(text, hessian=True, loops="roll", cache=False)


def _random_program(rng: random.Random) -> tuple[str, dict, tuple]:
    """A random loop program: clauses (dependent bounds, steps, filters), index
    expressions (affine, // and %), a body of rule-table ops over reads, captures and the
    loop variables, with `where` (guards inside guard conditions)."""
    n = rng.randint(3, 9)
    two = rng.random() < 0.5
    clauses = f"for i in range({n})"
    if two:
        start = rng.choice(["0", "i", "i + 1", f"{n} - 1 - i"])
        step = rng.choice(["1", "2"])
        clauses += f" for j in range({start}, {n}, {step})"
        if rng.random() < 0.5:
            clauses += rng.choice([" if i != j", " if (i + j) % 2 == 0", " if i < j or j == 0"])
    variables = ["i", "j"] if two else ["i"]
    size = n + 2

    def index() -> str:
        v = rng.choice(variables)
        return rng.choice([v, f"{v} + 1", f"({v} * 2) % {size}", f"{v} // 2", f"{n} - 1 - {v}",
                           "1"])

    def leaf() -> str:
        return rng.choice([f"x[{index()}]", f"x[{index()}]", f"M[{index()}, {rng.randint(0, 1)}]",
                           "t", "s", f"{rng.choice(variables)}", f"{rng.uniform(-2, 2):.3f}"])

    def expr(depth: int) -> str:
        if depth == 0 or rng.random() < 0.25:
            return leaf()
        kind = rng.random()
        a, b = expr(depth - 1), expr(depth - 1)
        if kind < 0.3:
            return f"({a} {rng.choice(['+', '-', '*'])} {b})"
        if kind < 0.55:
            f = rng.choice(["sin", "cos", "tanh", "sigmoid", "softplus", "atan"])
            return f"{f}({a})"
        if kind < 0.7:
            return f"exp(-({a})**2)"
        if kind < 0.85:
            c = expr(depth - 1)
            cond = f"where({c} > 0, {a}, {b}) > 0.2" if rng.random() < 0.4 else f"{c} < {a}"
            return f"where({cond}, {a}, {b})"
        return f"sqrt(({a})**2 + 1)"

    kind = rng.choice(["sum", "sum", "min", "max", "prod"])
    if kind != "sum" and "if" in clauses:
        clauses = clauses[:clauses.index(" if")]        # never an empty min
    text = (f"# vars: x[{size}] M[{size}, 2] t\ns = t**2 + 1\n"
            f"{kind}({expr(3)} {clauses}) * t + x[0]")
    return text, {"x": (size,), "M": (size, 2)}, ("t",)


@pytest.mark.parametrize("seed", range(30))
def test_random_programs(seed):
    import numpy as np
    rng = random.Random(seed)
    text, shapes, scalars = _random_program(rng)
    point = _point(shapes, np.random.default_rng(seed), scalars=scalars)
    _compare(text, point)


def test_deep_nesting_and_big_magnitudes():
    import numpy as np
    text = ("# vars: x[64]\nsum(" + "sin(" * 40 + "x[i] * 1e150 * 1e-150" + ")" * 40
            + " + exp(x[i] * 700) * 1e-300 for i in range(64))")
    _compare(text, {"x": np.linspace(-0.99, 0.99, 64)})


def test_empty_loop_is_zero():
    for backend in BACKENDS:
        c = symback.compile("# vars: x[5] t\nt + sum(x[i]*t for i in range(5, 5))",
                            loops="roll", backend=backend, cache=False)
        value, grads = c.value_and_grad(*_args(c, {"x": [1.0] * 5, "t": 2.0}))
        by_name = dict(zip(c.wrt, grads))
        assert float(value) == 2.0 and float(by_name["t"]) == 1.0
        assert _flat([by_name["x"]]) == [0.0] * 5


def test_numpy_batch_axes():
    """S + shape inputs: each batch point as if called alone."""
    import numpy as np
    text = PROGRAMS["captures_and_index_numbers"][0]
    c = symback.compile(text, loops="roll", backend="numpy", cache=False)
    rng = np.random.default_rng(5)
    t, x = rng.uniform(0.3, 1, size=(4, 1)), rng.normal(size=(4, 3, 30))
    value, (dt, dx) = c.value_and_grad(t, x)
    assert value.shape == (4, 3) and dt.shape == (4, 3) and dx.shape == (4, 3, 30)
    for a in range(4):
        for b in range(3):
            v1, (dt1, dx1) = c.value_and_grad(t[a, 0], x[a, b])
            assert np.allclose(value[a, b], v1, rtol=1e-13) and np.allclose(dx[a, b], dx1)
            assert np.allclose(dt[a, b], dt1, rtol=1e-13)


def test_module_size_does_not_grow_with_n():
    text = ("# vars: x[{n}]\nsum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 "
            "for i in range(len(x) - 1))")
    for backend in BACKENDS:
        small = symback.compile(text.format(n=10), backend=backend, loops="roll",
                                cache=False).source
        big = symback.compile(text.format(n=10**6), backend=backend, cache=False).source
        assert small.count("\n") == big.count("\n")
        assert abs(len(big) - len(small)) < 400        # only the constants differ


def test_auto_rolls_large_sums_only():
    from symback.loops import AUTO_ROLL
    text = "# vars: x[{n}]\nsum(x[i]**2 for i in range({k}))"
    small = symback.compile(text.format(n=AUTO_ROLL, k=AUTO_ROLL - 1), cache=False)
    large = symback.compile(text.format(n=AUTO_ROLL, k=AUTO_ROLL), cache=False)
    assert not small.expression.rolled and large.expression.rolled
    assert "\n    for i in range(" in large.source
    assert "\n    for i in range(" not in small.source
    never = symback.compile(text.format(n=AUTO_ROLL, k=AUTO_ROLL), loops="unroll", cache=False)
    assert not never.expression.rolled


def test_hessian_unrolls_small_programs_and_gives_hvp_for_large_ones():
    text = "# vars: x[{n}]\nsum(x[i]**2 * x[i+1] for i in range({m}))"
    small = symback.compile(text.format(n=300, m=299), hessian=True, cache=False)
    assert not small.expression.rolled and "def hessian(" in small.source
    large = symback.compile(text.format(n=2000, m=1999), hessian=True, cache=False)
    assert large.expression.rolled and "def hvp(" in large.source
    with pytest.raises(MissingFunctionError, match="use hvp"):
        large.hessian
    with pytest.raises(ArgumentError, match="loops='unroll'"):
        symback.compile(text.format(n=300, m=299), sparse=True, hessian=True, loops="roll",
                        cache=False)
    with pytest.raises(ArgumentError, match="loops must be one of"):
        symback.compile(text.format(n=300, m=299), loops="rolled", cache=False)


@pytest.mark.parametrize("name", ["rosenbrock", "pairs_if_where", "captures_and_index_numbers",
                                  "non_affine_indices", "guards_inside_guards", "saturated",
                                  "two_loops_one_array", "min_and_max", "closest_pair"])
def test_hvp_matches_unrolled(name):
    """Forward over reverse through loops and scatters: H v on every backend."""
    import numpy as np
    text, shapes, scalars = PROGRAMS[name]
    rng = np.random.default_rng(7 + len(name))
    point, tangent = _point(shapes, rng, scalars=scalars), _point(shapes, rng, scalars=scalars)
    reference = symback.compile(text, hessian=True, loops="unroll", cache=False)
    ref = _flat(reference.hvp(*_args(reference, point), *_args(reference, tangent)))
    scale = max(abs(v) for v in ref)
    for backend in BACKENDS:
        rolled = symback.compile(text, hessian=True, loops="roll", backend=backend,
                                 cache=False)
        assert rolled.expression.rolled
        got = _flat(rolled.hvp(*_args(rolled, point), *_args(rolled, tangent)))
        assert max(abs(a - b) for a, b in zip(got, ref)) <= TOLERANCE * scale, backend


def test_trust_region_newton_with_hvp():
    """scipy's trust-ncg on Rosenbrock n = 2,000 with the rolled hvp: converges to 1."""
    import numpy as np
    scipy_optimize = pytest.importorskip("scipy.optimize")
    text = ("# vars: x[2000]\nsum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 "
            "for i in range(len(x) - 1))")
    f = symback.compile(text, hessian=True, backend="numpy", cache=False).flat()
    result = scipy_optimize.minimize(f.fun, np.full(2000, 0.5), jac=f.jac, hessp=f.hessp,
                                     method="trust-ncg", options={"maxiter": 500})
    assert result.success and result.fun < 1e-9 and np.max(np.abs(result.x - 1)) < 1e-4


ERRORS = [
    ("sum(x[i + 1] for i in range(5))", "index i + 1 reaches 5, which is out of range", 1, 7),
    ("sum(x[2*i - 1] for i in range(3))", "index 2 * i - 1 reaches -1", 1, 7),
    ("sum(x[i] * x[j] for i in range(5) for j in range(i, i + 2))", "index j reaches 5", 1, 14),
    ("sum(sum(x[j] for j in range(i)) for i in range(5))", "depends on its variable 'i'",
     1, 18),
    ("sum(x[i] for i in range(0, 5, len(x) - 4 - 1 + 1))", None, 0, 0),
    ("r = [1, 2, 3]; sum(r[i] * x[i] for i in range(3))", None, 0, 0),
    ("sum(sum(x) * x[i] for i in range(5))", "bind it to a name before the loop", 1, 5),
    ("sum(x[i] for i in range(5) if x)", "'x' is not one", 1, 31),
    ("min(x[i] for i in range(5) if i > 7)", "min() of an empty range", 1, 1),
]


@pytest.mark.parametrize("text, message, line, column", ERRORS)
def test_errors_have_a_caret(text, message, line, column):
    if message is None:          # valid: compiles and agrees with the unrolled program
        import numpy as np
        _compare("# vars: x[5]\n" + text, {"x": np.arange(1.0, 6.0)}, must_roll=False)
        return
    with pytest.raises(ParseError) as info:
        symback.compile(text, shapes={"x": (5,)}, loops="roll", cache=False)
    err = info.value
    assert message in err.message, err.message
    assert (err.line, err.column) == (line, column), str(err)


def test_call_checks_shapes_and_takes_ints():
    text = "# vars: x[300]\nsum(x[i]**2 for i in range(300))"
    c = symback.compile(text, cache=False)
    assert c.value_and_grad(list(range(300)))[0] == float(sum(i * i for i in range(300)))
    with pytest.raises(ValueError, match=r"shape \(300,\)"):
        c.forward([1.0] * 299)
    n = symback.compile(text, backend="numpy", cache=False)
    with pytest.raises(ValueError, match=r"S \+ \(300,\)"):
        n.forward([1.0] * 299)


def test_cli_loops_flag_and_standalone_module(tmp_path):
    src = tmp_path / "rb.expr"
    src.write_text("# vars: x[2000]\nsum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 "
                   "for i in range(len(x) - 1))\n")
    out = tmp_path / "rb.py"
    for flag in ("roll", "unroll"):
        subprocess.run([sys.executable, "-m", "symback", "compile", "-f", str(src), "--loops",
                        flag, "-o", str(out), "--no-cache"], check=True, capture_output=True)
        code = (f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import rb; "
                "v, (g,) = rb.value_and_grad([0.5] * 2000); print(v, g[0], g[-1], len(g))")
        run = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True)
        assert run.stdout.split() == ["12993.5", "-51.0", "50.0", "2000"], run.stdout
        assert ("for i in range(1999):" in out.read_text()) == (flag == "roll")
