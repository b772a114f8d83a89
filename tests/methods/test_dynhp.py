"""DynHP: exact parameter target, shrinking optimizer state, batches within the budget, resumable."""

import json
import re
import runpy

import jax
import numpy as np
import pytest

from prunejax import methods
from prunejax.errors import PrunejaxError
from prunejax.methods import dynhp as dynhp_lib
from prunejax.train import Run
from tests.conftest import REPO
from tests.methods.test_dense_and_sparse import final_params, killed_after


@pytest.fixture
def dynhp_config(tiny_config):
  block = runpy.run_path(str(REPO / 'configs' / 'dynhp_lenet300_fashion_mnist.py'))['dynhp_block']()
  tiny_config.method, tiny_config.dynhp = 'dynhp', block
  tiny_config.num_epochs = 4
  block.target_compression, block.begin_step, block.prune_every, block.rate = 8.0, 5, 5, 0.3
  block.max_batch_size = 256
  return tiny_config


def test_dynhp_lands_on_the_target_and_batches_stay_within_budget(dynhp_config, tmp_path):
  run = Run(dynhp_config, tmp_path)
  summary = dynhp_lib.dynhp(run)
  final, target = summary['params_final'], summary['target_params']
  assert target == int(np.ceil(50610 / 8)) and summary['params_total'] == final
  assert target <= final and 'warning' not in summary  # never overshoots, and landed ...
  count = dynhp_lib.param_counter(run)
  for group in run.groups():  # ... and no further unit could go without falling below the target
    if group.prunable and group.size > dynhp_config.dynhp.min_units:
      assert count({group.name: np.arange(1, group.size)}) < target, group.name
  assert summary['num_prunes'] >= 3 and summary['compression'] == pytest.approx(50610 / final)
  # Hard pruning: optimizer momenta have the params' (shrunk) shapes.
  momenta = [x.shape for x in jax.tree.leaves(run.state.opt_state) if x.ndim]
  assert sorted(momenta) == sorted(x.shape for x in jax.tree.leaves(run.state.params))
  records = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  step_bytes = [r['train_step_bytes'] for r in records if 'train_step_bytes' in r]
  batches = [r['batch_size'] for r in records if 'batch_size' in r]
  assert max(step_bytes) <= summary['budget_bytes'] == summary['dense_step_bytes']
  assert summary['peak_step_bytes_ratio'] <= 1.0 and batches[-1] == summary['batch_size_final'] > 32
  assert batches == sorted(batches)  # the network only shrinks, so the batch only grows


def test_without_batch_sizing_memory_falls(dynhp_config, tmp_path):
  dynhp_config.dynhp.batch_sizing = False
  summary = methods.train_and_evaluate(dynhp_config, tmp_path)
  assert summary['batch_size_final'] == 32
  assert summary['final_step_bytes_ratio'] < summary['mean_step_bytes_ratio'] < 1.0


@pytest.mark.parametrize('field,value,message', [
    ('target_compression', 1.0, 'target_compression=1.0 must be > 1'),
    ('rate', 1.0, r'rate=1.0 must be in \(0, 1\)'),
    ('score', 'fisher', "score='fisher' is unknown"),
    ('target_compression', 5000.0, 'units per layer already take'),
    ('score', 'bn_scale', r'bn_scale ranks channels by their BatchNorm scale, and 2 prunable group\(s\) have none'),
    ('begin_step', 10_000, r'config.dynhp cannot reach target_compression=8.0 within the run: begin_step=10000 '
                           r'and prune_every=5 leave 0 prunes in \d+ steps'),
    ('prune_every', 1_000, r'cannot reach target_compression=8.0 within the run: begin_step=5 and '
                           r'prune_every=1000 leave 1 prunes'),
])
def test_bad_settings_fail_before_training(dynhp_config, tmp_path, field, value, message):
  dynhp_config.dynhp[field] = value
  with pytest.raises(PrunejaxError, match=message):
    methods.train_and_evaluate(dynhp_config, tmp_path)
  assert not list(tmp_path.glob('checkpoints/*/state'))


def test_resume_after_a_prune_is_bit_identical(dynhp_config, tmp_path):
  dynhp_config.keep_checkpoints = 100
  dynhp_config.checkpoint_every_steps = 1000
  clean = tmp_path / 'clean'
  methods.train_and_evaluate(dynhp_config, clean)
  numbers = sorted(int(p.name) for p in (clean / 'checkpoints').iterdir() if p.name.isdigit())
  metas = [json.loads((clean / 'checkpoints' / str(n) / 'meta' / 'metadata').read_text()) for n in numbers]
  after_prunes = [n for n, m in zip(numbers, metas) if m['phase'] and m['notes'].get('num_prunes')]
  assert len(after_prunes) >= 3  # a checkpoint right after each prune
  for number in (after_prunes[0], after_prunes[-1]):
    resumed = killed_after(clean, number, tmp_path / f'from_{number}')
    summary = methods.train_and_evaluate(dynhp_config, resumed)
    jax.tree.map(np.testing.assert_array_equal, final_params(resumed), final_params(clean))
    assert summary['num_prunes'] == json.loads((clean / 'summary.json').read_text())['num_prunes']


