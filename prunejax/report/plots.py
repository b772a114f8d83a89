"""PNG plots of runs against the training step, drawn from their ``metrics.jsonl`` (matplotlib, Agg).

One figure per quantity (accuracy, loss, parameters, batch size, step bytes), one line per run and
metric, with the phase boundaries of a single run marked; several workdirs share each figure (then
accuracy and loss show the validation curves only).
"""

import json
import math
import pathlib
from collections.abc import Sequence

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top,wrong-import-position
from matplotlib import ticker  # pylint: disable=g-import-not-at-top,wrong-import-position

# figure name -> (y label, metrics drawn, log scale)
PLOTTED = {
    'accuracy': ('accuracy', ('train_accuracy', 'validation_accuracy'), False),
    'loss': ('loss', ('train_loss', 'validation_loss'), True),
    'params': ('parameters', ('params', 'params_kept'), False),
    'batch_size': ('batch size', ('batch_size',), False),
    'step_bytes': ('train step MB (XLA)', ('train_step_bytes',), False),
}
_SCALE = {'train_step_bytes': 1e-6}
FLAT_HIDDEN = ('batch_size',)  # not drawn when it never changes


def read_metrics(workdir: str | pathlib.Path) -> list[dict]:
  path = pathlib.Path(workdir) / 'metrics.jsonl'
  if not path.exists():
    return []
  return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def plot_runs(workdirs: Sequence[str | pathlib.Path], out_dir: str | pathlib.Path, x: str = 'step',
              labels: Sequence[str] | None = None) -> list[pathlib.Path]:
  """Writes ``out_dir/<quantity>.png`` for each quantity some run logged, against ``x`` ('step' or
  'examples_seen'); ``labels`` name the runs (default: their directory names). Returns the files."""
  out_dir = pathlib.Path(out_dir)
  out_dir.mkdir(parents=True, exist_ok=True)
  names = labels or [pathlib.Path(w).name or str(w) for w in workdirs]
  runs = {name: read_metrics(w) for name, w in zip(names, workdirs)}
  written = []
  for figure, (label, keys, log_scale) in PLOTTED.items():
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    drawn = 0
    for run_name, records in runs.items():
      # Several runs on one figure: validation curves only, or the figure is unreadable.
      shown = [k for k in keys if len(runs) == 1 or not k.startswith('train_')] or keys
      last_x = max((r[x] for r in records if x in r), default=0)
      for key in shown:
        points = _series(records, key, x)
        if not points or (len(runs) == 1 and key in FLAT_HIDDEN and len({v for _, v in points}) == 1):
          continue  # one run's fixed batch size is a flat line: nothing to see
        steps, values = zip(*points)
        step_like = key in ('params', 'params_kept', 'batch_size', 'train_step_bytes')
        label_text = key if len(runs) == 1 else f'{run_name}: {key}'
        if step_like:  # piecewise constant between changes: extend to the last logged step
          steps, values = steps + (last_x,), values + (values[-1],)
          ax.step(steps, values, where='post', label=label_text)
        else:
          ax.plot(steps, values, label=label_text, marker='.' if len(steps) < 30 else None)
        drawn += 1
    if drawn:
      if len(runs) == 1:
        _mark_phases(ax, next(iter(runs.values())), x)
      ax.set_xlabel({'step': 'training step', 'examples_seen': 'examples seen'}.get(x, x))
      ax.set_ylabel(label)
      ax.set_title(f'{label}: {", ".join(runs)}' if len(runs) <= 3 else f'{label}: {len(runs)} runs',
                   fontsize='medium')
      if log_scale:
        ax.set_yscale('log')
      ax.grid(alpha=0.3)
      ax.legend(fontsize='small')
      fig.tight_layout()
      path = out_dir / f'{figure}.png'
      fig.savefig(path, dpi=100)
      written.append(path)
    plt.close(fig)
  return written


def _series(records, key, x):
  scale = _SCALE.get(key, 1.0)
  return [(r[x], r[key] * scale) for r in records if isinstance(r.get(key), (int, float)) and x in r]


def _mark_phases(ax, records, x):
  for record in records[1:]:
    if isinstance(record.get('phase'), str) and x in record:
      ax.axvline(record[x], color='grey', lw=0.8, ls=':')
      ax.annotate(record['phase'], (record[x], 1.0), xycoords=('data', 'axes fraction'),
                  fontsize='x-small', rotation=90, va='top', ha='right', color='grey')


def _minor_log_labels(within_decade: bool) -> ticker.Formatter:
  """Every minor tick labelled within a decade (2, 3, … 9); over decades only 2 and 5, which do not overlap."""
  def label(x, _):
    mantissa = round(x / 10 ** math.floor(math.log10(x)))
    return f'{x:g}' if within_decade or mantissa in (2, 5) else ''
  return ticker.FuncFormatter(label)


def plot_points(series: dict[str, Sequence[tuple[float, float]]], path: str | pathlib.Path, xlabel: str,
                ylabel: str, log_x: bool = False, title: str = '', log_y: bool = False) -> pathlib.Path:
  """One scatter-and-line series per label (points sorted by x), e.g. accuracy against size ratio."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fig, ax = plt.subplots(figsize=(6.4, 4.2))
  for label, points in series.items():
    if points:
      xs, ys = zip(*sorted(points))
      ax.plot(xs, ys, marker='o', linestyle='--' if 'upai' in label.lower() else '-', label=label)
  for log, axis, set_scale, limits in ((log_x, ax.xaxis, ax.set_xscale, ax.get_xlim),
                                       (log_y, ax.yaxis, ax.set_yscale, ax.get_ylim)):
    if log:
      set_scale('log')
      axis.set_major_formatter(ticker.FormatStrFormatter('%g'))  # 2, 5, 10, not 2×10⁰
      low, high = limits()
      axis.set_minor_formatter(_minor_log_labels(within_decade=high < 10 * low))
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  if title:
    ax.set_title(title)
  ax.grid(alpha=0.3)
  ax.legend(fontsize='x-small', ncol=2)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path


def pareto_front(points: dict[str, tuple[float, float]]) -> list[str]:
  """Labels of the points no other point beats on both coordinates (higher is better), by x."""
  front = [label for label, (x, y) in points.items()
           if not any(ox >= x and oy >= y and (ox, oy) != (x, y) for ox, oy in points.values())]
  return sorted(front, key=lambda label: points[label])


def plot_tradeoff(points: dict[str, tuple[float, float]], path: str | pathlib.Path, xlabel: str, ylabel: str,
                  title: str = '') -> pathlib.Path:
  """Labelled points (higher is better on both axes) with their Pareto front drawn as a line."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  fig, ax = plt.subplots(figsize=(6.4, 4.2))
  front = pareto_front(points)
  for label, (x, y) in points.items():
    ax.scatter([x], [y], color='tab:red' if label in front else 'tab:blue', zorder=3)
    ax.annotate(label, (x, y), textcoords='offset points', xytext=(4, 4), fontsize='x-small')
  if len(front) > 1:
    ax.plot(*zip(*(points[label] for label in front)), color='tab:red', alpha=0.5, label='Pareto front')
    ax.legend(fontsize='x-small')
  ax.axhline(0, color='grey', lw=0.5)
  ax.axvline(0, color='grey', lw=0.5)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  if title:
    ax.set_title(title)
  ax.grid(alpha=0.3)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path
