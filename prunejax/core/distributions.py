"""Sparsity distributions: how a global sparsity target is split into per-layer densities."""

import math
import re
from collections.abc import Mapping

import jax

from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError

DISTRIBUTIONS = ('uniform', 'erk')


def check_sparsity(sparsity: float) -> None:
  if not isinstance(sparsity, (int, float)) or not 0.0 <= sparsity < 1.0:  # NaN fails too
    raise PrunejaxError(f'sparsity={sparsity} must be in [0, 1) (the fraction of prunable weights removed).')


def layer_densities(params, selected, sparsity: float, distribution: str = 'uniform',
                    per_layer: Mapping[str, float] | None = None):
  """Per-leaf keep fractions (a pytree of floats, None where not selected), from static shapes only.

  ``uniform``: every selected leaf keeps 1 - sparsity. ``erk`` (Evci et al. 2020): density proportional
  to sum(shape)/prod(shape), scaled so the kept total matches the target; leaves that would exceed
  density 1 are made dense and the rest re-scaled. ``per_layer`` maps path regexes to a sparsity that
  overrides the distribution for matching leaves (first match wins).
  """
  check_sparsity(sparsity)
  if distribution not in DISTRIBUTIONS:
    raise PrunejaxError(f'unknown distribution {distribution!r}; choose one of {DISTRIBUTIONS}.')
  paths = jax.tree.leaves(leaf_paths(params))
  shapes = [tuple(x.shape) for x in jax.tree.leaves(params)]
  chosen = jax.tree.leaves(selected)
  fixed, used = {}, set()
  for pattern in per_layer or {}:
    try:
      re.compile(pattern)
    except re.error as e:
      raise PrunejaxError(f'per_layer regex {pattern!r} is malformed ({e}); fix config.pruning.per_layer.') from e
  for i, path in enumerate(paths):
    for pattern, layer_sparsity in (per_layer or {}).items():
      if chosen[i] and re.search(pattern, path):
        check_sparsity(layer_sparsity)
        fixed[i] = 1.0 - layer_sparsity
        used.add(pattern)
        break
  unused = [p for p in per_layer or {} if p not in used]
  if unused:
    prunable = [path for path, c in zip(paths, chosen) if c]
    raise PrunejaxError(f'per_layer regex {unused[0]!r} matches no prunable parameter (they are '
                        f'{prunable[:4]}...); fix config.pruning.per_layer.')
  free = [i for i in range(len(paths)) if chosen[i] and i not in fixed]
  sizes = {i: math.prod(shapes[i]) for i in range(len(paths))}
  if distribution == 'uniform':
    densities = {i: 1.0 - sparsity for i in free}
  else:
    budget = (1.0 - sparsity) * sum(sizes[i] for i in free)
    densities = _erk(free, shapes, sizes, budget)
  densities.update(fixed)
  leaves = [densities.get(i) if chosen[i] else None for i in range(len(paths))]
  return jax.tree.unflatten(jax.tree.structure(params), leaves)


def _erk(free, shapes, sizes, budget):
  dense = set()
  while True:
    raw = {i: sum(shapes[i]) / sizes[i] for i in free if i not in dense}
    remaining = budget - sum(sizes[i] for i in dense)
    scale = remaining / sum(raw[i] * sizes[i] for i in raw) if raw else 0.0
    too_dense = [i for i in raw if raw[i] * scale > 1.0]
    if not too_dense:
      return {**{i: 1.0 for i in dense}, **{i: raw[i] * scale for i in raw}}
    dense.update(too_dense)
