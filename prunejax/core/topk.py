"""Exact selection of the k largest scores without sorting: a search over float bit patterns.

Sorting n scores costs O(n log n) and, on CPU, more than a second for a few million parameters. Here a
float32 score is mapped to a uint32 key with the same order, and the k-th largest key is found by a
safeguarded interpolation search on the count of keys above a candidate: each step one counting pass,
the candidate placed where the counts at the bracket's ends say the k-th key lies (a bisection step when
that did not halve the bracket, so at most ~64 passes; typically a few), the first candidates placed by
the spacing of a sorted sample of the keys. Ties at the threshold are broken deterministically by
position (earlier entries kept first), so exactly k survive: one pass counts the ties of each row of
entries, then the one row where the budget runs out is searched (bisecting positions takes many more
passes).

What a pass costs on XLA's CPU backend decides its shape: it reads the float32 scores and recomputes their
keys (two integer ops: cheaper than storing them and reading them back), and counts in int16 per row of
``_CHUNK`` entries (an int32 count of a predicate is not vectorised). The one max pass is int16 too: a
uint32 max is not vectorised either. ``benchmarks/benchmark_synflow.py`` measures it.
"""

import jax
import jax.numpy as jnp
import numpy as np

from prunejax.errors import PrunejaxError


def sortable_keys(x: jax.Array) -> jax.Array:
  """uint32 keys ordered like the float32 values (negative floats flipped, NaN largest)."""
  bits = jax.lax.bitcast_convert_type(x.astype(jnp.float32), jnp.int32)
  flip = (bits >> 31) | jnp.int32(-2 ** 31)  # all ones for a negative float, the sign bit alone otherwise
  return jax.lax.bitcast_convert_type(bits ^ flip, jnp.uint32)


# The search's candidates are first placed on every SAMPLE_STRIDE-th key, sorted (prime: a stride must
# not alias with channel counts; the sample is small enough that sorting it is cheap).
SAMPLE_STRIDE = 241
_SAMPLE_MIN_SIZE = 1 << 16  # below this many keys, search them without a sample
_CHUNK = 4096  # entries per int16 partial count (at most 2^15 - 1)
_NARROW = 1 << 15  # a bracket narrower than this is closed by one int16 max of offsets from its low end
_ALL_ONES = np.uint32(0xFFFFFFFF)
_SAMPLED_STEPS = 4  # a bracket holding this many sampled keys is narrowed by the sample's spacing


def _reduce(scores: list[jax.Array], per_entry, reduce, dtype, depends_on) -> jax.Array:
  """``reduce`` over all the flat score arrays of ``per_entry(keys)``, in ``dtype`` within each ``_CHUNK`` row.

  The scores pass an optimisation barrier with ``depends_on`` (the pass's threshold): otherwise XLA
  computes the keys once, stores them and hoists them out of the search loops, which costs more than it
  saves.
  """
  scores, _ = jax.lax.optimization_barrier((scores, depends_on))
  results = []
  for flat in scores:
    whole = flat.size // _CHUNK * _CHUNK
    if whole:
      per_row = reduce(per_entry(sortable_keys(flat[:whole].reshape(-1, _CHUNK))).astype(dtype), axis=1)
      results.append(reduce(per_row.astype(jnp.int32)))
    if whole < flat.size:
      results.append(reduce(per_entry(sortable_keys(flat[whole:])).astype(jnp.int32)))
  return reduce(jnp.stack(results))


def _count_at_least(scores: list[jax.Array], threshold: jax.Array) -> jax.Array:
  """How many keys are >= ``threshold``, over all the arrays."""
  add = lambda x, axis=None: jnp.sum(x, axis=axis, dtype=x.dtype)  # no int64 promotion under x64
  return _reduce(scores, lambda keys: keys >= threshold, add, jnp.int16, threshold)


