"""metrics.jsonl: a torn last line (a crash mid-write) never stops a resume."""

import json

import pytest

from prunejax.errors import PrunejaxError
from prunejax.methods import train_and_evaluate
from prunejax.train.metrics_log import MetricsLog


def test_a_torn_last_line_is_dropped_with_a_warning(tmp_path, capfd):
  path = tmp_path / 'metrics.jsonl'
  path.write_text('{"step": 0, "a": 1}\n{"step": 5, "a": 2}\n{"step": 9, "tr')
  MetricsLog(tmp_path, resume_step=5).close()
  assert [json.loads(line) for line in path.read_text().splitlines()] == [{'step': 0, 'a': 1}, {'step': 5, 'a': 2}]
  assert "dropped a torn last line (a crash mid-write): '{\"step\": 9, \"tr'" in capfd.readouterr().err


def test_a_damaged_line_inside_the_log_is_one_line(tmp_path):
  (tmp_path / 'metrics.jsonl').write_text('{"step": 0}\nnot json\n{"step": 5}\n')
  with pytest.raises(PrunejaxError, match=r'metrics.jsonl line 2 is not JSON .*; move the file away'):
    MetricsLog(tmp_path)


def test_a_run_resumes_over_a_torn_log(tiny_config, tmp_path):
  clean = train_and_evaluate(tiny_config, tmp_path / 'clean')
  torn = tmp_path / 'torn'
  train_and_evaluate(tiny_config, torn)
  (torn / 'summary.json').unlink()
  with (torn / 'metrics.jsonl').open('a') as log:
    log.write('{"step": 40, "train_lo')
  assert train_and_evaluate(tiny_config, torn)['test_loss'] == clean['test_loss']


def test_a_resume_keeps_the_records_its_checkpoint_counted_and_a_fresh_start_none(tmp_path):
  path = tmp_path / 'metrics.jsonl'
  lines = '{"step": 0, "a": 1}\n{"step": 5, "a": 2}\n{"step": 5, "final_a": 2}\n'
  path.write_text(lines)
  log = MetricsLog(tmp_path, resume_step=5, resume_records=2)  # the final record came after the checkpoint
  log.close()
  assert path.read_text() == '{"step": 0, "a": 1}\n{"step": 5, "a": 2}\n' and log.records == 2
  path.write_text(lines)
  MetricsLog(tmp_path, resume_step=5).close()  # a checkpoint that did not count keeps what its step covers
  assert path.read_text() == lines
  MetricsLog(tmp_path, resume_step=0, resume_records=0).close()  # e.g. a run diverged before its first save
  assert path.read_text() == ''
