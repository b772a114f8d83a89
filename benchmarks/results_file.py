"""Each benchmark writes what it printed into benchmarks/RESULTS.md, in its own section (replaced on every
run), headed by the command, the date and the machine: figures repeat per machine type, not across, so a
section says where it was measured and none is typed by hand."""

import contextlib
import datetime
import os
import pathlib
import platform
import re
import sys

import jax

RESULTS = pathlib.Path(__file__).with_name('RESULTS.md')
HEADER = ('# Benchmark results\n\nWritten by the scripts in this folder, one section each (the latest run of '
          'that script); every ratio is measured against a baseline in the same run. Re-run a script to '
          'replace its section.\n')


class _Tee:
  def __init__(self, stream):
    self.stream, self.lines = stream, []

  def write(self, text):
    self.lines.append(text)
    return self.stream.write(text)

  def flush(self):
    self.stream.flush()

  def __getattr__(self, name):
    return getattr(self.stream, name)


def _machine() -> str:
  model = platform.processor() or platform.machine()
  with contextlib.suppress(OSError):
    names = re.findall(r'^model name\s*:\s*(.+)$', pathlib.Path('/proc/cpuinfo').read_text(), re.M)
    model = names[0] if names else model
  return f'{model}, {os.cpu_count()} CPUs ({platform.machine()}), {jax.default_backend()} backend, jax {jax.__version__}'


@contextlib.contextmanager
def recorded(name: str):
  """Runs the block with stdout also kept; when it ends successfully (exit status 0), its output becomes
  the ``name`` section of RESULTS.md."""
  tee = _Tee(sys.stdout)
  sys.stdout = tee
  status = 0
  try:
    yield
  except SystemExit as e:
    status = e.code or 0
    raise
  except BaseException:  # an error or Ctrl-C: a partial table replaces nothing
    status = 1
    raise
  finally:
    sys.stdout = tee.stream
    if status == 0 and ''.join(tee.lines).strip():
      write_section(name, ''.join(tee.lines))


@contextlib.contextmanager
def unrecorded():
  """Within ``recorded``: what the block prints (a run's progress lines) shows but stays out of RESULTS.md."""
  recording = sys.stdout
  sys.stdout = getattr(recording, 'stream', recording)
  try:
    yield
  finally:
    sys.stdout = recording


def write_section(name: str, output: str) -> None:
  command = ' '.join(['.venv/bin/python', f'benchmarks/{pathlib.Path(sys.argv[0]).name}', *sys.argv[1:]])
  when = datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
  section = (f'<!-- benchmark: {name} -->\n## {name}\n\n`{command}` — {when}, on {_machine()}\n\n'
             f'```\n{output.rstrip()}\n```\n<!-- end of benchmark: {name} -->\n')
  text = RESULTS.read_text() if RESULTS.exists() else HEADER
  pattern = re.compile(rf'<!-- benchmark: {re.escape(name)} -->\n.*?<!-- end of benchmark: {re.escape(name)} -->\n',
                       re.S)
  text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip('\n') + '\n\n' + section
  RESULTS.write_text(text)
