"""Exact selection of the k largest scores without sorting: a search over float bit patterns.

Sorting n scores costs O(n log n) and, on CPU, more than a second for a few million parameters. Here a
float32 score is mapped to a uint32 key with the same order, and the k-th largest key is found by a
safeguarded interpolation search on the count of keys above a candidate: each step one counting pass,
the candidate placed where the counts at the bracket's ends say the k-th key lies (a bisection step when
that did not halve the bracket, so at most ~64 passes; typically a few). A sample of the keys brackets
the answer first. No n-sized temporaries beyond the keys. Ties at the threshold are broken
deterministically by position (earlier entries kept first), so exactly k survive.
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
# channel counts); the search over all the keys then starts from that bracket when it holds.
SAMPLE_STRIDE = 61
_BRACKET_MIN_SIZE = 1 << 16  # below this many keys, search them directly
_ALL_ONES = np.uint32(0xFFFFFFFF)


def _count_at_least(keys: list[jax.Array], threshold: jax.Array) -> jax.Array:
  return sum(jnp.sum(key >= threshold, dtype=jnp.int32) for key in keys)


def _search(keys: list[jax.Array], k: jax.Array, lo, count_lo, hi, count_above_hi) -> jax.Array:
  """The k-th largest key, given a bracket: count(keys >= lo) = count_lo >= k and
  count(keys > hi) = count_above_hi < k (k >= 1), so the answer is in [lo, hi].

  Each step counts the keys >= a candidate t in (lo, hi] and moves one end to it. Done when the bracket
  is one key, or when an end's count pins the answer: count(>= lo) = k makes it the least key >= lo,
  count(> hi) = k - 1 the largest key <= hi (one min or max pass).
  """

  def open_(state):
    lo, count_lo, hi, count_above_hi, _ = state
    return (lo < hi) & (count_lo != k) & (count_above_hi != k - 1)

  def step(state):
    lo, count_lo, hi, count_above_hi, bisect = state
    width = hi - lo  # >= 1; candidates are lo + 1 .. hi
    # Linear interpolation of the count between lo (count_lo) and hi + 1 (count_above_hi).
    fraction = (count_lo - k + 0.5).astype(jnp.float32) / (count_lo - count_above_hi).astype(jnp.float32)
    guess = jnp.clip(jnp.round(fraction * (width.astype(jnp.float32) + 1.0)), 1.0, width.astype(jnp.float32))
    offset = jnp.where(bisect, (width >> 1) + 1, jnp.minimum(guess.astype(jnp.uint32), width))
    t = lo + jnp.maximum(offset, 1)
    count_t = _count_at_least(keys, t)
    keep_lo = count_t >= k
    new = (jnp.where(keep_lo, t, lo), jnp.where(keep_lo, count_t, count_lo),
           jnp.where(keep_lo, hi, t - 1), jnp.where(keep_lo, count_above_hi, count_t))
    halved = (new[2] - new[0]) <= (width >> 1)
    return new + (~halved & ~bisect,)  # an interpolation step that did not halve: bisect next

  lo, count_lo, hi, count_above_hi, _ = jax.lax.while_loop(
      open_, step, (lo, count_lo, hi, count_above_hi, jnp.bool_(False)))
  least_from_lo = lambda: jnp.min(jnp.stack([jnp.min(jnp.where(key >= lo, key, _ALL_ONES)) for key in keys]))
  largest_to_hi = lambda: jnp.max(jnp.stack([jnp.max(jnp.where(key <= hi, key, 0)) for key in keys]))
  branch = jnp.where(lo >= hi, 0, jnp.where(count_lo == k, 1, 2))
  return jax.lax.switch(branch, (lambda: lo, least_from_lo, largest_to_hi))


def _search_all(keys: list[jax.Array], k: jax.Array) -> jax.Array:
  """The k-th largest key with the whole key range as the bracket."""
  total = sum(key.size for key in keys)
  above_all = jnp.int32(0)  # nothing is > 2^32 - 1
  return _search(keys, k, jnp.uint32(0), jnp.int32(total), jnp.uint32(_ALL_ONES), above_all)


def kth_largest_key(keys: list[jax.Array], k: jax.Array) -> jax.Array:
  """The largest key t with at least k keys >= t, over several arrays at once (global selection).

  Exact whatever the sample says: a bracket that does not hold falls back to the whole key range.
  """
  k = jnp.asarray(k, jnp.int32)
  total = sum(key.size for key in keys)
  positive = jnp.maximum(k, 1)  # k = 0: every key qualifies as "at least 0 above": the answer is 2^32 - 1
  if total < _BRACKET_MIN_SIZE:
    return jnp.where(k <= 0, _ALL_ONES, _search_all(keys, positive))
  sample = [key[::SAMPLE_STRIDE] for key in keys]
  size = sum(s.size for s in sample)
  expected = positive.astype(jnp.float32) * (size / total)
  margin = 4.0 * jnp.sqrt(expected) + 16.0  # ranks: a sample quantile's error is ~sqrt(rank)
  high_rank, low_rank = jnp.floor(expected - margin), jnp.ceil(expected + margin)
  sample_key = lambda rank: _search_all(sample, jnp.clip(rank, 1, size).astype(jnp.int32))
  high = jnp.where(high_rank >= 1, sample_key(high_rank), jnp.uint32(_ALL_ONES))
  low = jnp.where(low_rank <= size, sample_key(low_rank), jnp.uint32(0))
  count_low = _count_at_least(keys, low)
  above_high = jnp.where(high == _ALL_ONES, 0, _count_at_least(keys, high + jnp.uint32(1)))
  holds = (count_low >= positive) & (above_high < positive) & (low <= high)
  answer = _search(keys, positive, jnp.where(holds, low, 0), jnp.where(holds, count_low, total),
                   jnp.where(holds, high, _ALL_ONES), jnp.where(holds, above_high, 0))
  return jnp.where(k <= 0, _ALL_ONES, answer)


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
