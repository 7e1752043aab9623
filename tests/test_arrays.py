"""Arrays in the language: indexing, comprehensions, array intermediates and vector outputs.

Oracle: Python's own reading of the same text over sympy symbols (tests/oracles/array_oracle),
differentiated exactly by the sympy oracle; and the equivalent unrolled scalar text compiled by
symback gives the same values and gradients.
"""

from __future__ import annotations

import subprocess
import sys

import numpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracles import array_oracle
from oracles import sympy_oracle as oracle

import symback

TOLERANCE = 1e-9

ROSENBROCK = "sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))"
MLP = """y = [tanh(sum(W[i, j]*x[j] for j in range(len(W, 1))) + b[i]) for i in range(len(W))]
sum(v[i]*y[i] for i in range(4))"""
PAIRS = "sum(1/((x[i] - x[j])**2 + 1) for i in range(5) for j in range(5) if i < j)"
NESTED = "[sum(W[i, j]*x[j] for j in range(3) if (i + j) % 2 == 0) for i in range(4)]"
STEPPED = "prod(1 + x[i] for i in range(len(x) - 1, -1, -2)) + max(x[k]*x[k] for k in range(5))"
INTERMEDIATE = "r = [x[i+1] - x[i]**2 for i in range(len(x) - 1)]\ns = sum(r) + dot(r, r)\ns"
MIXED = "d = [x[i] - t*c[i] for i in range(3)]\nsum(d[i]**2 for i in range(3)) + min(x)"

CASES = [
    (ROSENBROCK, {"x": (5,)}),
    (MLP, {"W": (4, 3), "x": (3,), "b": (4,), "v": (4,)}),
    (PAIRS, {"x": (5,)}),
    (NESTED, {"W": (4, 3), "x": (3,)}),
    (STEPPED, {"x": (5,)}),
    (INTERMEDIATE, {"x": (5,)}),
    (MIXED, {"x": (3,), "t": (), "c": (3,)}),
]


def _point(names):
    return {n: 0.3 + 0.17 * k - 0.05 * (k % 3) for k, n in enumerate(names)}


@pytest.mark.parametrize("text, shapes", CASES)
def test_against_python_reading_and_sympy(text, shapes):
    arrays = {n: s for n, s in shapes.items() if s}
    f = symback.compile(text, shapes=arrays)
    names = array_oracle.element_names(f)
    point = _point(names)
    args = array_oracle.args_of(f, [point[n] for n in names])
    exprs = array_oracle.to_sympy(text, {n: shapes.get(n, ()) for n in shapes})
    if len(exprs) == 1:
        value, grad = f.value_and_grad(*args)
        grad = array_oracle.flatten(grad)
        exact_value, exact_grad = oracle.gradient(exprs[0], names, point)
        scale = max(abs(g) for g in exact_grad)
        assert oracle.rel_error(value, exact_value) <= TOLERANCE
        assert max(oracle.rel_error(g, e, scale) for g, e in zip(grad, exact_grad)) <= TOLERANCE
    else:
        values, jac = f.value_and_jacobian(*args)
        assert len(values) == len(exprs)
        for v, row, expr in zip(values, jac, exprs):
            exact_value, exact_row = oracle.gradient(expr, names, point)
            assert oracle.rel_error(v, exact_value) <= TOLERANCE
            assert max(oracle.rel_error(g, e, 1) for g, e in zip(row, exact_row)) <= TOLERANCE


def test_comprehension_equals_unrolled_text():
    n = 6
    unrolled = " + ".join(f"(100*(x_{i+1} - x_{i}**2)**2 + (1 - x_{i})**2)" for i in range(n - 1))
    names = [f"x_{i}" for i in range(n)]
    f = symback.compile(ROSENBROCK, shapes={"x": (n,)})
    g = symback.compile(f"# vars: {' '.join(names)}\n{unrolled}")
    assert f.inputs == ("x",) and g.inputs == tuple(names)
    point = [0.5 + 0.1 * i for i in range(n)]
    value, (grad,) = f.value_and_grad(point)
    assert (value, grad) == g.value_and_grad(*point)
    assert f.stats == g.stats


