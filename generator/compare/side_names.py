"""What a side of a comparison names, decided without torch; and the problems of a
spec or module side that show before anything runs.

``diff`` loads its sides in a child process, which imports torch (seconds, before
anything else): the parent first checks what it can without torch or the user's
code, so a mistyped path or a broken spec is refused at once. The child loads the
sides as before (sides.py); both read an argument through ``side_name``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..errors import SpecError
from ..loader import load_backend
from ..output import OutputError, read_output
from ..sources import BUILTIN_PREFIX

USAGE = "expected a spec (.toml), a generated module (.py), MODULE:FUNCTION, or REV:path/to/spec.toml"


class SideName(NamedTuple):
    kind: str  # "packaged spec", "spec", "spec at git revision", "function" or "generated module"
    first: str  # the spec or module path, the revision, or the module to import
    second: str = ""  # the path at the revision, or the function


def side_name(argument: str) -> SideName | None:
    """What ``argument`` names; None when it names nothing a side can be."""
    if argument.startswith(BUILTIN_PREFIX):
        return SideName("packaged spec", argument)
    if ":" in argument:
        left, _, right = argument.partition(":")
        if right.endswith(".toml"):
            return SideName("spec at git revision", left, right)
        if left and right:
            return SideName("function", left, right)
    if argument.endswith(".toml"):
        return SideName("spec", argument)
    if argument.endswith(".py"):
        return SideName("generated module", argument)
    return None


def problems_before_running(argument: str) -> list[str]:
    """The problems of a side that need neither torch nor the user's code: not a
    side at all, a spec that does not load, a module that is not a readable text file.
    A revision and MODULE:FUNCTION are left to the child (git, imports)."""
    name = side_name(argument)
    if name is None:
        return [f"{argument}: {USAGE}"]
    if name.kind in ("packaged spec", "spec"):
        try:
            load_backend(argument if name.kind == "packaged spec" else Path(argument))
        except SpecError as error:
            return [str(problem) for problem in error.problems]
    elif name.kind == "generated module":
        return module_source(Path(argument), argument)[1]
    return []


def module_source(path: Path, label: str) -> tuple[str, list[str]]:
    """A module side's source, read as a bounded regular file, or the problems."""
    try:
        content = read_output(path)
    except OutputError as error:
        return "", [f"{label}: {error}"]
    if content is None:
        return "", [f"{label}: file not found; expected a generated module"]
    try:
        return content.decode("utf-8"), []
    except UnicodeDecodeError:
        return "", [f"{label}: not UTF-8 text; expected a generated module"]
