"""The largest batch whose compiled step fits a byte budget: DynHP's dynamic batch sizing, where memory
freed by removing neurons is spent on bigger batches."""

from collections.abc import Callable

from prunejax.errors import PrunejaxError


def largest_batch_within(budget_bytes: int, bytes_at: Callable[[int], int], multiple: int = 1,
                         limit: int = 1 << 16) -> int:
  """Largest multiple of ``multiple`` (at most ``limit``) with ``bytes_at(batch) <= budget_bytes``.

  ``bytes_at`` is e.g. the compiled bytes of one training step (``train.update_step_bytes``), assumed
  non-decreasing in the batch size; each call is a compile, so the search first extrapolates the
  (nearly affine) cost from batches of 1 and 2 ``multiple``s, then checks and brackets the guess:
  a handful of calls when the cost is affine, O(log) otherwise.
  """
  seen: dict[int, int] = {}

  def fits(units: int) -> bool:
    if units not in seen:
      seen[units] = bytes_at(units * multiple)
    return seen[units] <= budget_bytes

  top = max(limit // multiple, 1)
  if not fits(1):
    raise PrunejaxError(f'even a batch of {multiple} needs {seen[1]:,} bytes, over the budget of '
                        f'{budget_bytes:,}; raise the budget or shrink the model.')
  low, high = 1, None  # low fits; high (once known) does not
  if top >= 2 and fits(2):
    low = 2
    slope = max(seen[2] - seen[1], 1)
    guess = min(top, 2 + (budget_bytes - seen[2]) // slope)
    if guess > low:
      if fits(guess):
        low = guess
      else:
        high = guess
  elif top >= 2:
    high = 2
  step = 1
  while high is None and low < top:  # grow past the guess until something does not fit
    probe = min(top, low + step)
    if fits(probe):
      low, step = probe, step * 2
    else:
      high = probe
  while high is not None and high - low > 1:
    middle = (low + high) // 2
    if fits(middle):
      low = middle
    else:
      high = middle
  return low * multiple
