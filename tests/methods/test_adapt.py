"""ADaPT: the weight-percentage removal rule, joint removal of coupled channels, min_channels, shared
pretrained weights, the DaPR search, bad subsets."""

import hashlib
import json
import runpy

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest
from flax import nnx

from prunejax import configs, core, data, methods, structure
from prunejax.data import sources
from prunejax.errors import PrunejaxError
from prunejax.methods import adapt as adapt_lib
from prunejax.models import create_model
from prunejax.train import fingerprint, load
from tests.conftest import REPO


def kernel_counter(model, groups):
  """Kernel weights left after ``keep`` (what ADaPT's p counts), from the traced groups alone."""
  _, variables = nnx.split(model)
  paths = {p for p in jax.tree.leaves(core.leaf_paths(variables)) if p.endswith('kernel')}
  return lambda keep: sum(int(np.prod(shape)) for path, shape in
                          structure.shrunk_shapes(groups, keep, variables).items() if path in paths)


def traced(model_name, input_shape, num_classes, **kwargs):
  model = create_model(model_name, input_shape, num_classes, 0, **kwargs)
  model.eval()
  groups = [g for g in structure.trace_groups(model, jnp.zeros((1,) + input_shape)) if g.prunable]
  return model, groups


def test_filters_go_until_p_of_the_weights_counting_the_consumers_slices():
  # MLP 2 -> 4 -> 3 -> 2: kernels 8 + 12 + 6 = 26 weights.
  model, groups = traced('mlp', (1, 1, 2), 2, hidden=(4, 3))
  scores = {'hidden/0/kernel': np.array([0.1, 0.5, 0.9, 0.3]), 'hidden/1/kernel': np.array([0.2, 0.8, 0.4])}
  count = kernel_counter(model, groups)
  assert count({}) == 26
  # Ascending, leaving 2 per layer: hidden/0 unit 0 (2 in + 3 out = 5), hidden/1 unit 0 (now 3 in + 2
  # out = 5), hidden/0 unit 3 (2 in + 2 out, hidden/1 being 2 wide = 4).
  for p, removed, fraction in ((0.15, 1, 5 / 26), (0.2, 2, 10 / 26), (10 / 26, 2, 10 / 26), (0.5, 3, 14 / 26)):
    keep, got = adapt_lib.filters_to_keep(groups, scores, count, p, min_channels=2)
    assert got == pytest.approx(fraction) and got >= p
    assert sum(g.size - len(keep.get(g.name, range(g.size))) for g in groups) == removed, p
  keep, _ = adapt_lib.filters_to_keep(groups, scores, count, 0.5, min_channels=2)
  assert list(keep['hidden/0/kernel']) == [1, 2] and list(keep['hidden/1/kernel']) == [1, 2]
  with pytest.raises(PrunejaxError, match=r'at most 53.8%'):
    adapt_lib.filters_to_keep(groups, scores, count, 0.6, min_channels=2)


def test_a_residual_group_loses_the_same_channel_in_every_member():
  model, groups = traced('resnet20', (8, 8, 1), 10)
  residual = max(groups, key=lambda g: sum(m.path.endswith('kernel') for m in g.members))
  scores = {g.name: np.ones(g.size) for g in groups}
  scores[residual.name] = np.arange(residual.size, dtype=float) * 1e-3  # its channel 0 goes first
  count = kernel_counter(model, groups)
  keep, fraction = adapt_lib.filters_to_keep(groups, scores, count, 1e-9, min_channels=2)
  assert keep == {residual.name: pytest.approx(np.arange(1, residual.size))}
  shapes = shapes_of(model)
  by_hand = sum(int(np.prod(shapes[m.path])) // shapes[m.path][m.axis]
                for m in residual.members if m.path.endswith('kernel'))
  assert sum(m.path.endswith('kernel') for m in residual.members) > 4  # producers and consumers, jointly
  assert fraction * count({}) == pytest.approx(by_hand)
  after = shapes_of(structure.shrink(model, keep, groups))
  for m in residual.members:  # every member of the group is one channel narrower
    assert after[m.path][m.axis] == residual.size - 1, m.path


def shapes_of(model):
  _, variables = nnx.split(model)
  return {p: x.shape for p, x in zip(jax.tree.leaves(core.leaf_paths(variables)), jax.tree.leaves(variables))}


def test_min_channels_hold_at_high_p():
  model, groups = traced('lenet5', (8, 8, 1), 10)
  scores = {g.name: np.arange(g.size, dtype=float) for g in groups}
  keep, fraction = adapt_lib.filters_to_keep(groups, scores, kernel_counter(model, groups), 0.9, min_channels=3)
  assert fraction >= 0.9
  assert all(len(keep.get(g.name, range(g.size))) >= 3 for g in groups)


