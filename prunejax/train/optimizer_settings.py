"""``config.optimizer``: the optax optimizer and its learning-rate schedule."""

import dataclasses
from typing import ClassVar

from prunejax.settings import Settings, setting

OPTIMIZERS = ('sgd', 'adam', 'adamw')
SCHEDULES = ('constant', 'cosine', 'step')


@dataclasses.dataclass(frozen=True)
class OptimizerSettings(Settings):
  block: ClassVar[str] = 'config.optimizer'

  name: str = setting('sgd', 'the optax optimizer', choices=OPTIMIZERS)
  learning_rate: float = setting(0.05, 'the peak learning rate (e.g. 0.1 for SGD, 1e-3 for Adam)',
                                 low=0, low_open=True)
  momentum: float = setting(0.9, 'SGD momentum', low=0, high=1, high_open=True)
  nesterov: bool = setting(True, 'SGD: Nesterov momentum')
  weight_decay: float = setting(1e-4, 'decoupled for adamw, added to the gradient otherwise', low=0)
  decay_all: bool = setting(False, 'weight decay on every parameter (biases, BatchNorm: as torch.optim.SGD '
                                   'does); False: kernels only')
  schedule: str = setting('cosine', 'the learning rate over training, after warm-up', choices=SCHEDULES)
  warmup_epochs: float = setting(0.0, 'linear warm-up from 0, in epochs', low=0)
  decay_epochs: tuple[float, ...] = setting((), "schedule='step': epochs at which the rate decays", low=0)
  decay_factor: float = setting(0.1, "schedule='step': factor applied at each decay epoch",
                                low=0, low_open=True, high=1)

  def check(self) -> None:
    """Fields the chosen optimizer or schedule would ignore are refused, not dropped silently."""
    default = lambda field: type(self).__dataclass_fields__[field].default
    if self.name != 'sgd' and self.momentum != default('momentum'):  # (nesterov, a flag of sgd's, is let be)
      raise self.error('momentum', f"applies to name='sgd' ({self.name} keeps its own moment estimates); "
                                   f"leave it at {default('momentum')!r} or use sgd.")
    if self.schedule != 'step':
      for field in ('decay_epochs', 'decay_factor'):
        if getattr(self, field) != default(field):
          raise self.error(field, f"applies to schedule='step' (schedule={self.schedule!r}); set "
                                  f'schedule=step or leave it at {default(field)!r}.')
