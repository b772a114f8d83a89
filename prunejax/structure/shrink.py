"""Physical shrinking: gather the kept channels of every coupled tensor, fix the NNX static attributes.

Works on any pytree whose leaf paths name the traced variables: the model's variables, optimizer
states (Adam moments...) and pruning masks, which hold subtrees shaped like the params.
"""

import functools
import weakref
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError
from prunejax.structure.attention import coupled_axes, fix_attention
from prunejax.structure.graph import OUTPUT_REASON, trace_groups_of
from prunejax.structure.groups import Group
from prunejax.structure.layouts import axis_index

_is_none = lambda x: x is None
_TRACED: 'weakref.WeakKeyDictionary[nnx.Module, list[Group]]' = weakref.WeakKeyDictionary()

# path -> ((axis, kept indices), ...): what to gather from each variable.
Plan = dict[str, tuple[tuple[int, np.ndarray], ...]]


def eval_split(model: nnx.Module):
  """(graphdef in eval mode, all variables) of ``model``, leaving ``model`` itself untouched."""
  clone = nnx.clone(model)
  clone.eval()
  return nnx.split(clone)


def trace_groups(model: nnx.Module, *sample_inputs, strict: bool = False) -> list[Group]:
  """The channel groups of ``model`` (params and BatchNorm statistics), traced on ``sample_inputs``.

  An operation the tracer cannot follow keeps the groups it touches whole (``reason`` names it);
  ``strict=True`` raises there instead.
  """
  graphdef, variables = eval_split(model)
  groups = trace_groups_of(lambda v, *xs: nnx.merge(graphdef, v, copy=True)(*xs), variables,
                           *sample_inputs, strict=strict, couple=coupled_axes(model))
  _TRACED[model] = groups
  return groups


def make_plan(groups: Sequence[Group], keep: Mapping[str, Sequence[int]], variables,
              outputs: bool = False) -> Plan:
  """Checks ``keep`` (group name -> kept channel indices, or a boolean keep-mask) and turns it into
  per-variable gathers. ``outputs``: a group that reaches the model output may be cut too (the classes of
  a classifier head, deliberately); other unprunable groups never."""
  by_name = {g.name: g for g in groups}
  kept = {}
  for name, indices in keep.items():
    if name not in by_name:
      raise PrunejaxError(f'no channel group named {name!r}; groups are {sorted(by_name)[:6]}...')
    group = by_name[name]
    indices = np.asarray(indices)
    if indices.dtype == bool:  # a keep-mask
      if indices.shape != (group.size,):
        raise PrunejaxError(f'keep-mask for group {name!r} has shape {indices.shape}; it needs '
                            f'({group.size},), one flag per channel.')
      indices = np.flatnonzero(indices)
    if indices.size and not np.issubdtype(indices.dtype, np.integer):
      raise PrunejaxError(f'keep indices for group {name!r} must be integers or a boolean mask, got '
                          f'{indices.dtype}.')
    if len(np.unique(indices)) != indices.size:
      raise PrunejaxError(f'keep indices for group {name!r} repeat a channel; give each kept channel once.')
    indices = np.sort(indices.ravel()).astype(np.int64)
    if not group.prunable and len(indices) != group.size and not (outputs and group.reason == OUTPUT_REASON):
      hint = ' (outputs=True cuts the classes of a head deliberately)' if group.reason == OUTPUT_REASON else ''
      raise PrunejaxError(f'group {name!r} cannot be shrunk: it {group.reason}{hint}.')
    if len(indices) == 0 or indices[0] < 0 or indices[-1] >= group.size:
      raise PrunejaxError(f'group {name!r} has {group.size} channels; keep indices must be a non-empty '
                          f'subset of 0..{group.size - 1}.')
    kept[group.members[0].piece.group] = indices
  sizes = dict(zip(jax.tree.leaves(leaf_paths(variables)), (np.shape(x) for x in jax.tree.leaves(variables))))
  layouts: dict[tuple[str, int], list] = {}
  for group in groups:
    for member in group.members:
      layouts.setdefault((member.path, member.axis), []).append(member.piece)
  plan: dict[str, list] = {}
  for (path, axis), pieces in sorted(layouts.items()):
    index = axis_index(tuple(sorted(pieces, key=lambda p: p.offset)), sizes[path][axis], kept)
    if index is not None:
      plan.setdefault(path, []).append((axis, index))
  return {path: tuple(gathers) for path, gathers in plan.items()}


def shrunk_shapes(groups: Sequence[Group], keep: Mapping[str, Sequence[int]], variables
                  ) -> dict[str, tuple[int, ...]]:
  """'/'-joined path -> shape of every variable after shrinking by ``keep``, without moving any data
  (what a shrink would cost or save, e.g. to land a parameter budget exactly)."""
  plan = make_plan(groups, keep, variables)
  shapes = {}
  for path, leaf in zip(jax.tree.leaves(leaf_paths(variables)), jax.tree.leaves(variables)):
    shape = list(np.shape(leaf))
    for axis, index in plan.get(path, ()):
      shape[axis] = len(index)
    shapes[path] = tuple(shape)
  return shapes


