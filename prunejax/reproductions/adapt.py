"""The ADaPT reproduction: per model, one pretraining; the data-agnostic run of each p (shared by every
subset); data-aware pruning and retraining per (subset, p), whose runs double as DaPR's probes; DaPR per
subset. Gain table, DaPR table, accuracy-against-p plots. Writes REPORT.md.
"""

import pathlib

import ml_collections
import numpy as np

from prunejax.report import markdown_table, plot_points
from prunejax.reproductions.grid import Entry, base_config, run_grid

SUBSETS = ('tops', 'footwear', 'random3', 'random5')
PERCENTS = (25, 50, 75, 90)
MODES = {
    'quick': {'models': {'lenet5': ({}, SUBSETS), 'vgg11': ({'width': 0.125}, ('tops', 'footwear')),
                         'vit_tiny': ({}, ('tops',))},
              'pretrain_epochs': 3, 'finetune_epochs': 1, 'total_epochs': 3, 'decay_epochs': (2,),
              # The authors' protocol on a network their rule suits (global pooling, a small classifier):
              # 4 values of p (theirs: 5..95, 19 values) and 3 seeds fit the CPU budget.
              'authors': {'model': 'vgg11', 'kwargs': {'width': 0.125}, 'subsets': ('tops', 'footwear'),
                          'percents': (25, 50, 75, 90), 'seeds': (0, 1, 2), 'agnostic_decay_epochs': (1, 2)}},
    'full': {'models': {'lenet5': ({}, SUBSETS), 'vgg11': ({'width': 0.25}, SUBSETS),
                        'resnet20': ({}, SUBSETS), 'mobilenetv2': ({}, SUBSETS)},
             'pretrain_epochs': 20, 'finetune_epochs': 5, 'total_epochs': 30, 'decay_epochs': (15, 25),
             'authors': {'model': 'resnet20', 'kwargs': {}, 'subsets': SUBSETS, 'percents': tuple(range(5, 100, 5)),
                         'seeds': (0, 1, 2, 3, 4), 'agnostic_decay_epochs': (10, 20)}},
}
PAPER_GAIN_PP = 10.2  # the paper's mean gain (4 CIFAR-100 networks x 5 subsets, p = 5..95)


def adapt_config(root: pathlib.Path, model: str, kwargs: dict, mode: dict, subset: str, adapt_mode: str,
                 percent: float) -> ml_collections.ConfigDict:
  config = base_config('adapt_lenet5_fashion_mnist.py')
  config.model, config.model_kwargs = model, ml_collections.ConfigDict(kwargs)
  if model == 'mobilenetv2':
    config.optimizer.weight_decay = 5e-4  # the authors' MobileNetV2 recipe (1e-4 for their ResNets)
  config.num_epochs = mode['pretrain_epochs']
  config.adapt.update(protocol='prunejax', mode=adapt_mode, subset=subset, prune_percent=float(percent),
                      finetune_epochs=mode['finetune_epochs'], total_epochs=mode['total_epochs'],
                      decay_epochs=mode['decay_epochs'], pretrained_workdir=str(root / f'{model}_pretrained'))
  if adapt_mode == 'data_agnostic':  # (only this mode reads it: the others' configs then equal DaPR's probes')
    config.adapt.agnostic_workdir = str(root / f'{model}_agnostic_p{percent:g}')
  return config


def entries(root: pathlib.Path, mode: dict) -> list[Entry]:
  grid = []
  for model, (kwargs, subsets) in mode['models'].items():
    make = lambda subset, adapt_mode, p, model=model, kwargs=kwargs: (
        lambda _: adapt_config(root, model, kwargs, mode, subset, adapt_mode, p))
    for subset in subsets:
      for p in PERCENTS:  # the data-aware cells sit where DaPR looks for its probes
        grid.append(Entry(f'{model}_{subset}_dapr/probes/p{p}', make(subset, 'data_aware', p)))
        grid.append(Entry(f'{model}_{subset}_agnostic_p{p}', make(subset, 'data_agnostic', p)))
      grid.append(Entry(f'{model}_{subset}_dapr', make(subset, 'dapr', 50)))
  return grid


def authors_entries(root: pathlib.Path, mode: dict) -> list[Entry]:
  """The authors' protocol: per seed a pretraining, a shared data-agnostic run per p, data-aware runs per
  (subset, p), each named by its seed."""
  spec, grid = mode['authors'], []
  for seed in spec['seeds']:
    def make(subset, adapt_mode, p, seed=seed):
      def config(_):
        c = adapt_config(root, spec['model'], spec['kwargs'], mode, subset, adapt_mode, p)
        c.seed = seed
        c.optimizer.decay_all = True  # their torch.optim.SGD decays every parameter
        c.adapt.update(protocol='authors', agnostic_decay_epochs=spec['agnostic_decay_epochs'],
                       pretrained_workdir=str(root / f'authors_s{seed}_pretrained'))
        if adapt_mode == 'data_agnostic':
          c.adapt.agnostic_workdir = str(root / f'authors_s{seed}_agnostic_p{p}')
        return c
      return config
    for subset in spec['subsets']:
      for p in spec['percents']:
        grid.append(Entry(f'authors_s{seed}_{subset}_p{p}', make(subset, 'data_aware', p)))
        grid.append(Entry(f'authors_s{seed}_{subset}_agnostic_p{p}', make(subset, 'data_agnostic', p)))
  return grid


