"""TFDS builder for small, deterministic, learnable synthetic images: test data that needs no files."""

import numpy as np
import tensorflow_datasets as tfds

NUM_CLASSES = 10
SHAPE = (8, 8, 1)
SPLIT_SIZES = {'train': 600, 'test': 200}


class SyntheticImages(tfds.core.GeneratorBasedBuilder):
  """Each class is a fixed random template plus noise, so a small network can learn it in seconds."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Class templates plus Gaussian noise, seed 0.'}

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=SHAPE),
            'label': tfds.features.ClassLabel(num_classes=NUM_CLASSES),
        }),
        supervised_keys=('image', 'label'),
        description='Synthetic class templates with noise, for tests.',
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    templates = np.random.default_rng(0).uniform(0, 255, (NUM_CLASSES,) + SHAPE)
    return {split: self._generate_examples(templates, size, seed)
            for seed, (split, size) in enumerate(SPLIT_SIZES.items(), start=1)}

  def _generate_examples(self, templates, size, seed):
    rng = np.random.default_rng(seed)
    labels = np.arange(size) % NUM_CLASSES
    noise = rng.normal(0, 60, (size,) + SHAPE)
    images = np.clip(templates[labels] + noise, 0, 255).astype(np.uint8)
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {'image': image, 'label': int(label)}
