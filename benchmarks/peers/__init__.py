"""Peer adapters, one module each. ``PEER_NAMES`` is the display order."""

from __future__ import annotations

import importlib

#: peer name -> module under benchmarks.peers (absolute imports inside them
#: still reach the real tool, e.g. ``import sympy``)
PEER_MODULES = {
    "symback": "symback",
    "symback_numba": "symback_numba",
    "handwritten": "handwritten",
    "sympy": "sympy",
    "symengine": "symengine",
    "casadi": "casadi",
    "jax": "jax",
    "torch": "torch",
    "tangent": "tangent",
}
PEER_NAMES = tuple(PEER_MODULES)


def get_peer(name: str):
    """Import the adapter module (not the tool itself) and return its PEER."""
    module = importlib.import_module(f"benchmarks.peers.{PEER_MODULES[name]}")
    return module.PEER
