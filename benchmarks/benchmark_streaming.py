"""The streaming input pipeline against the device-resident one (issue 31): the runner's steady-state
step (prunejax/train/overhead.py) and the test accuracy, LeNet-5 on Fashion-MNIST, paired rounds.

python benchmarks/benchmark_streaming.py [--model lenet5] [--rounds 5] [--epochs 3]
"""

import json
import pathlib
import runpy
import statistics
import tempfile

from absl import app, flags, logging

from prunejax.train import overhead
import results_file  # benchmarks/results_file.py: this script's section of RESULTS.md

REPO = pathlib.Path(__file__).resolve().parent.parent
_MODEL = flags.DEFINE_string('model', 'lenet5', 'Model (Fashion-MNIST, the default config\'s recipe).')
_ROUNDS = flags.DEFINE_integer('rounds', 5, 'Paired rounds (device, then streaming).')
_EPOCHS = flags.DEFINE_integer('epochs', 3, 'The runner\'s longer run (the shorter is 1 epoch).')


def main(argv):
  del argv
  logging.set_verbosity(logging.WARNING)
  with results_file.recorded('streaming'), tempfile.TemporaryDirectory() as scratch:
    config = runpy.run_path(str(REPO / 'configs' / 'default.py'))['get_config']()
    config.model, config.progress_bar, config.plots, config.download = _MODEL.value, False, False, False
    ms = {'device': [], 'streaming': []}
    outcome = {}
    for r in range(_ROUNDS.value):
      for pipeline in ms:
        config.input_pipeline = pipeline
        root = pathlib.Path(scratch) / f'{pipeline}_{r}'
        with results_file.unrecorded():
          step_ms, steps = overhead.runner_step_ms(config, root, _EPOCHS.value)
        ms[pipeline].append(step_ms)
        summary = json.loads((root / f'{config.model}_{_EPOCHS.value}_epochs' / 'summary.json').read_text())
        outcome[pipeline] = (summary['test_accuracy'], summary['checkpoint']['digest'])
    ratio = statistics.median(s / d for d, s in zip(ms['device'], ms['streaming']))
    print(f'{_MODEL.value} on Fashion-MNIST, batch {config.batch_size}, {_EPOCHS.value} epochs; runner step = '
          f'difference of a 1- and a {_EPOCHS.value}-epoch run over {steps} steps; median of {_ROUNDS.value} '
          'paired rounds.\n')
    print('| pipeline | runner ms/step | test accuracy | final checkpoint digest |')
    print('| --- | --- | --- | --- |')
    for pipeline, times in ms.items():
      print(f'| {pipeline} | {statistics.median(times):.3f} | {outcome[pipeline][0]:.4f} | {outcome[pipeline][1]} |')
    print(f'\nstreaming / device: {ratio:.3f} (goal <= 1.15); same final parameters: '
          f'{outcome["device"][1] == outcome["streaming"][1]}.')


if __name__ == '__main__':
  app.run(main)
