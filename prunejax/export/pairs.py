"""Dense-and-pruned pairs, both in eval mode as functions of raw pixels, with their FLOPs ratio: what the
deploy benchmark times and the parity sweep exports. A pair is a registry model and its L1-pruned twin
(every prunable channel group keeps the half with the largest filter norms, physically shrunk), or a
finished run's network against a fresh copy of the original model it started from."""

import pathlib

import jax.numpy as jnp
from flax import nnx

from prunejax import edge, models, structure
from prunejax.export.exporting import finished_run, serving_fn


def dense_and_pruned(name: str, shape: tuple[int, ...], num_classes: int = 10, ratio: float = 0.5,
                     seed: int = 0, mean=None, std=None, multiple: int = 1):
  """((dense_fn, pruned_fn), FLOPs ratio dense/pruned) for the registry model ``name`` at ``shape``;
  ``multiple``: kept channel counts rounded up to it (vector units)."""
  model = models.create_model(name, shape, num_classes, seed)
  groups = structure.trace_groups(model, jnp.zeros((1,) + tuple(shape)))
  _, variables = structure.eval_split(model)
  keep = structure.select_channels(structure.criterion_scores(variables, groups, 'l1'), groups, ratio,
                                   multiple=multiple)
  pruned = structure.shrink(model, keep, groups)
  channels = shape[-1]
  mean = (0.5,) * channels if mean is None else mean
  std = (0.25,) * channels if std is None else std
  return _pair(model, pruned, shape, mean, std)


def original_and_run(workdir: str | pathlib.Path):
  """((original_fn, run_fn), FLOPs ratio, input shape): a finished run's saved network (shrunk, masked or
  dense) against a fresh instance of its config's original model (timing does not depend on weights)."""
  run, _ = finished_run(pathlib.Path(workdir))
  try:
    defs, params, model_state = run.saved_network()
    original = run.new_model()
  finally:
    run.close()
  fns, ratio = _pair(original, nnx.merge(defs.eval, params, model_state), run.splits.input_shape,
                     run.splits.mean, run.splits.std)
  return fns, ratio, run.splits.input_shape


def _pair(dense: nnx.Module, pruned: nnx.Module, shape, mean, std):
  fns, flops = [], []
  for m in (dense, pruned):
    m = nnx.clone(m)
    m.eval()
    fns.append(serving_fn(m, mean, std))
    graphdef, params, rest = nnx.split(m, nnx.Param, ...)
    flops.append(edge.forward_flops_per_example(lambda p, s, x, g=graphdef: nnx.merge(g, p, s)(x),
                                                params, rest, shape))
  return tuple(fns), flops[0] / flops[1]
