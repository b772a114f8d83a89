"""Compiled memory of one training step (XLA's memory analysis: arguments + outputs + temporaries)."""

import jax
import jax.numpy as jnp
import optax

from prunejax import edge
from prunejax.train.state import ModelDefs, TrainState
from prunejax.train.steps import Loss, cross_entropy, make_update_step


def update_step_bytes(defs: ModelDefs, optimizer: optax.GradientTransformation, state: TrainState,
                      batch_size: int, input_shape: tuple[int, ...], loss: Loss = cross_entropy) -> int:
  """Bytes of one optimizer step on a ready batch (state donated; no dataset), with ``loss`` (a
  distillation loss carries its teacher). ``state`` may be abstract."""
  batch = (jax.ShapeDtypeStruct((batch_size,) + tuple(input_shape), jnp.float32),
           jax.ShapeDtypeStruct((batch_size,), jnp.int32))
  update = make_update_step(defs, optimizer, loss=loss)
  # Arrays the step closes over (a distillation teacher's weights) are held too; XLA folds them into the
  # executable, outside its buffer statistics, so they are counted from the traced step.
  constants = sum(int(getattr(c, 'nbytes', 0)) for c in jax.make_jaxpr(update)(state, *batch).consts)
  update = jax.jit(update, donate_argnums=0)
  # Buffer assignment is decided before LLVM code generation: the bytes are the same at optimisation
  # level 0 (checked on LeNet-300-100, LeNet-5, ResNet-20), and the compile takes half the time.
  options = {'xla_backend_optimization_level': 0}
  return edge.compiled_bytes(update.lower(state, *batch).compile(compiler_options=options)) + constants
