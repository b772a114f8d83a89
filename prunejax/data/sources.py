"""Finds a dataset through TFDS — prepared copy, offline manual files, or download — as numpy arrays.

Resolution order for ``name``: one of prunejax's own builders; a TFDS copy already prepared under the
data dir; for Fashion-MNIST, the IDX files of a manual directory (Debian's ``dataset-fashion-mnist``);
finally a TFDS download when ``download`` is allowed. Anything else fails with one actionable line.
Without TensorFlow (the light install) prunejax's own datasets, Fashion-MNIST's IDX files included, are
read by numpy into the same arrays (``offline``); TFDS's other datasets then need ``prunejax[tfds]``.
"""

import contextlib
import dataclasses
import fcntl
import functools
import logging
import os
import pathlib
import socket
import sys
import urllib.request

import numpy as np

from prunejax.errors import PrunejaxError

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
os.environ.setdefault('NO_GCE_CHECK', 'true')
os.environ.setdefault('TF_ENABLE_ONEDNN_OPTS', '0')  # TF only reads data here; its oneDNN notice is noise

DEFAULT_MANUAL_DIR = '/usr/share/datasets/fashion-mnist'
OWN_BUILDERS = ('digits', 'synthetic_images', 'synthetic_cifar', 'fashion_mnist_idx')
TFDS_BUILDERS = ('fashion_mnist', 'mnist', 'cifar10', 'cifar100')
SUPPORTED_DATASETS = TFDS_BUILDERS + OWN_BUILDERS
# Image shape and number of classes, known without loading the data (for profiling an architecture).
DATASET_SHAPES = {
    'fashion_mnist': ((28, 28, 1), 10), 'fashion_mnist_idx': ((28, 28, 1), 10), 'mnist': ((28, 28, 1), 10),
    'cifar10': ((32, 32, 3), 10), 'cifar100': ((32, 32, 3), 100), 'digits': ((8, 8, 1), 10),
    'synthetic_images': ((8, 8, 1), 10), 'synthetic_cifar': ((32, 32, 3), 10),
}
# Where TFDS downloads each dataset from (its builders' URLs): probed once before a download, since TFDS
# retries an unreachable host for minutes.
DOWNLOAD_HOSTS = {
    'fashion_mnist': ('fashion-mnist.s3-website.eu-central-1.amazonaws.com', 80),
    'mnist': ('storage.googleapis.com', 443),
    'cifar10': ('www.cs.toronto.edu', 443), 'cifar100': ('www.cs.toronto.edu', 443),
}
# TFDS datasets that an own builder can prepare offline from a manual directory.
OFFLINE_FALLBACK = {'fashion_mnist': 'fashion_mnist_idx'}


@dataclasses.dataclass(frozen=True)
class DatasetArrays:
  """A dataset's train and test splits held in memory (images uint8 NHWC, labels int32)."""
  name: str
  source: str  # the TFDS builder that produced it
  num_classes: int
  train_images: np.ndarray
  train_labels: np.ndarray
  test_images: np.ndarray
  test_labels: np.ndarray


def data_dir_or_default(data_dir: str = '') -> pathlib.Path:
  """The TFDS data dir: the argument, else $PRUNEJAX_DATA_DIR, $TFDS_DATA_DIR, ~/tensorflow_datasets."""
  chosen = (data_dir or os.environ.get('PRUNEJAX_DATA_DIR') or os.environ.get('TFDS_DATA_DIR')
            or '~/tensorflow_datasets')
  return pathlib.Path(chosen).expanduser()


def manual_dir_or_default(manual_dir: str = '') -> pathlib.Path:
  """The manual-download dir: the argument, else $PRUNEJAX_MANUAL_DIR, else Debian's location."""
  return pathlib.Path(manual_dir or os.environ.get('PRUNEJAX_MANUAL_DIR') or DEFAULT_MANUAL_DIR)


def check_dataset_name(name: str) -> None:
  if name not in SUPPORTED_DATASETS:
    raise PrunejaxError(f'unknown dataset {name!r}; choose one of {", ".join(SUPPORTED_DATASETS)}.')


def load_dataset(name: str, data_dir: str = '', manual_dir: str = '',
                 download: bool = True) -> DatasetArrays:
  """Returns ``name``'s train and test splits, preparing them through TFDS if needed. Read once per
  process and shared (the arrays are read-only): a grid of runs, or a run that starts another, pays once."""
  check_dataset_name(name)
  return _load(name, data_dir_or_default(data_dir), manual_dir_or_default(manual_dir), bool(download))


@functools.lru_cache(maxsize=2)
def _load(name: str, data_path: pathlib.Path, manual_path: pathlib.Path, download: bool) -> DatasetArrays:
  arrays = _read_cache(name, data_path)
  if arrays is None:
    with _preparing(name, data_path):
      arrays = _read_cache(name, data_path)  # another process may have prepared it meanwhile
      if arrays is None:
        arrays = _prepared(name, data_path, manual_path, download)
        _write_cache(arrays, data_path)
  for array in (arrays.train_images, arrays.train_labels, arrays.test_images, arrays.test_labels):
    array.flags.writeable = False
  return arrays


