"""Reconvene: rectified groups are dense and re-initialised at the right scale, every other mask is the
UPaI's, the produced network computes what the masked one computes with the removed channels zeroed,
on registry models and on one the structure tests have not seen."""

import runpy

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from prunejax import core, methods, models, structure, train
from prunejax.errors import PrunejaxError
from prunejax.methods import reconvene as reconvene_lib
from prunejax.train import Pruning, Run
from tests.conftest import REPO


class ConcatNet(nnx.Module):
  """Two conv branches concatenated, a depthwise conv, global pooling, a hidden Dense layer."""

  def __init__(self, input_shape, num_classes, *, rngs):
    channels = input_shape[-1]
    self.left = nnx.Conv(channels, 12, (3, 3), rngs=rngs)
    self.right = nnx.Conv(channels, 20, (3, 3), rngs=rngs)
    self.depthwise = nnx.Conv(32, 32, (3, 3), feature_group_count=32, rngs=rngs)
    self.hidden = nnx.Linear(32, 48, rngs=rngs)
    self.classifier = nnx.Linear(48, num_classes, rngs=rngs)

  def __call__(self, x):
    x = jnp.concatenate([nnx.relu(self.left(x)), nnx.relu(self.right(x))], axis=-1)
    x = nnx.relu(self.depthwise(x)).mean(axis=(1, 2))
    return self.classifier(nnx.relu(self.hidden(x)))


if 'test_concat_net' not in models.model_names():
  models.register('test_concat_net')(ConcatNet)


@pytest.fixture
def reconvene_config(tiny_config):
  block = runpy.run_path(str(REPO / 'configs' / 'reconvene_vgg16_fashion_mnist.py'))['reconvene_block']()
  tiny_config.method, tiny_config.reconvene = 'reconvene', block
  block.upai, block.sparsity, block.threshold, block.train = 'snip', 0.9, 100.0, False
  block.latency_rounds, block.latency_repeats = 1, 1
  tiny_config.edge.batch_sizes = (1,)
  return tiny_config


def produced(config, workdir):
  """(run after production, the UPaI masks the run started from)."""
  run = Run(config, workdir)
  pruning = Pruning(reconvene_lib.upai_config(config), run.initial_params)
  run.optimizer = pruning.wrap(run.optimizer, fixed=True)
  upai = pruning.masks_at_init(run.defs, run.initial_params, run.state.model_state, run.splits, config.seed)
  reconvene_lib.produce(run, pruning, config.reconvene)
  return run, upai


def by_path(tree):
  """{'/'-joined path: leaf}, None leaves (unmasked) included."""
  flat, _ = jax.tree_util.tree_flatten_with_path(tree, is_leaf=lambda x: x is None)
  return {core.path_to_str(path): leaf for path, leaf in flat}


def test_rectified_groups_are_dense_redrawn_at_their_new_fan_in_and_other_masks_intact(reconvene_config,
                                                                                       tmp_path):
  reconvene_config.model, reconvene_config.reconvene.count = 'lenet5', 2  # the two least sensitive groups
  reconvene_config.reconvene.sparsity = 0.5  # wide enough layers to measure the initialiser's scale
  run, upai = produced(reconvene_config, tmp_path)
  masks = core.find_masked_state(run.state.opt_state).masks
  params, initial = by_path(run.state.params), by_path(run.initial_params)
  final_masks, upai_masks = by_path(masks), by_path(upai)
  assert len(run.keep) == 2
  for path in run.keep:  # the rectified producers: narrower, dense, a fresh draw of the initialiser
    assert params[path].shape[-1] < initial[path].shape[-1]
    assert bool(jnp.all(final_masks[path])) and int(jnp.count_nonzero(params[path])) == params[path].size
    assert np.isin(np.asarray(params[path]), np.asarray(initial[path])).mean() < 0.01
  rescaled = 0
  for path, leaf in params.items():  # the initialiser's scale at the new fan-in (LeCun: std ∝ 1/√fan-in)
    old_fan_in, new_fan_in = np.prod(initial[path].shape[:-1]), np.prod(leaf.shape[:-1])
    if path.endswith('kernel') and new_fan_in != old_fan_in:
      mask = final_masks[path]
      kept = np.asarray(leaf) if mask is None else np.asarray(leaf)[np.asarray(mask)]
      if kept.size >= 200:
        expected = float(jnp.std(initial[path])) * np.sqrt(old_fan_in / new_fan_in)
        assert float(np.std(kept)) == pytest.approx(expected, rel=0.15), path
        rescaled += 1
  assert rescaled >= 1
  # Every other mask is the UPaI's, sliced where its inputs shrank: exactly as sparse as before there.
  graphdef, variables = structure.eval_split(run.new_model())
  expected = by_path(structure.shrink_tree(upai, structure.make_plan(run.base_groups(), run.keep, variables)))
  others = [path for path, mask in final_masks.items() if mask is not None and path not in run.keep]
  assert len(others) == 2
  for path in others:
    np.testing.assert_array_equal(final_masks[path], expected[path])
  for path, leaf in params.items():  # and the leaves whose shape did not change keep their UPaI values
    if leaf.shape == initial[path].shape:
      mask = upai_masks[path]
      np.testing.assert_array_equal(leaf, initial[path] if mask is None else np.where(mask, initial[path], 0))
  for path, mask in final_masks.items():  # pruned weights are exactly zero wherever a mask says so
    if mask is not None:
      assert not np.any(np.asarray(params[path])[~np.asarray(mask)])


