"""prunejax's own datasets as numpy arrays without TensorFlow, in the order TFDS would store them.

Each generator yields its examples keyed 0, 1, …; TFDS's builders (``prunejax/data/builders``) wrap the
same generators. TFDS stores a split sorted by the md5 of (split name + key), its stable shuffle, so
:func:`tfds_order` applied here gives the very arrays a TFDS-prepared copy reads back: a light install
(no TensorFlow) and a full one train on the same data in the same order.
"""

import hashlib
import pathlib

import numpy as np

from prunejax.data import idx

FASHION_MNIST_CLASS_NAMES = ('t_shirt_top', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt',
                             'sneaker', 'bag', 'ankle_boot')
FASHION_MNIST_FILES = {
    'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
}
DIGITS_TEST_FRACTION = 0.2
SYNTHETIC_NUM_CLASSES = 10
SYNTHETIC_SHAPE = (8, 8, 1)
SYNTHETIC_SPLIT_SIZES = {'train': 600, 'test': 200}
SYNTHETIC_CIFAR_SHAPE = (32, 32, 3)
SYNTHETIC_CIFAR_SPLIT_SIZES = {'train': 2560, 'test': 512}

Splits = dict[str, tuple[np.ndarray, np.ndarray]]  # split -> (uint8 NHWC images, integer labels)


def synthetic_images(shape=SYNTHETIC_SHAPE, split_sizes=None) -> Splits:
  """Each class a fixed random template plus Gaussian noise (seed 0): learnable in seconds, no files."""
  templates = np.random.default_rng(0).uniform(0, 255, (SYNTHETIC_NUM_CLASSES,) + tuple(shape))
  splits = {}
  for seed, (split, size) in enumerate((split_sizes or SYNTHETIC_SPLIT_SIZES).items(), start=1):
    rng = np.random.default_rng(seed)
    labels = np.arange(size) % SYNTHETIC_NUM_CLASSES
    noise = rng.normal(0, 60, (size,) + tuple(shape))
    splits[split] = np.clip(templates[labels] + noise, 0, 255).astype(np.uint8), labels
  return splits


def synthetic_cifar() -> Splits:
  """The synthetic images at CIFAR's shape (32×32×3, 2,560 train, 512 test): accelerator checks and
  benchmarks of CIFAR models without any dataset files."""
  return synthetic_images(SYNTHETIC_CIFAR_SHAPE, SYNTHETIC_CIFAR_SPLIT_SIZES)


def digits() -> Splits:
  """scikit-learn's 1,797 8×8 digits (0–16 rescaled to 0–255), a fixed stratified 80/20 split."""
  from sklearn import datasets  # pylint: disable=g-import-not-at-top
  loaded = datasets.load_digits()
  images = np.round(loaded.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
  labels = loaded.target.astype(np.int64)
  is_test = np.zeros(len(labels), bool)
  rng = np.random.default_rng(0)
  for label in range(10):
    members = np.flatnonzero(labels == label)
    is_test[rng.choice(members, int(round(DIGITS_TEST_FRACTION * len(members))), replace=False)] = True
  return {'train': (images[~is_test], labels[~is_test]), 'test': (images[is_test], labels[is_test])}


def fashion_mnist_files(manual_dir: pathlib.Path) -> dict[str, list[pathlib.Path]]:
  """The IDX files of each split in ``manual_dir`` (gzip-compressed or raw); FileNotFoundError naming the
  missing ones."""
  paths = {}
  for split, stems in FASHION_MNIST_FILES.items():
    found = [idx.find_idx(manual_dir, stem) for stem in stems]
    if None in found:
      missing = [s for s, f in zip(stems, found) if f is None]
      raise FileNotFoundError(f'{missing} not found in {manual_dir}. Put train-images-idx3-ubyte[.gz], '
                              'train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and '
                              't10k-labels-idx1-ubyte[.gz] there (on Debian: `apt-get install '
                              'dataset-fashion-mnist` puts them in /usr/share/datasets/fashion-mnist).')
    paths[split] = found
  return paths


def read_fashion_mnist_split(images_path: pathlib.Path, labels_path: pathlib.Path):
  """One split's (images N×28×28×1, labels) from its two IDX files."""
  images, labels = idx.read_idx(images_path), idx.read_idx(labels_path)
  if len(images) != len(labels):
    raise ValueError(f'{images_path} has {len(images)} images but {labels_path} {len(labels)} labels.')
  return images[..., None], labels


def fashion_mnist_idx(manual_dir: pathlib.Path) -> Splits:
  return {split: read_fashion_mnist_split(*paths) for split, paths in fashion_mnist_files(manual_dir).items()}


GENERATORS = {'synthetic_images': lambda manual_dir: synthetic_images(),
              'synthetic_cifar': lambda manual_dir: synthetic_cifar(),
              'digits': lambda manual_dir: digits(),
              'fashion_mnist_idx': fashion_mnist_idx}
NUM_CLASSES = {'synthetic_images': SYNTHETIC_NUM_CLASSES, 'synthetic_cifar': SYNTHETIC_NUM_CLASSES, 'digits': 10,
               'fashion_mnist_idx': 10}


def tfds_order(split: str, count: int) -> np.ndarray:
  """The permutation TFDS stores keys 0…count−1 of ``split`` in: ascending md5(split name, str(key))."""
  salted = hashlib.md5(split.encode('utf-8'))
  def key_hash(key: int) -> int:
    digest = salted.copy()
    digest.update(str(key).encode('utf-8'))
    return int(digest.hexdigest(), 16)
  return np.array(sorted(range(count), key=key_hash), np.int64)


def read(name: str, manual_dir: pathlib.Path) -> Splits:
  """``name``'s splits in TFDS's stored order (images uint8, labels int32)."""
  splits = {}
  for split, (images, labels) in GENERATORS[name](manual_dir).items():
    order = tfds_order(split, len(labels))
    splits[split] = np.ascontiguousarray(images[order], np.uint8), np.asarray(labels[order], np.int32)
  return splits