@contextlib.contextmanager
def _preparing(name: str, data_path: pathlib.Path):
  """One process at a time prepares ``name`` in a data dir (TFDS fails when two rename their copies into
  place at once); the others wait, then read its cache. A read-only data dir gets no lock."""
  try:
    cache_path(name, data_path).parent.mkdir(parents=True, exist_ok=True)
    handle = open(cache_path(name, data_path).with_suffix('.lock'), 'a')  # pylint: disable=consider-using-with
  except OSError:
    yield
    return
  with handle:
    fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes (or the process dies)
    yield


def cache_path(name: str, data_path: pathlib.Path) -> pathlib.Path:
  """Where the arrays of a prepared dataset are kept for the next process: reading them skips importing
  TensorFlow and decoding TFDS records (seconds per start-up). Delete it to read TFDS again."""
  return data_path / 'prunejax_arrays' / f'{name}.npz'


def _read_cache(name: str, data_path: pathlib.Path) -> DatasetArrays | None:
  path = cache_path(name, data_path)
  try:
    with np.load(path, allow_pickle=False) as f:
      return DatasetArrays(name=name, source=str(f['source']), num_classes=int(f['num_classes']),
                           train_images=f['train_images'], train_labels=f['train_labels'],
                           test_images=f['test_images'], test_labels=f['test_labels'])
  except FileNotFoundError:
    return None
  except Exception as e:  # pylint: disable=broad-except  # a damaged cache is re-read from TFDS
    print(f'warning: ignoring the unreadable dataset cache {path} ({type(e).__name__}); reading TFDS',
          file=sys.stderr, flush=True)
    return None


def _write_cache(arrays: DatasetArrays, data_path: pathlib.Path) -> None:
  path = cache_path(arrays.name, data_path)
  partial = path.with_name(f'{path.stem}.{os.getpid()}.partial.npz')
  try:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(partial, source=arrays.source, num_classes=arrays.num_classes,
             train_images=arrays.train_images, train_labels=arrays.train_labels,
             test_images=arrays.test_images, test_labels=arrays.test_labels)
    partial.replace(path)  # atomic: a reader sees the whole file or none
  except OSError:  # a read-only or full data dir: every process reads TFDS, as before
    partial.unlink(missing_ok=True)


def _prepare(builder, download_config) -> None:
  """TFDS's download_and_prepare, its progress notes sent to stderr: a command's stdout is its result."""
  with contextlib.redirect_stdout(sys.stderr):
    builder.download_and_prepare(download_config=download_config)


def _prepared(name: str, data_path: pathlib.Path, manual_path: pathlib.Path, download: bool) -> DatasetArrays:
  try:
    tfds = _import_tfds()
  except ImportError as e:  # the light install: prunejax's own datasets need no TensorFlow
    return _prepared_without_tfds(name, data_path, manual_path, e)
  download_config = tfds.download.DownloadConfig(manual_dir=str(manual_path), try_download_gcs=False)

  builder = tfds.builder(name, data_dir=str(data_path))
  if name in OWN_BUILDERS and name not in OFFLINE_FALLBACK.values():
    _prepare(builder, download_config)  # generated locally, cannot miss
    return _as_arrays(name, builder)
  if builder.is_prepared():
    return _as_arrays(name, builder)
  fallback = OFFLINE_FALLBACK.get(name)
  if fallback and _manual_files_present(manual_path):
    builder = tfds.builder(fallback, data_dir=str(data_path))
  elif name not in OFFLINE_FALLBACK.values():
    if not download:
      raise _not_found(name, data_path, manual_path, fallback is not None)
    unreachable = _unreachable(name)
    if unreachable:
      raise _not_found(name, data_path, manual_path, fallback is not None, cause=unreachable, offline=True)
  try:
    _prepare(builder, download_config)
  except Exception as e:  # TFDS raises many types (network, checksum, missing manual files).
    damaged_file = _damaged_file_in(e)
    if damaged_file is not None:
      raise damaged_file from e
    first_line = str(e).splitlines()[0] if str(e) else ''
    raise _not_found(name, data_path, manual_path, fallback is not None or name in OFFLINE_FALLBACK.values(),
                     cause=f'{type(e).__name__}: {first_line}') from e
  return _as_arrays(name, builder)


def _prepared_without_tfds(name: str, data_path: pathlib.Path, manual_path: pathlib.Path,
                           missing: ImportError) -> DatasetArrays:
  """``name`` read by numpy alone (the same arrays as TFDS would give: ``offline``), where it can be."""
  from prunejax.data import offline  # pylint: disable=g-import-not-at-top
  own = OFFLINE_FALLBACK.get(name, name)
  if own not in offline.GENERATORS or (own == 'fashion_mnist_idx' and not _manual_files_present(manual_path)):
    raise PrunejaxError(
        f'dataset {name!r} needs TensorFlow Datasets, which is not installed ({missing}): '
        "pip install 'prunejax[tfds]'" + (
            f', or put Fashion-MNIST\'s IDX files in {manual_path} (Debian: apt-get install '
            'dataset-fashion-mnist), which prunejax reads without it.' if own == 'fashion_mnist_idx' else
            f', or copy its prepared arrays to {cache_path(name, data_path)}.')) from missing
  splits = offline.read(own, manual_path)
  return DatasetArrays(name=name, source=own, num_classes=offline.NUM_CLASSES[own],
                       train_images=splits['train'][0], train_labels=splits['train'][1],
                       test_images=splits['test'][0], test_labels=splits['test'][1])


