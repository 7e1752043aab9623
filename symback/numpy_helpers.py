"""Helper functions the numpy backend writes into a generated module, only when it uses them.

Each helper is plain source text (a standalone function over `numpy`), printed verbatim after
the module's constants. `needed(lines)` says which helpers a module's code refers to.
"""

from __future__ import annotations

EXPAND = '''\
def _expand(value, shape):
    """`value` as a new float64 array of the inputs' broadcast shape (a numpy float for ())."""
    return numpy.broadcast_to(numpy.asarray(value, dtype=numpy.float64), shape).copy()[()]'''

MATRIX = '''\
def _matrix(rows, shape):
    """A float64 array of shape (len(rows), len(rows[0])) + shape; entries are broadcast."""
    out = numpy.empty((len(rows), len(rows[0]) if rows else 0) + shape)
    for i, row in enumerate(rows):
        for j, entry in enumerate(row):
            out[i, j] = entry
    return out'''

ERF = '''\
_erf_scalar = numpy.frompyfunc(math.erf, 1, 1)


def _erf(x):
    """The error function, elementwise (numpy has none): math.erf on each element."""
    return numpy.asarray(_erf_scalar(x), dtype=numpy.float64)[()]'''

ERFC = '''\
_erfc_scalar = numpy.frompyfunc(math.erfc, 1, 1)


def _erfc(x):
    """The complementary error function, elementwise: math.erfc on each element."""
    return numpy.asarray(_erfc_scalar(x), dtype=numpy.float64)[()]'''

# name -> (source, extra modules it imports), in the order they are printed.
HELPERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "_expand": (EXPAND, ()),
    "_matrix": (MATRIX, ()),
    "_erf": (ERF, ("math",)),
    "_erfc": (ERFC, ("math",)),
}


def needed(lines: list[str]) -> list[str]:
    """Names of the helpers called somewhere in `lines`, in `HELPERS` order."""
    return [name for name in HELPERS if any(f"{name}(" in line for line in lines)]
