"""The largest batch whose compiled step fits a byte budget: DynHP's dynamic batch sizing, where memory
freed by removing neurons is spent on bigger batches."""

from collections.abc import Callable

from prunejax.errors import PrunejaxError

ALIGNMENT_BYTES = 64  # XLA pads buffers to this: an affine cost's probes may stray from the line by it


def largest_batch_within(budget_bytes: int, bytes_at: Callable[[int], int], multiple: int = 1,
                         limit: int = 1 << 16, hint: int | None = None, affine: bool = False) -> int:
  """Largest multiple of ``multiple`` (at most ``limit``) with ``bytes_at(batch) <= budget_bytes``.

  ``bytes_at`` is e.g. the compiled bytes of one training step (``train.update_step_bytes``), assumed
  non-decreasing in the batch size. Each call is a compile, so the search uses few: secant steps on the
  nearly affine cost from ``hint`` (a batch near the answer, e.g. the current one) and twice it, then a
  check of the neighbour and, only if the cost bends, bisection.

  ``affine``: the caller vouches that every extra example adds about the line's slope, with no flat steps
  (XLA's CPU backend pads no batch dimension: ResNet-20's step is affine to an alignment). The neighbour is
  then not compiled where the answer's bytes plus the slope of the line through the other probes exceed
  the budget by more than that line's error at the answer. A backend that pads the batch (a TPU's tiles)
  has flat steps, where the neighbour may cost what the answer does: leave it False there.
  """
  seen: dict[int, int] = {}
  top = max(limit // multiple, 1)

  def cost(units: int) -> int:
    if units not in seen:
      seen[units] = bytes_at(units * multiple)
    return seen[units]

  fits = lambda units: cost(units) <= budget_bytes
  start = min(top, max(1, (hint or multiple) // multiple))
  if not fits(start):
    if start == 1 or not fits(1):
      raise PrunejaxError(f'even a batch of {multiple} needs {cost(1):,} bytes, over the budget of '
                          f'{budget_bytes:,}; raise the budget or shrink the model.')
  if top > 1:
    cost(min(top, max(2, 2 * start)))
  for _ in range(4):  # secant steps from the largest fitting probe
    low = max(u for u in seen if seen[u] <= budget_bytes)
    ends = sorted(seen)
    slope = (seen[ends[-1]] - seen[ends[0]]) / (ends[-1] - ends[0]) if len(ends) > 1 else 0.0
    if low == top or slope <= 0:
      break
    guess = min(top, low + int((budget_bytes - seen[low]) // slope))
    if guess in seen:
      break
    cost(guess)
  low = max(u for u in seen if seen[u] <= budget_bytes)
  high = min((u for u in seen if u > low and seen[u] > budget_bytes), default=None)
  if low < top and high != low + 1:  # the secant's answer is usually exact: check its neighbour
    if affine and _line_puts_over(seen, low, budget_bytes):
      high = low + 1
    elif fits(low + 1):
      low, high = low + 1, (high if high is not None and high > low + 1 else None)
    else:
      high = low + 1
  step = 2
  while high is None and low < top:  # the cost bends below the line: grow until something fails
    low = max(u for u in seen if seen[u] <= budget_bytes)
    probe = min(top, low + step)
    high, step = (None if fits(probe) else probe), step * 2
    if probe == top and high is None:
      low = top
  while high is not None and high - low > 1:
    middle = (low + high) // 2
    if fits(middle):
      low = middle
    else:
      high = middle
  return low * multiple


def _line_puts_over(seen: dict[int, int], low: int, budget_bytes: int) -> bool:
  """Whether ``low + 1`` is over the budget when its cost is ``seen[low]`` plus the slope of the line through
  the outermost probes other than ``low``, by more than that line's error at ``low`` plus an alignment."""
  others = sorted(u for u in seen if u != low)
  if len(others) < 2:
    return False
  first, last = others[0], others[-1]
  slope = (seen[last] - seen[first]) / (last - first)
  error = abs(seen[low] - (seen[first] + slope * (low - first))) + ALIGNMENT_BYTES
  return slope > 0 and seen[low] + slope - budget_bytes > error
