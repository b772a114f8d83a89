"""``config.pruning`` → an optimizer wrapped in the masked update, and masks at initialisation for PaI.

Methods: ``none`` (dense); ``magnitude`` on a schedule — one-shot prune-then-retrain at ``begin_step``,
iterative, or gradual polynomial — with masks refreshed inside the jitted step; any other registered
scorer (``random``, ``snip``, ``grasp``, ``synflow``, a user's): pruning at initialisation (scores at
step 0 on a per-class score batch, then the sparse network is trained with its mask fixed).
"""

import contextlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from prunejax import core
from prunejax.data.pipeline import Splits, gather_batch
from prunejax.train.pruning_settings import SCHEDULED
from prunejax.train.state import ModelDefs, TrainState
from prunejax.train.steps import cross_entropy

def synflow_loop(setting: str, forward, params, input_shape) -> str:
  """``auto``: SynFlow's rounds in one XLA while loop, except on CPU when its network still holds
  convolutions after they became products (grouped, depthwise ones): once every convolution is a matrix
  product the loop is faster than driving the rounds from the host (it also keeps its buffers, where each
  host-driven round touches fresh ones), but XLA's CPU backend runs the remaining depthwise and grouped
  convolutions more slowly inside a while loop. benchmarks/benchmark_synflow.py times both ways."""
  if setting != 'auto':
    return setting
  if jax.default_backend() != 'cpu':
    return 'xla'
  ones = jnp.ones((1,) + tuple(input_shape), jnp.float32)
  return 'host' if core.convolutions_left(core.synflow_network(forward), params, ones) else 'xla'


def synflow_precision(setting: str) -> str:
  """``auto``: float64 where the backend has it (CPU, GPU), the scaled float32 evaluation on TPU."""
  if setting == 'auto':
    return 'scaled_float32' if jax.default_backend() == 'tpu' else 'float64'
  return setting


def constant_output(graphdef, params, model_state, x) -> bool:
  """Whether the network's outputs on the batch ``x`` are identical for every example (to float32
  rounding, relative to their size): no input reaches the output, so no gradient reaches the layers
  below the cut."""
  logits = nnx.merge(graphdef, params, model_state, copy=True)(x)
  spread = jnp.max(jnp.std(logits, axis=0))
  return bool(spread <= 1e-6 * jnp.max(jnp.abs(logits)))


def schedule(cfg) -> core.PruningSchedule:
  return core.PruningSchedule(cfg.schedule, cfg.sparsity, cfg.begin_step, cfg.end_step, cfg.update_every)


def score_batch(splits: Splits, per_class: int, seed: int):
  """``per_class`` training examples of every class (fewer if a class is smaller), chosen by seed."""
  rng = np.random.default_rng([seed, 7])
  labels = splits.train.labels
  picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)]
  return np.sort(np.concatenate(picks)).astype(np.int32)


