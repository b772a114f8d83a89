import subprocess
import sys

import numpy as np
import pytest

from prunejax.data import offline, sources
from prunejax.errors import PrunejaxError
from tests.data.test_idx import write_idx


def test_synthetic_and_digits_builders_give_uint8_images_and_labels():
  synthetic = sources.load_dataset('synthetic_images', download=False)
  assert synthetic.train_images.shape == (600, 8, 8, 1) and synthetic.test_images.shape == (200, 8, 8, 1)
  assert synthetic.train_images.dtype == np.uint8 and synthetic.num_classes == 10
  digits = sources.load_dataset('digits', download=False)
  assert len(digits.train_labels) + len(digits.test_labels) == 1797
  assert set(np.unique(digits.test_labels)) == set(range(10))
  assert digits.train_images.max() > 200  # rescaled from 0..16


def fake_fashion_mnist(directory, n_train=30, n_test=10):
  rng = np.random.default_rng(1)
  arrays = {}
  for split, n in (('train', n_train), ('test', n_test)):
    images_stem, labels_stem = offline.FASHION_MNIST_FILES[split]
    arrays[split] = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), np.arange(n) % 10)
    write_idx(directory / f'{images_stem}.gz', arrays[split][0])
    write_idx(directory / labels_stem, arrays[split][1])  # raw: both forms occur in the wild
  return arrays


def test_fashion_mnist_is_prepared_offline_from_manual_idx_files(tmp_path):
  manual = tmp_path / 'manual'
  manual.mkdir()
  arrays = fake_fashion_mnist(manual)
  data = sources.load_dataset('fashion_mnist', data_dir=str(tmp_path / 'tfds'), manual_dir=str(manual),
                              download=False)
  assert data.source == 'fashion_mnist_idx'
  assert data.train_images.shape == (30, 28, 28, 1)
  # TFDS shuffles on preparation: compare as multisets of (image, label).
  key = lambda images, labels: sorted((l, im.tobytes()) for im, l in zip(images, labels))
  assert key(data.train_images[..., 0], data.train_labels) == key(*arrays['train'])


def test_arrays_are_cached_for_the_next_process_and_a_damaged_cache_is_re_read(tmp_path, capsys):
  manual = tmp_path / 'manual'
  manual.mkdir()
  fake_fashion_mnist(manual)
  read = lambda: sources._load.__wrapped__('fashion_mnist', tmp_path / 'tfds', manual, False)  # no memo
  first = read()
  cache = sources.cache_path('fashion_mnist', tmp_path / 'tfds')
  assert cache.exists() and not list(cache.parent.glob('*.partial.npz'))
  again = read()  # from the cache: same arrays, same provenance
  assert again.source == first.source == 'fashion_mnist_idx' and again.num_classes == 10
  np.testing.assert_array_equal(again.train_images, first.train_images)
  np.testing.assert_array_equal(again.test_labels, first.test_labels)
  cache.write_bytes(cache.read_bytes()[:100])  # truncated
  np.testing.assert_array_equal(read().train_images, first.train_images)
  assert 'ignoring the unreadable dataset cache' in capsys.readouterr().err


def test_missing_dataset_error_names_dataset_places_and_both_remedies(tmp_path):
  with pytest.raises(PrunejaxError) as error:
    sources.load_dataset('fashion_mnist', data_dir=str(tmp_path / 'tfds'),
                         manual_dir=str(tmp_path / 'nowhere'), download=False)
  message = str(error.value)
  assert "'fashion_mnist'" in message and str(tmp_path / 'tfds') in message
  assert str(tmp_path / 'nowhere') in message
  assert 'apt-get install dataset-fashion-mnist' in message and 'download' in message
  assert '\n' not in message


def test_missing_cifar_error_offers_data_dir_and_download(tmp_path):
  with pytest.raises(PrunejaxError, match=r"'cifar10' not found offline.*data dir.*download"):
    sources.load_dataset('cifar10', data_dir=str(tmp_path), download=False)


def test_unknown_dataset_lists_the_known_ones():
  with pytest.raises(PrunejaxError, match='unknown dataset .imagenet.*fashion_mnist'):
    sources.load_dataset('imagenet')


