"""Timing helpers (time.perf_counter; medians; no assertions on times)."""

from __future__ import annotations

import gc
import statistics
import time


def time_once(fn):
    """(seconds, result) of one call."""
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def per_call(fn, repeat: int = 5, min_loop_s: float = 0.02, max_number: int = 1_000_000) -> dict:
    """timeit-style: calibrate ``number`` so one loop takes >= min_loop_s, then
    run ``repeat`` loops; per-call seconds: median and min over the loops."""
    number = 1
    while True:
        t = _loop(fn, number)
        if t >= min_loop_s or number >= max_number:
            break
        number = min(max_number, max(number * 2, int(number * min_loop_s / max(t, 1e-9) * 1.2)))
    samples = [t / number] + [_loop(fn, number) / number for _ in range(max(0, repeat - 1))]
    return {"median_s": statistics.median(samples), "min_s": min(samples), "number": number,
            "repeat": len(samples)}


def _loop(fn, number: int) -> float:
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - t0
    finally:
        if gc_was_enabled:
            gc.enable()


def repeated(fn, repeat: int) -> dict:
    """Median/min of ``repeat`` single calls (for long calls such as batches)."""
    samples = [time_once(fn)[0] for _ in range(max(1, repeat))]
    return {"median_s": statistics.median(samples), "min_s": min(samples), "number": 1,
            "repeat": len(samples)}
