"""ADaPT — data-aware pruning and retraining ("Now that I can see, I can improve", Rajagopal & Bouganis 2020).

``config.adapt.protocol = 'authors'`` (the default) follows the authors' code, quirks included
(methods/adapt_authors.py: filters only, their p estimate, residual limits, the skipped entries; a fresh
optimizer after pruning; the data-agnostic baseline at its best all-class validation epoch, later on
ties, decaying at agnostic_decay_epochs; their DaPR search and pass test). ``'prunejax'`` is the
extension below (docs/papers/adapt.md compares the two):

    pretrained ← a dense run of the model on all classes (config.adapt.pretrained_workdir, shared)
    data_aware:
        fine-tune on the device's class subset for finetune_epochs at lr_before
        score every filter/unit by `criterion` (mean |W_f| by default), rank all globally, ascending
        remove filters in that order until p% of the weights are gone — a filter's kernel slice and
            its consumers' input slices, over all Dense/Conv kernels; dependency groups (residual adds,
            depthwise) removed jointly; at least min_channels per group — and shrink physically
        retrain on the subset to total_epochs: lr_after, ×0.1 at each of decay_epochs
    data_agnostic: the same removal on the pretrained network at epoch 0, then total_epochs on all
        classes at lr_after (×0.1 at decay_epochs); trained once per p and shared by every subset
    report: test accuracy on the subset at the best subset-validation epoch after pruning (the
        classifier keeps all classes: predictions are the argmax over all of them; with ``remap`` the
        data-aware network's head is cut to the subset's classes before fine-tuning, and p counts the
        weights of that network)
    dapr: the largest p in 5..95 (step 5) whose data-aware accuracy is at least the pretrained
        network's on the subset, by binary search from 50; each probe a resumable run in probes/
"""

import dataclasses
import hashlib
import math
import pathlib

import jax
import ml_collections
import numpy as np
import optax
from flax import nnx

from prunejax import core, data, edge, structure
from prunejax.data.sources import DATASET_SHAPES
from prunejax.errors import PrunejaxError
from prunejax.methods import adapt_authors
from prunejax.methods.adapt_settings import AdaptSettings, AgnosticSettings
from prunejax.methods.registry import check_no_pruning, register_method, train_and_evaluate
from prunejax.methods.unit_counting import complement, first_reaching, param_counter, removal_order
from prunejax.train import distributed
from prunejax.train import Run, finish, finished_summary, init_train_state, network_of, workdir_lock, write_summary

NAMED_SUBSETS = {'fashion_mnist': {'tops': (0, 2, 4, 6), 'footwear': (5, 7, 9)}}
NAMED_SUBSETS['fashion_mnist_idx'] = NAMED_SUBSETS['fashion_mnist']
KERNELS = r'kernel$'  # the weights p counts: every Dense/Conv kernel, the classifier's included
DAPR_STEP = 5


def subset_classes(config: ml_collections.ConfigDict) -> tuple[int, ...]:
  """``config.adapt.subset`` as sorted labels: a named group, ``random<k>`` (k labels, seed k), '1,3,8' or a
  list (a set of classes: its order means nothing, so a remapped head and its labels agree)."""
  subset, dataset = config.adapt.subset, config.dataset
  num_classes = DATASET_SHAPES[dataset][1]
  named = NAMED_SUBSETS.get(dataset, {})
  if isinstance(subset, str) and subset in named:
    return named[subset]
  if isinstance(subset, str) and subset.startswith('random') and subset[6:].isdigit():
    k = int(subset[6:])
    if not 0 < k < num_classes:
      raise PrunejaxError(f'config.adapt.subset={subset!r}: a random subset needs 0 < k < {num_classes}.')
    return tuple(sorted(int(c) for c in np.random.default_rng([k, 2020]).choice(num_classes, k, replace=False)))
  try:
    labels = tuple(int(c) for c in (subset.split(',') if isinstance(subset, str) else subset) if str(c).strip())
  except ValueError:
    raise PrunejaxError(f'config.adapt.subset={subset!r} is not a named group ({", ".join(named) or "none"} for '
                        f'{dataset}), random<k> or a list of labels like 1,3,8.') from None
  if not labels or len(set(labels)) != len(labels) or not all(0 <= c < num_classes for c in labels):
    raise PrunejaxError(f'config.adapt.subset={subset!r} must be distinct labels in [0, {num_classes}) of '
                        f'{dataset}, at least one.')
  return tuple(sorted(labels))


