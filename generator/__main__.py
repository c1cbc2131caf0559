"""python -m generator: the command line, run as a program (see program.py)."""

import sys

from .program import run

sys.exit(run())
