"""JAX (CPU, float64): jax.jit(jax.value_and_grad(f)) of a Python function made from the text."""

from __future__ import annotations

import os

import numpy as np

from benchmarks.peers.base import Built, NotInstalled, Peer
from benchmarks.pysource import FUNCTION_NAMES, make_function

#: jaxpr primitives that move or convert data rather than compute
STRUCTURAL = frozenset({
    "convert_element_type", "broadcast_in_dim", "reshape", "squeeze", "expand_dims",
    "copy", "copy_p", "device_put", "stop_gradient", "transpose",
})


def _import():
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as exc:
        raise NotInstalled(str(exc)) from None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def _namespace(jnp):
    return {name: getattr(jnp, name) for name in FUNCTION_NAMES if hasattr(jnp, name)}


def _sub_jaxprs(eqn):
    for value in eqn.params.values():
        for item in value if isinstance(value, (tuple, list)) else (value,):
            inner = getattr(item, "jaxpr", None)  # ClosedJaxpr -> Jaxpr
            if inner is not None and hasattr(inner, "eqns"):
                yield inner
            elif hasattr(item, "eqns"):
                yield item


def count_jaxpr(jaxpr) -> int:
    """Equations of a jaxpr, recursing into sub-jaxprs (jit, custom_jvp ...),
    not counting the call equations themselves nor STRUCTURAL primitives."""
    jaxpr = getattr(jaxpr, "jaxpr", jaxpr)
    n = 0
    for eqn in jaxpr.eqns:
        subs = list(_sub_jaxprs(eqn))
        if subs:
            n += sum(count_jaxpr(s) for s in subs)
        elif eqn.primitive.name not in STRUCTURAL:
            n += 1
    return n


class JaxPeer(Peer):
    name = "jax"
    uses_python_parser = True

    def info(self):
        jax, _ = _import()
        return {"version": jax.__version__, "backend": f"jit on {jax.devices()[0].platform}, x64"}

    def warmup(self):
        jax, jnp = _import()
        fn = jax.jit(jax.value_and_grad(lambda a, b: a * b + jnp.sin(a), argnums=(0, 1)))
        jax.block_until_ready(fn(1.0, 2.0))

    def build(self, wl):
        jax, jnp = _import()
        f = make_function(wl, _namespace(jnp))
        argnums = tuple(range(wl.n_inputs))
        fn = jax.jit(jax.value_and_grad(f, argnums=argnums))
        jax.block_until_ready(fn(*wl.point))  # tracing + XLA compilation happen on the first call
        return JaxBuilt(jax, jnp, f, argnums, fn, wl.point)


class JaxBuilt(Built):
    def __init__(self, jax, jnp, f, argnums, fn, point):
        self.jax, self.jnp, self.f, self.argnums, self.fn, self.point = jax, jnp, f, argnums, fn, point

    def value_and_grad(self, point):
        v, g = self.fn(*point)
        return float(v), [float(x) for x in g]

    def scalar_call(self, point):
        fn, args, ready = self.fn, tuple(point), self.jax.block_until_ready
        return lambda: ready(fn(*args))

    def op_counts(self):
        jax = self.jax
        vg = count_jaxpr(jax.make_jaxpr(jax.value_and_grad(self.f, argnums=self.argnums))(*self.point))
        fwd = count_jaxpr(jax.make_jaxpr(self.f)(*self.point))
        return {"value_and_grad": vg, "forward": fwd,
                "note": "jaxpr equations (recursing into sub-jaxprs, no convert/broadcast), before XLA"}

    def batch_call(self, arrays):
        jax, jnp = self.jax, self.jnp
        fn = jax.jit(jax.vmap(jax.value_and_grad(self.f, argnums=self.argnums)))
        arrays = list(arrays)
        return lambda: jax.block_until_ready(fn(*[jnp.asarray(a) for a in arrays]))

    def batch_result(self, out):
        v, g = out
        return np.asarray(v), [np.asarray(x) for x in g]


PEER = JaxPeer()
