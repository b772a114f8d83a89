"""Metrics to ``metrics.jsonl`` (one JSON object per record) and TensorBoard event files.

``metrics.jsonl`` is the record every report reads; the TensorBoard events are for viewing, written when
tensorboardX is installed (the accelerator check runs where it may not be).
"""

import json
import os
import pathlib
import sys

try:
  import tensorboardX
except ImportError:
  tensorboardX = None

from prunejax.errors import PrunejaxError


class MetricsLog:
  """Appends records; on resume, keeps the records written before the restored checkpoint (``resume_records``
  of them; older checkpoints, which did not count: those up to its step), so a resumed or re-run run's log
  reads as one uninterrupted run."""

  def __init__(self, workdir: str | pathlib.Path, resume_step: int = 0, resume_records: int | None = None):
    workdir = pathlib.Path(workdir)
    self.path = workdir / 'metrics.jsonl'
    self.records = 0  # records in the file: what a checkpoint saved now would keep
    if self.path.exists():
      records = _records(self.path)
      records = (records[:resume_records] if resume_records is not None else
                 [r for r in records if r.get('step', 0) <= resume_step])
      partial = self.path.with_suffix('.jsonl.tmp')  # replaced in one step: a crash here loses no record
      partial.write_text(''.join(json.dumps(r) + '\n' for r in records))
      os.replace(partial, self.path)
      self.records = len(records)
    # TensorBoard's purge_step hides earlier events past the restored step (a replay writes them again; a
    # record written at that step after the checkpoint, e.g. the final one, shows twice), or all of them
    # on a fresh start.
    self._purge_step = resume_step + 1 if self.records else 0
    self._file = self._tensorboard = None  # opened at the first record: a run refused at start-up leaves none

  def write(self, step: int, metrics: dict[str, float]) -> None:
    if self._file is None:
      self._file = self.path.open('a')
      self._tensorboard = tensorboardX and tensorboardX.SummaryWriter(str(self.path.parent / 'tensorboard'),
                                                                      purge_step=self._purge_step)
    record = {'step': int(step), **{k: _plain(v) for k, v in metrics.items()}}
    self._file.write(json.dumps(record) + '\n')
    self._file.flush()
    self.records += 1
    for name, value in record.items():
      if self._tensorboard and name != 'step' and isinstance(value, (int, float)):
        self._tensorboard.add_scalar(name, value, step)

  def close(self) -> None:
    if self._file is not None:
      self._file.close()
    if self._tensorboard:
      self._tensorboard.close()


def _records(path: pathlib.Path) -> list[dict]:
  """The records of ``path``; a torn last line (a crash mid-write) is dropped with a warning, since the
  log must never stop a resume. A damaged line before the last is no torn write: one-line refusal."""
  lines = [line for line in path.read_text(errors='replace').splitlines() if line.strip()]
  records = []
  for number, line in enumerate(lines, 1):
    try:
      records.append(json.loads(line))
    except ValueError:
      if number < len(lines):
        raise PrunejaxError(f'{path} line {number} is not JSON (the log was edited or damaged); move the file '
                            'away to resume without the earlier records.') from None
      print(f'warning: {path}: dropped a torn last line (a crash mid-write): {line[:60]!r}', file=sys.stderr,
            flush=True)
  return records


def _plain(value):
  try:
    return float(value) if not isinstance(value, (str, int)) else value
  except TypeError:
    return str(value)
