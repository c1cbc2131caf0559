"""Where the files shipped with the generator live: its templates and builtin specs.

An installed wheel carries them inside the package (generator/templates,
generator/specs); a checkout keeps them in the top-level templates/ and spec/
directories.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).parent


def templates_dir() -> Path:
    """The Jinja2 templates of generated modules."""
    packaged = _PACKAGE / "templates"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "templates"


def builtin_root() -> Path:
    """The specs shipped with the generator (``builtin:NAME``)."""
    packaged = _PACKAGE / "specs"
    return packaged if packaged.is_dir() else _PACKAGE.parent / "spec"
