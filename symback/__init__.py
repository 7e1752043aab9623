"""symback: a symbolic reverse-mode differentiation compiler.

A math expression goes in; a standalone Python module comes out whose `forward`, `gradient`
and `value_and_grad` functions compute the value and the exact gradient, importing nothing
but `math`. See `symback.compile` and `symback.parse`.
"""

from ._version import __version__
from .api import Compiled, compile, parse, read_expr_file  # noqa: E402
from .errors import (ArgumentError, LimitError, MissingDependencyError,  # noqa: E402
                     ParseError, SymbackError, SymbackWarning)
from .explain import DomainError, explain  # noqa: E402
from .trace import Trace  # noqa: E402
from .dot import to_dot  # noqa: E402
from .sympy_out import to_sympy  # noqa: E402

__all__ = [
    "ArgumentError",
    "Compiled",
    "DomainError",
    "LimitError",
    "MissingDependencyError",
    "ParseError",
    "SymbackError",
    "SymbackWarning",
    "Trace",
    "__version__",
    "compile",
    "explain",
    "parse",
    "read_expr_file",
    "to_dot",
    "to_sympy",
]
