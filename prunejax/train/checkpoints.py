"""Orbax checkpoints of the whole ``TrainState`` plus a JSON record of the run and its architecture.

Layout: ``DIR/checkpoints/<step>/{state,meta}``. ``meta`` holds the config fingerprint that must match
to resume, the parameter shapes, and bookkeeping such as the training seconds spent so far. A shrunk
network is saved with its kept channels in ``meta`` (any JSON the caller adds); to restore it, read
``latest_meta()``, shrink the registry model the same way, and restore into that model's shapes.
"""

import json
import pathlib
from typing import Any

import jax
import orbax.checkpoint as ocp
from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError


def param_shapes(params) -> dict[str, list[int]]:
  """'/'-joined parameter path -> shape, the architecture as a checkpoint records it."""
  return dict(zip(jax.tree.leaves(leaf_paths(params)), (list(x.shape) for x in jax.tree.leaves(params))))


class Checkpointer:
  """Saves every ``every_steps`` steps (and on demand), keeps the newest few, restores the latest."""

  def __init__(self, directory: str | pathlib.Path, every_steps: int, max_to_keep: int = 2):
    self.directory = pathlib.Path(directory).absolute()
    self.every_steps = every_steps
    self._last_saved = None
    self._manager = ocp.CheckpointManager(
        self.directory, item_names=('state', 'meta'),
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                             cleanup_tmp_directories=True))

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def latest_meta(self) -> dict | None:
    """The JSON record of the latest checkpoint (e.g. a shrunk model's kept channels), or None."""
    step = self._manager.latest_step()
    if step is None:
      return None
    return self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta

  def restore(self, abstract_state, fingerprint: dict[str, Any]) -> tuple[Any, dict] | None:
    """The latest (state, meta), or None when there is no checkpoint; raises if it is another run's."""
    step = self._manager.latest_step()
    if step is None:
      return None
    self._last_saved = step
    meta = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta
    self._check_compatible(meta, fingerprint, param_shapes(abstract_state.params), step)
    restored = self._manager.restore(
        step, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state)))
    return restored.state, meta

  def _check_compatible(self, meta, fingerprint, shapes, step):
    saved = meta.get('fingerprint', {})
    # JSON turns tuples into lists; compare in the JSON form.
    current = json.loads(json.dumps(fingerprint))
    for key in sorted(set(saved) | set(current)):
      if saved.get(key) != current.get(key):
        raise PrunejaxError(
            f'checkpoint {self.directory}/{step} was written with {key}={saved.get(key)!r}, but this run '
            f'has {key}={current.get(key)!r}; use a new --workdir or the checkpoint\'s config.')
    saved_shapes = meta.get('param_shapes', {})
    if saved_shapes != shapes:
      diff = next((k for k in sorted(set(saved_shapes) | set(shapes))
                   if saved_shapes.get(k) != shapes.get(k)), '?')
      raise PrunejaxError(
          f'checkpoint {self.directory}/{step} holds a different architecture ({diff}: saved '
          f'{saved_shapes.get(diff)}, model has {shapes.get(diff)}); use a new --workdir.')

  def save(self, step: int, state, meta: dict[str, Any], force: bool = False) -> bool:
    """Saves when ``step`` is on the interval or ``force``; returns whether it saved."""
    if (not force and step % self.every_steps) or step == self._last_saved:
      return False
    self._last_saved = step
    meta = dict(meta, param_shapes=param_shapes(state.params))
    return self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(json.loads(json.dumps(meta)))),
        force=True)

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
