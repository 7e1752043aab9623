"""Stage progress of a long compile, shown by the command line on a terminal.

`compile` announces its stages (`stage("differentiating")`); nothing listens unless the
command line runs a `Reporter`, which says nothing for the first DELAY seconds (most
compiles finish by then) and afterwards prints one line per stage to stderr:

    symback: differentiating... (2.0 s)
    symback: scheduling... (5.3 s)
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, TextIO

DELAY = 2.0                 # seconds of silence before the first line
_listeners: list[Callable[[str], None]] = []


def stage(name: str) -> None:
    """Announce that compiling has reached stage `name` (free when nobody listens)."""
    for listener in list(_listeners):
        listener(name)


class Reporter:
    """While active (`with Reporter(sys.stderr):`), print the stages of compiles that take
    longer than DELAY seconds."""

    def __init__(self, stream: TextIO, delay: float | None = None) -> None:
        self.stream = stream
        self.delay = DELAY if delay is None else delay
        self.current: str | None = None
        self.shown: str | None = None
        self.start = time.monotonic()
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _heard(self, name: str) -> None:
        with self.lock:
            self.current = name
        if time.monotonic() - self.start >= self.delay:
            self._show()

    def _show(self) -> None:
        with self.lock:
            if self.current is None or self.current == self.shown:
                return
            self.shown = self.current
            elapsed = time.monotonic() - self.start
            print(f"symback: {self.current}... ({elapsed:.1f} s)", file=self.stream,
                  flush=True)

    def _watch(self) -> None:
        if not self.done.wait(self.delay):
            self._show()

    def __enter__(self) -> Reporter:
        _listeners.append(self._heard)
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        _listeners.remove(self._heard)
        self.done.set()
        self.thread.join()


__all__ = ["DELAY", "Reporter", "stage"]
