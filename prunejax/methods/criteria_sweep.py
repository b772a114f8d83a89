"""Structured pruning without retraining: rank channels by a criterion, shrink, evaluate.

The measurement that tells which criterion keeps accuracy when channels go (ADaPT and Reconvene both
rank channels before anything else), against the seeded 'random' baseline.
"""

import pathlib
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from flax import nnx

from prunejax import edge, structure
from prunejax.methods.registry import train_and_evaluate
from prunejax.train import ModelDefs, Run, TrainState, apply_model, finished_checkpoint, shrink_train_state


def load_trained(config: ml_collections.ConfigDict, workdir) -> Run:
  """The finished run of ``config`` in ``workdir`` (trained first, or resumed, unless it is complete)."""
  if not (pathlib.Path(workdir) / 'summary.json').exists():
    train_and_evaluate(config, workdir)
  finished = finished_checkpoint(workdir)  # exactly the network its summary describes
  run = Run(config, workdir, lock=False, checkpoint=(finished.number, finished.meta))
  run.use_saved_network()  # whatever optimizer the method used (e.g. sparse's masked one)
  return run


def prune_channels(run: Run, criterion: str, ratio: float, scope: str = 'layerwise',
                   score_examples: int = 1024, seed: int = 0
                   ) -> tuple[ModelDefs, TrainState, dict[str, Any]]:
  """Removes ``ratio`` of the channels of the run's network (lowest ``criterion`` scores, data criteria
  on ``score_examples`` training examples); returns a shrunk copy (defs, state) and what it cost to
  decide. The run itself is unchanged."""
  model = run.model()
  batches = run.batches(None, score_examples, run.config.eval_batch_size, seed)
  start = time.perf_counter()
  groups = run.groups()
  scores = structure.model_scores(model, groups, criterion, batches, seed)
  keep = structure.select_channels(scores, groups, ratio, scope)
  score_seconds = time.perf_counter() - start
  defs, small = shrink_train_state(run.defs, run.state, groups, keep)
  return defs, small, {'score_seconds': score_seconds,
                       'channels_kept': sum(len(k) for k in keep.values()),
                       'channels_total': sum(g.size for g in groups if g.name in keep)}


def criteria_sweep(run: Run, criteria: Sequence[str], ratios: Sequence[float], scope: str = 'layerwise',
                   score_examples: int = 1024, seed: int = 0) -> list[dict]:
  """Test accuracy and FLOPs of the model after pruning each ratio by each criterion, no retraining."""
  shape = run.splits.input_shape
  flops = lambda defs, s: edge.forward_flops_per_example(
      lambda p, m, x: apply_model(defs.eval, p, m, x), s.params, s.model_state, shape)
  dense_flops = flops(run.defs, run.state)
  rows = [{'criterion': 'none', 'ratio': 0.0, **_prefixed(run.evaluate(None, 'test'), 'test_'),
           'flops_ratio': 1.0}]
  for criterion in criteria:
    for ratio in ratios:
      defs, small, info = prune_channels(run, criterion, ratio, scope, score_examples, seed)
      rows.append({'criterion': criterion, 'ratio': ratio,
                   **_prefixed(run.evaluate(None, 'test', (defs, small)), 'test_'),
                   'flops_ratio': dense_flops / flops(defs, small), **info})
  return rows


def oracle_agreement(run: Run, criteria: Sequence[str], score_examples: int = 1024,
                     seed: int = 0) -> list[dict]:
  """Per prunable group: Spearman rank correlation between each criterion and the leave-one-out oracle,
  the measured increase of the loss on the scoring examples when that single channel is removed."""
  model = run.model()
  batches = run.batches(None, score_examples, run.config.eval_batch_size, seed)
  groups = run.groups()
  scores = {c: structure.model_scores(model, groups, c, batches, seed) for c in criteria}
  graphdef, variables = structure.eval_split(model)
  x, y = (jnp.concatenate(parts) for parts in zip(*batches))
  loss = jax.jit(lambda v: optax.softmax_cross_entropy_with_integer_labels(nnx.merge(graphdef, v)(x), y).mean())
  base = float(loss(variables))
  rows = []
  for group in (g for g in groups if g.prunable):
    oracle = np.array([float(loss(structure.zero_channels(variables, structure.make_plan(
        groups, {group.name: np.delete(np.arange(group.size), c)}, variables)))) - base
                       for c in range(group.size)])
    rows.append({'group': group.name, 'channels': group.size, 'oracle_mean': float(oracle.mean()),
                 **{c: _spearman(scores[c][group.name], oracle) for c in criteria if group.name in scores[c]}})
  return rows


def _spearman(a, b) -> float:
  ranks = lambda v: np.argsort(np.argsort(v, kind='stable'), kind='stable').astype(np.float64)
  return float(np.corrcoef(ranks(np.asarray(a)), ranks(np.asarray(b)))[0, 1])


def _prefixed(figures: dict[str, float], prefix: str) -> dict[str, float]:
  return {prefix + k: v for k, v in figures.items()}
