"""Format rendered pieces with black and sign the module.

Black formats the module around the pattern configs once, and each pattern config
on its own (at the width it has inside the getter's list), then the pieces are
joined: cost grows linearly with the number of pattern configs, and the bytes are
the ones black gives the whole module (a test proves it on every committed module).
"""

from __future__ import annotations

import black

from .header import header_lines, inputs_digest, sign
from .model import Backend
from .render import ENTRIES_MARKER, RenderedModule, render

# A fixed mode: the output never depends on the black configuration of whatever
# repository the generator happens to run in. header.BLACK_MODE_DESCRIPTION names it.
LINE_LENGTH = 88
BLACK_MODE = black.Mode(
    target_versions={black.TargetVersion.PY310},
    line_length=LINE_LENGTH,
    string_normalization=True,
    magic_trailing_comma=True,
)
# Pattern configs sit in a list inside the getter: 8 columns in.
ENTRY_INDENT = 8
ENTRY_MODE = black.Mode(
    target_versions={black.TargetVersion.PY310},
    line_length=LINE_LENGTH - ENTRY_INDENT,
    string_normalization=True,
    magic_trailing_comma=True,
)
def build_module(backend: Backend, command: str) -> str:
    """The module ``backend`` generates, as written by ``command``."""
    digest = inputs_digest(backend.files, command)
    rendered = render(backend, header_lines(backend.files, command, backend.torch_version, digest))
    return format_module(rendered, digest)


def format_module(rendered: RenderedModule, inputs: str) -> str:
    """The final module text: formatted, pattern configs spliced in, signed."""
    module = _black(rendered.module, BLACK_MODE)
    marker = f"{' ' * ENTRY_INDENT}{ENTRIES_MARKER},\n"
    if module.count(marker) != 1:
        raise ValueError("the rendered module lost its pattern config marker")
    pad = " " * ENTRY_INDENT
    pieces = []
    for comment, source in rendered.entries:
        formatted = _black(source, ENTRY_MODE)
        lines = formatted.rstrip("\n").split("\n")
        pieces.append(f"{pad}# {comment}\n")
        pieces.extend(f"{pad}{line}\n" if line else "\n" for line in lines[:-1])
        pieces.append(f"{pad}{lines[-1]},\n")
    return sign(module.replace(marker, "".join(pieces)), inputs)


def _black(source: str, mode: black.Mode) -> str:
    try:
        return black.format_str(source, mode=mode)
    except black.InvalidInput as error:
        raise ValueError(f"rendered code does not parse: {error}") from None
