"""Python literals and comments made from spec text: safe to write into a module, and
written as black writes them (so that black has nothing to change)."""

from __future__ import annotations

import math
import re
import textwrap

# The width of every line of a generated module: PEP 8's, so that a repository
# whose linter checks line length at 79 columns or more accepts the module as is.
LINE_LENGTH = 79


def string_literal(text: str) -> str:
    """A string literal as black writes it: double quotes unless that needs more escapes."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        return '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def wrapped_string_literal(text: str, column: int) -> str:
    """A string literal starting at ``column``: when too long for its line,
    adjacent literals that black puts one per line, together exactly ``text``
    (cut after spaces, and inside a word only when the word alone is too long)."""
    whole = string_literal(text)
    if column + len(whole) + 1 <= LINE_LENGTH:
        return whole
    room = LINE_LENGTH - column - 1
    pieces: list[str] = []
    for word in re.findall(r"\S*\s*", text):
        for character in word if len(string_literal(word)) > room else [word]:
            if pieces and len(string_literal(pieces[-1] + character)) <= room:
                pieces[-1] += character
            elif character:
                pieces.append(character)
    return " ".join(string_literal(piece) for piece in pieces)


def docstring(*paragraphs: str, indent: int = 4) -> str:
    """A string literal for a docstring of ``paragraphs``: triple-quoted when that is
    safe (each paragraph wrapped to fit LINE_LENGTH columns, a blank line between),
    else repr."""
    text = "\n\n".join(paragraphs)
    if not all(p.isprintable() and '"' not in p and "\\" not in p and p == p.strip() for p in paragraphs):
        return repr(text)
    if len(paragraphs) == 1 and indent + len(text) + 6 <= LINE_LENGTH:
        return f'"""{text}"""'
    # Room for both quotes on every line: black may move the closing quotes up onto
    # the last line even past its line length (an 80-character line became 90).
    width = LINE_LENGTH - indent - 6
    pad = " " * indent
    wrapped = [textwrap.wrap(p, width=width, break_long_words=False, break_on_hyphens=False) for p in paragraphs]
    body = f"\n\n{pad}".join(f"\n{pad}".join(lines) for lines in wrapped)
    return f'"""{body}\n{pad}"""'


def comment_text(text: str) -> str:
    """Text safe inside a ``#`` comment: one line, no control characters."""
    return text if text.isprintable() else repr(text)


def number_literal(value: int | float) -> str:
    """A number as torch's sources write it: small powers of two as 2**-k."""
    if isinstance(value, float) and value > 0:
        mantissa, exponent = math.frexp(value)
        if mantissa == 0.5 and exponent - 1 <= -10:
            return f"2**{exponent - 1}"
    return repr(value)
