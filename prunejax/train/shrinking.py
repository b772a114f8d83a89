"""Shrinking a training run in place of masking it: channels leave the params, BatchNorm statistics,
optimizer state (momenta, Adam moments, pruning masks) and graph definitions together, so the next
jitted step runs the smaller network (it re-traces once for the new shapes)."""

from collections.abc import Mapping, Sequence

from flax import nnx

from prunejax import structure
from prunejax.train.state import ModelDefs, TrainState, split_model


def shrink_train_state(defs: ModelDefs, state: TrainState, groups: Sequence[structure.Group],
                       keep: Mapping[str, Sequence[int]], outputs: bool = False
                       ) -> tuple[ModelDefs, TrainState]:
  """(graph defs, training state) of the network keeping only ``keep[group]`` channels of each group.

  ``groups`` come from ``structure.trace_groups`` on the model (their names are kernel paths, so they
  stay valid for a shrunk model as long as its channels are renamed nowhere). Step, RNG and optimizer
  counters are unchanged: training continues where it was. ``outputs``: see ``structure.shrink``.
  """
  graphdef, variables = nnx.split(nnx.merge(defs.train, state.params, state.model_state))
  graphdef, variables, opt_state = structure.shrink_split(graphdef, variables, groups, keep, state.opt_state,
                                                            outputs=outputs)
  new_defs, params, model_state = split_model(nnx.merge(graphdef, variables))
  return new_defs, state.replace(params=params, model_state=model_state, opt_state=opt_state)
