"""Layers in the order the forward pass reaches them: what "the last k layers" means for any model.

A layer is a parameterised module, named by its leaves' common path prefix ('hidden/1', 'classifier');
its position is the first equation of the traced forward pass that reads one of its leaves.
"""

import jax
import numpy as np
from jax.extend import core as jex_core

from prunejax.core.jaxprs import called_jaxpr
from prunejax.core.paths import leaf_paths


def layers_in_forward_order(apply_fn, params, *sample_inputs) -> list[str]:
  """Module paths of ``params`` (a pytree) in the order ``apply_fn(params, *inputs)`` first reads them."""
  closed = jax.make_jaxpr(apply_fn)(params, *sample_inputs)
  paths = jax.tree.leaves(leaf_paths(params))
  first_use = [np.inf] * len(paths)
  leaf_of = {var: i for i, var in enumerate(closed.jaxpr.invars[:len(paths)])}
  counter = iter(range(10**9))

  def walk(jaxpr: jex_core.Jaxpr, outer: dict) -> None:
    for eqn in jaxpr.eqns:
      position = next(counter)
      reads = [outer[v] for v in eqn.invars if isinstance(v, jex_core.Var) and v in outer]
      inner = called_jaxpr(eqn)
      if inner is not None:
        jaxpr_in, _ = inner
        walk(jaxpr_in, {iv: outer[v] for iv, v in zip(jaxpr_in.invars, eqn.invars)
                        if isinstance(v, jex_core.Var) and v in outer})
        continue
      for leaf in reads:
        first_use[leaf] = min(first_use[leaf], position)
      for out in eqn.outvars:  # a reshape or convert of a kernel is still that kernel
        if len(reads) == 1 and len(eqn.invars) == 1:
          outer[out] = reads[0]

  walk(closed.jaxpr, dict(leaf_of))
  layers: dict[str, float] = {}
  for path, position in zip(paths, first_use):
    module = path.rsplit('/', 1)[0] if '/' in path else path
    layers[module] = min(layers.get(module, np.inf), position)
  return [name for name, position in sorted(layers.items(), key=lambda kv: kv[1]) if np.isfinite(position)]
