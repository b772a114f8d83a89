"""ADaPT's filter removal as the authors' code does it (``config.adapt.protocol = 'authors'``).

Read from their `pruning` repository (docs/papers/adapt.md's fidelity table cites it), quirks included
because they move results:

- Ranked: convolution filters only, each member layer of a coupled group on its own (mean |W| over the
  filter's weights); Dense layers are never ranked, nor projection shortcuts (their channels follow the
  block's last convolution); one global ascending list, ties in layer order then filter index.
- Removing a ranked (layer, filter) removes that filter index from every member of the layer's group:
  a residual chain of g channels keeps ceil(g·p/100) for p < 50, else ceil(g·(1 − p/100)); a plain
  layer or a depthwise pair keeps 2. A member already at its limit, or already without that index,
  still consumes a position of the list (their loop advances its index there too): skipped entries
  are never revisited.
- p is counted against all parameters (kernels, biases, norm scales and offsets), with their running
  estimate per removed filter: for each consumer of the layer, the layer's own kernel slice (counted
  again per consumer) plus, for a convolution consumer, out·kh·kw (its input shrinks), for a depthwise
  one kh·kw, for a Linear one only its out_features. The loop stops at the first whole group after
  which the estimate reaches p.
"""

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np

from prunejax.errors import PrunejaxError
from prunejax.structure import Group

NEVER_RANKED = ('shortcut', 'downsample')  # projection shortcuts: their outputs follow the block's last conv
MIN_FILTERS = 2


@dataclasses.dataclass
class _Layer:
  """A kernel's sizes as the authors' estimate tracks them (HWIO conv, or (in, out) Linear)."""
  path: str
  out: int
  inputs: int  # input channels per group (1 for a depthwise convolution)
  window: int  # kh·kw (1 for a Linear)
  linear: bool
  depthwise: bool


def _layer(path: str, shape: Sequence[int], depthwise: bool) -> _Layer:
  if len(shape) != 4:  # Dense kernels (and attention's (in, heads, dims)): what the authors never rank
    return _Layer(path, shape[-1], math.prod(shape[:-1]), 1, True, False)
  *window, inputs, out = shape
  return _Layer(path, out, inputs, math.prod(window), False, depthwise)


def group_limit(width: int, percent: float, residual: bool) -> int:
  """Channels a group keeps at least: proportional to p for residual chains, 2 otherwise."""
  if not residual:
    return MIN_FILTERS
  return int(math.ceil(width * (1.0 - percent / 100.0))) if percent >= 50.0 else int(math.ceil(width * percent / 100.0))


@dataclasses.dataclass(frozen=True)
class Removal:
  keep: dict[str, np.ndarray]  # group name -> kept channel indices (groups that lost some)
  estimated_percent: float  # the authors' running estimate when the loop stopped
  entries_used: int  # positions of the ranked list consumed (skips included)


