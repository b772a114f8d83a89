"""One process at a time in a workdir: an advisory lock (``flock`` on ``<workdir>/.lock``, released by the
kernel when the process dies), so two processes never write the same checkpoints. A run fails at once
when its workdir is taken; a workdir shared by many runs (a pretraining, a deployment) is waited for."""

import contextlib
import fcntl
import os
import pathlib
import sys
import time

import jax

from prunejax.errors import PrunejaxError

_HELD: dict[pathlib.Path, list] = {}  # workdir -> [lock file, holders in this process]


@contextlib.contextmanager
def workdir_lock(workdir: str | pathlib.Path, wait: bool = False):
  """Holds ``workdir``'s lock for the block; ``wait``: until another process releases it (saying so),
  else a one-line ``PrunejaxError`` naming the holder. Re-entrant within a process (a run inside a
  shared wait): the lock goes when the last holder leaves."""
  path = pathlib.Path(workdir).resolve()
  if path not in _HELD:
    _HELD[path] = [_acquire(path, workdir, wait), 0]
  _HELD[path][1] += 1
  try:
    yield
  finally:
    _HELD[path][1] -= 1
    if _HELD[path][1] == 0:
      _HELD.pop(path)[0].close()  # closing the file releases the lock


def _lock_retrying(handle, attempts: int = 20) -> None:
  """An exclusive non-blocking lock, retried briefly: a reader's ``holder`` check holds the lock shared for
  an instant, which must not make a trainer refuse its own workdir."""
  for attempt in range(attempts):
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
      return
    except BlockingIOError:
      if attempt == attempts - 1:
        raise
      time.sleep(0.05)


def holder(workdir: str | pathlib.Path) -> str | None:
  """Who holds ``workdir``'s lock, when another process does (e.g. 'process 123'); None when nobody or
  this process does. Touches nothing: a reader of a read-only workdir can ask."""
  path = pathlib.Path(workdir).resolve()
  if path in _HELD:
    return None
  try:
    handle = open(path / '.lock', 'r', encoding='utf-8')  # pylint: disable=consider-using-with
  except OSError:
    return None  # no lock file: nobody ever trained here under a lock
  with handle:
    try:
      fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
      return handle.read().strip() or 'another process'
    fcntl.flock(handle, fcntl.LOCK_UN)
  return None


def wait_until_free(workdir: str | pathlib.Path) -> None:
  """Blocks until no process holds ``workdir``'s lock (a shared hold: works on a read-only workdir)."""
  try:
    handle = open(pathlib.Path(workdir) / '.lock', 'r', encoding='utf-8')  # pylint: disable=consider-using-with
  except OSError:
    return
  with handle:
    fcntl.flock(handle, fcntl.LOCK_SH)
    fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_name() -> str:
  """The primary process holds ``.lock`` (what readers check); the other processes of a multi-process run
  each hold their own, so a second launch of the same run is refused on every process."""
  index = jax.process_index()
  return '.lock' if index == 0 else f'.lock.process{index}'


def _acquire(path: pathlib.Path, workdir, wait: bool):
  try:
    path.mkdir(parents=True, exist_ok=True)
    handle = open(path / _lock_name(), 'a+', encoding='utf-8')  # pylint: disable=consider-using-with
  except OSError as e:
    raise PrunejaxError(f'{workdir} cannot be written ({type(e).__name__}: {e.strerror}); a run needs a '
                        'writable --workdir.') from e
  try:
    _lock_retrying(handle)
  except BlockingIOError:
    handle.seek(0)
    holder = handle.read().strip() or 'another process'
    if not wait:
      handle.close()
      raise PrunejaxError(f'{workdir} is in use by {holder}; wait for it to finish or pass another '
                          '--workdir.') from None
    print(f'{workdir} is in use by {holder}: waiting for it', file=sys.stderr, flush=True)
    fcntl.flock(handle, fcntl.LOCK_EX)
  handle.seek(0)
  handle.truncate()
  handle.write(f'process {os.getpid()}')
  handle.flush()
  return handle
