"""Scaled float32 evaluation: the float64 value and gradients' ranking where plain float32 overflows."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from prunejax import core
from prunejax.models.resnet import CifarResNet
from prunejax.train import split_model


def residual_tower(params, x):
  """40 residual blocks x + W2 relu(W1 x) with a concatenation and a max-pool in the middle."""
  for i, (w1, w2) in enumerate(zip(params['w1'], params['w2'])):
    x = x + jax.nn.relu(x @ w1) @ w2
    if i == 20:
      x = jnp.concatenate([x[:, :8], jnp.maximum(x[:, 8:], 0.5 * x[:, 8:])], axis=1)
      x = jax.lax.reduce_window(x[:, :, None], -jnp.inf, jax.lax.max, (1, 1, 1), (1, 1, 1), 'VALID')[:, :, 0]
  return x @ params['out']


def tower_params(dtype=jnp.float32):
  keys = jax.random.split(jax.random.PRNGKey(0), 81)
  normal = lambda k, shape: jnp.abs(jax.random.normal(k, shape, dtype)) * 0.6
  return {'w1': [normal(keys[i], (16, 16)) for i in range(40)],
          'w2': [normal(keys[40 + i], (16, 16)) for i in range(40)], 'out': normal(keys[80], (16, 3))}


def test_the_value_where_float32_overflows():
  params, x = tower_params(), jnp.ones((1, 16))
  assert not np.isfinite(np.asarray(residual_tower(params, x))).all()  # plain float32: inf
  m, e = jax.jit(lambda p: core.scaled_eval(residual_tower, p, x))(params)
  with jax.enable_x64(True):
    exact = residual_tower(jax.tree.map(lambda p: p.astype(jnp.float64), params), x.astype(jnp.float64))
    np.testing.assert_allclose(np.log2(np.asarray(m, np.float64)) + float(e), np.log2(np.asarray(exact)),
                               rtol=1e-6)
  assert float(e) > 200  # far beyond float32's 2^128


def test_synflow_scores_are_the_float64_scores_times_one_power_of_two():
  params = tower_params()
  forward = lambda p, x: residual_tower(p, x)
  scaled = core.synflow_scores(forward, params, (16,), precision='scaled_float32')
  with jax.enable_x64(True):
    exact = core.synflow_scores(forward, params, (16,), precision='float64')
    exact64 = jax.grad(lambda p: jnp.sum(residual_tower(p, jnp.ones((1, 16), jnp.float64))))(
        jax.tree.map(lambda p: p.astype(jnp.float64), params))
  scaled_flat = np.concatenate([np.asarray(s, np.float64).ravel() for s in jax.tree.leaves(scaled)])
  exact_flat = np.concatenate([np.abs(np.asarray(p, np.float64) * np.asarray(g)).ravel()
                               for p, g in zip(jax.tree.leaves(params), jax.tree.leaves(exact64))])
  assert np.isfinite(scaled_flat).all() and (scaled_flat > 0).all()
  ratio = scaled_flat / exact_flat
  assert ratio.max() / ratio.min() - 1 < 1e-4
  assert np.log2(ratio).round() == pytest.approx(np.log2(ratio), abs=1e-4)  # a power of two
  # Both precisions return the scores divided by the power of two at or below R: the float64 path does
  # not overflow when its scores become float32 (R here is about 2^230).
  for s, x in zip(jax.tree.leaves(scaled), jax.tree.leaves(exact)):
    assert np.isfinite(np.asarray(x)).all()
    np.testing.assert_allclose(s, x, rtol=1e-4, atol=1e-30)


def test_on_a_registry_resnet_with_batchnorm_scaled_and_float64_rank_alike():
  # The registry's ResNet class at depth 8: every block kind of ResNet-20 (BatchNorm, residual adds,
  # projection shortcuts), a third of the layers to compile.
  defs, params, model_state = split_model(CifarResNet((8, 8, 1), 10, depth=8, width=4, rngs=nnx.Rngs(0)))
  forward = lambda p, x: nnx.merge(defs.eval, p, model_state, copy=True)(x)
  scores = lambda precision: jax.jit(lambda p: core.synflow_scores(forward, p, (8, 8, 1), precision))(params)
  scaled = scores('scaled_float32')
  with jax.enable_x64(True):
    exact = scores('float64')
  flat = lambda tree: np.concatenate([np.asarray(v, np.float64).ravel() for v in jax.tree.leaves(tree)])
  s, x = flat(scaled), flat(exact)
  positive = x > 1e-30
  assert positive.mean() > 0.5
  ratio = s[positive] / x[positive]  # one constant across every layer: the same global ranking
  assert ratio.max() / ratio.min() - 1 < 1e-3
  # Divided by the power of two at or below R, which no score exceeds (BatchNorm, residual adds): <= 2.
  assert 0 < x.max() <= 2.0 and 0 < s.max() <= 2.0