@pytest.mark.parametrize('model', ['lenet5', 'test_concat_net'])
def test_without_reinit_the_produced_network_computes_the_masked_one_with_channels_zeroed(
    reconvene_config, tmp_path, model):
  reconvene_config.model, reconvene_config.reconvene.reinit = model, 'none'
  run, upai = produced(reconvene_config, tmp_path)
  assert run.keep, 'nothing was shrunk'
  # The wide equivalent: UPaI masks, lifted on the rectified producers, removed channels zeroed.
  dense_now = {path for path, mask in by_path(core.find_masked_state(run.state.opt_state).masks).items()
               if mask is not None and np.all(np.asarray(mask))}
  wide = jax.tree.map(lambda path, p, m: p if m is None or path in dense_now else jnp.where(m, p, 0),
                      core.leaf_paths(run.initial_params), run.initial_params, upai, is_leaf=lambda x: x is None)
  base = nnx.merge(run.base_defs.eval, wide, train.split_model(run.new_model())[2])
  graphdef, variables = structure.eval_split(base)
  plan = structure.make_plan(run.base_groups(), run.keep, variables)
  zeroed = nnx.merge(graphdef, structure.zero_channels(variables, plan))
  x = jax.random.normal(jax.random.PRNGKey(0), (4,) + run.splits.input_shape)
  np.testing.assert_allclose(run.model()(x), zeroed(x), rtol=1e-5, atol=1e-5)


def test_summary_measures_the_produced_network_and_load_rebuilds_it(reconvene_config, tmp_path):
  summary = methods.train_and_evaluate(reconvene_config, tmp_path)
  assert summary['groups_shrunk'] == 2 and summary['params_final'] < summary['params_dense']
  assert summary['size_ratio'] == pytest.approx(summary['dense_bytes_original'] / summary['dense_bytes_final'])
  assert summary['flops_ratio'] > 1 and summary['steps'] == 0 and not summary['trained']
  assert summary['produce_seconds'] > 0 and summary['score_compile_seconds'] > 0
  # Every compile of the step (the scorer's and the rectifier's) is reported apart, not in produce_seconds.
  assert summary['compile_seconds'] > summary['score_compile_seconds'] - 1e-9 and summary['compiles'] > 1
  assert summary['produce_seconds_with_compile'] == pytest.approx(summary['produce_seconds']
                                                                  + summary['compile_seconds'])
  # Its steps, each less its own compiles, fit inside it: no compile is subtracted twice.
  assert summary['produce_seconds'] >= (summary['score_seconds'] + summary['pse_seconds']
                                        + summary['rlr_seconds'] - 1e-6)
  assert summary['params_nonzero'] < summary['params_final']  # the unshrunk layers stay masked
  assert 'test_accuracy' not in summary and 'validation_accuracy' not in summary  # untrained: not evaluated
  model = train.load(tmp_path)
  assert model.hidden[0].kernel.get_value().shape[1] == summary['units_final']['hidden/0/kernel']
  run = Run(reconvene_config, tmp_path)
  defs, params, model_state = run.saved_network()
  x = jax.random.normal(jax.random.PRNGKey(1), (3,) + run.splits.input_shape)
  np.testing.assert_array_equal(model(x), nnx.merge(defs.eval, params, model_state)(x))
  run.close()


