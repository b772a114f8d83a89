"""Exact selection of the k largest scores without sorting: a 32-step bisection over float bit patterns.

Sorting n scores costs O(n log n) and, on CPU, more than a second for a few million parameters. Here a
float32 score is mapped to a uint32 key with the same order; the k-th largest key is found bit by bit,
each step one counting pass (O(32 n) in all, no n-sized temporaries beyond the keys). Ties at the
threshold are broken deterministically by position (earlier entries kept first), so exactly k survive.
"""

import jax
import jax.numpy as jnp


def sortable_keys(x: jax.Array) -> jax.Array:
  """uint32 keys ordered like the float32 values (negative floats flipped, NaN largest)."""
  bits = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.uint32)
  sign = bits >> 31
  return jnp.where(sign == 1, ~bits, bits | jnp.uint32(0x80000000))


def kth_largest_key(keys: list[jax.Array], k: jax.Array) -> jax.Array:
  """The largest key t with at least k keys >= t, over several arrays at once (global selection)."""

  def count_at_least(threshold):
    return sum(jnp.sum(key >= threshold, dtype=jnp.int32) for key in keys)

  def decide_bit(bit, threshold):
    candidate = threshold | (jnp.uint32(1) << (31 - bit).astype(jnp.uint32))
    return jnp.where(count_at_least(candidate) >= k, candidate, threshold)

  return jax.lax.fori_loop(0, 32, decide_bit, jnp.uint32(0))


def top_k_masks(scores: list[jax.Array], k: jax.Array) -> list[jax.Array]:
  """Boolean masks keeping exactly the k largest scores across all arrays (0 <= k <= total size)."""
  keys = [sortable_keys(s).ravel() for s in scores]
  threshold = kth_largest_key(keys, k)
  above = [key > threshold for key in keys]
  ties_budget = k - sum(jnp.sum(a, dtype=jnp.int32) for a in above)
  masks = []
  for key, keep in zip(keys, above):
    tie = key == threshold
    rank = jnp.cumsum(tie, dtype=jnp.int32)  # 1-based position among this array's ties
    masks.append(keep | (tie & (rank <= ties_budget)))
    ties_budget = ties_budget - jnp.minimum(jnp.sum(tie, dtype=jnp.int32), jnp.maximum(ties_budget, 0))
  return [m.reshape(s.shape) for m, s in zip(masks, scores)]
