import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from prunejax import core, edge, models, structure, train


def test_a_masked_adam_run_shrinks_and_keeps_training():
  model = models.create_model('resnet20', (8, 8, 1), 10, width=4)
  x, y = jax.random.normal(jax.random.PRNGKey(0), (8, 8, 8, 1)), jnp.arange(8) % 10
  groups = structure.trace_groups(model, x[:1])
  defs, params, model_state = train.split_model(model)
  selected = core.select_leaves(params)  # jitted: eagerly, each operation of the search compiles on its own
  masks = jax.jit(lambda p: core.masks_global(core.magnitude(p), selected, 0.5))(params)
  tx = core.masked_update(optax.adam(1e-2), masks)
  state = train.init_train_state(params, model_state, tx, seed=0)
  step = jax.jit(train.make_update_step(defs, tx))
  for _ in range(2):
    state, _ = step(state, x, y)

  rng = np.random.default_rng(0)
  keep = {g.name: np.sort(rng.choice(g.size, g.size // 2, replace=False)) for g in groups if g.prunable}
  new_defs, small = train.shrink_train_state(defs, state, groups, keep)

  # The shrunk network computes what the old one computes with those channels zeroed (eval mode).
  variables = nnx.state(nnx.merge(defs.eval, state.params, state.model_state))
  zeroed = structure.zero_channels(variables, structure.make_plan(groups, keep, variables))
  expected = nnx.merge(defs.eval, zeroed)(x)
  np.testing.assert_allclose(nnx.merge(new_defs.eval, small.params, small.model_state)(x), expected,
                             rtol=1e-4, atol=1e-5)
  masked = core.find_masked_state(small.opt_state)
  pairs = jax.tree.leaves(jax.tree.map(lambda m, p: (m, p), masked.masks, small.params,
                                       is_leaf=lambda m: m is None), is_leaf=lambda t: isinstance(t, tuple))
  assert sum(m is not None for m, _ in pairs) == 21  # 19 convs + 2 shortcuts; the classifier is dense
  assert all(m is None or m.shape == p.shape for m, p in pairs)
  chex.assert_trees_all_equal_shapes(masked.inner_state[0].mu, small.params)
  assert int(small.step) == 2 and int(masked.count) == 2

  step = jax.jit(train.make_update_step(new_defs, tx))
  for _ in range(2):
    small, metrics = step(small, x, y)
  assert np.isfinite(float(metrics['loss'])) and int(small.step) == 4
  masks = core.find_masked_state(small.opt_state).masks
  pruned = [np.asarray(p)[~np.asarray(m)] for m, p in jax.tree.leaves(
      jax.tree.map(lambda m, p: (m, p), masks, small.params, is_leaf=lambda m: m is None),
      is_leaf=lambda t: isinstance(t, tuple)) if m is not None]
  assert sum(x.size for x in pruned) > 0 and not any(x.any() for x in pruned)  # still exactly zero


def test_memory_freed_by_shrinking_buys_a_bigger_batch_under_the_same_budget():
  model = models.create_model('lenet_300_100', (8, 8, 1), 10)
  groups = structure.trace_groups(model, jnp.ones((1, 8, 8, 1)))
  defs, params, model_state = train.split_model(model)
  tx = optax.adam(1e-3)
  state = train.init_train_state(params, model_state, tx, seed=0)
  budget = train.update_step_bytes(defs, tx, state, 64, (8, 8, 1))
  dense_fit = lambda b: train.update_step_bytes(defs, tx, state, b, (8, 8, 1))
  assert edge.largest_batch_within(budget, dense_fit, multiple=8) == 64
  keep = {g.name: np.arange(g.size // 4) for g in groups if g.prunable}
  small_defs, small = train.shrink_train_state(defs, state, groups, keep)
  small_fit = lambda b: train.update_step_bytes(small_defs, tx, small, b, (8, 8, 1))
  bigger = edge.largest_batch_within(budget, small_fit, multiple=8)
  assert bigger > 64 and small_fit(bigger) <= budget < small_fit(bigger + 8)


def test_split_model_leaves_the_callers_model_in_its_mode():
  model = models.create_model('resnet20', (8, 8, 1), 10, width=4)
  model.eval()
  x = jnp.ones((2, 8, 8, 1))
  before = model(x)
  defs, params, model_state = train.split_model(model)
  np.testing.assert_array_equal(model(x), before)  # still eval: running averages, not batch statistics
  np.testing.assert_array_equal(nnx.merge(defs.eval, params, model_state)(x), before)
