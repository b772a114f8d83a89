"""The training state: everything a step reads and writes, as one pytree (checkpointed whole)."""

import flax.struct
import jax
import jax.numpy as jnp
import optax
from flax import nnx


@flax.struct.dataclass
class TrainState:
  """Step counter, examples seen, parameters, non-parameter model state (BatchNorm statistics),
  optimizer state, RNG.

  ``examples_seen`` drives the learning-rate schedule, so it stays right when the batch size changes.
  The graph definitions that turn ``params``/``model_state`` back into a model are static and live
  outside, with the step functions that close over them.
  """
  step: jax.Array
  examples_seen: jax.Array
  params: nnx.State
  model_state: nnx.State
  opt_state: optax.OptState
  rng: jax.Array


@flax.struct.dataclass
class ModelDefs:
  """The static halves of an NNX model split: one graph in train mode, one in eval mode."""
  train: nnx.GraphDef = flax.struct.field(pytree_node=False)
  eval: nnx.GraphDef = flax.struct.field(pytree_node=False)


def split_model(model: nnx.Module) -> tuple[ModelDefs, nnx.State, nnx.State]:
  """Splits ``model`` into (graph defs for train and eval, params, other state such as BN statistics),
  leaving ``model`` in the mode it was in (the modes are set on clones, which share its arrays)."""
  evaluating, training = nnx.clone(model), nnx.clone(model)
  evaluating.eval()
  training.train()
  eval_def, _, _ = nnx.split(evaluating, nnx.Param, ...)
  train_def, params, model_state = nnx.split(training, nnx.Param, ...)
  return ModelDefs(train=train_def, eval=eval_def), params, model_state


def init_train_state(params: nnx.State, model_state: nnx.State, optimizer: optax.GradientTransformation,
                     seed: int) -> TrainState:
  return TrainState(step=jnp.zeros((), jnp.int32), examples_seen=jnp.zeros((), jnp.int32), params=params,
                    model_state=model_state, opt_state=optimizer.init(params), rng=jax.random.PRNGKey(seed))
