"""A reproduction is a grid of ordinary runs, each in its own workdir (so each resumes), then a REPORT.md.

``run_grid`` trains the runs in order (a later run's config may read an earlier run's summary: the
small network of DynHP's final shape needs DynHP first) and returns their summaries; ``paired_latency``
measures a finished run's model against a baseline's in alternating rounds.
"""

import dataclasses
import functools
import pathlib
import runpy
import time
from collections.abc import Callable

import jax
import jax.numpy as jnp
import ml_collections

from prunejax import edge
from prunejax.methods import train_and_evaluate
from prunejax.train import Run, apply_model, finished_checkpoint, finished_summary

REPO = pathlib.Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Entry:
  """One run of a grid: its name (the workdir's), and its config, built once the earlier runs are done
  (``make_config(summaries so far)``)."""
  name: str
  make_config: Callable[[dict[str, dict]], ml_collections.ConfigDict]


def base_config(path: str) -> ml_collections.ConfigDict:
  """A config file of configs/ by name, with the progress bar off (reproductions log to files)."""
  config = runpy.run_path(str(REPO / 'configs' / path))['get_config']()
  config.progress_bar = False
  return config


def run_grid(root: pathlib.Path, entries: list[Entry], known: dict[str, dict] | None = None,
             log: Callable[[str], None] = print) -> dict[str, dict]:
  """Runs (or resumes, or reads, when it finished with the same config) each entry in ``root/<name>``;
  returns their summaries, each with the config it ran. ``known`` summaries are visible to the entries' ``make_config``."""
  summaries: dict[str, dict] = {}
  for entry in entries:
    config = entry.make_config({**(known or {}), **summaries})
    finished = finished_summary(root / entry.name, config)
    if finished is not None:
      summaries[entry.name] = dict(finished, config=config.to_dict())
      continue
    started = time.perf_counter()
    log(f'== {entry.name}: {config.method or "auto"} {config.model} on {config.dataset} -> {root / entry.name}')
    summaries[entry.name] = dict(train_and_evaluate(config, root / entry.name), config=config.to_dict())
    accuracy = summaries[entry.name].get('test_accuracy')
    figure = f'test accuracy {accuracy:.4f}' if isinstance(accuracy, float) else 'done'
    log(f'   {figure} ({time.perf_counter() - started:.0f} s with set-up)')
  return summaries


def paired_latency(baseline: tuple[ml_collections.ConfigDict, pathlib.Path],
                   candidate: tuple[ml_collections.ConfigDict, pathlib.Path],
                   batch_sizes=(1, 64), rounds: int = 5) -> dict[str, float]:
  """Latency of two finished runs' final networks, alternated in rounds (medians): ``speedup_b{n}``."""
  models = []
  for config, workdir in (baseline, candidate):
    finished = finished_checkpoint(workdir)  # exactly the network its summary describes
    run = Run(config, workdir, lock=False, checkpoint=(finished.number, finished.meta))
    defs, params, model_state = run.saved_network()
    models.append((jax.jit(functools.partial(apply_model, defs.eval)), params, model_state,
                   run.splits.input_shape))
    run.close()
  figures = {}
  for batch in batch_sizes:
    calls = [(fn, (params, state, jnp.zeros((batch,) + shape, jnp.float32)))
             for fn, params, state, shape in models]
    timing = edge.paired_latencies(*calls, rounds=rounds)
    figures[f'latency_ms_b{batch}'] = 1e3 * timing['candidate']
    figures[f'speedup_b{batch}'] = timing['speedup']
  return figures
