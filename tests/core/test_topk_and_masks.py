import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings, strategies as st

from prunejax import core
from prunejax.errors import PrunejaxError

N = lambda x: x is None
shapes = st.lists(st.tuples(st.integers(1, 4), st.integers(1, 5)), min_size=1, max_size=3)


def random_tree(seed, leaf_shapes, ties=False):
  rng = np.random.default_rng(seed)
  make = (lambda s: rng.integers(-3, 4, s).astype(np.float32)) if ties else (
      lambda s: rng.normal(size=s).astype(np.float32))
  return {f'layer{i}': {'kernel': jnp.asarray(make(s)), 'bias': jnp.asarray(make(s[-1:]))}
          for i, s in enumerate(leaf_shapes)}


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10_000), shapes, st.floats(0.0, 0.999), st.booleans())
def test_global_masks_keep_exactly_the_target_count(seed, leaf_shapes, sparsity, ties):
  params = random_tree(seed, leaf_shapes, ties)
  selected = core.select_leaves(params, exclude='')
  masks = core.masks_global(core.magnitude(params), selected, sparsity)
  total = sum(x.size for x in jax.tree.leaves(params) if x.ndim == 2)
  kept = sum(int(m.sum()) for m in jax.tree.leaves(masks))
  assert kept == round((1 - sparsity) * total)
  assert all(m is None for m in [masks[k]['bias'] for k in masks])
  # Every kept score is >= every pruned score (a threshold, not an arbitrary choice).
  kept_scores = np.concatenate([np.abs(params[k]['kernel'])[masks[k]['kernel']] for k in masks])
  pruned = np.concatenate([np.abs(params[k]['kernel'])[~masks[k]['kernel']] for k in masks])
  if kept_scores.size and pruned.size:
    assert kept_scores.min() >= pruned.max()


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10_000), shapes, st.floats(0.0, 0.999), st.sampled_from(['uniform', 'erk']))
def test_layerwise_masks_keep_each_layers_count(seed, leaf_shapes, sparsity, distribution):
  params = random_tree(seed, leaf_shapes, ties=True)
  selected = core.select_leaves(params, exclude='')
  densities = core.layer_densities(params, selected, sparsity, distribution)
  masks = core.masks_layerwise(core.magnitude(params), densities)
  for name in params:
    d, m = densities[name]['kernel'], masks[name]['kernel']
    assert int(m.sum()) == round(d * m.size)


def test_ties_are_broken_by_position_deterministically():
  scores = {'a': jnp.ones((2, 3)), 'b': jnp.ones((4,))}
  masks = core.masks_global(scores, {'a': True, 'b': True}, 0.5)
  np.testing.assert_array_equal(masks['a'], [[True, True, True], [True, True, False]])
  np.testing.assert_array_equal(masks['b'], [False] * 4)


@pytest.mark.parametrize('x64', [False, True])
def test_ties_cut_exactly_at_row_and_array_boundaries(x64):
  """All ties: the kept ones are the first k by position, whichever row of _CHUNK entries, array tail or
  short array the cut falls in (the search counts ties per row, then searches one row); under x64 too."""
  chunk = core.topk._CHUNK
  sizes = [chunk + 904, 3, chunk, 2 * chunk + 1]
  parts = [jnp.full((n,), 0.5, jnp.float32) for n in sizes]
  select = jax.jit(core.top_k_masks)
  edges = np.cumsum(sizes)
  for k in sorted({0, 1, chunk - 1, chunk, chunk + 1, *(edges - 1), *edges, *(edges + 1), edges[-1] - 1}):
    if k > edges[-1]:
      continue
    with jax.enable_x64(x64):
      kept = np.concatenate([np.asarray(m) for m in select(parts, jnp.int32(k))])
    np.testing.assert_array_equal(kept, np.arange(edges[-1]) < k)


def test_top_k_handles_negative_scores_and_extremes():
  x = jnp.array([-5.0, 3.0, -0.5, 0.0, -1e-30, 2.0, 3.0])
  for k in range(8):
    kept = np.asarray(core.top_k_masks([x], jnp.int32(k))[0])
    assert kept.sum() == k
    assert set(np.flatnonzero(kept)) == set(np.argsort(-np.asarray(x), kind='stable')[:k])


