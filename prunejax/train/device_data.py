"""A run's data on the device: each view's splits placed once (uint8 images, as the steps gather them),
the normalisation, and seeded batches for scoring."""

import jax
import jax.numpy as jnp
import numpy as np

from prunejax import data as data_lib
from prunejax.train import sharding

SPLITS = ('train', 'validation', 'test')


class DeviceData:
  """The views a run registered and their arrays, replicated over ``mesh``."""

  def __init__(self, splits: data_lib.Splits, mesh):
    self.mesh = mesh
    self.mean, self.std = jnp.asarray(splits.mean), jnp.asarray(splits.std)
    self.views: dict[str, data_lib.View] = {}
    self._arrays: dict[str, dict[str, tuple[jax.Array, jax.Array]]] = {}

  def add(self, view: data_lib.View) -> data_lib.View:
    """Registers ``view`` (its arrays go to the device once); returns the registered one of its name."""
    if view.name not in self.views:
      put = lambda split: jax.device_put((split.images, split.labels), sharding.replicated(self.mesh))
      self.views[view.name] = view
      self._arrays[view.name] = {s: put(getattr(view, s)) for s in SPLITS}
    return self.views[view.name]

  def split(self, view: data_lib.View, split: str = 'train') -> tuple[jax.Array, jax.Array]:
    """(images, labels) of a registered view's split on the device."""
    return self._arrays[self.add(view).name][split]

  def batches(self, view: data_lib.View, num_examples: int, batch_size: int, seed: int = 0,
              split: str = 'train') -> list[tuple[jax.Array, jax.Array]]:
    """``num_examples`` normalised (x, y) batches of a view's split, in a seeded random order."""
    images, labels = self.split(view, split)
    order = np.random.default_rng(seed).permutation(len(labels))[:num_examples]
    return [data_lib.gather_batch(images, labels, jnp.asarray(order[i:i + batch_size]), self.mean, self.std)
            for i in range(0, len(order), batch_size)]
