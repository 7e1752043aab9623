"""Regenerate the example modules in generated/ (run from anywhere):

    python generated/regenerate.py          # rewrite every module that changed
    python generated/regenerate.py --check  # exit 1 if any module differs from a fresh compile

Each example is compiled from a shared workload (benchmarks/workloads/<name>.expr, in its
`# vars:` order) or from inline text. tests/test_generated.py checks that the committed files
are byte-identical to a fresh compile and that they compute correct values.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKLOADS = ROOT / "benchmarks" / "workloads"

TUTORIAL = """\
# The computation graph of a backprop tutorial, one named node per line.
# vars: x y z
# point: 1 3 3
p = x + y
q = p * z
r = q**2
"""

# out: the file written in generated/; workload or text: the source; options: compile() keywords.
EXAMPLES: list[dict[str, Any]] = [
    {"out": "tutorial.py", "text": TUTORIAL, "name": "tutorial", "options": {}},
    {"out": "seed.py", "workload": "seed", "options": {}},
    {"out": "rosenbrock_10.py", "workload": "rosenbrock_10", "options": {}},
    {"out": "softmax_xent_10.py", "workload": "softmax_xent_10", "options": {}},
    {"out": "mlp_small.py", "workload": "mlp_small", "options": {}},
    # numpy backend: value and gradient on arrays of any broadcast shape.
    {"out": "rosenbrock_10_numpy.py", "workload": "rosenbrock_10",
     "options": {"backend": "numpy"}},
    # Hessian and Hessian-vector product, python backend (nested tuples).
    {"out": "softmax_xent_10_hessian.py", "workload": "softmax_xent_10",
     "options": {"hessian": True}},
    # Hessian on numpy: an array of shape (the inputs' broadcast shape) + (n, n).
    {"out": "seed_hessian_numpy.py", "workload": "seed",
     "options": {"backend": "numpy", "hessian": True}},
    # Several outputs: forward -> tuple, jacobian / value_and_jacobian (polar -> cartesian).
    {"out": "polar_jacobian.py", "name": "polar",
     "text": "# vars: r theta\n# point: 2 0.5\nx = r*cos(theta)\ny = r*sin(theta)\nx, y",
     "options": {}},
]


def source_text(example: dict[str, Any]) -> tuple[str, str]:
    """(expression text, module name) of an example."""
    if "workload" in example:
        name = example["workload"]
        return (WORKLOADS / f"{name}.expr").read_text(encoding="utf-8"), name
    return example["text"], example["name"]


def build(example: dict[str, Any]) -> str:
    """The module source of an example, compiled now."""
    import symback

    text, name = source_text(example)
    return symback.compile(text, name=name, **example["options"]).source


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    from symback.api import write_atomic

    check = "--check" in argv
    stale = []
    for example in EXAMPLES:
        path = HERE / example["out"]
        fresh = build(example)
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == fresh:
            continue
        stale.append(path.name)
        if not check:
            write_atomic(path, fresh)
            print(f"wrote generated/{path.name}")
    if check and stale:
        print("out of date: " + ", ".join(stale) + " (run: python generated/regenerate.py)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
