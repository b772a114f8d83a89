"""The phase runner: compiles once per shape, resumes bit-identically from any checkpoint (after a
shrink, after a batch change, between phases, in another view), and writes the results contract."""

import json

import jax
import numpy as np
import pytest

from prunejax import methods
from prunejax.errors import PrunejaxError
from prunejax.train import Run
from tests.methods import toy_method
from tests.methods.test_dense_and_sparse import final_params, killed_after


@pytest.fixture
def toy_config(tiny_config):
  tiny_config.method = 'toy_shrinker'
  tiny_config.checkpoint_every_steps = 25
  tiny_config.keep_checkpoints = 100
  return tiny_config


def test_every_change_compiles_once_and_is_logged(toy_config, tmp_path):
  toy_config.plots = True
  run = methods.open_run(toy_config, tmp_path)  # with the plots hook, as train_and_evaluate opens it
  summary = toy_method.toy(run)
  # (300 units, 32), (225, 32), (169, 32), (169, 64), (127, 32): the return to (169, 32) is free.
  assert sorted(run.compiles.values()) == [1] * 5
  assert summary['units'] == 127 and summary['grow_steps'] == 50 and summary['finish_steps'] == 12
  records = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
  changes = [(r['step'], r.get('params'), r.get('batch_size'), r.get('phase')) for r in records
             if {'params', 'batch_size', 'phase'} & set(r)]
  # Each shrink keeps 3/4 (rounded up) of both hidden layers: 300/100 -> 225/75 -> 169/57 -> 127/43.
  units = lambda h1, h2: 64 * h1 + h1 + h1 * h2 + h2 + h2 * 10 + 10
  assert changes[:5] == [(0, units(300, 100), 32, 'grow'), (10, units(225, 75), None, None),
                         (20, units(169, 57), None, None), (30, None, 64, None), (40, None, 32, None)]
  assert all('train_step_bytes' in r for r in records if 'params' in r or 'batch_size' in r)
  bytes_at = {r['step']: r['train_step_bytes'] for r in records if 'train_step_bytes' in r}
  assert bytes_at[0] > bytes_at[10] > bytes_at[20] and bytes_at[30] > bytes_at[20]
  assert summary['params_total'] == units(127, 43) and summary['steps'] == 62
  assert sorted(p.name for p in (tmp_path / 'plots').iterdir()) == [
      'accuracy.png', 'batch_size.png', 'loss.png', 'params.png', 'step_bytes.png']


def test_resume_from_any_checkpoint_is_bit_identical(toy_config, tmp_path):
  clean = tmp_path / 'clean'
  methods.train_and_evaluate(toy_config, clean)
  numbers = sorted(int(p.name) for p in (clean / 'checkpoints').iterdir() if p.name.isdigit())
  metas = {n: json.loads((clean / 'checkpoints' / str(n) / 'meta' / 'metadata').read_text()) for n in numbers}
  kinds = {n: (m['step'], m['phase'] and m['phase']['name'], m['batch_size'], len(m['keep'])) for n, m in metas.items()}
  # Saved right after each shrink and batch change, on the interval, and after each operation.
  assert [k[:3] for k in kinds.values()] == [
      (10, 'grow', 32), (20, 'grow', 32), (25, 'grow', 32), (30, 'grow', 64), (40, 'grow', 32),
      (50, None, 32), (50, None, 32), (62, None, 32)]
  expected = final_params(clean)
  # Right after a shrink (step 10), right after a batch change (30), between the two phases (the
  # second save at 50, after the 'last_shrink' operation).
  for number in (numbers[0], numbers[3], numbers[6]):
    resumed = killed_after(clean, number, tmp_path / f'from_{number}')
    summary = methods.train_and_evaluate(toy_config, resumed)
    jax.tree.map(np.testing.assert_array_equal, final_params(resumed), expected)
    assert summary['units'] == 127
    # The log reads as the uninterrupted run's: no record repeated, none added (timings aside).
    assert log_records(resumed) == log_records(clean), f'metrics.jsonl differs after resuming from {number}'
  # Re-running the finished run writes its final record again in place, not a second time.
  methods.train_and_evaluate(toy_config, clean)
  assert log_records(clean) == log_records(resumed)


def log_records(workdir) -> list[dict]:
  """metrics.jsonl's records without the timings, which differ from run to run."""
  timed = lambda key: 'seconds' in key or 'latency' in key
  return [{k: v for k, v in json.loads(line).items() if not timed(k)}
          for line in (workdir / 'metrics.jsonl').read_text().splitlines()]


def test_a_replay_whose_operations_were_renamed_is_refused(tiny_config, tmp_path):
  tiny_config.checkpoint_every_steps = 5
  run = Run(tiny_config, tmp_path)
  assert run.once('score', lambda: 7) == 7
  run.train('warmup', steps=3)
  run.close()
  replay = Run(tiny_config, tmp_path)
  assert replay.once('score', lambda: 0) == 7  # the recorded result, by name
  with pytest.raises(PrunejaxError, match=r"checkpoint \d+ was written by a run whose operation 1 was 'warmup'; "
                                          r"this code's is 'probe_p50': use a new --workdir"):
    replay.once('probe_p50', lambda: 0)
  replay.close()


def test_a_phase_resumed_under_another_name_is_refused(tiny_config, tmp_path):
  tiny_config.checkpoint_every_steps = 5
  tiny_config.keep_checkpoints = 100
  run = Run(tiny_config, tmp_path / 'clean')
  run.train('train', steps=20)
  run.close()
  (tmp_path / 'clean' / 'summary.json').write_text('{}')  # (a method writes it; killed_after drops it)
  mid_phase = killed_after(tmp_path / 'clean', 2, tmp_path / 'killed')  # inside 'train', step 10
  replay = Run(tiny_config, mid_phase)
  with pytest.raises(PrunejaxError, match=r"operation 0 was 'train'; this code's is 'finetune'"):
    replay.train('finetune', steps=20)
  replay.close()