def _search(scores: list[jax.Array], k: jax.Array, lo, count_lo, hi, count_above_hi, sample=None):
  """(t, count(keys >= t), count(keys > t)) with count(keys > t) <= k <= count(keys >= t), given a
  bracket: count(keys >= lo) = count_lo >= k and count(keys > hi) = count_above_hi < k (k >= 1). The
  third is exact where a tie at t may have to go (count(keys >= t) > k).

  Each step counts the keys >= a candidate in (lo, hi] and moves one end to it. With a sorted ``sample``
  of the keys, while the bracket holds at least ``_SAMPLED_STEPS`` of its keys, the candidate is the
  sampled key where the counts say the k-th key lies among them (the keys' own spacing, not their values,
  which jump across blocks of equal keys); each such step leaves fewer sampled keys in the bracket. Then
  it interpolates key values. Done when the bracket
  is one key (the k-th largest), when count(>= lo) = k (lo itself is a threshold), or when
  count(> hi) = k - 1 in a bracket narrower than ``_NARROW``: the k-th key is then the largest <= hi,
  one int16 max of the offsets from lo.
  """

  def open_(state):
    lo, count_lo, hi, count_above_hi, _ = state
    return (lo < hi) & (count_lo != k) & ((count_above_hi != k - 1) | (hi - lo >= _NARROW))

  def step(state):
    lo, count_lo, hi, count_above_hi, bisect = state
    width = hi - lo  # >= 1; candidates are lo + 1 .. hi
    # Linear interpolation of the count between lo (count_lo) and hi + 1 (count_above_hi).
    fraction = (count_lo - k + 0.5).astype(jnp.float32) / (count_lo - count_above_hi).astype(jnp.float32)
    guess = jnp.clip(jnp.round(fraction * (width.astype(jnp.float32) + 1.0)), 1.0, width.astype(jnp.float32))
    offset = jnp.where(bisect, (width >> 1) + 1, jnp.minimum(guess.astype(jnp.uint32), width))
    t = lo + jnp.maximum(offset, 1)
    sampled = jnp.bool_(False)
    if sample is not None:  # sampled keys in [lo, hi]: sample[first:last]
      first, last = jnp.searchsorted(sample, lo, side='left'), jnp.searchsorted(sample, hi, side='right')
      sampled = last - first >= _SAMPLED_STEPS
      at = first + jnp.clip(jnp.round(fraction * (last - first)).astype(jnp.int32), 1, last - first - 1)
      t = jnp.where(sampled, jnp.clip(sample[jnp.minimum(at, sample.size - 1)], lo + 1, hi), t)
    count_t = _count_at_least(scores, t)
    keep_lo = count_t >= k
    new = (jnp.where(keep_lo, t, lo), jnp.where(keep_lo, count_t, count_lo),
           jnp.where(keep_lo, hi, t - 1), jnp.where(keep_lo, count_above_hi, count_t))
    halved = (new[2] - new[0]) <= (width >> 1)
    return new + (~halved & ~bisect & ~sampled,)  # a value interpolation that did not halve: bisect next

  lo, count_lo, hi, count_above_hi, _ = jax.lax.while_loop(
      open_, step, (lo, count_lo, hi, count_above_hi, jnp.bool_(False)))

  def largest_to_hi():  # a key lies in [lo, hi] (count(>= lo) >= k > count(> hi)); none in (t, hi]
    offset = lambda keys: jnp.where((keys >= lo) & (keys <= hi), keys - lo, 0).astype(jnp.int16)
    t = lo + _reduce(scores, offset, jnp.max, jnp.int16, (lo, hi)).astype(jnp.uint32)
    return t, _count_at_least(scores, t), count_above_hi

  closed = lambda: (lo, count_lo, count_above_hi)  # exact when lo == hi; with count_lo == k no tie goes
  return jax.lax.cond((lo >= hi) | (count_lo == k), closed, largest_to_hi)


def _threshold(scores: list[jax.Array], k: jax.Array):
  """``_search``'s triple over several flat float32 arrays at once (global selection), for k >= 1, from
  the whole key range; above ``_SAMPLE_MIN_SIZE`` keys a sorted sample places the candidates, so a wrong
  sample costs passes, never exactness. (A first bracket from the sample's quantiles cost two passes to
  check, and where its low end fell on a block of equal keys — a SynFlow round's pruned entries at -1 —
  the search crawled: in round 90 of VGG-16's 100, 14 passes over all the keys and 83 over the sample;
  10 over all the keys now.)"""
  total = sum(s.size for s in scores)
  sample = (jnp.sort(jnp.concatenate([sortable_keys(s[::SAMPLE_STRIDE]) for s in scores]))  # ascending
            if total >= _SAMPLE_MIN_SIZE else None)
  return _search(scores, k, jnp.uint32(0), jnp.int32(total), jnp.uint32(_ALL_ONES), jnp.int32(0), sample)


