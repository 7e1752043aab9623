"""Rolled-loop targets of issue 15, measured in one run.

    python -m benchmarks.loops [--quick] [--only rosenbrock|pairwise|compile] [--repeat N]

Three tables (medians, seconds or milliseconds as labelled), printed as markdown:

1. compile: Rosenbrock text -> callable ``value_and_grad`` including its first call, at
   N = 10, 1000, 1,000,000 for backends python, numpy, numba with loops="roll" (and
   N = 1000 numba loops="unroll", the old path, without --quick);
2. rosenbrock: ``value_and_grad`` at N = 1,000,000, symback numpy/numba vs hand-written
   NumPy, hand-written numba and JAX ``jit(value_and_grad)``;
3. pairwise: a Lennard-Jones energy over 3,000 particles (i < j pairs), symback numba vs a
   hand-written numba double loop.

Every measurement runs in its own subprocess (``--_child``) under a time cap with
SYMBACK_CACHE=0; anything symback raises becomes an ``error: ...`` cell. See
benchmarks/README.md ("Rolled loops").
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "@@loops "            # marks the child's one JSON result line on stdout

ROSEN_N = 1_000_000
PAIR_N = 3000
ROSEN_TOL = 1e-12
PAIR_TOL = 1e-10


# --------------------------------------------------------------------------- the texts

def rosenbrock_text(n: int) -> str:
    return (f"# vars: x[{n}]\n"
            "sum(100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2 for i in range(len(x) - 1))")


def pairwise_text(n: int) -> str:
    r2 = "(X[i,0]-X[j,0])**2 + (X[i,1]-X[j,1])**2 + (X[i,2]-X[j,2])**2"
    return (f"# vars: X[{n}, 3]\n"
            "lj(r2) = 4*((1/r2)**6 - (1/r2)**3)\n"
            f"sum(lj({r2}) for i in range({n}) for j in range({n}) if i < j)")


# --------------------------------------------------------------------------- the points

def rosenbrock_point(n: int) -> np.ndarray:
    """Uniform in [-1.5, 1.5], float64, fixed seed."""
    return np.random.default_rng(12345).uniform(-1.5, 1.5, n)


def pairwise_point(n: int) -> np.ndarray:
    """n particles on a cubic grid of spacing 1.1, each jittered by at most 0.05 per
    coordinate: two particles differ by >= 1.1 on some grid axis before jitter, so they
    are at least 1.0 apart and r2 >= 1."""
    side = math.ceil(n ** (1 / 3))
    grid = np.array([(a, b, c) for a in range(side) for b in range(side) for c in range(side)][:n],
                    dtype=np.float64)
    jitter = np.random.default_rng(54321).uniform(-0.05, 0.05, (n, 3))
    return 1.1 * grid + jitter


# --------------------------------------------------------------------------- hand-written references

def rosenbrock_numpy(x):
    """Value and gradient of sum_i 100*(x[i+1] - x[i]**2)**2 + (1 - x[i])**2, vectorised."""
    a, b = x[:-1], x[1:]
    t = b - a**2              # x[i+1] - x[i]**2
    u = 1.0 - a               # 1 - x[i]
    value = np.sum(100.0 * t**2 + u**2)
    grad = np.zeros_like(x)
    grad[:-1] = -400.0 * t * a - 2.0 * u    # d/dx[i] of term i
    grad[1:] += 200.0 * t                   # d/dx[i+1] of term i
    return value, grad


def _rosenbrock_numba_py(x):
    n = x.shape[0]
    grad = np.zeros(n)
    value = 0.0
    for i in range(n - 1):
        a = x[i]
        t = x[i + 1] - a * a
        u = 1.0 - a
        value += 100.0 * t * t + u * u
        grad[i] += -400.0 * t * a - 2.0 * u
        grad[i + 1] += 200.0 * t
    return value, grad


def _pairwise_numba_py(X):
    n = X.shape[0]
    grad = np.zeros_like(X)
    value = 0.0
    for i in range(n):
        for j in range(i + 1, n):
            dx = X[i, 0] - X[j, 0]
            dy = X[i, 1] - X[j, 1]
            dz = X[i, 2] - X[j, 2]
            s = 1.0 / (dx * dx + dy * dy + dz * dz)     # 1/r2
            s3 = s * s * s
            s6 = s3 * s3
            value += 4.0 * (s6 - s3)
            c = 2.0 * s * (12.0 * s3 - 24.0 * s6)       # 2 * dE/dr2 = 2 * 4*(-6 s^7 + 3 s^4)
            grad[i, 0] += c * dx
            grad[i, 1] += c * dy
            grad[i, 2] += c * dz
            grad[j, 0] -= c * dx
            grad[j, 1] -= c * dy
            grad[j, 2] -= c * dz
    return value, grad


def pairwise_definition(points) -> float:
    """The pairwise energy straight from the text, plain Python floats (no numpy)."""
    total = 0.0
    for i in range(len(points)):
        for j in range(len(points)):
            if i < j:
                r2 = sum((points[i][k] - points[j][k]) ** 2 for k in range(3))
                total += 4 * ((1 / r2) ** 6 - (1 / r2) ** 3)
    return total


_NUMBA: dict = {}


def numba_impls() -> dict:
    """{"rosenbrock": njit'ed, "pairwise": njit'ed}; numba is imported on first use only."""
    if not _NUMBA:
        import numba
        _NUMBA["rosenbrock"] = numba.njit(_rosenbrock_numba_py)
        _NUMBA["pairwise"] = numba.njit(_pairwise_numba_py)
    return _NUMBA


def rosenbrock_numba(x):
    return numba_impls()["rosenbrock"](x)


def pairwise_numba(X):
    return numba_impls()["pairwise"](X)


def jax_rosenbrock():
    """jax.jit(jax.value_and_grad(f)) with x64 enabled; f is the slice form."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(x):
        return jnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    vg = jax.jit(jax.value_and_grad(f))

    def call(x):
        value, grad = vg(x)
        return value.block_until_ready(), grad.block_until_ready()
    return call, jnp.asarray