def check(config: ml_collections.ConfigDict) -> None:
  check_no_pruning(config)
  if 'adapt' not in config:
    raise PrunejaxError(f'config.method=adapt needs a config.adapt block; start from {AdaptSettings.example}.')
  AdaptSettings.from_config(config.adapt)
  subset_classes(config)
  if not config.validation_fraction:
    raise PrunejaxError('ADaPT picks the best validation epoch: set config.validation_fraction (0.2: 80/20).')
  if config.adapt.get('protocol', 'authors') == 'authors' and not config.optimizer.get('decay_all', False):
    raise PrunejaxError("config.adapt.protocol='authors' trains as their torch.optim.SGD does, with weight decay "
                        "on every parameter: set config.optimizer.decay_all=True (or protocol='prunejax').")


def pretrain_config(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
  """The dense pretraining on all classes an ADaPT config starts from (its model, data, recipe, seed)."""
  dense = ml_collections.ConfigDict(config.to_dict())
  dense.method = 'dense'
  del dense['adapt']
  return dense


def pretrained(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> None:
  """Trains the pretraining in ``workdir`` unless a finished run of the same model and data is there."""
  if (workdir / 'summary.json').exists():
    return  # a finished run of any recipe (read-only is fine); network_of checks its model, data and split
  with workdir_lock(workdir, wait=True):  # shared by a grid: another process may be training it
    if not (workdir / 'summary.json').exists():
      distributed.say(f'pretraining {config.model} on all classes in {workdir}')
      train_and_evaluate(pretrain_config(config), workdir)


# Runs written before the protocol existed followed today's 'prunejax' rules: they stay resumable under it.
@register_method('adapt', check=check, later_defaults={'remap': False, 'protocol': 'prunejax',
                                                        'agnostic_decay_epochs': (10, 20)})
def adapt(run: Run) -> dict:
  cfg = run.config.adapt
  if cfg.mode == 'dapr':
    return dapr(run)
  if cfg.mode == 'data_agnostic':
    return data_agnostic(run)
  classes = subset_classes(run.config)
  subset = run.add_view(data.class_subset(run.splits, classes, remap=cfg.remap))
  check_reachable(run)
  unpruned = start_from_pretrained(run)
  if cfg.remap:  # the run's own figures (test_accuracy, validation) are then the subset's, k-way
    unpruned = {**unpruned, **run.once('remap_head', lambda: remap_head(run, subset, classes))}
    run.default_view = subset
  run.learning_rate = learning_rate(cfg, len(subset.train) // run.batch_size, before_epochs=cfg.finetune_epochs)
  run.train('finetune_on_subset', epochs=cfg.finetune_epochs, view=subset)
  removal = run.once('prune', lambda: prune(run, subset))
  retrain(run, subset, cfg.total_epochs - cfg.finetune_epochs)
  best = best_epoch(run.notes['epochs'], range(len(classes)) if cfg.remap else classes)
  return write_summary(run, 'adapt', {**block_figures(run), **figures(unpruned, removal, best, run.config),
                                      'selected_on': 'subset validation (first best epoch)',
                                      'units_final': {name: len(kept) for name, kept in run.keep.items()}},
                       check=with_ratios)


def data_agnostic(run: Run) -> dict:
  """Reads (or trains, once per p) the shared data-agnostic run, then takes the subset's figures from
  its per-class records: the training does not depend on the subset."""
  workdir = pathlib.Path(run.config.adapt.agnostic_workdir or run.workdir / 'agnostic')
  shared = agnostic_config(run.config, run.workdir)
  s = finished_summary(workdir, shared)
  if s is None:
    with workdir_lock(workdir, wait=True):  # every subset's agnostic run reads (or trains) it
      s = finished_summary(workdir, shared) or train_and_evaluate(shared, workdir)
  classes = subset_classes(run.config)
  unpruned = {'pretrained_digest': s['pretrained_digest'], 'flops_dense': s['flops_dense'],
              'unpruned_subset_accuracy': subset_accuracy(s['unpruned_test'], classes)}
  summary = {k: v for k, v in s.items() if k not in ('epochs', 'unpruned_test')}
  if run.config.adapt.protocol == 'authors':  # their baseline: the best all-class epoch, later on ties
    num_classes = len(s['epochs'][0]['validation']['count'])
    best, selected_on = best_epoch(s['epochs'], classes, range(num_classes), later=True), \
        'all-class validation (last best epoch)'
  else:
    best, selected_on = best_epoch(s['epochs'], classes), 'subset validation (first best epoch)'
  summary.update({**block_figures(run), **figures(unpruned, s, best, run.config), 'selected_on': selected_on,
                  'method': 'adapt', 'agnostic_workdir': str(workdir)})
  return finish(run, summary, own_network=False)


AGNOSTIC_FIELDS = tuple(f.name for f in dataclasses.fields(AgnosticSettings))


def agnostic_config(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> ml_collections.ConfigDict:
  """The subset-free config of the shared data-agnostic training (pretrained_workdir resolved)."""
  shared = ml_collections.ConfigDict(config.to_dict())
  shared.method = 'adapt_agnostic'
  shared.adapt = ml_collections.ConfigDict({k: config.adapt[k] for k in AGNOSTIC_FIELDS})
  shared.adapt.pretrained_workdir = str(pretrained_workdir(config, workdir))
  return shared


@register_method('adapt_agnostic')
def adapt_agnostic(run: Run) -> dict:
  """Data-agnostic ADaPT on all classes: prune the pretrained network at epoch 0, retrain; per-class
  validation and test counts each epoch (and of the pretrained network) for any subset to read."""
  cfg = run.config.adapt
  check_reachable(run)
  unpruned = start_from_pretrained(run)
  decays = cfg.agnostic_decay_epochs if cfg.protocol == 'authors' else cfg.decay_epochs
  run.learning_rate = learning_rate(cfg, len(run.default_view.train) // run.batch_size, before_epochs=0,
                                    decay_epochs=decays)
  removal = run.once('prune', lambda: prune(run, None))
  retrain(run, run.default_view, cfg.total_epochs)
  return write_summary(run, 'adapt_agnostic', {
      **block_figures(run), **unpruned, **removal, 'epochs': run.notes['epochs'],
      'units_final': {name: len(kept) for name, kept in run.keep.items()}}, check=with_ratios)


def pretrained_workdir(config: ml_collections.ConfigDict, workdir: pathlib.Path) -> pathlib.Path:
  return pathlib.Path(config.adapt.pretrained_workdir or workdir / 'pretrained')


def start_from_pretrained(run: Run) -> dict:
  """Pretrains (once per pretrained_workdir) and makes the pretrained network the run's state; records
  its digest, FLOPs and per-class test counts (the unpruned network on any subset)."""
  workdir = pretrained_workdir(run.config, run.workdir)
  pretrained(run.config, workdir)
  _, params, model_state = network_of(run, workdir)

  def load() -> dict:
    run.state = init_train_state(params, model_state, run.optimizer, run.config.seed)
    test = run.evaluate(None, 'test', per_class=True)
    digest = hashlib.sha256(b''.join(np.asarray(x).tobytes() for x in jax.tree.leaves(params))).hexdigest()
    flops = edge.forward_flops_per_example(run.apply_fn(), params, model_state, run.splits.input_shape)
    return {'pretrained_digest': digest, 'flops_dense': flops,
            'unpruned_test': {'correct': test['class_correct'], 'count': test['class_count']}}

  return run.once('load_pretrained', load)


def remap_head(run: Run, subset: data.View, classes) -> dict:
  """Cuts the classifier to the subset's classes (sorted, as the view's labels 0..k-1): the pretrained
  network with a k-way head is the unpruned reference — its subset accuracy, parameters and FLOPs."""
  heads = [g for g in run.groups() if g.reason == structure.OUTPUT_REASON]
  if len(heads) != 1:
    raise PrunejaxError(f'config.adapt.remap needs one classifier output; {run.config.model} has {len(heads)} '
                        'output channel groups: set remap=False.')
  run.shrink({heads[0].name: list(classes)}, outputs=True)
  params, model_state = run.state.params, run.state.model_state
  return {'unpruned_subset_accuracy': run.evaluate(subset, 'test')['accuracy'],
          'params_dense': run.params_count(),
          'flops_dense': edge.forward_flops_per_example(run.apply_fn(), params, model_state, run.splits.input_shape)}


def block_figures(run: Run) -> dict:
  cfg = run.config.adapt
  return {'prune_percent': cfg.prune_percent, 'criterion': cfg.criterion, 'remap': bool(cfg.get('remap')),
          'protocol': cfg.get('protocol', 'prunejax'),
          'params_dense': sum(int(np.prod(x.shape)) for x in jax.tree.leaves(run.initial_params))}


def figures(unpruned: dict, removal: dict, best: dict, config) -> dict:
  classes = subset_classes(config)
  accuracy = (unpruned['unpruned_subset_accuracy'] if 'unpruned_subset_accuracy' in unpruned
              else subset_accuracy(unpruned['unpruned_test'], classes))
  remapped = {'params_dense': unpruned['params_dense']} if 'params_dense' in unpruned else {}
  # epochs: this run's own training (config.num_epochs is the pretrained network's).
  return {**remapped, 'mode': config.adapt.mode, 'epochs': config.adapt.total_epochs, 'subset': list(classes),
          'subset_name': str(config.adapt.subset),
          'pretrained_digest': unpruned['pretrained_digest'], 'unpruned_subset_accuracy': accuracy,
          'weights_pruned_fraction': removal['weights_pruned_fraction'],
          # (runs recorded before the rename hold filters_removed: the same count)
          'units_removed': removal.get('units_removed', removal.get('filters_removed')),
          'flops_dense': unpruned['flops_dense'], **best,
          **{k: removal[k] for k in ('estimated_percent', 'ranked_entries_used') if k in removal}}


def with_ratios(summary: dict) -> None:
  """Adds the contract's ``params_final`` and ``flops_ratio`` (unpruned FLOPs / final FLOPs)."""
  summary['params_final'] = summary['params_total']
  summary['flops_ratio'] = summary['flops_dense'] / summary['flops_per_example']


def learning_rate(cfg, steps_per_epoch: int, before_epochs: float, decay_epochs=None) -> optax.Schedule:
  """lr_before for ``before_epochs``, then lr_after, ×0.1 at each of ``decay_epochs`` (default
  cfg.decay_epochs; counted from 0)."""
  boundaries = {int(before_epochs * steps_per_epoch): cfg.lr_after / cfg.lr_before} if before_epochs else {}
  for epoch in cfg.decay_epochs if decay_epochs is None else decay_epochs:
    boundaries[int(epoch * steps_per_epoch)] = boundaries.get(int(epoch * steps_per_epoch), 1.0) * 0.1
  return optax.piecewise_constant_schedule(cfg.lr_before if before_epochs else cfg.lr_after, boundaries)


def prune(run: Run, subset: data.View | None) -> dict:
  """Removes the lowest-ranked filters until p% of the weights are gone (by the protocol's rule); shrinks
  physically."""
  cfg = run.config.adapt
  groups = [g for g in run.groups() if g.prunable]
  if cfg.get('protocol', 'prunejax') == 'authors':
    return prune_as_authors(run, groups)
  batches = None
  if cfg.criterion in structure.DATA_CRITERIA:
    batches = run.batches(subset, cfg.score_examples, run.config.eval_batch_size, seed=run.config.seed)
  scores = structure.model_scores(run.model(), groups, cfg.criterion, batches, seed=run.config.seed)
  keep, fraction = filters_to_keep(groups, scores, param_counter(run, KERNELS), cfg.prune_percent / 100,
                                   cfg.min_channels)
  run.shrink(keep)
  return {'weights_pruned_fraction': fraction, 'units_removed': sum(g.size - len(keep.get(g.name, range(g.size)))
                                                                      for g in groups)}


def check_reachable(run: Run) -> None:
  """Refuses, before any training, a p the authors' rule cannot reach on this architecture (their estimate
  depends on the shapes; the ranking on the weights, so this runs it on the initial ones). Once pruned (a
  resumed run), there is nothing to check."""
  if run.config.adapt.get('protocol', 'prunejax') == 'authors' and not run.keep:
    authors_removal(run, [g for g in run.groups() if g.prunable])


def authors_removal(run: Run, groups) -> adapt_authors.Removal:
  cfg = run.config.adapt
  params = run.state.params
  leaves = dict(zip(jax.tree.leaves(core.leaf_paths(params)), jax.tree.leaves(params)))
  kernels = {path: np.asarray(leaf) for path, leaf in leaves.items() if path.endswith('kernel')}
  x = np.zeros((1,) + tuple(run.splits.input_shape), np.float32)
  modules = structure.layers_in_forward_order(lambda p, inputs: run.apply_fn()(p, run.state.model_state, inputs),
                                              params, x)
  order = [f'{module}/kernel' for module in modules if f'{module}/kernel' in kernels]
  depthwise = frozenset(f'{"/".join(map(str, path))}/kernel' for path, module in nnx.iter_modules(run.model())
                        if isinstance(module, nnx.Conv) and module.feature_group_count > 1)
  removal = adapt_authors.remove_filters(groups, kernels, run.params_count(), cfg.prune_percent, order, depthwise)
  adapt_authors.check_reached(removal, cfg.prune_percent, run.config.model)
  return removal


def prune_as_authors(run: Run, groups) -> dict:
  """Their loop and estimate (methods/adapt_authors.py), then a fresh optimizer (momentum reset), as
  their pruner builds a new SGD after pruning."""
  total = run.params_count()
  removal = authors_removal(run, groups)
  run.shrink(removal.keep)
  run.state = run.state.replace(opt_state=run.optimizer.init(run.state.params))
  return {'weights_pruned_fraction': 1 - run.params_count() / total,
          'estimated_percent': removal.estimated_percent, 'ranked_entries_used': removal.entries_used,
          'units_removed': sum(g.size - len(removal.keep.get(g.name, range(g.size))) for g in groups)}


def filters_to_keep(groups, scores, count_weights, fraction: float, min_channels: int):
  """The smallest prefix of the global ascending order (leaving ``min_channels`` per group) whose removal
  takes at least ``fraction`` of the weights ``count_weights`` counts; returns (keep, fraction removed)."""
  order = removal_order(groups, scores, min_channels)
  total = count_weights({})
  # Weights to remove, in integers (a float product may miss an exact share by one ulp); p > 0 removes some.
  needed = max(math.ceil(fraction * total - 1e-9 * total), 1 if fraction > 0 else 0)
  removed = lambda m: total - count_weights(complement(groups, order[:m]))
  if removed(len(order)) < needed:
    raise PrunejaxError(f'removing {fraction:.0%} of the weights is impossible with min_channels={min_channels} '
                        f'per layer (at most {removed(len(order)) / total:.1%}); lower config.adapt.prune_percent.')
  if needed <= 0:
    return {}, 0.0
  length = first_reaching(0, len(order), lambda m: removed(m) >= needed)
  return complement(groups, order[:length]), removed(length) / total


def retrain(run: Run, view: data.View, epochs: float) -> None:
  """Trains ``epochs`` on ``view``, recording per-class validation and test counts after each epoch
  (on the view: per class, so any subset of its classes can be read from them)."""
  def record(run: Run) -> None:
    counts = {split: run.evaluate(view, split, per_class=True) for split in ('validation', 'test')}
    run.notes.setdefault('epochs', []).append(
        {split: {'correct': f['class_correct'], 'count': f['class_count']} for split, f in counts.items()})
  run.train('retrain', epochs=epochs, view=view, every=len(view.train) // run.batch_size, on_event=record)


def subset_accuracy(counts: dict, classes) -> float:
  return sum(counts['correct'][c] for c in classes) / max(sum(counts['count'][c] for c in classes), 1)


def best_epoch(epochs: list[dict], classes, selected_on=None, later: bool = False) -> dict:
  """The epoch with the best validation accuracy on ``selected_on`` classes (default: the subset's; the
  first on ties, or the last with ``later``) and its subset test accuracy."""
  chooser = classes if selected_on is None else selected_on
  scored = [(subset_accuracy(e['validation'], chooser), i if later else -i, subset_accuracy(e['test'], classes),
             subset_accuracy(e['validation'], classes)) for i, e in enumerate(epochs)]
  _, position, test, validation = max(scored)
  return {'best_epoch': 1 + abs(position), 'subset_validation_accuracy': validation, 'subset_accuracy': test}


def dapr_search(passes) -> int:
  """The largest k in 1..19 with ``passes(k)`` (p = 5k%), assuming passing is monotone in p, by binary
  search from k = 10 (p = 50); 0 when even p = 5 fails."""
  low, high = 0, 100 // DAPR_STEP  # p = 5·low passes (0: unpruned), p = 5·high fails (100%)
  while high - low > 1:
    middle = (low + high) // 2
    low, high = (middle, high) if passes(middle) else (low, middle)
  return low


def passes(probe: dict, protocol: str = 'prunejax') -> bool:
  if probe.get('unreachable'):
    return False
  if protocol == 'authors':
    return adapt_authors.passes(probe['subset_accuracy'], probe['unpruned_subset_accuracy'])
  return probe['subset_accuracy'] >= probe['unpruned_subset_accuracy']


def dapr(run: Run) -> dict:
  """Binary search over p in 5..95 for the largest data-aware p that keeps the unpruned accuracy."""
  probes: dict[int, dict] = {}

  def probe(percent: int) -> dict:
    config = ml_collections.ConfigDict(run.config.to_dict())
    config.adapt.update(mode='data_aware', prune_percent=percent,
                        pretrained_workdir=run.config.adapt.pretrained_workdir or str(run.workdir / 'pretrained'))
    workdir = run.workdir / 'probes' / f'p{percent}'
    try:
      s = finished_summary(workdir, config) or train_and_evaluate(config, workdir)
    except adapt_authors.Unreachable:  # the authors' loop would stop below p: a probe that cannot pass
      return {'prune_percent': float(percent), 'unreachable': True}
    keys = ('prune_percent', 'subset_accuracy', 'unpruned_subset_accuracy', 'weights_pruned_fraction',
            'params_total', 'flops_per_example', 'flops_ratio', 'params_dense', 'test_accuracy')
    return {k: s[k] for k in keys}

  protocol = run.config.adapt.get('protocol', 'prunejax')
  measured = lambda percent: probes.setdefault(percent, run.once(f'probe_p{percent}', lambda: probe(percent)))
  if protocol == 'authors':
    found = adapt_authors.dapr_search(lambda percent: passes(measured(percent), protocol))
  else:
    found = DAPR_STEP * dapr_search(lambda k: passes(measured(DAPR_STEP * k)))
  best = probes.get(found)
  summary = {'method': 'adapt', 'mode': 'dapr', 'subset': list(subset_classes(run.config)),
             'subset_name': str(run.config.adapt.subset), 'dapr_percent': found, 'protocol': protocol,
             'probes': [probes[k] for k in sorted(probes)], 'found': best is not None,
             **({f'best_{k}': v for k, v in best.items()} if best else {}),
             **({'test_accuracy': best['test_accuracy'], 'subset_accuracy': best['subset_accuracy']} if best else {})}
  return finish(run, summary, own_network=False)
