"""Exports a finished run's network to an edge runtime, checks it there against JAX on the test
images and times it.
Same as the console script ``prunejax-export``.

python scripts/export.py --workdir runs/default [--format tflite|stablehlo] [--quantize] [--batch N]
"""

from prunejax.commands.export import entry

if __name__ == '__main__':
  entry()
