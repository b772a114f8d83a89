"""The DynHP reproduction: on Fashion-MNIST, for LeNet-300-100 and LeNet-5 at each target compression —
dense; DynHP with and without dynamic batch sizing; gradual magnitude pruning (unstructured) to DynHP's
final parameter count; a dense network of DynHP's final shape trained from scratch. Writes REPORT.md.
"""

import pathlib

import jax
import ml_collections
import numpy as np
from flax import nnx

from prunejax import core, models
from prunejax.data.sources import DATASET_SHAPES
from prunejax.report import markdown_table, plot_runs
from prunejax.reproductions.grid import Entry, base_config, paired_latency, run_grid

MODELS = {'lenet300': 'dynhp_lenet300_fashion_mnist.py', 'lenet5': 'dynhp_lenet5_fashion_mnist.py',
          'vit_tiny': 'dynhp_vit_tiny_fashion_mnist.py'}
MODES = {
    'full': {'epochs': {'lenet300': 20, 'lenet5': 20, 'vit_tiny': 20},
             'compressions': {'lenet300': (10.0, 5.0), 'lenet5': (10.0, 5.0), 'vit_tiny': (4.0, 2.0)},
             'begin_epochs': 1.0, 'prune_every': 100, 'ablation': True},
    'quick': {'epochs': {'lenet300': 8, 'lenet5': 4, 'vit_tiny': 4},
              'compressions': {'lenet300': (10.0,), 'lenet5': (10.0,), 'vit_tiny': (4.0,)},
              'begin_epochs': 0.5, 'prune_every': 50, 'ablation': False},
}
STEPS_PER_EPOCH = 421  # Fashion-MNIST: 54,000 training examples (10% validation) / batch 128
VARIANTS = ('dense', 'dynhp', 'dynhp_fixed_batch', 'small_dense', 'magnitude')
# Convolutional models also run DynHP (fixed batch) with the memory-aware unit cost: there the early
# layers' activation maps, not the weights, hold the training step's memory.
STEP_BYTES_MODELS = ('lenet5',)


def variants(model: str) -> tuple[str, ...]:
  return VARIANTS + (('dynhp_step_bytes',) if model in STEP_BYTES_MODELS else ())


def run_config(model: str, method: str, mode: dict) -> ml_collections.ConfigDict:
  config = base_config(MODELS[model])
  config.num_epochs, config.method = mode['epochs'][model], method
  config.dynhp.begin_step = int(mode['begin_epochs'] * STEPS_PER_EPOCH)
  config.dynhp.prune_every = mode['prune_every']
  if method not in ('dynhp',):
    del config['dynhp']
  return config


def grid(root: pathlib.Path, model: str, compression: float, mode: dict) -> list[Entry]:
  """The runs of one (model, compression), one per variant; the dense run is shared across compressions."""
  tag = f'{model}_{compression:g}x'

  def dynhp(sizing, cost_unit='params'):
    def make(_):
      config = run_config(model, 'dynhp', mode)
      config.dynhp.target_compression, config.dynhp.batch_sizing = compression, sizing
      config.dynhp.cost_unit = cost_unit
      return config
    return make

  def small_dense(_):
    config = run_config(model, 'small_dense', mode)
    config.small_dense = ml_collections.ConfigDict({'widths_from': str(root / f'dynhp_{tag}')})
    return config

  def magnitude(summaries):
    config = run_config(model, 'sparse', mode)
    pruning = config.pruning
    pruning.method, pruning.schedule = 'magnitude', 'polynomial'
    pruning.sparsity = sparsity_leaving(config, summaries[f'dynhp_{tag}']['params_final'])
    pruning.begin_step = int(mode['begin_epochs'] * STEPS_PER_EPOCH)
    pruning.end_step = int(0.6 * config.num_epochs * STEPS_PER_EPOCH)
    return config

  makers = {'dense': lambda _: run_config(model, 'dense', mode), 'dynhp': dynhp(True),
            'dynhp_fixed_batch': dynhp(False), 'small_dense': small_dense, 'magnitude': magnitude,
            'dynhp_step_bytes': dynhp(False, 'step_bytes')}
  return [Entry(f'dense_{model}' if v == 'dense' else f'{v}_{tag}', makers[v]) for v in variants(model)]