@pytest.fixture
def adapt_config(tiny_config, tmp_path):
  tiny_config.method, tiny_config.validation_fraction = 'adapt', 0.2  # LeNet-300-100: fast
  tiny_config.adapt = runpy.run_path(str(REPO / 'configs' / 'adapt_lenet5_fashion_mnist.py'))['adapt_block']()
  tiny_config.adapt.update(protocol='prunejax', subset='1,3,8', finetune_epochs=1, total_epochs=2,
                           decay_epochs=(1,), pretrained_workdir=str(tmp_path / 'pretrained'))
  return tiny_config


def test_aware_and_agnostic_start_from_the_same_pretrained_weights(adapt_config, tmp_path):
  summaries = {}
  for mode in ('data_aware', 'data_agnostic'):
    adapt_config.adapt.mode = mode
    summaries[mode] = methods.train_and_evaluate(adapt_config, tmp_path / mode)
  pretrained = jax.tree.leaves(nnx.state(load(tmp_path / 'pretrained'), nnx.Param))
  digest = hashlib.sha256(b''.join(np.asarray(x).tobytes() for x in pretrained)).hexdigest()
  for mode, s in summaries.items():
    assert s['pretrained_digest'] == digest, mode
    assert s['subset'] == [1, 3, 8] and abs(s['weights_pruned_fraction'] - 0.5) <= 0.01, mode
    assert s['params_final'] < s['params_dense'] and s['flops_ratio'] > 1.0
    assert 0.0 <= s['subset_accuracy'] <= 1.0 and 1 <= s['best_epoch'] <= 2
  assert summaries['data_aware']['best_epoch'] == 1  # epochs after pruning only
  # The agnostic training is shared: a second subset reads it, it is not trained again.
  adapt_config.adapt.update(subset='0,2', agnostic_workdir=str(tmp_path / 'data_agnostic' / 'agnostic'))
  other = methods.train_and_evaluate(adapt_config, tmp_path / 'agnostic_other')
  assert other['train_seconds'] == summaries['data_agnostic']['train_seconds']
  assert other['subset'] == [0, 2] and not (tmp_path / 'agnostic_other' / 'agnostic').exists()


def test_dapr_probes_are_resumable_runs_and_it_keeps_the_largest_passing_p(adapt_config, tmp_path):
  # Binary search from 50 over steps of 5; the answer is the largest passing probe.
  adapt_config.adapt.mode = 'dapr'
  dapr = methods.train_and_evaluate(adapt_config, tmp_path / 'dapr')
  probes = dapr['probes']
  assert 50 in [p['prune_percent'] for p in probes]
  passing = [p['prune_percent'] for p in probes if p['subset_accuracy'] >= p['unpruned_subset_accuracy']]
  assert dapr['dapr_percent'] == max(passing, default=0)
  assert json.loads((tmp_path / 'dapr' / 'summary.json').read_text())['dapr_percent'] == dapr['dapr_percent']
  again = methods.train_and_evaluate(adapt_config, tmp_path / 'dapr')  # resumes: every probe replayed
  assert again['probes'] == probes


def test_remap_cuts_the_head_to_the_subset_in_order_and_the_unpruned_reference_uses_it(adapt_config, tmp_path):
  adapt_config.adapt.update(remap=True, subset='8,1,3')  # a set of classes: given in any order
  summary = methods.train_and_evaluate(adapt_config, tmp_path / 'aware')
  assert summary['remap'] and summary['subset'] == [1, 3, 8]
  assert load(tmp_path / 'aware').classifier.kernel.get_value().shape[-1] == 3  # rebuilt from the checkpoint
  pretrained_params = sum(x.size for x in jax.tree.leaves(nnx.state(load(tmp_path / 'pretrained'), nnx.Param)))
  assert summary['params_dense'] == pretrained_params - 7 * (100 + 1)  # the 3-way head: 7 classes' weights cut
  # The unpruned reference: the pretrained network's logits of classes 1, 3, 8 (in that order), by hand.
  splits = data.make_splits(sources.load_dataset('synthetic_images'), 0.2)
  chosen = np.isin(splits.test.labels, [1, 3, 8])
  x = (splits.test.images[chosen] / 255.0 - np.asarray(splits.mean)) / np.asarray(splits.std)
  logits = np.asarray(load(tmp_path / 'pretrained')(jnp.asarray(x, jnp.float32)))[:, [1, 3, 8]]
  position = np.searchsorted([1, 3, 8], splits.test.labels[chosen])
  assert summary['unpruned_subset_accuracy'] == pytest.approx(np.mean(logits.argmax(-1) == position), abs=1e-9)
  adapt_config.adapt.mode = 'data_agnostic'
  with pytest.raises(PrunejaxError, match='remap=True applies to data_aware and dapr; data_agnostic'):
    methods.train_and_evaluate(adapt_config, tmp_path / 'agnostic')


