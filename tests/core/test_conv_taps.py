"""Convolutions as per-tap products: the same values and gradients as XLA's, taps on padding skipped."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import prunejax.core.scores as scores_module
from prunejax import core, models
from prunejax.core.conv_taps import conv_as_taps, convolutions_as_taps

CASES = {  # name: (input shape, kernel shape, strides, padding, rhs dilation, dimension numbers)
    'same_3x3': ((2, 9, 9, 3), (3, 3, 3, 5), (1, 1), ((1, 1), (1, 1)), (1, 1), ('NHWC', 'HWIO', 'NHWC')),
    'strided_valid': ((1, 10, 7, 4), (3, 2, 4, 6), (2, 3), ((0, 0), (0, 0)), (1, 1), ('NHWC', 'HWIO', 'NHWC')),
    'asymmetric_and_cropping': ((1, 8, 8, 2), (3, 3, 2, 3), (1, 2), ((2, 0), (-1, 1)), (1, 1),
                                ('NHWC', 'HWIO', 'NHWC')),
    'dilated': ((1, 11, 11, 2), (3, 3, 2, 4), (1, 1), ((2, 2), (2, 2)), (2, 2), ('NHWC', 'HWIO', 'NHWC')),
    'channels_first': ((2, 3, 6, 6), (5, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), ('NCHW', 'OIHW', 'NCHW')),
    'one_pixel_input': ((1, 1, 1, 8), (3, 3, 8, 4), (1, 1), ((1, 1), (1, 1)), (1, 1), ('NHWC', 'HWIO', 'NHWC')),
    'kernel_past_input': ((1, 2, 2, 3), (5, 5, 3, 2), (1, 1), ((2, 2), (2, 2)), (1, 1), ('NHWC', 'HWIO', 'NHWC')),
    'pointwise_strided': ((1, 7, 7, 6), (1, 1, 6, 4), (2, 2), ((0, 0), (0, 0)), (1, 1), ('NHWC', 'HWIO', 'NHWC')),
    'one_dimensional': ((2, 12, 3), (3, 3, 4), (2,), ((1, 1),), (1,), ('NWC', 'WIO', 'NWC')),
}


@pytest.mark.parametrize('case', CASES)
def test_same_values_and_gradients_as_xla(case):
  x_shape, w_shape, strides, padding, dilation, names = CASES[case]
  x = jax.random.normal(jax.random.PRNGKey(0), x_shape)
  w = jax.random.normal(jax.random.PRNGKey(1), w_shape)
  numbers = jax.lax.conv_dimension_numbers(x_shape, w_shape, names)
  xla = lambda x, w: jax.lax.conv_general_dilated(x, w, strides, padding, rhs_dilation=dilation,
                                                  dimension_numbers=numbers)
  taps = lambda x, w: conv_as_taps(x, w, window_strides=strides, padding=padding, rhs_dilation=dilation,
                                   dimension_numbers=numbers)
  np.testing.assert_allclose(taps(x, w), xla(x, w), rtol=1e-5, atol=1e-5)
  cotangent = jax.random.normal(jax.random.PRNGKey(2), xla(x, w).shape)
  expected = jax.vjp(xla, x, w)[1](cotangent)
  for got, want in zip(jax.vjp(taps, x, w)[1](cotangent), expected):
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_taps_that_only_read_padding_are_left_out():
  """A 3x3 kernel on a 1x1 input: only the centre tap meets the input, so one product of its (in, out)."""
  numbers = jax.lax.conv_dimension_numbers((1, 1, 1, 8), (3, 3, 8, 4), ('NHWC', 'HWIO', 'NHWC'))
  fn = lambda x, w: conv_as_taps(x, w, window_strides=(1, 1), padding=((1, 1), (1, 1)), rhs_dilation=(1, 1),
                                 dimension_numbers=numbers)
  jaxpr = jax.make_jaxpr(fn)(jnp.ones((1, 1, 1, 8)), jnp.ones((3, 3, 8, 4)))
  dots = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == 'dot_general']
  assert len(dots) == 1 and dots[0].invars[1].aval.shape == (8, 4)


def test_grouped_convolutions_are_left_to_xla():
  x, w = jnp.ones((1, 5, 5, 4)), jax.random.normal(jax.random.PRNGKey(0), (3, 3, 1, 4))
  depthwise = lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), 'SAME', feature_group_count=4,
                                                        dimension_numbers=('NHWC', 'HWIO', 'NHWC'))
  names = [e.primitive.name for e in jax.make_jaxpr(convolutions_as_taps(depthwise))(x, w).jaxpr.eqns]
  assert 'conv_general_dilated' in names
  np.testing.assert_allclose(convolutions_as_taps(depthwise)(x, w), depthwise(x, w), rtol=1e-6)


def test_a_registry_model_computes_the_same_function():
  """Residual adds, strided and pointwise convolutions, inside the model's own jits: the rewritten forward
  is the model's."""
  model = models.create_model('resnet20', (16, 16, 1), 10, seed=0)
  model.eval()
  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  forward = lambda p, x: nnx.merge(graphdef, p, rest, copy=True)(x)
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 16, 16, 1))
  np.testing.assert_allclose(convolutions_as_taps(forward)(params, x), forward(params, x), rtol=1e-4, atol=1e-4)


def test_synflow_masks_are_unchanged_in_float64(monkeypatch):
  """SynFlow scores through the per-tap products rank weights as through XLA's convolutions: under float64
  the iterative masks agree bit for bit (VGG-16 and ResNet-20 at 100 rounds too, measured)."""
  model = models.create_model('small_cnn', (16, 16, 1), 10, seed=0)
  model.eval()
  graphdef, params, rest = nnx.split(model, nnx.Param, ...)
  forward = lambda p, x: nnx.merge(graphdef, p, rest, copy=True)(x)
  selected = core.select_leaves(params, 'kernel', '')
  with jax.enable_x64(True):
    run = lambda: core.synflow_masks(forward, params, (16, 16, 1), selected, 0.9, rounds=5)
    rewritten = run()
    monkeypatch.setattr(scores_module, 'convolutions_as_taps', lambda fn: fn)
    plain = run()
  for a, b in zip(jax.tree.leaves(rewritten), jax.tree.leaves(plain)):
    np.testing.assert_array_equal(a, b)


def test_convolutions_left_counts_the_ones_xla_keeps_even_inside_loops():
  x, w = jnp.ones((1, 5, 5, 4)), jnp.ones((3, 3, 1, 4))
  numbers = ('NHWC', 'HWIO', 'NHWC')
  depthwise = lambda x, w: jax.lax.conv_general_dilated(x, w, (1, 1), 'SAME', feature_group_count=4,
                                                        dimension_numbers=numbers)
  full = lambda x, w: jax.lax.conv_general_dilated(x, jnp.tile(w, (1, 1, 4, 1)), (1, 1), 'SAME',
                                                   dimension_numbers=numbers)
  looped = lambda x, w: jax.lax.fori_loop(0, 2, lambda i, h: depthwise(h, w), x)
  assert core.convolutions_left(full, x, w) == 0
  assert core.convolutions_left(depthwise, x, w) == 1
  assert core.convolutions_left(looped, x, w) == 1
