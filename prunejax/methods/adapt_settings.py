"""``config.adapt``: ADaPT's protocol and where prunejax goes beyond it. The shared data-agnostic run
takes the subset-free part (``AgnosticSettings``); a subset's run adds the subset and mode."""

import dataclasses
from typing import ClassVar

from prunejax import structure
from prunejax.settings import Settings, setting

MODES = ('data_aware', 'data_agnostic', 'dapr')
PROTOCOLS = ('authors', 'prunejax')


@dataclasses.dataclass(frozen=True)
class AgnosticSettings(Settings):
  """What decides the data-agnostic network: pruning, retraining and the pretrained run it starts from."""
  block: ClassVar[str] = 'config.adapt'
  example: ClassVar[str] = 'configs/adapt_lenet5_fashion_mnist.py'

  protocol: str = setting('authors', "authors: their code's rules (conv filters only, p of all parameters by "
                          'their estimate, residual limits, all-class baseline epoch, their DaPR); prunejax: '
                          'every group ranked, p of the kernel weights exactly (an extension)', choices=PROTOCOLS)
  prune_percent: float = setting(50.0, 'share removed: authors, of all parameters (their estimate); prunejax, '
                                 'of the Dense/Conv kernel weights (dapr: searched)', low=0, high=100)
  criterion: str = setting('mean_abs', "mean |W_f| (the authors'); any structured criterion",
                           choices=structure.ALL_CRITERIA)
  finetune_epochs: int = setting(5, 'data-aware: epochs on the subset before pruning', low=0)
  total_epochs: int = setting(30, 'epochs in all (fine-tuning + retraining)', low=1)
  lr_before: float = setting(1e-3, 'learning rate before pruning (constant)', low=0, low_open=True)
  lr_after: float = setting(1e-2, 'after pruning, x0.1 at each of decay_epochs (epochs counted from 0)',
                            low=0, low_open=True)
  decay_epochs: tuple[float, ...] = setting((15, 25), 'epochs at which lr_after decays x0.1', low=0)
  agnostic_decay_epochs: tuple[float, ...] = setting(
      (10, 20), 'authors: the data-agnostic retraining decays x0.1 at these epochs (prunejax: decay_epochs)', low=0)
  min_channels: int = setting(2, 'prunejax: channels every group keeps (authors: 2 per plain layer, residual '
                              'chains a share set by p)', low=1)
  score_examples: int = setting(1024, 'data criteria only: subset images scored', low=1)
  pretrained_workdir: str = setting('', "a dense run of this model and dataset; '' -> <workdir>/pretrained")

  def check(self) -> None:
    if self.finetune_epochs >= self.total_epochs:
      raise self.error('finetune_epochs', f'must be below total_epochs={self.total_epochs}.')
    if self.protocol == 'authors' and self.criterion != 'mean_abs':
      raise self.error('criterion', "is mean_abs in the authors' protocol; other criteria need protocol='prunejax'.")
    if self.protocol == 'authors' and self.min_channels != 2:
      raise self.error('min_channels', "applies to protocol='prunejax'; the authors keep 2 per plain layer and a "
                       'p-proportional share of residual chains.')


@dataclasses.dataclass(frozen=True)
class AdaptSettings(AgnosticSettings):
  """One subset's ADaPT run."""
  mode: str = setting('data_aware', 'data_aware | data_agnostic | dapr (the smallest model that keeps '
                      'accuracy)', choices=MODES)
  subset: str | tuple = setting('tops', "tops {0,2,4,6} | footwear {5,7,9} | random<k> | '1,3,8' | a tuple")
  agnostic_workdir: str = setting('', "the shared data-agnostic run of this p; '' -> <workdir>/agnostic")
  remap: bool = setting(False, "data_aware/dapr: cut the classifier to the subset's classes (a k-way head) "
                        'before fine-tuning; False keeps every class as the authors do')

  def check(self) -> None:
    super().check()
    if self.mode != 'dapr' and not 0 < self.prune_percent < 100:
      raise self.error('prune_percent', 'must be in (0, 100).')
    if self.remap and self.protocol == 'authors':
      raise self.error('remap', "is prunejax's extension (the authors keep every class): set protocol='prunejax'.")
    if self.remap and self.mode == 'data_agnostic':
      raise self.error('remap', 'applies to data_aware and dapr; data_agnostic trains on all classes: set '
                       'remap=False.')
