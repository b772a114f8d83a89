"""Where a run is in its data: (epoch, offset) into a view's training split, independent of the batch.

Each epoch visits the split in a permutation fixed by (seed, epoch); a batch takes the next ``batch``
indices of it, and an epoch ends when fewer than a batch remain (the remainder is dropped, as with a
fixed batch size). Changing the batch size mid-run keeps the position: the cursor is data, not steps.
"""

import dataclasses
import functools

import numpy as np

from prunejax.data.pipeline import epoch_order


@dataclasses.dataclass
class Cursor:
  epoch: int = 0
  offset: int = 0  # examples of this epoch's order already used

  def position(self, num_examples: int) -> float:
    """Epochs done, fractional: epoch + offset / N."""
    return self.epoch + self.offset / num_examples

  def take(self, seed: int, num_examples: int, batch_size: int) -> tuple[np.ndarray, bool]:
    """The next batch's indices; advances; returns whether an epoch ended (after this batch, or before
    it when a bigger batch no longer fits the epoch's remainder)."""
    rolled = self.offset + batch_size > num_examples
    if rolled:
      self.epoch, self.offset = self.epoch + 1, 0
    indices = _order(seed, self.epoch, num_examples)[self.offset:self.offset + batch_size]
    self.offset += batch_size
    if self.offset + batch_size > num_examples:
      self.epoch, self.offset = self.epoch + 1, 0
      return indices, True
    return indices, rolled

  def to_json(self) -> dict:
    return {'epoch': self.epoch, 'offset': self.offset}


@functools.lru_cache(maxsize=4)
def _order(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  return epoch_order(seed, epoch, num_examples)
