import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from prunejax.train.optimizers import learning_rate_schedule, make_optimizer, set_learning_rate


def opt_config(**overrides):
  cfg = ml_collections.ConfigDict(dict(name='sgd', learning_rate=0.1, momentum=0.9, nesterov=False,
                                       weight_decay=0.0, schedule='constant', warmup_epochs=0.0,
                                       decay_epochs=(), decay_factor=0.1))
  cfg.update(overrides)
  return cfg


def test_step_schedule_decays_at_the_given_epochs():
  schedule = learning_rate_schedule(opt_config(schedule='step', decay_epochs=(2, 3)), 10, 4)
  np.testing.assert_allclose([schedule(s) for s in (0, 19, 20, 29, 30)], [0.1, 0.1, 0.01, 0.01, 0.001],
                             rtol=1e-6)


def test_cosine_with_warmup_rises_then_decays_to_zero():
  schedule = learning_rate_schedule(opt_config(schedule='cosine', warmup_epochs=1.0), 10, 5)
  assert float(schedule(0)) == 0.0 and np.isclose(schedule(10), 0.1)
  assert float(schedule(50)) < 1e-6


def test_weight_decay_touches_kernels_not_biases():
  params = {'kernel': jnp.ones((2, 2)), 'bias': jnp.ones((2,))}
  tx = make_optimizer(opt_config(weight_decay=0.5, momentum=0.0))
  zero = {'kernel': jnp.zeros((2, 2)), 'bias': jnp.zeros((2,))}
  updates, _ = tx.update(zero, tx.init(params), params)
  np.testing.assert_allclose(updates['kernel'], -0.1 * 0.5)
  np.testing.assert_allclose(updates['bias'], 0.0)


def test_decay_all_touches_biases_too_as_torch_sgd_does():
  params = {'kernel': jnp.ones((2, 2)), 'bias': jnp.full((2,), 2.0)}
  tx = make_optimizer(opt_config(weight_decay=0.5, momentum=0.0, decay_all=True))
  zero = jax.tree.map(jnp.zeros_like, params)
  updates, _ = tx.update(zero, tx.init(params), params)
  np.testing.assert_allclose(updates['kernel'], -0.1 * 0.5)
  np.testing.assert_allclose(updates['bias'], -0.1 * 0.5 * 2.0)


def test_adamw_and_adam_build():
  params = {'w': jnp.ones((3, 3))}
  for name in ('adam', 'adamw'):
    tx = make_optimizer(opt_config(name=name, learning_rate=1e-3, weight_decay=1e-4))
    updates, _ = tx.update(params, tx.init(params), params)
    assert optax.tree.norm(updates) > 0


def test_learning_rate_is_a_state_hyperparameter_the_step_sets():
  params = {'kernel': jnp.ones((2, 2))}
  tx = make_optimizer(opt_config(momentum=0.0))
  grads = {'kernel': jnp.ones((2, 2))}
  state = set_learning_rate(tx.init(params), 0.25)
  updates, _ = tx.update(grads, state, params)
  np.testing.assert_allclose(updates['kernel'], -0.25)


def test_frozen_parameters_get_no_update_and_no_optimizer_state():
  params = {'body': {'kernel': jnp.ones((2, 2))}, 'classifier': {'kernel': jnp.ones((2, 3))}}
  tx = make_optimizer(opt_config(), trainable=r'^classifier/')
  state = tx.init(params)
  assert sum(x.size for x in jax.tree.leaves(state)) == 6 + 1 + 1  # classifier momentum + lr + count
  grads = jax.tree.map(jnp.ones_like, params)
  updates, _ = tx.update(grads, state, params)
  np.testing.assert_array_equal(updates['body']['kernel'], 0.0)
  assert float(updates['classifier']['kernel'][0, 0]) < 0
