"""Where a forward pass's CPU latency goes: each convolution and matrix product in its jaxpr timed alone, at
the shapes it runs with, and summed by kind (full, pointwise, depthwise and grouped convolutions, dense). A
network's whole latency less these sums is everything else (normalisation, activations, adds, pooling).
"""

import collections
import dataclasses
import math

import jax
import numpy as np
from jax.extend import core as jex_core

from prunejax.core.jaxprs import called_jaxpr
from prunejax.edge.latency import median_latency

KINDS = ('conv', 'pointwise', 'depthwise', 'grouped', 'dense')


@dataclasses.dataclass(frozen=True)
class LayerOp:
  """One convolution or matrix product of a traced forward pass: its kind, primitive and operand shapes."""
  kind: str
  primitive: jex_core.Primitive
  params: tuple  # the equation's params, as sorted (name, value) pairs
  shapes: tuple  # ((shape, dtype), ...) of its two operands


def _kind(eqn) -> str:
  if eqn.primitive.name == 'dot_general':
    return 'dense'
  groups = eqn.params['feature_group_count']
  rhs_spec = eqn.params['dimension_numbers'].rhs_spec  # (out features, in features, *spatial)
  kernel = eqn.invars[1].aval.shape
  if groups > 1:
    return 'depthwise' if kernel[rhs_spec[1]] == 1 else 'grouped'
  return 'pointwise' if math.prod(kernel[d] for d in rhs_spec[2:]) == 1 else 'conv'


def layer_ops(fn, *args) -> list[LayerOp]:
  """The convolutions and matrix products of ``fn(*args)``, in the order they run (inner jits included)."""
  ops = []

  def walk(jaxpr):
    for eqn in jaxpr.eqns:
      inner = called_jaxpr(eqn)
      if inner is not None:
        walk(inner[0])
      elif eqn.primitive.name in ('conv_general_dilated', 'dot_general'):
        shapes = tuple((tuple(v.aval.shape), np.dtype(v.aval.dtype)) for v in eqn.invars[:2])
        ops.append(LayerOp(_kind(eqn), eqn.primitive, tuple(sorted(eqn.params.items())), shapes))

  walk(jax.make_jaxpr(fn)(*args).jaxpr)
  return ops


def op_latency(op: LayerOp, repeats: int = 20) -> float:
  """Median seconds of ``op`` alone, jitted, on random operands of its shapes."""
  keys = jax.random.split(jax.random.PRNGKey(0), 2)
  operands = [jax.random.normal(k, shape, dtype) for k, (shape, dtype) in zip(keys, op.shapes)]
  alone = jax.jit(lambda a, b: op.primitive.bind(a, b, **dict(op.params)))
  return median_latency(alone, *operands, repeats=repeats)


def latency_by_kind(fn, *args, repeats: int = 20) -> dict[str, dict[str, float]]:
  """Per kind: how many ops and their summed latency alone (identical ops timed once); and 'whole', the
  latency of jitted ``fn(*args)`` itself."""
  timed = {}
  by_kind = collections.defaultdict(lambda: {'count': 0, 'seconds': 0.0})
  for op in layer_ops(fn, *args):
    key = (op.primitive.name, op.params, op.shapes)
    if key not in timed:
      timed[key] = op_latency(op, repeats)
    by_kind[op.kind]['count'] += 1
    by_kind[op.kind]['seconds'] += timed[key]
  whole = median_latency(jax.jit(fn), *args, repeats=repeats)
  return {**{kind: by_kind[kind] for kind in KINDS if kind in by_kind}, 'whole': {'count': 1, 'seconds': whole}}
