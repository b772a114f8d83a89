"""In-memory input pipeline: deterministic splits and class subsets on the host, batches gathered on device.

All supported datasets fit in memory, so the images stay on the device as uint8 and every step gathers
its batch by index inside the jitted step (normalisation and augmentation included): no host-to-device
copy per step beyond the batch's indices.
"""

import dataclasses
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from prunejax.data.sources import DatasetArrays
from prunejax.errors import PrunejaxError

# Validation examples are carved from train with this fixed seed, independent of the training seed, so
# every run of an experiment family sees the same validation set.
VALIDATION_SEED = 20200
CROP_PADDING = 4


@dataclasses.dataclass(frozen=True)
class Split:
  images: np.ndarray  # uint8 [N, H, W, C]
  labels: np.ndarray  # int32 [N]

  def __len__(self) -> int:
    return len(self.labels)


@dataclasses.dataclass(frozen=True)
class Splits:
  """Train/validation/test splits plus what the model and the normaliser need to know."""
  train: Split
  validation: Split
  test: Split
  num_classes: int
  mean: tuple[float, ...]  # per channel, of the train split, in [0, 1] units
  std: tuple[float, ...]

  @property
  def input_shape(self) -> tuple[int, ...]:
    return tuple(self.train.images.shape[1:])


def make_splits(data: DatasetArrays, validation_fraction: float = 0.1, classes: Sequence[int] = (),
                remap_labels: bool = False) -> Splits:
  """Carves a stratified validation split from train and keeps only ``classes`` (all when empty).

  With ``remap_labels`` the kept classes become labels 0..k-1 in the order given, and the label space
  shrinks to k; otherwise labels and ``num_classes`` are kept as they are. The splits of the last few
  (dataset, settings) are remembered: runs of a grid share them.
  """
  key = (id(data), validation_fraction, tuple(int(c) for c in classes), bool(remap_labels))
  cached = _SPLITS.get(key)
  if cached is not None and cached[0] is data:
    return cached[1]
  splits = _make_splits(data, validation_fraction, classes, remap_labels)
  if len(_SPLITS) >= 4:
    _SPLITS.pop(next(iter(_SPLITS)))
  _SPLITS[key] = (data, splits)
  return splits


_SPLITS: dict = {}


def _make_splits(data: DatasetArrays, validation_fraction: float, classes: Sequence[int],
                 remap_labels: bool) -> Splits:
  if not 0.0 <= validation_fraction < 1.0:
    raise PrunejaxError(f'validation_fraction={validation_fraction} must be in [0, 1).')
  classes = tuple(int(c) for c in classes)
  bad = [c for c in classes if not 0 <= c < data.num_classes]
  if bad or len(set(classes)) != len(classes):
    raise PrunejaxError(f'classes={classes} must be distinct labels of {data.name} in '
                        f'[0, {data.num_classes}); fix config.classes.')
  is_validation = np.zeros(len(data.train_labels), bool)
  rng = np.random.default_rng(VALIDATION_SEED)
  for label in range(data.num_classes):
    members = np.flatnonzero(data.train_labels == label)
    is_validation[rng.permutation(members)[:int(round(validation_fraction * len(members)))]] = True
  train = Split(data.train_images[~is_validation], data.train_labels[~is_validation])
  validation = Split(data.train_images[is_validation], data.train_labels[is_validation])
  test = Split(data.test_images, data.test_labels)
  num_classes = data.num_classes
  if classes:
    train, validation, test = (keep_classes(s, classes, remap_labels) for s in (train, validation, test))
    num_classes = len(classes) if remap_labels else num_classes
  if len(train) == 0:
    raise PrunejaxError(f'no training examples left in {data.name} after selecting classes={classes}.')
  pixels = train.images.reshape(-1, train.images.shape[-1]).astype(np.float64) / 255.0
  for split in (train, validation, test):
    split.images.flags.writeable = split.labels.flags.writeable = False
  return Splits(train, validation, test, num_classes, tuple(pixels.mean(0)), tuple(pixels.std(0) + 1e-8))


def keep_classes(split: Split, classes: tuple[int, ...], remap: bool) -> Split:
  """The examples of ``classes``; with ``remap`` their labels become 0..k-1 in the order given."""
  keep = np.isin(split.labels, classes)
  labels = split.labels[keep]
  if remap:
    lookup = np.full(max(classes) + 1, -1, np.int32)
    lookup[list(classes)] = np.arange(len(classes), dtype=np.int32)
    labels = lookup[labels]
  return Split(split.images[keep], labels.astype(np.int32))


def epoch_order(seed: int, epoch: int, num_examples: int) -> np.ndarray:
  """The training order of one epoch: a permutation fixed by (seed, epoch), so resuming replays it."""
  return np.random.default_rng([seed, epoch]).permutation(num_examples).astype(np.int32)


def eval_batches(num_examples: int, batch_size: int):
  """Yields (indices, valid) with the last batch padded to ``batch_size`` so one compilation serves all."""
  for start in range(0, num_examples, batch_size):
    indices = np.arange(start, start + batch_size, dtype=np.int32)
    valid = indices < num_examples
    yield np.where(valid, indices, 0).astype(np.int32), valid


def standardise(pixels: jax.Array, mean, std) -> jax.Array:
  """Pixels 0–255 as the networks see them: per channel, (pixels / 255 − mean) / std, with the training
  split's statistics (``Splits.mean``, ``Splits.std``)."""
  return (pixels.astype(jnp.float32) / 255.0 - mean) / std


def gather_batch(images: jax.Array, labels: jax.Array, indices: jax.Array | None, mean: jax.Array,
                 std: jax.Array, key: jax.Array | None = None) -> tuple[jax.Array, jax.Array]:
  """Gathers (``indices`` of a device-resident split; None: ``images``/``labels`` are the batch, as the
  streaming pipeline sends it), normalises and (when ``key`` is given) augments one batch; inside jit."""
  if indices is not None:
    images, labels = images[indices], labels[indices]
  x = standardise(images, mean, std)
  if key is not None:
    x = random_crop_and_flip(x, key)
  return x, labels


def random_crop_and_flip(x: jax.Array, key: jax.Array, padding: int = CROP_PADDING) -> jax.Array:
  """Per-example random crop from a zero-padded image and random horizontal flip (CIFAR recipe)."""
  n, h, w, _ = x.shape
  crop_key, flip_key = jax.random.split(key)
  padded = jnp.pad(x, ((0, 0), (padding, padding), (padding, padding), (0, 0)))
  offsets = jax.random.randint(crop_key, (n, 2), 0, 2 * padding + 1)
  crop = lambda image, offset: jax.lax.dynamic_slice(image, (offset[0], offset[1], 0), (h, w, x.shape[-1]))
  x = jax.vmap(crop)(padded, offsets)
  flip = jax.random.bernoulli(flip_key, 0.5, (n, 1, 1, 1))
  return jnp.where(flip, x[:, :, ::-1, :], x)
