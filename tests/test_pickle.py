"""A `Compiled` pickles (its source, options and parsed expression; the module is rebuilt on
first use), and so do its functions: both go to multiprocessing and joblib workers."""

from __future__ import annotations

import inspect
import multiprocessing
import pickle

import pytest

import symback

POINTS = [(1.0, 3.0, 3.0), (0.5, -1.0, 2.0), (2.0, 0.25, -3.0)]


def _value_and_grad(f: symback.Compiled, point: tuple[float, ...]):
    return f.value_and_grad(*point)


def _plain(result):
    value, grad = result
    return float(value), tuple(float(g) for g in grad)


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_pickle_round_trip(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    f = symback.compile("p = x + y; q = p * z; r = q**2", backend=backend, hessian=True)
    f.forward(1, 3, 3)                               # the module exists before pickling
    g = pickle.loads(pickle.dumps(f))
    assert (g.source, g.inputs, g.wrt, g.outputs, g.backend, g.stats, g.name, g.modes) == (
        f.source, f.inputs, f.wrt, f.outputs, f.backend, f.stats, f.name, f.modes)
    assert g.expression.output_names == f.expression.output_names
    assert g.module is not f.module
    assert _plain(g.value_and_grad(1, 3, 3)) == (144.0, (72.0, 72.0, 96.0))
    assert g.hessian(1, 3, 3) is not None


def test_functions_pickle_and_keep_their_signature():
    f = symback.compile("x * sin(y)")
    vg = pickle.loads(pickle.dumps(f.value_and_grad))
    assert vg(2.0, 0.5) == f.value_and_grad(2.0, 0.5)
    assert vg.__name__ == "value_and_grad" and vg.__doc__ == f.module.value_and_grad.__doc__
    assert str(inspect.signature(f.gradient)) == str(inspect.signature(f.module.gradient))


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_multiprocessing_pool_spawn(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    f = symback.compile("((x + y) * z)**2 + sin(x)", backend=backend)
    expected = [_plain(f.value_and_grad(*p)) for p in POINTS]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        got = pool.starmap(_value_and_grad, [(f, p) for p in POINTS])
        direct = pool.starmap(f.value_and_grad, POINTS)
    assert [_plain(r) for r in got] == [_plain(r) for r in direct] == expected


def test_joblib_workers():
    joblib = pytest.importorskip("joblib")
    f = symback.compile("x * sin(y)")
    got = joblib.Parallel(n_jobs=2)(joblib.delayed(f.value_and_grad)(*p[:2]) for p in POINTS)
    assert [_plain(r) for r in got] == [_plain(f.value_and_grad(*p[:2])) for p in POINTS]