def shrink_tree(tree, plan: Plan, prefix_free: bool = True):
  """Applies ``plan`` to every leaf of ``tree`` whose path (or path suffix) it names; None stays None.

  Optimizer states hold params-shaped subtrees under prefixes ('0/mu/...'): a leaf matches when its
  path ends with a planned path, so one plan serves params, moments and masks alike. All gathers run
  as one jitted computation; the kept sizes are static (the shapes of the index arrays).
  """
  leaves, treedef = jax.tree.flatten(tree, is_leaf=_is_none)
  paths = jax.tree.leaves(leaf_paths(jax.tree.map(lambda x: 0 if x is None else x, tree, is_leaf=_is_none)))
  chosen, indices, axes = [], [], []
  for position, (path, leaf) in enumerate(zip(paths, leaves)):
    key = None if leaf is None else (_planned_path(path, plan) if prefix_free else
                                     (path if path in plan else None))
    if key is None:
      continue
    for axis, index in plan[key]:
      if leaf.shape[axis] <= index.max(initial=-1):
        raise PrunejaxError(f'cannot shrink {path}: axis {axis} has {leaf.shape[axis]} entries.')
    chosen.append(position)
    indices.append(tuple(np.asarray(index, np.int32) for _, index in plan[key]))
    axes.append(tuple(axis for axis, _ in plan[key]))
  gathered = _gather([leaves[i] for i in chosen], indices, tuple(axes))
  for position, leaf in zip(chosen, gathered):
    leaves[position] = leaf
  return jax.tree.unflatten(treedef, leaves)


# Pure data movement: LLVM's optimisations buy nothing here and cost a third of the compile time.
@functools.partial(jax.jit, static_argnums=2, compiler_options={'xla_backend_optimization_level': 0})
def _gather(leaves, indices, axes):
  out = []
  for leaf, leaf_indices, leaf_axes in zip(leaves, indices, axes):
    for index, axis in zip(leaf_indices, leaf_axes):
      leaf = jnp.take(leaf, index, axis=axis, unique_indices=True, indices_are_sorted=True)
    out.append(leaf)
  return out


def _planned_path(path: str, plan: Plan) -> str | None:
  """The longest planned path that ``path`` is or ends with ('0/mu/a/conv/kernel' -> 'a/conv/kernel')."""
  matches = [c for c in plan if path == c or path.endswith('/' + c)]
  return max(matches, key=len, default=None)


def zero_channels(variables, plan: Plan):
  """``variables`` with every coupled entry of the removed channels set to zero (same shapes).

  The reference for function preservation: the shrunk model computes what this one computes.
  """
  def zero(path, leaf):
    if path not in plan:
      return leaf
    keep = jnp.ones(leaf.shape, bool)
    for axis, index in plan[path]:
      axis_keep = np.zeros(leaf.shape[axis], bool)
      axis_keep[index] = True
      keep = keep & jnp.asarray(axis_keep).reshape([-1 if a == axis else 1 for a in range(leaf.ndim)])
    return jnp.where(keep, leaf, jnp.zeros_like(leaf))

  return jax.tree.map(zero, leaf_paths(variables), variables)


def shrink(model: nnx.Module, keep: Mapping[str, Sequence[int]], groups: Sequence[Group] | None = None,
           outputs: bool = False) -> nnx.Module:
  """A new model keeping only ``keep[group]`` channels of each named group; ``model`` is untouched.

  ``keep`` values are kept indices or boolean keep-masks. ``groups`` default to those ``trace_groups``
  last found for this model. ``outputs=True`` also lets a group that reaches the output shrink (a
  classifier head keeping some classes).
  """
  if groups is None:
    if model not in _TRACED:
      raise PrunejaxError('call prunejax.structure.trace_groups(model, sample_input) before shrink, or '
                          'pass groups=.')
    groups = _TRACED[model]
  graphdef, state = shrink_split(*nnx.split(model), groups, keep, outputs=outputs)
  return nnx.merge(graphdef, state)


def shrink_split(graphdef: nnx.GraphDef, state: nnx.State, groups: Sequence[Group],
                 keep: Mapping[str, Sequence[int]], *trees, outputs: bool = False):
  """The functional form of ``shrink``: (graphdef, state) of the shrunk model, then each of ``trees``
  (optimizer states, masks: anything holding params-shaped subtrees) shrunk alike."""
  plan = make_plan(groups, keep, state, outputs)
  model = nnx.merge(graphdef, shrink_tree(state, plan, prefix_free=False), copy=True)
  fix_static_attributes(model)
  return (*nnx.split(model), *(shrink_tree(tree, plan) for tree in trees))


def fix_static_attributes(model: nnx.Module) -> None:
  """Sets in/out features, group counts and norm sizes from the (shrunk) variable shapes."""
  for _, module in nnx.iter_modules(model):
    if isinstance(module, nnx.MultiHeadAttention):
      fix_attention(module)
    elif isinstance(module, nnx.LinearGeneral):
      batch, inputs = len(module.batch_axis), len(module.in_features)
      shape = module.kernel.shape
      module.in_features, module.out_features = shape[batch:batch + inputs], shape[batch + inputs:]
    elif isinstance(module, nnx.Linear):
      module.in_features, module.out_features = module.kernel.shape
    elif isinstance(module, nnx.Conv):
      *_, per_group_in, out = module.kernel.shape
      if module.feature_group_count > 1 and per_group_in == 1:  # depthwise stays depthwise
        module.feature_group_count = out
      module.in_features, module.out_features = per_group_in * module.feature_group_count, out
    elif isinstance(module, (nnx.BatchNorm, nnx.LayerNorm, nnx.GroupNorm, nnx.RMSNorm)):
      stats = [v for v in (getattr(module, 'scale', None), getattr(module, 'mean', None)) if v is not None]
      if stats:
        module.num_features = stats[0].shape[-1]

