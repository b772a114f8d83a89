"""A finished run's network from its workdir alone: the config and the kept channels are in the
checkpoint's record, so a shrunk (or masked) model is rebuilt at its saved shapes; or another run's
network read into this run's (unshrunk) shapes, to start from it."""

import json
import pathlib

import jax
import ml_collections
from flax import nnx

from prunejax.errors import PrunejaxError
from prunejax.train.checkpoints import Checkpointer
from prunejax.train.runner import Run
from prunejax.train.state import ModelDefs, split_model


def load(workdir: str | pathlib.Path) -> nnx.Module:
  """The NNX model (eval mode) of the latest intact checkpoint in ``workdir``."""
  workdir = pathlib.Path(workdir)
  if not (workdir / 'checkpoints').is_dir():
    raise PrunejaxError(f'{workdir} has no checkpoints/; pass the --workdir of a run.')
  checkpointer = Checkpointer(workdir / 'checkpoints', read_only=True)
  intact = checkpointer.latest_intact()
  checkpointer.close()
  if intact is None:
    raise PrunejaxError(f'{workdir}/checkpoints holds no intact checkpoint; run the config again.')
  run = Run(ml_collections.ConfigDict(intact[1]['config']), workdir, announce=False, lock=False)
  try:
    defs, params, model_state = run.saved_network()
  finally:
    run.close()
  return nnx.merge(defs.eval, params, model_state)


def network_of(run: Run, workdir: str | pathlib.Path) -> tuple[ModelDefs, object, object]:
  """(defs, params, model_state) of the latest intact checkpoint in ``workdir``, a run of the same
  unshrunk model as ``run`` (e.g. a pretrained or deployed network to start from); refused in one line
  otherwise. No second copy of the dataset is loaded."""
  workdir = pathlib.Path(workdir)
  checkpointer = Checkpointer(workdir / 'checkpoints', read_only=True)
  try:
    intact = checkpointer.latest_intact()
    if intact is None:
      raise PrunejaxError(f'{workdir} holds no checkpoint; train it first.')
    number, meta = intact
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
