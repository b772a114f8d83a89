"""Edge re-training: every sparse strategy keeps the deployed sparsity, frozen layers stay frozen,
rehearsal mixes the configured share, distillation at weight 0 is plain fine-tuning."""

import json
import pathlib
import runpy

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from prunejax import core, data, methods
from prunejax.errors import PrunejaxError
from prunejax.methods import edge_retrain
from prunejax.train import Cursor, Run, load, split_model
from tests.conftest import REPO

SPARSE = ('finetune_fixed_mask', 'rehearsal', 'regrow_reprune', 'last_layers', 'distill')


@pytest.fixture
def edge_config(tiny_config, tmp_path_factory):
  block = runpy.run_path(str(REPO / 'configs' / 'edge_retrain_lenet300_fashion_mnist.py'))['edge_retrain_block']()
  block.update(sparsity=0.8, new_fraction=0.3, new_examples=100, steps=20, batch_size=16, rehearsal_size=25,
               learning_rate=0.05, shift_strength=30.0)
  block.deployed_workdir = str(tmp_path_factory.getbasetemp() / 'edge_deployed')  # shared by the tests
  tiny_config.method, tiny_config.edge_retrain = 'edge_retrain', block
  return tiny_config


def retrained(config, workdir, strategy, **fields):
  config = config.copy_and_resolve_references()
  config.edge_retrain.update(strategy=strategy, **fields)
  run = Run(config, workdir)
  summary = edge_retrain.edge_retrain(run)
  return summary, run.state


def test_sparse_strategies_keep_the_deployed_sparsity_exactly(edge_config, tmp_path):
  results = {s: retrained(edge_config, tmp_path / s, s) for s in SPARSE + ('finetune_dense', 'none')}
  results = {s: (summary, state.params) for s, (summary, state) in results.items()}
  deployed = split_model(load(edge_config.edge_retrain.deployed_workdir))[1]
  selected = core.select_leaves(deployed)
  zeros = lambda params: [np.asarray(p) == 0 for p, f in zip(jax.tree.leaves(params), jax.tree.leaves(selected)) if f]
  deployed_zeros = zeros(deployed)
  kept = sum(int((~z).sum()) for z in deployed_zeros)
  for strategy, (summary, params) in results.items():
    assert summary['strategy'] == strategy
    if strategy == 'finetune_dense':
      assert summary['sparsity_after'] < 0.1
      continue
    assert summary['sparsity_after'] == summary['deployed_sparsity'] == pytest.approx(0.8, abs=1e-4), strategy
    assert sum(int((~z).sum()) for z in zeros(params)) == kept, strategy
    if strategy != 'regrow_reprune':  # pruned weights stay exactly zero
      assert all((z[d]).all() for z, d in zip(zeros(params), deployed_zeros)), strategy
    if strategy != 'none':
      assert summary['retrain_steps'] == 20 and summary['acc_new_after'] != summary['acc_new_before']
  # regrow_reprune re-grew weights, then re-pruned to the same count: its zeros moved.
  regrown = zeros(results['regrow_reprune'][1])
  assert any((z != d).any() for z, d in zip(regrown, deployed_zeros))
  kernels = sum(int(np.prod(p.shape)) for p, f in zip(jax.tree.leaves(deployed), jax.tree.leaves(selected)) if f)
  total = sum(int(np.prod(p.shape)) for p in jax.tree.leaves(deployed))
  assert results['finetune_fixed_mask'][0]['trainable_params'] == total - kernels + kept  # the kept weights
  assert results['finetune_dense'][0]['trainable_params'] == total and results['none'][0]['trainable_params'] == 0
  # The deployed network is the same "before" for every strategy.
  assert len({r[0]['acc_original_before'] for r in results.values()}) == 1
  assert results['none'][0]['acc_new_after'] == results['none'][0]['acc_new_before']


def test_last_layers_freeze_the_rest_bit_for_bit_without_optimizer_state(edge_config, tmp_path):
  summary, state = retrained(edge_config, tmp_path, 'last_layers', last_layers=1)
  params = state.params
  deployed = split_model(load(edge_config.edge_retrain.deployed_workdir))[1]
  for path, before, after in zip(jax.tree.leaves(core.leaf_paths(deployed)), jax.tree.leaves(deployed),
                                 jax.tree.leaves(params)):
    if path.startswith('classifier/'):
      assert not np.array_equal(before, after), path
    else:
      np.testing.assert_array_equal(before, after, err_msg=path)
  shapes = {tuple(x.shape) for x in jax.tree.leaves(state.opt_state) if np.ndim(x)}
  assert shapes == {(100, 10), (10,)}  # the classifier's momentum (and mask) only
  assert summary['trainable_params'] == 100 * 10 + 10  # the classifier is dense


def test_rehearsal_batches_hold_the_buffer_share(edge_config, tmp_path):
  cfg = edge_config.edge_retrain
  run = Run(edge_config, tmp_path)
  original, new = data.original_and_new(run.splits, cfg.new_fraction, 0, 'rotate', 30.0)
  new = data.with_budget(new, 100, 0)
  mixed = data.with_rehearsal(new, original, 25, 0)
  assert len(mixed.train) == 125 and mixed.test is new.test
  # The buffer holds original training images (unrotated), the rest are the new ones.
  buffer = mixed.train.images[100:]
  originals = {x.tobytes() for x in original.train.images}
  assert all(x.tobytes() in originals for x in buffer)
  assert not any(x.tobytes() in originals for x in mixed.train.images[:100])
  cursor, seen = Cursor(), []
  while cursor.epoch == 0:
    indices, _ = cursor.take(0, 125, 16)
    seen += list(indices)
  share = np.mean(np.asarray(seen) >= 100)  # one epoch: every example once but the dropped remainder
  assert abs(share - 25 / 125) <= 15 / len(seen)
  run.close()


