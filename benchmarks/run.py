"""Benchmark runner: every peer on every workload, each measurement in its own
capped subprocess (``python -m benchmarks.worker``).

    python -m benchmarks [--quick] [--only NAME ...] [--peers a,b] [--timeout SEC] [--repeat N]
    python benchmarks/run.py ...   (same)

Prints markdown tables to stdout, progress to stderr, and writes
benchmarks/results/latest.json.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # ``python benchmarks/run.py``: import as the package instead
    _root = str(Path(__file__).resolve().parent.parent)
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    sys.path.insert(0, _root)
    from benchmarks.run import main  # noqa: E402

    raise SystemExit(main())

from benchmarks import table  # noqa: E402
from benchmarks.oracle import max_error  # noqa: E402
from benchmarks.peers import PEER_NAMES  # noqa: E402
from benchmarks.worker import PREFIX  # noqa: E402
from benchmarks.workload import all_workloads, by_name  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
QUICK_WORKLOADS = ("seed", "rosenbrock_10", "product_100", "chain_100")

# (full, quick) defaults
DEFAULTS = {
    "timeout": (60.0, 30.0),
    "oracle_timeout": (60.0, 10.0),
    "repeat": (5, 3),
    "min_loop": (0.02, 0.003),
    "batch_size": (1_000_000, 10_000),
    "batch_repeat": (3, 2),
    "jobs": (1, 2),
}


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help=f"CI smoke run: {', '.join(QUICK_WORKLOADS)}; fewer repeats, "
                         "small batch, short caps (< 2 minutes)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="workloads to run (default: all)")
    ap.add_argument("--peers", help=f"comma-separated peers, default all: {','.join(PEER_NAMES)}")
    ap.add_argument("--timeout", type=float, help="cap in seconds per (peer, workload) measurement "
                    "(default 60, quick 30)")
    ap.add_argument("--oracle-timeout", type=float, help="cap in seconds for the sympy.diff oracle per "
                    "workload; past it the mpmath reverse-accumulation oracle is used (default 60, quick 10)")
    ap.add_argument("--repeat", type=int, help="timing repeats; medians are reported (default 5, quick 3)")
    ap.add_argument("--min-loop", type=float, help="seconds per scalar timing loop (default 0.02)")
    ap.add_argument("--batch-size", type=int, help="points per batch evaluation (default 1e6, quick 1e4; "
                    "0 disables)")
    ap.add_argument("--batch-repeat", type=int, help="batch timing repeats (default 3, quick 2)")
    ap.add_argument("--jobs", type=int, help="measurements run at the same time (default 1 for "
                    "clean timings; quick 2, as a smoke run)")
    ap.add_argument("--max-batch-inputs", type=int, default=10,
                    help="batch only workloads with at most this many inputs (default 10)")
    ap.add_argument("--no-ops", action="store_true", help="skip op counting")
    ap.add_argument("--json", default=str(RESULTS_DIR / "latest.json"), help="where to write JSON results")
    ap.add_argument("--list", action="store_true", help="list workloads and peers, then exit")
    args = ap.parse_args(argv)
    k = 1 if args.quick else 0
    for name, pair in DEFAULTS.items():
        if getattr(args, name) is None:
            setattr(args, name, pair[k])
    if args.peers:
        peers = [p.strip() for p in args.peers.split(",") if p.strip()]
        unknown = [p for p in peers if p not in PEER_NAMES]
        if unknown:
            ap.error(f"unknown peer(s) {', '.join(unknown)}; known: {', '.join(PEER_NAMES)}")
        args.peer_list = [p for p in PEER_NAMES if p in peers]  # deterministic order
    else:
        args.peer_list = list(PEER_NAMES)
    if args.only:
        args.workloads = by_name(args.only)
    elif args.quick:
        args.workloads = by_name(QUICK_WORKLOADS)
    else:
        args.workloads = all_workloads()
    return args


# --------------------------------------------------------------------------- subprocesses

_ACTIVE: set = set()  # worker processes currently running (killed if the runner is interrupted)


def _kill(proc) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the worker's own process group only
    except (ProcessLookupError, PermissionError):
        pass


def run_worker(worker_args: list[str], timeout: float) -> tuple[list[dict], bool, str]:
    """Run ``python -m benchmarks.worker ARGS``; returns (records, timed_out, stderr tail)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("JAX_PLATFORMS", "cpu")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["SYMBACK_CACHE"] = "0"      # build times measure the compiler, not the compile cache
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks.worker", *worker_args], cwd=str(ROOT),
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    _ACTIVE.add(proc)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill(proc)
        out, err = proc.communicate()
    finally:
        _ACTIVE.discard(proc)
    records = []
    for line in out.splitlines():
        if line.startswith(PREFIX):
            try:
                records.append(json.loads(line[len(PREFIX):]))
            except json.JSONDecodeError:
                pass
    return records, timed_out, "\n".join(err.strip().splitlines()[-3:])


