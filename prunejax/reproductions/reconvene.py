"""The Reconvene reproduction: a production table (no training: size, FLOPs, latency, time to produce over
models × UPaI scorers × the 1−2⁻ᵏ sparsity grid) and an accuracy table (Reconvene vs its UPaI
counterpart vs dense, the same recipe). Writes REPORT.md with plots.
"""

import functools
import json
import math
import pathlib
from collections.abc import Sequence

import ml_collections
import numpy as np

from prunejax.errors import PrunejaxError
from prunejax.report import markdown_table, plot_points
from prunejax.reproductions.grid import Entry, base_config, run_grid

SCORERS = ('random', 'magnitude', 'snip', 'grasp', 'synflow')
MODES = {
    'quick': {'produce_models': ('vgg16', 'vit_tiny'), 'produce_k': (2, 4, 6), 'multiples': (8, 16),
              'accuracy_models': {'lenet5': {}}, 'accuracy_k': (1, 3, 5), 'epochs': 2},
    'full': {'produce_models': ('vgg16', 'resnet20', 'resnet56', 'mobilenetv2', 'vit_tiny'),
             'produce_k': (1, 2, 3, 4, 5, 6, 7, 8), 'multiples': (8, 16),
             'accuracy_models': {'lenet5': {}, 'vgg16': {'width': 0.25}, 'resnet20': {}},
             'accuracy_k': (1, 3, 5), 'epochs': 20},
}


# The rectifier's floor where the CNNs' 16 channels would keep every group whole: vit_tiny's 4 heads of 16
# dims (its MLP and residual stream, 128 and 64 wide, would still shrink).
RECTIFIER_FLOOR = {'vit_tiny': 2}


def sparsity(k: int) -> float:
  return 1.0 - 2.0 ** -k


def reconvene_config(model: str, scorer: str, k: int, train: bool, model_kwargs=None
                     ) -> ml_collections.ConfigDict:
  config = base_config('reconvene_vgg16_fashion_mnist.py')
  config.model = model
  config.model_kwargs = ml_collections.ConfigDict(model_kwargs or {})
  config.reconvene.upai, config.reconvene.sparsity, config.reconvene.train = scorer, sparsity(k), train
  config.reconvene.min_channels = RECTIFIER_FLOOR.get(model, config.reconvene.min_channels)
  return config


def recipe(config: ml_collections.ConfigDict, epochs: int) -> ml_collections.ConfigDict:
  """The training recipe every accuracy run shares: the default config's SGD, cosine, ``epochs``."""
  default = base_config('default.py')
  config.optimizer = default.optimizer
  config.num_epochs = epochs
  return config


def production_entries(mode: dict) -> list[Entry]:
  entries = []
  for model in mode['produce_models']:
    for scorer in SCORERS:
      for k in mode['produce_k']:
        entries.append(Entry(f'produce_{model}_{scorer}_k{k}', _produce(model, scorer, k, 1)))
  k = max(mode['produce_k'])
  for multiple in mode['multiples']:
    entries.append(Entry(f'produce_vgg16_synflow_k{k}_m{multiple}', _produce('vgg16', 'synflow', k, multiple)))
  for variant, pruning in SYNFLOW_VARIANTS.items():
    entries.append(Entry(f'produce_vgg16_synflow_k{k}_{variant}', _produce('vgg16', 'synflow', k, 1, pruning)))
  return entries


# What SynFlow's time to produce depends on: its float64 products (scaled float32 instead, as on TPUs) and
# its 100 rounds (the protocol's; fewer rounds change which weights the unshrunk layers keep).
SYNFLOW_VARIANTS = {'scaled_f32': {'synflow_precision': 'scaled_float32'},
                    'rounds20': {'synflow_rounds': 20}, 'rounds10': {'synflow_rounds': 10}}


def _produce(model, scorer, k, multiple, pruning=None):
  def make(_):
    config = reconvene_config(model, scorer, k, train=False)
    config.reconvene.multiple = multiple
    config.reconvene.latency_rounds, config.reconvene.latency_repeats = 3, 5
    config.pruning.update(pruning or {})
    return config
  return make


