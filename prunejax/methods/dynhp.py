"""DynHP — dynamic hard pruning with dynamic batch sizing (Valerio, Nardini, Passarella, Perego 2020).

A **reconstruction**: the paper's claims are known, its algorithm is not (docs/papers/dynhp.md); every
unknown is a field of ``config.dynhp``. Our algorithm:

    budget ← compiled bytes of one training step of the dense network at the initial batch
    target ← ⌈params_dense / target_compression⌉
    train from scratch for num_epochs; every prune_every steps from begin_step (steps of the initial
    batch: the schedule counts examples), while params > target:
        score every unit (Dense neuron, conv filter: a traced channel group) by config.dynhp.score
        remove the rate·(remaining prunable units) lowest-ranked, at least min_units per group;
            the last prune stops where one more would fall below target, then removes any later
            (cheaper) unit that still keeps the count at or above it
        shrink params, BatchNorm statistics and optimizer state — the arrays really shrink ("hard")
        batch ← largest batch whose compiled step fits the budget (dynamic batch sizing)

Ranking is global over units whose scores are divided by their group's mean (scales differ by layer)
and, with ``cost_aware``, by the parameters a unit of that group takes with it (``cost_unit='step_bytes'``:
the training step's compiled bytes it frees, activations included) — the least important per cost freed
goes first, so cheap units of narrow layers are not emptied to save little — or per
layer (``scope='layerwise'``: by rank within the group). Training length is in epochs, so a bigger
batch means fewer steps; ``lr_scaling`` may scale the learning rate with the batch.
"""

import math

import jax
import ml_collections
import numpy as np

from prunejax import edge, structure
from prunejax.errors import PrunejaxError
from prunejax.methods.dynhp_settings import DynHPSettings
from prunejax.methods.registry import check_no_pruning, register_method
from prunejax.methods.unit_counting import complement, first_reaching, param_counter, removal_order
from prunejax.train import Run, distributed, init_train_state, split_model, write_summary
from prunejax.train.memory import update_step_bytes

def check(config: ml_collections.ConfigDict) -> None:
  check_no_pruning(config)
  if 'dynhp' not in config:
    raise PrunejaxError(f'config.method=dynhp needs a config.dynhp block; start from {DynHPSettings.example}.')
  cfg = DynHPSettings.from_config(config.dynhp)
  if cfg.batch_sizing and cfg.max_batch_size < config.batch_size:
    raise cfg.error('max_batch_size', f'is below config.batch_size={config.batch_size}: batch sizing would '
                    'shrink the batch; raise it (or set batch_sizing=False).')


@register_method('dynhp', check=check, later_defaults={'cost_unit': 'params'})
def dynhp(run: Run) -> dict:
  cfg = run.config.dynhp
  run.lr_scaling = cfg.lr_scaling
  plan = run.once('plan', lambda: _plan(run, cfg))

  # The schedule counts examples (steps at config.batch_size), so a growing batch does not slow it down.
  reference = run.config.batch_size

  def prune(run: Run) -> None:
    due = run.notes.get('next_prune_examples', cfg.begin_step * reference)
    if run.notes.get('done') or run.examples_seen() < due:
      return
    run.notes['next_prune_examples'] = due + cfg.prune_every * reference
    keep = units_to_keep(run, cfg, plan['target_params'])
    if keep is None:  # landed on the target (no unit can go without falling below it)
      run.notes['done'] = True
      return
    run.shrink(keep)
    run.notes['num_prunes'] = run.notes.get('num_prunes', 0) + 1
    run.notes['last_prune_examples'] = run.examples_seen()
    if cfg.batch_sizing:
      run.set_batch_size(largest_batch(run, plan['budget_bytes'], cfg.max_batch_size))

  run.train('train', epochs=run.config.num_epochs, every=1, on_event=prune)
  final = run.params_count()
  dense_bytes = plan['dense_step_bytes']
  missed = {}
  if _could_remove_more(run, cfg, plan['target_params']):  # not landed: the schedule ended first
    missed = {'warning': f'compression {plan["params_dense"] / final:.2f} misses target_compression='
                         f'{cfg.target_compression} ({final:,} params left, target {plan["target_params"]:,}): '
                         'the schedule ended first; lower begin_step or prune_every, or raise rate.'}
    distributed.say(missed['warning'], warning=True)
  last_prune = run.notes.get('last_prune_examples')  # (None: resumed from before prunes were dated)
  trained_after = None if last_prune is None else (run.examples_seen() - last_prune) // reference
  if trained_after is not None and trained_after < cfg.prune_every:
    late = (f'the last prune came {trained_after} steps (of batch {reference}) before the end, fewer than '
            f'prune_every={cfg.prune_every}: the final network hardly trained after it; lower begin_step or '
            'prune_every, or raise num_epochs.')
    distributed.say(late, warning=True)
    missed = {'warning': ' '.join(filter(None, [missed.get('warning'), late]))}
  return write_summary(run, 'dynhp', {**missed,
      'params_dense': plan['params_dense'], 'params_final': final, 'target_params': plan['target_params'],
      'compression': plan['params_dense'] / final, 'dense_step_bytes': dense_bytes,
      'budget_bytes': plan['budget_bytes'],
      'peak_step_bytes_ratio': run.memory.peak_step_bytes / dense_bytes,
      'mean_step_bytes_ratio': run.memory.mean_step_bytes() / dense_bytes,
      'final_step_bytes_ratio': run.step_bytes() / dense_bytes, 'batch_size_final': run.batch_size,
      'num_prunes': run.notes.get('num_prunes', 0), 'score': cfg.score, 'scope': cfg.scope,
      'batch_sizing': bool(cfg.batch_sizing), 'lr_scaling': cfg.lr_scaling, 'cost_aware': bool(cfg.cost_aware),
      'cost_unit': cfg.get('cost_unit', 'params'),
      'units_final': {name: len(kept) for name, kept in run.keep.items()},
  })