def test_distillation_at_weight_zero_is_plain_fine_tuning(edge_config, tmp_path):
  _, plain = retrained(edge_config, tmp_path / 'plain', 'finetune_fixed_mask')
  _, distilled = retrained(edge_config, tmp_path / 'distill', 'distill', distill_weight=0.0)
  for a, b in zip(jax.tree.leaves(plain.params), jax.tree.leaves(distilled.params)):
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_distillation_loss_by_hand():
  logits, teacher = jnp.array([[2.0, 0.0, -1.0]]), jnp.array([[0.5, 1.5, 0.0]])
  loss = edge_retrain.distillation_loss(lambda x: teacher, 0.25, 2.0)(logits, jnp.array([1]), None)
  p, q = jax.nn.softmax(teacher / 2.0), jax.nn.softmax(logits / 2.0)
  kl = jnp.sum(p * (jnp.log(p) - jnp.log(q)))
  ce = -jax.nn.log_softmax(logits)[0, 1]
  assert float(loss[0]) == pytest.approx(float(0.75 * ce + 0.25 * 4.0 * kl), rel=1e-5)
  same = edge_retrain.distillation_loss(lambda x: logits, 1.0, 3.0)(logits, jnp.array([1]), None)
  assert float(same[0]) == pytest.approx(0.0, abs=1e-6)


def test_the_deployment_is_shared_and_its_summary_read(edge_config, tmp_path):
  retrained(edge_config, tmp_path / 'a', 'none')
  deployed = edge_config.edge_retrain.deployed_workdir
  before = json.loads((pathlib.Path(deployed) / 'summary.json').read_text())
  summary, _ = retrained(edge_config, tmp_path / 'b', 'none', shift='class_skew', shift_strength=0.5)
  assert json.loads((pathlib.Path(deployed) / 'summary.json').read_text()) == before
  assert summary['acc_original_before'] == pytest.approx(before['acc_original'])


def test_a_deployed_workdir_of_another_config_is_refused_before_anything_is_written(edge_config, tmp_path):
  retrained(edge_config, tmp_path / 'a', 'none')  # the shared deployment exists
  edge_config.num_epochs += 1  # decides the deployed network: another deployment
  with pytest.raises(PrunejaxError, match=r"config.edge_retrain.deployed_workdir='.*' holds a deployment trained "
                                          r'with num_epochs=\d+, this config deploys with \d+; point '
                                          'deployed_workdir at a new directory'):
    methods.train_and_evaluate(edge_config, tmp_path / 'b')
  assert not (tmp_path / 'b').exists() or not any((tmp_path / 'b').iterdir())


@pytest.mark.parametrize('field,value,message', [
    ('strategy', 'prune_more', "strategy='prune_more' is unknown"),
    ('shift', 'blur', "shift='blur' is unknown"),
    ('sparsity', 1.0, r'sparsity=1.0 must be in \(0, 1\)'),
    ('prune_window', (0.6, 0.1), r'prune_window=\(0.6, 0.1\) must be'),
    ('batch_size', 500, r'batch_size=500 must be at most new_examples=100'),
    ('distill_weight', 2.0, r'distill_weight=2.0 must be in \[0, 1\]'),
])
def test_bad_settings_fail_at_start_up(edge_config, tmp_path, field, value, message):
  edge_config.edge_retrain[field] = value
  with pytest.raises(PrunejaxError, match=message):
    methods.train_and_evaluate(edge_config, tmp_path)
  assert not (tmp_path / 'checkpoints').exists()


def test_a_budget_larger_than_the_new_data_is_refused(edge_config, tmp_path):
  edge_config.edge_retrain.new_examples = 10_000
  edge_config.edge_retrain.batch_size = 16
  with pytest.raises(PrunejaxError, match='10000 examples asked of view'):
    methods.train_and_evaluate(edge_config, tmp_path)


@pytest.mark.parametrize('strategy', ['rehearsal', 'last_layers'])
def test_a_pruned_transformer_retrains_on_device(edge_config, tmp_path, strategy):
  edge_config.model = 'vit_tiny'
  edge_config.model_kwargs = {'dim': 16, 'depth': 1, 'heads': 2, 'patch': 4}
  edge_config.edge_retrain.deployed_workdir = str(tmp_path.parent / 'vit_deployed')  # shared by both
  summary, _ = retrained(edge_config, tmp_path / strategy, strategy)
  assert summary['retrain_steps'] == 20 and summary['acc_new_after'] != summary['acc_new_before']
  if strategy == 'rehearsal':
    assert summary['sparsity_after'] == pytest.approx(0.8, abs=1e-4)  # q/k/v/out and MLP kernels masked
  else:  # only the last layers (the final norm and classifier) train
    assert 0 < summary['trainable_params'] < 200
