"""A phase's progress as a person sees it: a bar on a terminal, elsewhere (CI, ``nohup``, a log file) a line
soon after the start and then every ``every_seconds``. Speed and time left come from the steps since the
last compile: a step that compiles (the first, or the first after a shrink or batch change) would make
the estimate hours long, so until a compiled step has run the line says ``compiling``."""

import sys
import time

try:
  import tqdm
except ImportError:  # lines only (the accelerator check runs where tqdm may be missing)
  tqdm = None


class _LinesOnly:
  """What Progress reads of a disabled tqdm bar, for when tqdm is not installed."""
  disable = True

  def __init__(self, total, initial, **unused):
    self.total = total

  def update(self, n):
    pass

  def set_postfix(self, **unused):
    pass

  refresh = close = lambda self: None


class Progress:
  """The progress of one phase of ``total`` steps (``done`` of them already, on a resume)."""

  def __init__(self, label: str, total: int, done: int, bar: bool, every_seconds: float, desc: str = '',
               show: bool = True):
    """``label`` starts each printed line; ``desc`` (default ``label``) names the bar. ``show=False``: no
    bar and no lines (a multi-process run's other processes)."""
    self.label, self.every_seconds, self.show = label, every_seconds, show
    self._bar = (tqdm.tqdm if tqdm and show else _LinesOnly)(
        total=total, initial=done, leave=False, unit='step', disable=None if bar else True, desc=desc or label)
    self._last_print = time.monotonic()
    self._interval = 0.0  # the first line after the first step, the next within 5 s, then every_seconds
    self._lines = 0
    self._since_compile: tuple[float, int] | None = None  # (time, steps) once the compiled step has run
    self._shown: tuple[float, float] | None = None  # the figures on the bar

  @property
  def total(self) -> int:
    return self._bar.total

  @total.setter
  def total(self, steps: int) -> None:
    """The phase's step count, re-estimated (e.g. its epochs at a new batch size)."""
    self._bar.total = steps
    self._bar.refresh()

  def recompiling(self) -> None:
    """The next step compiles (the network or the batch changed): it does not count towards the speed."""
    self._since_compile = None

  def update(self, steps: int, details: str, loss: float | None = None, accuracy: float | None = None) -> None:
    """After a step: ``steps`` done in the phase; ``details`` (epoch, batch...) for the printed line."""
    self._bar.update(1)
    if loss is not None and (loss, accuracy) != self._shown:
      self._shown = (loss, accuracy)
      self._bar.set_postfix(loss=f'{loss:.3f}', acc=f'{accuracy:.3f}')
    now = time.monotonic()
    if self._since_compile is None:
      self._since_compile = (now, steps)  # this step compiled (or was the first): measure from here
    if not self.show or not self._bar.disable or now - self._last_print < self._interval:
      return
    self._last_print, self._lines = now, self._lines + 1
    self._interval = min(5.0, self.every_seconds) if self._lines == 1 else self.every_seconds
    counted = steps - self._since_compile[1]
    if counted <= 0:
      speed = 'compiling'
    else:
      rate = (now - self._since_compile[0]) / counted
      speed = f'{rate * 1e3:.0f} ms/step, ~{max(self.total - steps, 0) * rate:.0f} s left'
    figures = '' if loss is None else f'loss {loss:.3f}, accuracy {accuracy:.3f}, '
    print(f'{self.label}: step {steps}/~{self.total}, {details}, {figures}{speed}', file=sys.stderr, flush=True)

  def close(self) -> None:
    self._bar.close()