# --------------------------------------------------------------------------- oracle

def _oracle_attempt(wl, method: str, cap: float) -> dict:
    records, timed_out, err_tail = run_worker(["oracle", "--workload", wl.path, "--method", method], cap)
    rec = next((r for r in records if r.get("phase") == "oracle"), None)
    if timed_out:
        return {"status": "oracle timeout", "cap": cap}
    if rec is None or rec.get("status"):
        return {"status": "oracle error", "reason": (rec or {}).get("reason") or err_tail[-160:]}
    return {"status": "ok", "value": rec["value"], "grad": rec["grad"], "digits": rec["digits"],
            "method": rec["method"], "seconds": rec["seconds"]}


def oracle_for(wl, cap: float, cache: dict) -> dict:
    """sympy.diff + mpmath under ``cap``; if that fails, mpmath reverse accumulation."""
    cached = cache.get(wl.digest)
    if cached and cached.get("status") == "ok" and (cached.get("method") == "sympy"
                                                   or cached.get("sympy_cap", 0) >= cap):
        return cached
    t0 = time.perf_counter()
    result = _oracle_attempt(wl, "sympy", cap)
    if result["status"] != "ok":
        fallback = _oracle_attempt(wl, "ad", cap)
        fallback["sympy_status"], fallback["sympy_cap"] = result["status"], cap
        result = fallback
    result["workload"] = wl.name
    result["wall_s"] = time.perf_counter() - t0
    if result["status"] == "ok":
        cache[wl.digest] = result
    return result


