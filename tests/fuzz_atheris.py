"""Coverage-guided fuzzing of symback.compile with atheris (optional, for long runs).

    pip install atheris
    PYTHONPATH=. python tests/fuzz_atheris.py -max_len=200 -runs=1000000 [corpus_dir]

The contract is the one tests/test_fuzz.py checks: a SymbackError with a position, or a
module that imports and whose value_and_grad runs (raising only math's exceptions). Any other
exception is a crash that atheris reports with the input that caused it. Not collected by
pytest (the file name does not start with test_).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    import symback

MATH_ERRORS = (ValueError, ZeroDivisionError, OverflowError)


def one_input(data: bytes) -> None:
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
    try:
        compiled = symback.compile(text, max_chars=10_000, max_nodes=100_000)
    except symback.SymbackError as exc:
        if exc.line is None or exc.column is None or str(exc).count("\n") != 2:
            raise AssertionError(f"error without position or caret: {exc!r}") from None
        return
    module = compiled.module
    fn = getattr(module, "value_and_grad", None) or module.value_and_jacobian
    try:
        fn(*[0.5 + 0.25 * k for k in range(len(compiled.inputs))])
    except MATH_ERRORS:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
