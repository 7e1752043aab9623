"""The small interface every peer adapter implements.

A peer module defines ``PEER``, an instance of a ``Peer`` subclass:

* ``info()``      -> dict (version, backend ...); imports the tool, raises
                     ``NotInstalled`` if it is missing.
* ``warmup()``    builds and calls a tiny unrelated expression so that library
                     initialisation is not charged to the first workload.
* ``build(wl)``   -> ``Built``: text -> callable for value+gradient. This whole
                     call is the timed "build".
* ``close()``     removes temporary files, if any.

``Built`` provides:

* ``value_and_grad(point)`` -> (float, list[float]) for the error check;
* ``scalar_call(point)``    -> zero-argument callable doing one value+gradient
                               evaluation the way a user would (timed);
* ``op_counts()``           -> {"value_and_grad": int|None, "forward": int|None, "note": str};
* ``batch_call(arrays)``    -> zero-argument callable evaluating value+gradient on
                               n float64 arrays of shape (N,) (timed, incl. packing);
* ``batch_result(out)``     -> (values, [grad arrays]) from that call's output.
"""

from __future__ import annotations


class PeerError(Exception):
    status = "error"


class NotInstalled(PeerError):
    status = "not installed"


class NotAvailable(PeerError):
    status = "not available"


class ParseError(PeerError):
    status = "parse error"


class Unsupported(PeerError):
    """The peer has no implementation for this workload/metric (e.g. no hand-written code)."""

    status = "n/a"


class Peer:
    name = "?"
    #: False for peers that build nothing from the text (hand-written code)
    has_build = True
    #: True if the peer turns the text into Python code via CPython's parser
    uses_python_parser = False

    def info(self) -> dict:
        raise NotImplementedError

    def warmup(self) -> None:
        pass

    def build(self, workload) -> "Built":
        raise NotImplementedError

    def close(self) -> None:
        """Remove anything the peer left on disk (called once, at the end of the worker)."""


class Built:
    """A peer's compiled value+gradient. The defaults serve peers whose `fn(*point)` returns
    `(value, gradient)`; others override them."""

    fn = None

    def value_and_grad(self, point) -> tuple[float, list[float]]:
        if self.fn is None:
            raise NotImplementedError
        v, g = self.fn(*point)
        return float(v), [float(x) for x in g]

    def scalar_call(self, point):
        if self.fn is None:
            raise NotImplementedError
        fn, args = self.fn, tuple(point)
        return lambda: fn(*args)

    def op_counts(self) -> dict:
        raise Unsupported("no op count")

    def batch_call(self, arrays):
        raise Unsupported("no vectorised path")

    def batch_result(self, out):
        raise NotImplementedError
