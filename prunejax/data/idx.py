"""Reader for the IDX file format of (Fashion-)MNIST, gzip-compressed or raw."""

import gzip
import pathlib

import numpy as np

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype('>i2'), 0x0C: np.dtype('>i4'),
           0x0D: np.dtype('>f4'), 0x0E: np.dtype('>f8')}


def read_idx(path: str | pathlib.Path) -> np.ndarray:
  """Returns the array stored in an IDX file (``.gz`` or uncompressed)."""
  path = pathlib.Path(path)
  opener = gzip.open if path.suffix == '.gz' else open
  with opener(path, 'rb') as f:
    raw = f.read()
  if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _DTYPES:
    raise ValueError(f'{path} is not an IDX file (bad magic number); re-download it.')
  dtype, ndim = np.dtype(_DTYPES[raw[2]]), raw[3]
  shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], 'big') for i in range(ndim))
  body = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
  if body.size != int(np.prod(shape)):
    raise ValueError(f'{path} is truncated: header says {shape}, found {body.size} values.')
  return body.reshape(shape).astype(dtype.newbyteorder('='))


def find_idx(directory: pathlib.Path, stem: str) -> pathlib.Path | None:
  """Finds ``stem`` or ``stem.gz`` in ``directory`` (Debian ships .gz, other mirrors raw files)."""
  for candidate in (directory / f'{stem}.gz', directory / stem):
    if candidate.is_file():
      return candidate
  return None
