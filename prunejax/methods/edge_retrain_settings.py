"""``config.edge_retrain``: the deployed network (``DeploySettings``, shared by every strategy that
names the same deployment), the device's new data and the re-training strategy."""

import dataclasses
from typing import ClassVar

from prunejax import data
from prunejax.settings import Settings, setting


@dataclasses.dataclass(frozen=True)
class DeploySettings(Settings):
  block: ClassVar[str] = 'config.edge_retrain'
  example: ClassVar[str] = 'configs/edge_retrain_lenet300_fashion_mnist.py'

  sparsity: float = setting(0.9, 'of the prunable kernels (the classifier stays dense), magnitude, one '
                            'threshold', low=0, low_open=True, high=1, high_open=True)
  prune_window: tuple[float, float] = setting((0.1, 0.6), 'gradual (cubic) pruning from/to these fractions '
                                              'of training', low=0, high=1)
  new_fraction: float = setting(0.2, 'share of the training images held back as the device\'s "new" data',
                                low=0, low_open=True, high=1, high_open=True)

  def check(self) -> None:
    if not self.prune_window[0] < self.prune_window[1]:
      raise self.error('prune_window', 'must be (begin, end) fractions of deployment training with begin < end.')


@dataclasses.dataclass(frozen=True)
class EdgeRetrainSettings(DeploySettings):
  deployed_workdir: str = setting('', "'' -> <workdir>/deployed")
  shift: str = setting('rotate', "how the device's new data differs", choices=data.SHIFTS)
  shift_strength: float = setting(20.0, 'degrees (rotate), max drop share (class_skew), x255 (brightness, '
                                  'noise)', low=0)
  new_examples: int = setting(1000, 'training images the device has', low=1)
  strategy: str = setting('finetune_fixed_mask', 'the re-training strategy (a registered name, checked by '
                          'the method)')
  steps: int = setting(300, 're-training steps', low=0)
  batch_size: int = setting(32, 're-training batch (at most new_examples)', low=1)
  learning_rate: float = setting(0.01, "constant; config.optimizer's momentum and weight decay",
                                 low=0, low_open=True)
  rehearsal_size: int = setting(250, 'rehearsal: original examples kept on the device', low=0)
  regrow_fraction: float = setting(0.5, 'regrow_reprune: dense share of the steps before re-pruning',
                                   low=0, low_open=True, high=1, high_open=True)
  last_layers: int = setting(1, 'last_layers: weight layers that train (1: the classifier)', low=0)
  distill_weight: float = setting(0.5, 'distill: weight of the teacher term', low=0, high=1)
  distill_temperature: float = setting(2.0, 'distill: softmax temperature', low=0, low_open=True)

  def check(self) -> None:
    super().check()
    if self.batch_size > self.new_examples:
      raise self.error('batch_size', f'must be at most new_examples={self.new_examples}.')
    if self.strategy == 'rehearsal' and self.rehearsal_size < 1:
      raise self.error('rehearsal_size', 'must be >= 1 for strategy=rehearsal.')
    if self.strategy == 'last_layers' and self.last_layers < 1:
      raise self.error('last_layers', 'must be >= 1 for strategy=last_layers.')
