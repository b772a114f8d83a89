"""The command lines: each module is a console script (``prunejax-<name>``) and a file in ``scripts/``."""