def test_a_shrunk_run_restores_under_the_masked_optimizer(reconvene_config, tmp_path):
  """A run stopped after produce resumes: its optimizer state is rebuilt at the shrunk shapes (the
  all-kept initial masks follow the params; before, their original shapes refused the saved network)."""
  summary = methods.train_and_evaluate(reconvene_config, tmp_path)
  run = Run(reconvene_config, tmp_path)
  pruning = Pruning(reconvene_lib.upai_config(reconvene_config), run.initial_params)
  run.optimizer = pruning.wrap(run.optimizer, fixed=True)
  masks = run.state.opt_state.masks  # restores from the checkpoint
  assert masks['hidden'][0]['kernel'].shape[1] == summary['units_final']['hidden/0/kernel']
  run.close()


@pytest.mark.parametrize('upai', ['snip', 'magnitude'])  # magnitude: a scheduled scorer, never re-run
def test_training_keeps_the_masks_fixed(reconvene_config, tmp_path, upai):
  reconvene_config.reconvene.upai = upai
  produced_only = methods.train_and_evaluate(reconvene_config, tmp_path / 'produce')
  reconvene_config.reconvene.train = True
  trained = methods.train_and_evaluate(reconvene_config, tmp_path / 'train')
  assert trained['trained'] and trained['steps'] > 0 and 0 <= trained['test_accuracy'] <= 1
  assert trained['params_final'] == produced_only['params_final']
  # params_nonzero counts the final network: trained, its zero-initialised biases have moved (this fixture
  # rectifies every group, so only those were zero).
  assert trained['params_produced_nonzero'] == produced_only['params_nonzero'] < trained['params_nonzero']
  assert trained['params_nonzero'] <= trained['params_final']
  def pruned(workdir):  # the zero pattern of every kernel (biases start at zero and train away)
    return {path: np.asarray(leaf) == 0 for path, leaf in by_path(nnx.state(train.load(workdir), nnx.Param)).items()
            if path.endswith('kernel')}
  jax.tree.map(np.testing.assert_array_equal, pruned(tmp_path / 'train'), pruned(tmp_path / 'produce'))


@pytest.mark.parametrize('field,value,message', [
    ('sensitivity', 'loss', "sensitivity='loss' is unknown; choose one of"),
    ('reinit', 'all', "reinit='all' is unknown; choose one of"),
    ('upai', 'obd', 'obd'),
    ('count', -1, 'count=-1 must be >= 0'),
    ('sensitivity', 'concentration', r"threshold=[0-9.]+ selects every thinned group under "
                                     r"sensitivity='concentration', whose values lie in \[0, 1\]"),
])
def test_bad_settings_are_refused_in_one_line(reconvene_config, tmp_path, field, value, message):
  reconvene_config.reconvene[field] = value
  with pytest.raises(PrunejaxError, match=message):
    methods.train_and_evaluate(reconvene_config, tmp_path)


def test_reconvene_rectifies_a_transformers_heads_and_mlp(reconvene_config, tmp_path):
  reconvene_config.model = 'vit_tiny'
  reconvene_config.model_kwargs = {'dim': 16, 'depth': 1, 'heads': 4, 'patch': 4}
  reconvene_config.reconvene.update(upai='synflow', min_channels=1, threshold=100.0)
  summary = methods.train_and_evaluate(reconvene_config, tmp_path)
  units = summary['units_final']
  assert summary['groups_shrunk'] == summary['groups_prunable'] == 4  # heads, head dims, MLP, stream
  assert units['encoder/blocks/0/attention/query/kernel[1]'] < 4 and units['encoder/blocks/0/mlp_in/kernel'] < 32
  attention = train.load(tmp_path).encoder.blocks[0].attention
  assert attention.num_heads == units['encoder/blocks/0/attention/query/kernel[1]']
