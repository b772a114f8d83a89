"""The Reconvene reproduction: a production table (no training: size, FLOPs, latency, time to produce over
models × UPaI scorers × the 1−2⁻ᵏ sparsity grid) and an accuracy table (Reconvene vs its UPaI
counterpart vs dense, the same recipe). Writes REPORT.md with plots.
"""

import pathlib

import ml_collections

from prunejax.report import markdown_table, plot_points
from prunejax.reproductions.grid import Entry, base_config, run_grid

SCORERS = ('random', 'magnitude', 'snip', 'grasp', 'synflow')
MODES = {
    'quick': {'produce_models': ('vgg16',), 'produce_k': (2, 4, 6), 'multiples': (8, 16),
              'accuracy_models': {'lenet5': {}}, 'accuracy_k': (1, 3, 5), 'epochs': 2},
    'full': {'produce_models': ('vgg16', 'resnet20', 'resnet56', 'mobilenetv2'),
             'produce_k': (1, 2, 3, 4, 5, 6, 7, 8), 'multiples': (8, 16),
             'accuracy_models': {'lenet5': {}, 'vgg16': {'width': 0.25}, 'resnet20': {}},
             'accuracy_k': (1, 3, 5), 'epochs': 20},
}


def sparsity(k: int) -> float:
  return 1.0 - 2.0 ** -k


def reconvene_config(model: str, scorer: str, k: int, train: bool, model_kwargs=None
                     ) -> ml_collections.ConfigDict:
  config = base_config('reconvene_vgg16_fashion_mnist.py')
  config.model = model
  config.model_kwargs = ml_collections.ConfigDict(model_kwargs or {})
  config.reconvene.upai, config.reconvene.sparsity, config.reconvene.train = scorer, sparsity(k), train
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
  for multiple in mode['multiples']:
    k = max(mode['produce_k'])
    entries.append(Entry(f'produce_vgg16_synflow_k{k}_m{multiple}', _produce('vgg16', 'synflow', k, multiple)))
  return entries


def _produce(model, scorer, k, multiple):
  def make(_):
    config = reconvene_config(model, scorer, k, train=False)
    config.reconvene.multiple = multiple
    config.reconvene.latency_rounds, config.reconvene.latency_repeats = 3, 5
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
        def upai(_, model=model, kwargs=kwargs, scorer=scorer, k=k):
          config = recipe(reconvene_config(model, scorer, k, True, kwargs), mode['epochs'])
          config.method = 'sparse'
          config.pruning.method, config.pruning.sparsity = scorer, sparsity(k)
          del config['reconvene']
          return config

        def reconvene(_, model=model, kwargs=kwargs, scorer=scorer, k=k):
          return recipe(reconvene_config(model, scorer, k, True, kwargs), mode['epochs'])

        entries += [Entry(f'upai_{tag}_{scorer}_k{k}', upai), Entry(f'reconvene_{tag}_{scorer}_k{k}', reconvene)]
  return entries