def accuracy_entries(mode: dict) -> list[Entry]:
  entries = []
  for model, kwargs in mode['accuracy_models'].items():
    tag = _tag(model, kwargs)

    def dense(_, model=model, kwargs=kwargs):
      config = recipe(reconvene_config(model, 'synflow', 1, True, kwargs), mode['epochs'])
      config.method = 'dense'
      del config['reconvene']
      return config

    entries.append(Entry(f'dense_{tag}', dense))
    for scorer in SCORERS:
      for k in mode['accuracy_k']:
        entries += pair_entries(model, kwargs, scorer, k, mode['epochs'])
  return entries


def pair_entries(model: str, kwargs: dict, scorer: str, k: int, epochs: int, seed: int = 0,
                 reconvene_fields=None, optimizer_fields=None) -> list[Entry]:
  """A UPaI run and its Reconvene counterpart: same scorer, sparsity, recipe and seed (``reconvene_fields``:
  a rectifier variant, e.g. ``{'min_channels': 32}``, named after it; then only the Reconvene run;
  ``optimizer_fields``: a recipe variant of both, e.g. ``{'warmup_epochs': 0.5}``, named after it)."""
  changed = {**(reconvene_fields or {}), **(optimizer_fields or {})}
  suffix = ''.join(f'_{_short(key)}{value}' for key, value in changed.items())
  suffix += f'_seed{seed}' if seed else ''

  def trained(config):
    config = recipe(config, epochs)
    config.optimizer.update(optimizer_fields or {})
    config.seed = seed
    return config

  def upai(_):
    config = trained(reconvene_config(model, scorer, k, True, kwargs))
    config.method = 'sparse'
    config.pruning.method, config.pruning.sparsity = scorer, sparsity(k)
    del config['reconvene']
    return config

  def reconvene(_):
    config = trained(reconvene_config(model, scorer, k, True, kwargs))
    config.reconvene.update(reconvene_fields or {})
    return config

  tag = _tag(model, kwargs)
  rec = Entry(f'reconvene_{tag}_{scorer}_k{k}{suffix}', reconvene)
  return [rec] if reconvene_fields else [Entry(f'upai_{tag}_{scorer}_k{k}{suffix}', upai), rec]


def _short(field: str) -> str:
  return {'min_channels': 'min', 'warmup_epochs': 'warmup'}.get(field, field)


# A cell more than 0.5 pp below its UPaI counterpart is re-run with these seeds (is the miss seed noise?),
# and with the wider rectifier floor (is it the width?).
CHECK_SEEDS = (1, 2, 3)
TARGET_PP = -0.5
WIDER = {'min_channels': 32}


def seed_check(root: pathlib.Path, rows: list[dict], model: str, kwargs: dict, epochs: int) -> list[dict]:
  """For each missed cell of networks that train (both above 20%), the gap at every seed, with the default
  rectifier and with the wider floor."""
  missed = [r for r in rows
            if r['gap_pp'] < TARGET_PP and min(r['upai_accuracy'], r['reconvene_accuracy']) > 0.2]
  out = []
  for r in missed:
    scorer, k = r['upai'], round(-math.log2(1.0 - r['target_sparsity']))
    pairs = [pair_entries(model, kwargs, scorer, k, epochs, seed) for seed in CHECK_SEEDS]  # [upai, rec]
    wider = [pair_entries(model, kwargs, scorer, k, epochs, seed, WIDER)[0] for seed in (0,) + CHECK_SEEDS]
    runs = run_grid(root, [e for pair in pairs for e in pair] + wider)
    accuracy = lambda entry: runs[entry.name]['test_accuracy']
    upai = [r['upai_accuracy']] + [accuracy(upai_run) for upai_run, _ in pairs]
    gaps = [r['gap_pp']] + [100 * (accuracy(rec) - u) for (_, rec), u in zip(pairs, upai[1:])]
    gaps_wider = [100 * (accuracy(rec) - u) for rec, u in zip(wider, upai)]
    out.append({'upai': scorer, 'target_sparsity': r['target_sparsity'], 'size_ratio': r['size_ratio'],
                'gaps': ' / '.join(f'{g:+.2f}' for g in gaps), 'mean_pp': float(np.mean(gaps)),
                'std_pp': float(np.std(gaps, ddof=1)), 'gaps_wider': ' / '.join(f'{g:+.2f}' for g in gaps_wider),
                'mean_wider_pp': float(np.mean(gaps_wider)), 'size_wider': runs[wider[0].name]['size_ratio']})
  return out


