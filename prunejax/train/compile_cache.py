"""JAX's persistent compilation cache, on by default: a process reuses the XLA executables any earlier
process (or an earlier jit of the same computation) compiled, instead of compiling them again.

The directory is ``$PRUNEJAX_COMPILE_CACHE`` if set (``off`` disables the cache), else JAX's own
``JAX_COMPILATION_CACHE_DIR`` / ``jax_compilation_cache_dir`` if the user set one, else
``$XDG_CACHE_HOME/prunejax/xla`` (``~/.cache/prunejax/xla``). Entries are keyed by the computation, the
compile options, the backend and the jax version, so a hit is the executable a compile would give: results
do not change, only the time to the first step. Executables are specific to the machine type, as the runs.
"""

import os
import pathlib

import jax
from jax.experimental.compilation_cache import compilation_cache

ENV = 'PRUNEJAX_COMPILE_CACHE'
OFF = ('off', '0', 'false', 'no', 'none')


def default_directory() -> pathlib.Path:
  base = os.environ.get('XDG_CACHE_HOME') or pathlib.Path.home() / '.cache'
  return pathlib.Path(base) / 'prunejax' / 'xla'


def enable() -> str | None:
  """Turns the cache on for this process (idempotent); returns its directory, or None when off."""
  chosen = os.environ.get(ENV, '').strip()
  if chosen.lower() in OFF:
    return None
  directory = chosen or jax.config.jax_compilation_cache_dir or str(default_directory())
  if jax.config.jax_compilation_cache_dir != directory:
    try:
      pathlib.Path(directory).mkdir(parents=True, exist_ok=True)
    except OSError:
      return None  # an unwritable cache costs compile time, never a run
    compilation_cache.set_cache_dir(directory)
    compilation_cache.reset_cache()  # JAX decides at its first compile whether a cache is used: ask again
  # Cache every executable, not only those over a second: a run compiles many small steps (evaluation,
  # shrunk shapes, probes) whose sum is what a user waits for.
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
  return directory
