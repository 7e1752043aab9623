"""Turning a generated module's source into a module object (for `Compiled.module` and for
the dask workers, which rebuild a module from the source their tasks carry)."""

from __future__ import annotations

import builtins
import linecache
import types


def load_module(source: str, name: str) -> types.ModuleType:
    """A generated module's source, compiled and run as module `name` (its tracebacks show
    the generated lines)."""
    filename = f"<symback:{name}>"
    code = builtins.compile(source, filename, "exec")
    module = types.ModuleType(name)
    module.__file__ = filename
    exec(code, module.__dict__)  # our generated source, never the user's text
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return module


__all__ = ["load_module"]
