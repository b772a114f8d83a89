"""Many processes, one run, on JAX's own distributed runtime (``jax.distributed``).

``prunejax-train`` takes ``--coordinator_address``, ``--num_processes`` and ``--process_id``; without them,
a process that srun (a step of several tasks) or mpirun started as one of several joins through
``jax.distributed.initialize()``'s auto-detection, and anything else runs as one process. Each process
then sees every process's devices: the runner's mesh spans them all, each process places its shard of the
global batch, and the primary process (index 0) alone writes what is written once — metrics, the summary,
plots, progress lines — while Orbax writes and restores checkpoints collectively.
"""

import os
import sys

import jax
from jax.experimental import multihost_utils

from prunejax.errors import PrunejaxError

# Set only in processes a launcher started as one of several: an srun step of several tasks, mpirun.
_LAUNCHED_SIZES = ('SLURM_STEP_NUM_TASKS', 'OMPI_COMM_WORLD_SIZE')


def _launched_as_several() -> str:
  """The variable saying this process is one of several ('' when none does)."""
  for name in _LAUNCHED_SIZES:
    size = os.environ.get(name, '')
    if size.isdigit() and int(size) > 1:
      return f'{name}={size}'
  return ''


def initialize(coordinator_address: str = '', num_processes: int = 0, process_id: int = -1) -> None:
  """Joins the run's processes (before anything touches a JAX backend). Explicit flags win
  (``--num_processes=1``: alone, whatever the environment); else a process an srun step or mpirun started
  as one of several joins through JAX's auto-detection; else nothing happens (one process)."""
  if jax.distributed.is_initialized() or num_processes == 1:
    return
  explicit = bool(coordinator_address) or num_processes > 0 or process_id >= 0
  if explicit and not (coordinator_address and num_processes > 1 and 0 <= process_id < num_processes):
    raise PrunejaxError(
        f'--coordinator_address={coordinator_address!r} --num_processes={num_processes} '
        f'--process_id={process_id}: give all three (an address host:port every process can reach, the '
        'process count, and this process\'s index in [0, count)), or none to run as one process.')
  launched = '' if explicit else _launched_as_several()
  if not explicit and not launched:
    return
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')  # CPU processes' collectives
  try:
    if explicit:
      jax.distributed.initialize(coordinator_address, num_processes, process_id)
    else:
      jax.distributed.initialize()
  except (RuntimeError, ValueError) as e:
    first = str(e).splitlines()[0] if str(e) else type(e).__name__
    why = f' (joined because {launched}; --num_processes=1 runs alone)' if launched else ''
    raise PrunejaxError(f'joining the other processes failed ({first[:200]}){why}; check that every process '
                        'got the same --coordinator_address and --num_processes and a distinct --process_id, '
                        'and that process 0 is running.') from e


def barrier(name: str) -> None:
  """Every process of a multi-process run waits here for the others (nothing when alone)."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)


def is_primary() -> bool:
  """Whether this process writes what a run writes once (metrics, summary, plots, progress)."""
  return jax.process_index() == 0


def say(message: str, warning: bool = False) -> None:
  """A run's status line, printed once: by the primary process (to stderr as ``warning: ...``)."""
  if is_primary():
    print(f'warning: {message}' if warning else message, file=sys.stderr, flush=True)
