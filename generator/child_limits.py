"""The limits of the child process that runs the user's code (Note [User code runs
in a child process] in isolation.py): their defaults and command-line options.

A module of its own because every command line takes these options, and the fast
``--check`` path must not import what running the child needs (subprocess,
selectors, json; see Note [No dataclasses on the fast path] in errors.py).
"""

from __future__ import annotations

import argparse
from typing import Any, NamedTuple

# torch's import and a full comparison of its largest config take 5-10 s on a
# quiet machine, a minute on a loaded one: the default stops only a hang.
DEFAULT_TIMEOUT = 300.0
# Importing torch takes about 250 MB of data segment, comparing onednn's config
# (the largest) no more: the default leaves 16 times that, and stops a runaway
# allocation before it takes a machine's memory.
DEFAULT_MEMORY_LIMIT_MB = 4096


class Limits(NamedTuple):
    timeout: float = DEFAULT_TIMEOUT  # seconds
    memory_mb: int = DEFAULT_MEMORY_LIMIT_MB


def add_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_positive(float),
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"time limit of the child process that imports and runs torch and the code named "
        f"(default {DEFAULT_TIMEOUT:g}; see docs/isolation.md)",
    )
    parser.add_argument(
        "--memory-limit",
        type=_positive(int),
        default=DEFAULT_MEMORY_LIMIT_MB,
        metavar="MB",
        help=f"memory limit of that child process (default {DEFAULT_MEMORY_LIMIT_MB})",
    )


def limits_of(args: argparse.Namespace) -> Limits:
    return Limits(args.timeout, args.memory_limit)


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
        if not value > 0 or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value

    return parse
