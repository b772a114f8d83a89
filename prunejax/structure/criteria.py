"""Structured criteria: one score per channel of a group, and which channels to keep.

Element scores (|θ|, θ², SNIP, any PaI score tree of ``prunejax.core``) are aggregated over a group's
coupled tensor slices: over its *producers* (the kernels whose output axis the group is: filter norms,
ADaPT's mean |W_f|), its *consumers* (the kernels that read it: a unit's outgoing weights), its
BatchNorm scales (network slimming), or all members.
"""

import functools
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError
from prunejax.structure.activations import DATA_CRITERIA, data_scores
from prunejax.structure.groups import Group, Member
from prunejax.structure.shrink import eval_split

CRITERIA = ('l1', 'l2', 'mean_abs', 'bn_scale', 'contribution')
ALL_CRITERIA = CRITERIA + DATA_CRITERIA + ('random',)
MEMBERS = ('producers', 'consumers', 'bn_scale', 'all')


def channel_scores(element_scores, groups: list[Group], members: str = 'producers',
                   reduce: str = 'sum') -> dict[str, np.ndarray]:
  """Per group, per channel: ``reduce`` ('sum' or 'mean') of the element scores in its slices."""
  return channel_scores_of(element_scores, groups, (members,), reduce)[members]


def channel_scores_of(element_scores, groups: list[Group], member_sets: tuple[str, ...],
                      reduce: str = 'sum') -> dict[str, dict[str, np.ndarray]]:
  """``channel_scores`` for several member sets at once (``{members: {group: scores}}``): one jitted
  computation on the scores' device (segment sums over each member axis: a new network shape, as after a
  DynHP prune, costs one compile), and only the per-channel results come back to the host."""
  leaves = dict(zip(jax.tree.leaves(leaf_paths(element_scores)), jax.tree.leaves(element_scores)))
  layouts, owners, names = [], [], []
  for members in member_sets:
    layout, member_owners, member_names = _layout(leaves, groups, members)
    layouts.append(layout)
    owners.append(member_owners)
    names.append(member_names)
  needed = {path for layout in layouts for _, parts in layout for path, _ in parts}
  sums = jax.device_get(_channel_sums({p: leaves[p] for p in needed}, owners, tuple(layouts)))
  return {members: {name: np.asarray(total / np.maximum(count, 1) if reduce == 'mean' else total, np.float64)
                    for name, (total, count) in zip(member_names, member_sums)}
          for members, member_names, member_sums in zip(member_sets, names, sums)}


def _layout(leaves, groups: list[Group], members: str):
  """(layout: per group (size, ((path, axis), ...)), owners: per group the channel of each index along each
  member's axis, names) of the member slices ``members`` picks."""
  if members not in MEMBERS:
    raise PrunejaxError(f'members={members!r} must be one of {MEMBERS}.')
  layout, owners, names = [], [], []
  for group in groups:
    parts, group_owners = [], []
    for member in group.members:
      leaf = leaves.get(member.path)
      if leaf is None or not {'producers': member.produces,
                              'consumers': member.path.endswith('kernel') and not member.produces,
                              'bn_scale': member.path.endswith('scale'), 'all': True}[members]:
        continue
      parts.append((member.path, member.axis))
      group_owners.append(member.piece.owners(np.shape(leaf)[member.axis]))
    if parts:
      layout.append((group.size, tuple(parts)))
      owners.append(group_owners)
      names.append(group.name)
  return tuple(layout), owners, names


