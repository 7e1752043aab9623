"""Where symback's build time goes: `symback.compile(text, wrt=vars)` and the first
`value_and_grad` call, stage by stage (issue 16).

    python -m benchmarks.stages                    # the four 1,000-node workloads
    python -m benchmarks.stages --only product_1000 --repeat 5

Each stage is timed by wrapping the function `symback.api._compile` calls for it with
`time.perf_counter` (the wrappers only time; the pipeline runs as it does without them):

| stage | function |
|---|---|
| parse | `symback.parse.parse` |
| plan | `symback.derivatives.plan` (the derivative graph) |
| schedule | `symback.schedule.schedule`, without its inlining plan |
| inline | `symback.optimize.inline_plan` (called by the scheduler) |
| analyses | `symback.analyses.annotate` (int safety, broadcast) |
| render | `symback.render.render` (printers and template) |
| other | the rest of `symback.compile` (option checks, names, stats, ...) |
| bytecode | first access of `.value_and_grad` (CPython's compile of that function) |
| first call | the first `value_and_grad(*point)` call |

Medians of `--repeat` builds (default 3), one process, caches off; the garbage collector
is paused during `compile` as `symback.compile` itself does. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterator

DEFAULT = ("rosenbrock_1000", "product_1000", "lennard_jones_30", "chain_1000")
STAGES = ("parse", "plan", "schedule", "inline", "analyses", "render", "other", "bytecode",
          "first call")


@contextmanager
def _timed(owner: Any, attr: str, key: str, spent: dict[str, float]) -> Iterator[None]:
    """`owner.attr` replaced, while inside, by a wrapper adding its time to spent[key]."""
    original: Callable[..., Any] = getattr(owner, attr)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] = spent.get(key, 0.0) + time.perf_counter() - start

    setattr(owner, attr, wrapper)
    try:
        yield
    finally:
        setattr(owner, attr, original)


def measure(text: str, wrt: list[str], point: tuple[float, ...]) -> dict[str, float]:
    """Seconds per stage of one cold build and first call."""
    import symback
    from symback import analyses, api, derivatives, schedule
    parse_module = sys.modules["symback.parse"]
    spent: dict[str, float] = {}
    hooks = [(parse_module, "parse", "parse"), (derivatives, "plan", "plan"),
             (schedule, "schedule", "schedule"), (schedule, "inline_plan", "inline"),
             (analyses, "annotate", "analyses"), (api, "render", "render")]
    from contextlib import ExitStack
    with ExitStack() as stack:
        for owner, attr, key in hooks:
            stack.enter_context(_timed(owner, attr, key, spent))
        start = time.perf_counter()
        c = symback.compile(text, wrt=wrt, cache=False)
        total = time.perf_counter() - start
    start = time.perf_counter()
    fn = c.value_and_grad
    spent["bytecode"] = time.perf_counter() - start
    start = time.perf_counter()
    fn(*point)
    spent["first call"] = time.perf_counter() - start
    spent["schedule"] = spent.get("schedule", 0.0) - spent.get("inline", 0.0)
    spent["other"] = total - sum(spent.get(k, 0.0) for k in
                                 ("parse", "plan", "schedule", "inline", "analyses", "render"))
    return spent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.stages", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", default=list(DEFAULT), metavar="NAME",
                    help="workloads (default: %(default)s)")
    ap.add_argument("--repeat", type=int, default=3, help="builds per workload (median)")
    args = ap.parse_args(argv)
    import symback
    from benchmarks.workload import by_name
    symback.compile("a*b + sin(a)", wrt=["a", "b"], cache=False).value_and_grad(1.0, 2.0)
    print("| workload | " + " | ".join(STAGES) + " | total |")
    print("|---|" + "---:|" * (len(STAGES) + 1))
    for wl in by_name(args.only):
        runs = [measure(wl.text, list(wl.vars), wl.point) for _ in range(max(1, args.repeat))]
        med = {k: statistics.median(r.get(k, 0.0) for r in runs) for k in STAGES}
        total = statistics.median(sum(r.get(k, 0.0) for k in STAGES) for r in runs)
        cells = [f"{1000 * med[k]:.1f}" for k in STAGES]
        print(f"| {wl.name} | " + " | ".join(cells) + f" | {1000 * total:.1f} |", flush=True)
    print("\nmilliseconds, median of", args.repeat, "builds")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