def test_a_pretrained_run_with_another_validation_split_is_refused(adapt_config, tmp_path):
  pretraining = adapt_lib.pretrain_config(adapt_config)
  pretraining.validation_fraction, pretraining.num_epochs = 0.1, 1
  methods.train_and_evaluate(pretraining, tmp_path / 'pretrained')  # its training images: our validation
  with pytest.raises(PrunejaxError, match='trained with validation_fraction=0.1, this run has 0.2'):
    methods.train_and_evaluate(adapt_config, tmp_path / 'run')


@pytest.mark.parametrize('largest', [0, 1, 7, 10, 13, 19])
def test_dapr_search_finds_the_largest_passing_p_from_50(largest):
  asked = []
  found = adapt_lib.dapr_search(lambda k: asked.append(k) or k <= largest)
  assert found == largest and asked[0] == 10 and len(asked) <= 5


@pytest.mark.parametrize('subset,message', [
    ('shoes', "subset='shoes' is not a named group"),
    ('1,12', r"must be distinct labels in \[0, 10\)"),
    ('', 'at least one'),
    ('random10', 'needs 0 < k < 10'),
])
def test_bad_subsets_fail_at_start_up(adapt_config, tmp_path, subset, message):
  adapt_config.adapt.subset = subset
  with pytest.raises(PrunejaxError, match=message):
    methods.train_and_evaluate(adapt_config, tmp_path / 'run')
  assert not (tmp_path / 'run').exists()


def test_named_and_random_subsets():
  config = runpy.run_path(str(REPO / 'configs' / 'adapt_lenet5_fashion_mnist.py'))['get_config']()
  for subset, expected in (('tops', (0, 2, 4, 6)), ('footwear', (5, 7, 9)), ('1, 3,8', (1, 3, 8)), ('4,2', (2, 4))):  # sorted: a set
    config.adapt.subset = subset
    assert adapt_lib.subset_classes(config) == expected
  config.adapt.subset = 'random3'
  first = adapt_lib.subset_classes(config)
  assert len(first) == 3 and first == adapt_lib.subset_classes(config)


def test_runs_from_before_remap_existed_keep_their_fingerprint(adapt_config):
  before = ml_collections.ConfigDict(adapt_config.to_dict())
  del before.adapt['remap']
  assert fingerprint(adapt_config) == fingerprint(before)  # remap=False: still resumable
  adapt_config.adapt.remap = True
  assert fingerprint(adapt_config) != fingerprint(before)


def test_adapt_removes_heads_and_mlp_units_of_a_transformer_by_mean_abs(adapt_config, tmp_path):
  adapt_config.model = 'vit_tiny'
  adapt_config.model_kwargs = {'dim': 16, 'depth': 1, 'heads': 4, 'patch': 4}
  summary = methods.train_and_evaluate(adapt_config, tmp_path / 'vit')
  # The first prefix of the ranking to reach p: a residual-stream channel holds ~6% of the kernel weights.
  assert 0.5 <= summary['weights_pruned_fraction'] <= 0.6 and summary['params_final'] < summary['params_dense']
  model = load(tmp_path / 'vit')
  attention = model.encoder.blocks[0].attention
  assert attention.num_heads == attention.query.kernel.shape[1] == attention.out.kernel.shape[0]
  assert attention.head_dim == attention.value.kernel.shape[2] == attention.out.kernel.shape[1]
  assert model.encoder.blocks[0].mlp_in.out_features < 32 or attention.num_heads < 4


def test_removal_figures_recorded_before_the_rename_are_read():
  """A checkpoint's or shared summary's removal record from before units_removed (filters_removed) is read."""
  config = configs.load(REPO / 'configs' / 'adapt_lenet5_fashion_mnist.py')
  unpruned = {'unpruned_subset_accuracy': 0.9, 'pretrained_digest': 'd', 'flops_dense': 1.0}
  old = adapt_lib.figures(unpruned, {'weights_pruned_fraction': 0.5, 'filters_removed': 7}, {}, config)
  new = adapt_lib.figures(unpruned, {'weights_pruned_fraction': 0.5, 'units_removed': 7}, {}, config)
  assert old == new and new['units_removed'] == 7 and new['epochs'] == config.adapt.total_epochs
