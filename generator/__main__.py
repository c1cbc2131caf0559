"""python -m generator: the command line, run as a program (see program.py)."""

from .program import run

run()
