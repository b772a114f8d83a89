"""Exact selection of the k largest scores without sorting: a 32-step bisection over float bit patterns.

Sorting n scores costs O(n log n) and, on CPU, more than a second for a few million parameters. Here a
float32 score is mapped to a uint32 key with the same order; the k-th largest key is found bit by bit,
each step one counting pass (32; when a sample of the keys brackets the answer, only the bits the
bracket leaves open, plus two passes to check it), no n-sized temporaries beyond the keys. Ties at the
threshold are broken deterministically by position (earlier entries kept first), so exactly k survive.
"""

import jax
import jax.numpy as jnp
import numpy as np


def sortable_keys(x: jax.Array) -> jax.Array:
  """uint32 keys ordered like the float32 values (negative floats flipped, NaN largest)."""
  bits = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.uint32)
  sign = bits >> 31
  return jnp.where(sign == 1, ~bits, bits | jnp.uint32(0x80000000))


# The threshold is first bracketed on every SAMPLE_STRIDE-th key (prime: a stride must not alias with
# channel counts); when the bracket holds, its bits shared by both ends need no pass over all the keys.
SAMPLE_STRIDE = 61
_BRACKET_MIN_SIZE = 1 << 16  # below this many keys, bisect directly
_ALL_ONES = np.uint32(0xFFFFFFFF)


def _count_at_least(keys: list[jax.Array], threshold: jax.Array) -> jax.Array:
  return sum(jnp.sum(key >= threshold, dtype=jnp.int32) for key in keys)


def _bisect(keys: list[jax.Array], k: jax.Array, first_bit, threshold) -> jax.Array:
  """Decides bits ``first_bit``..31 of the answer, the bits above them being those of ``threshold``."""

  def decide_bit(bit, threshold):
    candidate = threshold | (jnp.uint32(1) << (31 - bit).astype(jnp.uint32))
    return jnp.where(_count_at_least(keys, candidate) >= k, candidate, threshold)

  return jax.lax.fori_loop(first_bit, 32, decide_bit, threshold)


def kth_largest_key(keys: list[jax.Array], k: jax.Array) -> jax.Array:
  """The largest key t with at least k keys >= t, over several arrays at once (global selection).

  Exact whatever the sample says: a bracket that does not hold falls back to the full 32 passes.
  """
  total = sum(key.size for key in keys)
  if total < _BRACKET_MIN_SIZE:
    return _bisect(keys, k, 0, jnp.uint32(0))
  sample = [key[::SAMPLE_STRIDE] for key in keys]
  size = sum(s.size for s in sample)
  expected = k.astype(jnp.float32) * (size / total)
  margin = 4.0 * jnp.sqrt(expected) + 16.0  # ranks: a sample quantile's error is ~sqrt(rank)
  high_rank, low_rank = jnp.floor(expected - margin), jnp.ceil(expected + margin)
  sample_key = lambda rank: _bisect(sample, rank.astype(jnp.int32), 0, jnp.uint32(0))
  high = jnp.where(high_rank >= 1, sample_key(jnp.maximum(high_rank, 1)), jnp.uint32(_ALL_ONES))
  low = jnp.where(low_rank <= size, sample_key(jnp.minimum(low_rank, size)), jnp.uint32(0))
  above_high = jnp.where(high == _ALL_ONES, 0, _count_at_least(keys, high + jnp.uint32(1)))
  holds = (_count_at_least(keys, low) >= k) & (above_high < k)
  shared = jnp.where(holds, jax.lax.clz(low ^ high), 0).astype(jnp.int32)  # leading bits in common
  prefix_mask = jnp.where(shared >= 32, jnp.uint32(_ALL_ONES),
                          ~(jnp.uint32(_ALL_ONES) >> jnp.minimum(shared, 31).astype(jnp.uint32)))
  return _bisect(keys, k, shared, low & prefix_mask)


def top_k_masks(scores: list[jax.Array], k: jax.Array) -> list[jax.Array]:
  """Boolean masks keeping exactly the k largest scores across all arrays (0 <= k <= total size)."""
  keys = [sortable_keys(s).ravel() for s in scores]
  threshold = kth_largest_key(keys, k)
  above = [key > threshold for key in keys]
  ties_budget = k - sum(jnp.sum(a, dtype=jnp.int32) for a in above)
  ties = [key == threshold for key in keys]
  all_ties = sum(jnp.sum(tie, dtype=jnp.int32) for tie in ties)
  offsets = [int(o) for o in np.cumsum([0] + [key.size for key in keys[:-1]])]
  position_bits = max(1, offsets[-1] + keys[-1].size).bit_length()

  def ties_before(position):  # ties at global positions < position (leaves concatenated in order)
    return sum(jnp.sum(tie & (jnp.arange(tie.size) < position - offset), dtype=jnp.int32)
               for tie, offset in zip(ties, offsets))

  def decide_bit(bit, cut):  # the largest cut with at most ties_budget ties before it
    candidate = cut | (1 << (position_bits - 1 - bit))
    return jnp.where(ties_before(candidate) <= ties_budget, candidate, cut)

  # Bisection over positions only when some ties must go (zero iterations otherwise: a lax.cond, or a
  # cumsum, costs XLA on CPU more than the selection itself). With every tie kept, the cut is past the end.
  needs_cut = ties_budget < all_ties
  cut = jax.lax.fori_loop(0, jnp.where(needs_cut, position_bits, 0), decide_bit,
                          jnp.where(needs_cut, 0, (1 << position_bits) - 1))
  masks = [keep | (tie & (jnp.arange(tie.size) < cut - offset))
           for keep, tie, offset in zip(above, ties, offsets)]
  return [m.reshape(s.shape) for m, s in zip(masks, scores)]
