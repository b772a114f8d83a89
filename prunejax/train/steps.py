"""Pure train and eval steps over ``TrainState``: the model is merged inside, batches gathered inside."""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from prunejax.data.pipeline import gather_batch
from prunejax.train.optimizers import set_learning_rate
from prunejax.train.state import ModelDefs, TrainState

# loss(logits, labels, x) -> per-example losses; ``x`` lets a loss look at the inputs (distillation).
Loss = Callable[[jax.Array, jax.Array, jax.Array], jax.Array]
# learning_rate(examples_seen) -> the learning rate of the next step (traced).
LearningRate = Callable[[jax.Array], jax.Array]


def cross_entropy(logits: jax.Array, labels: jax.Array, x: jax.Array | None = None) -> jax.Array:
  del x
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def apply_model(graphdef: nnx.GraphDef, params, model_state, x: jax.Array) -> jax.Array:
  """The model's output on ``x`` (the one place a split model is merged and called for inference)."""
  return nnx.merge(graphdef, params, model_state)(x)


def make_update_step(defs: ModelDefs, optimizer: optax.GradientTransformation,
                     learning_rate: LearningRate | None = None, loss: Loss = cross_entropy) -> Callable:
  """Returns ``update(state, x, y) -> (state, metrics)``: one optimizer step on a ready batch.

  The step uses the learning rate the state holds (the optimizer's injected hyperparameter). With
  ``learning_rate``, it then stores ``learning_rate(examples seen)`` for the next step; set the first
  with ``with_learning_rate``. (Setting the rate before the update instead, from the examples seen,
  made a small network's step markedly slower on CPU, with the same values.)
  """

  def update(state: TrainState, x: jax.Array, y: jax.Array):
    def loss_fn(params):
      # copy=True: BatchNorm writes its statistics into fresh Variables at this trace level.
      model = nnx.merge(defs.train, params, state.model_state, copy=True)
      logits = model(x)
      return loss(logits, y, x).mean(), (logits, nnx.state(model, nnx.Not(nnx.Param)))

    (value, (logits, model_state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    examples_seen = state.examples_seen + y.shape[0]
    if learning_rate is not None:
      opt_state = set_learning_rate(opt_state, learning_rate(examples_seen))
    new_state = state.replace(step=state.step + 1, examples_seen=examples_seen,
                              params=optax.apply_updates(state.params, updates),
                              model_state=model_state, opt_state=opt_state)
    return new_state, {'loss': value, 'accuracy': jnp.mean(jnp.argmax(logits, -1) == y)}

  return update


def with_learning_rate(state: TrainState, learning_rate: LearningRate) -> TrainState:
  """``state`` holding ``learning_rate(state.examples_seen)``: what a step built with ``learning_rate``
  uses first (jit it: the value is then the step's own arithmetic, bit for bit)."""
  return state.replace(opt_state=set_learning_rate(state.opt_state, learning_rate(state.examples_seen)))


def make_train_step(defs: ModelDefs, optimizer: optax.GradientTransformation, mean: jax.Array,
                    std: jax.Array, augment: bool, learning_rate: LearningRate | None = None,
                    loss: Loss = cross_entropy) -> Callable:
  """Returns ``train_step(state, images, labels, indices) -> (state, metrics)``; jit it where it is used.

  ``images``/``labels`` are a whole device-resident training split and ``indices`` pick the batch, or
  (``indices=None``, the streaming pipeline) they are the batch itself. The
  step's randomness (augmentation) comes from ``fold_in(state.rng, state.step)``, so it is replayable.
  """
  update = make_update_step(defs, optimizer, learning_rate, loss)

  def train_step(state: TrainState, images, labels, indices):
    key = jax.random.fold_in(state.rng, state.step)
    x, y = gather_batch(images, labels, indices, mean, std, key if augment else None)
    return update(state, x, y)

  return train_step


def make_eval_step(defs: ModelDefs, mean: jax.Array, std: jax.Array) -> Callable:
  """Returns ``eval_step(params, model_state, images, labels, indices, valid) -> sums`` (eval mode): loss,
  correct and count, in total and per class."""

  def eval_step(params, model_state, images, labels, indices, valid):
    x, y = gather_batch(images, labels, indices, mean, std)
    logits = apply_model(defs.eval, params, model_state, x)
    weight = valid.astype(jnp.float32)
    correct = (jnp.argmax(logits, -1) == y) * weight
    per_class = jax.nn.one_hot(y, logits.shape[-1])  # per-class sums: any class subset's accuracy
    return {'loss_sum': jnp.sum(cross_entropy(logits, y) * weight), 'correct': jnp.sum(correct),
            'count': jnp.sum(weight), 'class_correct': correct @ per_class, 'class_count': weight @ per_class}

  return eval_step