# --------------------------------------------------------------------------- checks and timing

def rel_error(got, ref) -> float:
    """max(|v - v_ref| / |v_ref|, max|g - g_ref| / max|g_ref|): the value relative, the
    gradient relative to its largest component (so near-zero components do not blow up)."""
    (v, g), (v0, g0) = got, ref
    g, g0 = np.asarray(g, dtype=np.float64), np.asarray(g0, dtype=np.float64)
    if g.shape != g0.shape:
        raise ValueError(f"gradient shape {g.shape}, expected {g0.shape}")
    ev = abs(float(v) - float(v0)) / max(abs(float(v0)), 1e-300)
    eg = float(np.max(np.abs(g - g0))) / max(float(np.max(np.abs(g0))), 1e-300)
    return max(ev, eg)


def one_gradient(result):
    """symback returns (value, (grad,)) for one array input; the references (value, grad)."""
    value, grads = result
    if isinstance(grads, tuple) and len(grads) == 1:
        grads = grads[0]
    return value, grads


def median_time(fn, repeat: int, warmup_s: float = 0.5) -> float:
    """Median seconds of ``repeat`` single calls, garbage collection off, after warming up
    by calling ``fn`` for ``warmup_s`` seconds (at least once). One warm-up call is not
    enough at N = 10^6: the hand-written numba loop drops from ~9 ms to ~1.9 ms over its
    first ~10 calls and JAX from ~10 ms to ~1.8 ms over its first ~100 (allocator and
    thread-pool state), so a single warm-up would time the settling, not the code."""
    t_end = time.perf_counter() + warmup_s
    fn()
    while time.perf_counter() < t_end:
        fn()
    samples = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(max(1, repeat)):
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
    finally:
        if enabled:
            gc.enable()
    return statistics.median(samples)


# --------------------------------------------------------------------------- child side

def _symback_callable(text: str, backend: str, loops: str):
    import symback
    c = symback.compile(text, backend=backend, loops=loops)
    vg = c.value_and_grad
    return lambda *a: one_gradient(vg(*a))