# Rectifier and sensitivity variants on LeNet-5 (min2: the earlier default floor, whose 2-unit Dense layers fail).
ABLATION = {'min2': {'min_channels': 2}, 'multiple8': {'multiple': 8},
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


def _tag(model: str, kwargs: dict) -> str:
  return model + ''.join(f'_{key}{value:g}' for key, value in kwargs.items())


PRODUCTION_COLUMNS = (
    ('model', 'model', '{}'), ('upai', 'UPaI', '{}'), ('target_sparsity', 'sparsity', '{:.4f}'),
    ('multiple', 'multiple', '{}'), ('groups', 'groups shrunk', '{}'), ('params_final', 'params', '{:,}'),
    ('params_nonzero', 'non-zero', '{:,}'), ('size_ratio', 'size ratio', '{:.2f}x'),
    ('flops_ratio', 'FLOPs ratio', '{:.2f}x'), ('speedup_b1', 'speed-up b1', '{:.2f}'),
    ('speedup_b64', 'speed-up b64', '{:.2f}'), ('produce_seconds', 'produce s', '{:.2f}'),
    ('score_compile_seconds', 'compile s', '{:.2f}'))

ACCURACY_COLUMNS = (
    ('upai', 'UPaI', '{}'), ('target_sparsity', 'sparsity', '{:.4f}'),
    ('upai_accuracy', 'UPaI acc', '{:.2%}'), ('reconvene_accuracy', 'Reconvene acc', '{:.2%}'),
    ('gap_pp', 'Reconvene − UPaI (pp)', '{:+.2f}'), ('dense_accuracy', 'dense acc', '{:.2%}'),
    ('upai_nonzero', 'UPaI non-zero', '{:,}'), ('params_final', 'Reconvene params', '{:,}'),
    ('params_nonzero', 'Reconvene non-zero', '{:,}'), ('size_ratio', 'size ratio', '{:.2f}x'),
    ('speedup_b1', 'speed-up b1', '{:.2f}'), ('speedup_b64', 'speed-up b64', '{:.2f}'),
    ('produce_seconds', 'produce s', '{:.2f}'))


def production_rows(summaries: dict[str, dict]) -> list[dict]:
  rows = []
  for name, s in summaries.items():
    if name.startswith('produce_'):
      rows.append({**s, 'multiple': s['config']['reconvene']['multiple'],
                   'groups': f'{s["groups_shrunk"]}/{s["groups_prunable"]}'})
  return rows


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


def reproduce(root: pathlib.Path, quick: bool, ablation: bool | None = None) -> pathlib.Path:
  """Runs (or resumes) the production grid, the accuracy grid and (unless ``ablation`` is False) the
  LeNet-5 ablation; writes ``root/REPORT.md``."""
  mode = MODES['quick' if quick else 'full']
  summaries = run_grid(root, production_entries(mode))
  sections = ['## Production (no training)\n\n' + markdown_table(production_rows(summaries), PRODUCTION_COLUMNS)]
  for model, kwargs in mode['accuracy_models'].items():
    tag = _tag(model, kwargs)
    summaries.update(run_grid(root, [e for e in accuracy_entries(mode) if tag in e.name]))
    rows = accuracy_rows(summaries, tag, mode)
    figures = '\n'.join(f'![{p.stem}](plots/{p.name})' for p in plots(root, rows, tag))
    sections.append(f'## Accuracy: {tag}, {mode["epochs"]} epochs\n\n{markdown_table(rows, ACCURACY_COLUMNS)}'
                    f'\n\n{figures}')
  if ablation or ablation is None:
    summaries.update(run_grid(root, ablation_entries(mode)))
    sections.append('## Ablation: rectifier width and sensitivity (LeNet-5)\n\n'
                    + markdown_table(ablation_rows(summaries), ABLATION_COLUMNS))
  report = root / 'REPORT.md'
  report.write_text(HEADER.format(mode='quick' if quick else 'full', flag=' --quick' if quick else '',
                                  epochs=mode['epochs']) + '\n\n'.join(sections) + '\n')
  return report


HEADER = """# Reconvene reproduction (prunejax, {mode} mode)

Our **reconstruction** of Reconvene (Eccles et al. 2024; only the abstract is known: see
prunejax/methods/reconvene.py). Fashion-MNIST shapes (28×28×1, 10 classes). UPaI: one global threshold
over the kernels (the classifier stays dense), at sparsity 1−2⁻ᵏ; SynFlow in 100 rounds. Reconvene:
groups whose mask density is below 3× the network's are made narrow to ⌈density·C⌉ channels (at least
16, or all of a smaller group), re-initialised with the model's initialisers; the other layers keep their UPaI mask. Size ratio =
bytes of the original dense arrays / bytes of Reconvene's arrays; FLOPs of one forward pass (XLA);
speed-ups are paired latency medians against the original dense model (alternating rounds, 2 CPU
threads); produce s = UPaI scoring + sensitivity + rectifier, wall time after the scorer's compile
(compile s, apart). Accuracy: test accuracy after {epochs} epochs of the same recipe (SGD 0.05, momentum
0.9 Nesterov, cosine, batch 128) for dense, UPaI (sparse, masks fixed) and Reconvene.
Regenerate: `python scripts/reproduce.py reconvene{flag}`.

"""