@functools.partial(jax.jit, static_argnums=2)
def _channel_sums(leaves, owners, layouts):
  out = []
  for layout, layout_owners in zip(layouts, owners):
    sums = []
    for (size, parts), group_owners in zip(layout, layout_owners):
      total, count = jnp.zeros(size + 1), jnp.zeros(size + 1)
      for (path, axis), owner in zip(parts, group_owners):
        leaf = jnp.moveaxis(leaves[path], axis, 0)
        per_index = leaf.reshape(leaf.shape[0], -1).astype(jnp.float32).sum(1)
        total += jax.ops.segment_sum(per_index, owner, size + 1)
        per_index_count = jnp.full(leaf.shape[0], leaf.size // max(leaf.shape[0], 1), jnp.float32)
        count += jax.ops.segment_sum(per_index_count, owner, size + 1)
      sums.append((total[:size], count[:size]))
    out.append(sums)
  return out


@functools.partial(jax.jit, static_argnums=0)
def _leafwise(fn, tree):
  """``fn`` on every leaf in one compiled call (eagerly, each leaf shape compiles its own: a dozen per
  shrunk ResNet-20). Kept apart from the sums: fused into a reduction, a square's rounding can change."""
  return jax.tree.map(fn, tree)


def criterion_scores(variables, groups: list[Group], criterion: str) -> dict[str, np.ndarray]:
  """Named criteria on the model's variables: l1, l2 (filter norms), mean_abs (ADaPT), bn_scale, and
  contribution = ‖incoming‖·‖outgoing‖ (L2 norms of a unit's producing and consuming weights: DynHP's)."""
  if criterion not in CRITERIA:
    raise PrunejaxError(f'unknown structured criterion {criterion!r}; choose one of {CRITERIA}.')
  if criterion in ('l2', 'contribution'):
    member_sets = ('producers',) if criterion == 'l2' else ('producers', 'consumers')
    sums = channel_scores_of(_leafwise(jnp.square, variables), groups, member_sets, 'sum')
    incoming = {k: np.sqrt(v) for k, v in sums['producers'].items()}
    if criterion == 'l2':
      return incoming
    outgoing = sums['consumers']
    return {k: v * np.sqrt(outgoing[k]) if k in outgoing else v for k, v in incoming.items()}
  if criterion == 'bn_scale':
    scores = channel_scores(_leafwise(jnp.abs, variables), groups, 'bn_scale', 'mean')
    unscaled = [g.name for g in groups if g.prunable and g.name not in scores]
    if unscaled:
      raise PrunejaxError(f'bn_scale ranks channels by their BatchNorm scale, and {len(unscaled)} prunable '
                          f'group(s) have none (e.g. {unscaled[0]}); choose l1, l2, mean_abs or contribution.')
    return scores
  return channel_scores(_leafwise(jnp.abs, variables), groups, 'producers',
                        'mean' if criterion == 'mean_abs' else 'sum')


def model_scores(model, groups: list[Group], criterion: str, batches=None, seed: int = 0
                 ) -> dict[str, np.ndarray]:
  """Any criterion by name on an NNX model: weight criteria, data criteria on ``batches`` of (x, y),
  or 'random' (seeded: the baseline every criterion must beat)."""
  if criterion in CRITERIA:
    return criterion_scores(eval_split(model)[1], groups, criterion)
  if criterion in DATA_CRITERIA:
    if batches is None:
      raise PrunejaxError(f'criterion {criterion!r} needs data: pass batches of (inputs, labels).')
    return data_scores(model, batches)[criterion]
  if criterion == 'random':
    rng = np.random.default_rng(seed)
    return {g.name: rng.random(g.size) for g in groups}
  raise PrunejaxError(f'unknown structured criterion {criterion!r}; choose one of {ALL_CRITERIA}.')


def select_channels(scores: Mapping[str, np.ndarray], groups: list[Group], ratio: float,
                    scope: str = 'layerwise', min_channels: int = 1, multiple: int = 1
                    ) -> dict[str, np.ndarray]:
  """Kept channel indices per group after removing ``ratio`` of the channels by lowest score.

  ``layerwise`` removes that fraction of every prunable group; ``global`` ranks all channels together
  (scores should then be comparable across groups, e.g. mean_abs). Each group keeps at least
  ``min_channels`` and a multiple of ``multiple`` channels (rounded up, for hardware-friendly shapes).
  """
  if not 0.0 <= ratio < 1.0:
    raise PrunejaxError(f'channel ratio={ratio} must be in [0, 1).')
  if min_channels < 1 or multiple < 1:
    raise PrunejaxError(f'min_channels={min_channels} and multiple={multiple} must be >= 1.')
  prunable = [g for g in groups if g.prunable and g.name in scores]
  if not prunable:
    raise PrunejaxError('no prunable group has scores; pass the scores of these groups (structure.model_scores '
                        'of the network they were traced from).')
  for g in prunable:
    if np.shape(scores[g.name]) != (g.size,):
      raise PrunejaxError(f'scores[{g.name!r}] has shape {np.shape(scores[g.name])}, the group has {g.size} '
                          'channels; score the same network the groups were traced from.')
  if scope == 'layerwise':
    counts = {g.name: g.size - int(np.floor(ratio * g.size)) for g in prunable}
  elif scope == 'global':
    # One ranking of every channel, ties broken by position (earlier groups and channels kept first, as
    # each group's own order below does), so exactly floor(ratio x total) go whatever the ties.
    everything = np.concatenate([scores[g.name] for g in prunable])
    kept = np.argsort(-everything, kind='stable')[:everything.size - int(np.floor(ratio * everything.size))]
    owner = np.repeat(np.arange(len(prunable)), [g.size for g in prunable])
    counts = {g.name: int(n) for g, n in zip(prunable, np.bincount(owner[kept], minlength=len(prunable)))}
  else:
    raise PrunejaxError(f"scope={scope!r} must be 'layerwise' or 'global'.")
  keep = {}
  for g in prunable:
    n = max(counts[g.name], min(min_channels, g.size))
    n = min(g.size, int(np.ceil(n / multiple) * multiple))
    order = np.argsort(-scores[g.name], kind='stable')
    keep[g.name] = np.sort(order[:n])
  return keep