def test_vars_line_declares_shapes_and_wrt_names_arrays():
    f = symback.compile("# vars: W[2,2] x[2] t\n[t*W[i, 0]*x[0] + W[i, 1]*x[1] for i in range(2)]",
                        wrt=["x"])
    assert f.wrt == ("x",) and f.inputs == ("x", "t", "W")    # wrt first, then as used
    assert f.shapes == {"x": (2,), "W": (2, 2), "t": ()}
    assert f.outputs == ("f0", "f1")
    x, W, t = [1.0, 2.0], [[1.0, 2.0], [3.0, 4.0]], 0.5
    assert f.jacobian(x, t, W) == ((t * W[0][0], W[0][1]), (t * W[1][0], W[1][1]))
    assert f.module.SHAPES == f.shapes and f.module.WRT == ("x",)


def test_named_vector_output_labels():
    f = symback.compile("r = [x[i]**2 for i in range(3)]", shapes={"x": 3})
    assert f.outputs == ("r_0", "r_1", "r_2")
    assert f.forward([1, 2, 3]) == (1.0, 4.0, 9.0)


ERRORS = [
    ("x[5]", "index 5 is out of range for 'x'", 1, 3),
    ("x[-1]", "index -1 is out of range", 1, 3),
    ("x[1.5]", "an index must be an integer, not 1.5", 1, 3),
    ("x[1/2]", "'/' gives a non-integer in an index; use '//'", 1, 4),
    ("y[0]", "'y' is not declared as an array", 1, 1),
    ("x[t]", "'t' is not one", 1, 3),
    ("x[0, 1]", "'x' has 1 dimension, so it takes 1 index, not 2", 1, 1),
    ("x + 1", "'x' is an array: index it", 1, 1),
    ("sum(x[i] for i in range(10**9))", "index i reaches 999999999, which is out of range",
     1, 7),
    ("sum(x[i] for i in range(3)", "expected ')' to close '('", 1, 4),
    ("sum(x[i] for i in y)", "write 'for NAME in range(...)'", 1, 16),
    ("sum(x[i] for i in range(3) for i in range(2))", "'i' cannot be a loop variable", 1, 32),
    ("sum(x[i] for x in range(3))", "'x' cannot be a loop variable", 1, 14),
    ("min(x[i] for i in range(0))", "min() of an empty range", 1, 1),
    ("sum(x[i] for i in range(0, 3, 0))", "range() step must not be zero", 1, 14),
    ("sum(x[i] for i in range(len(y)))", "'y' is not declared as an array", 1, 29),
    ("sum(x[i] for i in range(len(x, 1)))", "'x' has 1 dimension; there is no axis 1", 1, 29),
    ("x[0] for i in range(3)", "comprehension goes inside sum", 1, 6),
    ("x_0 + x[1]", "'x_0' is the name of x[0]; write x[0]", 1, 1),
    ("dot(x, [1, 2])", "dot(): the shapes (5,) and (2,) differ", 1, 1),
    ("[1, [2]]", "the items of a list must be all numbers or all arrays", 1, 5),
    ("x[0] // 2", "'//' (floor division) is not supported", 1, 6),
    ("x[0] % 2", "'%' (remainder) is not supported", 1, 6),
    ("x[2 ** 100]", "the exponent of an integer '**' must be between 0 and 64", 1, 5),
]


@pytest.mark.parametrize("text, message, line, column", ERRORS)
def test_errors_with_caret(text, message, line, column):
    with pytest.raises(symback.SymbackError) as info:
        symback.compile(text, shapes={"x": (5,)})
    err = info.value
    assert message in err.message, err.message
    assert (err.line, err.column) == (line, column), str(err)
    assert "^" in str(err)


