"""A shrunk model goes through an Orbax checkpoint with its architecture (the kept channels)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from prunejax import models, structure
from prunejax.train import Checkpointer, init_train_state, split_model


def test_shrunk_model_round_trips_through_a_checkpoint(tmp_path):
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 1))
  model = models.create_model('resnet20', (8, 8, 1), 10, width=4)
  groups = structure.trace_groups(model, x)
  keep = {g.name: list(range(0, g.size, 2)) for g in groups if g.prunable}
  shrunk = structure.shrink(model, keep)
  defs, params, model_state = split_model(shrunk)
  state = init_train_state(params, model_state, optax.adam(1e-3), 0)
  checkpointer = Checkpointer(tmp_path / "checkpoints")
  checkpointer.save(state, {'fingerprint': {'model': 'resnet20'}, 'keep': keep})
  checkpointer.close()

  # A fresh process knows only the registry model and the checkpoint.
  reader = Checkpointer(tmp_path / "checkpoints")
  meta = reader.latest_meta()
  fresh = models.create_model('resnet20', (8, 8, 1), 10, width=4)
  rebuilt = structure.shrink(fresh, meta['keep'], structure.trace_groups(fresh, x))
  defs2, params2, model_state2 = split_model(rebuilt)
  abstract = jax.eval_shape(lambda: init_train_state(params2, model_state2, optax.adam(1e-3), 0))
  restored, _ = reader.restore(abstract, {'model': 'resnet20'})
  reader.close()
  jax.tree.map(np.testing.assert_array_equal, restored.params, state.params)
  out = nnx.merge(defs2.eval, restored.params, restored.model_state)(x)
  np.testing.assert_allclose(out, nnx.merge(defs.eval, params, model_state)(x), rtol=1e-6)
  assert rebuilt.blocks[0].conv1.conv.out_features == 2
