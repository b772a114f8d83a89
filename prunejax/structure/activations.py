"""Data-aware structured criteria: mean |activation| and first-order Taylor |a·∂L/∂a| per channel.

Both are measured where Dense/Conv kernels read a group's channels (the walker's taps): removing a
channel is zeroing it on every such read, so ``Σ_reads a·∂L/∂a`` over a channel's entries is the
first-order estimate of the loss change its removal causes (Molchanov et al. 2017, summed over the
layers that read the channel, as Torch-Pruning does for coupled layers). The traced jaxpr is re-evaluated
with a zero perturbation added to each read operand; its gradient is ∂L/∂a at that read.
"""

from collections.abc import Callable, Iterable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.extend import core as jex_core

from prunejax.errors import PrunejaxError
from prunejax.core.jaxprs import called_jaxpr
from prunejax.structure.attention import coupled_axes
from prunejax.structure.graph import Coupling, trace
from prunejax.structure.groups import Tap, Trace
from prunejax.structure.shrink import eval_split

DATA_CRITERIA = ('mean_activation', 'taylor')


def summed_cross_entropy(logits, labels):
  """Sum over the batch, so a·∂L/∂a of one example is that example's first-order loss change."""
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels).sum()


def evaluate_with_taps(closed: jex_core.ClosedJaxpr, taps: list[Tap], perturbations, *args):
  """Runs ``closed`` on ``args``, adding ``perturbations[k]`` to the operand tap k reads.

  Returns (outputs, the unperturbed operands read at each tap).
  """
  at = {}
  for k, tap in enumerate(taps):
    at.setdefault(tap.position, []).append((k, tap.operand))
  inside = {tap.position[:i] for tap in taps for i in range(1, len(tap.position))}
  seen = [None] * len(taps)

  def run(jaxpr, consts, values, prefix):
    env = dict(zip(jaxpr.constvars, consts))
    env.update(zip(jaxpr.invars, values))
    read = lambda v: v.val if isinstance(v, jex_core.Literal) else env[v]
    for index, eqn in enumerate(jaxpr.eqns):
      position = prefix + (index,)
      inputs = [read(v) for v in eqn.invars]
      for k, operand in at.get(position, ()):
        seen[k] = inputs[operand]
        inputs[operand] = inputs[operand] + perturbations[k]
      if position in inside:
        inner, inner_consts = called_jaxpr(eqn)
        offset = len(inner.invars) - len(inputs)
        outs = run(inner, inner_consts, [None] * max(offset, 0) + inputs, position)
      else:
        with eqn.ctx.manager:
          outs = eqn.primitive.bind(*inputs, **eqn.primitive.get_bind_params(eqn.params))
        outs = outs if eqn.primitive.multiple_results else [outs]
      env.update(zip(eqn.outvars, outs))
    return [read(v) for v in jaxpr.outvars]

  outputs = run(closed.jaxpr, closed.consts, list(args), ())
  return outputs, seen


def _batch_statistics(traced: Trace, loss_fn):
  """A jitted (variables, x, y) -> per group: (Σ|a|, #entries, Σ_examples |Σ a·∂L/∂a|)."""
  closed, taps = traced.jaxpr, traced.taps
  avals = [jax.ShapeDtypeStruct(a.shape, a.dtype) for a in closed.in_avals]
  _, reads = jax.eval_shape(lambda *args: evaluate_with_taps(closed, taps, [0.0] * len(taps), *args),
                            *avals)
  owners = [[(name, piece.channels, piece.owners(read.shape[tap.axis])) for name, piece in tap.pieces]
            for tap, read in zip(taps, reads)]

  def statistics(variables, x, y):
    def loss(perturbations):
      (logits,), seen = evaluate_with_taps(closed, taps, perturbations, *jax.tree.leaves(variables), x)
      return loss_fn(logits, y), seen

    zeros = [jnp.zeros(r.shape, r.dtype) for r in reads]
    grads, seen = jax.grad(loss, has_aux=True)(zeros)
    abs_sum, count, per_example = {}, {}, {}
    for tap, tap_owners, a, g in zip(taps, owners, seen, grads):
      a, g = jnp.moveaxis(a, tap.axis, 0), jnp.moveaxis(g, tap.axis, 0)  # (axis, batch, ...)
      a, g = a.reshape(a.shape[0], a.shape[1], -1), g.reshape(a.shape[0], a.shape[1], -1)
      entries, products, sizes = jnp.abs(a).sum((1, 2)), (a * g).sum(2), jnp.full(a.shape[0], a[0].size)
      for name, channels, owner in tap_owners:
        by_channel = lambda v: jax.ops.segment_sum(v, owner, channels + 1)[:channels]
        abs_sum[name] = abs_sum.get(name, 0.0) + by_channel(entries)
        count[name] = count.get(name, 0.0) + by_channel(sizes)
        per_example[name] = per_example.get(name, 0.0) + by_channel(products).T
    return abs_sum, count, {name: jnp.abs(v).sum(0) for name, v in per_example.items()}

  return jax.jit(statistics)


def data_scores_of(apply_fn, variables, batches: Iterable, loss_fn: Callable = summed_cross_entropy,
                   couple: Sequence[Coupling] = ()) -> dict[str, dict[str, np.ndarray]]:
  """Functional form of ``data_scores``: ``apply_fn(variables, x)`` gives logits for batch ``x``;
  ``couple`` as for ``trace_groups_of``."""
  compiled = {}
  totals: dict[str, dict[str, np.ndarray]] = {'abs': {}, 'count': {}, 'taylor': {}}
  examples = 0
  for x, y in batches:
    x, y = jnp.asarray(x), jnp.asarray(y)
    key = (x.shape, x.dtype, y.shape, y.dtype)
    if key not in compiled:
      traced = trace(apply_fn, variables, x, couple=couple)
      if any(tap.axis == 0 for tap in traced.taps):
        raise PrunejaxError('a kernel reads grouped channels on the batch axis; data-aware criteria need '
                            'the batch on axis 0 of every activation.')
      compiled[key] = _batch_statistics(traced, loss_fn)
    for part, values in zip(('abs', 'count', 'taylor'), compiled[key](variables, x, y)):
      for name, value in values.items():
        totals[part][name] = totals[part].get(name, 0.0) + np.asarray(value, np.float64)
    examples += x.shape[0]
  if not examples:
    raise PrunejaxError('data-aware criteria need at least one batch of (inputs, labels).')
  return {'mean_activation': {k: v / np.maximum(totals['count'][k], 1) for k, v in totals['abs'].items()},
          'taylor': {k: v / examples for k, v in totals['taylor'].items()}}


def data_scores(model: nnx.Module, batches: Iterable, loss_fn: Callable = summed_cross_entropy
                ) -> dict[str, dict[str, np.ndarray]]:
  """Per criterion ('mean_activation', 'taylor'), per group name: one score per channel.

  ``batches`` yields (inputs, integer labels); the model runs in eval mode (BatchNorm statistics).
  Taylor is the mean over examples of |first-order loss change| from removing the channel, so it is
  comparable across layers (global ranking); mean |activation| is per entry the channel feeds a kernel.
  """
  graphdef, variables = eval_split(model)
  return data_scores_of(lambda v, x: nnx.merge(graphdef, v, copy=True)(x), variables, batches, loss_fn,
                        coupled_axes(model))
