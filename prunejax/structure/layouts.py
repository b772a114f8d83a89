"""How the channels of a group sit along one tensor axis: the vocabulary of the dependency tracer.

An axis of size n is covered by ``Piece``s. A piece of group g (C channels) starting at ``offset``
holds ``repeat`` x C x ``inner`` indices; channel c owns indices offset + r*stride + c*inner + i
(stride defaults to C*inner). A plain conv/dense channel axis is one piece (repeat = inner = 1);
flattening NHWC features into a dense layer's input gives repeat = H*W; a concatenation gives several
pieces at different offsets, which a later flatten interleaves (stride = the whole channel axis).
Indices covered by no piece belong to nobody (e.g. input-image channels) and are never removed.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Piece:
  group: int
  channels: int
  offset: int = 0
  repeat: int = 1
  inner: int = 1
  stride: int = 0  # between repeats; 0 means channels * inner (the piece is contiguous)

  @property
  def size(self) -> int:
    return self.repeat * self.channels * self.inner

  @property
  def contiguous(self) -> bool:
    return self.repeat == 1 or self.stride in (0, self.channels * self.inner)

  def indices(self, channels) -> np.ndarray:
    """Axis indices owned by ``channels`` of this piece."""
    stride = self.stride or self.channels * self.inner
    r, c, i = np.meshgrid(np.arange(self.repeat), np.asarray(channels, np.int64), np.arange(self.inner),
                          indexing='ij')
    return (self.offset + r * stride + c * self.inner + i).ravel()

  def owners(self, length: int) -> np.ndarray:
    """For each index of an axis of ``length``, the channel of this piece it belongs to (``channels``
    where none): the segment ids that sum an axis into per-channel totals."""
    owner = np.full(length, self.channels, np.int32)
    owned = np.broadcast_to(np.arange(self.channels)[None, :, None], (self.repeat, self.channels, self.inner))
    owner[self.indices(np.arange(self.channels))] = owned.ravel()
    return owner


Layout = tuple[Piece, ...]  # sorted by offset; () means no group on this axis


def shifted(layout: Layout, by: int) -> Layout:
  return tuple(dataclasses.replace(p, offset=p.offset + by) for p in layout)


def axis_index(layout: Layout, size: int, keep: dict[int, np.ndarray]) -> np.ndarray | None:
  """Indices to gather along an axis of ``size`` given kept channels per group; None if unchanged."""
  pieces = [p for p in layout if p.group in keep]
  if not pieces:
    return None
  kept = np.ones(size, bool)
  for piece in pieces:
    kept[piece.indices(np.setdiff1d(np.arange(piece.channels), keep[piece.group]))] = False
  return np.flatnonzero(kept).astype(np.int32)
