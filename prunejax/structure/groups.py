"""What the dependency tracer returns: channel groups, their coupled tensor axes, and where kernels
read them. Plain frozen dataclasses, printable for a human."""

import dataclasses

from jax.extend import core as jex_core

from prunejax.structure.layouts import Piece


@dataclasses.dataclass(frozen=True)
class Member:
  """One coupled tensor axis: ``path[axis]``, holding the group's channels as ``piece`` describes.
  ``produces``: an output axis of a Dense/Conv kernel (a filter, a unit's weights in, an attention head's
  projection slice), as opposed to an axis that reads the channels or a norm's or bias's."""
  path: str
  axis: int
  piece: Piece
  produces: bool = False

  def __str__(self):
    extra = [f'{k}={v}' for k, v in (('offset', self.piece.offset), ('repeat', self.piece.repeat),
                                      ('inner', self.piece.inner), ('stride', self.piece.stride))
             if v not in (0, 1)]
    return f'{self.path}[{self.axis}]' + (f' ({", ".join(extra)})' if extra else '')


@dataclasses.dataclass(frozen=True)
class Group:
  """Channels that are removed together. ``name`` is the path of the kernel that produces them.

  ``normalized``: something computed over all these channels (LayerNorm statistics; attention's
  1/sqrt(head dim) for query/key dims) changes when some go; the shrunk model is then the narrower
  network, not the old one with those channels zeroed.
  """
  name: str
  size: int
  members: tuple[Member, ...]
  prunable: bool = True
  reason: str = ''  # why not prunable
  normalized: bool = False

  def __str__(self):
    flags = ([] if self.prunable else [f'not prunable: {self.reason}']) + (
        ['normalised over'] if self.normalized else [])
    note = f' ({"; ".join(flags)})' if flags else ''
    return f'{self.name}: {self.size} channels{note}\n' + '\n'.join(f'  {m}' for m in self.members)


@dataclasses.dataclass(frozen=True)
class Tap:
  """Where a Dense/Conv kernel reads grouped channels: the data-aware criteria measure activations here.

  ``position`` is the equation's index path through nested calls in the traced jaxpr; the kernel's
  operand ``operand`` holds, along ``axis``, the channels of the named groups as ``pieces`` describe.
  """
  position: tuple[int, ...]
  operand: int
  axis: int
  pieces: tuple[tuple[str, Piece], ...]


@dataclasses.dataclass(frozen=True)
class Trace:
  """Everything the walk learns: the jaxpr it walked, the channel groups and the kernels' reads."""
  jaxpr: jex_core.ClosedJaxpr
  groups: list[Group]
  taps: list[Tap]
