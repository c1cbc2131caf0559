"""Format rendered pieces with black and sign the module.

Black formats the module around the pattern configs once, and each pattern config
on its own (at the width it has inside the getter's list), then the pieces are
joined: cost grows linearly with the number of pattern configs, and the bytes are
the ones black gives the whole module (a test proves it on every committed module).
"""

from __future__ import annotations

import gc
import itertools
import textwrap

import black

from .header import FORMATTER_OFF, header_lines, inputs_digest, sign
from .literals import LINE_LENGTH
from .model import Backend
from .render import ALL_NAMES_MARKER, CONSTANTS_MARKER, ENTRIES_MARKER, RenderedModule, render

# A fixed mode: the output never depends on the black configuration of whatever
# repository the generator happens to run in. header.BLACK_MODE_DESCRIPTION names it.
BLACK_MODE = black.Mode(
    target_versions={black.TargetVersion.PY310},
    line_length=LINE_LENGTH,
    string_normalization=True,
    magic_trailing_comma=True,
)
# Pattern configs sit in a list inside the getter, 8 columns in. Black formats them
# in chunks, as the elements of a top-level list (4 columns in, so 4 columns less
# wide): chunks keep the cost linear and spare black's fixed cost per call.
ENTRY_INDENT = 8
CHUNK_INDENT = 4
CHUNK_SIZE = 64
CHUNK_MODE = black.Mode(
    target_versions={black.TargetVersion.PY310},
    line_length=LINE_LENGTH - (ENTRY_INDENT - CHUNK_INDENT),
    string_normalization=True,
    magic_trailing_comma=True,
)


def build_module(backend: Backend, command: str) -> str:
    """The module ``backend`` generates, as written by ``command``."""
    digest = inputs_digest(backend.files, command)
    header = header_lines(backend.files, command, backend.torch_version, digest)
    return format_module(render(backend, header), header)


def format_module(rendered: RenderedModule, header: list[str]) -> str:
    """The final module text: formatted, pattern configs spliced in, the
    formatter-off line below the header, signed. ``header`` are the header's lines
    as rendered."""
    module = _black(rendered.module, BLACK_MODE)
    # Black would leave a module holding FORMATTER_OFF unformatted: it goes in last.
    head = "".join(f"# {line}\n" for line in header)
    if not module.startswith(head):
        raise ValueError("black changed the rendered header")
    module = f"{head}{FORMATTER_OFF}\n{module[len(head):]}"
    # __all__'s names are identifiers: written as black writes them (its magic
    # trailing comma keeps the list one name per line).
    module = _splice(module, f"    {ALL_NAMES_MARKER},\n", "".join(f'    "{name}",\n' for name in rendered.all_names))
    if rendered.constants:
        module = _splice(module, f"{CONSTANTS_MARKER}\n", _format_constants(rendered.constants))
    if not rendered.has_entries:
        return sign([module])
    marker = f"{' ' * ENTRY_INDENT}{ENTRIES_MARKER},\n"
    if module.count(marker) != 1:
        raise ValueError("the rendered module lost its pattern config marker")
    before, after = module.split(marker)
    pieces = [before]
    # The collector runs often while black works; it should not walk the spec's
    # model each time (a third of the time of a large spec): set it aside meanwhile.
    gc.freeze()
    try:
        entries = iter(rendered.entries)
        while chunk := list(itertools.islice(entries, CHUNK_SIZE)):
            pieces.append(_format_chunk(chunk))
    finally:
        gc.unfreeze()
    pieces.append(after)
    return sign(pieces)


def _splice(module: str, marker: str, text: str) -> str:
    if module.count(marker) != 1:
        raise ValueError(f"the rendered module lost its marker {marker.strip()!r}")
    return module.replace(marker, text)


def _format_constants(constants: list[str]) -> str:
    """The module's constants, formatted in chunks, one blank line apart."""
    chunks = [_black("\n".join(constants[start : start + CHUNK_SIZE]), BLACK_MODE) for start in range(0, len(constants), CHUNK_SIZE)]
    return "\n".join(chunks)


def _format_chunk(entries: list[tuple[str, str]]) -> str:
    """Pattern configs with their comments, formatted, at the getter's indentation."""
    pad = " " * CHUNK_INDENT
    elements = []
    for comment, source in entries:
        # Black leaves comments as they are: they are wrapped here, to the width
        # they have inside the getter's list.
        for line in textwrap.wrap(comment, width=LINE_LENGTH - ENTRY_INDENT - 2, break_long_words=False):
            elements.append(f"{pad}# {line}\n")
        elements.extend(f"{pad}{line}\n" if line else "\n" for line in source.rstrip("\n").split("\n"))
        elements[-1] = elements[-1][:-1] + ",\n"
    formatted = _black("_ = [\n" + "".join(elements) + "]\n", CHUNK_MODE)
    if not (formatted.startswith("_ = [\n") and formatted.endswith("\n]\n")):
        raise ValueError("black reshaped a chunk of pattern configs")
    body = formatted[len("_ = [\n") : -len("]\n")]
    extra = " " * (ENTRY_INDENT - CHUNK_INDENT)
    return "".join(f"{extra}{line}\n" if line else "\n" for line in body.split("\n")[:-1])


def _black(source: str, mode: black.Mode) -> str:
    try:
        return black.format_str(source, mode=mode)
    except black.InvalidInput as error:
        raise ValueError(f"rendered code does not parse: {error}") from None
