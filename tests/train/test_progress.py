"""Progress lines where there is no terminal: the first right after the first step, however short the phase."""

from prunejax.train.progress import Progress


def test_the_first_line_comes_after_the_first_step_then_every_interval(capsys):
  progress = Progress('train', total=100, done=0, bar=False, every_seconds=1000.0)
  progress.update(1, 'epoch 0.01, batch 32')
  progress.update(2, 'epoch 0.02, batch 32', loss=2.0, accuracy=0.1)  # within the interval: no line
  progress.close()
  assert capsys.readouterr().err == 'train: step 1/~100, epoch 0.01, batch 32, compiling\n'
