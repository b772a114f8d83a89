"""Orbax checkpoints of the whole ``TrainState`` plus a JSON record of the run and its architecture.

Layout: ``DIR/checkpoints/<n>/{state,meta}``, ``n`` counting saves (a run may save twice at one training
step: before and after a shrink), the training step inside ``meta``. ``meta`` also holds the config
fingerprint that must match to resume, the parameter shapes, and whatever the runner adds (kept channels,
phase, data cursor...): to restore a shrunk network, take a verified record (``latest_intact()`` for a run
resuming itself, ``train.finished_checkpoint`` for a reader of a finished run), rebuild its shapes, then
``restore`` into them. Every array's CRC-32 is saved with it and checked on every read.
"""

import contextlib
import hashlib
import json
import logging
import os
import pathlib
import signal
import sys
import threading
import traceback
import zlib
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils

from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError, StorageError
from prunejax.train import distributed

# Orbax warns on every restore that a step has no _CHECKPOINT_METADATA (its CheckpointManager writes the
# items' metadata, not that file), and thrice whenever a reader opens checkpoints read-only: nothing to act
# on, and it buried the lines that matter in logs.
_NOT_ACTIONABLE = ('Metadata file does not exist', 'CheckpointManagerOptions.read_only=True',
                   'Given directory is read only')
# A failed write (full disk, read-only directory) is logged by each of Orbax's threads with its traceback
# (hundreds of lines) and then raised to us, where it becomes one line naming the cause: the logs go.
_WRITE_FAILURES = ('No space left on device', 'Read-only file system', 'Permission denied', 'Disk quota exceeded')


def _shown(record: logging.LogRecord) -> bool:
  text = record.getMessage() + (str(record.exc_info[1]) if record.exc_info and record.exc_info[1] else '')
  if any(noise in text for noise in _NOT_ACTIONABLE):
    return False
  return not (('orbax' in record.pathname or record.name == 'asyncio') and record.levelno >= logging.ERROR
              and any(cause in text for cause in _WRITE_FAILURES))


for _logger in ('absl', 'asyncio'):  # asyncio: Orbax's write tasks whose failure nobody awaited any more
  logging.getLogger(_logger).addFilter(_shown)


def _drop_reads_finishing_on_a_closed_loop(previous):
  """When one array of a checkpoint fails to read, Orbax closes its event loop while TensorStore is still
  reading the others; each read that then finishes calls the closed loop's ``call_soon_threadsafe``, and
  its 'Event loop is closed' was printed with a traceback (nothing awaits it any more: harmless, and it
  buried the one-line damage warning). This hook drops exactly those reports and passes on every other."""

  def hook(unraisable):
    frames = traceback.extract_tb(unraisable.exc_traceback) if unraisable.exc_traceback else []
    late_read = (unraisable.object is None and isinstance(unraisable.exc_value, RuntimeError)
                 and str(unraisable.exc_value) == 'Event loop is closed'
                 and bool(frames) and frames[0].name == 'call_soon_threadsafe')
    if not late_read:
      previous(unraisable)

  return hook


sys.unraisablehook = _drop_reads_finishing_on_a_closed_loop(sys.unraisablehook)


@contextlib.contextmanager
def _interrupts_deferred():
  """Ctrl-C inside the block is taken when the block ends: a save or its wait is never cut in the middle
  (Orbax would log its failed finalize with tracebacks; the checkpoint would be left half-written)."""
  if threading.current_thread() is not threading.main_thread():
    yield
    return
  pending = []
  previous = signal.signal(signal.SIGINT, lambda number, frame: pending.append(frame))
  try:
    yield
  finally:
    signal.signal(signal.SIGINT, previous)
  if pending and callable(previous):  # Python's own handler raises KeyboardInterrupt; a user's runs
    previous(signal.SIGINT, pending[0])
  elif pending and previous == signal.SIG_DFL:
    raise KeyboardInterrupt  # (SIG_IGN: the interrupt was meant to be ignored)


def digest(state) -> list[str]:
  """CRC-32 of every array of ``state``, sorted: Orbax does not checksum array data, so a checkpoint
  records this at save and a restore verifies it (sorted, so any tree form of the same arrays agrees)."""
  return sorted(f'{zlib.crc32(np.ascontiguousarray(x).tobytes()):08x}:{np.asarray(x).dtype}:'
                f'{"x".join(map(str, np.shape(x)))}' for x in jax.tree.leaves(jax.device_get(state)))


def state_digest(record: list[str]) -> str:
  """One short hash of a checkpoint's per-array digest: what a summary or an export records to name
  exactly the arrays it describes."""
  return hashlib.sha256(json.dumps(record).encode()).hexdigest()[:16]


