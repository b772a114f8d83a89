"""Edge profile of a config's model: parameters and bytes, FLOPs, compiled memory, latency.
Same as the console script ``prunejax-profile``.

python scripts/profile.py --config configs/default.py [--out runs/profile/default.json]
"""

from prunejax.commands.profile import entry

if __name__ == '__main__':
  entry()
