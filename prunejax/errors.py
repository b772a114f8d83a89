"""The one exception type prunejax raises for bad input, so scripts can print it as a single line."""


class PrunejaxError(ValueError):
  """Bad input caught at a boundary (config, CLI, dataset resolution, checkpoint load).

  The message is one line saying what was wrong and what to do about it.
  """