def _plan(run: Run, cfg) -> dict:
  """The budget, the dense figures and the parameter target; refuses a target no shrink can reach."""
  dense = run.params_count()
  target = math.ceil(dense / cfg.target_compression)
  groups = [g for g in run.groups() if g.prunable]
  floor = param_counter(run)({g.name: np.arange(min(cfg.min_units, g.size)) for g in groups})
  if floor > target:
    raise PrunejaxError(f'config.dynhp.target_compression={cfg.target_compression} needs {target:,} '
                        f'parameters, but {cfg.min_units} units per layer already take {floor:,}; '
                        'lower the compression or config.dynhp.min_units.')
  _check_reachable(run, cfg, groups, dense, target)
  if cfg.score == 'bn_scale':  # refused now, not at the first prune, where a network lacks BatchNorm
    structure.model_scores(run.model(), groups, 'bn_scale')
  dense_bytes = run.step_bytes()
  budget = int(cfg.memory_budget_bytes) or dense_bytes
  if budget != dense_bytes and cfg.batch_sizing:  # an explicit budget: start at the batch that fits it
    run.set_batch_size(largest_batch(run, budget, cfg.max_batch_size))
  return {'params_dense': dense, 'target_params': target, 'dense_step_bytes': dense_bytes,
          'budget_bytes': budget}


def _could_remove_more(run: Run, cfg, target_params: int) -> bool:
  """Whether some unit could still go without the parameters falling below the target: the run stopped
  short of it (a landed run stops just above the target, where every further unit would cross it)."""
  count = param_counter(run)
  return any(count({g.name: np.arange(1, g.size)}) >= target_params
             for g in run.groups() if g.prunable and g.size > cfg.min_units)


def _check_reachable(run: Run, cfg, groups, dense: int, target: int) -> None:
  """Refuses a schedule that cannot reach the target within the run: its prunes (every prune_every steps
  from begin_step, counted in examples) remove at most rate·remaining units each, and no set of units
  frees more parameters than the sum of what each frees alone in the dense network."""
  # An upper bound on the reference steps the run sees: a grown batch consumes whole epochs of examples.
  total = math.ceil(run.config.num_epochs * len(run.splits.train) / run.config.batch_size)
  prunes = (total - cfg.begin_step) // cfg.prune_every + 1 if cfg.begin_step <= total else 0
  removable = sum(max(g.size - cfg.min_units, 0) for g in groups)
  remaining, removed = sum(g.size for g in groups), 0
  for _ in range(prunes):
    step = min(max(1, math.ceil(cfg.rate * remaining)), removable - removed)
    removed, remaining = removed + step, remaining - step
  count = param_counter(run)
  one_unit = {g.name: dense - count({g.name: np.arange(1, g.size)}) for g in groups if g.size > cfg.min_units}
  freed_each = sorted((freed for g in groups if g.name in one_unit
                       for freed in [one_unit[g.name]] * (g.size - cfg.min_units)), reverse=True)
  if dense - sum(freed_each[:removed]) > target:
    raise PrunejaxError(
        f'config.dynhp cannot reach target_compression={cfg.target_compression} within the run: '
        f'begin_step={cfg.begin_step} and prune_every={cfg.prune_every} leave {prunes} prunes in '
        f'{total} steps, removing at most {removed} units, which leaves more than {target:,} of {dense:,} '
        'parameters; lower begin_step or prune_every, or raise rate or num_epochs.')


