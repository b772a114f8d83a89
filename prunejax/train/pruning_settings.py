"""``config.pruning``: unstructured pruning — which weights, how many, scored how, on what schedule."""

import dataclasses
import re
from typing import ClassVar

from prunejax import core
from prunejax.settings import Settings, setting

SCHEDULED = ('magnitude',)  # pruned during training on a schedule; every other scorer prunes at init
# BatchNorm while the data scorers (SNIP, GraSP) take their gradients: 'train' normalises with the score
# batch's statistics, as the first training step will; 'eval' uses the running statistics (at
# initialisation mean 0, variance 1: BatchNorm is then nearly the identity), as the SynFlow authors'
# reference code does. SynFlow itself always runs in eval mode (its input is a single all-ones example).
SCORE_MODES = ('train', 'eval')
SYNFLOW_LOOPS = ('auto', 'xla', 'host')  # SynFlow's rounds: one XLA while loop, or one host step each


@dataclasses.dataclass(frozen=True)
class PruningSettings(Settings):
  block: ClassVar[str] = 'config.pruning'

  method: str = setting('none', 'none (dense), magnitude (scheduled) or a PaI scorer',
                        choices=lambda: ('none',) + core.SCORERS.names())
  sparsity: float = setting(0.0, 'fraction of the prunable weights removed', low=0, high=1, high_open=True)
  scope: str = setting('global', 'one threshold over all layers, or one per layer', choices=core.SCOPES)
  distribution: str = setting('uniform', 'layerwise only: how sparsity is spread', choices=core.DISTRIBUTIONS)
  per_layer: dict = setting({}, 'layerwise: {path regex: sparsity} overrides')
  schedule: str = setting('one_shot', 'magnitude only: when masks are refreshed', choices=core.SCHEDULES)
  begin_step: int = setting(0, 'first refresh (optimizer steps)', low=0)
  end_step: int = setting(0, 'last refresh (optimizer steps)', low=0)
  update_every: int = setting(100, 'steps between refreshes', low=1)
  include: str = setting(core.DEFAULT_INCLUDE, "prunable leaves: regex over '/'-joined parameter paths")
  exclude: str = setting(core.DEFAULT_EXCLUDE, '... minus these (the output layer stays dense)')
  score_batch_per_class: int = setting(10, 'PaI: examples per class in the score batch', low=1)
  synflow_rounds: int = setting(100, 'SynFlow: pruning rounds (exponential schedule)', low=1)
  synflow_precision: str = setting('auto', 'float64 | scaled_float32 | auto (float64 on CPU/GPU, scaled on TPU)',
                                   choices=('auto',) + core.SYNFLOW_PRECISIONS)
  synflow_loop: str = setting('auto', 'xla (one compiled loop) | host (a step per round) | auto',
                              choices=SYNFLOW_LOOPS)
  grasp_temperature: float = setting(200.0, 'GraSP: softmax temperature', low=0, low_open=True)
  grasp_prune: str = setting('highest', 'GraSP removes the highest -θ⊙Hg (the paper) or the lowest',
                             choices=('highest', 'lowest'))
  grasp_over: str = setting('prunable', 'GraSP: g and Hg over the prunable kernels (reference code) or all',
                            choices=('prunable', 'all'))
  score_mode: str = setting('train', 'BatchNorm while SNIP/GraSP score: batch statistics or running ones',
                            choices=SCORE_MODES)

  def check(self) -> None:
    if self.method == 'none':
      if self.sparsity:
        raise self.error('sparsity', 'has no effect with pruning.method=none; set pruning.method (magnitude, '
                         'snip, ...) or leave sparsity at 0.')
      return
    if not self.sparsity and not any(dict(self.per_layer).values()):
      raise self.error('sparsity', f'prunes nothing with pruning.method={self.method}; set a sparsity in (0, 1) '
                       '(e.g. 0.9) or pruning.method=none.')
    for field in ('include', 'exclude'):
      try:
        re.compile(getattr(self, field))
      except re.error as e:
        raise self.error(field, f'is not a regular expression ({e}); fix the pattern.') from None
    if self.scope == 'global' and (self.distribution != 'uniform' or self.per_layer):
      raise self.error('per_layer' if self.per_layer else 'distribution',
                       "applies to scope=layerwise (now scope='global', where one threshold decides each "
                       "layer's share); set scope=layerwise or leave it out.")
    if self.method not in SCHEDULED and (self.begin_step != 0 or self.schedule != 'one_shot'):
      raise self.error('method', 'prunes at initialisation: set schedule=one_shot and begin_step=0 (use '
                       'magnitude to prune during training).')
    core.PruningSchedule(self.schedule, self.sparsity, self.begin_step, self.end_step, self.update_every)
