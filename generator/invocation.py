"""How the user ran the generator, for usage lines and help texts, and argparse's
formatter for all three commands (generate, diff, extract)."""

from __future__ import annotations

import argparse
import os
import sys

from .header import TOOL_NAME

# What this repository's contributors type; in any other repository it may run
# that repository's own generator.py or generator/, so nothing recommends it there.
MODULE_COMMAND = "python -m generator"


def invoked_as() -> str:
    """``python -m generator`` when run that way, else the console script's name:
    usage lines and examples show the command the user typed."""
    main_spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if main_spec is not None and main_spec.name == "generator.__main__":
        return MODULE_COMMAND
    return TOOL_NAME


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, told the terminal's width. Left to itself, argparse
    imports shutil to measure it (and shutil imports zlib, bz2 and lzma) for every
    parser built, which a fresh --check in a pre-commit hook should not pay for."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=terminal_width() - 2)  # argparse's own margin


def terminal_width() -> int:
    """What shutil.get_terminal_size() says: $COLUMNS, else the terminal's, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


def examples(prog: str, rows: list[tuple[str, str]]) -> str:
    """An "examples:" block: each command and what it does, beside it when both fit
    in 79 columns, else below it."""
    commands = [f"{prog} {command}".rstrip() for command, _ in rows]
    column = max((len(command) for command in commands if len(command) <= 36), default=0) + 4
    lines = ["examples:"]
    for command, (_, what) in zip(commands, rows):
        if len(command) + 4 <= column and column + len(what) <= 79:
            lines.append(f"  {command.ljust(column - 2)}{what}".rstrip())
        else:
            lines += [f"  {command}", f"      {what}"] if what else [f"  {command}"]
    return "\n".join(lines) + "\n"
