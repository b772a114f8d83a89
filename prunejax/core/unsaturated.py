"""A function evaluated without its saturating caps: ``min(x, constant)`` (ReLU6's 6, hard-tanh's 1) is x.

SynFlow's R = 𝟙ᵀ(Π|θ_l|)𝟙 is defined on the network made linear: with |θ| and an all-ones input every
activation is non-negative, where ReLU is the identity — but ReLU6 is not: its activations pass 6 within
a layer or two, the cap's gradient is zero, and every score upstream of it is zero (MobileNetV2: 157 of
its 158 parameter leaves). Evaluating the traced function with each cap by a constant removed gives the
linear network R is meant for, and leaves networks without caps (ReLU, max-pool, residual adds) as they are.
"""

import jax

from prunejax.core.jaxprs import evaluate_with


def without_saturation(fn):
  """``fn`` with every ``min`` against a constant (an upper clip) evaluated as its other operand."""
  return evaluate_with(fn, _uncapped)


def _uncapped(eqn, values, is_constant):
  if eqn.primitive.name != 'min' or sum(map(is_constant, eqn.invars)) != 1:
    return None
  kept = values[1] if is_constant(eqn.invars[0]) else values[0]
  return [jax.lax.broadcast_in_dim(kept, eqn.outvars[0].aval.shape, ()) if jax.numpy.ndim(kept) == 0 else kept]