def test_environment_variables_choose_directories(monkeypatch, tmp_path):
  monkeypatch.setenv('PRUNEJAX_MANUAL_DIR', str(tmp_path))
  assert sources.manual_dir_or_default() == tmp_path
  assert sources.manual_dir_or_default('/x') == sources.pathlib.Path('/x')
  monkeypatch.setenv('PRUNEJAX_DATA_DIR', str(tmp_path / 'd'))
  assert sources.data_dir_or_default() == tmp_path / 'd'


def test_a_manual_dir_missing_some_idx_files_names_them(tmp_path):
  manual = tmp_path / 'manual'
  manual.mkdir()
  fake_fashion_mnist(manual)
  next(manual.glob(f'{offline.FASHION_MNIST_FILES["test"][0]}*')).unlink()  # one file of four lost
  with pytest.raises(PrunejaxError, match=rf'not found offline.*\({manual} lacks '
                                          rf'{offline.FASHION_MNIST_FILES["test"][0]}\); either'):
    sources._load.__wrapped__('fashion_mnist', tmp_path / 'tfds', manual, False)


def test_a_damaged_manual_file_is_named_not_reported_missing(tmp_path):
  manual = tmp_path / 'manual'
  manual.mkdir()
  fake_fashion_mnist(manual)
  labels = manual / offline.FASHION_MNIST_FILES['test'][1]
  labels.write_bytes(labels.read_bytes()[:-4])  # an interrupted copy
  with pytest.raises(PrunejaxError) as error:
    sources._load.__wrapped__('fashion_mnist', tmp_path / 'tfds', manual, False)
  message = str(error.value)
  assert f'dataset file {labels} is damaged (truncated' in message and 'not found' not in message
  assert '\n' not in message


def test_a_damaged_prepared_tfds_copy_says_which_directory_to_delete(tmp_path):
  manual = tmp_path / 'manual'
  manual.mkdir()
  fake_fashion_mnist(manual)
  sources._load.__wrapped__('fashion_mnist', tmp_path / 'tfds', manual, False)
  sources.cache_path('fashion_mnist', tmp_path / 'tfds').unlink()  # read TFDS's records again
  (record,) = (tmp_path / 'tfds').glob('fashion_mnist_idx/*/*-test.tfrecord*')
  data = bytearray(record.read_bytes())
  data[40:60] = b'\xff' * 20  # flipped bytes inside the first record
  record.write_bytes(bytes(data))
  with pytest.raises(PrunejaxError, match=r"prepared TFDS copy of 'fashion_mnist' in .*fashion_mnist_idx.* "
                                          r'is damaged \(.*\); delete that directory'):
    sources._load.__wrapped__('fashion_mnist', tmp_path / 'tfds', manual, False)


def test_an_unreachable_download_host_fails_in_seconds_with_the_offline_ways(tmp_path, monkeypatch):
  attempts = []

  def offline(address, timeout):
    attempts.append((address, timeout))
    raise OSError('Network is unreachable')

  monkeypatch.setattr(sources.socket, 'create_connection', offline)
  monkeypatch.setattr(sources.urllib.request, 'getproxies', lambda: {})
  with pytest.raises(PrunejaxError) as error:
    sources._load.__wrapped__('fashion_mnist', tmp_path / 'tfds', tmp_path / 'nowhere', True)
  message = str(error.value)
  assert 'fashion-mnist.s3-website.eu-central-1.amazonaws.com:80 is unreachable' in message
  assert 'apt-get install dataset-fashion-mnist' in message and '\n' not in message
  assert attempts == [(sources.DOWNLOAD_HOSTS['fashion_mnist'], 5.0)]  # one probe, no TFDS retries


def test_behind_a_proxy_the_host_is_not_probed(monkeypatch):
  monkeypatch.setattr(sources.urllib.request, 'getproxies', lambda: {'https': 'http://proxy:3128'})
  monkeypatch.setattr(sources.socket, 'create_connection', lambda *a, **k: pytest.fail('probed'))
  assert sources._unreachable('cifar10') == ''  # TFDS's own download goes through the proxy


def test_two_processes_preparing_a_dataset_at_once_both_get_it(tmp_path):
  # TFDS fails when two processes rename their prepared copies into place together: they take turns.
  code = ('import sys; from prunejax.data import sources; '
          'print(len(sources.load_dataset("synthetic_images", data_dir=sys.argv[1], download=False).train_labels))')
  processes = [subprocess.Popen([sys.executable, '-c', code, str(tmp_path)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]
  for process in processes:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0 and out.split()[-1] == '600', err[-2000:]
