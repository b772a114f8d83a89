"""StableHLO through ``jax.export``: a serialised, versioned module that runs without the model's Python
code (``jax.export.deserialize(blob).call(x)``), with a fixed or symbolic batch dimension."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def to_stablehlo(fn: Callable[[jax.Array], jax.Array], input_shape: tuple[int, ...], batch: int | None) -> bytes:
  """Serialises ``fn(x) -> logits``; ``batch=None`` exports a symbolic (any-size) batch."""
  leading = jax.export.symbolic_shape('b')[0] if batch is None else batch
  exported = jax.export.export(jax.jit(fn))(jax.ShapeDtypeStruct((leading,) + tuple(input_shape), jnp.float32))
  return bytes(exported.serialize())


class StableHloRunner:
  """Runs a serialised module (XLA on the current backend)."""

  def __init__(self, blob: bytes):
    exported = jax.export.deserialize(bytearray(blob))
    self._call = jax.jit(exported.call)

  def __call__(self, x: np.ndarray) -> np.ndarray:
    return np.asarray(self._call(jnp.asarray(x, jnp.float32)))
