"""The training loop: data, model, jitted steps, evaluation, logging, checkpoints, the results contract."""

import functools
import json
import pathlib
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import tqdm
from flax import nnx

from prunejax import data as data_lib
from prunejax import core, edge
from prunejax.errors import PrunejaxError
from prunejax.models import create_model
from prunejax.train import sharding
from prunejax.train.checkpoints import Checkpointer
from prunejax.train.config_check import check_config
from prunejax.train.memory import update_step_bytes
from prunejax.train.metrics_log import MetricsLog
from prunejax.train.optimizers import make_optimizer
from prunejax.train.pruning import Pruning, measured_sparsity
from prunejax.train.state import ModelDefs, TrainState, init_train_state, split_model
from prunejax.train.steps import make_eval_step, make_train_step

# Config fields that fix a run's trajectory: a checkpoint written with others cannot be resumed.
FINGERPRINT_FIELDS = ('model', 'model_kwargs', 'dataset', 'classes', 'remap_labels', 'validation_fraction',
                      'augment', 'batch_size', 'seed', 'num_epochs', 'optimizer', 'pruning')


def fingerprint(config: ml_collections.ConfigDict) -> dict[str, Any]:
  return {k: (config[k].to_dict() if isinstance(config[k], ml_collections.ConfigDict) else config[k])
          for k in FINGERPRINT_FIELDS}


class Experiment:
  """One training run's pieces (data on device, model, optimizer with pruning, jitted steps), built from
  a config; ``train_and_evaluate`` drives it, benchmarks and tests use the pieces directly."""

  def __init__(self, config: ml_collections.ConfigDict):
    check_config(config)
    self.config = config
    self.mesh = sharding.data_mesh(config.num_devices)
    sharding.check_batch_divisible(config.batch_size, self.mesh)
    sharding.check_batch_divisible(config.eval_batch_size, self.mesh, 'config.eval_batch_size')
    arrays = data_lib.load_dataset(config.dataset, config.data_dir, config.manual_dir, config.download)
    self.splits = data_lib.make_splits(arrays, config.validation_fraction, config.classes,
                                       config.remap_labels)
    self.steps_per_epoch = len(self.splits.train) // config.batch_size
    if self.steps_per_epoch == 0:
      raise PrunejaxError(
          f'config.batch_size={config.batch_size} exceeds the {len(self.splits.train)} training examples.')
    self.total_steps = self.steps_per_epoch * config.num_epochs
    model = create_model(config.model, self.splits.input_shape, self.splits.num_classes, config.seed,
                         **config.model_kwargs.to_dict())
    self.defs, params, model_state = split_model(model)
    self.optimizer = make_optimizer(config.optimizer, self.steps_per_epoch, config.num_epochs)
    self.pruning = None
    if config.pruning.method != 'none':
      self.pruning = Pruning(config.pruning, self.defs, params, model_state, self.splits, config.seed)
      self.optimizer = self.pruning.wrap(self.optimizer)
      params = core.apply_masks(params, self.pruning.initial_masks)
    self.initial_state = init_train_state(params, model_state, self.optimizer, config.seed)
    put = lambda tree: jax.device_put(tree, sharding.replicated(self.mesh))
    self.device_splits = {name: put((split.images, split.labels)) for name, split in
                          (('train', self.splits.train), ('validation', self.splits.validation),
                           ('test', self.splits.test))}
    self.mean, self.std = jnp.asarray(self.splits.mean), jnp.asarray(self.splits.std)
    replicated = sharding.replicated(self.mesh)
    self.train_step = jax.jit(make_train_step(self.defs, self.optimizer, self.mean, self.std, config.augment),
                              donate_argnums=0, out_shardings=(replicated, replicated))
    self.eval_step = jax.jit(make_eval_step(self.defs, self.mean, self.std), out_shardings=replicated)
    self.apply_eval = functools.partial(_apply, self.defs.eval)

  def batch_indices(self, step: int) -> jax.Array:
    """The indices of training step ``step``: its slice of the epoch's permutation, sharded."""
    epoch, position = divmod(step, self.steps_per_epoch)
    order = _epoch_order(self.config.seed, epoch, len(self.splits.train))
    indices = order[position * self.config.batch_size:(position + 1) * self.config.batch_size]
    return jax.device_put(indices, sharding.batch_sharded(self.mesh))

  def evaluate(self, state: TrainState, split: str, defs: ModelDefs | None = None) -> dict[str, float]:
    """Loss and accuracy on a split; ``defs`` evaluate a state of another (e.g. shrunk) architecture."""
    eval_step = self.eval_step
    if defs is not None:
      eval_step = jax.jit(make_eval_step(defs, self.mean, self.std),
                          out_shardings=sharding.replicated(self.mesh))
    images, labels = self.device_splits[split]
    totals = None
    for indices, valid in data_lib.eval_batches(len(labels), self.config.eval_batch_size):
      put = lambda a: jax.device_put(a, sharding.batch_sharded(self.mesh))
      sums = eval_step(state.params, state.model_state, images, labels, put(indices), put(valid))
      totals = sums if totals is None else jax.tree.map(jnp.add, totals, sums)
    totals = jax.device_get(totals)
    count = max(float(totals['count']), 1.0)
    return {'loss': float(totals['loss_sum']) / count, 'accuracy': float(totals['correct']) / count}

  def batches(self, split: str, num_examples: int, batch_size: int, seed: int = 0):
    """``num_examples`` normalised examples of a split as (x, y) batches, in a seeded random order."""
    images, labels = self.device_splits[split]
    order = np.random.default_rng(seed).permutation(len(labels))[:num_examples]
    return [data_lib.gather_batch(images, labels, jnp.asarray(order[i:i + batch_size]), self.mean, self.std)
            for i in range(0, len(order), batch_size)]

  def put_state(self, state: TrainState) -> TrainState:
    return jax.device_put(state, sharding.replicated(self.mesh))

  def measure(self, state: TrainState) -> dict[str, Any]:
    """Edge profile (parameters, FLOPs, inference memory and latency), measured sparsity, step bytes.

    The step's bytes are those of the update on one batch (state + batch + temporaries), without the
    device-resident dataset, which is a property of the input pipeline rather than of the model.
    """
    pruning_cfg = self.config.pruning
    profile = edge.profile_model(self.apply_eval, state.params, state.model_state, self.splits.input_shape,
                                 tuple(self.config.edge.batch_sizes), repeats=5)
    return {
        **profile, **measured_sparsity(state.params, pruning_cfg.include, pruning_cfg.exclude),
        'train_step_bytes': update_step_bytes(self.defs, self.optimizer, state, self.config.batch_size,
                                              self.splits.input_shape),
    }


