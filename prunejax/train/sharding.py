"""Data parallelism with jax.sharding: a 1-D mesh over all devices, batch sharded, the rest replicated."""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from prunejax.errors import PrunejaxError

DATA_AXIS = 'data'


def data_mesh(num_devices: int = 0) -> Mesh:
  """A mesh over the first ``num_devices`` devices (all when 0) with one axis, ``data``."""
  devices = jax.devices()
  if num_devices > len(devices):
    raise PrunejaxError(f'num_devices={num_devices} but only {len(devices)} devices are visible.')
  return Mesh(np.asarray(devices[:num_devices or len(devices)]), (DATA_AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def replicate(tree, mesh: Mesh):
  """``tree`` replicated over ``mesh``. Across processes, a leaf not yet on the mesh goes through host
  memory (every process holds the same value): ``device_put`` of one process's single-device array onto
  a multi-process sharding builds an array Orbax cannot save."""
  target = replicated(mesh)
  if jax.process_count() > 1:
    tree = jax.tree.map(lambda x: x if getattr(x, 'sharding', None) == target else np.asarray(x), tree)
  return jax.device_put(tree, target)


def batch_sharded(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def check_batch_divisible(batch_size: int, mesh: Mesh, what: str = 'config.batch_size') -> None:
  if batch_size % mesh.size:
    raise PrunejaxError(f'{what}={batch_size} is not divisible by the {mesh.size} devices; use a '
                        f'multiple of {mesh.size}.')
