import gzip

import numpy as np
import pytest

from prunejax.data import idx
from prunejax.errors import PrunejaxError


def write_idx(path, array):
  header = bytes([0, 0, 0x08, array.ndim]) + b''.join(int(d).to_bytes(4, 'big') for d in array.shape)
  opener = gzip.open if str(path).endswith('.gz') else open
  with opener(path, 'wb') as f:
    f.write(header + array.astype(np.uint8).tobytes())


@pytest.mark.parametrize('name', ['images-idx3-ubyte', 'images-idx3-ubyte.gz'])
def test_read_idx_round_trips_raw_and_gzip(tmp_path, name):
  array = np.random.default_rng(0).integers(0, 256, (5, 4, 3), dtype=np.uint8)
  write_idx(tmp_path / name, array)
  np.testing.assert_array_equal(idx.read_idx(tmp_path / name), array)


def test_find_idx_prefers_either_form(tmp_path):
  assert idx.find_idx(tmp_path, 'labels') is None
  write_idx(tmp_path / 'labels', np.arange(3))
  assert idx.find_idx(tmp_path, 'labels') == tmp_path / 'labels'


def test_read_idx_rejects_other_files(tmp_path):
  (tmp_path / 'bad').write_bytes(b'PK\x03\x04not idx')
  with pytest.raises(PrunejaxError, match=r'bad.*is damaged \(not an IDX file.*reinstall'):
    idx.read_idx(tmp_path / 'bad')


def test_read_idx_rejects_truncated_files(tmp_path):
  write_idx(tmp_path / 'x', np.zeros((4, 2)))
  (tmp_path / 'x').write_bytes((tmp_path / 'x').read_bytes()[:-3])
  with pytest.raises(PrunejaxError, match=r'x is damaged \(truncated'):
    idx.read_idx(tmp_path / 'x')


def test_read_idx_names_a_damaged_gzip_file(tmp_path):
  write_idx(tmp_path / 'x.gz', np.zeros((40, 20), np.uint8))
  whole = (tmp_path / 'x.gz').read_bytes()
  (tmp_path / 'x.gz').write_bytes(whole[:len(whole) // 2])  # an interrupted copy
  with pytest.raises(PrunejaxError, match=r'x.gz is damaged \(unreadable gzip'):
    idx.read_idx(tmp_path / 'x.gz')
