"""A TFDS builder over splits that ``prunejax.data.offline`` generates as arrays, keyed 0, 1, …"""

import tensorflow_datasets as tfds


class ArraysBuilder(tfds.core.GeneratorBasedBuilder, skip_registration=True):
  """Subclasses give ``_info`` and ``_splits() -> {split: (images, labels)}``."""

  def _splits(self):
    raise NotImplementedError

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    return {split: self._generate_examples(*arrays) for split, arrays in self._splits().items()}

  def _generate_examples(self, images, labels):
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {'image': image, 'label': int(label)}