class DamagedCheckpoint(Exception):
  """A checkpoint that does not read back as saved; the message says how."""


def param_shapes(params) -> dict[str, list[int]]:
  """'/'-joined parameter path -> shape, the architecture as a checkpoint records it."""
  return dict(zip(jax.tree.leaves(leaf_paths(params)), (list(x.shape) for x in jax.tree.leaves(params))))


def first_difference(meta: dict, fingerprint: dict[str, Any]) -> tuple[str, Any, Any] | None:
  """(field, saved, current) of the first config field where a checkpoint's ``meta`` and ``fingerprint``
  differ (compared in JSON form: JSON turns tuples into lists), or None."""
  saved = meta.get('fingerprint', {})
  current = json.loads(json.dumps(fingerprint))
  key = next((k for k in sorted(set(saved) | set(current)) if saved.get(k) != current.get(k)), None)
  return None if key is None else (key, saved.get(key), current.get(key))


class Checkpointer:
  """Saves on demand under increasing numbers, keeps the newest few, restores the latest."""

  def __init__(self, directory: str | pathlib.Path, max_to_keep: int = 2, read_only: bool = False):
    """``read_only``: restore only, touching nothing (another process may be saving there)."""
    self.directory = pathlib.Path(directory).absolute()
    self.saved_meta: dict | None = None  # the record of the last save
    if not read_only and self.directory.exists() and not os.access(self.directory, os.W_OK | os.X_OK):
      raise PrunejaxError(f'{self.directory} cannot be written (a read-only file system or no permission); '
                          'make it writable, or copy the workdir elsewhere and run there.')
    self._manager = ocp.CheckpointManager(
        self.directory, item_names=('state', 'meta'),
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=not read_only,
                                             cleanup_tmp_directories=not read_only, read_only=read_only))

  def latest_meta(self) -> dict | None:
    """The JSON record of the latest checkpoint (e.g. a shrunk model's kept channels), or None."""
    number = self._manager.latest_step()
    if number is None:
      return None
    return self._read_meta(number)

  def _read_meta(self, number: int) -> dict:
    return self._manager.restore(number, args=ocp.args.Composite(meta=ocp.args.JsonRestore())).meta

  def verified(self, number: int) -> dict:
    """The record of checkpoint ``number`` once its arrays read back with the digest they were saved
    with; ``DamagedCheckpoint`` saying what is wrong otherwise (flipped bytes, truncated or missing files,
    junk, no such checkpoint)."""
    try:
      meta = self._read_meta(number)
      raw = self._read_host_arrays(number)
    except Exception as e:  # pylint: disable=broad-except  (any read failure means damaged)
      raise DamagedCheckpoint(f'it cannot be read ({type(e).__name__})') from e
    if 'digest' in meta and digest(raw) != meta['digest']:
      raise DamagedCheckpoint('its arrays do not match the digest saved with them')
    return meta

  def numbers(self) -> list[int]:
    """The checkpoints on disk, newest first."""
    self._manager.reload()
    return sorted(self._manager.all_steps(), reverse=True)

  def latest_intact(self) -> tuple[int, dict] | None:
    """(number, meta) of the newest checkpoint that passes ``verified``; a damaged one is named in a
    one-line warning and left on disk. None when there is no checkpoint; ``PrunejaxError`` when none is
    intact."""
    numbers = self.numbers()
    found = None
    for number in numbers:
      try:
        found = number, self.verified(number)
        break
      except DamagedCheckpoint as e:
        if distributed.is_primary():
          print(f'warning: checkpoint {self.directory}/{number} is damaged: {e}; falling back to an '
                'older one (the damaged one is left on disk).', file=sys.stderr, flush=True)
    found = self._agreed(found)
    if found is None and numbers:
      raise PrunejaxError(f'no intact checkpoint in {self.directory} (checked {numbers}); move it away '
                          'and re-run to start over, or restore the directory from a backup.')
    return found

  def _agreed(self, found: tuple[int, dict] | None) -> tuple[int, dict] | None:
    """This process's choice, once every process of a multi-process run made the same one (they read the
    same shared files, so they fall back from a damaged checkpoint together); else every process stops with
    the same one-line error."""
    if jax.process_count() == 1:
      return found
    choices = np.asarray(multihost_utils.process_allgather(np.int32(-1 if found is None else found[0])))
    if len(set(choices.ravel().tolist())) > 1:
      raise PrunejaxError(f'the processes chose different checkpoints in {self.directory} ({choices.ravel().tolist()}, '
                          '-1: none); they must see the same files: put the workdir on a file system they share.')
    return found

  def restore(self, abstract_state, fingerprint: dict[str, Any] | None = None,
              number: int | None = None) -> tuple[Any, dict] | None:
    """(state, meta) of checkpoint ``number`` (default the latest), or None when there is none; raises
    if it is another run's."""
    number = self._manager.latest_step() if number is None else number
    if number is None:
      return None
    try:
      meta = self._read_meta(number)
    except (KeyError, OSError, ValueError) as e:  # a folder that is not ours, or a damaged record
      raise PrunejaxError(f'{self.directory / str(number)} is not a readable prunejax checkpoint '
                          f'({type(e).__name__}); pass the checkpoints/ folder of a run (a run falls back to '
                          'the newest intact one by itself: latest_intact()).') from e
    if fingerprint is not None:
      self.check_fingerprint(meta, fingerprint, number)
      self._check_shapes(meta, param_shapes(abstract_state.params), number)
    restored = self._manager.restore(
        number, args=ocp.args.Composite(state=ocp.args.StandardRestore(abstract_state)))
    return restored.state, meta

  def _read_host_arrays(self, number: int):
    """Every array of checkpoint ``number`` as host numpy arrays: no device placement, so a run on
    another device count can verify it."""
    path = self.directory / str(number) / 'state'
    with ocp.PyTreeCheckpointer() as reader:
      metadata = reader.metadata(path)
      tree = metadata.item_metadata.tree if hasattr(metadata, 'item_metadata') else metadata.tree
      args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree)
      return reader.restore(path, args=ocp.args.PyTreeRestore(restore_args=args))

  def restore_network(self, abstract_network: dict, number: int) -> dict:
    """Only ``{'params': ..., 'model_state': ...}`` of checkpoint ``number`` (no optimizer state, so no
    need to know the optimizer that trained it)."""
    args = ocp.args.PyTreeRestore(abstract_network, partial_restore=True,
                                  restore_args=ocp.checkpoint_utils.construct_restore_args(abstract_network))
    with ocp.PyTreeCheckpointer() as reader:
      return reader.restore(self.directory / str(number) / 'state', args=args)

  def check_fingerprint(self, meta: dict, fingerprint: dict[str, Any], number: int | None = None) -> None:
    """Raises ``PrunejaxError`` naming the first config field where ``meta`` and ``fingerprint`` differ."""
    number = self._manager.latest_step() if number is None else number
    difference = first_difference(meta, fingerprint)
    if difference:
      key, saved, current = difference
      raise PrunejaxError(
          f'checkpoint {self.directory}/{number} was written with {key}={saved!r}, but this run '
          f'has {key}={current!r}; use a new --workdir or the checkpoint\'s config.')

  def _check_shapes(self, meta, shapes, number):
    saved_shapes = meta.get('param_shapes', {})
    if saved_shapes != shapes:
      diff = next((k for k in sorted(set(saved_shapes) | set(shapes))
                   if saved_shapes.get(k) != shapes.get(k)), '?')
      raise PrunejaxError(
          f'checkpoint {self.directory}/{number} holds a different architecture ({diff}: saved '
          f'{saved_shapes.get(diff)}, model has {shapes.get(diff)}); use a new --workdir.')

  def save(self, state, meta: dict[str, Any]) -> int:
    """Saves ``state`` and ``meta`` (plus the parameter shapes) as the newest checkpoint; its number."""
    latest = self._manager.latest_step()
    number = 0 if latest is None else latest + 1
    meta = dict(meta, param_shapes=param_shapes(state.params), digest=digest(state))
    self.saved_meta = json.loads(json.dumps(meta))  # the record as a reader will see it
    try:
      with _interrupts_deferred():
        self._manager.save(number, args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), meta=ocp.args.JsonSave(self.saved_meta)),
            force=True)
    except Exception as e:  # pylint: disable=broad-except  (Orbax and TensorStore raise many types)
      self._raise_if_refused(e)
      raise
    return number

  def close(self) -> None:
    """Waits for the last save; a failed one is one ``PrunejaxError`` (the manager is closed either way)."""
    try:
      with _interrupts_deferred():
        self._manager.wait_until_finished()
    except Exception as e:  # pylint: disable=broad-except
      self._raise_if_refused(e)
      raise
    finally:
      self._manager.close()

  def _raise_if_refused(self, error: Exception) -> None:
    """A refused write (full disk, read-only...) becomes one ``StorageError``; any other failure is left to
    propagate as it was raised."""
    reason = next((why for why in _WRITE_FAILURES if why in str(error)), None)
    if reason is not None:
      raise StorageError(f'writing a checkpoint in {self.directory} failed ({reason}); free space or make it '
                         'writable, then re-run the same command: it resumes from the newest intact '
                         'checkpoint.') from error
