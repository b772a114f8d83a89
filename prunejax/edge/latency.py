"""Wall-clock latency: the median of repeated runs after warm-up, with ``jax.block_until_ready``."""

import os
import time

import jax
import numpy as np


def limit_cpu_threads(threads: int) -> None:
  """Pins this process to ``threads`` CPUs and sizes XLA's CPU pool to match.

  Must run before JAX creates its CPU client (before the first computation), as edge scripts do first.
  """
  if threads <= 0:
    return
  available = sorted(os.sched_getaffinity(0))
  os.sched_setaffinity(0, available[:threads])
  flags = os.environ.get('XLA_FLAGS', '')
  if threads == 1 and 'xla_cpu_multi_thread_eigen' not in flags:  # XLA sizes its pool from the affinity
    os.environ['XLA_FLAGS'] = f'{flags} --xla_cpu_multi_thread_eigen=false'.strip()


def median_latency(fn, *args, warmup: int = 3, repeats: int = 20, min_seconds: float = 0.0) -> float:
  """Median seconds of ``fn(*args)`` (already jitted) over ``repeats`` runs after ``warmup`` runs."""
  for _ in range(warmup):
    jax.block_until_ready(fn(*args))
  times = []
  started = time.perf_counter()
  while len(times) < repeats or time.perf_counter() - started < min_seconds:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    times.append(time.perf_counter() - start)
  return float(np.median(times))


def paired_latencies(baseline, candidate, rounds: int = 5, repeats: int = 20) -> dict[str, float]:
  """Baseline and candidate latency measured in alternating rounds, so machine noise hits both alike.

  ``baseline`` and ``candidate`` are (jitted fn, args) pairs. Returns the medians over rounds of each
  latency (seconds) and of the per-round ratio baseline / candidate (the speed-up).
  """
  times = {'baseline': [], 'candidate': []}
  for _ in range(rounds):
    for label, (fn, args) in (('baseline', baseline), ('candidate', candidate)):
      times[label].append(median_latency(fn, *args, repeats=repeats))
  ratios = np.asarray(times['baseline']) / np.asarray(times['candidate'])
  return {'baseline': float(np.median(times['baseline'])), 'candidate': float(np.median(times['candidate'])),
          'speedup': float(np.median(ratios))}
