"""The runner's per-step overhead (issue 32, goal 1): its steady-state training step against a bare jitted
loop of the same step, model, optimizer, data and batch (prunejax/train/overhead.py says how each is
measured). Rounds alternate bare and runner; the ratio is the median over rounds.

python benchmarks/benchmark_runner.py [--models lenet_300_100,lenet5] [--rounds 5] [--epochs 3]
"""

import pathlib
import runpy
import statistics
import tempfile

from absl import app, flags, logging

from prunejax.train import overhead
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

REPO = pathlib.Path(__file__).resolve().parent.parent
_MODELS = flags.DEFINE_list('models', ['lenet_300_100', 'lenet5'], 'Models (Fashion-MNIST, batch 128).')
_ROUNDS = flags.DEFINE_integer('rounds', 5, 'Paired rounds (bare, then runner) per model.')
_EPOCHS = flags.DEFINE_integer('epochs', 3, 'The runner\'s longer run (the shorter is 1 epoch).')


def config_for(model: str):
  config = runpy.run_path(str(REPO / 'configs' / 'default.py'))['get_config']()
  config.model, config.progress_bar, config.plots, config.download = model, False, False, False
  return config


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  with results_file.recorded('runner'), tempfile.TemporaryDirectory() as scratch:
    rows = []
    for model in _MODELS.value:
      config = config_for(model)
      rounds = []
      for r in range(_ROUNDS.value):
        bare = overhead.bare_step_ms(config)
        with results_file.unrecorded():
          runner, steps = overhead.runner_step_ms(config, pathlib.Path(scratch) / f'{model}_{r}', _EPOCHS.value)
        rounds.append((bare, runner))
      ratio = statistics.median(runner / bare for bare, runner in rounds)
      rows.append((model, config.batch_size, statistics.median(b for b, _ in rounds),
                   statistics.median(r for _, r in rounds), ratio, steps))
    print(f'Fashion-MNIST, default config (SGD, cosine), validation each epoch, checkpoint every '
          f'{config.checkpoint_every_steps} steps; median of {_ROUNDS.value} paired rounds; the runner\'s step is '
          f'the difference of a 1- and a {_EPOCHS.value}-epoch run over their step difference.\n')
    print('| model | batch | bare jitted loop ms/step | runner ms/step | runner / bare | runner steps timed |')
    print('| --- | --- | --- | --- | --- | --- |')
    for model, batch, bare, runner, ratio, steps in rows:
      print(f'| {model} | {batch} | {bare:.3f} | {runner:.3f} | {ratio:.2f} | {steps} |')
    print('\nGoal (issue 32): runner / bare <= 1.05.')


if __name__ == '__main__':
  app.run(main)
