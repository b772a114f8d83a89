import json

import numpy as np

from prunejax import methods


def test_criteria_sweep_prunes_a_trained_run_without_retraining(tiny_config, tmp_path):
  methods.load_trained(tiny_config, tmp_path)  # trains: the workdir is empty
  summary = json.loads((tmp_path / 'summary.json').read_text())
  written = (tmp_path / 'summary.json').stat().st_mtime_ns
  run = methods.load_trained(tiny_config, tmp_path)  # restores: nothing retrained
  assert (tmp_path / 'summary.json').stat().st_mtime_ns == written
  assert int(run.state.step) == summary['steps']

  rows = methods.criteria_sweep(run, ['l1', 'taylor', 'random'], [0.5], score_examples=64)
  assert rows[0]['criterion'] == 'none'
  np.testing.assert_allclose(rows[0]['test_accuracy'], summary['test_accuracy'])
  for row in rows[1:]:
    assert row['channels_kept'] == 200 and row['channels_total'] == 400  # LeNet-300-100 hidden units
    assert row['flops_ratio'] > 1.5 and 0.0 <= row['test_accuracy'] <= 1.0
  l1, _, random_a = rows[1:]
  defs, small, _ = methods.prune_channels(run, 'random', 0.5, seed=0)
  assert run.evaluate(None, 'test', (defs, small))['accuracy'] == random_a['test_accuracy']  # seeded baseline
  assert small.params['hidden'][0]['kernel'].shape == (64, 150) and l1['ratio'] == 0.5


def test_taylor_ranks_channels_like_the_leave_one_out_oracle(tiny_config, tmp_path):
  run = methods.load_trained(tiny_config, tmp_path)
  rows = methods.oracle_agreement(run, ['taylor', 'random'], score_examples=128)
  assert [r['group'] for r in rows] == ['hidden/0/kernel', 'hidden/1/kernel']
  for row in rows:
    assert row['taylor'] > 0.5 and abs(row['random']) < 0.3


def test_a_sparse_run_is_swept_whatever_optimizer_trained_it(tiny_config, tmp_path):
  tiny_config.pruning.update({'method': 'magnitude', 'sparsity': 0.5, 'begin_step': 5})
  summary = methods.train_and_evaluate(tiny_config, tmp_path)
  run = methods.load_trained(tiny_config, tmp_path)  # restored without the masked optimizer's state
  rows = methods.criteria_sweep(run, ['l1'], [0.5], score_examples=64)
  np.testing.assert_allclose(rows[0]['test_accuracy'], summary['test_accuracy'])
  assert int(run.state.step) == summary['steps'] and rows[1]['channels_kept'] == 200
