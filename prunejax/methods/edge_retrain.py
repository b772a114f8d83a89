"""Re-training a pruned network on the device (Chandakkar, Li, Ding, Li; IEEE EDGE 2017).

A **reconstruction**: only the paper's claim is known (docs/papers/edge_retrain.md) — a weight-pruned network
re-trained on new data gains on it while losing little on the original data. Every unknown is a field of
``config.edge_retrain``. Our protocol:

    deployed ← train on the original part of the data, prune by magnitude to `sparsity` (edge_deploy:
               once per `deployed_workdir`, shared by every strategy)
    new      ← `new_examples` of the held-back `new_fraction`, shifted (`shift`, `shift_strength`)
    before   ← accuracy of the deployed network on the original and the new test views
    `strategy` re-trains it on new for `steps` steps at `batch_size`, constant `learning_rate`:
        none                 the deployed network as it is
        finetune_fixed_mask  pruned weights stay exactly 0
        rehearsal            new data mixed with a buffer of `rehearsal_size` original examples
        regrow_reprune       dense for `regrow_fraction` of the steps, re-pruned by magnitude to the
                             deployed count, then masked
        last_layers          only the last `last_layers` weight layers train (the rest: no update, no
                             optimizer state); pruned weights stay 0
        distill              (1 − w)·CE + w·T²·KL(deployed ‖ network) at temperature T, masked
        finetune_dense       reference: ignores the sparsity constraint
    after    ← the same accuracies; sparsity from the arrays; steps, compiled step bytes, seconds
"""

import pathlib
from collections.abc import Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from prunejax import core, data, structure
from prunejax.errors import PrunejaxError
from prunejax.registry import Registry
from prunejax.methods import edge_deploy
from prunejax.methods.edge_retrain_settings import EdgeRetrainSettings
from prunejax.methods.registry import check_no_pruning, register_method
from prunejax.train import (Run, apply_model, cross_entropy, freeze_all_but, init_train_state, make_optimizer,
                            measured_sparsity, network_of, split_model, write_summary)

# ``fn(run, device)`` by name: sets the optimizer (and loss), loads the deployed network, trains.
STRATEGIES: Registry[Callable] = Registry('edge re-training strategy', 'config.edge_retrain.strategy')
strategy = STRATEGIES.register


def check(config: ml_collections.ConfigDict) -> None:
  check_no_pruning(config)
  if 'edge_retrain' not in config:
    raise PrunejaxError('config.method=edge_retrain needs a config.edge_retrain block; start from '
                        f'{EdgeRetrainSettings.example}.')
  cfg = EdgeRetrainSettings.from_config(config.edge_retrain)
  if cfg.strategy not in STRATEGIES:
    raise cfg.error('strategy', f'is unknown; choose one of {tuple(STRATEGIES)}.')
  if cfg.deployed_workdir:
    edge_deploy.refuse_another_deployment(config, pathlib.Path(cfg.deployed_workdir))


class Device:
  """What the device holds: the deployed network, its masks (its non-zero prunable weights) and data."""

  def __init__(self, run: Run):
    config, cfg = run.config, run.config.edge_retrain
    workdir = pathlib.Path(cfg.deployed_workdir or run.workdir / 'deployed')
    self.deployment = edge_deploy.deploy(config, workdir)
    self.defs, self.params, self.model_state = network_of(run, workdir)
    self.selected = core.select_leaves(self.params, config.pruning.include, config.pruning.exclude)
    self.masks = jax.tree.map(lambda f, p: (p != 0) if f else None, self.selected, self.params)
    original, new = data.original_and_new(run.splits, cfg.new_fraction, config.seed, cfg.shift,
                                          cfg.shift_strength)
    self.original = run.add_view(original)
    self.new = run.add_view(data.with_budget(new, cfg.new_examples, config.seed))

  def masked(self, inner: optax.GradientTransformation, masks=None) -> optax.GradientTransformation:
    return core.masked_update(inner, self.masks if masks is None else masks)

  def teacher(self, x: jax.Array) -> jax.Array:
    return apply_model(self.defs.eval, self.params, self.model_state, x)