# A cell where UPaI or Reconvene did not train (10 classes: chance is 10%) is re-run, same seed, with a linear
# learning-rate warm-up: does the recipe's first steps break it? (GraSP's LeNet-5 masks keep weights of one
# sign in whole layers; without BatchNorm nothing cancels, and the first outputs are large.)
COLLAPSED = 0.2
WARMUP = {'warmup_epochs': 0.5}


def collapse_check(root: pathlib.Path, rows: list[dict], model: str, kwargs: dict, epochs: int) -> list[dict]:
  """For each cell where either network stayed at or below ``COLLAPSED`` accuracy: both runs again with
  ``WARMUP``, and each UPaI run's mean training loss over its first logged window."""
  out = []
  for r in rows:
    if min(r['upai_accuracy'], r['reconvene_accuracy']) > COLLAPSED:
      continue
    scorer, k = r['upai'], round(-math.log2(1.0 - r['target_sparsity']))
    upai, rec = pair_entries(model, kwargs, scorer, k, epochs, optimizer_fields=WARMUP)
    runs = run_grid(root, [upai, rec])
    out.append({'upai': scorer, 'target_sparsity': r['target_sparsity'], 'upai_accuracy': r['upai_accuracy'],
                'reconvene_accuracy': r['reconvene_accuracy'],
                'first_loss': first_logged_loss(root / pair_entries(model, kwargs, scorer, k, epochs)[0].name),
                'upai_warm': runs[upai.name]['test_accuracy'], 'reconvene_warm': runs[rec.name]['test_accuracy'],
                'first_loss_warm': first_logged_loss(root / upai.name)})
  return out


def first_logged_loss(workdir: pathlib.Path) -> float:
  """The first training loss a run logged (the mean over its first ``log_every_steps`` steps)."""
  for line in (workdir / 'metrics.jsonl').read_text().splitlines():
    record = json.loads(line)
    if 'train_loss' in record:
      return float(record['train_loss'])
  return float('nan')


COLLAPSE_COLUMNS = (('upai', 'UPaI', '{}'), ('target_sparsity', 'sparsity', '{:.4f}'),
                    ('upai_accuracy', 'UPaI acc', '{:.2%}'), ('reconvene_accuracy', 'Reconvene acc', '{:.2%}'),
                    ('first_loss', 'UPaI first logged loss', '{:.2f}'),
                    ('upai_warm', f'UPaI acc, {WARMUP["warmup_epochs"]}-epoch warm-up', '{:.2%}'),
                    ('reconvene_warm', 'Reconvene acc, warm-up', '{:.2%}'),
                    ('first_loss_warm', 'UPaI first logged loss, warm-up', '{:.2f}'))


SEED_COLUMNS = (('upai', 'UPaI', '{}'), ('target_sparsity', 'sparsity', '{:.4f}'),
                ('gaps', f'Reconvene − UPaI (pp), seeds 0 / {" / ".join(map(str, CHECK_SEEDS))}', '{}'),
                ('mean_pp', 'mean (pp)', '{:+.2f}'), ('std_pp', 'std (pp)', '{:.2f}'),
                ('size_ratio', 'size ratio', '{:.2f}x'),
                ('gaps_wider', 'with min_channels=32, same seeds (pp)', '{}'),
                ('mean_wider_pp', 'mean (pp)', '{:+.2f}'), ('size_wider', 'size ratio', '{:.2f}x'))


