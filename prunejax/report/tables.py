"""Plain-text tables of run summaries, for scripts that print results, and their JSON rows."""

import json
import pathlib
from collections.abc import Sequence
from typing import Any

COLUMNS = (('model', 'model', '{}'), ('dataset', 'dataset', '{}'), ('method', 'method', '{}'),
           ('epochs', 'epochs', '{}'), ('test_accuracy', 'test acc', '{:.2%}'),
           ('params_nonzero', 'params', '{:,}'), ('sparsity', 'sparsity', '{:.1%}'),
           ('flops_per_example', 'MFLOPs/ex', '{:.2f}'), ('train_step_bytes', 'step MB', '{:.1f}'),
           ('train_seconds', 'train s', '{:.0f}'))
_SCALE = {'flops_per_example': 1e-6, 'train_step_bytes': 1e-6}


def summary_table(summaries: Sequence[dict[str, Any]], columns=COLUMNS) -> str:
  """A fixed-width table with one row per summary (missing figures shown as '-')."""
  header = [title for _, title, _ in columns]
  rows = [[_cell(summary, key, fmt) for key, _, fmt in columns] for summary in summaries]
  widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
  line = lambda cells: '  '.join(c.rjust(w) for c, w in zip(cells, widths))
  return '\n'.join([line(header), line(['-' * w for w in widths])] + [line(r) for r in rows])


def _cell(summary, key, fmt):
  if key not in summary:
    return '-'
  value = summary[key]
  return fmt.format(value * _SCALE[key] if key in _SCALE else value)


def markdown_table(summaries: Sequence[dict[str, Any]], columns) -> str:
  """The same rows as a GitHub-flavoured Markdown table, for REPORT.md files."""
  header = [title for _, title, _ in columns]
  rows = [[_cell(summary, key, fmt) for key, _, fmt in columns] for summary in summaries]
  line = lambda cells: '| ' + ' | '.join(cells) + ' |'
  return '\n'.join([line(header), line(['---'] * len(header))] + [line(r) for r in rows])


def write_rows(rows: Sequence[dict[str, Any]], path: str | pathlib.Path) -> pathlib.Path:
  """Writes a benchmark's rows as JSON (parents created) and says where."""
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  path.write_text(json.dumps(list(rows), indent=2) + '\n')
  print(f'written to {path}')
  return path
