"""Example modules for generated/ contributed by the numpy / Jacobian / Hessian work.

The regenerate command (owned by generated/'s maintainer) can import `ISSUE4_EXAMPLES` and,
for each entry, write `generated/<out>` from `symback.compile(<text>, **options)`; `workload`
names a file in benchmarks/workloads/ whose text (and `# vars:` order) is compiled.
"""

from __future__ import annotations

from typing import Any

ISSUE4_EXAMPLES: list[dict[str, Any]] = [
    # numpy backend: value and gradient on arrays of any broadcast shape.
    {"out": "rosenbrock_10_numpy.py", "workload": "rosenbrock_10", "name": "rosenbrock_10",
     "options": {"backend": "numpy"}},
    # Hessian and Hessian-vector product, python backend (nested tuples).
    {"out": "softmax_xent_10_hessian.py", "workload": "softmax_xent_10",
     "name": "softmax_xent_10", "options": {"hessian": True}},
    # Hessian on numpy: an array of shape (n, n) + the inputs' broadcast shape.
    {"out": "seed_hessian_numpy.py", "workload": "seed", "name": "seed",
     "options": {"backend": "numpy", "hessian": True}},
    # Several outputs: forward -> tuple, jacobian / value_and_jacobian (polar -> cartesian).
    {"out": "polar_jacobian.py", "text": "# vars: r theta\nx = r*cos(theta)\n"
     "y = r*sin(theta)\nx, y", "name": "polar", "options": {}},
]
