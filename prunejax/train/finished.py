"""A finished run as another reader sees it: the checkpoint its ``summary.json`` describes, verified.

Every reader of another run (export, ``train.load``, ADaPT's pretrained and agnostic runs, the edge
deployment, ``small_dense``) goes through ``finished_checkpoint``: a workdir still being trained, a run
without a readable summary, or a summary whose checkpoint is damaged is refused in one line, never
replaced by whichever checkpoint happens to be newest.
"""

import dataclasses
import json
import pathlib

from prunejax.errors import PrunejaxError
from prunejax.train import distributed
from prunejax.train.checkpoints import Checkpointer, DamagedCheckpoint, state_digest
from prunejax.train.workdir_lock import holder, wait_until_free


@dataclasses.dataclass(frozen=True)
class FinishedRun:
  """``summary`` of the run in ``workdir`` and the verified checkpoint (``number``, ``meta``) it describes."""
  workdir: pathlib.Path
  summary: dict
  number: int
  meta: dict

  @property
  def record(self) -> dict:
    """What a reader records of the network it took: checkpoint number, training step and digest."""
    return {'number': self.number, 'step': int(self.meta['step']),
            'digest': state_digest(self.meta.get('digest', []))}


def finished_checkpoint(workdir: str | pathlib.Path, wait: bool = False) -> FinishedRun:
  """The finished run in ``workdir``; ``PrunejaxError`` in one line when it is being trained (``wait``:
  wait for its process to let go, e.g. of a shared pretraining still drawing its plots), unfinished, or its
  summary's checkpoint is damaged."""
  workdir = pathlib.Path(workdir)
  summary_path = workdir / 'summary.json'
  training = holder(workdir) if workdir.is_dir() else None
  if training is not None and wait:
    distributed.say(f'{workdir} is in use by {training}: waiting for it')
    wait_until_free(workdir)
    training = None
  if not (workdir / 'checkpoints').is_dir() or not summary_path.exists():
    if training is not None:
      raise PrunejaxError(f'{workdir} is being trained by {training} and holds no finished run yet; wait for it '
                          'to finish.')
    raise PrunejaxError(f'{workdir} holds no finished run (checkpoints/ and summary.json); pass the --workdir '
                        'of a finished run, or run its config to the end first.')
  if training is not None:
    raise PrunejaxError(f'{workdir} is being trained by {training}; wait for it to finish (its summary and '
                        'newest checkpoint are not final yet).')
  try:
    summary = json.loads(summary_path.read_text())
  except (OSError, ValueError) as e:
    raise PrunejaxError(f'{summary_path} cannot be read ({type(e).__name__}); re-run the run\'s config with '
                        'the same --workdir to write it again.') from e
  checkpointer = Checkpointer(workdir / 'checkpoints', read_only=True)
  try:
    number, meta = _described(checkpointer, summary, workdir)
  finally:
    checkpointer.close()
  return FinishedRun(workdir, summary, number, meta)


def _described(checkpointer: Checkpointer, summary: dict, workdir: pathlib.Path) -> tuple[int, dict]:
  """(number, meta) of the checkpoint ``summary`` names (older summaries, which name none: the newest,
  and only if it holds the summary's final step)."""
  numbers = checkpointer.numbers()
  if 'checkpoint' in summary and summary['checkpoint'] is None:
    raise PrunejaxError(f'{workdir} holds no network of its own: its figures come from another run (ADaPT\'s '
                        'data-agnostic subset view: its agnostic_workdir; a DaPR search: its probes/p<N>); '
                        'pass that run\'s --workdir.')
  recorded = summary.get('checkpoint')
  number = recorded['number'] if recorded else (numbers[0] if numbers else None)
  if number is None or number not in numbers:
    raise PrunejaxError(f'{workdir}: checkpoint {number} that summary.json describes is gone; re-run the run\'s '
                        'config with the same --workdir to recreate it.')
  try:
    meta = checkpointer.verified(number)
  except DamagedCheckpoint as e:
    raise PrunejaxError(f'{workdir}: checkpoint {number} (step {_step(recorded)}) that summary.json describes '
                        f'is damaged: {e}; re-run the run\'s config with the same --workdir to recreate it '
                        '(it resumes from the newest intact checkpoint).') from None
  if recorded and recorded.get('digest') and state_digest(meta.get('digest', [])) != recorded['digest']:
    raise PrunejaxError(f'{workdir}: checkpoint {number} holds other arrays than summary.json describes; '
                        're-run the run\'s config with the same --workdir to recreate it.')
  if not recorded and 'steps' in summary and int(meta['step']) != int(summary['steps']):
    raise PrunejaxError(f'{workdir}: the newest checkpoint {number} holds step {meta["step"]}, summary.json '
                        f'step {summary["steps"]}; re-run the run\'s config with the same --workdir.')
  return number, meta


def _step(recorded: dict | None):
  return recorded.get('step', '?') if recorded else '?'
