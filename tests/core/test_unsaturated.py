"""SynFlow's linear network: saturating caps removed, everything else evaluated as traced."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from prunejax import core, models
from prunejax.core.unsaturated import without_saturation


def capped_net(p, x):
  return jnp.sum(nnx.relu6(jax.jit(lambda h: h @ p['w1'])(x)) @ p['w2'])


def test_caps_become_the_identity_and_nothing_else_changes():
  key1, key2, key3 = jax.random.split(jax.random.PRNGKey(0), 3)
  p = {'w1': 3.0 * jax.random.normal(key1, (4, 8)), 'w2': jax.random.normal(key2, (8, 2))}
  x = 2.0 * jax.random.normal(key3, (5, 4))
  relu_net = lambda p, x: jnp.sum(nnx.relu(x @ p['w1']) @ p['w2'])
  assert jnp.max(x @ p['w1']) > 6.0  # the cap binds: capped and uncapped nets differ
  assert not np.isclose(capped_net(p, x), relu_net(p, x))
  np.testing.assert_allclose(without_saturation(capped_net)(p, x), relu_net(p, x), rtol=1e-6)
  grads = jax.grad(without_saturation(capped_net))(p, x)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6), grads, jax.grad(relu_net)(p, x))
  np.testing.assert_array_equal(without_saturation(relu_net)(p, x), relu_net(p, x))
  pairwise = lambda a, b: jnp.minimum(a, b)  # a min of two computed operands is not a cap
  np.testing.assert_array_equal(without_saturation(pairwise)(x, -x), jnp.minimum(x, -x))


def test_synflow_scores_every_kernel_of_a_relu6_network():
  """With ReLU6's cap, SynFlow's activations pass 6 and its gradients vanish: MobileNetV2's scores were
  zero everywhere but one leaf. Every kernel must now get positive scores (float64: the scaled float32
  path evaluates the same rewritten network, below on a smaller one — its MobileNetV2 compile took 12 s).
  Width 0.25 on 8x8 images: every layer stays, and the caps still bind (without the rewrite, the gradients
  of 52 of the 53 kernels are zero)."""
  model = models.create_model('mobilenetv2', (8, 8, 1), 10, seed=0, width=0.25)
  model.eval()
  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  forward = lambda p, x: nnx.merge(graphdef, p, rest, copy=True)(x)
  kernels = [path for path in jax.tree.leaves(core.leaf_paths(params)) if path.endswith('kernel')]
  with jax.enable_x64(True):
    scores = jax.jit(lambda p: core.synflow_scores(forward, p, (8, 8, 1), 'float64'))(params)
  positive = {path for path, s in zip(jax.tree.leaves(core.leaf_paths(params)), jax.tree.leaves(scores))
              if np.any(np.asarray(s) > 0)}  # (numpy: no compile per leaf shape)
  assert set(kernels) <= positive, sorted(set(kernels) - positive)[:3]


def test_scaled_synflow_scores_every_kernel_of_a_relu6_tower():
  """The scaled float32 path through caps that bind, as in MobileNetV2: a convolution, a depthwise one and
  a dense layer, each followed by ReLU6, whose all-ones activations pass 6 (the capped gradient zeroes
  every score but the last layer's): every weight scores, as in float64 up to one power of two."""
  conv = lambda x, w, groups: jax.lax.conv_general_dilated(x, w, (1, 1), 'SAME', feature_group_count=groups,
                                                           dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  def tower(p, x):
    h = jax.nn.relu6(conv(x, p[0], 1))
    h = jax.nn.relu6(conv(h, p[1], 4))
    return jax.nn.relu6(h.reshape(1, -1) @ p[2]) @ p[3]
  ws = [jnp.full((3, 3, 2, 4), 1.0), jnp.full((3, 3, 1, 4), 2.0), jnp.full((64, 8), 0.5), jnp.ones((8, 2))]
  ones = jnp.ones((1, 4, 4, 2))
  assert jnp.min(conv(ones, ws[0], 1)) > 6.0
  capped = jax.grad(lambda p: jnp.sum(tower(p, ones)))(ws)
  assert not bool(jnp.any(capped[0] > 0))  # the cap binds
  scaled = jax.jit(lambda p: core.synflow_scores(tower, p, (4, 4, 2), 'scaled_float32'))(ws)
  with jax.enable_x64(True):
    exact = core.synflow_scores(tower, ws, (4, 4, 2), 'float64')
  for s, x in zip(scaled, exact):
    assert bool(jnp.all(s > 0))
    np.testing.assert_allclose(s, x, rtol=1e-5)
