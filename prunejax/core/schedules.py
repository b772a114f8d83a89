"""Pruning schedules: the target sparsity as a pure function of the step, and when masks refresh."""

import dataclasses

import jax.numpy as jnp

from prunejax.errors import PrunejaxError

SCHEDULES = ('one_shot', 'iterative', 'polynomial')


@dataclasses.dataclass(frozen=True)
class PruningSchedule:
  """``kind`` in SCHEDULES; refreshes at ``begin_step`` and every ``update_every`` steps until ``end_step``.

  - one_shot: the full ``sparsity`` at ``begin_step``, once.
  - iterative: each refresh removes the same fraction of what remains, reaching ``sparsity`` at the
    last refresh (at or before ``end_step``).
  - polynomial (Zhu & Gupta 2017): s_t = s (1 - (1 - (t - begin)/(end - begin))^3), evaluated at
    each refresh (every ``update_every`` steps), the last refresh reaching ``sparsity``.
  """
  kind: str
  sparsity: float
  begin_step: int = 0
  end_step: int = 0
  update_every: int = 1

  def __post_init__(self):
    if self.kind not in SCHEDULES:
      raise PrunejaxError(f'unknown pruning schedule {self.kind!r}; choose one of {SCHEDULES}.')
    if self.begin_step < 0 or self.update_every < 1:
      raise PrunejaxError(f'pruning begin_step={self.begin_step} must be >= 0 and update_every='
                          f'{self.update_every} >= 1.')
    if self.kind != 'one_shot' and self.end_step <= self.begin_step:
      raise PrunejaxError(f'pruning schedule {self.kind!r} needs begin_step < end_step (got {self.begin_step} '
                          f'and {self.end_step}): it would prune nothing before the last refresh; set '
                          'config.pruning.begin_step/end_step (steps) or use schedule=one_shot.')

  @property
  def num_refreshes(self) -> int:
    if self.kind == 'one_shot':
      return 1
    return (self.end_step - self.begin_step) // self.update_every + 1

  @property
  def last_refresh_step(self) -> int:
    """The step of the refresh that reaches ``sparsity``."""
    return self.begin_step + (self.num_refreshes - 1) * self.update_every

  def is_refresh_step(self, step):
    """True (traced bool) when masks are recomputed at ``step``."""
    step = jnp.asarray(step)
    if self.kind == 'one_shot':
      return step == self.begin_step
    offset = step - self.begin_step
    return (offset >= 0) & (offset % self.update_every == 0) & (step <= self.end_step)

  def sparsity_at(self, step):
    """Target sparsity in force after the refresh at ``step`` (traced float32)."""
    step = jnp.asarray(step, jnp.float32)
    target = jnp.float32(self.sparsity)
    if self.kind == 'one_shot':
      return jnp.where(step >= self.begin_step, target, 0.0)
    refreshes_done = jnp.clip(jnp.floor((step - self.begin_step) / self.update_every) + 1, 0,
                              self.num_refreshes)
    if self.kind == 'iterative':
      keep_per_refresh = (1.0 - target) ** (1.0 / self.num_refreshes)
      return 1.0 - keep_per_refresh ** refreshes_done
    # Progress counts refreshes, so the last refresh reaches the full target exactly (a single refresh:
    # the full target at once).
    progress = (refreshes_done - 1) / (self.num_refreshes - 1) if self.num_refreshes > 1 else 1.0
    return jnp.where(refreshes_done > 0, target * (1.0 - (1.0 - progress) ** 3), 0.0)
