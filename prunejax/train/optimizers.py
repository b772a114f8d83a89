"""Optimizer and learning-rate schedule from the ``config.optimizer`` block (optax).

The learning rate is an injected hyperparameter (``optax.inject_hyperparams``) that the train step sets
from the examples seen, not from the optimizer's own step counter: a run whose batch size changes
(DynHP) keeps its schedule in examples, and a phase may bring its own schedule.
"""

import jax
import ml_collections
import optax

from prunejax.core.paths import select_leaves

OPTIMIZERS = ('sgd', 'adam', 'adamw')
SCHEDULES = ('constant', 'cosine', 'step')


def learning_rate_schedule(cfg: ml_collections.ConfigDict, steps_per_epoch: int,
                           num_epochs: float) -> optax.Schedule:
  """Constant, cosine or step decay (x ``decay_factor`` at each of ``decay_epochs``), after linear warm-up.

  Counted in *reference steps*: examples seen / the batch size ``steps_per_epoch`` was computed with.
  """
  total = max(1, int(steps_per_epoch * num_epochs))
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


def make_optimizer(cfg: ml_collections.ConfigDict, trainable: str | None = None
                   ) -> optax.GradientTransformation:
  """SGD (+momentum/Nesterov), Adam or AdamW; weight decay applies to kernels only (ndim > 1), or to every
  parameter with ``decay_all``.

  The last transform scales by a ``learning_rate`` hyperparameter in the state (set it with
  ``set_learning_rate``). ``trainable`` (a regex over '/'-joined parameter paths) freezes every other
  parameter: they get no update and no optimizer state.
  """
  decay_all = cfg.get('decay_all', False)
  decay_mask = lambda params: jax.tree.map(lambda p: decay_all or p.ndim > 1, params)
  decay = [optax.add_decayed_weights(cfg.weight_decay, decay_mask)] if cfg.weight_decay else []
  if cfg.name == 'sgd':
    direction = [optax.trace(cfg.momentum, cfg.nesterov)] if cfg.momentum else []
    chain = decay + direction
  elif cfg.name == 'adam':
    chain = decay + [optax.scale_by_adam()]
  else:
    chain = [optax.scale_by_adam()] + decay
  lr = optax.inject_hyperparams(optax.scale_by_learning_rate)(learning_rate=float(cfg.learning_rate))
  optimizer = optax.chain(*chain, lr)
  return optimizer if trainable is None else freeze_all_but(optimizer, trainable)


def freeze_all_but(optimizer: optax.GradientTransformation, trainable: str) -> optax.GradientTransformation:
  """``optimizer`` on the parameters whose path matches ``trainable``; the others get a zero update and
  no state. ``optimizer`` sees the trainable leaves with ``optax.MaskedNode`` in place of the rest."""
  labels = lambda params: jax.tree.map(lambda f: 'train' if f else 'freeze',
                                       select_leaves(params, trainable, r'$^'))
  return optax.multi_transform({'train': optimizer, 'freeze': optax.set_to_zero()}, labels)


def set_learning_rate(opt_state, learning_rate):
  """``opt_state`` with its injected learning rate replaced (inside jit: a traced scalar)."""
  return optax.tree_utils.tree_set(opt_state, learning_rate=learning_rate)
