"""TFDS builder preparing Fashion-MNIST offline from raw IDX files in a manual directory.

Debian's ``dataset-fashion-mnist`` re-compresses the original files, so TFDS's registered checksums
for ``fashion_mnist`` do not match them; this builder reads the IDX files directly instead.
"""

import tensorflow_datasets as tfds

from prunejax.data import idx

CLASS_NAMES = ('t_shirt_top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker',
               'bag', 'ankle_boot')
FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}


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
            'label': tfds.features.ClassLabel(names=CLASS_NAMES),
        }),
        supervised_keys=('image', 'label'),
        description='Fashion-MNIST read from local IDX files.',
    )

  def _split_generators(self, dl_manager: tfds.download.DownloadManager):
    manual_dir = dl_manager.manual_dir
    paths = {}
    for split, stems in FILES.items():
      found = [idx.find_idx(manual_dir, stem) for stem in stems]
      if None in found:
        missing = [s for s, f in zip(stems, found) if f is None]
        raise FileNotFoundError(f'{missing} not found in {manual_dir}. {self.MANUAL_DOWNLOAD_INSTRUCTIONS}')
      paths[split] = found
    return {split: self._generate_examples(*p) for split, p in paths.items()}

  def _generate_examples(self, images_path, labels_path):
    images, labels = idx.read_idx(images_path), idx.read_idx(labels_path)
    if len(images) != len(labels):
      raise ValueError(f'{images_path} has {len(images)} images but {labels_path} {len(labels)} labels.')
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {'image': image[..., None], 'label': int(label)}
