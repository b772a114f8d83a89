"""Pure train and eval steps over ``TrainState``: the model is merged inside, batches gathered inside."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from prunejax.data.pipeline import gather_batch
from prunejax.train.state import ModelDefs, TrainState


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def make_update_step(defs: ModelDefs, optimizer: optax.GradientTransformation) -> Callable:
  """Returns ``update(state, x, y) -> (state, metrics)``: one optimizer step on a ready batch."""

  def update(state: TrainState, x: jax.Array, y: jax.Array):
    def loss_fn(params):
      # copy=True: BatchNorm writes its statistics into fresh Variables at this trace level.
      model = nnx.merge(defs.train, params, state.model_state, copy=True)
      logits = model(x)
      return cross_entropy(logits, y).mean(), (logits, nnx.state(model, nnx.Not(nnx.Param)))

    (loss, (logits, model_state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    new_state = state.replace(step=state.step + 1, params=optax.apply_updates(state.params, updates),
                              model_state=model_state, opt_state=opt_state)
    return new_state, {'loss': loss, 'accuracy': jnp.mean(jnp.argmax(logits, -1) == y)}

  return update


def make_train_step(defs: ModelDefs, optimizer: optax.GradientTransformation, mean: jax.Array,
                    std: jax.Array, augment: bool) -> Callable:
  """Returns ``train_step(state, images, labels, indices) -> (state, metrics)``; jit it where it is used.

  ``images``/``labels`` are the whole device-resident training split; ``indices`` pick the batch. The
  step's randomness (augmentation) comes from ``fold_in(state.rng, state.step)``, so it is replayable.
  """
  update = make_update_step(defs, optimizer)

  def train_step(state: TrainState, images, labels, indices):
    key = jax.random.fold_in(state.rng, state.step)
    x, y = gather_batch(images, labels, indices, mean, std, key if augment else None)
    return update(state, x, y)

  return train_step


def make_eval_step(defs: ModelDefs, mean: jax.Array, std: jax.Array) -> Callable:
  """Returns ``eval_step(params, model_state, images, labels, indices, valid) -> sums`` (eval mode)."""

  def eval_step(params, model_state, images, labels, indices, valid):
    x, y = gather_batch(images, labels, indices, mean, std)
    logits = nnx.merge(defs.eval, params, model_state)(x)
    weight = valid.astype(jnp.float32)
    return {'loss_sum': jnp.sum(cross_entropy(logits, y) * weight),
            'correct': jnp.sum((jnp.argmax(logits, -1) == y) * weight), 'count': jnp.sum(weight)}

  return eval_step
