"""TFDS builder for small, deterministic, learnable synthetic images: test data that needs no files."""

import tensorflow_datasets as tfds

from prunejax.data import offline
from prunejax.data.builders.arrays_builder import ArraysBuilder


class SyntheticImages(ArraysBuilder):
  """Each class is a fixed random template plus noise, so a small network can learn it in seconds."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Class templates plus Gaussian noise, seed 0.'}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=offline.SYNTHETIC_SHAPE),
            'label': tfds.features.ClassLabel(num_classes=offline.SYNTHETIC_NUM_CLASSES),
        }),
        supervised_keys=('image', 'label'),
        description='Synthetic class templates with noise, for tests.',
    )

  def _splits(self):
    return offline.synthetic_images()


class SyntheticCifar(ArraysBuilder):
  """The synthetic images at CIFAR's shape: CIFAR models checked and timed with no dataset files."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Class templates plus Gaussian noise, seed 0, 32x32x3.'}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=offline.SYNTHETIC_CIFAR_SHAPE),
            'label': tfds.features.ClassLabel(num_classes=offline.SYNTHETIC_NUM_CLASSES),
        }),
        supervised_keys=('image', 'label'),
        description='Synthetic class templates with noise at CIFAR shape.',
    )

  def _splits(self):
    return offline.synthetic_cifar()
