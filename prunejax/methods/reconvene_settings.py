"""``config.reconvene``: every unknown of the Reconvene paper is a field."""

import dataclasses
from typing import ClassVar

from prunejax import core
from prunejax.settings import Settings, setting

SENSITIVITIES = ('density', 'concentration')
REINITS = ('changed', 'rescale', 'none')


@dataclasses.dataclass(frozen=True)
class ReconveneSettings(Settings):
  block: ClassVar[str] = 'config.reconvene'
  example: ClassVar[str] = 'configs/reconvene_vgg16_fashion_mnist.py'

  upai: str = setting('synflow', 'the unstructured PaI scorer', choices=core.SCORERS.names)
  sparsity: float = setting(1 - 2 ** -6, 'sparsity of the unstructured mask', low=0, high=1, high_open=True)
  # Low sensitivity = insensitive to structured pruning. density: the group's mask density over the whole
  # mask's (1 - sparsity); concentration: 1 - share of its kept weights in its top ceil(density*C) channels.
  sensitivity: str = setting('density', 'how insensitive a group is to structured pruning',
                             choices=SENSITIVITIES)
  threshold: float = setting(3.0, 'groups whose sensitivity is below this are made narrow (density: a ratio, '
                                  'e.g. 3.0; concentration: in [0, 1], e.g. 0.5) ...')
  count: int = setting(0, '... or, when > 0, the `count` least sensitive groups', low=0)
  min_channels: int = setting(16, 'a narrowed group keeps at least this many channels (fewer only if it has '
                              'fewer): at 2, LeNet-5 at s >= 0.97 keeps 2-3 units in fc1 and cannot learn', low=1)
  multiple: int = setting(1, '... and a multiple of this (8 or 16 for vector units)', low=1)
  reinit: str = setting('changed', 'changed (redraw reshaped leaves) | rescale (fan-in) | none', choices=REINITS)
  train: bool = setting(True, 'False: produce, measure and checkpoint the model without training')
  latency_rounds: int = setting(5, 'paired latency against the original: alternating rounds ...', low=1)
  latency_repeats: int = setting(20, '... of this many timed calls each (medians)', low=1)

  def check(self) -> None:
    if self.sensitivity == 'concentration' and self.threshold >= 1 and not self.count:
      raise self.error('threshold', "selects every thinned group under sensitivity='concentration', whose "
                                    'values lie in [0, 1]; set a threshold below 1 (e.g. 0.5) or a count.')