def _apply(graphdef: nnx.GraphDef, params, model_state, x):
  return nnx.merge(graphdef, params, model_state)(x)


@functools.lru_cache(maxsize=2)
def _epoch_order(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  return data_lib.epoch_order(seed, epoch, num_examples)


def load_trained(config: ml_collections.ConfigDict, workdir: str | pathlib.Path
                 ) -> tuple[Experiment, TrainState]:
  """The experiment and its final training state: trains first (resuming) unless ``workdir`` has it."""
  exp = Experiment(config)
  checkpointer = Checkpointer(pathlib.Path(workdir) / 'checkpoints', config.checkpoint_every_steps)
  if checkpointer.latest_step() != exp.total_steps:
    checkpointer.close()
    train_and_evaluate(config, workdir)
    checkpointer = Checkpointer(pathlib.Path(workdir) / 'checkpoints', config.checkpoint_every_steps)
  state, _ = checkpointer.restore(jax.eval_shape(lambda: exp.initial_state), fingerprint(config))
  checkpointer.close()
  return exp, exp.put_state(state)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str | pathlib.Path) -> dict[str, Any]:
  """Trains (resuming from ``workdir/checkpoints`` if present), evaluates, writes the results contract.

  Returns the summary that is also written to ``workdir/summary.json``.
  """
  workdir = pathlib.Path(workdir)
  workdir.mkdir(parents=True, exist_ok=True)
  exp = Experiment(config)
  checkpointer = Checkpointer(workdir / 'checkpoints', config.checkpoint_every_steps)
  run_fingerprint = fingerprint(config)
  restored = checkpointer.restore(jax.eval_shape(lambda: exp.initial_state), run_fingerprint)
  state, seconds_before = exp.initial_state, 0.0
  if restored is not None:
    state, meta = restored
    seconds_before = float(meta.get('train_seconds', 0.0))
  state = exp.put_state(state)
  start_step = int(state.step)
  log = MetricsLog(workdir, resume_step=start_step)
  meta = lambda seconds: {'fingerprint': run_fingerprint, 'config': config.to_dict(),
                          'train_seconds': seconds}

  images, labels = exp.device_splits['train']
  started = time.perf_counter()
  pending = []
  progress = tqdm.tqdm(total=exp.total_steps, initial=start_step,
                       disable=None if config.progress_bar else True,  # None: only on a terminal
                       desc=f'{config.model} on {config.dataset}', unit='step', leave=False)
  for step in range(start_step, exp.total_steps):
    state, metrics = exp.train_step(state, images, labels, exp.batch_indices(step))
    pending.append(metrics)
    done = step + 1
    if done % config.log_every_steps == 0 or done % exp.steps_per_epoch == 0:
      averaged = {k: float(np.mean(v)) for k, v in jax.device_get(
          jax.tree.map(lambda *xs: jnp.stack(xs), *pending)).items()}
      pending = []
      record = {f'train_{k}': v for k, v in averaged.items()}
      if done % exp.steps_per_epoch == 0:
        record['epoch'] = done // exp.steps_per_epoch
        if len(exp.splits.validation):
          record.update({f'validation_{k}': v for k, v in exp.evaluate(state, 'validation').items()})
      log.write(done, record)
      progress.set_postfix(loss=f'{averaged["loss"]:.3f}', acc=f'{averaged["accuracy"]:.3f}')
    progress.update(1)
    checkpointer.save(done, state, meta(seconds_before + time.perf_counter() - started),
                      force=done == exp.total_steps)
  progress.close()
  jax.block_until_ready(state)
  train_seconds = seconds_before + time.perf_counter() - started
  checkpointer.save(exp.total_steps, state, meta(train_seconds), force=True)
  checkpointer.close()

  test = exp.evaluate(state, 'test')
  summary = {
      'test_accuracy': test['accuracy'], 'test_loss': test['loss'],
      **exp.measure(state),
      'train_seconds': train_seconds, 'dataset': config.dataset, 'model': config.model, 'method': 'dense',
      **(exp.pruning.summary() if exp.pruning else {}),
      'epochs': config.num_epochs, 'steps': exp.total_steps, 'batch_size': config.batch_size,
      'num_devices': exp.mesh.size,
  }
  if len(exp.splits.validation):
    summary.update({f'validation_{k}': v for k, v in exp.evaluate(state, 'validation').items()})
  log.write(exp.total_steps, {f'final_{k}': v for k, v in summary.items() if isinstance(v, (int, float))})
  log.close()
  (workdir / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
  return summary
