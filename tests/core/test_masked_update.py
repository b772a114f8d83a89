import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from prunejax import core

N = lambda x: x is None
OPTIMIZERS = {
    'sgd_momentum': lambda: optax.sgd(0.1, momentum=0.9, nesterov=True),
    'sgd_weight_decay': lambda: optax.chain(optax.add_decayed_weights(0.1), optax.sgd(0.1, momentum=0.9)),
    'adam': lambda: optax.adam(0.05),
    'adamw': lambda: optax.adamw(0.05, weight_decay=0.5),
}


def params_and_masks(sparsity=0.7):
  keys = jax.random.split(jax.random.PRNGKey(0), 3)
  params = {'dense': {'kernel': jax.random.normal(keys[0], (8, 6)), 'bias': jax.random.normal(keys[1], (6,))},
            'out': {'kernel': jax.random.normal(keys[2], (6, 3))}}
  masks = core.masks_global(core.magnitude(params), core.select_leaves(params, exclude=''), sparsity)
  return params, masks


def run(tx, params, steps, use_jit):
  state = tx.init(params)

  def step(p, s, t):
    grads = jax.tree.map(lambda x: jax.random.normal(jax.random.PRNGKey(t), x.shape) + 1.0, p)
    updates, s = tx.update(grads, s, p)
    return optax.apply_updates(p, updates), s

  step = jax.jit(step) if use_jit else step
  for t in range(steps):
    params, state = step(params, state, t)
  return params, state


@pytest.mark.parametrize('use_jit', [True, False])
@pytest.mark.parametrize('name', sorted(OPTIMIZERS))
def test_pruned_weights_are_exactly_zero_after_every_step_and_stay_so(name, use_jit):
  params, masks = params_and_masks()
  tx = core.masked_update(OPTIMIZERS[name](), masks)
  for steps in (1, 12):
    trained, state = run(tx, params, steps, use_jit)
    for m, p in zip(jax.tree.leaves(masks, is_leaf=N), jax.tree.leaves(trained)):
      if m is not None:
        assert np.all(np.asarray(p)[~np.asarray(m)] == 0.0)
        assert np.all(np.asarray(p)[np.asarray(m)] != 0.0)  # kept weights still train
  # No revival through the optimizer state: every kernel-shaped leaf (momentum, moments) is zero where
  # pruned. Kernel shapes are unique in this tree, so shape identifies the parameter.
  by_shape = {m.shape: np.asarray(m) for m in jax.tree.leaves(masks) if m is not None}
  checked = 0
  for leaf in jax.tree.leaves(state.inner_state):
    if leaf.shape in by_shape:
      assert np.all(np.asarray(leaf)[~by_shape[leaf.shape]] == 0.0)
      checked += 1
  assert checked >= 2


def test_unpruned_leaves_follow_the_inner_optimizer_exactly():
  params, masks = params_and_masks()
  dense_params, _ = run(optax.adam(0.05), params, 5, True)
  sparse_params, _ = run(core.masked_update(optax.adam(0.05), masks), params, 5, True)
  np.testing.assert_array_equal(sparse_params['dense']['bias'], dense_params['dense']['bias'])


def test_masks_refresh_on_schedule_inside_jit():
  params, _ = params_and_masks()
  selected = core.select_leaves(params, exclude='')
  everything = jax.tree.map(lambda f, p: jnp.ones(p.shape, bool) if f else None, selected, params)
  schedule = core.PruningSchedule('polynomial', 0.8, begin_step=2, end_step=8, update_every=3)
  tx = core.masked_update(optax.sgd(0.01), everything, schedule,
                          lambda p, s: core.masks_global(core.magnitude(p), selected, s))
  total = sum(p.size for p, f in zip(jax.tree.leaves(params), jax.tree.leaves(selected)) if f)
  for steps, refreshed_at in ((2, None), (3, 2), (6, 5), (12, 8)):
    trained, state = run(tx, params, steps, True)
    zeros = sum(int((p == 0).sum()) for p, f in zip(jax.tree.leaves(trained), jax.tree.leaves(selected)) if f)
    expected = 0.0 if refreshed_at is None else float(schedule.sparsity_at(refreshed_at))
    assert zeros == round(expected * total), steps
    assert int(state.count) == steps


def test_masked_state_is_found_inside_a_chain():
  params, masks = params_and_masks()
  tx = optax.chain(optax.clip_by_global_norm(1.0), core.masked_update(optax.sgd(0.1), masks))
  found = core.find_masked_state(tx.init(params))
  assert found is not None and found.masks['out']['kernel'].shape == (6, 3)
