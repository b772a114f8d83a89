"""Re-initialisation at a shrunk shape: a sliced wide init rescaled to the initialiser's variance."""

import jax
import jax.numpy as jnp
import numpy as np

from prunejax import structure
from prunejax.models.layers import dense_init


def test_a_sliced_kernel_gets_the_variance_of_its_new_fan_in():
  wide = {'layer': {'kernel': dense_init(jax.random.PRNGKey(0), (2000, 400)), 'bias': jnp.zeros(400)}}
  narrow = {'layer': {'kernel': wide['layer']['kernel'][:100, :50], 'bias': wide['layer']['bias'][:50]}}
  rescaled = structure.rescale_fan_in(wide, narrow)
  fresh = dense_init(jax.random.PRNGKey(1), (100, 50))
  np.testing.assert_allclose(np.var(rescaled['layer']['kernel']), np.var(fresh), rtol=0.1)
  np.testing.assert_allclose(np.var(rescaled['layer']['kernel']), 1 / 100, rtol=0.1)
  assert rescaled['layer']['bias'] is narrow['layer']['bias']


def test_an_unchanged_fan_in_is_left_alone():
  wide = {'kernel': jnp.ones((10, 8))}
  narrow = {'kernel': wide['kernel'][:, :4]}
  assert structure.rescale_fan_in(wide, narrow)['kernel'] is narrow['kernel']
