"""Metrics to ``metrics.jsonl`` (one JSON object per record) and TensorBoard event files."""

import json
import pathlib

import tensorboardX


class MetricsLog:
  """Appends records; on resume, drops records past the restored step so the log reads as one run."""

  def __init__(self, workdir: str | pathlib.Path, resume_step: int = 0):
    workdir = pathlib.Path(workdir)
    self.path = workdir / 'metrics.jsonl'
    if self.path.exists():
      kept = [line for line in self.path.read_text().splitlines()
              if line.strip() and json.loads(line).get('step', 0) <= resume_step]
      self.path.write_text(''.join(line + '\n' for line in kept))
    self._file = self.path.open('a')
    self._tensorboard = tensorboardX.SummaryWriter(str(workdir / 'tensorboard'))

  def write(self, step: int, metrics: dict[str, float]) -> None:
    record = {'step': int(step), **{k: _plain(v) for k, v in metrics.items()}}
    self._file.write(json.dumps(record) + '\n')
    self._file.flush()
    for name, value in record.items():
      if name != 'step' and isinstance(value, (int, float)):
        self._tensorboard.add_scalar(name, value, step)

  def close(self) -> None:
    self._file.close()
    self._tensorboard.close()


def _plain(value):
  try:
    return float(value) if not isinstance(value, (str, int)) else value
  except TypeError:
    return str(value)
