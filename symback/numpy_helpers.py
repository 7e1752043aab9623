"""Helper functions the numpy backend writes into a generated module, only when it uses them.

Each helper is plain source text (a standalone function over `numpy`), printed verbatim after
the module's constants. The numpy printer records the helpers it prints calls to;
`closure` adds the helpers those call.
"""

from __future__ import annotations

EXPAND = '''\
def _expand(value, shape):
    """`value` as a new float64 array of the inputs' broadcast shape (a numpy float for ())."""
    return numpy.broadcast_to(numpy.asarray(value, dtype=numpy.float64), shape).copy()[()]'''

MATRIX = '''\
def _matrix(rows, shape):
    """A new float64 array of shape shape + (len(rows), len(rows[0])): the batch axes
    first, as in NumPy and JAX; each entry is broadcast to shape."""
    out = numpy.empty(shape + (len(rows), len(rows[0]) if rows else 0))
    for i, row in enumerate(rows):
        for j, entry in enumerate(row):
            out[..., i, j] = entry
    return out'''

CHUNKED = '''\
# Above 2 * _CHUNK points a function runs its statements on _CHUNK points at a time, so
# that its intermediates stay in the cache instead of each one streaming through memory.
_CHUNK = 16384


def _large(*inputs):
    """Whether the inputs' broadcast shape has more than 2 * _CHUNK points."""
    if len(inputs) <= 32:                    # numpy.broadcast takes at most 32 (numpy 1.x)
        return numpy.broadcast(*inputs).size > 2 * _CHUNK
    points = 1
    for n in numpy.broadcast_shapes(*[a.shape for a in inputs]):
        points *= n
    return points > 2 * _CHUNK


def _chunked(block, inputs, n):
    """The n results of block(*inputs) in a new (n,) + shape float64 array (shape: the
    inputs' broadcast shape), computed _CHUNK points at a time on the broadcast inputs,
    flattened."""
    shape = numpy.broadcast_shapes(*[a.shape for a in inputs])
    flat = [numpy.broadcast_to(a, shape).reshape(-1) for a in inputs]
    out = numpy.empty((n,) + shape)
    rows = out.reshape(n, -1)
    for start in range(0, rows.shape[1], _CHUNK):
        part = slice(start, start + _CHUNK)
        for row, value in zip(rows, block(*[a[part] for a in flat])):
            row[part] = value
    return out'''

ERFC_POS = '''\
_ERF_SMALL = (
    1.1283791670955126, -0.37612638903183754, 0.11283791670955126, -0.026866170645131252,
    0.005223977625442188, -0.0008548327023450853, 0.00012055332981789664,
    -1.492565035840625e-05, 1.6462114365889248e-06, -1.6365844691234924e-07,
    1.4807192815879218e-08, -1.2290555301717928e-09, 9.422759064650411e-11,
    -6.7113668551641105e-12,
)
_ERFCX = (
    0.6849972881253069, -0.19934458280036707, 0.11704966551044246, -0.048080381221308845,
    0.0039620556812906115, 0.015312509679331563, -0.01751565464649566, 0.012161784752608087,
    -0.006068735220798199, 0.0021164215866664626, -0.0003897674724707975,
    -6.013678306961971e-05, 6.403264809324915e-05, -1.3151116244522714e-05,
    -4.138145184777738e-06, 2.650296943452259e-06, 3.4882063465967415e-09,
    -3.6442052192452134e-07, 5.205497068187859e-08, 4.748686089105744e-08,
    -1.2083957792022545e-08, -6.514002619066712e-09, 2.0948382789784013e-09,
    9.390662763950045e-10, -2.8232456355362763e-10, -1.216202846652982e-10,
    2.1961357419377335e-11, 9.536298440686026e-12,
)


def _erfc_pos(a):
    """erfc(a) for a >= 0 (nan stays nan), to about 1e-15 relative.

    exp(a*a) * erfc(a) * (a + 1) is a polynomial in y = (a - 4) / (a + 4) (a Chebyshev fit
    over a in [0, inf), y in [-1, 1]); exp(-a*a) is taken as exp(-h*h) * exp(-(a - h)(a + h))
    with h = a rounded to float32, so that h*h is exact and no digits are lost for large a.
    """
    a = numpy.minimum(a, 30.0)
    y = (a - 4.0) / (a + 4.0)
    p = numpy.full_like(a, _ERFCX[-1])
    for c in _ERFCX[-2::-1]:
        p = p * y + c
    h = a.astype(numpy.float32).astype(numpy.float64)
    return numpy.exp(-h * h) * numpy.exp(-(a - h) * (a + h)) * p / (a + 1.0)'''