def test_top_k_runs_under_jit_with_traced_k():
  x = jax.random.normal(jax.random.PRNGKey(0), (1000,))
  fn = jax.jit(lambda k: core.top_k_masks([x], k)[0].sum())
  assert [int(fn(jnp.int32(k))) for k in (0, 1, 500, 1000)] == [0, 1, 500, 1000]


@settings(deadline=None, max_examples=15)
@given(st.integers(0, 10_000), shapes, st.floats(0.05, 0.99))
def test_erk_densities_meet_the_budget_and_never_exceed_one(seed, leaf_shapes, sparsity):
  params = random_tree(seed, leaf_shapes)
  selected = core.select_leaves(params, exclude='')
  densities = core.layer_densities(params, selected, sparsity, 'erk')
  sizes = [x.size for x in jax.tree.leaves(params) if x.ndim == 2]
  ds = [d for d in jax.tree.leaves(densities)]
  assert all(0.0 <= d <= 1.0 + 1e-9 for d in ds)
  np.testing.assert_allclose(sum(d * s for d, s in zip(ds, sizes)), (1 - sparsity) * sum(sizes), rtol=1e-6)


def test_erk_gives_small_layers_more_density():
  params = {'big': {'kernel': jnp.ones((300, 300))}, 'small': {'kernel': jnp.ones((10, 10))}}
  densities = core.layer_densities(params, core.select_leaves(params, exclude=''), 0.9, 'erk')
  assert densities['small']['kernel'] == 1.0 and densities['big']['kernel'] < 0.1


def test_per_layer_map_overrides_the_distribution():
  params = random_tree(0, [(4, 4), (4, 4)])
  densities = core.layer_densities(params, core.select_leaves(params, exclude=''), 0.5, 'uniform',
                                   {'layer1': 0.25})
  assert densities['layer0']['kernel'] == 0.5 and densities['layer1']['kernel'] == 0.75


def test_regex_selection_defaults_to_kernels_without_the_classifier():
  params = {'hidden': {'kernel': jnp.ones((2, 2)), 'bias': jnp.ones(2)}, 'bn': {'scale': jnp.ones(2)},
            'classifier': {'kernel': jnp.ones((2, 2))}}
  assert core.select_leaves(params) == {'hidden': {'kernel': True, 'bias': False}, 'bn': {'scale': False},
                                        'classifier': {'kernel': False}}
  assert core.select_leaves(params, include='scale')['bn']['scale']


@pytest.mark.parametrize('call,message', [
    (lambda p: core.select_leaves(p, include='nothing'), 'selects no parameter'),
    (lambda p: core.select_leaves(p, include='('), 'bad pruning regex'),
    (lambda p: core.layer_densities(p, core.select_leaves(p), 1.0), r'sparsity=1.0 must be in \[0, 1\)'),
    (lambda p: core.layer_densities(p, core.select_leaves(p), -0.1), 'sparsity=-0.1'),
    (lambda p: core.layer_densities(p, core.select_leaves(p), 0.5, 'gaussian'), "unknown distribution"),
    (lambda p: core.check_mask_matches({'x': None}, p), 'does not match the params'),
    (lambda p: core.check_mask_matches({'a': {'kernel': jnp.ones((3, 3), bool)}}, p), 'has shape'),
    (lambda p: core.get_scorer('obd'), "unknown pruning method 'obd'"),
])
def test_bad_input_fails_with_one_clear_line(call, message):
  params = {'a': {'kernel': jnp.ones((2, 2))}}
  with pytest.raises(PrunejaxError, match=message):
    call(params)


def test_apply_masks_and_sparsity_summary():
  params = {'a': {'kernel': jnp.arange(1.0, 5.0).reshape(2, 2), 'bias': jnp.ones(2)}}
  masks = {'a': {'kernel': jnp.array([[True, False], [False, False]]), 'bias': None}}
  pruned = core.apply_masks(params, masks)
  np.testing.assert_array_equal(pruned['a']['kernel'], [[1.0, 0.0], [0.0, 0.0]])
  summary = core.sparsity_summary(pruned, masks)
  assert summary['sparsity'] == 0.75 and summary['sparsity/a/kernel'] == 0.75
  assert summary['sparsity_all_params'] == 0.5