class Pruning:
  """The pruning set-up of one run: which leaves, their densities, the wrapped optimizer, PaI masks."""

  def __init__(self, cfg, params):
    self.cfg = cfg
    self.collapsed = False  # set by prune_at_init: the mask leaves an output that ignores the input
    self.selected = core.select_leaves(params, cfg.include, cfg.exclude)
    per_layer = dict(cfg.per_layer) if cfg.get('per_layer') else None
    self.densities = (core.layer_densities(params, self.selected, cfg.sparsity, cfg.distribution, per_layer)
                      if cfg.scope == 'layerwise' else None)
    self.at_init = cfg.method not in SCHEDULED
    self.schedule = None if self.at_init else schedule(cfg)
    self.fixed = False  # set by wrap: masks written once by the method, never refreshed

  def wrap(self, inner: optax.GradientTransformation, fixed: bool = False) -> optax.GradientTransformation:
    """``inner`` under the masked update: masks start all-kept (PaI writes its masks in afterwards).
    ``fixed``: never refresh them, even for a scheduled scorer — for a method that writes its own masks
    (Reconvene's magnitude UPaI would otherwise be redone by the schedule at the first step)."""
    self.fixed = fixed
    scheduled = self.schedule is not None and not fixed
    all_kept = lambda params: core.ones_masks(params, self.selected)  # at whatever shapes it is given
    return core.masked_update(inner, all_kept, self.schedule if scheduled else None,
                              self._magnitude_masks if scheduled else None)

  def _magnitude_masks(self, params, sparsity):
    scores = core.magnitude(params)
    if self.densities is None:
      return core.masks_global(scores, self.selected, sparsity)
    # Each layer follows the schedule in proportion to its final sparsity (its distribution share).
    fraction = sparsity / self.cfg.sparsity if self.cfg.sparsity else 0.0
    densities = jax.tree.map(lambda d: 1.0 - (1.0 - d) * fraction, self.densities)
    return core.masks_layerwise(scores, densities)

  def prune_at_init(self, defs: ModelDefs, state: TrainState, splits: Splits, seed: int) -> TrainState:
    """``state`` with the scorer's masks at initialisation applied to its params and optimizer state; a
    pruned network that computes the same output for every input (it cannot learn) is said at once."""
    scored = self.scored_masks_at_init(defs, state.params, state.model_state, splits, seed)
    masks = scored['masks']
    pruned = core.apply_masks(state.params, masks)
    self.collapsed = constant_output(defs.eval, pruned, state.model_state, scored['score_batch'])
    if self.collapsed:
      print(f'warning: the {self.cfg.method} mask at sparsity {self.cfg.sparsity} leaves a network whose '
            'output is the same for every score-batch input (a layer is cut, or all its units are dead: '
            'e.g. only negative weights kept in front of a ReLU); it will not learn — lower the sparsity '
            'or choose another scorer.', file=sys.stderr, flush=True)
    return state.replace(params=pruned, opt_state=optax.tree_utils.tree_set(state.opt_state, masks=masks))

  def masks_at_init(self, defs: ModelDefs, params, model_state, splits: Splits, seed: int):
    return self.scored_masks_at_init(defs, params, model_state, splits, seed)['masks']

  def scored_masks_at_init(self, defs: ModelDefs, params, model_state, splits: Splits, seed: int,
                           with_scores: bool = False) -> dict:
    """The scorer's masks at initialisation (and, ``with_scores``, its element scores at the end of
    scoring — SynFlow's last round — for ranking whole channels), with the seconds spent compiling and
    computing them (measured apart: ``compile_seconds``, of it ``lower_seconds``, ``score_seconds``) and
    the normalised ``score_batch`` they used."""
    indices = score_batch(splits, self.cfg.score_batch_per_class, seed)
    x, y = gather_batch(jnp.asarray(splits.train.images), jnp.asarray(splits.train.labels),
                        jnp.asarray(indices), jnp.asarray(splits.mean), jnp.asarray(splits.std))

    graph = defs.train if self.cfg.score_mode == 'train' else defs.eval

    def loss_at_temperature(p, temperature=1.0):
      logits = nnx.merge(graph, p, model_state, copy=True)(x)
      return cross_entropy(logits / temperature, y).mean()

    forward = lambda p, inputs: nnx.merge(defs.eval, p, model_state, copy=True)(inputs)
    context = core.ScoreContext(loss_fn=loss_at_temperature, loss_at_temperature=loss_at_temperature,
                                forward=forward, key=jax.random.PRNGKey(seed + 1),
                                input_shape=splits.input_shape, selected=self.selected)
    precision = synflow_precision(self.cfg.synflow_precision)
    kwargs = {'synflow': {'rounds': self.cfg.synflow_rounds, 'precision': precision},
              'grasp': {'temperature': self.cfg.grasp_temperature, 'prune': self.cfg.grasp_prune,
                        'over': self.cfg.grasp_over}}
    scorer = core.get_scorer(self.cfg.method, **kwargs.get(self.cfg.method, {}))

    # SynFlow's products of |θ| overflow float32 in deep nets.
    x64 = self.cfg.method == 'synflow' and precision == 'float64'
    with jax.enable_x64(True) if x64 else contextlib.nullcontext():
      plan = self._synflow_rounds if isinstance(scorer, core.SynFlow) else self._one_shot
      started = time.perf_counter()
      stages, run = plan(scorer, params, context, with_scores)  # may trace the network (synflow_loop)
      lowered = [jax.jit(fn).lower(*args) for fn, args in stages]
      lowered_at = time.perf_counter()
      compiled = [stage.compile() for stage in lowered]
      compiled_at = time.perf_counter()
      result = jax.block_until_ready(run(*compiled))
    return {**result, 'compile_seconds': compiled_at - started, 'lower_seconds': lowered_at - started,
            'score_seconds': time.perf_counter() - compiled_at, 'score_batch': x}

  def _one_shot(self, scorer, params, context, with_scores: bool):
    """One jitted function: the masks (and the scores they ranked)."""
    def compute(p):
      masks = scorer.masks(p, context, self.selected, self.cfg.sparsity, self.densities)
      return {'masks': masks, **({'scores': scorer.scores(p, context)} if with_scores else {})}

    return [(compute, (params,))], lambda compiled: compiled(params)

  def _synflow_rounds(self, scorer, params, context, with_scores: bool):
    """SynFlow's rounds in one compiled while loop (``scorer.masks``) or driven from the host, one
    compiled round each, as ``synflow_loop`` decides; the same masks either way (tested).
    With ``with_scores``, the scores of the final masked network: in the loop's jitted function (one
    compile, not two: a second executable costs seconds on VGG-16, and the scores come out the same,
    tested), or a compiled function of their own when driven from the host."""
    scores_fn = lambda p, m: scorer.scores(core.apply_masks(p, m), context)
    if synflow_loop(self.cfg.synflow_loop, context.forward, params, context.input_shape) == 'xla':
      def rounds(p):
        masks = scorer.masks(p, context, self.selected, self.cfg.sparsity, self.densities)
        return {'masks': masks, **({'scores': scores_fn(p, masks)} if with_scores else {})}
      return [(rounds, (params,))], lambda compiled: compiled(params)
    initial = core.ones_masks(params, self.selected)
    round_fn = lambda p, m, r: scorer.round(p, m, r, context, self.selected, self.cfg.sparsity,
                                            self.densities)

    def run(one_round, final_scores=None):
      masks = initial
      for r in range(scorer.rounds):
        masks = one_round(params, masks, jnp.asarray(r))
      return {'masks': masks, **({'scores': final_scores(params, masks)} if with_scores else {})}

    stages = [(round_fn, (params, initial, jnp.asarray(0)))] + [(scores_fn, (params, initial))] * with_scores
    return stages, run

  def summary(self) -> dict[str, float | str]:
    return {'target_sparsity': self.cfg.sparsity, 'pruning_method': self.cfg.method,
            'scope': self.cfg.scope, 'distribution': self.cfg.distribution,
            'schedule': 'at_init' if self.at_init or self.fixed else self.cfg.schedule}
