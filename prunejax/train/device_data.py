"""A run's data for the steps: each view's splits, the normalisation, and seeded batches for scoring.

``device`` pipeline: every split is placed on the device once (uint8 images), and a step gathers its
batch there from indices. ``streaming``: the splits stay in host memory and each batch is gathered on the
host and sent — each process building only its own devices' rows of the global batch — for data larger
than the device memory. The batches are the same (the run's cursor draws the indices either way) and the
step normalises and augments the same uint8 values on the device, so both pipelines give the same run.
"""

import jax
import jax.numpy as jnp
import numpy as np

from prunejax import data as data_lib
from prunejax.errors import PrunejaxError
from prunejax.train import sharding

SPLITS = ('train', 'validation', 'test')
PIPELINES = ('device', 'streaming')


class DeviceData:
  """The views a run registered and their arrays: replicated over ``mesh`` (device), or on the host
  (streaming)."""

  def __init__(self, splits: data_lib.Splits, mesh, pipeline: str = 'device'):
    if pipeline not in PIPELINES:
      raise PrunejaxError(f'config.input_pipeline={pipeline!r} must be one of {PIPELINES}.')
    self.mesh, self.streaming = mesh, pipeline == 'streaming'
    self.mean, self.std = jnp.asarray(splits.mean), jnp.asarray(splits.std)
    self.views: dict[str, data_lib.View] = {}
    self._arrays: dict[str, dict[str, tuple]] = {}

  def add(self, view: data_lib.View) -> data_lib.View:
    """Registers ``view`` (device pipeline: its arrays go to the device once); returns the registered one
    of its name."""
    if view.name not in self.views:
      if self.streaming:
        put = lambda split: (split.images, split.labels)
      else:
        put = lambda split: sharding.replicate((split.images, split.labels), self.mesh)
      self.views[view.name] = view
      self._arrays[view.name] = {s: put(getattr(view, s)) for s in SPLITS}
    return self.views[view.name]

  def split(self, view: data_lib.View, split: str = 'train') -> tuple:
    """(images, labels) of a registered view's split: device arrays, or host arrays when streaming."""
    return self._arrays[self.add(view).name][split]

  def batch(self, view: data_lib.View, split: str, indices: np.ndarray) -> tuple[jax.Array, jax.Array]:
    """The uint8 images and labels of ``indices`` (the global batch) sharded over the mesh's batch axis,
    each process gathering only the rows its devices hold (streaming)."""
    images, labels = self.split(view, split)
    target = sharding.batch_sharded(self.mesh)
    rows = lambda array: jax.make_array_from_callback(
        (len(indices),) + array.shape[1:], target, lambda where: array[indices[where[0]]])
    return rows(images), rows(labels)

  def batches(self, view: data_lib.View, num_examples: int, batch_size: int, seed: int = 0,
              split: str = 'train') -> list[tuple[jax.Array, jax.Array]]:
    """``num_examples`` normalised (x, y) batches of a view's split, in a seeded random order."""
    images, labels = self.split(view, split)
    order = np.random.default_rng(seed).permutation(len(labels))[:num_examples]
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    if self.streaming:
      return [data_lib.gather_batch(jnp.asarray(images[c]), jnp.asarray(labels[c]), None, self.mean, self.std)
              for c in chunks]
    return [data_lib.gather_batch(images, labels, jnp.asarray(c), self.mean, self.std) for c in chunks]
