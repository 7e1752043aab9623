"""numpy-backend functions on dask arrays, DataFrames and a dask.distributed cluster.

Oracle: the numpy backend on the same data (elementwise results bit-identical per block;
reductions against numpy's sums of the per-point results). Skipped without dask.
"""

from __future__ import annotations

import io
import os
import signal
import time
from contextlib import redirect_stdout

import numpy
import pytest

da = pytest.importorskip("dask.array")
import dask

import symback
from symback.errors import ArgumentError

LOGREG = "z = w0 + w1*x1 + w2*x2; p = sigmoid(z); -(y*log(p) + (1 - y)*log(1 - p))"


@pytest.fixture(scope="module")
def seed():
    return symback.compile("((x + y) * z)**2 + sin(x) * w", wrt=["x", "y", "z", "w"],
                           backend="numpy", hessian=True)


def _data(seed_, *shapes):
    rng = numpy.random.default_rng(seed_)
    return [rng.uniform(-1, 1, size=s) for s in shapes]


def _leaves(r):
    return [x for y in r for x in _leaves(y)] if isinstance(r, tuple) else [r]


def test_every_function_is_lazy_and_bit_identical_to_numpy(seed):
    x, y, w = _data(0, (23, 11), (11,), (23, 1))
    calls = []

    def record(block):
        calls.append(block.shape)
        return block
    dx = da.from_array(x, chunks=(5, 4)).map_blocks(record, meta=numpy.empty((0, 0)))
    dw = da.from_array(w, chunks=(5, 1))
    v = _data(1, (23, 11), (23, 11), (23, 11), (23, 11))
    for name, extra in [("forward", ()), ("gradient", ()), ("value_and_grad", ()),
                        ("hessian", ()), ("hvp", tuple(v))]:
        got = getattr(seed, name)(dx, y, 0.5, dw, *extra)
        want = getattr(seed.module, name)(x, y, 0.5, w, *extra)
        assert not calls, f"{name} computed something before compute()"
        for g, h in zip(_leaves(got), _leaves(want)):
            assert isinstance(g, da.Array) and g.shape == h.shape
            assert g.chunks[:2] == ((5, 5, 5, 5, 3), (4, 4, 3))
            if name == "hessian":                # the matrix axes last, unchunked
                assert g.chunks[2:] == ((4,), (4,))
            assert g._meta.ndim == h.ndim
            numpy.testing.assert_array_equal(g.compute(scheduler="sync"), h)
        calls.clear()


def test_a_jacobian_has_its_axes_last():
    f = symback.compile("r*cos(t), r*sin(t), r*t", backend="numpy")
    r, t = _data(2, (50,), (50,))
    dr = da.from_array(r, chunks=13)
    value, jac = f.value_and_jacobian(dr, t)
    assert jac.shape == (50, 3, 2) and jac.chunks == ((13, 13, 13, 11), (3,), (2,))
    want_value, want_jac = f.module.value_and_jacobian(r, t)
    numpy.testing.assert_array_equal(jac.compute(), want_jac)
    for a, b in zip(dask.compute(*value), want_value):
        numpy.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("how", ["sum", "mean"])
def test_reductions_over_odd_chunks_match_numpy(seed, how):
    x, y, w = _data(3, (101, 37), (37,), (101, 1))
    args = (da.from_array(x, chunks=(17, 10)), da.from_array(y, chunks=9), 0.25,
            da.from_array(w, chunks=(50, 1)))
    value, grads = seed.value_and_grad(*args, reduce=how)
    assert isinstance(value, da.Array) and value.shape == ()
    assert [g.shape for g in grads] == [(101, 37), (37,), (), (101, 1)]
    value, grads = dask.compute(value, grads)
    v0, g0 = seed.value_and_grad(x, y, 0.25, w, reduce=how)
    assert value == pytest.approx(v0, rel=1e-12)
    for g, h in zip(grads, g0):
        numpy.testing.assert_allclose(g, h, rtol=1e-12, atol=1e-13)
    # the oracle's oracle: numpy's own sum of the per-point results
    per_point = seed.module.value_and_grad(x, y, 0.25, w)
    n = 1 if how == "sum" else x.size
    assert value == pytest.approx(per_point[0].sum() / n, rel=1e-12)
    assert grads[2] == pytest.approx(per_point[1][2].sum() / n, rel=1e-12)
    numpy.testing.assert_allclose(grads[1], per_point[1][1].sum(axis=0) / n, rtol=1e-12)


def test_a_reduction_holds_partial_sums_not_per_point_results(seed):
    x = da.random.default_rng(0).uniform(-1, 1, size=200_000, chunks=20_000)
    value = seed.forward(x, 0.5, 2.0, 1.5, reduce="sum")
    graph = dict(value.__dask_graph__())
    assert len(graph) < 60                      # blocks, partial sums, a tree; no copies
    blocks = x.compute()
    assert value.compute() == pytest.approx(seed.module.forward(blocks, 0.5, 2.0, 1.5).sum(),
                                            rel=1e-12)


