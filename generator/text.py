"""Text that leaves the generator: messages for a terminal, commands to paste."""

from __future__ import annotations

import shlex
from collections.abc import Iterable


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


def call_text(function: str, arguments: Iterable[tuple[str, object]]) -> str:
    """``function(word=value, ...)``, values as Python writes them: a call as a
    reader would type it."""
    return f"{function}({', '.join(f'{word}={value!r}' for word, value in arguments)})"


def count(number: int, noun: str) -> str:
    """``1 pattern``, ``2 patterns``: a number and a noun that agrees with it."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def command(*words: str) -> str:
    """A shell command line that runs exactly ``words``, whatever they contain, on
    one printable line: shlex quoting, and for a word holding control characters
    (a newline, an escape sequence) bash's $'...' quoting, each such character
    written as the \\xHH escapes of its UTF-8 bytes (whatever the locale)."""
    return " ".join(shlex.quote(word) if word.isprintable() else _ansi_c_quoted(word) for word in words)


def _ansi_c_quoted(word: str) -> str:
    out = []
    for char in word:
        if char == "\\" or char == "'":
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        else:
            # surrogateescape: a file name holding bytes that are not UTF-8 keeps them.
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8", "surrogateescape"))
    return "$'" + "".join(out) + "'"