@pytest.mark.parametrize('kind', ['normal', 'ties', 'sorted', 'sample_misleads', 'log_uniform', 'x64',
                                  'pruned_step', 'zero_step'])
def test_bracketed_selection_is_exact_on_large_inputs(kind):
  """Above 2^16 keys a sorted sample places the search's first candidates: the answer must not depend on
  it — ties (integers), a sorted layout, a sample that sees only outliers (its candidates mislead: the
  search must still end exact), keys far apart (magnitudes over 60 decades: the search ends on the int16
  max only once the bracket is narrow), under float64 (no int64 counts), a step of many equal keys at the
  bracket's low end (a SynFlow round's pruned entries at -1; scores of exactly 0 amid others) and the
  extreme counts."""
  rng = np.random.default_rng(0)
  n = 3 * core.topk.SAMPLE_STRIDE * 1000
  misleading = rng.normal(size=n)
  misleading[::core.topk.SAMPLE_STRIDE] += 100.0
  x = {'normal': rng.normal(size=n), 'ties': rng.integers(-3, 4, n),
       'sorted': np.sort(rng.exponential(size=n)), 'sample_misleads': misleading,
       'log_uniform': rng.normal(size=n) * 10.0 ** rng.uniform(-30, 30, n),
       'x64': rng.normal(size=n),
       'pruned_step': np.where(rng.random(n) < 0.9, -1.0, np.abs(rng.normal(size=n))),
       'zero_step': np.where(rng.random(n) < 0.4, 0.0, 10.0 ** rng.uniform(-5, 5, n))}[kind].astype(np.float32)
  parts = [jnp.asarray(p) for p in np.split(x, [n // 3, n // 2])]
  select = jax.jit(core.top_k_masks)
  order = np.argsort(-x, kind='stable')  # ties by position, earlier first
  for k in (0, 1, n // 64, n // 20, n // 10, n // 2, n - 1, n, int(rng.integers(0, n))):
    with jax.enable_x64(kind == 'x64'):
      kept = np.concatenate([np.asarray(m) for m in select(parts, jnp.int32(k))])
    assert kept.sum() == k
    np.testing.assert_array_equal(np.flatnonzero(kept), np.sort(order[:k]))


def test_nan_scores_are_pruned_first_never_kept():
  scores = {'a': jnp.array([0.5, jnp.nan, 2.0, -jnp.nan, 1.0])}
  kept = core.masks_global(scores, {'a': True}, 0.6)['a']  # two of five kept
  np.testing.assert_array_equal(kept, [False, False, True, False, True])
  kept = core.masks_layerwise(scores, {'a': 0.6})['a']  # three of five
  np.testing.assert_array_equal(kept, [True, False, True, False, True])


def test_no_selected_leaf_is_one_line():
  with pytest.raises(PrunejaxError, match='masks_global got no selected leaf'):
    core.masks_global({}, {}, 0.5)


def test_a_traced_sparsity_out_of_range_is_clipped():
  scores = {'a': jnp.arange(10.0)}
  at = jax.jit(lambda s: core.masks_global(scores, {'a': True}, s)['a'])
  np.testing.assert_array_equal(at(1.7), np.zeros(10, bool))
  np.testing.assert_array_equal(at(-0.5), np.ones(10, bool))
  with pytest.raises(PrunejaxError, match=r'sparsity=1.7 must be in \[0, 1\]'):
    core.masks_global(scores, {'a': True}, 1.7)


def test_bad_concrete_inputs_are_one_line_errors():
  x = jnp.arange(5.0)
  for k in (6, -1):
    with pytest.raises(PrunejaxError, match=rf'top_k_masks: k={k} must be in \[0, 5\]'):
      core.top_k_masks([x], k)
  with pytest.raises(PrunejaxError, match='top_k_masks got no score array'):
    core.top_k_masks([], 0)
  scores, selected = {'w': x}, {'w': True}
  for sparsity in (np.float32(1.2), np.float64(-0.1)):  # numpy scalars are as concrete as Python floats
    with pytest.raises(PrunejaxError, match='must be in \\[0, 1\\]'):
      core.masks_global(scores, selected, sparsity)
  update = core.masked_update(optax.sgd(0.1), {'w': x > 1})
  with pytest.raises(ValueError, match='masked_update needs the params'):
    update.update({'w': x}, update.init({'w': x}))
