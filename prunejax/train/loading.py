"""A finished run's network from its workdir alone: the config and the kept channels are in the
checkpoint's record, so a shrunk (or masked) model is rebuilt at its saved shapes; or another run's
network read into this run's (unshrunk) shapes, to start from it."""

import json
import pathlib

import jax
import jax.numpy as jnp
import ml_collections
from flax import nnx

from prunejax.data.pipeline import standardise
from prunejax.errors import PrunejaxError
from prunejax.train.checkpoints import Checkpointer
from prunejax.train.finished import finished_checkpoint
from prunejax.train.runner import Run
from prunejax.train.state import ModelDefs, split_model


def load(workdir: str | pathlib.Path) -> nnx.Module:
  """The NNX model (eval mode) of the finished run in ``workdir``: exactly the network its summary
  describes (refused in one line while it trains, or when that checkpoint is damaged). It takes inputs
  standardised as in training (``data.standardise``); ``load_serving`` takes raw pixels."""
  return _finished_network(workdir, with_statistics=False)[0]


def _finished_network(workdir, with_statistics: bool):
  """(model in eval mode, (mean, std) of the training split or None) of the finished run in ``workdir``."""
  finished = finished_checkpoint(workdir)
  run = Run(ml_collections.ConfigDict(finished.meta['config']), finished.workdir, announce=False, lock=False,
            checkpoint=(finished.number, finished.meta))
  try:
    defs, params, model_state = run.saved_network()
    statistics = (run.splits.mean, run.splits.std) if with_statistics else None
  finally:
    run.close()
  return nnx.merge(defs.eval, params, model_state), statistics


def serving_fn(model: nnx.Module, mean, std):
  """``f(pixels) -> logits`` in eval mode on raw pixels 0–255, standardised as in training; the weights are
  closed over (in an export they become the file's constants)."""
  graphdef, variables = nnx.split(model)
  mean, std = jnp.asarray(mean, jnp.float32), jnp.asarray(std, jnp.float32)
  return lambda pixels: nnx.merge(graphdef, variables)(standardise(pixels, mean, std))


def load_serving(workdir: str | pathlib.Path):
  """``f(pixels) -> logits``, jitted, of the finished run in ``workdir``: its network after the training
  split's standardisation, so it takes raw pixels 0–255 shaped (batch, height, width, channels) — the
  function ``prunejax-export`` converts. (``load`` gives the bare network, which takes standardised inputs.)"""
  model, (mean, std) = _finished_network(workdir, with_statistics=True)
  return jax.jit(serving_fn(model, mean, std))


def network_of(run: Run, workdir: str | pathlib.Path) -> tuple[ModelDefs, object, object]:
  """(defs, params, model_state) of the finished run in ``workdir`` (the checkpoint its summary describes),
  a run of the same unshrunk model as ``run`` (e.g. a pretrained or deployed network to start from);
  refused in one line otherwise. No second copy of the dataset is loaded."""
  finished = finished_checkpoint(workdir, wait=True)  # a shared run may still be finishing (its plots)
  workdir, number, meta = finished.workdir, finished.number, finished.meta
  checkpointer = Checkpointer(workdir / 'checkpoints', read_only=True)
  try:
    config = meta['config']
    if (meta['keep'] or config['model'] != run.config.model or config['dataset'] != run.config.dataset
        or config['model_kwargs'] != run.config.model_kwargs.to_dict()):
      raise PrunejaxError(f'{workdir} holds a different network ({config["model"]} on {config["dataset"]}) than '
                          f'this run ({run.config.model} on {run.config.dataset}); point the config at a run '
                          'of this model.')
    for field in ('validation_fraction', 'classes', 'remap_labels'):  # else it trained on our validation
      if json.loads(json.dumps(config.get(field))) != json.loads(json.dumps(run.config.get(field))):
        raise PrunejaxError(f'{workdir} was trained with {field}={config.get(field)!r}, this run has '
                            f'{run.config.get(field)!r}: its training images would overlap this run\'s '
                            'validation split; train the starting network with the same data split.')
    defs, params, model_state = split_model(run.new_model())
    abstract = jax.eval_shape(lambda: {'params': params, 'model_state': model_state})
    network = checkpointer.restore_network(abstract, number)
  finally:
    checkpointer.close()
  return defs, network['params'], network['model_state']