# Rectifier and sensitivity variants on LeNet-5 (min2: the earlier default floor, whose 2-unit Dense layers
# fail; min32: a wider floor, the width the 16-unit fc1 gives up against UPaI's sparse 120 units).
ABLATION = {'min2': {'min_channels': 2}, 'min32': {'min_channels': 32}, 'multiple8': {'multiple': 8},
            'concentration': {'sensitivity': 'concentration', 'threshold': 0.5}}
ABLATION_SCORERS = ('magnitude', 'snip', 'synflow')
ABLATION_K = (3, 5)


def ablation_entries(mode: dict) -> list[Entry]:
  entries = []
  for variant, fields in ABLATION.items():
    for scorer in ABLATION_SCORERS:
      for k in ABLATION_K:
        def make(_, scorer=scorer, k=k, fields=fields):
          config = recipe(reconvene_config('lenet5', scorer, k, True), mode['epochs'])
          config.reconvene.update(fields)
          return config
        entries.append(Entry(f'ablation_lenet5_{scorer}_k{k}_{variant}', make))
  return entries


def ablation_rows(summaries: dict[str, dict]) -> list[dict]:
  rows = []
  for scorer in ABLATION_SCORERS:
    for k in ABLATION_K:
      upai = summaries[f'upai_lenet5_{scorer}_k{k}']
      for variant in ('default',) + tuple(ABLATION):
        name = (f'reconvene_lenet5_{scorer}_k{k}' if variant == 'default' else
                f'ablation_lenet5_{scorer}_k{k}_{variant}')
        s = summaries[name]
        rows.append({**s, 'variant': variant, 'upai_accuracy': upai['test_accuracy'],
                     'gap_pp': 100 * (s['test_accuracy'] - upai['test_accuracy'])})
  return rows


ABLATION_COLUMNS = (
    ('upai', 'UPaI', '{}'), ('target_sparsity', 'sparsity', '{:.4f}'), ('variant', 'variant', '{}'),
    ('units_final', 'units kept', '{}'), ('size_ratio', 'size ratio', '{:.2f}x'),
    ('upai_accuracy', 'UPaI acc', '{:.2%}'), ('test_accuracy', 'Reconvene acc', '{:.2%}'),
    ('gap_pp', 'Reconvene − UPaI (pp)', '{:+.2f}'))


FEW_ROUNDS = 10  # SynFlow's rounds on the fast path: what does producing in seconds cost in accuracy?


def rounds_entries(mode: dict) -> list[Entry]:
  def make(_, k):
    config = recipe(reconvene_config('lenet5', 'synflow', k, True), mode['epochs'])
    config.pruning.synflow_rounds = FEW_ROUNDS
    return config
  return [Entry(f'reconvene_lenet5_synflow_k{k}_rounds{FEW_ROUNDS}', functools.partial(make, k=k))
          for k in mode['accuracy_k']]


def rounds_rows(summaries: dict[str, dict], mode: dict) -> list[dict]:
  rows = []
  for k in mode['accuracy_k']:
    upai, full = summaries[f'upai_lenet5_synflow_k{k}'], summaries[f'reconvene_lenet5_synflow_k{k}']
    few = summaries[f'reconvene_lenet5_synflow_k{k}_rounds{FEW_ROUNDS}']
    rows.append({'target_sparsity': few['target_sparsity'], 'upai_accuracy': upai['test_accuracy'],
                 'full_accuracy': full['test_accuracy'], 'few_accuracy': few['test_accuracy'],
                 'few_minus_full_pp': 100 * (few['test_accuracy'] - full['test_accuracy']),
                 'few_minus_upai_pp': 100 * (few['test_accuracy'] - upai['test_accuracy']),
                 'units_full': full['units_final'], 'units_few': few['units_final']})
  return rows