@register_method('edge_retrain', check=check)
def edge_retrain(run: Run) -> dict:
  cfg = run.config.edge_retrain
  device = Device(run)
  run.learning_rate = optax.constant_schedule(cfg.learning_rate)
  STRATEGIES.get(cfg.strategy)(run, device)
  before = run.notes['before']  # the deployed network's accuracies, measured when it was loaded
  after = {'acc_new_after': run.evaluate(device.new, 'test')['accuracy'],
           'acc_original_after': run.evaluate(device.original, 'test')['accuracy']}
  retrain_steps = int(run.state.step)
  sparsity = measured_sparsity(run.state.params, run.config.pruning.include, run.config.pruning.exclude)
  return write_summary(run, 'edge_retrain', {
      'strategy': cfg.strategy, **before, **after,
      'delta_new': after['acc_new_after'] - before['acc_new_before'],
      'delta_original': after['acc_original_after'] - before['acc_original_before'],
      'sparsity_after': sparsity['sparsity'], 'deployed_sparsity': device.deployment['sparsity'],
      'retrain_steps': retrain_steps, 'retrain_step_bytes': run.step_bytes(),
      'retrain_seconds': run.train_seconds, 'retrain_batch_size': cfg.batch_size,
      'trainable_params': run.notes['trainable_params'], 'shift': cfg.shift,
      'shift_strength': cfg.shift_strength, 'new_examples': cfg.new_examples})


def load_deployed(run: Run, device: Device, optimizer: optax.GradientTransformation,
                  trainable: str | None = None, masked: bool = True, trains: bool = True) -> None:
  """Makes ``optimizer`` the run's and, once, the deployed network its state (step 0); records the
  deployed network's accuracies on both test views (the "before") and the weights that may change
  (in the ``trainable`` leaves, only the kept ones when ``masked``)."""
  run.optimizer = optimizer

  def load_it():
    state = init_train_state(device.params, device.model_state, run.optimizer, run.config.seed)
    run.state = state.replace(step=jnp.zeros((), jnp.int32))
    run.set_batch_size(run.config.edge_retrain.batch_size)
    chosen = jax.tree.leaves(core.select_leaves(device.params, trainable or '', r'$^'))
    masks = jax.tree.leaves(device.masks, is_leaf=lambda x: x is None)
    run.notes['trainable_params'] = trains * sum(
        int(m.sum()) if masked and m is not None else int(np.prod(p.shape))
        for p, m, f in zip(jax.tree.leaves(device.params), masks, chosen) if f)
    run.notes['before'] = {'acc_new_before': run.evaluate(device.new, 'test')['accuracy'],
                           'acc_original_before': run.evaluate(device.original, 'test')['accuracy']}

  run.once('load_deployed', load_it)


def inner_optimizer(run: Run) -> optax.GradientTransformation:
  """The config's optimizer (its momentum, weight decay) at the re-training learning rate."""
  cfg = ml_collections.ConfigDict(run.config.optimizer.to_dict())
  cfg.learning_rate = run.config.edge_retrain.learning_rate
  return make_optimizer(cfg)


@strategy('none')
def none(run: Run, device: Device) -> None:
  load_deployed(run, device, inner_optimizer(run), trains=False)


@strategy('finetune_fixed_mask')
def finetune_fixed_mask(run: Run, device: Device) -> None:
  load_deployed(run, device, device.masked(inner_optimizer(run)))
  run.train('finetune', steps=run.config.edge_retrain.steps, view=device.new)


@strategy('rehearsal')
def rehearsal(run: Run, device: Device) -> None:
  cfg = run.config.edge_retrain
  mixed = run.add_view(data.with_rehearsal(device.new, device.original, cfg.rehearsal_size, run.config.seed))
  load_deployed(run, device, device.masked(inner_optimizer(run)))
  run.train('finetune', steps=cfg.steps, view=mixed)


