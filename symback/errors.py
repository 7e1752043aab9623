"""The exceptions symback raises, and how they show the offending text.

Every error a user can cause is a `SymbackError`. Errors in the expression text carry a
1-based line and column and render as the message, the source line and a caret under the
offending token:

    expected ')' to close '(' at 1:4
      sin(x
         ^
"""

from __future__ import annotations

import sys
import unicodedata
import warnings

# Long source lines (a 1 MB one-line expression) are shown as a window around the caret.
_WINDOW = 72


def _shown(ch: str) -> tuple[str, int]:
    """How one source character is displayed, and how many terminal columns it takes.

    Control and format characters (escape sequences, carriage returns, line separators,
    bidirectional overrides) are shown as `\\xNN`/`\\uNNNN` so that a hostile expression
    cannot move the cursor or split the error into more lines; wide characters count 2.
    """
    if ch == "\t" or " " <= ch <= "~":
        return ch, 1
    category = unicodedata.category(ch)
    if category[0] in "CZ" and category != "Zs" or ch == "\ufeff":
        text = f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}"
        if ord(ch) > 0xFFFF:
            text = f"\\U{ord(ch):08x}"
        return text, len(text)
    if unicodedata.combining(ch):
        return ch, 0
    return ch, 2 if unicodedata.east_asian_width(ch) in "WF" else 1


class _Located:
    """A message about a place in the expression text (errors and warnings alike).

    Attributes:
        message: what went wrong, one line, without the position.
        line, column: 1-based position in the expression text, or None when the message is
            not about a place in the text (a bad `wrt` argument, an unwritable file).
        source_line: the text of that line, for the caret display.
        width: how many characters the caret underlines.
    """

    def _locate(self, message: str, line: int | None, column: int | None,
                source_line: str | None, width: int) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line
        self.width = max(1, width)

    @property
    def headline(self) -> str:
        """The one-line form: message and position."""
        if self.line is None:
            return self.message
        return f"{self.message} at {self.line}:{self.column}"

    def caret(self) -> str:
        """The source line and a caret line under the offending text ('' if unknown)."""
        if self.source_line is None or self.column is None:
            return ""
        text, col = self.source_line, self.column - 1
        start = 0
        if len(text) > 2 * _WINDOW:  # show a window, marked with '...' where cut
            start = max(0, col - _WINDOW // 2)
            end = min(len(text), start + _WINDOW)
            shown = ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
            col = col - start + (3 if start else 0)
            text = shown
        shown, pad, width = [], [], 0
        for k, ch in enumerate(text):
            piece, cols = _shown(ch)
            shown.append(piece)
            if k < col:
                pad.append("\t" if ch == "\t" else " " * cols)
            elif k < col + self.width:
                width += max(1, cols)
        return f"  {''.join(shown)}\n  {''.join(pad)}{'^' * max(1, width)}"


class SymbackError(_Located, Exception):
    """Base class of every error symback reports to a user (attributes: see `_Located`)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source_line: str | None = None, width: int = 1) -> None:
        self._locate(message, line, column, source_line, width)
        super().__init__(self.__str__())

    def __str__(self) -> str:
        caret = self.caret()
        return self.headline + ("\n" + caret if caret else "")


class ParseError(SymbackError):
    """The expression text is not valid symback input (syntax, names, arity, ...)."""


class LimitError(SymbackError):
    """The input exceeds a size limit (characters or graph nodes); the limits can be lifted."""


class ArgumentError(SymbackError):
    """A bad argument to the library or command line that is not about the expression text."""


class CallError(ArgumentError, TypeError):
    """A compiled function called with arguments its backend cannot take (an array on the
    python backend). A TypeError too, as the call's own error would have been."""


class MissingFunctionError(ArgumentError, AttributeError):
    """The compiled module has no such function (`hessian` without `hessian=True`). An
    AttributeError too, so `hasattr(f, "hessian")` answers False."""


class MissingDependencyError(SymbackError, ImportError):
    """An optional dependency is not installed; the message says which extra brings it."""


class SymbackWarning(_Located, UserWarning):
    """Valid input that is probably not what the user meant: a free name that looks like a
    typo of a bound name or a function, a `wrt` name that does not occur. Its text is the
    one-line `headline`; `caret()` shows the place, as on errors."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source_line: str | None = None, width: int = 1) -> None:
        self._locate(message, line, column, source_line, width)
        super().__init__(self.headline)


def warn(warning: Warning) -> None:
    """`warnings.warn`, attributed to the first caller outside symback (the user's line)."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "symback":
        level, frame = level + 1, frame.f_back
    warnings.warn(warning, stacklevel=level)
