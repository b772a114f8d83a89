"""A run's identity: the config fields that must match for a workdir to be resumed (or read back as a
finished run) by a config — every field but paths, logging and devices."""

from typing import Any

import ml_collections

# Config fields that do not change a run's trajectory: everything else must match to resume.
NOT_FINGERPRINTED = ('data_dir', 'manual_dir', 'download', 'progress_bar', 'log_every_steps',
                     'checkpoint_every_steps', 'keep_checkpoints', 'eval_batch_size', 'num_devices', 'edge',
                     'progress_every_seconds', 'plots', 'input_pipeline')
# Fields a method added after runs were written, left out of the fingerprint at their default so those
# runs stay resumable (a non-default value is a different run); methods declare them (register_method).
_LATER_DEFAULTS: dict[tuple[str, str], Any] = {('optimizer', 'decay_all'): False}


def add_later_default(block: str, field: str, default: Any) -> None:
  """Declares ``config.<block>.<field>`` a field added after runs were written, with its ``default``."""
  _LATER_DEFAULTS[(block, field)] = default


def fingerprint(config: ml_collections.ConfigDict) -> dict[str, Any]:
  """What must match for a workdir to be resumed by ``config``: every field but paths, logging, devices."""
  printed = {k: v for k, v in config.to_dict().items() if k not in NOT_FINGERPRINTED}
  for (block, field), default in _LATER_DEFAULTS.items():
    if isinstance(printed.get(block), dict) and printed[block].get(field, default) == default:
      printed[block] = {k: v for k, v in printed[block].items() if k != field}
  return printed