def _position_of_tie(flat: list[jax.Array], threshold: jax.Array, index: jax.Array) -> jax.Array:
  """The global position (arrays concatenated in order) of tie number ``index`` (0-based, by position) among
  the entries whose key is ``threshold``; there are more than ``index``. One pass counts the ties of every
  row of ``_CHUNK`` entries (a tail is a row of its own); then only the row holding it is searched."""
  counts, starts = [], []  # each array's rows' tie counts; the global start of each row
  offset = 0
  for f in flat:
    whole = f.size // _CHUNK * _CHUNK
    is_tie = lambda x: (sortable_keys(x) == threshold).astype(jnp.int16)
    if whole:
      counts.append(jnp.sum(is_tie(f[:whole].reshape(-1, _CHUNK)), axis=1, dtype=jnp.int16).astype(jnp.int32))
      starts += range(offset, offset + whole, _CHUNK)
    if whole < f.size:
      counts.append(jnp.sum(is_tie(f[whole:]), dtype=jnp.int32)[None])
      starts.append(offset + whole)
    offset += f.size
  per_row = jnp.concatenate(counts)
  before = jnp.cumsum(per_row) - per_row  # ties in earlier rows
  row = jnp.sum(before + per_row <= index)  # the first row holding more than ``index`` ties so far
  start, within = jnp.asarray(np.array(starts, np.int32))[row], index - before[row]
  # Search that row: an aligned window of _CHUNK entries of the concatenation, read from the array that
  # holds it (its last window shifted back to end with the array, or the whole array when shorter).
  position, offset = jnp.int32(0), 0
  for f in flat:
    width = min(_CHUNK, f.size)
    first = jnp.clip(start - offset, 0, f.size - width)
    window = jax.lax.dynamic_slice(f, (first,), (width,))
    in_window = jnp.arange(width, dtype=jnp.int32) >= start - offset - first  # from the row's start on
    ties_so_far = jnp.cumsum((sortable_keys(window) == threshold) & in_window, dtype=jnp.int32)
    found = offset + first + jnp.argmax(ties_so_far > within).astype(jnp.int32)
    position = jnp.where((start >= offset) & (start < offset + f.size), found, position)
    offset += f.size
  return position


def top_k_masks(scores: list[jax.Array], k) -> list[jax.Array]:
  """Boolean masks keeping exactly the k largest scores across all arrays (0 <= k <= total size; a traced
  k outside is clipped). NaN ranks highest here, by its key (``masks_global`` and ``masks_layerwise``
  rank it lowest). Jitted: called eagerly, its search loops would be traced and compiled at every call."""
  if not scores:
    raise PrunejaxError('top_k_masks got no score array; pass a list of at least one.')
  total = sum(int(np.prod(np.shape(s))) for s in scores)
  if isinstance(k, (int, np.integer)) and not 0 <= k <= total:
    raise PrunejaxError(f'top_k_masks: k={k} must be in [0, {total}] (the number of scores).')
  return _top_k_masks(scores, k)


@jax.jit
def _top_k_masks(scores: list[jax.Array], k: jax.Array) -> list[jax.Array]:
  flat = [s.astype(jnp.float32).ravel() for s in scores]
  k = jnp.asarray(k, jnp.int32)
  threshold, at_least, above = _threshold(flat, jnp.maximum(k, 1))
  # Ties at the threshold are kept by position, the first k - above of them: the cut is the position of the
  # next one, searched only when some must go; with every tie kept it is past the end.
  total = sum(s.size for s in flat)
  cut = jax.lax.cond(at_least > k, lambda: _position_of_tie(flat, threshold, k - above),
                     lambda: jnp.int32(total))
  masks, offset = [], 0
  for f, s in zip(flat, scores):
    keys, positions = sortable_keys(f), offset + jnp.arange(f.size, dtype=jnp.int32)
    keep = (keys > threshold) | ((keys == threshold) & (positions < cut))
    masks.append((keep & (k > 0)).reshape(s.shape))
    offset += f.size
  return masks
