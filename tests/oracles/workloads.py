"""The workload corpus (benchmarks/workloads/*.expr, the one place it lives) and random
expressions for the property tests."""

from __future__ import annotations

import random
from pathlib import Path

import symback

ROOT = Path(__file__).resolve().parent.parent.parent
WORKLOAD_DIR = ROOT / "benchmarks" / "workloads"
PATHS = sorted(WORKLOAD_DIR.glob("*.expr"))
NAMES = [p.stem for p in PATHS]
# The workloads over scalar inputs only (no `x[1000]` shapes on their `# vars:` line): the
# ones peers and sympy can take one name per input.
SCALAR_PATHS = [p for p in PATHS
                if not any(line.startswith("# vars:") and "[" in line
                           for line in p.read_text(encoding="utf-8").splitlines())]


def path(name: str) -> Path:
    """The file of one workload (benchmarks/workloads/<name>.expr)."""
    return WORKLOAD_DIR / f"{name}.expr"


def workload(name: str) -> symback.api.ExprFile:
    """One workload, read as an .expr file."""
    return symback.read_expr_file(path(name))


_UNARY = ["sin({})", "cos({})", "tanh({})", "atan({})", "exp(tanh({}))", "log(1 + ({})**2)",
          "sqrt(1 + ({})**2)", "sigmoid({})", "softplus({})", "({})**2", "({})**3",
          "-({})", "erf({})", "asinh({})", "cosh(tanh({}))"]
_BINARY = ["({}) + ({})", "({}) - ({})", "({}) * ({})", "({}) / (1.5 + ({})**2)",
           "hypot(({}), 1 + ({})**2)", "atan2({}, 2 + ({})**2)"]


def random_expression(rng: random.Random, names: list[str], size: int) -> str:
    """A random smooth expression over `names` with about `size` operations, built as text
    from the bottom up (no recursion): every function is applied where it is defined."""
    pool = list(names) + [repr(round(rng.uniform(-2, 2), 3)) for _ in range(2)]
    parts = [rng.choice(names) for _ in range(max(2, size // 2))]
    for _ in range(size):
        if rng.random() < 0.45 or len(parts) < 2:
            k = rng.randrange(len(parts))
            parts[k] = rng.choice(_UNARY).format(parts[k])
        else:
            a = parts.pop(rng.randrange(len(parts)))
            b = parts.pop(rng.randrange(len(parts)))
            parts.append(rng.choice(_BINARY).format(a, b))
        if rng.random() < 0.2:
            parts.append(rng.choice(pool))
    text = parts[0]
    for extra in parts[1:]:
        text = f"({text}) + ({extra})"
    return text
