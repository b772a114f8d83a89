"""Channel dependency groups traced from a model's jaxpr: which parameter axes must shrink together.

The forward pass is traced with every model variable (params and BatchNorm statistics) as an input.
Walking the equations, each Dense/Conv output-channel axis starts a group; the group then flows through
the computation: element-wise ops couple operands (a residual add merges two groups), a following
layer's kernel input axis joins it, BatchNorm scale/bias/mean/var join it where they meet it, reshapes
that flatten NHWC features give a strided piece, concatenations give offset pieces, depthwise
convolutions pass it through. Products of two activations (attention's q.k^T and weights.v) couple
their batch axes (the heads) and their contracted axes (query/key dims, marked ``normalized``: attention's
1/sqrt(d) comes from the width). A reshape that splits a whole channel axis into (outer, inner) makes
the outer axis a coarser group (grouped-query attention: key/value heads, each owning its query heads).
Channels reaching the model's output are never pruned.

An operation the walker does not understand makes only the groups it touches unprunable, with the
primitive in ``reason``; ``strict=True`` fails loudly instead, naming the primitive and the parameter.
"""

import dataclasses
import math
from collections.abc import Sequence

import jax
import numpy as np
from jax.extend import core as jex_core

from prunejax.core.jaxprs import called_jaxpr
from prunejax.core.paths import leaf_paths
from prunejax.errors import PrunejaxError
from prunejax.structure.groups import Group, Member, Tap, Trace
from prunejax.structure.layouts import Layout, Piece, shifted

OUTPUT_REASON = 'reaches the model output'  # why an output group is not prunable (shrink can cut it on request)

ELEMENTWISE = {
    'add', 'sub', 'mul', 'div', 'max', 'min', 'pow', 'neg', 'exp', 'exp2', 'log', 'log1p', 'tanh',
    'logistic', 'sqrt', 'rsqrt', 'abs', 'sign', 'integer_pow', 'square', 'erf', 'erf_inv', 'select_n',
    'clamp', 'convert_element_type', 'stop_gradient', 'copy', 'copy_p', 'eq', 'ne', 'gt', 'ge', 'lt',
    'le', 'and', 'or', 'not', 'is_finite', 'sin', 'cos', 'atan2', 'expm1', 'rem', 'floor', 'ceil',
    'round', 'reduce_precision', 'nextafter', 'cbrt', 'tan', 'add_any',
}
REDUCTIONS = {'reduce_sum', 'reduce_max', 'reduce_min', 'reduce_prod', 'argmax', 'argmin', 'reduce_and',
              'reduce_or'}
WINDOWED = {'reduce_window_max', 'reduce_window_min', 'reduce_window_sum', 'reduce_window',
            'cumsum', 'cummax', 'cummin', 'cumprod', 'cumlogsumexp'}


# What the walker knows about a jaxpr value.
@dataclasses.dataclass(frozen=True)
class _Activation:  # depends on the model input; one Layout per axis
  layouts: tuple[Layout, ...]


@dataclasses.dataclass(frozen=True)
class _Source:  # computed from variables only; per leaf, which leaf axis each value axis is (or None)
  leaves: tuple[tuple[int, tuple[int | None, ...]], ...]


@dataclasses.dataclass(frozen=True)
class _Loose:
  """An activation axis with no group yet: constant along it (a broadcast statistic, as LayerNorm's
  mean) and possibly carrying variable axes that join whichever group it meets (LayerNorm's scale)."""
  members: frozenset = frozenset()


_CONST = None  # literals, iota, ...: broadcastable, no channel meaning


def pieces(layout) -> Layout:
  """The grouped pieces of an axis annotation (none for fixed or loose axes)."""
  return layout if isinstance(layout, tuple) else ()


