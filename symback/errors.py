"""The exceptions symback raises, and how they show the offending text.

Every error a user can cause is a `SymbackError`. Errors in the expression text carry a
1-based line and column and render as the message, the source line and a caret under the
offending token:

    expected ')' to close '(' at 1:4
      sin(x
         ^
"""

from __future__ import annotations

# Long source lines (a 1 MB one-line expression) are shown as a window around the caret.
_WINDOW = 72


class SymbackError(Exception):
    """Base class of every error symback reports to a user.

    Attributes:
        message: what went wrong, one line, without the position.
        line, column: 1-based position in the expression text, or None when the error is
            not about a place in the text (a bad `wrt` argument, an unwritable file).
        source_line: the text of that line, for the caret display.
        width: how many characters the caret underlines.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None,
                 source_line: str | None = None, width: int = 1) -> None:
        self.message = message
        self.line = line
        self.column = column
        self.source_line = source_line
        self.width = max(1, width)
        super().__init__(self.__str__())

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
        pad = "".join(ch if ch == "\t" else " " for ch in text[:col])
        width = min(self.width, max(1, len(text) - col))
        return f"  {text}\n  {pad}{'^' * width}"

    def __str__(self) -> str:
        caret = self.caret()
        return self.headline + ("\n" + caret if caret else "")


class ParseError(SymbackError):
    """The expression text is not valid symback input (syntax, names, arity, ...)."""


class LimitError(SymbackError):
    """The input exceeds a size limit (characters or graph nodes); the limits can be lifted."""


class ArgumentError(SymbackError):
    """A bad argument to the library or command line that is not about the expression text."""
