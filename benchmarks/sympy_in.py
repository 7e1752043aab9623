"""sympy in, timed: `symback.compile(e)` against `sympy.lambdify` with `cse=True` (issue 13).

The expression is `lennard_jones_30` (90 inputs, 435 pair terms) built with sympy's own API,
outside the timing. Both sides produce a callable value + gradient:

- symback: `symback.compile(e, wrt=vars)` (conversion, reverse mode, scheduling, rendering,
  and the first call, which compiles the module to bytecode);
- sympy:   `sympy.lambdify(vars, [e] + [e.diff(v) for v in vars], cse=True)` (the `diff`s
  included) and its first call.

Both results are checked against each other at the workload's point. One run of each:

    python -m benchmarks.sympy_in            # lennard_jones_30
    python -m benchmarks.sympy_in --particles 10  # a smaller system, for a quick look
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

WORKLOAD = Path(__file__).resolve().parent / "workloads" / "lennard_jones_30.expr"


def lennard_jones(sp, n: int):
    """(energy, symbols) of n particles in 3D, eps = sigma = 1, r2 written out per pair."""
    xs = [sp.symbols(f"x{i} y{i} z{i}") for i in range(n)]
    energy = 0
    for i in range(n):
        for j in range(i + 1, n):
            r2 = sum((a - b) ** 2 for a, b in zip(xs[i], xs[j]))
            energy += 4 * (r2 ** -6 - r2 ** -3)
    return energy, [s for triple in xs for s in triple]


def point(n: int) -> list[float]:
    if n == 30:
        for line in WORKLOAD.read_text().splitlines():
            if line.startswith("# point:"):
                return [float(v) for v in line.split(":", 1)[1].split()]
    return [1.1 * (k % 3) + 1.1 * (k // 3) + 0.01 * ((k * 7) % 5) for k in range(3 * n)]


def run(n: int) -> dict[str, float]:
    import sympy as sp

    import symback

    e, syms = lennard_jones(sp, n)
    at = point(n)
    t0 = time.perf_counter()
    f = symback.compile(e, wrt=syms)
    value, grad = f.value_and_grad(*at)
    t_symback = time.perf_counter() - t0

    t0 = time.perf_counter()
    fn = sp.lambdify(syms, [e] + [e.diff(v) for v in syms], cse=True)
    ref = fn(*at)
    t_sympy = time.perf_counter() - t0

    worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip([value, *grad], ref))
    assert worst < 1e-9 and math.isfinite(value), worst
    return {"symback_s": t_symback, "sympy_lambdify_s": t_sympy,
            "speedup": t_sympy / t_symback, "max_rel_difference": worst}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--particles", type=int, default=30)
    args = parser.parse_args()
    r = run(args.particles)
    print(f"lennard_jones_{args.particles}: symback.compile {r['symback_s']:.3f} s, "
          f"sympy.lambdify(cse=True) with diff {r['sympy_lambdify_s']:.3f} s: "
          f"symback {r['speedup']:.1f}x faster (results agree to {r['max_rel_difference']:.1g})")


if __name__ == "__main__":
    main()