def sparsity_leaving(config: ml_collections.ConfigDict, target_params: int) -> float:
  """The sparsity of ``config.pruning``'s prunable kernels that leaves ``target_params`` non-zero."""
  shape, classes = DATASET_SHAPES[config.dataset]
  params = nnx.state(models.create_model(config.model, shape, classes, config.seed), nnx.Param)
  selected = core.select_leaves(params, config.pruning.include, config.pruning.exclude)
  sizes = [(int(np.prod(p.shape)), flag) for p, flag in zip(jax.tree.leaves(params), jax.tree.leaves(selected))]
  prunable = sum(size for size, flag in sizes if flag)
  fixed = sum(size for size, flag in sizes if not flag)
  return 1.0 - (target_params - fixed) / prunable


COLUMNS = (('variant', 'variant', '{}'), ('test_error', 'test error', '{:.2%}'),
           ('extra_error_pp', 'vs dense (pp)', '{:+.2f}'), ('compression', 'compression', '{:.2f}x'),
           ('params_nonzero', 'non-zero params', '{:,}'), ('peak_ratio', 'peak step bytes', '{:.3f}'),
           ('mean_ratio', 'mean step bytes', '{:.3f}'), ('final_ratio', 'final step bytes', '{:.3f}'),
           ('batch_size', 'final batch', '{}'), ('time_ratio', 'wall time', '{:.2f}'),
           ('flops_ratio', 'FLOPs', '{:.3f}'), ('speedup_b1', 'speed-up b1', '{:.2f}'),
           ('speedup_b64', 'speed-up b64', '{:.2f}'))


def rows(root: pathlib.Path, summaries: dict[str, dict], model: str, tag: str) -> list[dict]:
  """Table rows of one (model, compression), every ratio against the dense run of the same model."""
  dense = summaries[f'dense_{model}']
  out = []
  for variant in variants(model):
    name = f'dense_{model}' if variant == 'dense' else f'{variant}_{tag}'
    s = summaries[name]
    latency = ({'speedup_b1': 1.0, 'speedup_b64': 1.0} if variant == 'dense' else paired_latency(
        (ml_collections.ConfigDict(dense['config']), root / f'dense_{model}'),
        (ml_collections.ConfigDict(s['config']), root / name)))
    out.append({
        'variant': variant, 'test_error': 1 - s['test_accuracy'],
        'extra_error_pp': 100 * (dense['test_accuracy'] - s['test_accuracy']),
        'compression': dense['params_total'] / s['params_nonzero'], 'params_nonzero': s['params_nonzero'],
        'peak_ratio': s['peak_step_bytes'] / dense['train_step_bytes'],
        'mean_ratio': s['mean_step_bytes'] / dense['train_step_bytes'],
        'final_ratio': s['train_step_bytes'] / dense['train_step_bytes'], 'batch_size': s['batch_size'],
        'time_ratio': s['train_seconds'] / dense['train_seconds'],
        'flops_ratio': s['flops_per_example'] / dense['flops_per_example'], **latency})
  return out


ABLATION_SCORES = ('l1', 'l2', 'mean_activation', 'taylor', 'random')
ABLATION_LR = ('none', 'linear')