def test_limit_error_comes_at_once():
    import time
    start = time.perf_counter()
    with pytest.raises(symback.LimitError):
        symback.compile("sum(1 for i in range(10**9) for j in range(10**9))",
                        shapes={"x": (5,)}, loops="unroll")
    assert time.perf_counter() - start < 5      # generous: it is immediate, not a hang


def test_bad_shapes_argument():
    for bad in [{"x": (0,)}, {"x": "3"}, {"x": ()}, ["x"]]:
        with pytest.raises(symback.ArgumentError):
            symback.compile("x[0]", shapes=bad)
    with pytest.raises(symback.ParseError, match="shape of 'x' must be whole numbers"):
        symback.compile("# vars: x[a]\nx[0]")


def test_deep_nesting_of_comprehensions_without_recursion():
    depth = 60
    text = "x[0]"
    for k in range(depth):
        text = f"sum({text} + 0*i{k} for i{k} in range(1))"
    f = symback.compile(text, shapes={"x": (1,)})
    assert f.value_and_grad([2.0]) == (2.0, ((1.0,),))


def test_array_signatures_on_every_backend():
    np = pytest.importorskip("numpy")
    text = "# vars: x[3] W[2,3] t\nt*sum(W[i, j]*x[j]**2 for i in range(2) for j in range(3))"
    x, W, t = [1.0, 2.0, 3.0], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 0.5
    colsum = [W[0][j] + W[1][j] for j in range(3)]
    value = t * sum(colsum[j] * x[j] ** 2 for j in range(3))
    dx = tuple(2 * t * colsum[j] * x[j] for j in range(3))
    dW = tuple(tuple(t * x[j] ** 2 for j in range(3)) for _ in range(2))
    dt = value / t
    py = symback.compile(text)
    assert py.module.INPUTS == ("x", "W", "t") and py.module.SHAPES["W"] == (2, 3)
    for xs in (x, tuple(x), np.array(x)):
        got = array_oracle.flatten(py.value_and_grad(xs, W, t))
        assert got == pytest.approx(array_oracle.flatten((value, (dx, dW, dt))), rel=1e-14)
    got_value, (gx, gW, gt) = py.value_and_grad(x, W, t)
    assert isinstance(gx, tuple) and isinstance(gW[0], tuple) and len(gW) == 2
    with pytest.raises(ValueError, match="shape"):
        py.forward([1.0, 2.0], W, t)
    npf = symback.compile(text, backend="numpy")
    xs = np.array([x, [0.5, 0.5, 0.5]])                    # batch S = (2,)
    v, (gx, gW, gt) = npf.value_and_grad(xs, np.array(W), t)
    assert v.shape == (2,) and gx.shape == (2, 3) and gW.shape == (2, 2, 3) and gt.shape == (2,)
    np.testing.assert_allclose(gx[0], dx) and np.testing.assert_allclose(gW[0], dW)
    np.testing.assert_allclose(v[0], value)
    pytest.importorskip("numba")
    nb = symback.compile(text, backend="numba")
    v, (gx, gW, gt) = nb.value_and_grad(np.array(x), np.array(W), t)
    assert isinstance(gx, np.ndarray) and gW.shape == (2, 3)
    np.testing.assert_allclose(gx, dx) and np.testing.assert_allclose(gW, dW)
    v, (gx, gW, gt) = nb.value_and_grad_batch(xs, np.array(W), t)
    assert gx.shape == (2, 3) and gW.shape == (2, 2, 3)
    np.testing.assert_allclose(gW[0], dW)


_ARRAY_TOKENS = ["x", "W", "r", "t", "[", "]", "i", "j", "for", "in", "range", "(", ")", "sum",
                 "prod", "max", "if", "<", "==", ",", "len", "0", "1", "2", "10**9", "+", "-",
                 "*", "**", "%", "//", "/", "dot", "and", "not", " ", "\n", "=", ";", "1.5"]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_ARRAY_TOKENS), max_size=30))
