"""Turning a generated module's source into a module object (for `Compiled.module` and for
the dask workers, which rebuild a module from the source their tasks carry), whole or one
function at a time (`LazyModule`, for `Compiled`: CPython's compile() of a 1,000-input module
is about half of its build time, and most callers use one or two of its functions)."""

from __future__ import annotations

import builtins
import linecache
import types

# A top-level function starts a line after two blank ones (the templates' layout); the
# expression text in the module docstring is indented, so it never matches.
_DEF = "\n\n\ndef "


def _new_module(source: str, name: str) -> types.ModuleType:
    filename = f"<symback:{name}>"
    module = types.ModuleType(name)
    module.__file__ = filename
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return module


def load_module(source: str, name: str) -> types.ModuleType:
    """A generated module's source, compiled and run as module `name` (its tracebacks show
    the generated lines)."""
    module = _new_module(source, name)
    code = builtins.compile(source, module.__file__, "exec")
    exec(code, module.__dict__)  # our generated source, never the user's text
    return module


class LazyModule:
    """A generated module whose header (imports, constants, `__all__`) runs at once and
    whose functions are compiled into the same namespace on first use.

    Only for modules whose functions are independent of each other (the python backend
    without array inputs): a function's text runs from its `def` to the next one.
    Line numbers are those of the whole source (its text is compiled after as many
    newlines as lines precede it), so tracebacks show the right generated lines.
    """

    def __init__(self, source: str, name: str) -> None:
        self.source = source
        self.module = _new_module(source, name)
        end = source.find(_DEF)
        header = source if end < 0 else source[:end + 1]
        exec(builtins.compile(header, self.module.__file__, "exec"), self.module.__dict__)

    def function(self, name: str) -> object | None:
        """The module's function `name`, compiled now if not yet; None if it has none."""
        namespace = self.module.__dict__
        if name not in namespace:
            start = self.source.find(f"{_DEF}{name}(")
            if start < 0:
                return None
            start += 3                                  # the def line itself
            end = self.source.find(_DEF, start)
            text = self.source[start:] if end < 0 else self.source[start:end + 1]
            padded = "\n" * self.source.count("\n", 0, start) + text
            exec(builtins.compile(padded, self.module.__file__, "exec"), namespace)
        return namespace.get(name)


__all__ = ["LazyModule", "load_module"]
