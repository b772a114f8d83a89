"""Masks from scores: exact kept counts, layer-wise or with one global threshold; applying and summarising.

A mask is a pytree shaped like the params: bool arrays on prunable leaves, None on the others.
"""

import jax
import jax.numpy as jnp
import numpy as np

from prunejax.core import topk
from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError

SCOPES = ('layerwise', 'global')
CONCRETE = (int, float, np.integer, np.floating)  # values known at trace time (checked, not clipped)
_is_none = lambda x: x is None


def kept_count(density, size: int):
  """round(density x size): exact in Python for a concrete density (float32 is not, past 2^24); a traced
  density is clipped to [0, 1] (a concrete one out of range is refused by the callers)."""
  if isinstance(density, CONCRETE):
    return jnp.int32(int(round(density * size)))
  return jnp.round(jnp.clip(density, 0.0, 1.0) * size).astype(jnp.int32)


def _nan_lowest(scores: jax.Array) -> jax.Array:
  """NaN scores (from NaN weights) ranked below every other score: pruned first, never kept as the most
  important (their keys would sort above +inf)."""
  return jnp.where(jnp.isnan(scores), -jnp.inf, scores)


def ones_masks(params, selected):
  """All-kept masks: True arrays on the ``selected`` leaves (a pytree of bools), None elsewhere."""
  return jax.tree.map(lambda f, p: jnp.ones(p.shape, bool) if f else None, selected, params)


def masks_layerwise(scores, densities):
  """Each selected leaf keeps exactly round(density x size) of its highest scores.

  ``densities`` is a pytree of floats (Python or traced) with None on leaves that are not pruned.
  """
  for d in jax.tree.leaves(densities, is_leaf=_is_none):
    if isinstance(d, CONCRETE) and not 0.0 <= d <= 1.0:
      raise PrunejaxError(f'density {d} must be in [0, 1] (the kept fraction of a leaf).')
  leaves = [None if d is None else topk.top_k_masks([_nan_lowest(s)], kept_count(d, s.size))[0]
            for d, s in zip(jax.tree.leaves(densities, is_leaf=_is_none), jax.tree.leaves(scores))]
  return jax.tree.unflatten(jax.tree.structure(scores), leaves)


def masks_global(scores, selected, sparsity):
  """One threshold across selected leaves: exactly round((1 - sparsity) x total) kept (sparsity may be traced:
  then clipped to [0, 1]; NaN scores rank lowest).

  Ties at the threshold are broken by position (earlier leaves, then earlier entries, kept first). The
  SynFlow authors' reference code removes the int(sparsity x total) lowest (``kthvalue`` threshold,
  every score above it kept): its count is total - int(sparsity x total), which differs from ours by at
  most one weight, plus any ties at its threshold.
  """
  if isinstance(sparsity, CONCRETE) and not 0.0 <= sparsity <= 1.0:
    raise PrunejaxError(f'sparsity={sparsity} must be in [0, 1] (the fraction of selected weights removed).')
  flags = jax.tree.leaves(selected)
  chosen = [_nan_lowest(s) for s, f in zip(jax.tree.leaves(scores), flags) if f]
  if not chosen:
    raise PrunejaxError('masks_global got no selected leaf (selected marks none of the scores); select the '
                        'leaves to prune, e.g. with core.select_leaves(params, include, exclude).')
  total = sum(s.size for s in chosen)
  kept = iter(topk.top_k_masks(chosen, kept_count(1.0 - sparsity, total)))
  leaves = [next(kept) if f else None for f in flags]
  return jax.tree.unflatten(jax.tree.structure(scores), leaves)


def check_mask_matches(masks, params) -> None:
  """Raises unless ``masks`` has the params' structure with same-shaped bool leaves (or None)."""
  mask_leaves = jax.tree.leaves(masks, is_leaf=_is_none)
  param_leaves = jax.tree.leaves(params)
  as_zeros = lambda tree, **kw: jax.tree.structure(jax.tree.map(lambda _: 0, tree, **kw))
  if as_zeros(masks, is_leaf=_is_none) != as_zeros(params):
    raise PrunejaxError(f'the mask tree ({len(mask_leaves)} leaves) does not match the params '
                        f'({len(param_leaves)} leaves); build masks from these params.')
  for m, p in zip(mask_leaves, param_leaves):
    if m is not None and tuple(m.shape) != tuple(p.shape):
      raise PrunejaxError(f'a mask leaf has shape {tuple(m.shape)} but its parameter {tuple(p.shape)}; '
                          'build masks from these params.')


def apply_masks(params, masks):
  """Zeroes the pruned entries (exactly) and leaves unmasked leaves untouched."""
  check_mask_matches(masks, params)
  return jax.tree.map(lambda m, p: p if m is None else jnp.where(m, p, jnp.zeros_like(p)), masks, params,
                      is_leaf=_is_none)


@jax.jit
def _zero_counts(params) -> list[jax.Array]:
  """Zeros in each leaf, in one compiled call (eagerly, each leaf shape compiles its own count)."""
  return [p.size - jnp.count_nonzero(p) for p in jax.tree.leaves(params)]


def sparsity_summary(params, masks) -> dict[str, float]:
  """Measured zeros: per prunable leaf, over prunable leaves, and over all parameters."""
  if not jax.tree.leaves(params):
    raise PrunejaxError('sparsity_summary got no parameters; pass the params pytree.')
  check_mask_matches(masks, params)
  paths = jax.tree.leaves(leaf_paths(params))
  summary, zeros, size = {}, 0, 0
  all_zeros = all_size = 0
  counts = [int(z) for z in jax.device_get(_zero_counts(params))]
  for path, m, p, z in zip(paths, jax.tree.leaves(masks, is_leaf=_is_none), jax.tree.leaves(params), counts):
    all_zeros, all_size = all_zeros + z, all_size + p.size
    if m is not None:
      summary[f'sparsity/{path}'] = z / p.size
      zeros, size = zeros + z, size + p.size
  summary['sparsity'] = zeros / size if size else 0.0
  summary['sparsity_all_params'] = all_zeros / all_size
  return summary
