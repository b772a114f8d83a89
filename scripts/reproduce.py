"""Reproduces one paper's experiments as a grid of resumable runs and writes runs/<paper>/REPORT.md.
Same as the console script ``prunejax-reproduce``.

python scripts/reproduce.py dynhp [--quick] [--ablation] [--root runs/dynhp]
"""

from prunejax.commands.reproduce import entry

if __name__ == '__main__':
  entry()