def test_small_dense_trains_dynhps_final_shape_from_scratch(dynhp_config, tmp_path):
  pruned = methods.train_and_evaluate(dynhp_config, tmp_path / 'dynhp')
  config = dynhp_config.copy_and_resolve_references()
  config.method = 'small_dense'
  del config['dynhp']
  config.small_dense = {'widths_from': str(tmp_path / 'dynhp')}
  summary = methods.train_and_evaluate(config, tmp_path / 'small')
  assert summary['params_total'] == pruned['params_final']
  assert summary['units_final'] == pruned['units_final'] and summary['test_accuracy'] > 0.5
  config.small_dense.widths_from = str(tmp_path / 'nowhere')
  with pytest.raises(PrunejaxError, match='widths_from=.*must be the --workdir of a finished run'):
    methods.train_and_evaluate(config, tmp_path / 'small2')


def reference_steps(config, workdir) -> int:
  """The run's length in steps of config.batch_size (what DynHP's schedule counts)."""
  probe = Run(config, workdir)
  probe.close()
  return probe.reference_steps_per_epoch * config.num_epochs


def test_a_target_the_schedule_ends_before_is_a_warning_in_the_summary(dynhp_config, tmp_path):
  total = reference_steps(dynhp_config, tmp_path / 'probe')
  # Four prunes of 15% remove at most 192 of 400 units: enough by the start-up bound (no unit set frees
  # more than its units free alone), never enough in fact (hidden units' weights are shared).
  dynhp_config.dynhp.update({'rate': 0.15, 'prune_every': 10, 'begin_step': total - 35})
  summary = methods.train_and_evaluate(dynhp_config, tmp_path / 'run')
  assert summary['num_prunes'] == 4 and summary['params_final'] > summary['target_params']
  assert summary['warning'].startswith(f'compression {summary["compression"]:.2f} misses target_compression=8.0')


def test_a_prune_too_close_to_the_end_is_a_warning(dynhp_config, tmp_path):
  """A run that lands its target at its last steps leaves a final network that hardly trained: said."""
  total = reference_steps(dynhp_config, tmp_path / 'probe')
  dynhp_config.dynhp.update({'rate': 0.9, 'prune_every': 10, 'begin_step': total - 2})
  summary = methods.train_and_evaluate(dynhp_config, tmp_path / 'run')
  assert summary['num_prunes'] == 1 and summary['params_final'] >= summary['target_params']
  assert re.fullmatch(r'the last prune came \d steps \(of batch 32\) before the end, fewer than prune_every=10: '
                      r'.*raise num_epochs\.', summary['warning'])


def test_dynhp_hard_prunes_a_transformer_heads_and_mlp_units_included(dynhp_config, tmp_path):
  dynhp_config.model = 'vit_tiny'
  dynhp_config.model_kwargs = {'dim': 16, 'depth': 1, 'heads': 4, 'patch': 4}
  dynhp_config.dynhp.target_compression, dynhp_config.dynhp.min_units = 2.0, 1
  run = Run(dynhp_config, tmp_path)
  summary = dynhp_lib.dynhp(run)
  assert summary['target_params'] <= summary['params_final'] == summary['params_total']
  assert summary['compression'] == pytest.approx(2.0, rel=0.05) and 'warning' not in summary
  units = summary['units_final']
  attention = run.model().encoder.blocks[0].attention
  heads = units.get('encoder/blocks/0/attention/query/kernel[1]', 4)
  assert attention.num_heads == attention.num_kv_heads == heads == attention.query.kernel.shape[1]
  assert attention.qkv_features == heads * attention.head_dim
  assert heads + units.get('encoder/blocks/0/mlp_in/kernel', 32) < 4 + 32  # heads or MLP units went
  assert np.isfinite(summary['test_loss'])


def test_a_step_bytes_cost_counts_a_convolutions_activation_maps(dynhp_config, tmp_path):
  """With cost_unit='step_bytes' a unit's cost is the compiled step bytes it frees: for a convolution that
  is mostly its activation maps and their gradients, many times what its weights, gradients and momenta
  hold."""
  dynhp_config.model = 'small_cnn'
  run = Run(dynhp_config, tmp_path)
  groups = [g for g in run.groups() if g.prunable]
  freed = dynhp_lib.step_bytes_per_unit(run, groups)
  count = dynhp_lib.param_counter(run)
  total = count({})
  weights = {g.name: total - count({g.name: np.arange(1, g.size)}) for g in groups}
  conv = next(g.name for g in groups if g.name.startswith('conv'))
  assert freed[conv] > 10 * 3 * 4 * weights[conv]  # float32 weights, gradients and momenta
  assert set(freed) == {g.name for g in groups if g.size > 1}
