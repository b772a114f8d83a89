"""The one exception type prunejax raises for bad input, so scripts can print it as a single line."""


class PrunejaxError(ValueError):
  """Bad input caught at a boundary (config, CLI, dataset resolution, checkpoint load).

  The message is one line saying what was wrong and what to do about it.
  """


class StorageError(PrunejaxError):
  """The disk refused a write (full, read-only, no permission). The command ends at once, as after a
  crash — which resume is built for — rather than through the writers' own failing clean-ups."""
