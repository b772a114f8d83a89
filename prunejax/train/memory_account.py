"""A run's training-memory account: the peak and the examples-weighted mean of its compiled step bytes,
saved with each checkpoint (DynHP's memory figures; any run's summary)."""

import dataclasses


@dataclasses.dataclass
class MemoryAccount:
  peak_step_bytes: int = 0
  byte_examples: int = 0
  examples: int = 0

  def add(self, step_bytes: int, batch: int) -> None:
    """One step of ``batch`` examples whose compiled step takes ``step_bytes``."""
    self.peak_step_bytes = max(self.peak_step_bytes, step_bytes)
    self.byte_examples += step_bytes * batch
    self.examples += batch

  def mean_step_bytes(self) -> float:
    """The compiled step bytes averaged over the examples trained so far."""
    return self.byte_examples / max(self.examples, 1)

  def to_json(self) -> dict:
    return dataclasses.asdict(self)
