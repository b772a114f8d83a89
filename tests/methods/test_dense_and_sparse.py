import json
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import orbax.checkpoint as ocp
import pytest

from prunejax import core
from prunejax.errors import PrunejaxError
from prunejax.train.pruning import Pruning
from prunejax.methods import sparse, train_and_evaluate

CONTRACT_KEYS = {'test_accuracy', 'test_loss', 'params_total', 'params_nonzero', 'sparsity',
                 'flops_per_example', 'train_step_bytes', 'train_seconds', 'dataset', 'model', 'method'}


def checkpoint_numbers(workdir):
  return sorted(int(p.name) for p in (workdir / 'checkpoints').iterdir() if p.name.isdigit())


def final_params(workdir):
  number = checkpoint_numbers(workdir)[-1]
  return ocp.StandardCheckpointer().restore((workdir / 'checkpoints' / str(number) / 'state').absolute())


def killed_after(clean, number, workdir):
  """A copy of the finished run in ``clean`` as if killed right after its checkpoint ``number``."""
  shutil.copytree(clean, workdir)
  (workdir / 'summary.json').unlink()
  for later in checkpoint_numbers(clean):
    if later > number:
      shutil.rmtree(workdir / 'checkpoints' / str(later))
  return workdir


def test_training_learns_and_writes_the_results_contract(tiny_config, tmp_path):
  summary = train_and_evaluate(tiny_config, tmp_path)
  assert CONTRACT_KEYS <= set(summary)
  assert summary['test_accuracy'] > 0.5  # chance is 0.1; the synthetic classes are separable
  assert summary['params_total'] == summary['params_nonzero'] == 64 * 300 + 300 + 300 * 100 + 100 + 1010
  # One dense forward pass: 2 FLOPs per multiply-add, plus biases and ReLUs.
  assert 2 * (64 * 300 + 300 * 100 + 100 * 10) <= summary['flops_per_example'] < 1.1e5
  assert summary['train_step_bytes'] > 4 * summary['params_total']
  assert json.loads((tmp_path / 'summary.json').read_text()) == summary
  records = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  assert [r['epoch'] for r in records if 'validation_accuracy' in r] == [1, 2]
  assert list((tmp_path / 'tensorboard').glob('events.out.tfevents.*'))


def test_rerun_resumes_instead_of_retraining(tiny_config, tmp_path):
  first = train_and_evaluate(tiny_config, tmp_path)
  before = final_params(tmp_path)
  second = train_and_evaluate(tiny_config, tmp_path)
  assert second['test_accuracy'] == first['test_accuracy']
  jax.tree.map(np.testing.assert_array_equal, final_params(tmp_path), before)


def test_resume_from_a_mid_run_checkpoint_is_bit_identical(tiny_config, tmp_path):
  train_and_evaluate(tiny_config, tmp_path / 'clean')
  short = tiny_config.copy_and_resolve_references()
  short.num_epochs = 1  # an interrupted run: its last checkpoint is at the end of epoch 1 ...
  with pytest.raises(PrunejaxError, match='num_epochs'):  # ... and a changed config is refused,
    train_and_evaluate(short, tmp_path / 'clean')
  resumed_dir = tmp_path / 'resumed'
  train_and_evaluate(tiny_config, resumed_dir)
  steps = sorted(int(p.name) for p in (resumed_dir / 'checkpoints').iterdir() if p.name.isdigit())
  for step in steps[1:]:  # keep only the mid-run checkpoint, as if killed right after it
    shutil.rmtree(resumed_dir / 'checkpoints' / str(step))
  train_and_evaluate(tiny_config, resumed_dir)
  jax.tree.map(np.testing.assert_array_equal, final_params(resumed_dir), final_params(tmp_path / 'clean'))


@pytest.mark.parametrize('field,value', [('model', 'lenet5'), ('seed', 1)])
def test_checkpoint_of_another_config_is_refused_clearly(tiny_config, tmp_path, field, value):
  train_and_evaluate(tiny_config, tmp_path)
  other = tiny_config.copy_and_resolve_references()
  other[field] = value
  with pytest.raises(PrunejaxError, match=f'written with {field}=.*use a new --workdir'):
    train_and_evaluate(other, tmp_path)