def load_oracle_cache(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


# --------------------------------------------------------------------------- one measurement

def measure(peer: str, wl, args, oracle: dict) -> dict:
    worker_args = ["measure", "--peer", peer, "--workload", wl.path, "--repeat", str(args.repeat),
                   "--min-loop", str(args.min_loop), "--batch-size", str(args.batch_size),
                   "--batch-repeat", str(args.batch_repeat), "--max-batch-inputs", str(args.max_batch_inputs)]
    if args.no_ops:
        worker_args.append("--no-ops")
    t0 = time.perf_counter()
    records, timed_out, err_tail = run_worker(worker_args, args.timeout)
    rec = {"workload": wl.name, "peer": peer, "n_inputs": wl.n_inputs, "status": "ok", "reason": None,
           "timed_out": timed_out, "wall_s": None}
    phases = {r.get("phase"): r for r in records}
    done = "done" in phases
    if "status" in phases:
        rec["status"], rec["reason"] = phases["status"]["status"], phases["status"].get("reason")
    elif "build" not in phases:
        rec["status"] = "timeout" if timed_out else "error"
        rec["reason"] = f"cap {args.timeout:g}s during build" if timed_out else (err_tail[-160:] or "worker died")
    if "info" in phases:
        rec["info"], rec["import_s"] = phases["info"]["info"], phases["info"]["import_s"]
    if "build" in phases:
        rec["build_s"] = phases["build"]["build_s"]
    for name in ("value", "scalar", "ops", "batch"):
        r = phases.get(name)
        if r is None:
            if rec["status"] == "ok" and not (name == "batch" and (args.batch_size <= 0 or
                                                                   wl.n_inputs > args.max_batch_inputs)):
                if name == "ops" and args.no_ops:
                    continue
                rec[f"{name}_status"] = "timeout" if timed_out else ("error" if not done else None)
                if timed_out:
                    rec[f"{name}_reason"] = f"cap {args.timeout:g}s during {name}"
                elif not done:
                    rec[f"{name}_reason"] = err_tail[-160:] or "worker died"
            continue
        if r.get("status"):
            rec[f"{name}_status"], rec[f"{name}_reason"] = r["status"], r.get("reason")
            continue
        r = {k: v for k, v in r.items() if k != "phase"}
        if name == "value":
            rec["value"], rec["grad"] = r["value"], r["grad"]
            if oracle.get("status") == "ok":
                rec["err"] = max_error(oracle, r["value"], r["grad"])
        elif name == "scalar":
            rec["scalar"] = r
            rec["scalar_us"] = r["median_s"] * 1e6
        elif name == "ops":
            rec["ops_vg"], rec["ops_fwd"], rec["ops_note"] = r.get("value_and_grad"), r.get("forward"), r.get("note")
            if r.get("symback_stats"):
                rec["symback_stats"] = r["symback_stats"]
        elif name == "batch":
            rec["batch"] = r
            rec["batch_ms"] = r["median_s"] * 1e3
            if oracle.get("status") == "ok":
                rec["batch_err"] = max_error(oracle, r["value0"], r["grad0"])
    for k in [k for k, v in rec.items() if v is None and k.endswith("_status")]:
        del rec[k]
        rec.pop(k.replace("_status", "_reason"), None)
    rec["wall_s"] = time.perf_counter() - t0
    return rec


def _progress(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _main(args)
    finally:
        for proc in list(_ACTIVE):
            _kill(proc)


def _main(args) -> int:
    if args.list:
        for wl in args.workloads:
            print(f"{wl.name:20s} {wl.n_inputs:5d} inputs  {wl.description}")
        print("peers:", ", ".join(PEER_NAMES))
        return 0
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    cache_path = RESULTS_DIR / "oracle_cache.json"
    cache = load_oracle_cache(cache_path)
    started = time.perf_counter()

    def one_oracle(wl):
        t0 = time.perf_counter()
        oracle = oracle_for(wl, args.oracle_timeout, cache)
        method = f", {oracle['method']}" if oracle.get("method") else ""
        _progress(f"oracle {wl.name}: {oracle['status']}{method} ({time.perf_counter() - t0:.1f}s)")
        return oracle

    tasks = [(wl, peer) for wl in args.workloads for peer in args.peer_list]
    counter = iter(range(1, len(tasks) + 1))

    def one_measurement(task):
        wl, peer = task
        rec = measure(peer, wl, args, oracles[wl.name])
        extra = f" [{rec['reason']}]" if rec.get("reason") and rec["status"] != "ok" else ""
        _progress(f"[{next(counter)}/{len(tasks)}] {wl.name} / {peer}: {rec['status']}{extra} "
                  f"({rec['wall_s']:.1f}s)")
        return rec

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:  # each task is one subprocess
        oracles = dict(zip([wl.name for wl in args.workloads], pool.map(one_oracle, args.workloads)))
        cache_path.write_text(json.dumps(cache, indent=1))
        results = list(pool.map(one_measurement, tasks))  # map keeps the deterministic order

    peers_info = {}
    for rec in results:
        if rec.get("info") and rec["peer"] not in peers_info:
            peers_info[rec["peer"]] = rec["info"]
    doc = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "wall_s": time.perf_counter() - started,
        },
        "settings": {k: getattr(args, k) for k in (*DEFAULTS, "max_batch_inputs", "quick", "no_ops")}
                    | {"peers": args.peer_list, "workloads": [w.name for w in args.workloads]},
        "rules": table.RULES,
        "peers": peers_info,
        "oracle": oracles,
        "results": results,
    }
    out_path = Path(args.json)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(doc, indent=1))
    print(table.render(doc, args.workloads))
    _progress(f"wrote {out_path} ({doc['meta']['wall_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