ROUNDS_COLUMNS = (
    ('target_sparsity', 'sparsity', '{:.4f}'), ('upai_accuracy', 'UPaI (100 rounds)', '{:.2%}'),
    ('full_accuracy', 'Reconvene (100)', '{:.2%}'), ('few_accuracy', f'Reconvene ({FEW_ROUNDS})', '{:.2%}'),
    ('few_minus_full_pp', f'({FEW_ROUNDS}) − (100) pp', '{:+.2f}'),
    ('few_minus_upai_pp', f'({FEW_ROUNDS}) − UPaI pp', '{:+.2f}'), ('units_full', 'units kept (100)', '{}'),
    ('units_few', f'units kept ({FEW_ROUNDS})', '{}'))


def _tag(model: str, kwargs: dict) -> str:
  return model + ''.join(f'_{key}{value:g}' for key, value in kwargs.items())


PRODUCTION_COLUMNS = (
    ('model', 'model', '{}'), ('upai', 'UPaI', '{}'), ('target_sparsity', 'sparsity', '{:.4f}'),
    ('multiple', 'multiple', '{}'), ('synflow', 'SynFlow', '{}'), ('groups', 'groups shrunk', '{}'),
    ('params_final', 'params', '{:,}'),
    ('params_nonzero', 'non-zero', '{:,}'), ('size_ratio', 'size ratio', '{:.2f}x'),
    ('flops_ratio', 'FLOPs ratio', '{:.2f}x'), ('speedup_b1', 'speed-up b1', '{:.2f}'),
    ('speedup_b64', 'speed-up b64', '{:.2f}'), ('produce_seconds', 'produce s', '{:.2f}'),
    ('score_seconds', 'of it scoring s', '{:.2f}'), ('compile_seconds', 'compile s', '{:.2f}'))

ACCURACY_COLUMNS = (
    ('upai', 'UPaI', '{}'), ('target_sparsity', 'sparsity', '{:.4f}'),
    ('upai_accuracy', 'UPaI acc', '{:.2%}'), ('reconvene_accuracy', 'Reconvene acc', '{:.2%}'),
    ('gap_pp', 'Reconvene − UPaI (pp)', '{:+.2f}'), ('dense_accuracy', 'dense acc', '{:.2%}'),
    ('upai_nonzero', 'UPaI non-zero', '{:,}'), ('params_final', 'Reconvene params', '{:,}'),
    ('params_nonzero', 'Reconvene non-zero', '{:,}'), ('size_ratio', 'size ratio', '{:.2f}x'),
    ('speedup_b1', 'speed-up b1', '{:.2f}'), ('speedup_b64', 'speed-up b64', '{:.2f}'))


def production_rows(summaries: dict[str, dict]) -> list[dict]:
  rows = []
  for name, s in summaries.items():
    if name.startswith('produce_'):
      pruning = s['config']['pruning']
      synflow = (f'{pruning["synflow_rounds"]} rounds, {pruning["synflow_precision"]}'
                 if s['upai'] == 'synflow' else '')
      rows.append({**s, 'multiple': s['config']['reconvene']['multiple'], 'synflow': synflow,
                   'groups': f'{s["groups_shrunk"]}/{s["groups_prunable"]}'})
  return rows


def production_plots(root: pathlib.Path, rows: list[dict]) -> list[pathlib.Path]:
  """Per model, the measured speed-up at batch 64 against the size ratio over the sparsity grid, one
  series per scorer (the protocol's settings: multiple 1, SynFlow in 100 rounds)."""
  paths = []
  for model in dict.fromkeys(r['model'] for r in rows):
    series = {}
    for r in rows:
      if r['model'] == model and r['multiple'] == 1 and r['synflow'] in ('', '100 rounds, auto'):
        series.setdefault(f'{r["upai"]} Reconvene', []).append((r['size_ratio'], r['speedup_b64']))
    paths.append(plot_points(series, root / 'plots' / f'production_{model}.png',
                             'size ratio (dense bytes: original / Reconvene)', 'CPU speed-up, batch 64', True,
                             model, log_y=True))
  return paths


