"""Optimizer and learning-rate schedule from the ``config.optimizer`` block (optax)."""

import jax
import ml_collections
import optax

OPTIMIZERS = ('sgd', 'adam', 'adamw')
SCHEDULES = ('constant', 'cosine', 'step')


def learning_rate_schedule(cfg: ml_collections.ConfigDict, steps_per_epoch: int,
                           num_epochs: int) -> optax.Schedule:
  """Constant, cosine or step decay (x ``decay_factor`` at each of ``decay_epochs``), after linear warm-up."""
  total = max(1, steps_per_epoch * num_epochs)
  warmup = int(cfg.get('warmup_epochs', 0) * steps_per_epoch)
  if cfg.schedule == 'constant':
    main = optax.constant_schedule(cfg.learning_rate)
  elif cfg.schedule == 'cosine':
    main = optax.cosine_decay_schedule(cfg.learning_rate, max(1, total - warmup))
  else:
    boundaries = {int(e * steps_per_epoch) - warmup: cfg.decay_factor for e in cfg.decay_epochs}
    main = optax.piecewise_constant_schedule(cfg.learning_rate, boundaries)
  if warmup == 0:
    return main
  return optax.join_schedules([optax.linear_schedule(0.0, cfg.learning_rate, warmup), main], [warmup])


def make_optimizer(cfg: ml_collections.ConfigDict, steps_per_epoch: int,
                   num_epochs: int) -> optax.GradientTransformation:
  """SGD (+momentum/Nesterov), Adam or AdamW; weight decay applies to kernels only (ndim > 1)."""
  schedule = learning_rate_schedule(cfg, steps_per_epoch, num_epochs)
  decay_mask = lambda params: jax.tree.map(lambda p: p.ndim > 1, params)
  if cfg.name == 'adamw':
    return optax.adamw(schedule, weight_decay=cfg.weight_decay, mask=decay_mask)
  if cfg.name == 'sgd':
    inner = optax.sgd(schedule, momentum=cfg.momentum or None, nesterov=cfg.nesterov)
  else:
    inner = optax.adam(schedule)
  if cfg.weight_decay:
    return optax.chain(optax.add_decayed_weights(cfg.weight_decay, decay_mask), inner)
  return inner
