"""Text that leaves the generator: messages for a terminal, commands to paste."""

from __future__ import annotations

import shlex


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (newlines, escape
    sequences, bidirectional overrides, ...) written as a Python escape."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def shown(value: object, limit: int = 80) -> str:
    """A value quoted for an error message, cut short if long."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def command(*words: str) -> str:
    """A shell command line that runs exactly ``words``, whatever they contain."""
    return shlex.join(words)