def test_dask_dataframe_columns_are_inputs_by_name():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    f = symback.compile(LOGREG, wrt=["w0", "w1", "w2"], backend="numpy")
    x1, x2, u = _data(4, (1000,), (1000,), (1000,))
    frame = pd.DataFrame({"x1": x1, "x2": x2, "y": (u > 0).astype(float)})
    ddf = dd.from_pandas(frame, npartitions=7)
    loss, grads = f.value_and_grad(ddf, reduce="mean", w0=0.1, w1=-0.2, w2=0.3)
    (loss, grads) = dask.compute(loss, grads)
    want = f.value_and_grad(0.1, -0.2, 0.3, x1, x2, frame.y.to_numpy(), reduce="mean")
    assert loss == pytest.approx(want[0], rel=1e-12)
    numpy.testing.assert_allclose(grads, want[1], rtol=1e-12)
    per_point = f.forward(ddf, w0=0.1, w1=-0.2, w2=0.3).compute()
    numpy.testing.assert_array_equal(per_point, f.module.forward(0.1, -0.2, 0.3, x1, x2,
                                                                 frame.y.to_numpy()))


def test_bad_dask_inputs_are_one_line_errors(seed):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    x = da.ones(100, chunks=30)
    with pytest.raises(ArgumentError) as info:
        seed.forward(x, da.ones(99, chunks=30), 1.0, 1.0)
    assert str(info.value) == ("inputs 'x' of shape (100,) and 'y' of shape (99,) do not "
                               "broadcast together")
    ddf = dd.from_pandas(pd.DataFrame({"x": numpy.ones(100)}), npartitions=3)
    with pytest.raises(ArgumentError) as info:
        seed.forward(ddf, y=x, z=1.0, w=1.0)
    assert "unknown chunk sizes" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ArgumentError, match="no input 'v'"):
        seed.forward(x, 1.0, 1.0, 1.0, v=2.0)
    # known chunks that differ are rechunked to match, as dask does: still right
    y = numpy.linspace(0, 1, 100)
    got = seed.forward(x, da.from_array(y, chunks=7), 1.0, 1.0).compute()
    numpy.testing.assert_array_equal(got, seed.module.forward(numpy.ones(100), y, 1.0, 1.0))


def test_dask_progress_bar_reports_these_calls(seed):
    from dask.diagnostics import ProgressBar
    x = da.ones(10_000, chunks=1000)
    out = io.StringIO()
    with redirect_stdout(out), ProgressBar(minimum=0, dt=0.01, out=out):
        seed.value_and_grad(x, 1.0, 1.0, 1.0, reduce="sum")[0].compute()
    assert "100% Completed" in out.getvalue()


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, silence_logs=40)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _cached_modules():
    from symback import dask_support
    return len(dask_support._MODULES)


def test_a_cluster_runs_the_kernel_on_its_workers(client):
    from distributed import get_task_stream
    f = symback.compile(LOGREG, wrt=["w0", "w1", "w2"], backend="numpy")
    rng = da.random.default_rng(42)             # data made lazily, on the workers
    x1 = rng.normal(size=400_000, chunks=50_000)
    x2 = rng.normal(size=400_000, chunks=50_000)
    y = (rng.uniform(size=400_000, chunks=50_000) < 0.5).astype(float)
    with get_task_stream(client) as stream:
        loss, grads = client.compute(f.value_and_grad(0.1, -0.2, 0.3, x1, x2, y,
                                                      reduce="sum"), sync=True)
    ran = {t["worker"] for t in stream.data if "symback-value_and_grad-partials" in str(t["key"])}
    workers = set(client.scheduler_info()["workers"])
    assert ran and ran <= workers
    assert sum(client.run(_cached_modules).values()) >= 1    # the module was built there
    assert os.getpid() not in client.run(os.getpid).values()
    arrays = [a.compute() for a in (x1, x2, y)]
    want = f.value_and_grad(0.1, -0.2, 0.3, *arrays, reduce="sum")
    assert loss == pytest.approx(want[0], rel=1e-11)
    numpy.testing.assert_allclose(grads, want[1], rtol=1e-11)


def test_a_saved_module_uploaded_to_the_workers_imports_there(client, tmp_path):
    f = symback.compile("x * w + sin(x)", backend="numpy")
    path = f.save(tmp_path / "symback_uploaded_seed.py")
    client.upload_file(str(path))

    def run_there():
        import symback_uploaded_seed as m
        return m.value_and_grad(numpy.arange(3.0), 2.0)[1][1].tolist()
    results = client.run(run_there)
    assert len(results) == 2
    assert all(r == [0.0, 1.0, 2.0] for r in results.values())


def _slowly(block):
    import time
    time.sleep(0.05)
    return block


def test_a_worker_killed_mid_computation_is_retried(client):
    f = symback.compile("(x - m)**2", wrt=["m"], backend="numpy")
    x = numpy.linspace(-1, 1, 40_000)
    dx = da.from_array(x, chunks=1000).map_blocks(_slowly, meta=numpy.empty((0,)))
    value, (grad,) = f.value_and_grad(x=dx, m=0.25, reduce="sum")
    futures = client.compute([value, grad])
    deadline = time.monotonic() + 10
    while not client.processing() or not any(client.processing().values()):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    victim = sorted(client.run(os.getpid).values())[0]
    os.kill(victim, signal.SIGKILL)             # a worker this test started; its nanny restarts it
    value, grad = client.gather(futures)
    assert value == pytest.approx(numpy.sum((x - 0.25) ** 2), rel=1e-12)
    assert grad == pytest.approx(numpy.sum(-2 * (x - 0.25)), abs=1e-8)
    client.wait_for_workers(2, timeout=30)
    assert victim not in client.run(os.getpid).values()     # it really was replaced
