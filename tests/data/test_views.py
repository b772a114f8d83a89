"""Data views: deterministic by seed, disjoint where they must be, shifted as asked."""

import numpy as np
import pytest

from prunejax import data
from prunejax.data.pipeline import Split, Splits
from prunejax.errors import PrunejaxError


def fake_splits(n=600, classes=10):
  rng = np.random.default_rng(0)
  make = lambda k: Split(rng.integers(0, 256, (k, 8, 8, 1), dtype=np.uint8),
                         (np.arange(k) % classes).astype(np.int32))
  return Splits(make(n), make(100), make(200), classes, (0.5,), (0.25,))


def ids(split):
  """Random 8x8 images are distinct: their bytes identify the examples."""
  return {image.tobytes() for image in split.images}


def test_class_subset_keeps_labels_or_remaps():
  splits = fake_splits()
  view = data.class_subset(splits, [7, 2])
  assert set(view.train.labels) == set(view.test.labels) == {2, 7} and view.name == 'classes_7_2'
  remapped = data.class_subset(splits, [7, 2], remap=True)
  np.testing.assert_array_equal(remapped.train.labels, (view.train.labels == 2).astype(np.int32))
  with pytest.raises(PrunejaxError, match='distinct labels'):
    data.class_subset(splits, [3, 3])


@pytest.mark.parametrize('shift,strength', [('none', 0.0), ('rotate', 10.0), ('brightness', 0.1),
                                            ('noise', 0.05), ('class_skew', 0.8)])
def test_original_and_new_are_disjoint_deterministic_and_shifted(shift, strength):
  splits = fake_splits()
  original, new = data.original_and_new(splits, 0.25, seed=3, shift=shift, strength=strength)
  again_original, again_new = data.original_and_new(splits, 0.25, seed=3, shift=shift, strength=strength)
  np.testing.assert_array_equal(new.train.images, again_new.train.images)
  np.testing.assert_array_equal(original.train.labels, again_original.train.labels)
  assert original.test is splits.test  # the original distribution's test set is the plain one
  assert len(original.train) == 450
  if shift in ('none', 'class_skew'):  # pixels untouched: the parts partition the training examples
    assert not ids(original.train) & ids(new.train)
    assert ids(new.train) <= ids(splits.train) - ids(original.train)
  if shift == 'none':
    assert ids(original.train) | ids(new.train) == ids(splits.train)
    assert new.test is splits.test
  elif shift == 'class_skew':
    counts = np.bincount(new.test.labels, minlength=10)
    assert counts[0] == 20 and counts[9] == 4  # class c keeps 1 - 0.8 c / 9 of its examples
  else:
    assert len(new.test) == len(splits.test) and not np.array_equal(new.test.images, splits.test.images)
  other = data.original_and_new(splits, 0.25, seed=4)[1]
  assert ids(other.train) != ids(data.original_and_new(splits, 0.25, seed=3)[1].train)