def test_batch_larger_than_the_data_is_refused_leaving_no_workdir(tiny_config, tmp_path):
  tiny_config.batch_size = 4096
  with pytest.raises(PrunejaxError, match='batch_size=4096 exceeds'):
    train_and_evaluate(tiny_config, tmp_path / 'run')
  assert not (tmp_path / 'run').exists()  # not even the lock it took


@pytest.mark.parametrize('method,schedule', [('magnitude', 'polynomial'), ('magnitude', 'one_shot'),
                                             ('snip', 'one_shot'), ('synflow', 'one_shot')])
def test_pruned_training_reaches_the_measured_target_sparsity(tiny_config, tmp_path, method, schedule):
  pruning = tiny_config.pruning
  pruning.method, pruning.sparsity, pruning.schedule = method, 0.8, schedule
  pruning.begin_step, pruning.end_step, pruning.update_every = (0, 0, 1) if method != 'magnitude' else (
      4, 20, 4)
  pruning.synflow_rounds = 10
  summary = train_and_evaluate(tiny_config, tmp_path)
  assert summary['sparsity'] == pytest.approx(0.8, abs=1e-4)  # measured zeros in the trained kernels
  assert summary['method'] == 'sparse' and summary['pruning_method'] == method
  assert summary['target_sparsity'] == 0.8
  dense_total = summary['params_total']
  assert summary['params_nonzero'] < 0.35 * dense_total
  assert summary['test_accuracy'] > 0.3
  # The log follows the masks: the parameters they keep only fall, to at least the summary's non-zero count
  # (it counts non-zero values: a kept weight may be exactly zero).
  records = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  kept = [r['params_kept'] for r in records if 'params_kept' in r]
  assert kept == sorted(kept, reverse=True) and len(kept) > 2
  assert summary['params_nonzero'] <= kept[-1] < 0.35 * dense_total
  assert (len(set(kept)) > 2) == (schedule == 'polynomial')  # refreshed on a schedule, or fixed once


def test_pruned_run_resumes_bit_identically_with_its_masks(tiny_config, tmp_path):
  tiny_config.pruning.update({'method': 'magnitude', 'sparsity': 0.7, 'schedule': 'iterative',
                              'begin_step': 5, 'end_step': 25, 'update_every': 5})
  train_and_evaluate(tiny_config, tmp_path / 'clean')
  resumed_dir = tmp_path / 'resumed'
  train_and_evaluate(tiny_config, resumed_dir)
  steps = sorted(int(p.name) for p in (resumed_dir / 'checkpoints').iterdir() if p.name.isdigit())
  for step in steps[1:]:
    shutil.rmtree(resumed_dir / 'checkpoints' / str(step))
  train_and_evaluate(tiny_config, resumed_dir)
  jax.tree.map(np.testing.assert_array_equal, final_params(resumed_dir), final_params(tmp_path / 'clean'))


def test_dense_step_bytes_exclude_the_dataset(tiny_config, tmp_path):
  summary = train_and_evaluate(tiny_config, tmp_path)
  params_bytes = 4 * summary['params_total']
  # params + SGD momentum + gradients + a batch: a few times the params, far from the dataset's size.
  assert 2 * params_bytes < summary['train_step_bytes'] < 8 * params_bytes


def test_a_diverging_run_stops_with_one_line_and_keeps_the_last_good_checkpoint(tiny_config, tmp_path):
  tiny_config.optimizer.learning_rate = 1e6
  tiny_config.checkpoint_every_steps = 1  # every step would be saved: the diverged ones must not be
  with pytest.raises(PrunejaxError, match=r'training diverged by step \d+ \(loss is not finite\); (checkpoint \d+ '
                                          r'\(step \d+\) is the last good one|no checkpoint was written before '
                                          r'it): lower config.optimizer.learning_rate'):
    train_and_evaluate(tiny_config, tmp_path)
  assert not (tmp_path / 'summary.json').exists()
  for step_dir in (p for p in (tmp_path / 'checkpoints').iterdir() if p.name.isdigit()):
    state = ocp.StandardCheckpointer().restore((step_dir / 'state').absolute())
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(state['params']))
  for line in (tmp_path / 'metrics.jsonl').read_text().splitlines():
    json.loads(line)  # valid JSON: no NaN written