def _unreachable(name: str, timeout_seconds: float = 5.0) -> str:
  """Why ``name``'s download host cannot be reached ('' when it can): one connection attempt, seconds.
  Behind a proxy (``$HTTPS_PROXY`` and the like, which TFDS's downloads honour) nothing is probed."""
  if urllib.request.getproxies():
    return ''
  host, port = DOWNLOAD_HOSTS[name]
  try:
    socket.create_connection((host, port), timeout=timeout_seconds).close()
  except OSError as e:
    return f'cannot download: {host}:{port} is unreachable from this machine ({type(e).__name__}: {e})'
  return ''


def _damaged_file_in(error: BaseException):
  """The ``DamagedFileError`` behind ``error`` (TFDS may wrap what a builder raises), else None."""
  from prunejax.data.idx import DamagedFileError  # pylint: disable=g-import-not-at-top
  seen = set()
  while error is not None and id(error) not in seen:
    if isinstance(error, DamagedFileError):
      return error
    seen.add(id(error))
    error = error.__cause__ or error.__context__
  return None


def _import_tfds():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  tf.config.set_visible_devices([], 'GPU')  # TF only reads files; keep accelerators for JAX.
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  import prunejax.data.builders  # pylint: disable=g-import-not-at-top,unused-import  # registers ours
  if not sys.stderr.isatty():
    tfds.disable_progress_bar()  # in a log file its bars are lines of escape codes
  logging.getLogger('absl').addFilter(_not_actionable)
  return tfds


def _not_actionable(record: logging.LogRecord) -> bool:
  """False for TFDS's warning about the empty folder its own ``builder()`` call leaves for a dataset
  prepared by our offline builder instead (every Fashion-MNIST run would print it)."""
  return 'has no dataset_info.json' not in record.getMessage()


def _idx_stems() -> list[str]:
  from prunejax.data import offline  # pylint: disable=g-import-not-at-top
  return [s for pair in offline.FASHION_MNIST_FILES.values() for s in pair]


def _manual_files_missing(manual_path: pathlib.Path) -> list[str]:
  """The IDX files (stems) of Fashion-MNIST that ``manual_path`` lacks."""
  from prunejax.data import idx  # pylint: disable=g-import-not-at-top
  return [s for s in _idx_stems() if not (manual_path.is_dir() and idx.find_idx(manual_path, s))]


def _manual_files_present(manual_path: pathlib.Path) -> bool:
  return not _manual_files_missing(manual_path)


def _not_found(name, data_path, manual_path, has_manual_route, cause='', offline=False):
  ways = ('install Debian\'s dataset-fashion-mnist (apt-get install dataset-fashion-mnist) or put the '
          f'IDX files in a directory named by config.manual_dir or $PRUNEJAX_MANUAL_DIR'
          if has_manual_route else
          f'copy a prepared TFDS {name!r} into the data dir (config.data_dir or $PRUNEJAX_DATA_DIR)')
  missing = _manual_files_missing(manual_path) if has_manual_route else []
  if missing and len(missing) < len(_idx_stems()):  # some IDX files there, not all: name the missing ones
    cause = '; '.join(filter(None, [cause, f'{manual_path} lacks {", ".join(missing)}']))
  because = f' ({cause})' if cause else ''
  return PrunejaxError(
      f'dataset {name!r} not found offline: looked for a prepared TFDS copy in {data_path}'
      + (f' and for IDX files in {manual_path}' if has_manual_route else '') + f'{because}; either {ways}, '
      + ('or run where that host is reachable.' if offline else
         'or run online with config.download=True so TFDS downloads it.'))


def _as_arrays(name: str, builder) -> DatasetArrays:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  splits = {}
  for split in ('train', 'test'):
    try:
      data = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1, as_supervised=True))
    except (tf.errors.OpError, OSError) as e:  # a record file truncated, overwritten or deleted
      first_line = str(e).splitlines()[0] if str(e) else ''
      raise PrunejaxError(
          f'the prepared TFDS copy of {name!r} in {builder.data_dir} is damaged ({type(e).__name__}: '
          f'{first_line[:200]}); delete that directory and run again to prepare it afresh.') from e
    splits[split] = (np.asarray(data[0], np.uint8), np.asarray(data[1], np.int32))
  return DatasetArrays(
      name=name, source=builder.name, num_classes=builder.info.features['label'].num_classes,
      train_images=splits['train'][0], train_labels=splits['train'][1],
      test_images=splits['test'][0], test_labels=splits['test'][1])
