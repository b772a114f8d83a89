"""``config.edge``: how a run's network is measured for an edge device."""

import dataclasses
from typing import ClassVar

from prunejax.settings import Settings, setting


@dataclasses.dataclass(frozen=True)
class EdgeSettings(Settings):
  block: ClassVar[str] = 'config.edge'

  threads: int = setting(2, 'CPU threads for latency in scripts/profile.py (0: no limit)', low=0)
  batch_sizes: tuple[int, ...] = setting((1, 64), 'batch sizes at which latency is measured', low=1)