def authors_section(root: pathlib.Path, summaries: dict[str, dict], mode: dict) -> str:
  """Per (subset, p): data-aware and data-agnostic accuracy and the gain, mean ± std over seeds; the
  overall gain averaged as the authors average it (over p and subsets), its spread over seeds; a plot
  of the mean accuracies against p per subset."""
  spec, rows = mode['authors'], []
  per_seed = {seed: [] for seed in spec['seeds']}
  by_p = {p: [] for p in spec['percents']}
  curves: dict[str, dict[str, list]] = {}
  for subset in spec['subsets']:
    for p in spec['percents']:
      aware = [summaries[f'authors_s{s}_{subset}_p{p}'] for s in spec['seeds']]
      agnostic = [summaries[f'authors_s{s}_{subset}_agnostic_p{p}'] for s in spec['seeds']]
      gains = [100 * (a['subset_accuracy'] - g['subset_accuracy']) for a, g in zip(aware, agnostic)]
      for seed, gain in zip(spec['seeds'], gains):
        per_seed[seed].append(gain)
      by_p[p].extend(gains)
      curve = curves.setdefault(subset, {'data-aware': [], 'data-agnostic': [], 'unpruned': []})
      for label, runs, key in (('data-aware', aware, 'subset_accuracy'), ('data-agnostic', agnostic, 'subset_accuracy'),
                               ('unpruned', aware, 'unpruned_subset_accuracy')):
        curve[label].append((p, float(np.mean([r[key] for r in runs]))))
      spread = lambda values: f'{np.mean(values):.2%} ± {np.std(values, ddof=1):.2%}'
      rows.append({'subset': f'{subset} {aware[0]["subset"]}', 'p': p,
                   'unpruned': spread([a['unpruned_subset_accuracy'] for a in aware]),
                   'aware': spread([a['subset_accuracy'] for a in aware]),
                   'agnostic': spread([g['subset_accuracy'] for g in agnostic]),
                   'gain': f'{np.mean(gains):+.2f} ± {np.std(gains, ddof=1):.2f}',
                   'pruned': f'{np.mean([a["weights_pruned_fraction"] for a in aware]):.1%}',
                   'estimate': f'{np.mean([a["estimated_percent"] for a in aware]):.1f}%',
                   'flops': f'{np.mean([a["flops_ratio"] for a in aware]):.2f}x'})
  means = [np.mean(gains) for gains in per_seed.values()]
  by_p = {p: np.mean(gains) for p, gains in by_p.items()}
  headline = {'mean': np.mean(means), 'std': np.std(means, ddof=1), 'seeds': ' / '.join(f'{m:+.2f}' for m in means),
              'by_p': ', '.join(f'{p}: {g:+.2f}' for p, g in by_p.items()),
              'paper': f'{PAPER_GAIN_PP:+.1f} (CIFAR-100, p = 5…95)'}
  columns = (('subset', 'subset', '{}'), ('p', 'p %', '{}'), ('unpruned', 'unpruned acc', '{}'),
             ('aware', 'data-aware acc', '{}'), ('agnostic', 'data-agnostic acc', '{}'),
             ('gain', 'gain pp', '{}'), ('pruned', 'params removed (real)', '{}'),
             ('estimate', "their estimate", '{}'), ('flops', 'FLOPs ÷ (aware)', '{}'))
  kwargs = ', '.join(f'{k}={v}' for k, v in spec['kwargs'].items())
  return (f"## The authors' protocol: {spec['model']}{f'({kwargs})' if kwargs else ''}\n\n"
          f"`config.adapt.protocol='authors'` (their code's rules), seeds {', '.join(map(str, spec['seeds']))}, "
          f"p ∈ {{{', '.join(map(str, spec['percents']))}}}, subsets {', '.join(spec['subsets'])}; the "
          f"data-agnostic baseline decays at epochs {spec['agnostic_decay_epochs']} and is read at its best "
          'all-class validation epoch; weight decay on every parameter, pretraining included (their '
          'torch.optim.SGD). Mean ± std over seeds.\n\n'
          f'**Mean gain {np.mean(means):+.2f} pp** (over p and subsets per seed, then over seeds; std over '
          f'seeds {np.std(means, ddof=1):.2f} pp; per seed {", ".join(f"{m:+.2f}" for m in means)}). The paper '
          f'reports **{PAPER_GAIN_PP:+.1f} pp** on CIFAR-100 (4 networks × 5 subsets, p = 5…95, mean of 5 '
          'data-aware runs minus their last data-agnostic run). Mean gain by p (over subsets and seeds): '
          + ', '.join(f'{p}: {g:+.2f}' for p, g in by_p.items()) + ' pp — the paper\'s average weighs every p '
          'in 5…95 alike, so a p set that leans high weighs the large gains more.\n\n'
          + markdown_table([headline], HEADLINE_COLUMNS) + '\n\n' + markdown_table(rows, columns) + '\n\n'
          + '\n'.join(f'![authors_{subset}](plots/{path.name})' for subset, path in (
              (subset, plot_points(curve, root / 'plots' / f'authors_{spec["model"]}_{subset}.png',
                                   'p (%, their estimate)', 'test accuracy on the subset (mean over seeds)',
                                   title=f"authors' protocol, {spec['model']}, {subset}"))
              for subset, curve in curves.items())) + '\n')


