"""The masked optax update: wraps any optimizer so pruned weights are exactly zero after every step.

State = (count, masks, inner state), so masks are sharded and checkpointed with the optimizer. On the
schedule's refresh steps new masks are computed inside jit (``lax.cond``) from the current params.
Per step: gradients of pruned weights are zeroed, the inner optimizer runs, and the final update of a
pruned weight is exactly -θ, so θ + update = 0 whatever the inner optimizer (weight decay included)
proposed. The inner optimizer sees pruned weights, their gradients and their param-shaped state
(momentum, Adam moments) as zero, so its state stays zero where pruned and a re-grown weight starts from
fresh state.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from prunejax.core.masks import apply_masks, check_mask_matches
from prunejax.core.schedules import PruningSchedule

_is_none = lambda x: x is None


class MaskedState(NamedTuple):
  count: jax.Array  # updates applied so far (= training step)
  masks: Any  # bool leaves, None where never pruned
  inner_state: optax.OptState


def masked_update(inner: optax.GradientTransformation, initial_masks,
                  schedule: PruningSchedule | None = None,
                  refresh_masks: Callable[[Any, jax.Array], Any] | None = None
                  ) -> optax.GradientTransformation:
  """Wraps ``inner``. Masks start as ``initial_masks`` (a mask tree, or a function of the params giving
  one: all-kept masks follow the params' shapes, so a shrunk network's state can be rebuilt); with a
  ``schedule`` they are replaced by ``refresh_masks(params, target_sparsity)`` on its refresh steps."""
  if (schedule is None) != (refresh_masks is None):
    raise ValueError('schedule and refresh_masks go together.')

  def init(params):
    masks = initial_masks(params) if callable(initial_masks) else initial_masks
    check_mask_matches(masks, params)
    return MaskedState(jnp.zeros((), jnp.int32), masks, inner.init(params))

  def zeroed(inner_state, masks):
    return optax.tree_utils.tree_map_params(
        inner, lambda s, m: s if m is None else jnp.where(m, s, jnp.zeros_like(s)), inner_state, masks,
        transform_non_params=lambda s, *_: s, is_leaf=_is_none)

  def update(updates, state: MaskedState, params=None):
    if params is None:  # the update sets pruned weights to zero (-p): it needs them
      raise ValueError('masked_update needs the params: call update(grads, state, params).')
    masks = state.masks
    if schedule is not None:
      masks = jax.lax.cond(schedule.is_refresh_step(state.count),
                           lambda: refresh_masks(params, schedule.sparsity_at(state.count)),
                           lambda: masks)
    # The inner optimizer sees pruned weights as zero, with zero gradient and zero state, so its new state
    # is zero there. Masking its inputs (not its outputs) fuses into its update: no param-sized buffer.
    inner_updates, inner_state = inner.update(
        apply_masks(updates, masks), zeroed(state.inner_state, masks),
        apply_masks(params, masks))
    final = jax.tree.map(lambda m, u, p: u if m is None else jnp.where(m, u, -p), masks, inner_updates,
                         params, is_leaf=_is_none)
    return final, MaskedState(state.count + 1, masks, inner_state)

  return optax.GradientTransformation(init, update)


def find_masked_state(opt_state) -> MaskedState | None:
  """The MaskedState inside an optimizer state, if any (for summaries and tests)."""
  found = [s for s in jax.tree.leaves(opt_state, is_leaf=lambda x: isinstance(x, MaskedState))
           if isinstance(s, MaskedState)]
  return found[0] if found else None
