"""A run's compiled functions, each built once per key: train steps (per architecture, batch size, view,
optimizer, schedule and loss), evaluation steps (per architecture) and the compiled step's bytes."""

import collections
import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import optax

from prunejax import data as data_lib
from prunejax.train import sharding
from prunejax.train.device_data import DeviceData
from prunejax.train.memory import update_step_bytes
from prunejax.train.state import ModelDefs, TrainState
from prunejax.train.steps import Loss, make_eval_step, make_train_step, with_learning_rate


class CompiledSteps:
  """The cache; returning to a shape or setting seen before costs nothing."""

  def __init__(self, data: DeviceData, augment: bool, eval_batch_size: int, input_shape: tuple[int, ...]):
    self.data, self.augment = data, augment
    self.eval_batch_size, self.input_shape = eval_batch_size, input_shape
    self.compiles: collections.Counter = collections.Counter()  # train steps per (architecture, batch)
    self._train: dict[tuple, Any] = {}
    self._eval: dict[Any, Callable] = {}
    self._bytes: dict[tuple, int] = {}

  def batch_rows(self, rows: np.ndarray):
    """Host rows of a global batch (indices, weights) as a step takes them: numpy in one process (jit puts
    them on the batch sharding itself, at a sixth of ``device_put``'s cost), a global array across
    processes."""
    return rows if jax.process_count() == 1 else jax.device_put(rows, sharding.batch_sharded(self.data.mesh))

  def _device_shardings(self, replicated_arguments: int) -> dict:
    """jit's ``in_shardings`` for a device-pipeline step: the leading arguments replicated, the last (the
    batch's rows) sharded; none when streaming (the batch arrives sharded)."""
    mesh = self.data.mesh
    if self.data.streaming:
      return {}
    return {'in_shardings': (sharding.replicated(mesh),) * replicated_arguments + (sharding.batch_sharded(mesh),)}

  def train_step(self, defs: ModelDefs, batch_size: int, view: data_lib.View,
                 optimizer: optax.GradientTransformation, make_learning_rate: Callable[[], Callable],
                 schedule_key: tuple, loss: Loss) -> tuple[Callable, Callable]:
    """(the jitted, donating train step, ``prime``): the step stores the next step's learning rate in
    the state; ``prime(state)`` sets the first (before a step sequence starts, resumes, or follows a
    change of network or batch). ``make_learning_rate()`` builds the schedule (called once per key),
    ``schedule_key`` identifies it. Look it up once per network and batch size, not per step: the key
    hashes the model's graph."""
    key = (defs.train, batch_size, view.name, id(optimizer), *schedule_key, id(loss))
    if key not in self._train:
      learning_rate = make_learning_rate()
      replicated = sharding.replicated(self.data.mesh)
      # Called through jit (compiled on the first call, for the shapes and shardings it is given), not
      # as an ahead-of-time ``Compiled``: jit's dispatch flattens the state in C++, the ``Compiled``
      # object's call in Python, which costs as much as a small network's whole step.
      step = jax.jit(make_train_step(defs, optimizer, self.data.mean, self.data.std, self.augment,
                                     learning_rate, loss),
                     donate_argnums=0, out_shardings=(replicated,) * 2, **self._device_shardings(3))
      prime = jax.jit(functools.partial(with_learning_rate, learning_rate=learning_rate), donate_argnums=0,
                      out_shardings=replicated)
      self._train[key] = (step, prime)
      self.compiles[(defs.train, batch_size)] += 1
    return self._train[key]

  def evaluate(self, defs: ModelDefs, state: TrainState, view: data_lib.View, split: str,
               per_class: bool = False) -> dict[str, Any]:
    """Loss and accuracy of (defs, state) on a view's split, in eval batches; compiled once per
    architecture. With ``per_class``, also ``class_correct`` and ``class_count``."""
    mesh = self.data.mesh
    if defs.eval not in self._eval:
      eval_shardings = self._device_shardings(4)
      if eval_shardings:  # (the last two arguments, indices and weights, are batch rows)
        eval_shardings['in_shardings'] += eval_shardings['in_shardings'][-1:]
      self._eval[defs.eval] = jax.jit(make_eval_step(defs, self.data.mean, self.data.std),
                                      out_shardings=sharding.replicated(mesh), **eval_shardings)
    images, labels = self.data.split(view, split)
    put = self.batch_rows
    batch_sums = []
    for indices, valid in data_lib.eval_batches(len(labels), self.eval_batch_size):
      if self.data.streaming:
        batch = (*self.data.batch(view, split, indices), None)
      else:
        batch = (images, labels, put(indices))
      batch_sums.append(self._eval[defs.eval](state.params, state.model_state, *batch, put(valid)))
    # Summed on the host in the batches' order (float32, as on the device): no device op per batch.
    totals = functools.reduce(lambda a, b: jax.tree.map(np.add, a, b), jax.device_get(batch_sums))
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