HEADLINE_COLUMNS = (('mean', 'mean gain (pp)', '{:+.2f}'), ('std', 'std over seeds (pp)', '{:.2f}'),
                    ('seeds', 'per seed (pp)', '{}'), ('by_p', 'by p (pp)', '{}'), ('paper', 'the paper (pp)', '{}'))


def gain_rows(summaries: dict[str, dict], mode: dict) -> list[dict]:
  rows = []
  for model, (_, subsets) in mode['models'].items():
    for subset in subsets:
      for p in PERCENTS:
        aware = summaries[f'{model}_{subset}_dapr/probes/p{p}']
        agnostic = summaries[f'{model}_{subset}_agnostic_p{p}']
        rows.append({'model': model, 'subset': f'{subset} {aware["subset"]}', 'p': p,
                     'unpruned': aware['unpruned_subset_accuracy'], 'aware': aware['subset_accuracy'],
                     'agnostic': agnostic['subset_accuracy'],
                     'gain_pp': 100 * (aware['subset_accuracy'] - agnostic['subset_accuracy']),
                     'pruned_aware': aware['weights_pruned_fraction'],
                     'pruned_agnostic': agnostic['weights_pruned_fraction'],
                     'params_aware': aware['params_final'], 'params_agnostic': agnostic['params_final'],
                     'flops_aware': aware['flops_ratio'], 'flops_agnostic': agnostic['flops_ratio']})
  return rows


GAIN_COLUMNS = (
    ('model', 'model', '{}'), ('subset', 'subset', '{}'), ('p', 'p %', '{}'),
    ('unpruned', 'unpruned acc', '{:.2%}'), ('aware', 'data-aware acc', '{:.2%}'),
    ('agnostic', 'data-agnostic acc', '{:.2%}'), ('gain_pp', 'gain pp', '{:+.2f}'),
    ('pruned_aware', 'weights pruned (aware)', '{:.2%}'), ('pruned_agnostic', '(agnostic)', '{:.2%}'),
    ('params_aware', 'params (aware)', '{:,}'), ('params_agnostic', '(agnostic)', '{:,}'),
    ('flops_aware', 'FLOPs ÷ (aware)', '{:.2f}x'), ('flops_agnostic', '(agnostic)', '{:.2f}x'))


def dapr_rows(summaries: dict[str, dict], mode: dict) -> list[dict]:
  rows = []
  for model, (_, subsets) in mode['models'].items():
    for subset in subsets:
      s = summaries[f'{model}_{subset}_dapr']
      probes = ', '.join(f'{p["prune_percent"]:g}%: {p["subset_accuracy"]:.2%}' for p in s['probes'])
      row = {'model': model, 'subset': f'{subset} {s["subset"]}', 'dapr_percent': s['dapr_percent'],
             'unpruned': s['probes'][0]['unpruned_subset_accuracy'], 'probes': probes}
      if s['found']:
        row.update({'accuracy': s['best_subset_accuracy'],
                    'params': f'{s["best_params_total"]:,} / {s["best_params_dense"]:,}',
                    'weights_pruned': s['best_weights_pruned_fraction']})
      rows.append(row)
  return rows


DAPR_COLUMNS = (
    ('model', 'model', '{}'), ('subset', 'subset', '{}'), ('dapr_percent', 'DaPR p %', '{}'),
    ('unpruned', 'unpruned acc', '{:.2%}'), ('accuracy', 'DaPR acc', '{:.2%}'),
    ('params', 'params / unpruned', '{}'), ('weights_pruned', 'weights pruned', '{:.2%}'),
    ('probes', 'probes (p: accuracy)', '{}'))