@pytest.mark.parametrize('overrides,message', [
    ({'method': 'none', 'sparsity': 0.9}, 'has no effect with pruning.method=none'),
    ({'method': 'magnitude', 'sparsity': 0.9, 'schedule': 'polynomial'}, 'needs begin_step < end_step'),
    ({'method': 'magnitude', 'sparsity': 0.5, 'scope': 'layerwise', 'per_layer': {'nothing$': 0.1}},
     "per_layer regex 'nothing\\$' matches no prunable parameter"),
])
def test_settings_that_would_be_ignored_are_refused(tiny_config, tmp_path, overrides, message):
  with tiny_config.ignore_type():
    tiny_config.pruning.update(overrides)
  with pytest.raises(PrunejaxError, match=message):
    train_and_evaluate(tiny_config, tmp_path)


@pytest.mark.parametrize('schedule,begin,end,reached_at', [('polynomial', 5, 5000, 5000), ('one_shot', 32, 0, 32),
                                                      ('iterative', 12, 34, 32)])
def test_a_schedule_reaching_its_target_after_training_is_refused_before_it(tiny_config, tmp_path, schedule,
                                                                            begin, end, reached_at):
  """tiny_config: 2 epochs of 16 steps, steps 0 to 31 (a refresh at step 32 never happens)."""
  tiny_config.pruning.update({'method': 'magnitude', 'sparsity': 0.8, 'schedule': schedule,
                              'begin_step': begin, 'end_step': end, 'update_every': 5})
  with pytest.raises(PrunejaxError, match=rf'config.pruning reaches its sparsity at step {reached_at} .*after the '
                                          r"run's last step 31 \(num_epochs=2\); lower end_step/begin_step"):
    train_and_evaluate(tiny_config, tmp_path)
  assert [p.name for p in tmp_path.iterdir()] == ['.lock']  # no checkpoint, log or events: only the lock


def test_a_run_whose_measured_sparsity_misses_its_target_says_so(capsys):
  summary = {'sparsity': 0.7, 'target_sparsity': 0.8}
  sparse._reached_target(summary)
  assert summary['warning'].startswith('measured sparsity 0.7000 misses the target 0.8')
  assert capsys.readouterr().err == f'warning: {summary["warning"]}\n'


def test_an_unwritable_workdir_is_refused_at_start(tiny_config, tmp_path):
  (tmp_path / 'file').write_text('')
  with pytest.raises(PrunejaxError, match='cannot be written'):
    train_and_evaluate(tiny_config, tmp_path / 'file' / 'run')



def test_a_mask_that_cuts_the_network_is_said_at_once(tiny_config, tmp_path, capsys, monkeypatch):
  tiny_config.pruning.update({'method': 'random', 'sparsity': 0.5})
  train_and_evaluate(tiny_config, tmp_path / 'fine')
  assert 'output is the same for every' not in capsys.readouterr().err

  scored_masks_at_init = Pruning.scored_masks_at_init

  def cut_last_hidden_layer(self, *args, **kwargs):  # the scorer's masks, with one layer removed whole
    scored = scored_masks_at_init(self, *args, **kwargs)
    paths = core.leaf_paths(scored['masks'])
    scored['masks'] = jax.tree.map(lambda path, m: jnp.zeros_like(m) if path == 'hidden/1/kernel' else m,
                                   paths, scored['masks'])
    return scored

  monkeypatch.setattr(Pruning, 'scored_masks_at_init', cut_last_hidden_layer)
  summary = train_and_evaluate(tiny_config, tmp_path / 'cut')
  assert 'warning: the random mask at sparsity 0.5 leaves a network whose output is the same for every' in (
      capsys.readouterr().err)
  # It ends at chance, and the end names the mask as the cause, not the learning rate.
  assert 'did not learn' in summary['warning'] and 'its mask at initialisation cut the network' in summary['warning']
