"""Running recursive third-party code (sympy, tangent, CPython's ast) on deeply nested
expressions: in a thread with a big stack and a high recursion limit."""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable


def run_deep(fn: Callable[[], Any], recursion_limit: int = 200_000) -> Any:
    """fn() in a thread with a 512 MiB stack and a high recursion limit; its exception, if
    any, is re-raised here. For analysis (op counting, the oracle), not for timed paths."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the calling thread
            box["error"] = exc

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(recursion_limit)
    threading.stack_size(1 << 29)
    try:
        t = threading.Thread(target=target)
        t.start()
        t.join()
    finally:
        sys.setrecursionlimit(old)
        threading.stack_size(0)
    if "error" in box:
        raise box["error"]
    return box["value"]
