"""``config.small_dense``: the control that trains a pruning run's final widths from scratch."""

import dataclasses
from typing import ClassVar

from prunejax.settings import Settings, setting


@dataclasses.dataclass(frozen=True)
class SmallDenseSettings(Settings):
  block: ClassVar[str] = 'config.small_dense'
  example: ClassVar[str] = 'prunejax/reproductions/dynhp.py'

  widths_from: str = setting('', 'the --workdir of a finished pruning run whose final widths the network '
                             'takes (the DynHP reproduction sets it)')