def accuracy_rows(summaries: dict[str, dict], tag: str, mode: dict) -> list[dict]:
  dense = summaries[f'dense_{tag}']
  rows = []
  for scorer in SCORERS:
    for k in mode['accuracy_k']:
      upai, rec = summaries[f'upai_{tag}_{scorer}_k{k}'], summaries[f'reconvene_{tag}_{scorer}_k{k}']
      rows.append({**rec, 'upai_accuracy': upai['test_accuracy'], 'reconvene_accuracy': rec['test_accuracy'],
                   'gap_pp': 100 * (rec['test_accuracy'] - upai['test_accuracy']),
                   'dense_accuracy': dense['test_accuracy'], 'upai_nonzero': upai['params_nonzero'],
                   'upai_compression': dense['params_total'] / upai['params_nonzero']})
  return rows


def plots(root: pathlib.Path, rows: list[dict], tag: str) -> list[pathlib.Path]:
  """Accuracy against compression, one series per scorer, UPaI (non-zero compression: what a sparse format
  could store) against Reconvene (dense arrays); Reconvene's measured speed-up against its compression."""
  accuracy, latency = {}, {}
  for r in rows:  # (UPaI keeps the dense arrays: its latency is the original's, so it is not drawn)
    accuracy.setdefault(f'{r["upai"]} UPaI', []).append((r['upai_compression'], r['upai_accuracy']))
    accuracy.setdefault(f'{r["upai"]} Reconvene', []).append((r['size_ratio'], r['reconvene_accuracy']))
    latency.setdefault(f'{r["upai"]} Reconvene', []).append((r['size_ratio'], r['speedup_b64']))
  xlabel = 'compression (UPaI: non-zero params; Reconvene: dense bytes)'
  return [plot_points(accuracy, root / 'plots' / f'accuracy_{tag}.png', xlabel, 'test accuracy', True, tag),
          plot_points(latency, root / 'plots' / f'speedup_{tag}.png', xlabel, 'CPU speed-up, batch 64', True, tag)]


def reproduce(root: pathlib.Path, quick: bool, ablation: bool | None = None, only_production: bool = False,
              accuracy_models: Sequence[str] | None = None) -> pathlib.Path:
  """Runs (or resumes) the production grid, the accuracy grid and (unless ``ablation`` is False) the
  LeNet-5 ablation; writes ``root/REPORT.md``. ``only_production``: the production grid alone (no
  training: what runs in minutes to an hour on a CPU). ``accuracy_models``: train only these of the
  mode's accuracy models (the full mode's LeNet-5 fits a CPU; its VGG-16 and ResNet-20 are for GPUs)."""
  mode = MODES['quick' if quick else 'full']
  scope = _accuracy_scope(mode, () if only_production else accuracy_models)
  summaries = run_grid(root, production_entries(mode))
  produced = production_rows(summaries)
  figures = '\n'.join(f'![{p.stem}](plots/{p.name})' for p in production_plots(root, produced))
  sections = [f'## Production (no training)\n\n{markdown_table(produced, PRODUCTION_COLUMNS)}\n\n{figures}']
  if only_production:
    ablation = False
  mode = {**mode, 'accuracy_models': scope}
  for model, kwargs in mode['accuracy_models'].items():
    tag = _tag(model, kwargs)
    summaries.update(run_grid(root, [e for e in accuracy_entries(mode) if tag in e.name]))
    rows = accuracy_rows(summaries, tag, mode)
    figures = '\n'.join(f'![{p.stem}](plots/{p.name})' for p in plots(root, rows, tag))
    sections.append(f'## Accuracy: {tag}, {mode["epochs"]} epochs\n\n{markdown_table(rows, ACCURACY_COLUMNS)}'
                    f'\n\n{figures}')
    collapsed = collapse_check(root, rows, model, kwargs, mode['epochs'])
    if collapsed:
      sections.append(f'### Cells where a network did not train (accuracy at most {COLLAPSED:.0%}), re-run with a '
                      f'{WARMUP["warmup_epochs"]}-epoch learning-rate warm-up ({tag})\n\n'
                      + markdown_table(collapsed, COLLAPSE_COLUMNS))
    checked = seed_check(root, rows, model, kwargs, mode['epochs'])
    if checked:
      sections.append(f'### Cells more than {-TARGET_PP} pp below UPaI (both above 20%), re-run with other seeds '
                      f'and with the rectifier floor at 32 ({tag})\n\n'
                      + markdown_table(checked, SEED_COLUMNS))
  if 'lenet5' in mode['accuracy_models']:
    summaries.update(run_grid(root, rounds_entries(mode)))
    sections.append(f'## SynFlow in {FEW_ROUNDS} rounds instead of 100 (LeNet-5, Reconvene)\n\n'
                    + markdown_table(rounds_rows(summaries, mode), ROUNDS_COLUMNS))
  if ablation or ablation is None:
    summaries.update(run_grid(root, ablation_entries(mode)))
    sections.append('## Ablation: rectifier width and sensitivity (LeNet-5)\n\n'
                    + markdown_table(ablation_rows(summaries), ABLATION_COLUMNS))
  report = root / 'REPORT.md'
  name = 'quick' if quick else 'full'
  subset = accuracy_models is not None and not only_production
  flag = (' --quick' * quick + ' --only_production' * only_production
          + f' --accuracy_models={",".join(scope)}' * subset
          + ' --ablation=false' * (ablation is False and not only_production))
  accuracy = '' if only_production else ACCURACY_HEADER.format(epochs=mode['epochs'])
  if only_production:
    name += ' mode, production grid only'
  else:
    name += f' mode, accuracy on {", ".join(scope)} only' if subset else ' mode'
  report.write_text(HEADER.format(mode=name, flag=flag, accuracy=accuracy) + '\n\n'.join(sections) + '\n')
  return report


