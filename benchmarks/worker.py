"""One measurement in a fresh process; the runner starts it with a time cap.

    python -m benchmarks.worker measure --peer NAME --workload PATH [options]
    python -m benchmarks.worker oracle --workload PATH [--method sympy|ad]

Results are streamed to stdout as one JSON object per line, prefixed with
``@@bench `` and flushed after each phase (info, build, value, scalar, ops,
batch), so a measurement that hits the runner's time cap still reports the
phases it finished.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

from benchmarks import timing
from benchmarks.deep import run_deep
from benchmarks.peers import get_peer
from benchmarks.peers.base import PeerError
from benchmarks.workload import load

PREFIX = "@@bench "


def emit(**record) -> None:
    sys.stdout.write(PREFIX + json.dumps(record) + "\n")
    sys.stdout.flush()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:160]


def batch_inputs(point, n: int):
    """n float64 points around the sample point (uniform +-0.01 per input, seed 12345);
    element 0 is the sample point itself so the batch result can be checked."""
    import numpy as np

    rng = np.random.default_rng(12345)
    arrays = []
    for p in point:
        a = p + rng.uniform(-0.01, 0.01, n)
        a[0] = p
        arrays.append(np.ascontiguousarray(a, dtype=np.float64))
    return arrays


def measure(args) -> None:
    wl = load(args.workload)
    peer = get_peer(args.peer)
    try:
        _measure(args, wl, peer)
    finally:
        peer.close()


def _measure(args, wl, peer) -> None:
    # -- import (not part of build time) + warm-up on an unrelated tiny expression
    try:
        t0 = time.perf_counter()
        info = peer.info()
        import_s = time.perf_counter() - t0
        peer.warmup()
    except PeerError as exc:
        emit(phase="status", status=exc.status, reason=str(exc)[:160])
        return
    emit(phase="info", info=info, import_s=import_s)

    # -- build: text -> callable for value+gradient
    try:
        build_s, built = timing.time_once(lambda: peer.build(wl))
    except PeerError as exc:
        emit(phase="status", status=exc.status, reason=str(exc)[:160])
        return
    except (Exception, RecursionError) as exc:
        # adapters turn parser failures into ParseError; anything else (e.g. a
        # RecursionError inside the tool's own transformations) is an error
        status = "parse error" if isinstance(exc, SyntaxError) else "error"
        emit(phase="status", status=status, reason=_reason(exc))
        return
    emit(phase="build", build_s=build_s if peer.has_build else None)

    # -- value and gradient at the sample point (error vs. oracle is computed by the runner)
    try:
        value, grad = built.value_and_grad(wl.point)
        emit(phase="value", value=value, grad=grad)
    except Exception as exc:
        emit(phase="value", status="error", reason=_reason(exc))
        return

    # -- scalar call time
    try:
        emit(phase="scalar", **timing.per_call(built.scalar_call(wl.point), repeat=args.repeat,
                                              min_loop_s=args.min_loop))
    except Exception as exc:
        emit(phase="scalar", status="error", reason=_reason(exc))

    # -- op counts
    if not args.no_ops:
        try:
            emit(phase="ops", **run_deep(built.op_counts))
        except PeerError as exc:
            emit(phase="ops", status=exc.status, reason=str(exc)[:160])
        except Exception as exc:
            emit(phase="ops", status="error", reason=_reason(exc))

    # -- batch
    if args.batch_size > 0 and wl.n_inputs <= args.max_batch_inputs:
        try:
            arrays = batch_inputs(wl.point, args.batch_size)
            call = built.batch_call(arrays)
            warm_s, out = timing.time_once(call)  # first call: compile/caches, not reported as batch time
            values, grads = built.batch_result(out)
            stats = timing.repeated(call, args.batch_repeat)
            emit(phase="batch", n=args.batch_size, first_call_s=warm_s, value0=float(values[0]),
                 grad0=[float(g[0]) for g in grads], **stats)
        except PeerError as exc:
            emit(phase="batch", status=exc.status, reason=str(exc)[:160])
        except Exception as exc:
            emit(phase="batch", status="error", reason=_reason(exc))


def oracle(args) -> None:
    from benchmarks.oracle import compute_deep

    t0 = time.perf_counter()
    try:
        result = compute_deep(load(args.workload), args.method)
    except Exception as exc:
        emit(phase="oracle", status="error", reason=_reason(exc))
        return
    emit(phase="oracle", seconds=time.perf_counter() - t0, **result)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("--peer", required=True)
    m.add_argument("--workload", required=True)
    m.add_argument("--repeat", type=int, default=5)
    m.add_argument("--min-loop", type=float, default=0.02, help="seconds per timing loop")
    m.add_argument("--batch-size", type=int, default=1_000_000)
    m.add_argument("--batch-repeat", type=int, default=3)
    m.add_argument("--max-batch-inputs", type=int, default=10)
    m.add_argument("--no-ops", action="store_true")
    o = sub.add_parser("oracle")
    o.add_argument("--workload", required=True)
    o.add_argument("--method", choices=("sympy", "ad"), default="sympy")
    args = ap.parse_args(argv)
    try:
        (measure if args.cmd == "measure" else oracle)(args)
    except Exception:
        emit(phase="status", status="error", reason=_reason(sys.exc_info()[1]))
        traceback.print_exc()
    emit(phase="done")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown (slow for jax/torch); everything is flushed


if __name__ == "__main__":
    sys.exit(main())
