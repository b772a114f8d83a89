"""Data views: the slices of a dataset a phase trains and tests on, as deterministic functions of the
loaded splits — the whole dataset, a class subset (ADaPT's device data), or an *original* / *new*
partition of the training data with an optional shift on the new part (edge re-training).

A view holds host arrays; the runner puts each view on the device once and gathers batches by index.
"""

import dataclasses
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from prunejax.data.pipeline import Split, Splits, keep_classes
from prunejax.errors import PrunejaxError

SHIFTS = ('none', 'class_skew', 'rotate', 'brightness', 'noise')


@dataclasses.dataclass(frozen=True)
class View:
  """A named train/validation/test triple; ``name`` identifies it in checkpoints and metrics."""
  name: str
  train: Split
  validation: Split
  test: Split


def full_view(splits: Splits, name: str = 'all') -> View:
  return View(name, splits.train, splits.validation, splits.test)


def class_subset(splits: Splits, classes: Sequence[int], remap: bool = False, name: str | None = None) -> View:
  """Only ``classes``; labels kept (the classifier keeps every class) unless ``remap`` (0..k-1 in order)."""
  classes = tuple(int(c) for c in classes)
  bad = [c for c in classes if not 0 <= c < splits.num_classes]
  if not classes or bad or len(set(classes)) != len(classes):
    raise PrunejaxError(f'class subset {classes} must be distinct labels in [0, {splits.num_classes}).')
  name = name or 'classes_' + '_'.join(map(str, classes))
  return View(name, *(keep_classes(s, classes, remap) for s in (splits.train, splits.validation, splits.test)))


def original_and_new(splits: Splits, new_fraction: float, seed: int, shift: str = 'none',
                     strength: float = 0.0) -> tuple[View, View]:
  """Partitions train and validation at random (by ``seed``) into an original part and a held-back
  *new* part of ``new_fraction``; the new part and its test view carry ``shift``:

  - ``class_skew``: class c keeps a share 1 − strength·c/(K−1) of its examples (test alike);
  - ``rotate``: images rotated by ``strength`` degrees; ``brightness``: + strength·255 (clipped);
  - ``noise``: Gaussian noise of standard deviation strength·255, fixed per image by the seed.
  The original view's test set is the unshifted test split. The two training parts are disjoint.
  """
  if not 0.0 < new_fraction < 1.0:
    raise PrunejaxError(f'new_fraction={new_fraction} must be in (0, 1).')
  if shift not in SHIFTS:
    raise PrunejaxError(f'shift={shift!r} is unknown; choose one of {SHIFTS}.')
  rng = np.random.default_rng([seed, 11])
  parts = []
  for split in (splits.train, splits.validation):
    is_new = np.zeros(len(split), bool)
    is_new[rng.permutation(len(split))[:int(round(new_fraction * len(split)))]] = True
    parts.append((_subset(split, ~is_new), _subset(split, is_new)))
  (train_old, train_new), (val_old, val_new) = parts
  new = [_shift(s, shift, strength, splits.num_classes, seed + k) for k, s in
         enumerate((train_new, val_new, splits.test))]
  return (View('original', train_old, val_old, splits.test), View(f'new_{shift}', *new))


def _subset(split: Split, keep: np.ndarray) -> Split:
  return Split(split.images[keep], split.labels[keep])


def _shift(split: Split, shift: str, strength: float, num_classes: int, seed: int) -> Split:
  if shift == 'none' or len(split) == 0:
    return split
  images = split.images
  if shift == 'class_skew':
    if not 0.0 <= strength < 1.0:
      raise PrunejaxError(f'class_skew strength={strength} must be in [0, 1).')
    rng = np.random.default_rng([seed, 13])
    keep = np.zeros(len(split), bool)
    for c in range(num_classes):
      members = np.flatnonzero(split.labels == c)
      share = 1.0 - strength * c / max(num_classes - 1, 1)
      keep[rng.permutation(members)[:int(round(share * len(members)))]] = True
    return _subset(split, keep)
  if shift == 'rotate':
    rotated = ndimage.rotate(images.astype(np.float32), strength, axes=(1, 2), reshape=False, order=1)
    return Split(np.clip(np.rint(rotated), 0, 255).astype(np.uint8), split.labels)
  if shift == 'brightness':
    return Split(np.clip(images.astype(np.float32) + strength * 255.0, 0, 255).astype(np.uint8), split.labels)
  noise = np.random.default_rng([seed, 17]).normal(0.0, strength * 255.0, images.shape)
  return Split(np.clip(np.rint(images + noise), 0, 255).astype(np.uint8), split.labels)


def with_budget(view: View, num_examples: int, seed: int) -> View:
  """``view`` with only ``num_examples`` of its training images (chosen by seed): what a device collects."""
  if not 0 < num_examples <= len(view.train):
    raise PrunejaxError(f'{num_examples} examples asked of view {view.name!r}, which has {len(view.train)}; '
                        'lower the budget (e.g. config.edge_retrain.new_examples) or raise new_fraction.')
  keep = np.zeros(len(view.train), bool)
  keep[np.random.default_rng([seed, 19]).permutation(len(view.train))[:num_examples]] = True
  return dataclasses.replace(view, name=f'{view.name}_{num_examples}', train=_subset(view.train, keep))


def with_rehearsal(view: View, source: View, num_examples: int, seed: int) -> View:
  """``view`` whose training split also holds a buffer of ``num_examples`` of ``source``'s training
  images (chosen by seed): batches drawn from it mix the two in proportion, exactly so over an epoch."""
  buffer = with_budget(source, num_examples, seed + 1).train
  train = Split(np.concatenate([view.train.images, buffer.images]),
                np.concatenate([view.train.labels, buffer.labels]))
  return dataclasses.replace(view, name=f'{view.name}_rehearsal_{num_examples}', train=train)