def _accuracy_scope(mode: dict, names: Sequence[str] | None) -> dict[str, dict]:
  """The mode's accuracy models (name: model_kwargs), or only ``names`` of them."""
  if names is None:
    return mode['accuracy_models']
  unknown = [n for n in names if n not in mode['accuracy_models']]
  if unknown:
    raise PrunejaxError(f'accuracy model(s) {unknown} are not in this mode\'s accuracy grid; choose from '
                        f'{sorted(mode["accuracy_models"])}.')
  return {n: kwargs for n, kwargs in mode['accuracy_models'].items() if n in names}


ACCURACY_HEADER = """Accuracy: test accuracy after {epochs} epochs of the same recipe (SGD 0.05, momentum 0.9 Nesterov,
cosine, batch 128) for dense, UPaI (sparse, masks fixed) and Reconvene.
"""
HEADER = """# Reconvene reproduction (prunejax, {mode})

Our **reconstruction** of Reconvene (Eccles et al. 2024; only the abstract is known: see
prunejax/methods/reconvene.py). Fashion-MNIST shapes (28×28×1, 10 classes). UPaI: one global threshold
over the kernels (the classifier stays dense), at sparsity 1−2⁻ᵏ; SynFlow in 100 rounds. Reconvene:
groups whose mask density is below 3× the network's are made narrow to ⌈density·C⌉ channels (at least
16, or all of a smaller group), re-initialised with the model's initialisers; the other layers keep
their UPaI mask. Size ratio = bytes of the original dense arrays / bytes of Reconvene's arrays; FLOPs of
one forward pass (XLA); speed-ups are paired latency medians against the original dense model
(alternating rounds, 2 CPU threads); produce s = UPaI scoring + sensitivity + rectifier, wall time less
compiles (every XLA compile in the step and the scorer's tracing: compile s, apart); SynFlow variants:
rounds and precision ('auto' = float64 on CPU; scaled float32 = float32 without overflow, as on TPUs).
{accuracy}Regenerate: `python scripts/reproduce.py reconvene{flag}`.

"""