def plots(root: pathlib.Path, rows: list[dict]) -> list[pathlib.Path]:
  figures = []
  for key in sorted({(r['model'], r['subset']) for r in rows}):
    cell = [r for r in rows if (r['model'], r['subset']) == key]
    series = {'data-aware': [(r['p'], r['aware']) for r in cell],
              'data-agnostic': [(r['p'], r['agnostic']) for r in cell],
              'unpruned': [(r['p'], r['unpruned']) for r in cell]}
    name = f'{key[0]}_{key[1].split()[0]}'
    figures.append(plot_points(series, root / 'plots' / f'{name}.png', 'weights pruned p (%)',
                               'test accuracy on the subset', title=f'{key[0]}, {key[1]}'))
  return figures


def reproduce(root: pathlib.Path, quick: bool, ablation: bool | None = None) -> pathlib.Path:
  """Runs (or resumes) the grid and writes ``root/REPORT.md`` (``ablation`` is not used here)."""
  del ablation
  mode = MODES['quick' if quick else 'full']
  summaries = run_grid(root, authors_entries(root, mode) + entries(root, mode))
  gains = gain_rows(summaries, mode)
  values = [r['gain_pp'] for r in gains]
  negative = [f'{r["model"]} {r["subset"].split()[0]} p{r["p"]} ({r["gain_pp"]:+.2f})' for r in gains if r['gain_pp'] < 0]
  verdict = (f'Average gain of data-aware over data-agnostic: **{sum(values) / len(values):+.2f} pp** over '
             f'{len(values)} cells; max {max(values):+.2f} pp; negative in {len(negative)}: '
             f'{", ".join(negative) or "none"}. Weights pruned vs p: largest deviation '
             f'{100 * max(abs(r[k] - r["p"] / 100) for r in gains for k in ("pruned_aware", "pruned_agnostic")):.2f} pp.')
  figures = '\n'.join(f'![{p.stem}](plots/{p.name})' for p in plots(root, gains))
  models = ', '.join(f'{m}{"(" + ", ".join(f"{k}={v}" for k, v in kw.items()) + ")" if kw else ""} on '
                     f'{", ".join(subsets)}' for m, (kw, subsets) in mode['models'].items())
  report = root / 'REPORT.md'
  report.write_text(HEADER.format(mode='quick' if quick else 'full', flag=' --quick' if quick else '',
                                  **{k: mode[k] for k in ('pretrain_epochs', 'finetune_epochs',
                                                                         'total_epochs', 'decay_epochs')})
                    + authors_section(root, summaries, mode) + '\n## prunejax\'s extension (`protocol=\'prunejax\'`)\n\n'
                    + EXTENSION.format(models=models) + f'{verdict}\n\n### Data-aware vs data-agnostic\n\n{markdown_table(gains, GAIN_COLUMNS)}\n\n'
                    f'### DaPR\n\n{markdown_table(dapr_rows(summaries, mode), DAPR_COLUMNS)}\n\n'
                    f'### Accuracy against p\n\n{figures}\n')
  return report


HEADER = """# ADaPT reproduction (prunejax, {mode} mode)

Rajagopal & Bouganis 2020 published code; docs/papers/adapt.md compares it with both of prunejax's
protocols. Fashion-MNIST instead of CIFAR-100, with fewer epochs in quick mode. Pretraining: {pretrain_epochs}
epochs on all classes (SGD 0.05, momentum 0.9, cosine, batch 128; 80/20 per-class train/validation
split). Data-aware: {finetune_epochs} epoch(s) at lr 1e-3 on the subset, then pruning, then retraining
on the subset to {total_epochs} epochs in all at lr 1e-2, ×0.1 at epochs {decay_epochs}. Data-agnostic:
the same pruning of the pretrained network at epoch 0, then {total_epochs} epochs on all classes at lr 1e-2,
trained once per p and read by every subset. Accuracy: on the subset's test images (argmax over all 10
classes). Unpruned: the pretrained network on the subset. Subsets: tops {{T-shirt, pullover, coat,
shirt}}, footwear {{sandal, sneaker, ankle boot}}, random3/random5 (labels drawn with seed 3/5).
Regenerate: `python scripts/reproduce.py adapt{flag}`.

"""

EXTENSION = """Models: {models}. Filters and units ranked globally by mean |W_f| are removed until p% of all
Dense/Conv kernel weights are gone (consumers' input slices counted, coupled channels jointly, at least 2
per group); the same decays for data-agnostic; accuracy at the best subset-validation epoch after pruning.
DaPR: the largest p in 5..95 (step 5) whose data-aware accuracy ≥ unpruned, by binary search from 50.
vit_tiny's attention heads, head dims, MLP units and residual stream are ranked the same way.

"""
