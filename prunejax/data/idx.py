"""Reader for the IDX file format of (Fashion-)MNIST, gzip-compressed or raw."""

import gzip
import pathlib
import zlib

import numpy as np

from prunejax.errors import PrunejaxError

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype('>i2'), 0x0C: np.dtype('>i4'),
           0x0D: np.dtype('>f4'), 0x0E: np.dtype('>f8')}


class DamagedFileError(PrunejaxError):
  """An IDX file exists but cannot be read whole: it must be replaced, not looked for elsewhere."""


def damaged(path: pathlib.Path, what: str) -> DamagedFileError:
  return DamagedFileError(
      f'dataset file {path} is damaged ({what}); replace it (on Debian: apt-get install --reinstall '
      'dataset-fashion-mnist) or point config.manual_dir at an intact copy.')


def read_idx(path: str | pathlib.Path) -> np.ndarray:
  """Returns the array stored in an IDX file (``.gz`` or uncompressed); a damaged file raises
  ``DamagedFileError`` naming it."""
  path = pathlib.Path(path)
  opener = gzip.open if path.suffix == '.gz' else open
  try:
    with opener(path, 'rb') as f:
      raw = f.read()
  except (EOFError, zlib.error, gzip.BadGzipFile) as e:
    raise damaged(path, f'unreadable gzip: {type(e).__name__}: {e}') from e
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
    raise damaged(path, 'not an IDX file: bad magic number')
  dtype, ndim = np.dtype(_DTYPES[raw[2]]), raw[3]
  offset = 4 + 4 * ndim
  shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], 'big') for i in range(ndim))
  if len(raw) - offset != int(np.prod(shape)) * dtype.itemsize:
    raise damaged(path, f'truncated or padded: its header says {shape} of {dtype.name}, '
                        f'it holds {max(len(raw) - offset, 0)} bytes of data')
  body = np.frombuffer(raw, dtype=dtype, offset=offset)
  return body.reshape(shape).astype(dtype.newbyteorder('='))


def find_idx(directory: pathlib.Path, stem: str) -> pathlib.Path | None:
  """Finds ``stem`` or ``stem.gz`` in ``directory`` (Debian ships .gz, other mirrors raw files)."""
  for candidate in (directory / f'{stem}.gz', directory / stem):
    if candidate.is_file():
      return candidate
  return None