def remove_filters(groups: Sequence[Group], kernels: Mapping[str, np.ndarray], total_params: int,
                   percent: float, forward_order: Sequence[str], depthwise: frozenset = frozenset()) -> Removal:
  """The authors' loop over the ascending global ranking until their estimate reaches ``percent``.

  ``kernels``: path -> kernel array of every Dense/Conv kernel; ``forward_order``: kernel paths in the
  order the forward pass first reads them (layer order, and which consumer follows which producer);
  ``depthwise``: the kernel paths of depthwise convolutions.
  """
  position = {path: i for i, path in enumerate(forward_order)}
  layers = {path: _layer(path, np.shape(k), path in depthwise) for path, k in kernels.items()}
  ranked_groups, consumers, members_of = [], {}, {}
  for group in groups:
    if not group.prunable:
      continue
    kernel_members = sorted((m for m in group.members if m.path in kernels), key=lambda m: position[m.path])
    ranked = [m.path for m in kernel_members if m.produces and not layers[m.path].linear
              and m.axis == np.ndim(kernels[m.path]) - 1
              and not any(f'/{word}/' in f'/{m.path}' for word in NEVER_RANKED)]
    if not ranked:
      continue
    ranked_groups.append(group)
    current = None
    for m in kernel_members:  # each consumer belongs to the ranked producer before it in forward order
      if m.path in ranked:
        if current is not None and layers[m.path].depthwise:  # a depthwise pair: the producer feeds it
          consumers[current].append(m.path)
        current = m.path
        consumers[current] = []
      elif not m.produces and current is not None:
        consumers[current].append(m.path)
    depthwise = any(layers[p].depthwise for p in ranked)
    residual = len([p for p in ranked if not layers[p].depthwise]) > 1
    for path in ranked:
      if path in members_of:
        raise PrunejaxError(f'{path} produces two channel groups; the authors\' rule ranks one per filter.')
      members_of[path] = (group, ranked, group_limit(group.size, percent, residual and not depthwise))

  entries = []  # (score, layer position, filter, path), stably sorted by score as the authors' list is
  for path in sorted(members_of, key=position.get):
    kernel = np.abs(np.asarray(kernels[path], np.float32))
    scores = kernel.reshape(-1, kernel.shape[-1]).mean(0)
    entries.extend((float(s), position[path], f, path) for f, s in enumerate(scores))
  entries.sort(key=lambda e: e[0])

  remaining = {path: layers[path].out for path in members_of}
  pruned: dict[str, set[int]] = {path: set() for path in members_of}
  current_params, rate, i = total_params, 0.0, 0

  def removed_one(path: str) -> float:
    nonlocal current_params
    layer = layers[path]
    layer.out -= 1
    for consumer in consumers[path]:
      other = layers[consumer]
      cost = layer.inputs * layer.window  # the own kernel slice, counted again per consumer (theirs)
      if other.linear:
        cost += other.out
      elif not other.depthwise:
        cost += other.out * other.window
        other.inputs -= 1
      else:
        cost += other.window
      current_params -= cost
    return 100.0 * (1.0 - current_params / total_params)

  while rate < percent and i < len(entries):
    _, _, index, path = entries[i]
    _, members, limit = members_of[path]
    for member in members:
      if remaining[member] <= limit or index in pruned[member]:
        i += 1  # (their loop advances here too: the next ranked entries are skipped for good)
        continue
      remaining[member] -= 1
      pruned[member].add(index)
      rate = removed_one(member)
    i += 1
  keep = {}
  for group in ranked_groups:
    first = next(path for path in members_of if members_of[path][0] is group)
    if pruned[first]:
      keep[group.name] = np.setdiff1d(np.arange(group.size), sorted(pruned[first]))
  return Removal(keep, rate, i)


class Unreachable(PrunejaxError):
  """p is beyond what removing every rankable filter reaches (DaPR counts such a probe as failing)."""


def check_reached(removal: Removal, percent: float, model: str) -> None:
  """A network whose Dense layers hold most weights cannot reach large p when only filters go."""
  if removal.estimated_percent < percent:
    raise Unreachable(
        f'config.adapt.prune_percent={percent:g} is out of reach for {model} under the authors\' rule: '
        f'removing every rankable filter takes at most {removal.estimated_percent:.1f}% of the parameters '
        '(convolution filters only; Dense layers are never pruned); lower prune_percent, or set '
        "config.adapt.protocol='prunejax' (Dense units ranked too).")


def dapr_search(passes) -> int:
  """Their online DaPR: from p = 50 between 5 and 95, midpoints rounded up to multiples of 5, until a
  probe repeats; the largest passing p probed (0 if none). p = 5 is never probed."""
  low, high, current, previous, best = 5, 95, 50, 0, 0
  while previous != current:
    if passes(current):
      middle, low, best = (high + current) / 2, current, current
    else:
      middle, high = (low + current) / 2, current
    previous, current = current, 5 * math.ceil(middle / 5)
  return best


def passes(accuracy: float, target: float) -> bool:
  """Their pass test: whole percentage points, truncated (less than 1 pp below the target passes)."""
  points = lambda fraction: math.floor(round(100 * fraction, 6))  # (0.29 is 28.999... in float: 29 points)
  return points(accuracy) >= points(target)
