"""Python literals and comments made from spec text: safe to write into a module, and
written as black writes them (so that black has nothing to change)."""

from __future__ import annotations

import math
import textwrap


def string_literal(text: str) -> str:
    """A string literal as black writes it: double quotes unless that needs more escapes."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        return '"' + literal[1:-1].replace("\\'", "'") + '"'
    return literal


def docstring(text: str, indent: int = 4) -> str:
    """A string literal for a docstring: triple-quoted when that is safe (wrapped to
    fit 88 columns), else repr."""
    if not (text.isprintable() and '"' not in text and "\\" not in text) or text != text.strip():
        return repr(text)
    if indent + len(text) + 6 <= 88:
        return f'"""{text}"""'
    # Room for both quotes on every line: black may move the closing quotes up onto
    # the last line even past its line length (an 80-character line became 90).
    lines = textwrap.wrap(text, width=88 - indent - 6, break_long_words=False, break_on_hyphens=False)
    body = ("\n" + " " * indent).join(lines)
    return f'"""{body}\n{" " * indent}"""'


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
