"""The operations a run has finished, by position and name: what resuming replays. A method's code is
re-run from the top; each operation it reaches that the checkpoint records as finished is skipped and its
recorded result returned — only if the recorded name is the one the code gives now (else the method was
edited since, and another operation's result would be handed over silently)."""

from typing import Any

from prunejax.errors import PrunejaxError


class OpLog:
  """Finished operations' results and names, the phase in progress when the checkpoint was written, and
  the index of the next operation the method reaches."""

  def __init__(self, saved: dict | None, checkpoint: int | None):
    """``saved``: the checkpoint's record (None for a new run), ``checkpoint`` its number (for errors)."""
    self.results: list[Any] = list(saved['results']) if saved else []
    # None: a checkpoint written before names were recorded (its replay is by position only).
    self.names: list[str | None] = list(saved.get('op_names') or [None] * len(self.results)) if saved else []
    self._resume_phase = (saved['op'], saved['phase']) if saved and saved['phase'] else None
    self._checkpoint = checkpoint
    self._next = 0

  def begin(self, name: str) -> int:
    """The index of the operation ``name`` starts; refused in one line when the checkpoint recorded
    another operation (or phase in progress) there."""
    index, self._next = self._next, self._next + 1
    recorded = (self.names[index] if index < len(self.names) else
                self._resume_phase[1].get('name') if self.resuming(index) else None)
    if recorded is not None and recorded != name:
      raise PrunejaxError(f'checkpoint {self._checkpoint} was written by a run whose operation {index} was '
                          f'{recorded!r}; this code\'s is {name!r}: use a new --workdir.')
    return index

  def finished(self, index: int) -> bool:
    return index < len(self.results)

  def resuming(self, index: int) -> bool:
    """Whether operation ``index`` is the phase the checkpoint was taken in."""
    return self._resume_phase is not None and self._resume_phase[0] == index

  def resume_phase(self, index: int) -> dict | None:
    """The recorded state of phase ``index`` when the checkpoint was taken inside it (once), else None."""
    phase = dict(self._resume_phase[1]) if self.resuming(index) else None
    self._resume_phase = None
    return phase

  def record(self, name: str, result: Any) -> None:
    self.results.append(result)
    self.names.append(name)

  def meta(self) -> dict:
    """What a checkpoint records of the log."""
    return {'results': self.results, 'op_names': self.names, 'op': len(self.results)}