def test_random_array_text_compiles_or_fails_with_a_position(tokens):
    text = " ".join(tokens)
    try:
        f = symback.compile(text, shapes={"x": (3,), "W": (2, 3)})
    except symback.SymbackError as exc:
        assert exc.line is not None and exc.column is not None and "^" in str(exc)
        return
    f.module                                      # valid Python


def test_explain_and_cli_accept_array_programs(tmp_path, capsys):
    from symback.cli import main
    text = "# vars: x[3]\n# point: 1 2 3\nsum(x[i]**2 for i in range(3))"
    assert symback.explain(text).grad == (2.0, 4.0, 6.0)     # the elements x_0, x_1, x_2
    path = tmp_path / "squares.expr"
    path.write_text(text)
    assert main(["explain", "-f", str(path), "--wrt", "x"]) == 0
    assert "∂f/∂x[2]" in capsys.readouterr().out          # shown as written
    assert main(["compile", "-f", str(path), "--wrt", "x", "--hessian"]) == 0
    assert "def hvp(x, v_x):" in capsys.readouterr().out


# --- explain on array programs: element names as written, array values at a point ---------------

ARRAY_TUTORIAL = "# vars: x[3] t\ns = sum(x[i]**2 for i in range(3)); s * t"


@pytest.mark.parametrize("at", ["x=[1, 2, 3] t=2", "x=[1,2,3],t=2",
                                {"x": [1.0, 2.0, 3.0], "t": 2.0}, {"x": (1, 2, 3), "t": 2}])
def test_explain_takes_an_array_value_and_shows_elements_as_indexed(at):
    trace = symback.explain(ARRAY_TUTORIAL, at=at)
    assert [(g.name, g.value) for g in trace.gradient] == [
        ("x[0]", 4.0), ("x[1]", 8.0), ("x[2]", 12.0), ("t", 14.0)]
    assert [s.name for s in trace.forward[:4]] == ["x[0]", "x[1]", "x[2]", "t"]
    assert all(abs(g.difference) < 1e-6 for g in trace.gradient)


def test_explain_array_value_of_the_wrong_size_is_refused():
    with pytest.raises(symback.ArgumentError, match="shape 3: give 3 values, not 2"):
        symback.explain(ARRAY_TUTORIAL, at={"x": [1, 2], "t": 1})
    with pytest.raises(symback.ArgumentError, match="give its values as a list"):
        symback.explain(ARRAY_TUTORIAL, at={"x": 1.0, "t": 1})


def test_cli_explain_at_with_an_array_value():
    result = subprocess.run([sys.executable, "-m", "symback", "explain", ARRAY_TUTORIAL,
                             "--at", "x=[1, 2, 3]", "t=2"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "at x[0] = 1, x[1] = 2, x[2] = 3, t = 2:  f = 28" in result.stdout
    assert "∂f/∂x[2] = ∂f/∂t4 · ∂t4/∂x[2] = 2 · 6 = 12" in result.stdout


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_array_program_with_sparse_hessian_equals_the_dense_one(backend):
    pytest.importorskip("scipy")
    text = ("# vars: x[6]\nsq(u) = u*u\n"
            "sum(100*sq(x[i+1] - sq(x[i])) + sq(1 - x[i]) for i in range(len(x) - 1))")
    sparse = symback.compile(text, backend=backend, hessian=True, sparse=True)
    dense = symback.compile(text, backend=backend, hessian=True)
    x = [1.2, 1.0, 0.8, 0.5, 0.3, -0.4]
    assert sparse.hessian_sparse(x).nnz == 6 + 2 * 5            # tridiagonal
    assert (sparse.hessian_sparse(x).toarray() == numpy.array(dense.hessian(x))).all()