def child_compile(n: int, backend: str, loops: str, warm: bool) -> dict:
    """Text -> value_and_grad -> first call, in this fresh process; libraries imported first
    (not timed). ``warm``: first compile and call a tiny unrelated program with the same
    options, so one-time library initialisation (numba's first JIT) is not counted."""
    t0 = time.perf_counter()
    import symback
    if backend == "numba":
        import numba  # noqa: F401
    out = {"import_s": time.perf_counter() - t0}
    if warm:
        f = _symback_callable("# vars: y[3]\nsum(y[i]*y[i+1] for i in range(len(y) - 1))", backend, loops)
        f(np.array([1.0, 2.0, 3.0]))
    x = rosenbrock_point(n)
    text = rosenbrock_text(n)
    t0 = time.perf_counter()
    c = symback.compile(text, backend=backend, loops=loops)
    vg = c.value_and_grad
    t1 = time.perf_counter()
    result = vg(x)
    t2 = time.perf_counter()
    out.update(compile_s=t1 - t0, first_call_s=t2 - t1, total_s=t2 - t0,
               rel_error=rel_error(one_gradient(result), rosenbrock_numpy(x)))
    return out


def _rosenbrock_peer(peer: str, n: int):
    """(build, call) for one rosenbrock peer: build() returns the callable (timed)."""
    if peer == "numpy (hand)":
        return lambda: rosenbrock_numpy, None
    if peer == "numba (hand)":
        return lambda: numba_impls()["rosenbrock"], None
    if peer == "jax jit(value_and_grad)":
        call, convert = jax_rosenbrock()
        return lambda: call, convert
    backend = {"symback numpy": "numpy", "symback numba": "numba"}[peer]
    return lambda: _symback_callable(rosenbrock_text(n), backend, "roll"), None


def _import_libraries(peer: str) -> None:
    """Import what a peer uses before any clock starts: build times are not import times."""
    if "numba" in peer:
        import numba  # noqa: F401
    if peer.startswith("symback"):
        import symback  # noqa: F401


def child_rosenbrock(peer: str, n: int, repeat: int) -> dict:
    _import_libraries(peer)
    x = rosenbrock_point(n)
    ref = rosenbrock_numpy(x)
    build, convert = _rosenbrock_peer(peer, n)
    arg = convert(x) if convert else x     # JAX: the array moved to the device once, not timed
    t0 = time.perf_counter()
    fn = build()
    first = fn(arg)                         # first call: numba's and XLA's JIT
    build_s = time.perf_counter() - t0
    return {"build_s": build_s, "rel_error": rel_error(first, ref),
            "call_s": median_time(lambda: fn(arg), repeat), "load": os.getloadavg()[0]}


def child_pairwise(peer: str, n: int, repeat: int) -> dict:
    _import_libraries(peer)
    X = pairwise_point(n)
    hand = numba_impls()["pairwise"]
    t0 = time.perf_counter()      # build + first call; each row pays numba's first JIT
    fn = hand if peer == "numba (hand)" else _symback_callable(pairwise_text(n), "numba", "roll")
    first = fn(X)
    build_s = time.perf_counter() - t0
    ref = first if peer == "numba (hand)" else hand(X)
    return {"build_s": build_s, "rel_error": rel_error(first, ref),
            "call_s": median_time(lambda: fn(X), repeat), "load": os.getloadavg()[0]}


def child_main(spec: dict) -> dict:
    try:
        kind = spec["kind"]
        if kind == "compile":
            return child_compile(spec["n"], spec["backend"], spec["loops"], spec["warm"])
        if kind == "rosenbrock":
            return child_rosenbrock(spec["peer"], spec["n"], spec["repeat"])
        if kind == "pairwise":
            return child_pairwise(spec["peer"], spec["n"], spec["repeat"])
        raise ValueError(f"unknown kind {kind!r}")
    except Exception as exc:  # noqa: BLE001 - shown in the table, the run goes on
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return {"error": f"{type(exc).__name__}: {first_line}"[:160]}


# --------------------------------------------------------------------------- parent side