def ablation_section(root: pathlib.Path, mode: dict, summaries: dict[str, dict]) -> str:
  """LeNet-300-100 at 10x: DynHP with each unit score (batch sizing on), each learning-rate scaling, and
  without cost-aware ranking: the measurement behind the defaults."""
  def variant(field, value):
    def make(_):
      config = run_config('lenet300', 'dynhp', mode)
      config.dynhp.target_compression = 10.0
      config.dynhp[field] = value
      return config
    return make

  entries = ([Entry(f'ablation_score_{s}', variant('score', s)) for s in ABLATION_SCORES] +
             [Entry(f'ablation_lr_{v}', variant('lr_scaling', v)) for v in ABLATION_LR] +
             [Entry('ablation_not_cost_aware', variant('cost_aware', False))])
  summaries.update(run_grid(root, entries, summaries))
  reference = summaries['dynhp_lenet300_10x']
  keys = ('score', 'lr_scaling', 'cost_aware', 'test_accuracy', 'params_final', 'units_final')
  table = [{k: s[k] for k in keys} for s in [reference] + [summaries[e.name] for e in entries]]
  columns = (('score', 'unit score', '{}'), ('lr_scaling', 'lr scaling', '{}'),
             ('cost_aware', 'cost-aware', '{}'), ('units_final', 'final units', '{}'),
             ('test_accuracy', 'test accuracy', '{:.2%}'), ('params_final', 'final params', '{:,}'))
  return ('### Ablation: unit score and learning-rate scaling (LeNet-300-100, 10x, batch sizing on)\n\n'
          + markdown_table(table, columns) + '\n')


def reproduce(root: pathlib.Path, quick: bool, ablation: bool | None = None) -> pathlib.Path:
  """Runs (or resumes) every grid, then writes ``root/REPORT.md`` and its plots; the ablation runs in
  full mode unless ``ablation`` says otherwise."""
  mode = MODES['quick' if quick else 'full']
  summaries: dict[str, dict] = {}
  sections = []
  for model in MODELS:
    for compression in mode['compressions'][model]:
      tag = f'{model}_{compression:g}x'
      entries = [e for e in grid(root, model, compression, mode) if e.name not in summaries]
      summaries.update(run_grid(root, entries, summaries))
      names = [f'dense_{model}'] + [f'{v}_{tag}' for v in variants(model)[1:]]
      plots = plot_runs([root / n for n in names], root / 'plots' / tag, x='examples_seen',
                        labels=list(variants(model)))
      figures = '\n'.join(f'![{p.stem}](plots/{tag}/{p.name})' for p in plots)
      dynhp_summary = summaries[f'dynhp_{tag}']
      sections.append(f'### {model}, target compression {compression:g}x\n\n'
                      f'{markdown_table(rows(root, summaries, model, tag), COLUMNS)}\n\n'
                      f'DynHP: {dynhp_summary["num_prunes"]} prunes, final units '
                      f'{dynhp_summary["units_final"]}, batch {dynhp_summary["batch_size_final"]}.\n\n'
                      f'{figures}\n')
  if mode['ablation'] if ablation is None else ablation:
    sections.append(ablation_section(root, mode, summaries))
  report = root / 'REPORT.md'
  report.write_text(HEADER.format(mode='quick' if quick else 'full', epochs=mode['epochs'],
                                  begin=mode['begin_epochs'], every=mode['prune_every'],
                                  flag=' --quick' if quick else '')
                    + '\n'.join(sections))
  return report


HEADER = """# DynHP reproduction (prunejax, {mode} mode)

Our **reconstruction** of DynHP (Valerio et al. 2020; its algorithm is not public: see
prunejax/methods/dynhp.py). Fashion-MNIST, epochs {epochs}; DynHP prunes from {begin} epochs, every
{every} steps of batch 128, 20% of the remaining units by the contribution score ‖in‖·‖out‖, to
the target parameter count (cost-aware: per parameter a unit frees; `dynhp_step_bytes`, on
convolutional models, per byte of the training step it frees, at a fixed batch). vit_tiny's units are
attention heads, head dims, MLP hidden units and the residual stream (its recipe: AdamW 1e-3, one warm-up epoch; configs/dynhp_vit_tiny_fashion_mnist.py). Every ratio is against the dense run of the same model: step bytes are
XLA's compiled bytes of one training step (peak and mean over the examples trained; the budget of
batch sizing is the dense step at batch 128), wall time is training time, FLOPs of one forward pass,
speed-ups are paired latency medians (5 alternating rounds, this machine's CPU). Test error on the
10,000 test images at the end of training. Regenerate: `python scripts/reproduce.py dynhp{flag}`.

"""
