"""A run's compiled functions, each built once per key: train steps (per architecture, batch size, view,
optimizer, schedule and loss), evaluation steps (per architecture) and the compiled step's bytes."""

import collections
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import optax

from prunejax import data as data_lib
from prunejax.train import sharding
from prunejax.train.device_data import DeviceData
from prunejax.train.memory import update_step_bytes
from prunejax.train.state import ModelDefs, TrainState
from prunejax.train.steps import Loss, make_eval_step, make_train_step


class CompiledSteps:
  """The cache; returning to a shape or setting seen before costs nothing."""

  def __init__(self, data: DeviceData, augment: bool, eval_batch_size: int, input_shape: tuple[int, ...]):
    self.data, self.augment = data, augment
    self.eval_batch_size, self.input_shape = eval_batch_size, input_shape
    self.compiles: collections.Counter = collections.Counter()  # train steps per (architecture, batch)
    self._train: dict[tuple, Any] = {}
    self._eval: dict[Any, Callable] = {}
    self._bytes: dict[tuple, int] = {}

  def train_step(self, defs: ModelDefs, state: TrainState, batch_size: int, view: data_lib.View,
                 optimizer: optax.GradientTransformation, make_learning_rate: Callable[[], Callable],
                 schedule_key: tuple, loss: Loss):
    """The jitted (donating) train step; ``make_learning_rate()`` builds the schedule it bakes in (called
    only to compile), ``schedule_key`` identifies it."""
    key = (defs.train, batch_size, view.name, id(optimizer), *schedule_key, id(loss))
    if key not in self._train:
      mesh = self.data.mesh
      step = jax.jit(make_train_step(defs, optimizer, self.data.mean, self.data.std, self.augment,
                                     make_learning_rate(), loss),
                     donate_argnums=0, out_shardings=(sharding.replicated(mesh),) * 2)
      batch = sharding.batch_sharded(mesh)
      if self.data.streaming:  # the batch itself: uint8 images and labels, sharded
        images, labels = self.data.split(view, 'train')
        arguments = (jax.ShapeDtypeStruct((batch_size,) + images.shape[1:], images.dtype, sharding=batch),
                     jax.ShapeDtypeStruct((batch_size,), labels.dtype, sharding=batch), None)
      else:  # the whole split, and the batch's indices
        indices = jax.ShapeDtypeStruct((batch_size,), jnp.int32, sharding=batch)
        arguments = (*self.data.split(view, 'train'), indices)
      self._train[key] = step.lower(state, *arguments).compile()
      self.compiles[(defs.train, batch_size)] += 1
    return self._train[key]

  def evaluate(self, defs: ModelDefs, state: TrainState, view: data_lib.View, split: str,
               per_class: bool = False) -> dict[str, Any]:
    """Loss and accuracy of (defs, state) on a view's split, in eval batches; compiled once per
    architecture. With ``per_class``, also ``class_correct`` and ``class_count``."""
    mesh = self.data.mesh
    if defs.eval not in self._eval:
      self._eval[defs.eval] = jax.jit(make_eval_step(defs, self.data.mean, self.data.std),
                                      out_shardings=sharding.replicated(mesh))
    images, labels = self.data.split(view, split)
    totals = None
    put = lambda a: jax.device_put(a, sharding.batch_sharded(mesh))
    for indices, valid in data_lib.eval_batches(len(labels), self.eval_batch_size):
      if self.data.streaming:
        batch = (*self.data.batch(view, split, indices), None)
      else:
        batch = (images, labels, put(indices))
      sums = self._eval[defs.eval](state.params, state.model_state, *batch, put(valid))
      totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
    totals = jax.device_get(totals)
    count = max(float(totals['count']), 1.0)
    result = {'loss': float(totals['loss_sum']) / count, 'accuracy': float(totals['correct']) / count}
    if per_class:
      result.update({k: [int(round(float(v))) for v in totals[k]] for k in ('class_correct', 'class_count')})
    return result

  def step_bytes(self, defs: ModelDefs, state: TrainState, batch_size: int,
                 optimizer: optax.GradientTransformation, loss: Loss) -> int:
    """XLA's compiled bytes of one update at ``batch_size``, without the dataset."""
    key = (defs.train, batch_size, id(optimizer), id(loss))
    if key not in self._bytes:
      self._bytes[key] = update_step_bytes(defs, optimizer, state, batch_size, self.input_shape, loss)
    return self._bytes[key]