@strategy('regrow_reprune')
def regrow_reprune(run: Run, device: Device) -> None:
  cfg = run.config.edge_retrain
  dense_steps = int(round(cfg.regrow_fraction * cfg.steps))
  load_deployed(run, device, inner_optimizer(run), masked=False)  # (its dense phase trains every weight)
  run.train('regrow', steps=dense_steps, view=device.new)
  run.optimizer = device.masked(inner_optimizer(run))
  run.once('reprune', lambda: reprune(run, device))
  run.train('finetune', steps=cfg.steps - dense_steps, view=device.new)


def reprune(run: Run, device: Device) -> dict:
  """Keeps the largest-magnitude weights, as many as the deployed network has, under one threshold;
  the optimizer state restarts (masked) at the pruned weights."""
  kept = sum(int(m.sum()) for m in jax.tree.leaves(device.masks))
  total = sum(int(m.size) for m in jax.tree.leaves(device.masks))
  params = run.state.params
  masks = core.masks_global(core.magnitude(params), device.selected, 1.0 - kept / total)
  pruned = core.apply_masks(params, masks)
  state = init_train_state(pruned, run.state.model_state, run.optimizer, run.config.seed)
  run.state = state.replace(step=run.state.step, examples_seen=run.state.examples_seen,
                            opt_state=optax.tree_utils.tree_set(state.opt_state, masks=masks))
  return {'kept': sum(int(m.sum()) for m in jax.tree.leaves(masks)), 'deployed_kept': kept}


@strategy('last_layers')
def last_layers(run: Run, device: Device) -> None:
  cfg = run.config.edge_retrain
  trainable = last_layers_pattern(run, cfg.last_layers)
  chosen = core.select_leaves(device.params, trainable, r'$^')
  # The masked update sees only the trainable leaves (MaskedNode elsewhere): frozen ones get no state.
  masks = jax.tree.map(lambda m, f: m if f else optax.MaskedNode(), device.masks, chosen,
                       is_leaf=lambda x: x is None)
  load_deployed(run, device, freeze_all_but(device.masked(inner_optimizer(run), masks), trainable), trainable)
  run.train('finetune', steps=cfg.steps, view=device.new)


def last_layers_pattern(run: Run, k: int) -> str:
  """A regex over parameter paths matching the last ``k`` weight layers (modules with a kernel)."""
  defs, params, model_state = split_model(run.new_model())
  paths = set(jax.tree.leaves(core.leaf_paths(params)))
  x = jnp.zeros((1,) + run.splits.input_shape, jnp.float32)
  apply = lambda p, inputs: apply_model(defs.eval, p, model_state, inputs)
  layers = [m for m in structure.layers_in_forward_order(apply, params, x) if f'{m}/kernel' in paths]
  if k > len(layers):
    raise PrunejaxError(f'config.edge_retrain.last_layers={k} exceeds the {len(layers)} weight layers of '
                        f'{run.config.model}.')
  return '^(' + '|'.join(layers[-k:]) + ')/'


@strategy('distill')
def distill(run: Run, device: Device) -> None:
  cfg = run.config.edge_retrain
  run.loss = distillation_loss(device.teacher, cfg.distill_weight, cfg.distill_temperature)
  load_deployed(run, device, device.masked(inner_optimizer(run)))
  run.train('finetune', steps=cfg.steps, view=device.new)


def distillation_loss(teacher: Callable[[jax.Array], jax.Array], weight: float, temperature: float):
  """Per example: (1 − weight)·CE(labels) + weight·T²·KL(softmax(teacher/T) ‖ softmax(logits/T))."""
  def loss(logits: jax.Array, labels: jax.Array, x: jax.Array) -> jax.Array:
    targets = jax.nn.softmax(jax.lax.stop_gradient(teacher(x)) / temperature)
    kl = optax.losses.kl_divergence(jax.nn.log_softmax(logits / temperature), targets)
    return (1.0 - weight) * cross_entropy(logits, labels) + weight * temperature ** 2 * kl
  return loss


@strategy('finetune_dense')
def finetune_dense(run: Run, device: Device) -> None:
  load_deployed(run, device, inner_optimizer(run), masked=False)
  run.train('finetune', steps=run.config.edge_retrain.steps, view=device.new)