def run_child(spec: dict, timeout: float) -> dict:
    """One measurement in a fresh process group, killed after ``timeout`` seconds."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["SYMBACK_CACHE"] = "0"
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.loops", "--_child", json.dumps(spec)],
                            cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)   # this child's own process group only
        proc.communicate()
        return {"error": f"timeout ({timeout:g} s)"}
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    for line in out.splitlines():
        if line.startswith(PREFIX):
            return json.loads(line[len(PREFIX):])
    tail = (err.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return {"error": f"crashed: {tail}"[:160]}


def fmt_time(seconds, unit: str = "ms") -> str:
    if seconds is None:
        return "–"
    v = seconds * 1e3 if unit == "ms" else seconds
    if v >= 10:
        return f"{v:,.1f}"
    return f"{v:.3g}" if v >= 0.001 else "<0.001"       # 3 significant digits below 10


def fmt_err(rec: dict, tol: float) -> str:
    e = rec.get("rel_error")
    if e is None:
        return "–"
    return f"{e:.1e}" + ("" if e <= tol else " **FAIL**")


def fmt_load(rec: dict) -> str:
    """The 1-minute load average when the row's timing ended: on 2 cores, above ~1 another
    process shared the machine with this row (ratios between rows at different loads mislead)."""
    return f"{rec['load']:.2f}" if "load" in rec else "–"


def cell(rec: dict, key: str, unit: str = "ms") -> str:
    if "error" in rec:
        return "error: " + rec["error"].replace("|", "/")
    return fmt_time(rec.get(key), unit)


def progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def section_compile(args) -> list[str]:
    sizes = [10, 1000, ROSEN_N]
    configs = [(n, b, "roll") for n in sizes for b in ("python", "numpy", "numba")]
    lines = ["## compile: Rosenbrock text -> value_and_grad, first call included (s)", "",
             "| N | backend | loops | compile | first call | **total** | total after warm-up | max rel err |",
             "|---|---|---|---|---|---|---|---|"]
    rows = configs + ([] if args.quick else [(1000, "numba", "unroll")])
    totals = {}
    for n, backend, loops in rows:
        timeout = 120.0
        progress(f"compile N={n} {backend} loops={loops} ...")
        cold = run_child({"kind": "compile", "n": n, "backend": backend, "loops": loops, "warm": False}, timeout)
        warm = ({"skipped": True} if args.quick or loops == "unroll" else
                run_child({"kind": "compile", "n": n, "backend": backend, "loops": loops, "warm": True}, timeout))
        totals[(n, backend, loops)] = cold.get("total_s")
        warm_cell = ("–" if warm.get("skipped") else
                     "(same error)" if "error" in warm and warm.get("error") == cold.get("error") else
                     cell(warm, "total_s", "s"))
        if "error" in cold:
            lines.append(f"| {n:,} | {backend} | {loops} | error: {cold['error'].replace('|', '/')} "
                         f"| | | {warm_cell} | |")
        else:
            lines.append(f"| {n:,} | {backend} | {loops} | {fmt_time(cold['compile_s'], 's')} | "
                         f"{fmt_time(cold['first_call_s'], 's')} | **{fmt_time(cold['total_s'], 's')}** | "
                         f"{warm_cell} | {fmt_err(cold, ROSEN_TOL)} |")
    lines += ["", ("Targets: N = 1,000,000 total under 1 s and at most 3x N = 10; "
                   "N = 1000 numba under 2 s (the issue: about 50 s unrolled)."), ""]
    checks = []
    for backend in ("python", "numpy", "numba"):
        big, small = totals.get((ROSEN_N, backend, "roll")), totals.get((10, backend, "roll"))
        if big is not None and small is not None:
            checks.append(f"{backend}: 10^6 / 10 = {big / small:.2f}x")
    if checks:
        lines += ["Ratios: " + "; ".join(checks), ""]
    return lines


ROSEN_PEERS = ["numpy (hand)", "numba (hand)", "jax jit(value_and_grad)", "symback numpy", "symback numba"]


def section_rosenbrock(args) -> list[str]:
    recs = {}
    for peer in ROSEN_PEERS:
        progress(f"rosenbrock N={ROSEN_N:,} {peer} ...")
        recs[peer] = run_child({"kind": "rosenbrock", "peer": peer, "n": ROSEN_N, "repeat": args.repeat},
                                args.timeout)
    lines = [f"## rosenbrock value_and_grad, N = {ROSEN_N:,} (median of {args.repeat}, ms)", "",
             "| implementation | call (ms) | build + first call (ms) | rel err vs hand numpy | load |",
             "|---|---|---|---|---|"]
    for peer in ROSEN_PEERS:
        r = recs[peer]
        name = peer + (' (loops="roll")' if peer.startswith("symback") else "")
        build = "–" if peer == "numpy (hand)" or "error" in r else cell(r, "build_s")   # error: shown once
        lines.append(f"| {name} | {cell(r, 'call_s')} | {build} | {fmt_err(r, ROSEN_TOL)} | {fmt_load(r)} |")
    lines += ["", "| ratio (call times) | measured | target | met |", "|---|---|---|---|"]
    for num, den, target in [("symback numpy", "numpy (hand)", "<= 1.3"),
                             ("symback numba", "numpy (hand)", "< 1"),
                             ("symback numba", "jax jit(value_and_grad)", "<= 1.5"),
                             ("numba (hand)", "numpy (hand)", None),
                             ("jax jit(value_and_grad)", "numpy (hand)", None)]:
        lines.append(ratio_row(f"{num} / {den}", recs[num], recs[den], target))
    return lines + [""]


def ratio_row(label: str, num: dict, den: dict, target: str | None) -> str:
    """A markdown row: the ratio of the call times, the target ("<= 1.3", "< 1") and whether
    it is met; "–" when either side has no time (an error)."""
    if "call_s" not in num or "call_s" not in den:
        return f"| {label} | – | {target or '(context)'} | – |"
    r = num["call_s"] / den["call_s"]
    if target is None:
        return f"| {label} | {r:.2f}x | (context) | |"
    op, bound = target.split()
    met = r <= float(bound) if op == "<=" else r < float(bound)
    return f"| {label} | {r:.2f}x | {target} | {'yes' if met else '**no**'} |"


def section_pairwise(args) -> list[str]:
    recs = {}
    for peer in ["numba (hand)", "symback numba"]:
        progress(f"pairwise {PAIR_N:,} particles {peer} ...")
        recs[peer] = run_child({"kind": "pairwise", "peer": peer, "n": PAIR_N, "repeat": args.repeat},
                               args.timeout)
    pairs = PAIR_N * (PAIR_N - 1) // 2
    lines = [(f"## pairwise Lennard-Jones, {PAIR_N:,} particles ({pairs:,} pairs), value_and_grad "
              f"(median of {args.repeat}, ms)"), "",
             "| implementation | call (ms) | build + first call (ms) | rel err vs hand numba | load |",
             "|---|---|---|---|---|"]
    for peer, r in recs.items():
        name = peer + (' (loops="roll")' if peer.startswith("symback") else "")
        build = "–" if "error" in r else cell(r, "build_s")   # an error is shown once
        lines.append(f"| {name} | {cell(r, 'call_s')} | {build} | {fmt_err(r, PAIR_TOL)} | {fmt_load(r)} |")
    lines += ["", "| ratio (call times) | measured | target | met |", "|---|---|---|---|",
              ratio_row("symback numba / numba (hand)", recs["symback numba"], recs["numba (hand)"], "<= 1.5"),
              ""]
    return lines


def versions() -> str:
    parts = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    for mod in ("numba", "jax", "symback"):
        try:
            parts.append(f"{mod} {getattr(__import__(mod), '__version__', '?')}")
        except Exception:  # noqa: BLE001
            parts.append(f"{mod} not installed")
    return ", ".join(parts)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.loops", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="3 repeats, no warm-up column, no unrolled compile")
    p.add_argument("--only", nargs="+", choices=["compile", "rosenbrock", "pairwise"],
                   help="sections to run (default: all)")
    p.add_argument("--repeat", type=int, help="timing repeats (default 7, --quick 3)")
    p.add_argument("--timeout", type=float, default=300.0, help="cap per rosenbrock/pairwise measurement, s")
    p.add_argument("--_child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child:
        print(PREFIX + json.dumps(child_main(json.loads(args._child))), flush=True)
        return 0
    if args.repeat is None:
        args.repeat = 3 if args.quick else 7
    sections = args.only or ["compile", "rosenbrock", "pairwise"]
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    out = ["# symback rolled loops (issue 15)", "",
           f"{versions()}; {os.cpu_count()} cores; load average at start "
           f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}" + (" (--quick)" if args.quick else ""), ""]
    for name in ["compile", "rosenbrock", "pairwise"]:
        if name in sections:
            out += {"compile": section_compile, "rosenbrock": section_rosenbrock,
                    "pairwise": section_pairwise}[name](args)
    load1 = os.getloadavg()
    out.append(f"Load average at end {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}; "
               f"run took {time.perf_counter() - t0:.0f} s.")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
