"""TFDS builders for small, deterministic, learnable synthetic images: test and benchmark data that needs
no files (``prunejax.data.offline`` generates them)."""

import tensorflow_datasets as tfds

from prunejax.data import offline
from prunejax.data.builders.arrays_builder import ArraysBuilder


class _Synthetic(ArraysBuilder, skip_registration=True):
  """Each class is a fixed random template plus noise, so a small network can learn it in seconds."""

  VERSION = tfds.core.Version('1.0.0')
  SHAPE: tuple[int, ...] = ()

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=self.SHAPE),
            'label': tfds.features.ClassLabel(num_classes=offline.SYNTHETIC_NUM_CLASSES),
        }),
        supervised_keys=('image', 'label'),
        description=f'Synthetic class templates with noise, {"x".join(map(str, self.SHAPE))}.',
    )


class SyntheticImages(_Synthetic):
  """8×8×1: tests."""
  RELEASE_NOTES = {'1.0.0': 'Class templates plus Gaussian noise, seed 0.'}
  SHAPE = offline.SYNTHETIC_SHAPE

  def _splits(self):
    return offline.synthetic_images()


class SyntheticCifar(_Synthetic):
  """CIFAR's shape, 32×32×3: CIFAR models checked and timed with no dataset files."""
  RELEASE_NOTES = {'1.0.0': 'Class templates plus Gaussian noise, seed 0, 32x32x3.'}
  SHAPE = offline.SYNTHETIC_CIFAR_SHAPE

  def _splits(self):
    return offline.synthetic_cifar()
