"""Logistic-regression loss and gradient (8 parameters) summed over many rows.

    python -m benchmarks.dask_logreg --rows 100000000 --workers 2

Measures, one run each (the machine is shared: read them as rough):
1. a LocalCluster of `--workers` processes (one thread each): the rows are generated lazily
   on the workers (`da.random`, a seed), `value_and_grad(..., reduce="sum")` adds per-block
   partial sums in a tree; wall time, and each worker's peak resident memory;
2. in process, the same number of rows block by block: numpy generates a block, the
   numpy backend's chunked reduction sums it (time split into generation and reduction);
3. the reduction alone on `--peer-rows` rows already in memory: symback's numpy path
   against JAX (`jit(value_and_grad)` of the summed loss on blocks, float64), rows/s.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy

import symback

N_FEATURES = 7
TEXT = ("z = w0 + " + " + ".join(f"w{k}*x{k}" for k in range(1, N_FEATURES + 1))
        + "\nsoftplus(z) - y*z")
WRT = [f"w{k}" for k in range(N_FEATURES + 1)]
W = [0.1 * (k - 3) for k in range(N_FEATURES + 1)]


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lazy_rows(rows: int, chunk: int, seed: int = 0):
    import dask.array as da
    rng = da.random.default_rng(seed)
    xs = [rng.normal(size=rows, chunks=chunk) for _ in range(N_FEATURES)]
    y = (rng.uniform(size=rows, chunks=chunk) < 0.5).astype(float)
    return xs, y


def on_cluster(f, rows: int, chunk: int, workers: int) -> dict:
    from distributed import Client, LocalCluster
    with LocalCluster(n_workers=workers, processes=True, threads_per_worker=1,
                      dashboard_address=None, memory_limit="2GB") as cluster, \
            Client(cluster) as client:
        xs, y = lazy_rows(rows, chunk)
        small = lazy_rows(4 * chunk, chunk, seed=1)      # workers build the module once
        client.compute(f.value_and_grad(*W, *small[0], small[1], reduce="sum"), sync=True)
        loss, grads = f.value_and_grad(*W, *xs, y, reduce="sum")
        start = time.perf_counter()
        loss, grads = client.compute((loss, grads), sync=True)
        seconds = time.perf_counter() - start
        peaks = client.run(_peak_rss_mb)
    return {"seconds": seconds, "rows_per_s": rows / seconds, "loss": float(loss),
            "grad0": float(grads[0]), "peak_mb": sorted(peaks.values())}


def in_process(f, rows: int, chunk: int) -> dict:
    rng = numpy.random.default_rng(0)
    gen = red = 0.0
    loss, grads = 0.0, numpy.zeros(len(WRT))
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        t0 = time.perf_counter()
        xs = [rng.normal(size=n) for _ in range(N_FEATURES)]
        y = (rng.uniform(size=n) < 0.5).astype(float)
        t1 = time.perf_counter()
        v, g = f.value_and_grad(*W, *xs, y, reduce="sum")
        red += time.perf_counter() - t1
        gen += t1 - t0
        loss += v
        grads += g
    return {"seconds": gen + red, "generate": gen, "reduce": red, "loss": loss,
            "reduce_rows_per_s": rows / red}


def peers(f, rows: int, chunk: int) -> dict:
    rng = numpy.random.default_rng(1)
    xs = [rng.normal(size=rows) for _ in range(N_FEATURES)]
    y = (rng.uniform(size=rows) < 0.5).astype(float)
    f.value_and_grad(*W, *[x[:chunk] for x in xs], y[:chunk], reduce="sum")
    start = time.perf_counter()
    ours = f.value_and_grad(*W, *xs, y, reduce="sum")
    t_symback = time.perf_counter() - start
    out = {"symback_rows_per_s": rows / t_symback, "symback_loss": float(ours[0])}
    try:
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
    except ImportError:
        return out

    def loss(w, x, yy):
        z = w[0] + x @ w[1:]
        return jnp.sum(jax.nn.softplus(z) - yy * z)
    step = jax.jit(jax.value_and_grad(loss))
    X = numpy.stack(xs, axis=1)
    w = jnp.asarray(W)
    step(w, X[:chunk], y[:chunk])[0].block_until_ready()      # compile once
    start = time.perf_counter()
    total, g = 0.0, 0.0
    for s in range(0, rows, chunk):
        v, gv = step(w, X[s:s + chunk], y[s:s + chunk])
        total, g = total + v, g + gv
    float(total)
    t_jax = time.perf_counter() - start
    out.update(jax_rows_per_s=rows / t_jax, jax_loss=float(total),
               note="JAX gets one (rows, 7) matrix (stacking not timed)")
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=10**8)
    p.add_argument("--chunk", type=int, default=10**6, help="rows per dask block")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--peer-rows", type=int, default=10**7)
    args = p.parse_args()
    f = symback.compile(TEXT, wrt=WRT, backend="numpy")
    print(f"{len(WRT)} parameters, {args.rows:,} rows, blocks of {args.chunk:,}")
    print("cluster:", on_cluster(f, args.rows, args.chunk, args.workers), flush=True)
    print("in process:", in_process(f, args.rows, args.chunk), flush=True)
    print("peers:", peers(f, args.peer_rows, args.chunk), flush=True)


if __name__ == "__main__":
    main()
