"""One process at a time in a workdir: an advisory lock (``flock`` on ``<workdir>/.lock``, released by the
kernel when the process dies), so two processes never write the same checkpoints. A run fails at once
when its workdir is taken; a workdir shared by many runs (a pretraining, a deployment) is waited for."""

import contextlib
import fcntl
import os
import pathlib

from prunejax.errors import PrunejaxError

_HELD: set[pathlib.Path] = set()  # workdirs this process holds: re-entrant (a run inside a shared wait)


@contextlib.contextmanager
def workdir_lock(workdir: str | pathlib.Path, wait: bool = False):
  """Holds ``workdir``'s lock for the block; ``wait``: until another process releases it (saying so),
  else a one-line ``PrunejaxError`` naming the holder."""
  path = pathlib.Path(workdir).resolve()
  if path in _HELD:
    yield
    return
  path.mkdir(parents=True, exist_ok=True)
  handle = open(path / '.lock', 'a+', encoding='utf-8')  # pylint: disable=consider-using-with
  try:
    try:
      fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      handle.seek(0)
      holder = handle.read().strip() or 'another process'
      if not wait:
        raise PrunejaxError(f'{workdir} is in use by {holder}; wait for it to finish or pass another '
                            '--workdir.') from None
      print(f'{workdir} is in use by {holder}: waiting for it', flush=True)
      fcntl.flock(handle, fcntl.LOCK_EX)
    handle.seek(0)
    handle.truncate()
    handle.write(f'process {os.getpid()}')
    handle.flush()
    _HELD.add(path)
    try:
      yield
    finally:
      _HELD.discard(path)
  finally:
    handle.close()  # releases the lock
