"""TFDS builder for scikit-learn's bundled 8x8 digits: tiny real data for smoke runs, offline."""

import numpy as np
import tensorflow_datasets as tfds

TEST_FRACTION = 0.2


class Digits(tfds.core.GeneratorBasedBuilder):
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

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    from sklearn import datasets  # pylint: disable=g-import-not-at-top
    digits = datasets.load_digits()
    images = np.round(digits.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = digits.target.astype(np.int64)
    is_test = np.zeros(len(labels), bool)
    rng = np.random.default_rng(0)
    for label in range(10):
      members = np.flatnonzero(labels == label)
      is_test[rng.choice(members, int(round(TEST_FRACTION * len(members))), replace=False)] = True
    return {
        'train': self._generate_examples(images[~is_test], labels[~is_test]),
        'test': self._generate_examples(images[is_test], labels[is_test]),
    }

  def _generate_examples(self, images, labels):
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {'image': image, 'label': int(label)}
