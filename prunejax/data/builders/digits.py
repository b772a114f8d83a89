"""TFDS builder for scikit-learn's bundled 8x8 digits: tiny real data for smoke runs, offline."""

import tensorflow_datasets as tfds

from prunejax.data import offline
from prunejax.data.builders.arrays_builder import ArraysBuilder


class Digits(ArraysBuilder):
  """1,797 handwritten digits (8x8 grey, 0-16 rescaled to 0-255); a fixed stratified 80/20 split."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'From sklearn.datasets.load_digits.'}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(8, 8, 1)),
            'label': tfds.features.ClassLabel(num_classes=10),
        }),
        supervised_keys=('image', 'label'),
        description='scikit-learn digits (UCI optical recognition of handwritten digits, test part).',
    )

  def _splits(self):
    return offline.digits()
