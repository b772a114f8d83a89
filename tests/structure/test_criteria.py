import jax
import jax.numpy as jnp
import numpy as np
import pytest

from prunejax import models, structure
from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError


def traced(name='lenet5', shape=(8, 8, 1), **kwargs):
  model = models.create_model(name, shape, 10, **kwargs)
  groups = structure.trace_groups(model, jnp.ones((1,) + shape))
  return model, groups, structure.eval_split(model)[1]


def test_l1_and_mean_abs_are_filter_norms_of_the_producing_kernel():
  model, groups, variables = traced()
  l1 = structure.criterion_scores(variables, groups, 'l1')
  kernel = np.asarray(model.conv1.kernel[...])  # (5, 5, 1, 6): filter c is kernel[..., c]
  np.testing.assert_allclose(l1['conv1/kernel'], np.abs(kernel).sum((0, 1, 2)), rtol=1e-5)
  mean_abs = structure.criterion_scores(variables, groups, 'mean_abs')
  np.testing.assert_allclose(mean_abs['conv1/kernel'], np.abs(kernel).mean((0, 1, 2)), rtol=1e-5)
  l2 = structure.criterion_scores(variables, groups, 'l2')
  np.testing.assert_allclose(l2['conv1/kernel'], np.sqrt((kernel ** 2).sum((0, 1, 2))), rtol=1e-5)


def test_bn_scale_criterion_reads_the_coupled_batchnorm():
  model, groups, variables = traced('resnet20', width=4)
  scale = np.arange(4.0) - 1.5
  model.blocks[0].conv1.bn.scale[...] = jnp.asarray(scale)
  variables = structure.eval_split(model)[1]
  scores = structure.criterion_scores(variables, groups, 'bn_scale')
  np.testing.assert_allclose(scores['blocks/0/conv1/conv/kernel'], np.abs(scale))


def test_element_scores_aggregate_over_all_members_of_a_group():
  model, groups, variables = traced('lenet_300_100')
  unit = jax.tree.map(jnp.ones_like, variables)
  scores = structure.channel_scores(unit, groups, members='all')
  # hidden/0 channels: kernel column (64 in) + bias + next kernel row (100 out) = 165 entries each.
  np.testing.assert_array_equal(scores['hidden/0/kernel'], np.full(300, 64 + 1 + 100))


def test_layerwise_selection_respects_minimum_and_multiple():
  model, groups, variables = traced()
  scores = structure.criterion_scores(variables, groups, 'l1')
  keep = structure.select_channels(scores, groups, 0.9, min_channels=2, multiple=4)
  assert len(keep['conv1/kernel']) == 4  # 6 - floor(5.4) = 1 -> min 2 -> multiple of 4
  assert len(keep['fc1/kernel']) == 12  # 120 - 108
  order = np.argsort(-scores['fc1/kernel'])[:12]
  np.testing.assert_array_equal(keep['fc1/kernel'], np.sort(order))
  assert 'classifier/kernel' not in keep


def test_global_selection_ranks_across_groups():
  _, groups, _ = traced('lenet_300_100')
  scores = {'hidden/0/kernel': np.arange(300.0), 'hidden/1/kernel': np.arange(100.0) + 1000}
  keep = structure.select_channels(scores, groups, 0.5, scope='global')
  assert len(keep['hidden/0/kernel']) == 100 and len(keep['hidden/1/kernel']) == 100


def test_global_selection_breaks_ties_by_position_and_removes_exactly_the_ratio():
  """All scores equal (a fresh network's BatchNorm scales): exactly floor(ratio x total) go, later first."""
  _, groups, _ = traced('lenet_300_100')
  scores = {'hidden/0/kernel': np.ones(300), 'hidden/1/kernel': np.ones(100)}
  keep = structure.select_channels(scores, groups, 0.5, scope='global')
  assert len(keep['hidden/0/kernel']) == 200 and len(keep['hidden/1/kernel']) == 1  # (min_channels)
  np.testing.assert_array_equal(keep['hidden/0/kernel'], np.arange(200))


def test_bn_scale_on_groups_without_batchnorm_is_refused():
  model, groups, variables = traced('lenet_300_100')
  with pytest.raises(PrunejaxError, match=r'bn_scale ranks channels by their BatchNorm scale, and 2 prunable '
                                          r'group\(s\) have none \(e.g. hidden/0/kernel\); choose l1'):
    structure.model_scores(model, groups, 'bn_scale')


@pytest.mark.parametrize('kwargs,message', [
    (dict(ratio=1.0), r'ratio=1.0 must be in \[0, 1\)'), (dict(ratio=0.5, scope='blocks'), "scope='blocks'"),
    (dict(ratio=0.5, multiple=0), r'min_channels=1 and multiple=0 must be >= 1'),
    (dict(ratio=0.5, scores={'hidden/0/kernel': np.ones(10)}), r"scores\['hidden/0/kernel'\] has shape \(10,\), "
                                                               'the group has 300 channels'),
    (dict(ratio=0.5, scores={}), 'no prunable group has scores')])
def test_bad_selection_arguments(kwargs, message):
  _, groups, variables = traced('lenet_300_100')
  kwargs = {'scores': structure.criterion_scores(variables, groups, 'l1'), **kwargs}
  with pytest.raises(PrunejaxError, match=message):
    structure.select_channels(groups=groups, **kwargs)
  with pytest.raises(PrunejaxError, match='unknown structured criterion'):
    structure.criterion_scores(variables, groups, 'taylor2')


def test_channel_scores_match_a_per_channel_loop_through_flatten_and_residuals():
  for name, shape, kwargs in (('lenet5', (8, 8, 1), {}), ('resnet20', (8, 8, 1), {'width': 4})):
    _, groups, variables = traced(name, shape, **kwargs)
    keys = jax.random.split(jax.random.PRNGKey(0), len(jax.tree.leaves(variables)))
    scores = jax.tree.unflatten(jax.tree.structure(variables),
                                [jax.random.uniform(k, x.shape) for k, x in zip(keys, jax.tree.leaves(variables))])
    leaves = dict(zip(jax.tree.leaves(leaf_paths(scores)), map(np.asarray, jax.tree.leaves(scores))))
    got = structure.channel_scores(scores, groups, members='all', reduce='mean')
    for group in groups:
      expected = []
      for c in range(group.size):
        parts = [np.moveaxis(leaves[m.path], m.axis, 0)[m.piece.indices([c])] for m in group.members]
        expected.append(sum(p.sum() for p in parts) / sum(p.size for p in parts))
      np.testing.assert_allclose(got[group.name], expected, rtol=1e-5, err_msg=group.name)