def units_to_keep(run: Run, cfg, target_params: int) -> dict[str, np.ndarray] | None:
  """Kept unit indices per group after one prune: the ``rate`` share of the remaining prunable units,
  lowest-ranked first, cut where the next removal would take the parameter count below the target."""
  groups = [g for g in run.groups() if g.prunable]
  batches = None
  if cfg.score in structure.DATA_CRITERIA:
    batches = run.batches(None, cfg.score_examples, run.config.eval_batch_size, seed=run.phase_steps())
  scores = structure.model_scores(run.model(), groups, cfg.score, batches, seed=run.phase_steps())
  params_after = param_counter(run)
  costs = None
  if cfg.cost_aware and cfg.get('cost_unit', 'params') == 'step_bytes':
    costs = step_bytes_per_unit(run, groups)
  elif cfg.cost_aware:  # parameters a unit of each group takes with it (its in- and out-weights, bias...)
    total = params_after({})
    costs = {g.name: total - params_after({g.name: np.arange(1, g.size)}) for g in groups if g.size > 1}
  order = removal_order(groups, scores, cfg.min_units, _global_key(cfg.scope, costs))
  if not order:
    return None
  remaining = sum(g.size for g in groups)
  wanted = min(len(order), max(1, math.ceil(cfg.rate * remaining)))
  removed = order[:wanted]
  if params_after(complement(groups, removed)) < target_params:  # last prune: land on the target
    kept_on_target = first_reaching(
        0, wanted, lambda m: params_after(complement(groups, order[:m])) < target_params) - 1
    removed = order[:kept_on_target]
    for unit in order[kept_on_target:]:  # then any later (cheaper) unit whose removal stays on the target
      if params_after(complement(groups, removed + [unit])) >= target_params:
        removed = removed + [unit]
  return complement(groups, removed) if removed else None


def step_bytes_per_unit(run: Run, groups, share: float = 0.25) -> dict[str, float]:
  """Per group, the compiled bytes of one training step (at the current batch) freed per unit removed: XLA's
  analysis of the current step against the step with ``share`` of that group's units gone (at least one),
  so a convolution's activation maps and their gradients count, not only its weights."""
  full = run.step_bytes()
  costs = {}
  for g in groups:
    if g.size <= 1:
      continue
    removed = max(1, int(g.size * share))
    shrunk = structure.shrink(run.model(), {g.name: np.arange(removed, g.size)}, groups)
    defs, params, model_state = split_model(shrunk)
    state = jax.eval_shape(lambda: init_train_state(params, model_state, run.optimizer, run.config.seed))
    freed = full - update_step_bytes(defs, run.optimizer, state, run.batch_size, run.splits.input_shape, run.loss)
    costs[g.name] = max(freed, 1) / removed
  return costs


def _global_key(scope: str, costs=None):
  """A group's units placed in the global order: by score over the group's mean (``global``; with
  ``costs``, the cost one unit of each group frees, by importance per cost freed), or by rank within the
  group (``layerwise``)."""
  def key(g, s):
    if scope != 'global':
      return np.argsort(np.argsort(s, kind='stable'), kind='stable') / g.size
    k = s / max(float(s.mean()), 1e-30)
    return k / max(costs[g.name], 1) if costs is not None and g.name in costs else k
  return key


def largest_batch(run: Run, budget: int, max_batch_size: int) -> int:
  """The largest batch (a multiple of the device count) whose compiled step fits ``budget`` (on CPU, where
  XLA pads no batch dimension, the search trusts a checked line for the answer's neighbour)."""
  limit = min(max_batch_size, len(run.splits.train))
  return edge.largest_batch_within(budget, run.step_bytes, multiple=run.mesh.size, limit=limit,
                                   hint=run.batch_size, affine=jax.default_backend() == 'cpu')
