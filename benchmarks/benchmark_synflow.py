"""Where SynFlow's time goes, and what fewer rounds change: on one registry model (Fashion-MNIST shape),
the jitted cost of one round's parts — scores (float64, float32, scaled float32) and the exact global
top-k over all prunable weights — and the whole iterative mask at several round counts, driven from the
host one compiled round at a time, with the share of the 100-round float64 mask's kept weights each one
keeps (overall and per layer), and at the first round count inside one XLA while loop (the two ways runs
take: ``config.pruning.synflow_loop``).

python benchmarks/benchmark_synflow.py [--model vgg16] [--sparsity 0.984375] [--rounds 100,20,10] [--out ...]
A round and its parts: medians of --repeats calls after a warm-up call; a whole mask: one timed run after
a warm-up round (in the loop: after a warm-up run). Compiles are not timed. The prunable weights are
those of every run (configs/default.py's ``pruning.include``/``exclude``: the kernels, the classifier
left dense).
"""

import contextlib
import pathlib
import runpy
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import flags, logging
from flax import nnx

from prunejax import cli, core, models
from prunejax.report import summary_table, write_rows
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

_MODEL = flags.DEFINE_string('model', 'vgg16', 'Registry model.')
_SPARSITY = flags.DEFINE_float('sparsity', 1 - 2 ** -6, 'Global sparsity of the SynFlow mask.')
_ROUNDS = flags.DEFINE_list('rounds', ['100', '20', '10'],
                            'Round counts for the whole mask (the first is the reference).')
_REPEATS = flags.DEFINE_integer('repeats', 5, 'Timed calls per part (median).')
_OUT = flags.DEFINE_string('out', 'runs/benchmarks/synflow.json', 'Where to write the JSON results.')
SHAPE = (28, 28, 1)
base_config = lambda: runpy.run_path(str(pathlib.Path(__file__).parents[1] / 'configs' / 'default.py'))


def timed(fn, *args, repeats: int = 1) -> tuple[float, object]:
  """(median seconds of ``repeats`` calls of jitted ``fn`` after a warm-up call, its result)."""
  compiled = jax.jit(fn).lower(*args).compile()
  result = jax.block_until_ready(compiled(*args))
  times = []
  for _ in range(repeats):
    started = time.perf_counter()
    jax.block_until_ready(compiled(*args))
    times.append(time.perf_counter() - started)
  return float(np.median(times)), result


def host_driven_masks(forward, params, selected, rounds: int, precision: str):
  """(seconds, masks) of the whole iterative mask as runs compute it (``Pruning.scored_masks_at_init``):
  one compiled round per host step; the compile and a warm-up round are not timed."""
  scorer = core.SynFlow(rounds=rounds, precision=precision)
  context = core.ScoreContext(forward=forward, input_shape=SHAPE)
  one_round = jax.jit(lambda p, m, r: scorer.round(p, m, r, context, selected, _SPARSITY.value))
  initial = core.ones_masks(params, selected)
  compiled = one_round.lower(params, initial, jnp.asarray(0)).compile()
  jax.block_until_ready(compiled(params, initial, jnp.asarray(0)))
  started = time.perf_counter()
  masks = initial
  for r in range(rounds):
    masks = compiled(params, masks, jnp.asarray(r))
  jax.block_until_ready(masks)
  return time.perf_counter() - started, masks


def precision_scope(precision: str):
  return jax.enable_x64(True) if precision == 'float64' else contextlib.nullcontext()


def main(argv):
  del argv
  logging.set_verbosity(logging.ERROR)
  model = models.create_model(_MODEL.value, SHAPE, 10, seed=0)
  model.eval()  # SynFlow scores in eval mode
  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  forward = lambda p, x: nnx.merge(graphdef, p, rest, copy=True)(x)
  pruning = base_config()['get_config']().pruning  # every run's prunable leaves: kernels, classifier dense
  selected = core.select_leaves(params, pruning.include, pruning.exclude)
  weights = sum(p.size for p, f in zip(jax.tree.leaves(params), jax.tree.leaves(selected)) if f)

  rows = []
  for precision in ('float64', 'float32', 'scaled_float32'):
    with precision_scope(precision):
      # synflow_scores' 'float64' computes in float32 where float64 is not enabled (precision_scope).
      scores = lambda p, precision=precision: core.synflow_scores(
          forward, p, SHAPE, 'scaled_float32' if precision == 'scaled_float32' else 'float64')
      rows.append({'part': f'one round: scores, {precision}',
                   'seconds': timed(scores, params, repeats=_REPEATS.value)[0]})
  synflow = core.synflow_scores(forward, params, SHAPE, 'scaled_float32')
  rows.append({'part': f'one round: exact global top-k over {weights:,} SynFlow scores',
               'seconds': timed(lambda s: core.masks_global(s, selected, _SPARSITY.value), synflow,
                                repeats=_REPEATS.value)[0]})
  initial = core.ones_masks(params, selected)
  for precision in ('float64', 'scaled_float32'):
    with precision_scope(precision):
      scorer = core.SynFlow(precision=precision)
      context = core.ScoreContext(forward=forward, input_shape=SHAPE)
      whole_round = lambda p, m, scorer=scorer, context=context: scorer.round(
          p, m, jnp.asarray(0), context, selected, _SPARSITY.value)
      rows.append({'part': f'one round, all of it (masked scores, top-k, masks), {precision}',
                   'seconds': timed(whole_round, params, initial, repeats=_REPEATS.value)[0]})

  reference = None
  for rounds in [int(r) for r in _ROUNDS.value]:
    for precision in ('float64', 'scaled_float32'):
      with precision_scope(precision):
        seconds, masks = host_driven_masks(forward, params, selected, rounds, precision)
        masks = [np.asarray(m) for m in jax.tree.leaves(masks)]
      if reference is None:
        reference = masks
      shared = [int((a & b).sum()) for a, b in zip(reference, masks)]
      kept = [int(a.sum()) for a in reference]
      rows.append({'part': f'whole mask: {rounds} rounds, {precision}', 'seconds': seconds,
                   'shared_with_reference': sum(shared) / sum(kept),
                   'shared_per_layer': ' '.join(f'{s / max(k, 1):.2f}' for s, k in zip(shared, kept))})
  # The other way runs take (config.pruning.synflow_loop): all the reference's rounds in one XLA while loop
  # (``SynFlow.masks``); synflow_loop=auto takes it unless convolutions remain after the rewrite to products.
  rounds = int(_ROUNDS.value[0])
  for precision in ('float64', 'scaled_float32'):
    with precision_scope(precision):
      scorer = core.SynFlow(rounds=rounds, precision=precision)
      context = core.ScoreContext(forward=forward, input_shape=SHAPE)
      in_loop = lambda p, scorer=scorer, context=context: scorer.masks(p, context, selected, _SPARSITY.value)
      rows.append({'part': f'whole mask: {rounds} rounds, {precision}, in one XLA while loop',
                   'seconds': timed(in_loop, params)[0]})
  print(f'{_MODEL.value}, sparsity {_SPARSITY.value:.4f}; reference: the first mask below')
  print(summary_table(rows, (('part', 'part', '{}'), ('seconds', 'seconds', '{:.3f}'),
                             ('shared_with_reference', 'kept shared with reference', '{:.3f}'),
                             ('shared_per_layer', 'per layer', '{}'))))
  write_rows(rows, _OUT.value)


if __name__ == '__main__':
  with results_file.recorded('synflow'):
    cli.run(main)
