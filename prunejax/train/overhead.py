"""The runner's cost per training step against a bare jitted loop of the same step, as a user runs each.

bare: ``make_train_step`` jitted with donated state over the device-resident training split, batch
indices prepared on the device beforehand, timed in windows (median), compile excluded.
runner: ``train_and_evaluate`` of the config for 1 and for ``epochs`` epochs; the difference of their
``train_seconds`` over the difference of their steps is the steady-state step, progress, metrics,
checkpoints and validation each epoch included, the compiles and the set-up cancelled.
"""

import pathlib
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from prunejax.data import sources
from prunejax.models import create_model
from prunejax.train.optimizers import make_optimizer
from prunejax.train.state import init_train_state, split_model
from prunejax.train.steps import make_train_step


def bare_step_ms(config: ml_collections.ConfigDict, steps: int = 50, windows: int = 5) -> float:
  """Median ms per step of the plain jitted loop on ``config``'s model, optimizer, data and batch."""
  data = sources.load_dataset(config.dataset, config.get('data_dir', ''), config.get('manual_dir', ''),
                              download=False)
  defs, params, model_state = split_model(create_model(config.model, data.train_images.shape[1:],
                                                       data.num_classes, **config.get('model_kwargs', {})))
  optimizer = make_optimizer(config.optimizer)
  state = init_train_state(params, model_state, optimizer, config.seed)
  channels = data.train_images.shape[-1]
  step = jax.jit(make_train_step(defs, optimizer, jnp.zeros(channels), jnp.ones(channels), False),
                 donate_argnums=0)
  images, labels = jnp.asarray(data.train_images), jnp.asarray(data.train_labels)
  order = jax.random.permutation(jax.random.key(config.seed), len(labels))
  batch = config.batch_size
  indices = [order[(i * batch) % (len(labels) - batch):][:batch] for i in range(steps)]
  state, metrics = step(state, images, labels, indices[0])
  jax.block_until_ready((state, metrics))
  times = []
  for _ in range(windows):
    started = time.perf_counter()
    for i in indices:
      state, metrics = step(state, images, labels, i)
    jax.block_until_ready((state, metrics))
    times.append((time.perf_counter() - started) / steps * 1e3)
  return float(np.median(times))


def runner_step_ms(config: ml_collections.ConfigDict, root: pathlib.Path, epochs: int = 3) -> tuple[float, int]:
  """(ms per steady-state step of the runner, the steps it was measured over) on fresh runs under ``root``."""
  from prunejax import methods  # pylint: disable=g-import-not-at-top  # methods import the runner
  summaries = {}
  for count in (1, epochs):
    run_config = ml_collections.ConfigDict(config.to_dict())
    run_config.num_epochs = count
    summaries[count] = methods.train_and_evaluate(run_config, root / f'{config.model}_{count}_epochs')
  steps = summaries[epochs]['steps'] - summaries[1]['steps']
  return (summaries[epochs]['train_seconds'] - summaries[1]['train_seconds']) / steps * 1e3, steps
