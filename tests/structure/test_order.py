"""Layers in forward order: what "the last k layers" of edge re-training counts on."""

import jax
import jax.numpy as jnp
import pytest
from flax import nnx

from prunejax import core, structure
from prunejax.models import create_model


@pytest.mark.parametrize('model,first,last', [
    ('lenet_300_100', ['hidden/0', 'hidden/1'], ['hidden/1', 'classifier']),
    ('lenet5', ['conv1', 'conv2'], ['fc2', 'classifier']),
    ('resnet20', ['stem/conv', 'stem/bn'], ['blocks/8/conv2/bn', 'classifier']),
])
def test_layers_come_in_the_order_the_forward_pass_reads_them(model, first, last):
  net = create_model(model, (8, 8, 1), 10, 0)
  net.eval()
  graphdef, params, rest = nnx.split(net, nnx.Param, ...)
  apply = lambda p, x: nnx.merge(graphdef, p, rest, copy=True)(x)
  order = structure.layers_in_forward_order(apply, params, jnp.zeros((1, 8, 8, 1)))
  assert order[:2] == first and order[-2:] == last
  modules = {path.rsplit('/', 1)[0] for path in jax.tree.leaves(core.leaf_paths(params))}
  assert len(order) == len(set(order)) and set(order) == modules  # each module with parameters, once


class Reversed(nnx.Module):
  """Declares its layers in the opposite order to the one it calls them in."""

  def __init__(self, rngs):
    self.late = nnx.Linear(4, 2, rngs=rngs)
    self.early = nnx.Linear(3, 4, rngs=rngs)

  def __call__(self, x):
    return self.late(nnx.relu(self.early(x)))


def test_call_order_wins_over_declaration_order():
  graphdef, params = nnx.split(Reversed(nnx.Rngs(0)))
  apply = lambda p, x: nnx.merge(graphdef, p)(x)
  assert structure.layers_in_forward_order(apply, params, jnp.zeros((1, 3))) == ['early', 'late']
