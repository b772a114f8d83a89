"""A finished run's network from its workdir alone: the config and the kept channels are in the
checkpoint's record, so a shrunk (or masked) model is rebuilt at its saved shapes."""

import pathlib

import ml_collections
from flax import nnx

from prunejax.errors import PrunejaxError
from prunejax.train.checkpoints import Checkpointer
from prunejax.train.runner import Run


def load(workdir: str | pathlib.Path) -> nnx.Module:
  """The NNX model (eval mode) of the latest intact checkpoint in ``workdir``."""
  workdir = pathlib.Path(workdir)
  if not (workdir / 'checkpoints').is_dir():
    raise PrunejaxError(f'{workdir} has no checkpoints/; pass the --workdir of a run.')
  checkpointer = Checkpointer(workdir / 'checkpoints')
  intact = checkpointer.latest_intact()
  checkpointer.close()
  if intact is None:
    raise PrunejaxError(f'{workdir}/checkpoints holds no intact checkpoint; run the config again.')
  run = Run(ml_collections.ConfigDict(intact[1]['config']), workdir, announce=False)
  try:
    defs, params, model_state = run.saved_network()
  finally:
    run.close()
  return nnx.merge(defs.eval, params, model_state)