class _Walker:
  def __init__(self, paths: list[str], strict: bool = False):
    self.paths = paths
    self.strict = strict
    self.blocked_leaves: dict[int, str] = {}  # variable -> why every group holding it cannot be pruned
    self.parent: list[int] = []
    self.group_size: list[int] = []
    self.group_name: list[str] = []
    self.blocked: dict[int, str] = {}  # group -> why it cannot be pruned
    self.normalized: set[int] = set()  # groups a reduction runs over (LayerNorm statistics)
    self.members: dict[tuple[int, int], tuple[Layout, str]] = {}  # (leaf, axis) -> layout
    self.produced: set[tuple[int, int]] = set()  # kernel output axes: (leaf, axis)
    # group -> (coarser group, B): a reshape split its C channels into (C/B, B), as grouped-query attention
    # splits query heads by key/value head; each coarse channel owns B consecutive fine ones.
    self.refined: dict[int, tuple[int, int]] = {}
    self.confirmed: set[int] = set()  # coarse groups that pair as heads in a product: the split is attention's
    self.taps: list[tuple[tuple[int, ...], int, int, Layout]] = []
    self.position: tuple[int, ...] = ()

  # ---- groups (union-find) ----
  def new_group(self, size: int, name: str) -> int:
    self.parent.append(len(self.parent))
    self.group_size.append(size)
    self.group_name.append(name)
    return len(self.parent) - 1

  def find(self, g: int) -> int:
    while self.parent[g] != g:
      self.parent[g] = self.parent[self.parent[g]]
      g = self.parent[g]
    return g

  def union(self, a: int, b: int, where: str) -> None:
    a, b = self.find(a), self.find(b)
    if a == b:
      return
    if self.group_size[a] != self.group_size[b]:
      raise PrunejaxError(f'cannot couple {self.group_size[a]} and {self.group_size[b]} channels at {where}.')
    if a in self.refined and b in self.refined:
      raise PrunejaxError(f'two split channel groups meet at {where}; not supported.')
    split = self.refined.pop(a, None) or self.refined.pop(b, None)
    self.parent[max(a, b)] = min(a, b)  # the earlier-born group names the union
    if split is not None:
      self.refined[min(a, b)] = split

  def refine(self, group: int, coarse: int, fine: int) -> int:
    """The coarse group of ``group`` split into (coarse, fine) channels (made once per group)."""
    root = self.find(group)
    if root in self.refined:
      k, b = self.refined[root]
      if b != fine:
        raise PrunejaxError(f'channel group {self.group_name[root]!r} is split two ways; not supported.')
      return k
    k = self.new_group(coarse, self.group_name[root])
    self.refined[root] = (k, fine)
    return k

  def resolved(self, piece: Piece) -> Piece:
    """``piece`` in its root group, through any splits (a fine channel block becomes coarse channels)."""
    root = self.find(piece.group)
    while root in self.refined:
      k, b = self.refined[root]
      piece = dataclasses.replace(piece, channels=piece.channels // b, inner=piece.inner * b)
      root = self.find(k)
    return dataclasses.replace(piece, group=root)

  def root(self, group: int) -> int:
    return self.resolved(Piece(group, self.group_size[group])).group

  def add_member(self, leaf: int, axis: int, layout: Layout, where: str) -> None:
    key = (leaf, axis)
    if key in self.members:
      self.unify([self.members[key], layout], f'{self.paths[leaf]}[{axis}] ({where})')
    else:
      self.members[key] = layout

  def unify(self, layouts: list[Layout], where: str) -> Layout:
    """Couples layouts that meet on one axis; they must have the same piece structure."""
    grouped = [l for l in layouts if l]
    if not grouped:
      return ()
    first = grouped[0]
    for other in grouped[1:]:
      shape = lambda l: [(p.offset, p.size, p.repeat, p.inner, p.stride) for p in l]
      if shape(other) != shape(first):
        raise PrunejaxError(f'channels with different layouts meet at {where}; this coupling is not '
                            'supported.')
      for p, q in zip(first, other):
        self.union(p.group, q.group, where)
    return first

  def couple(self, first: tuple[str, int], second: tuple[str, int]) -> None:
    """Joins the groups on two variable axes; if only one axis holds a group, it cannot shrink alone."""
    layouts = [self.members.get((self.paths.index(path), axis), ()) if path in self.paths else ()
               for path, axis in (first, second)]
    where = f'{first[0]}[{first[1]}] and {second[0]}[{second[1]}], which must keep the same channels'
    if all(layouts):
      self.unify(layouts, where)
    for layout in layouts:
      for piece in layout if not all(layouts) else ():
        self.blocked.setdefault(piece.group, f'couples {where}; only one of them holds a group')

  # ---- the walk ----
  def walk(self, jaxpr, inputs: list, prefix: tuple[int, ...] = ()) -> list:
    env = {}
    read = lambda v: _CONST if isinstance(v, jex_core.Literal) else env.get(v, _CONST)
    for var, value in zip(jaxpr.invars, inputs):
      env[var] = value
    for index, eqn in enumerate(jaxpr.eqns):
      self.position = prefix + (index,)
      outs = self.equation(eqn, [read(v) for v in eqn.invars])
      for var, value in zip(eqn.outvars, outs):
        env[var] = value
    return [read(v) for v in jaxpr.outvars]

  def where(self, eqn, values) -> str:
    leaves = sorted({self.paths[i] for v in values if isinstance(v, _Source) for i, _ in v.leaves})
    return f"primitive '{eqn.primitive.name}'" + (f' on {", ".join(leaves)}' if leaves else '')

  def equation(self, eqn, values):
    called = called_jaxpr(eqn)
    if called is not None:
      inner, _ = called
      offset = len(inner.invars) - len(values)  # custom_vjp may prepend consts
      return self.walk(inner, [_CONST] * max(offset, 0) + list(values), self.position)
    if all(v is _CONST for v in values):
      return [_CONST] * len(eqn.outvars)
    try:
      return self.known(eqn, values)
    except PrunejaxError as error:
      if self.strict:
        raise
      return self.give_up(eqn, values, str(error))

  def give_up(self, eqn, values, message: str) -> list:
    """Partial tracing: every group and variable the equation touches becomes unprunable; its outputs
    carry no groups (anything grouped they later meet is kept whole too)."""
    reason = f'meets an operation the tracer cannot follow: {message.split("; supported")[0].rstrip(".")}'
    for value in values:
      if isinstance(value, _Activation):
        for layout in value.layouts:
          for piece in pieces(layout):
            self.blocked.setdefault(piece.group, reason)
          for leaf, _ in (layout.members if isinstance(layout, _Loose) else ()):
            self.blocked_leaves.setdefault(leaf, reason)
      elif isinstance(value, _Source):
        for leaf, _ in value.leaves:
          self.blocked_leaves.setdefault(leaf, reason)
    return [_Activation(((),) * len(getattr(v.aval, 'shape', ()))) for v in eqn.outvars]

  def known(self, eqn, values):
    name = eqn.primitive.name
    shapes = [getattr(v.aval, 'shape', ()) for v in eqn.invars]
    out_shapes = [getattr(v.aval, 'shape', ()) for v in eqn.outvars]
    if all(not isinstance(v, _Activation) for v in values):
      return [self.source_op(eqn, values, shapes, out_shapes)] * len(eqn.outvars)
    if name in ELEMENTWISE:
      return [self.elementwise(eqn, values, shapes, out_shapes[0])] * len(eqn.outvars)
    if name == 'broadcast_in_dim':
      return [self.broadcast(values[0], eqn.params['broadcast_dimensions'], shapes[0], out_shapes[0])]
    if name == 'conv_general_dilated':
      return [self.conv(eqn, values, shapes, out_shapes[0])]
    if name == 'dot_general':
      return [self.dot(eqn, values, shapes, out_shapes[0])]
    if name == 'reshape':
      return [self.reshape(eqn, values[0], shapes[0], out_shapes[0])]
    if name in REDUCTIONS:
      axes = set(eqn.params['axes'])
      for axis in axes:
        if name in ('argmax', 'argmin'):  # the result indexes the channels: removing some renumbers it
          for piece in pieces(values[0].layouts[axis]):
            self.blocked.setdefault(piece.group, f'indexed by {self.where(eqn, values)}')
        else:
          self.normalized.update(p.group for p in pieces(values[0].layouts[axis]))
      return [_Activation(tuple(l for i, l in enumerate(values[0].layouts) if i not in axes))]
    if name in WINDOWED:
      return [self.windowed(eqn, values, shapes[0])] * len(eqn.outvars)
    if name == 'transpose':
      return [_Activation(tuple(values[0].layouts[i] for i in eqn.params['permutation']))]
    if name == 'squeeze':
      drop = set(eqn.params['dimensions'])
      return [_Activation(tuple(l for i, l in enumerate(values[0].layouts) if i not in drop))]
    if name == 'concatenate':
      return [self.concatenate(eqn, values, shapes, out_shapes[0])]
    if name in ('slice', 'dynamic_slice'):
      return [self.slice(eqn, values, shapes[0], out_shapes[0])]
    if name == 'pad':
      for (low, high, interior), layout in zip(eqn.params['padding_config'], values[0].layouts):
        if pieces(layout) and (low or high or interior):
          raise PrunejaxError(f'{self.where(eqn, values)} pads a channel axis; not supported.')
      return [values[0]]
    raise PrunejaxError(f'cannot trace channels through {self.where(eqn, values)}; supported are '
                        'Dense/Conv (incl. depthwise), attention, norms, element-wise ops, pooling, reshape/'
                        'flatten, slicing along other axes, concatenation and transposes.')

  def source_op(self, eqn, values, shapes, out_shapes):
    """An op on variables only (e.g. BatchNorm's scale * rsqrt(var + eps)): track axis provenance."""
    out_shape = out_shapes[0]
    name = eqn.primitive.name
    leaves = []
    for value, shape in zip(values, shapes):
      if not isinstance(value, _Source):
        continue
      for leaf, axes in value.leaves:
        if name in ELEMENTWISE and len(shape) == len(out_shape):
          leaves.append((leaf, axes))
        elif name == 'broadcast_in_dim':
          mapped = [None] * len(out_shape)
          for i, d in enumerate(eqn.params['broadcast_dimensions']):
            if shape[i] == out_shape[d]:
              mapped[d] = axes[i]
          leaves.append((leaf, tuple(mapped)))
        elif name == 'reshape' and [s for s in shape if s != 1] == [s for s in out_shape if s != 1]:
          kept = iter([a for a, s in zip(axes, shape) if s != 1])
          leaves.append((leaf, tuple(next(kept) if s != 1 else None for s in out_shape)))
        elif name in ('transpose',):
          leaves.append((leaf, tuple(axes[i] for i in eqn.params['permutation'])))
        elif name in ELEMENTWISE:  # scalar operand broadcast implicitly
          continue
        else:
          raise PrunejaxError(f'cannot trace channels through {self.where(eqn, values)} applied to '
                              'variables only; not supported.')
    return _Source(tuple(leaves))

  def elementwise(self, eqn, values, shapes, out_shape):
    where = self.where(eqn, values)
    layouts = []
    for axis in range(len(out_shape)):
      found = [_Loose() if shape[axis] == 1 < out_shape[axis] else v.layouts[axis]  # implicit broadcast
               for v, shape in zip(values, shapes)
               if isinstance(v, _Activation) and len(v.layouts) == len(out_shape)]
      variables = {(leaf, axes[axis]) for v, shape in zip(values, shapes) if isinstance(v, _Source)
                   for leaf, axes in v.leaves if axes[axis] is not None and shape[axis] == out_shape[axis]}
      layouts.append(self.meet(found, variables, out_shape[axis], where))
    return _Activation(tuple(layouts))

  def meet(self, found: list, variables: set, size: int, where: str):
    """The annotation of an axis where ``found`` annotations and ``variables`` axes meet, coupled."""
    layout = self.unify([l for l in found if pieces(l)], where)
    variables = variables.union(*(l.members for l in found if isinstance(l, _Loose)))
    if layout:
      if size > 1 and any(l == () for l in found):
        for piece in layout:  # grouped channels meet fixed channels (e.g. the input's): keep them all
          self.blocked.setdefault(piece.group, f'meets fixed channels at {where}')
      for leaf, leaf_axis in sorted(variables):
        self.add_member(leaf, leaf_axis, layout, where)
      return layout
    if any(l == () for l in found):
      return ()
    return _Loose(frozenset(variables))

  def windowed(self, eqn, values, shape) -> '_Activation':
    """Pooling and cumulative ops keep channels along the axes they do not mix; grouped channels on an
    axis they mix (a window, stride or padding wider than 1, a cumulative axis) cannot be pruned."""
    params, value = eqn.params, values[0]
    if 'axis' in params:  # cumsum, cummax, ...: one mixed axis
      mixed = {params['axis'] % len(shape)}
    else:
      ones = [1] * len(shape)
      mixed = {i for i in range(len(shape))
               if params['window_dimensions'][i] != 1 or params['window_strides'][i] != 1
               or tuple(params['padding'][i]) != (0, 0) or (params.get('base_dilation') or ones)[i] != 1
               or (params.get('window_dilation') or ones)[i] != 1}
    layouts = list(value.layouts)
    for axis in mixed:
      for piece in pieces(layouts[axis]):
        self.blocked.setdefault(piece.group, f'mixed along its channel axis by {self.where(eqn, values)}')
      if pieces(layouts[axis]):
        layouts[axis] = ()
    return _Activation(tuple(layouts))

  def broadcast(self, value, dims, shape, out_shape):
    layouts = [_Loose()] * len(out_shape)
    for i, d in enumerate(dims):
      if shape[i] == out_shape[d]:
        layouts[d] = value.layouts[i]
    return _Activation(tuple(layouts))

  def kernel_leaf(self, eqn, values, value):
    if not isinstance(value, _Source) or len(value.leaves) != 1:
      raise PrunejaxError(f'{self.where(eqn, values)}: the kernel must be one variable; not supported.')
    return value.leaves[0]

  def conv(self, eqn, values, shapes, out_shape):
    lhs, rhs = values
    if not isinstance(lhs, _Activation) or eqn.params['batch_group_count'] != 1:
      raise PrunejaxError(f'{self.where(eqn, values)}: unsupported convolution form.')
    leaf, axes = self.kernel_leaf(eqn, values, rhs)
    dn = eqn.params['dimension_numbers']
    lhs_feature, rhs_out, rhs_in, out_feature = dn.lhs_spec[1], dn.rhs_spec[0], dn.rhs_spec[1], dn.out_spec[1]
    groups = eqn.params['feature_group_count']
    channels_in, channels_out = shapes[0][lhs_feature], out_shape[out_feature]
    layout_in = pieces(lhs.layouts[lhs_feature])
    for axis, layout in enumerate(lhs.layouts):  # channels on a spatial or batch axis are mixed by the window
      for piece in pieces(layout) if axis != lhs_feature else ():
        self.blocked.setdefault(piece.group, f'mixed along a non-channel axis by {self.where(eqn, values)}')
    layouts = [()] * len(out_shape)
    if groups == 1:
      if layout_in:
        self.taps.append((self.position, 0, lhs_feature, layout_in))
        self.add_member(leaf, axes[rhs_in], layout_in, self.where(eqn, values))
      group = self.new_group(channels_out, self.paths[leaf])
      layouts[out_feature] = (Piece(group, channels_out),)
      self.add_member(leaf, axes[rhs_out], layouts[out_feature], self.where(eqn, values))
      self.produced.add((leaf, axes[rhs_out]))
    elif groups == channels_in == channels_out:  # depthwise: channel c in -> channel c out
      layouts[out_feature] = layout_in
      if layout_in:
        self.add_member(leaf, axes[rhs_out], layout_in, self.where(eqn, values))
        self.produced.add((leaf, axes[rhs_out]))
    else:
      raise PrunejaxError(f'{self.where(eqn, values)}: grouped convolution with {groups} groups '
                          f'({channels_in} -> {channels_out} channels) is not supported.')
    return _Activation(tuple(layouts))

  def dot(self, eqn, values, shapes, out_shape):
    (lc, rc), (lb, rb) = eqn.params['dimension_numbers']
    lhs, rhs = values
    if isinstance(lhs, _Activation) and isinstance(rhs, _Activation):
      return self.product(eqn, values, shapes, out_shape)
    swap = not isinstance(lhs, _Activation)
    act, kernel = (rhs, lhs) if swap else (lhs, rhs)
    act_c, ker_c = (rc, lc) if swap else (lc, rc)
    act_b = rb if swap else lb
    act_shape, ker_shape = (shapes[1], shapes[0]) if swap else (shapes[0], shapes[1])
    leaf, axes = self.kernel_leaf(eqn, values, kernel)
    where = self.where(eqn, values)
    for a, k in zip(act_c, ker_c):
      if pieces(act.layouts[a]):
        self.taps.append((self.position, int(swap), a, act.layouts[a]))
        self.add_member(leaf, axes[k], act.layouts[a], where)
    act_free = [i for i in range(len(act_shape)) if i not in act_c and i not in act_b]
    ker_free = [i for i in range(len(ker_shape)) if i not in ker_c and i not in (lb if swap else rb)]
    batch = [act.layouts[i] for i in act_b]
    free_act = [act.layouts[i] for i in act_free]
    free_ker = []
    for k in ker_free:  # a kernel with several output axes (attention's heads x head dims) names each
      name = self.paths[leaf] + (f'[{axes[k]}]' if len(ker_free) > 1 else '')
      group = self.new_group(ker_shape[k], name)
      free_ker.append((Piece(group, ker_shape[k]),))
      self.add_member(leaf, axes[k], free_ker[-1], where)
      self.produced.add((leaf, axes[k]))
    ordered = batch + (free_ker + free_act if swap else free_act + free_ker)
    return _Activation(tuple(ordered))

  def product(self, eqn, values, shapes, out_shape):
    """A product of two activations (attention's q.k^T, weights.v): paired batch axes (heads) carry one
    coupled group; paired contracted axes (query/key dims) too, marked normalized since attention scales
    by 1/sqrt(width); free axes keep theirs. Output axes: batch, lhs free, rhs free (dot_general's)."""
    (lc, rc), (lb, rb) = eqn.params['dimension_numbers']
    lhs, rhs = values
    where = self.where(eqn, values)
    pair = lambda a, b: self.meet([lhs.layouts[a], rhs.layouts[b]], set(), shapes[0][a], where)
    batch = [pair(a, b) for a, b in zip(lb, rb)]
    self.confirmed.update(self.root(p.group) for layout in batch for p in pieces(layout))
    for a, b in zip(lc, rc):
      self.normalized.update(p.group for p in pieces(pair(a, b)))
    free = lambda value, contracted, batched: [l for i, l in enumerate(value.layouts)
                                               if i not in contracted and i not in batched]
    return _Activation(tuple(batch + free(lhs, lc, lb) + free(rhs, rc, rb)))

  def slice(self, eqn, values, shape, out_shape):
    """Slicing (a class token's x[:, 0], a crop) keeps the channels of every axis it leaves whole."""
    value = values[0]
    if not isinstance(value, _Activation):
      raise PrunejaxError(f'{self.where(eqn, values)} slices variables by the input; not supported.')
    layouts = list(value.layouts)
    for axis, (before, after) in enumerate(zip(shape, out_shape)):
      if before != after and pieces(layouts[axis]):
        raise PrunejaxError(f'{self.where(eqn, values)} selects part of a channel axis; not supported.')
      if before != after and isinstance(layouts[axis], _Loose):
        layouts[axis] = ()  # its variables' axes no longer match the activation's
    return _Activation(tuple(layouts))

  def reshape(self, eqn, value, shape, out_shape):
    layouts = [()] * len(out_shape)
    i = j = 0
    while i < len(shape) or j < len(out_shape):
      ins, outs = [i], [j]
      pin, pout = (shape[i] if i < len(shape) else 1), (out_shape[j] if j < len(out_shape) else 1)
      while pin != pout:
        if pin < pout:
          i += 1
          ins.append(i)
          pin *= shape[i]
        else:
          j += 1
          outs.append(j)
          pout *= out_shape[j]
      ins = [a for a in ins if a < len(shape)]
      outs = [b for b in outs if b < len(out_shape)]
      grouped = [a for a in ins if pieces(value.layouts[a])]
      real_outs = [b for b in outs if out_shape[b] != 1]
      split = self.split_channels(value, shape, out_shape, ins, grouped, real_outs)
      if split is not None:
        for axis, layout in split.items():
          layouts[axis] = layout
      elif grouped:
        if len(grouped) > 1 or len(real_outs) != 1:
          raise PrunejaxError(f'{self.where(eqn, [value])}: a reshape that splits or mixes channel axes '
                              f'({shape} -> {out_shape}) is not supported.')
        a, layout = grouped[0], value.layouts[grouped[0]]
        before = math.prod(shape[b] for b in ins if b < a)
        after = math.prod(shape[b] for b in ins if b > a)
        if any(p.repeat != 1 for p in layout):
          raise PrunejaxError(f'{self.where(eqn, [value])}: flattening an already flattened channel axis '
                              'is not supported.')
        layouts[real_outs[0]] = tuple(
            dataclasses.replace(p, offset=p.offset * after, repeat=before, inner=p.inner * after,
                                stride=shape[a] * after if before > 1 else 0) for p in layout)
      i, j = i + 1, j + 1
    return _Activation(tuple(layouts))

  def split_channels(self, value, shape, out_shape, ins, grouped, real_outs):
    """A whole channel axis of one plain group split into (outer, inner) axes, the inner one not grouped:
    the outer axis gets the coarse group (grouped-query attention's key/value heads). None otherwise."""
    if len(grouped) != 1 or len(real_outs) != 2 or [a for a in ins if shape[a] != 1] != grouped:
      return None
    layout = value.layouts[grouped[0]]
    if len(layout) != 1 or layout[0] != Piece(layout[0].group, shape[grouped[0]]):
      return None
    outer, inner = real_outs
    coarse = self.refine(layout[0].group, out_shape[outer], out_shape[inner])
    return {outer: (Piece(coarse, out_shape[outer]),), inner: ()}

  def concatenate(self, eqn, values, shapes, out_shape):
    d = eqn.params['dimension']
    where = self.where(eqn, values)
    layouts = []
    for axis in range(len(out_shape)):
      if axis != d:  # a variable concatenated along another axis (a class token) joins the channels here
        variables = {(leaf, axes[axis]) for v, shape in zip(values, shapes) if isinstance(v, _Source)
                     for leaf, axes in v.leaves if axes[axis] is not None and shape[axis] == out_shape[axis]}
        layouts.append(self.meet([v.layouts[axis] for v in values if isinstance(v, _Activation)], variables,
                                 out_shape[axis], where))
        continue
      joined, offset = [], 0
      for value, shape in zip(values, shapes):
        if isinstance(value, _Activation):  # a variable's entries along ``d`` belong to no group: kept
          joined.extend(shifted(pieces(value.layouts[axis]), offset))
        offset += shape[axis]
      layouts.append(tuple(joined))
    return _Activation(tuple(layouts))


Coupling = tuple[tuple[str, int], tuple[str, int]]  # two (path, axis) that must keep the same channels


def trace_groups_of(apply_fn, variables, *sample_inputs, strict: bool = False,
                    couple: Sequence[Coupling] = ()) -> list[Group]:
  """Groups of ``apply_fn(variables, *inputs)``: the functional form ``trace_groups`` wraps.

  ``variables`` is any pytree (an NNX State of params and statistics, a dict...); member paths are
  its '/'-joined leaf paths. ``strict``: fail on the first operation the tracer cannot follow instead
  of keeping the groups it touches whole. ``couple``: axes a module's code (not its jaxpr) requires to
  keep the same channels, e.g. attention's value and key head dims.
  """
  return trace(apply_fn, variables, *sample_inputs, strict=strict, couple=couple).groups


def trace(apply_fn, variables, *sample_inputs, strict: bool = False, couple: Sequence[Coupling] = ()
          ) -> Trace:
  """Walks the jaxpr of ``apply_fn(variables, *inputs)``: its groups, and where kernels read them."""
  closed = jax.make_jaxpr(apply_fn)(variables, *sample_inputs)
  paths = jax.tree.leaves(leaf_paths(variables))
  leaf_axes = [tuple(range(np.ndim(x))) for x in jax.tree.leaves(variables)]
  walker = _Walker(paths, strict)
  inputs = [_Source(((i, axes),)) for i, axes in enumerate(leaf_axes)]
  for x in jax.tree.leaves(sample_inputs):
    inputs.append(_Activation(((),) * np.ndim(x)))
  outputs = walker.walk(closed.jaxpr, inputs)
  for pair in couple:
    walker.couple(*pair)
  for value in outputs:
    if isinstance(value, _Activation):
      for layout in value.layouts:
        for piece in pieces(layout):
          walker.blocked.setdefault(piece.group, OUTPUT_REASON)
  groups = _collect(walker)
  resolved = lambda p: (walker.group_name[walker.resolved(p).group], walker.resolved(p))
  taps = [Tap(position, operand, axis, tuple(map(resolved, layout)))
          for position, operand, axis, layout in walker.taps]
  return Trace(closed, groups, taps)


def _collect(walker: _Walker) -> list[Group]:
  by_root: dict[int, list[Member]] = {}
  for (leaf, axis), layout in sorted(walker.members.items()):
    for piece in map(walker.resolved, layout):
      by_root.setdefault(piece.group, []).append(
          Member(walker.paths[leaf], axis, piece, (leaf, axis) in walker.produced))
  blocked = {}
  for group, reason in walker.blocked.items():
    blocked.setdefault(walker.root(group), reason)
  for fine in walker.refined:  # a split the model's code may undo differently (a channel shuffle): kept whole
    if walker.root(fine) not in walker.confirmed:
      blocked.setdefault(walker.root(fine), 'a reshape splits its channels; only the split of attention heads '
                         'by key/value head is followed')
  for (leaf, _), layout in sorted(walker.members.items()):
    if leaf in walker.blocked_leaves:
      for piece in layout:
        blocked.setdefault(walker.root(piece.group), walker.blocked_leaves[leaf])
  normalized = {walker.root(g) for g in walker.normalized}
  return [Group(walker.group_name[root], walker.group_size[root], tuple(members), root not in blocked,
                blocked.get(root, ''), root in normalized)
          for root, members in sorted(by_root.items())]
