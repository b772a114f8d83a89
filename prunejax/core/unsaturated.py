"""A function evaluated without its saturating caps: ``min(x, constant)`` (ReLU6's 6, hard-tanh's 1) is x.

SynFlow's R = 𝟙ᵀ(Π|θ_l|)𝟙 is defined on the network made linear: with |θ| and an all-ones input every
activation is non-negative, where ReLU is the identity — but ReLU6 is not: its activations pass 6 within
a layer or two, the cap's gradient is zero, and every score upstream of it is zero (MobileNetV2: 157 of
its 158 parameter leaves). Evaluating the traced function with each cap by a constant removed gives the
linear network R is meant for, and leaves networks without caps (ReLU, max-pool, residual adds) as they are.
"""

import jax
from jax.extend import core as jex_core

from prunejax.core.jaxprs import called_jaxpr


def without_saturation(fn):
  """``fn`` with every ``min`` against a constant (an upper clip) evaluated as its other operand."""

  def evaluate(*args):
    closed, shapes = jax.make_jaxpr(fn, return_shape=True)(*args)
    outputs = _eval(closed.jaxpr, closed.consts, jax.tree.leaves(args))
    return jax.tree.unflatten(jax.tree.structure(shapes), outputs)

  return evaluate


def _eval(jaxpr, consts, inputs):
  env = dict(zip(jaxpr.constvars, consts)) | dict(zip(jaxpr.invars, inputs))
  read = lambda v: v.val if isinstance(v, jex_core.Literal) else env[v]
  constant = lambda v: isinstance(v, jex_core.Literal) or v in jaxpr.constvars
  for eqn in jaxpr.eqns:
    values = [read(v) for v in eqn.invars]
    called = called_jaxpr(eqn)
    if called is not None:
      outputs = _eval(called[0], called[1], values)
    elif eqn.primitive.name == 'min' and sum(map(constant, eqn.invars)) == 1:
      kept = values[1] if constant(eqn.invars[0]) else values[0]
      outputs = [jax.lax.broadcast_in_dim(kept, eqn.outvars[0].aval.shape, ())
                 if jax.numpy.ndim(kept) == 0 else kept]
    else:
      result = eqn.primitive.bind(*values, **eqn.params)
      outputs = result if eqn.primitive.multiple_results else [result]
    env.update(zip(eqn.outvars, outputs))
  return [read(v) for v in jaxpr.outvars]
