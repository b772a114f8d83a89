"""Seconds XLA spent compiling inside a block, from JAX's own monitoring events.

A method's "time to produce" should not include compiles a second call in the same process would not
pay: every jit and every eager op compiles once per shape (or reads its executable from the persistent
compilation cache: counted alike). XLA backend compiles never nest, so their sum is exact; tracing and lowering (which can nest) are left to the caller to measure where they matter.
"""

import contextlib
import dataclasses
import threading

from jax import monitoring

BACKEND_COMPILE_EVENT = '/jax/core/compile/backend_compile_duration'
CACHE_READ_EVENT = '/jax/compilation_cache/cache_retrieval_time_sec'  # a persistent-cache hit, inside one


@dataclasses.dataclass
class CompileClock:
  seconds: float = 0.0  # obtaining executables: compiling, or reading them from the persistent cache
  compiles: int = 0  # executables obtained either way
  cache_hits: int = 0  # of them read from the cache


@contextlib.contextmanager
def compile_clock():
  """Yields a ``CompileClock`` that sums the XLA backend compiles this thread runs inside the ``with``
  block (another thread's compiles, e.g. a background checkpoint writer's, overlap its work instead)."""
  clock = CompileClock()
  thread = threading.get_ident()

  def listen(event: str, duration: float, **_):
    if threading.get_ident() != thread:
      return
    if event == BACKEND_COMPILE_EVENT:  # (it spans a persistent-cache read too)
      clock.seconds += duration
      clock.compiles += 1
    elif event == CACHE_READ_EVENT:
      clock.cache_hits += 1

  monitoring.register_event_duration_secs_listener(listen)
  try:
    yield clock
  finally:
    monitoring.unregister_event_duration_listener(listen)
