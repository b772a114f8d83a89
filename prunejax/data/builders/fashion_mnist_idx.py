"""TFDS builder preparing Fashion-MNIST offline from raw IDX files in a manual directory.

Debian's ``dataset-fashion-mnist`` re-compresses the original files, so TFDS's registered checksums
for ``fashion_mnist`` do not match them; this builder reads the IDX files directly instead.
"""

import tensorflow_datasets as tfds

from prunejax.data import offline


class FashionMnistIdx(tfds.core.GeneratorBasedBuilder):
  """Fashion-MNIST (60k train, 10k test, 28x28 grey) from IDX files, gzip-compressed or raw."""

  VERSION = tfds.core.Version('1.0.0')
  RELEASE_NOTES = {'1.0.0': 'Prepared from the IDX files of a manual directory.'}
  MANUAL_DOWNLOAD_INSTRUCTIONS = (
      'Put train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] '
      'and t10k-labels-idx1-ubyte[.gz] in the manual directory (on Debian: '
      '`apt-get install dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist).')

  def _info(self) -> tfds.core.DatasetInfo:
    return self.dataset_info_from_configs(
        features=tfds.features.FeaturesDict({
            'image': tfds.features.Image(shape=(28, 28, 1)),
            'label': tfds.features.ClassLabel(names=offline.FASHION_MNIST_CLASS_NAMES),
        }),
        supervised_keys=('image', 'label'),
        description='Fashion-MNIST read from local IDX files.',
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    return {split: self._generate_examples(*paths)
            for split, paths in offline.fashion_mnist_files(dl_manager.manual_dir).items()}

  def _generate_examples(self, images_path, labels_path):
    images, labels = offline.read_fashion_mnist_split(images_path, labels_path)
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {'image': image, 'label': int(label)}
