"""Trains one config and writes the results contract (summary.json, metrics.jsonl, TensorBoard, checkpoints).
Same as the console script ``prunejax-train``.

python scripts/train.py --config configs/default.py --workdir runs/default [--config.field=value ...]
"""

from prunejax.commands.train import entry

if __name__ == '__main__':
  entry()
