"""Many processes, one run, on JAX's own distributed runtime (``jax.distributed``).

Every command takes ``--coordinator_address``, ``--num_processes`` and ``--process_id``; without them, a
cluster JAX detects by itself (SLURM, Open MPI, multi-host Cloud TPU) is joined through
``jax.distributed.initialize()``'s auto-detection, and anything else runs as one process. Each process
then sees every process's devices: the runner's mesh spans them all, each process places its shard of the
global batch, and the primary process (index 0) alone writes what is written once — metrics, the summary,
plots, progress lines — while Orbax writes and restores checkpoints collectively.
"""

import os

import jax

from prunejax.errors import PrunejaxError

# Environment variables that mean "this process is one of several" in a cluster JAX auto-detects.
_CLUSTER_SIZES = ('SLURM_NTASKS', 'OMPI_COMM_WORLD_SIZE')


def _in_detectable_cluster() -> bool:
  sizes = [os.environ.get(name, '') for name in _CLUSTER_SIZES]
  tpu_hosts = os.environ.get('TPU_WORKER_HOSTNAMES', '')
  return any(size.isdigit() and int(size) > 1 for size in sizes) or ',' in tpu_hosts


def initialize(coordinator_address: str = '', num_processes: int = 0, process_id: int = -1) -> None:
  """Joins the run's processes (before anything touches a JAX backend). Explicit flags win; else a
  detectable cluster is joined; else nothing happens (one process)."""
  if jax.distributed.is_initialized():
    return
  explicit = bool(coordinator_address) or num_processes > 0 or process_id >= 0
  if explicit and not (coordinator_address and num_processes > 0 and 0 <= process_id < num_processes):
    raise PrunejaxError(
        f'--coordinator_address={coordinator_address!r} --num_processes={num_processes} '
        f'--process_id={process_id}: give all three (an address host:port every process can reach, the '
        'process count, and this process\'s index in [0, count)), or none to run as one process.')
  if not explicit and not _in_detectable_cluster():
    return
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')  # CPU processes' collectives
  try:
    if explicit:
      jax.distributed.initialize(coordinator_address, num_processes, process_id)
    else:
      jax.distributed.initialize()
  except (RuntimeError, ValueError) as e:
    first = str(e).splitlines()[0] if str(e) else type(e).__name__
    raise PrunejaxError(f'joining the other processes failed ({first[:200]}); check that every process got the '
                        'same --coordinator_address and --num_processes and a distinct --process_id, and that '
                        'process 0 is running.') from e


def process_index() -> int:
  """This process's index (0 when running alone; never initialises a backend by itself)."""
  return jax.process_index() if jax.distributed.is_initialized() else 0


def process_count() -> int:
  return jax.process_count() if jax.distributed.is_initialized() else 1


def is_primary() -> bool:
  """Whether this process writes what a run writes once (metrics, summary, plots, progress)."""
  return process_index() == 0
