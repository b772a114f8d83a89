"""Crash consistency: kill -9 a DynHP run (it prunes, shrinks and grows its batch) at many points — half of
them while a checkpoint is being written — re-run the same command each time, and compare the final
training state with an uninterrupted run's (the digest of every array: bit-identical or not).

python scripts/crash_sweep.py [--points 20] [--seed 0] [--root /tmp/prunejax_crash_sweep]
Prints one line per kill and a summary line; exits 1 if any re-run differs.
"""

import argparse
import json
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, 'scripts/train.py', '--config', 'configs/dynhp_lenet300_fashion_mnist.py',
           '--config.dataset=synthetic_images', '--config.batch_size=32', '--config.progress_bar=False',
           '--config.download=False', '--config.plots=False', '--config.num_epochs=6',
           '--config.checkpoint_every_steps=25', '--config.log_every_steps=5', '--config.dynhp.begin_step=10',
           '--config.dynhp.prune_every=10', '--config.dynhp.rate=0.15', '--config.dynhp.max_batch_size=256']


def start(workdir: pathlib.Path) -> subprocess.Popen:
  return subprocess.Popen(COMMAND + ['--workdir', str(workdir)], cwd=REPO, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)


def finish(workdir: pathlib.Path) -> dict:
  process = start(workdir)
  _, err = process.communicate(timeout=900)
  if process.returncode != 0:
    raise SystemExit(f'the re-run in {workdir} failed:\n{err[-3000:]}')
  return json.loads((workdir / 'summary.json').read_text())


def saving(workdir: pathlib.Path) -> bool:
  directory = workdir / 'checkpoints'
  return directory.exists() and any('orbax-checkpoint-tmp' in p.name for p in directory.iterdir())


def kill(workdir: pathlib.Path, in_save: bool, delay: float, rng: random.Random) -> str:
  """Starts the run and kills it: ``in_save``, at the n-th sighting of a save in progress; else ``delay``
  seconds after start. Returns where it landed."""
  process = start(workdir)
  began, sightings, wanted = time.monotonic(), 0, rng.randint(1, 5)
  while process.poll() is None:
    if in_save and saving(workdir):
      sightings += 1
      if sightings >= wanted:
        break
      while saving(workdir) and process.poll() is None:
        time.sleep(0.002)
    if not in_save and time.monotonic() - began >= delay:
      break
    time.sleep(0.002)
  if process.poll() is not None:
    return 'finished before the kill'
  os.kill(process.pid, signal.SIGKILL)
  process.wait()
  landed = 'inside a save' if saving(workdir) else 'between saves'
  log = workdir / 'metrics.jsonl'
  if log.exists() and log.read_text() and not log.read_text().endswith('\n'):
    landed += ', metrics line torn'
  return landed


def main() -> int:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--points', type=int, default=20)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--root', default='/tmp/prunejax_crash_sweep')
  args = parser.parse_args()
  root = pathlib.Path(args.root)
  shutil.rmtree(root, ignore_errors=True)
  began = time.monotonic()
  clean = finish(root / 'clean')
  duration = time.monotonic() - began
  rng = random.Random(args.seed)
  differ = landed_kills = in_saves = 0
  for point in range(args.points):
    workdir = root / f'kill_{point:02d}'
    in_save = point % 2 == 1
    delay = rng.uniform(0.15, 0.85) * duration
    landed = kill(workdir, in_save, delay, rng)
    resumed = finish(workdir)
    same = resumed['checkpoint']['digest'] == clean['checkpoint']['digest'] and \
        resumed['test_loss'] == clean['test_loss']
    differ += not same
    landed_kills += landed != 'finished before the kill'
    in_saves += landed.startswith('inside a save')
    when = 'at a save' if in_save else f'at {delay:5.1f} s'
    print(f'kill {point:2d} {when:>11}: {landed:<40} re-run {"bit-identical" if same else "DIFFERS"}', flush=True)
    shutil.rmtree(workdir)
  print(f'{args.points - differ} of {args.points} re-runs bit-identical to the uninterrupted run ({landed_kills} '
        f'kills landed, {in_saves} inside a save; digest {clean["checkpoint"]["digest"]}, {clean["num_prunes"]} '
        f'prunes, final batch {clean["batch_size_final"]}).')
  return 1 if differ else 0


if __name__ == '__main__':
  sys.exit(main())
