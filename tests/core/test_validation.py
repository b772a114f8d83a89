"""Public boundaries refuse nonsense with PrunejaxError instead of computing something plausible."""

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from prunejax import core, models, structure
from prunejax.errors import PrunejaxError

PARAMS = {'a': {'kernel': jnp.ones((3, 4))}, 'b': {'kernel': jnp.ones((4, 2))}}
SELECTED = {'a': {'kernel': True}, 'b': {'kernel': True}}


@pytest.mark.parametrize('call,message', [
    (lambda: core.masks_global(PARAMS, SELECTED, 1.5), r'sparsity=1.5 must be in \[0, 1\]'),
    (lambda: core.masks_global(PARAMS, SELECTED, -0.1), r'sparsity=-0.1 must be in \[0, 1\]'),
    (lambda: core.masks_layerwise(PARAMS, {'a': {'kernel': 1.2}, 'b': {'kernel': None}}), 'density 1.2'),
    (lambda: core.apply_masks(PARAMS, {'a': {'kernel': jnp.ones((1, 4), bool)}, 'b': {'kernel': None}}),
     r'shape \(1, 4\) but its parameter \(3, 4\)'),
    (lambda: core.sparsity_summary(PARAMS, {'a': {'kernel': jnp.ones((4, 3), bool)}, 'b': {'kernel': None}}),
     r'shape \(4, 3\)'),
    (lambda: core.sparsity_summary({}, {}), 'got no parameters'),
    (lambda: core.masked_update(optax.sgd(0.1), {'a': {'kernel': None}}).init(PARAMS), 'does not match'),
    (lambda: core.layer_densities(PARAMS, SELECTED, 0.5, per_layer={'(': 0.1}), 'is malformed'),
    (lambda: core.check_sparsity(float('nan')), 'must be in'),
])
def test_core_boundaries(call, message):
  with pytest.raises(PrunejaxError, match=message):
    call()


@pytest.mark.parametrize('indices,message', [([0, 0, 1, 2], 'repeat a channel'),
                                             ([0.0, 1.5], 'must be integers')])
def test_shrink_refuses_repeated_or_fractional_indices(indices, message):
  model = models.create_model('lenet_300_100', (8, 8, 1), 10)
  groups = structure.trace_groups(model, jnp.zeros((1, 8, 8, 1)))
  with pytest.raises(PrunejaxError, match=message):
    structure.shrink(model, {'hidden/0/kernel': np.asarray(indices)}, groups)
