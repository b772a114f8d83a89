"""Reproduction grids: a finished run of the same config is read back, not re-run; a changed config is
refused by the workdir's fingerprint, never silently mixed."""

import json

import pytest

from prunejax.errors import PrunejaxError
from prunejax.reproductions.grid import Entry, run_grid
from prunejax.train import finished_summary


def test_a_finished_run_is_read_back_and_a_changed_config_is_not(tiny_config, tmp_path):
  tiny_config.num_epochs = 1
  first = run_grid(tmp_path, [Entry('dense', lambda _: tiny_config)], log=lambda _: None)['dense']
  summary_file = tmp_path / 'dense' / 'summary.json'
  marked = dict(json.loads(summary_file.read_text()), marker=1)  # a re-run would rewrite the file
  summary_file.write_text(json.dumps(marked))
  again = run_grid(tmp_path, [Entry('dense', lambda _: tiny_config)], log=lambda _: None)['dense']
  assert again['marker'] == 1 and again['test_accuracy'] == first['test_accuracy']
  changed = tiny_config.copy_and_resolve_references()
  changed.optimizer.learning_rate = 0.01
  assert finished_summary(tmp_path / 'dense', changed) is None
  with pytest.raises(PrunejaxError, match='learning_rate'):
    run_grid(tmp_path, [Entry('dense', lambda _: changed)], log=lambda _: None)
