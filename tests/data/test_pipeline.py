import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from prunejax.data import pipeline
from prunejax.data.sources import DatasetArrays
from prunejax.errors import PrunejaxError


def toy_data(n_train=200, n_test=50, num_classes=4):
  rng = np.random.default_rng(0)
  images = lambda n: rng.integers(0, 256, (n, 6, 6, 2), dtype=np.uint8)
  return DatasetArrays('toy', 'toy', num_classes, images(n_train), np.arange(n_train, dtype=np.int32) % 4,
                       images(n_test), np.arange(n_test, dtype=np.int32) % 4)


def test_validation_split_is_stratified_disjoint_and_deterministic():
  data = toy_data()
  a, b = pipeline.make_splits(data, 0.2), pipeline.make_splits(data, 0.2)
  np.testing.assert_array_equal(a.validation.images, b.validation.images)
  assert len(a.validation) == 40 and len(a.train) == 160
  assert np.bincount(a.validation.labels).tolist() == [10, 10, 10, 10]
  train_rows = {im.tobytes() for im in a.train.images}
  assert not any(im.tobytes() in train_rows for im in a.validation.images)


def test_class_subset_keeps_or_remaps_the_label_space():
  data = toy_data()
  kept = pipeline.make_splits(data, 0.1, classes=(3, 1))
  assert set(kept.train.labels) == {1, 3} and kept.num_classes == 4
  remapped = pipeline.make_splits(data, 0.1, classes=(3, 1), remap_labels=True)
  assert set(remapped.test.labels) == {0, 1} and remapped.num_classes == 2
  np.testing.assert_array_equal(remapped.test.labels == 0, kept.test.labels == 3)


@pytest.mark.parametrize('classes', [(7,), (1, 1), (-1,)])
def test_bad_class_subsets_are_rejected(classes):
  with pytest.raises(PrunejaxError, match='config.classes'):
    pipeline.make_splits(toy_data(), 0.1, classes=classes)


def test_normalisation_statistics_are_per_channel_of_train():
  splits = pipeline.make_splits(toy_data(), 0.1)
  pixels = splits.train.images.reshape(-1, 2) / 255.0
  np.testing.assert_allclose(splits.mean, pixels.mean(0))
  x, _ = pipeline.gather_batch(jnp.asarray(splits.train.images), jnp.asarray(splits.train.labels),
                               jnp.arange(len(splits.train)), jnp.asarray(splits.mean),
                               jnp.asarray(splits.std))
  np.testing.assert_allclose(np.asarray(x).reshape(-1, 2).mean(0), 0.0, atol=1e-4)


def test_epoch_order_is_a_seeded_permutation():
  order = pipeline.epoch_order(3, 5, 100)
  assert sorted(order.tolist()) == list(range(100))
  np.testing.assert_array_equal(order, pipeline.epoch_order(3, 5, 100))
  assert not np.array_equal(order, pipeline.epoch_order(3, 6, 100))


@given(st.integers(1, 50), st.integers(1, 16))
def test_eval_batches_cover_every_example_once(n, batch):
  seen = np.concatenate([i[v] for i, v in pipeline.eval_batches(n, batch)])
  assert sorted(seen.tolist()) == list(range(n))
  assert all(len(i) == batch for i, _ in pipeline.eval_batches(n, batch))


@settings(deadline=None, max_examples=20)
@given(st.integers(0, 2**31 - 1))
def test_crop_and_flip_moves_pixels_without_changing_them(seed):
  x = jax.random.uniform(jax.random.PRNGKey(seed), (3, 8, 8, 2))
  y = pipeline.random_crop_and_flip(x, jax.random.PRNGKey(seed + 1), padding=0)
  for original, augmented in zip(np.asarray(x), np.asarray(y)):
    assert np.array_equal(original, augmented) or np.array_equal(original[:, ::-1], augmented)
  padded = pipeline.random_crop_and_flip(x, jax.random.PRNGKey(seed), padding=2)
  assert padded.shape == x.shape