ERF = '''\
def _erf(x):
    """The error function, elementwise (numpy has none), to about 1e-15 relative."""
    x = numpy.asarray(x, dtype=numpy.float64)
    t = x * x
    p = numpy.full_like(x, _ERF_SMALL[-1])
    for c in _ERF_SMALL[-2::-1]:                  # Taylor series, |x| < 0.5
        p = p * t + c
    big = numpy.sign(x) * (1.0 - _erfc_pos(numpy.abs(x)))
    return numpy.where(numpy.abs(x) < 0.5, x * p, big)[()]'''

ERFC = '''\
def _erfc(x):
    """The complementary error function, elementwise, to about 1e-15 relative."""
    x = numpy.asarray(x, dtype=numpy.float64)
    r = _erfc_pos(numpy.abs(x))
    return numpy.where(x < 0.0, 2.0 - r, r)[()]'''

SIGMOID = '''\
def _sigmoid(x):
    """The logistic function, elementwise: 1 / (1 + exp(-x)), without overflow, and the same
    float operations as the python backend (exp(-|x|) is exp(x) for x < 0)."""
    x = numpy.asarray(x, dtype=numpy.float64)
    e = numpy.exp(-numpy.abs(x))
    return (numpy.where(x >= 0.0, 1.0, e) / (1.0 + e))[()]'''

SPREAD = '''\
def _spread(value, m):
    """A loop body's value that is the same for every iteration (shape S + (1,), or a
    number) over its m iterations: shape S + (m,)."""
    shape = numpy.shape(value)
    return numpy.broadcast_to(value, shape[:len(shape) - 1] + (m,))'''

SCATTER_ADD = '''\
def _scatter_add(target, index, values, m):
    """target[..., index] += values for the m iterations of a loop, adding every repeated
    index (numpy.bincount without batch axes, numpy.add.at with them)."""
    index = tuple(numpy.broadcast_to(i, (m,)) for i in index)
    if target.ndim == len(index):
        flat = numpy.ravel_multi_index(index, target.shape)
        weights = numpy.broadcast_to(values, (m,))
        target += numpy.bincount(flat, weights, target.size).reshape(target.shape)
    else:
        values = numpy.broadcast_to(values, target.shape[:target.ndim - len(index)] + (m,))
        numpy.add.at(target, (Ellipsis,) + index, values)'''

# name -> (source, extra modules it imports, helpers it calls), in the order they are printed.
HELPERS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "_expand": (EXPAND, (), ()),
    "_matrix": (MATRIX, (), ()),
    "_chunked": (CHUNKED, (), ()),
    "_erfc_pos": (ERFC_POS, (), ()),
    "_erf": (ERF, (), ("_erfc_pos",)),
    "_erfc": (ERFC, (), ("_erfc_pos",)),
    "_sigmoid": (SIGMOID, (), ()),
    "_spread": (SPREAD, (), ()),
    "_scatter_add": (SCATTER_ADD, (), ()),
}


def closure(names: set[str] | list[str]) -> list[str]:
    """The helpers `names` and the helpers they call, in `HELPERS` order (the order they
    are printed in)."""
    used = set(names)
    for name in list(HELPERS):
        if name in used:
            used.update(HELPERS[name][2])
    return [name for name in HELPERS if name in used]
