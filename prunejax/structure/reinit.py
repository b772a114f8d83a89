"""Re-initialisation at a shrunk shape: a kernel sliced from a freshly initialised wider one has the
right distribution but the wrong scale, since fan-in-scaled initialisers (He, LeCun: every registry
model's) draw with variance ∝ 1/fan_in. Rescaling by sqrt(old fan-in / new fan-in) gives exactly the
initialiser's distribution at the new shape — a network of that shape trained "from scratch"."""

import jax
import jax.numpy as jnp
import numpy as np

from prunejax.core.paths import leaf_paths


def fan_in(shape) -> int:
  """Inputs per output unit of a Dense (in, out) or Conv (..., in / groups, out) kernel."""
  return int(np.prod(shape[:-1]))


def rescale_fan_in(wide_params, narrow_params, include: str = 'kernel'):
  """``narrow_params`` (sliced from ``wide_params``) with every kernel whose fan-in shrank rescaled to its
  initialiser's variance at the new fan-in. Leaves whose path does not end with ``include`` pass."""
  wide = dict(zip(jax.tree.leaves(leaf_paths(wide_params)), jax.tree.leaves(wide_params)))

  def rescale(path, leaf):
    old = wide.get(path)
    if old is None or not path.endswith(include) or leaf.ndim < 2 or fan_in(old.shape) == fan_in(leaf.shape):
      return leaf
    return leaf * jnp.sqrt(fan_in(old.shape) / fan_in(leaf.shape)).astype(leaf.dtype)

  return jax.tree.map(rescale, leaf_paths(narrow_params), narrow_params)
