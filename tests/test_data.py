"""The numpy backend on data: inputs by name, DataFrames and reduce= (numpy only, no dask).

Oracles: the numpy backend's own per-point results, summed by numpy; and a hand-written
logistic-regression gradient.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy
import pytest

import symback
from symback.errors import ArgumentError

LOGREG = "z = w0 + w1*x1 + w2*x2; p = sigmoid(z); -(y*log(p) + (1 - y)*log(1 - p))"


@pytest.fixture(scope="module")
def seed():
    return symback.compile("((x + y) * z)**2 + sin(x) * w", wrt=["x", "y", "z", "w"],
                           backend="numpy")


def _summed(per_point, shape):
    """An oracle: per-point results of the broadcast shape summed down to `shape`."""
    per_point = numpy.asarray(per_point)
    lead = per_point.ndim - len(shape)
    out = per_point.sum(axis=tuple(range(lead))) if lead else per_point
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and out.shape[k] != 1)
    return out.sum(axis=axes, keepdims=True) if axes else out


@pytest.mark.parametrize("shapes", [
    [(50_000,), (50_000,), (), ()],              # longer than a chunk: several steps
    [(7, 1), (1, 9), (9,), ()],                  # a 2-D broadcast, each input its own shape
    [(3, 20_000), (20_000,), (3, 1), ()],        # rows longer than a chunk: steps along axis 1
    [(), (), (), ()],                            # one point
])
@pytest.mark.parametrize("how", ["sum", "mean"])
def test_reduce_matches_the_summed_per_point_results(seed, shapes, how):
    rng = numpy.random.default_rng(len(shapes[0]))
    args = [rng.uniform(-1, 1, size=s) if s else float(rng.uniform(-1, 1)) for s in shapes]
    value, grads = seed.value_and_grad(*args, reduce=how)
    v0, g0 = seed.value_and_grad(*args)
    n = numpy.broadcast(*[numpy.asarray(a) for a in args]).size if any(shapes) else 1
    scale = n if how == "mean" else 1
    assert numpy.ndim(value) == 0
    assert value == pytest.approx(numpy.sum(v0) / scale, rel=1e-12)
    for a, g, per_point in zip(args, grads, g0):
        assert numpy.shape(g) == numpy.shape(a)
        numpy.testing.assert_allclose(g, _summed(per_point, numpy.shape(a)) / scale,
                                      rtol=1e-12, atol=1e-12)
    assert seed.forward(*args, reduce=how) == pytest.approx(value, rel=1e-15)
    for g, h in zip(seed.gradient(*args, reduce=how), grads):
        numpy.testing.assert_array_equal(g, h)


def test_logistic_regression_gradient_by_hand():
    f = symback.compile(LOGREG, wrt=["w0", "w1", "w2"], backend="numpy")
    rng = numpy.random.default_rng(1)
    x1, x2 = rng.normal(size=(2, 40_000))
    y = (rng.uniform(size=40_000) < 0.5).astype(float)
    w = (0.3, -0.7, 1.1)
    loss, (g0, g1, g2) = f.value_and_grad(*w, x1=x1, x2=x2, y=y, reduce="mean")
    p = 1 / (1 + numpy.exp(-(w[0] + w[1] * x1 + w[2] * x2)))
    assert loss == pytest.approx(-numpy.mean(y * numpy.log(p) + (1 - y) * numpy.log(1 - p)),
                                 rel=1e-12)
    numpy.testing.assert_allclose([g0, g1, g2], [numpy.mean(p - y), numpy.mean((p - y) * x1),
                                                 numpy.mean((p - y) * x2)], rtol=1e-10)


def test_pandas_dataframe_columns_are_inputs_by_name():
    pd = pytest.importorskip("pandas")
    f = symback.compile(LOGREG, wrt=["w0", "w1", "w2"], backend="numpy")
    rng = numpy.random.default_rng(2)
    df = pd.DataFrame({"x1": rng.normal(size=100), "x2": rng.normal(size=100),
                       "y": rng.integers(0, 2, size=100).astype(float), "other": 1.0})
    got = f.value_and_grad(df, reduce="sum", w0=0.1, w1=0.2, w2=0.3)
    want = f.value_and_grad(0.1, 0.2, 0.3, df.x1.to_numpy(), df.x2.to_numpy(),
                            df.y.to_numpy(), reduce="sum")
    assert got[0] == want[0] and got[1] == want[1]
    per_point = f.forward(df, w0=0.1, w1=0.2, w2=0.3)
    numpy.testing.assert_array_equal(per_point, f.forward(0.1, 0.2, 0.3, df.x1, df.x2, df.y))
    with pytest.raises(ArgumentError, match=r"missing input 'w2' \(not a column"):
        f.forward(df, w0=0.1, w1=0.2)


def test_bad_calls_are_one_line_argument_errors(seed):
    bad = [
        (lambda: seed.value_and_grad(numpy.ones(3), numpy.ones(4), 1.0, 1.0, reduce="sum"),
         "inputs 'x' of shape (3,) and 'y' of shape (4,) do not broadcast together"),
        (lambda: seed.value_and_grad(1.0, 2.0, 3.0, 4.0, reduce="max"),
         "reduce must be 'sum', 'mean' or None, not 'max'"),
        (lambda: seed.forward(1.0, 2.0, 3.0, v=4.0), "forward() has no input 'v'"),
        (lambda: seed.forward(1.0, 2.0, 3.0, x=4.0), "got input 'x' twice"),
        (lambda: seed.forward(1.0, 2.0, 3.0, reduce="sum"), "missing input 'w'"),
    ]
    for call, message in bad:
        with pytest.raises(ArgumentError) as info:
            call()
        assert message in str(info.value) and "\n" not in str(info.value)
    j = symback.compile("x*y, x+y", backend="numpy")
    with pytest.raises(ArgumentError, match=r"reduce= applies to forward, gradient, "
                                            r"value_and_grad, not jacobian\(\)"):
        j.jacobian(1.0, 2.0, reduce="sum")


def test_plain_and_reduced_numpy_calls_never_import_dask():
    code = textwrap.dedent("""
        import sys, numpy, symback
        f = symback.compile("x * w", backend="numpy")
        f.value_and_grad(numpy.ones(10), 2.0)
        f.value_and_grad(numpy.ones(10), w=2.0, reduce="sum")
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("dask", "distributed")))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_reduce_on_a_module_with_array_inputs_is_refused_in_one_line():
    f = symback.compile("# vars: x[3] t\nsum(x[i]**2 for i in range(3)) * t", backend="numpy")
    x = numpy.ones((10, 3))
    with pytest.raises(symback.ArgumentError, match="not supported yet .* array inputs"):
        f.value_and_grad(x, 2.0, reduce="sum")
    value, (gx, gt) = f.value_and_grad(x, 2.0)          # without reduce: the module's results
    assert value.shape == (10,) and gx.shape == (10, 3) and gt.shape == (10,)
