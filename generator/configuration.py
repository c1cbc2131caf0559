"""Which specs a run is about: the SPEC arguments (paths, globs, directories) or,
when there are none, the specs a ``pyproject.toml`` configures::

    [tool.backendconfig-gen]
    specs = ["spec/*.toml"]

Note [Where the configuration is found]
Like ruff, and unlike black (which reads only the project root's file), the
configuration is the nearest ``pyproject.toml`` that has a
``[tool.backendconfig-gen]`` table, looking from the working directory upwards;
a ``pyproject.toml`` without the table is passed by. The search stops at the
repository's root (the first directory holding ``.git`` or ``.hg``), so a file
outside the repository never configures it. Its globs and paths are relative to
the file's own directory, so the hooks and CI find the same specs from any
working directory below it. It is read only when no SPEC is given: with SPEC
arguments, those are the specs.

Everything here runs on the fast path of ``--check``: tomllib is already loaded
for the specs; glob and the did-you-mean helper (difflib) load only when used.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from .errors import Problem, Reporter
from .sources import BUILTIN_PREFIX, MAX_SPEC_BYTES, Location, read_bounded, read_document, refused_before_parsing, user_path

CONFIG_FILE = "pyproject.toml"
TABLE = "backendconfig-gen"
KEYS = ("specs",)
# Where the search for a configuration stops (Note [Where the configuration is found]).
REPOSITORY_MARKERS = (".git", ".hg")
GLOB_CHARACTERS = frozenset("*?[")
SPECS_EXPECTED = 'expected specs = ["spec/*.toml", ...]: spec paths, globs or directories, relative to this file'


class ConfigurationError(Exception):
    """The configuration, or a glob or directory among the SPEC arguments, is bad:
    every problem, each naming its file and key."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


class Configuration(NamedTuple):  # see Note [No dataclasses on the fast path] in errors.py
    path: Path  # the pyproject.toml
    table: dict[str, Any]  # its [tool.backendconfig-gen]


def find_configuration(start: Path) -> Configuration | None:
    """The nearest configuration from ``start`` upwards (Note [Where the
    configuration is found]), or None."""
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        candidate = directory / CONFIG_FILE
        if candidate.is_file():
            tool = _read(candidate).get("tool")
            if isinstance(tool, dict) and TABLE in tool:
                table = tool[TABLE]
                if not isinstance(table, dict):
                    raise _error(candidate, f"tool.{TABLE}", f"is {_kind(table)}; expected a table, [tool.{TABLE}]")
                return Configuration(candidate, table)
        if any((directory / marker).exists() for marker in REPOSITORY_MARKERS):
            return None
    return None


def configured_specs(configuration: Configuration) -> list[str]:
    """The specs the configuration names, globs and directories expanded, in the
    order it lists them (each glob's and directory's matches sorted)."""
    path, table = configuration
    problems = []
    for key in table:
        if key not in KEYS:
            from .suggest import one_of  # difflib: only for a message

            problems.append(_problem(path, f"tool.{TABLE}.{key}", f"unknown key; {one_of(KEYS, key)}"))
    if "specs" not in table:
        problems.append(_problem(path, f"tool.{TABLE}.specs", f"missing; {SPECS_EXPECTED}"))
        raise ConfigurationError(problems)
    entries = table["specs"]
    if not isinstance(entries, list) or not entries:
        shown = "an empty list" if entries == [] else _kind(entries)
        problems.append(_problem(path, f"tool.{TABLE}.specs", f"is {shown}; {SPECS_EXPECTED}"))
        raise ConfigurationError(problems)
    specs = []
    for index, entry in enumerate(entries):
        key = f"tool.{TABLE}.specs[{index}]"
        if not isinstance(entry, str) or not entry.strip() or "\0" in entry:
            problems.append(_problem(path, key, f"{_shown(entry)} is not a path; {SPECS_EXPECTED}"))
        elif entry.startswith(BUILTIN_PREFIX):
            problems.append(_problem(path, key, f"{entry!r}: a builtin spec needs -o; configure a spec of yours "
                                                f"that extends it (extends = {entry!r})"))
        else:
            try:
                specs += expand(entry, path.parent)
            except ValueError as error:
                problems.append(_problem(path, key, f"{entry!r} {error}"))
    if problems:
        raise ConfigurationError(problems)
    return specs


def expand_arguments(arguments: list[str]) -> list[str]:
    """The SPEC arguments, globs and directories expanded (relative to the working
    directory); a builtin reference or a path that names no directory is kept as
    given, for the loader to read or report."""
    specs, problems = [], []
    for argument in arguments:
        if argument.startswith(BUILTIN_PREFIX):
            specs.append(argument)
            continue
        try:
            specs += expand(argument, Path())
        except ValueError as error:
            problems.append(Problem(argument, "", str(error)))
    if problems:
        raise ConfigurationError(problems)
    return specs


def expand(entry: str, base: Path) -> list[str]:
    """The specs one path, glob or directory names, relative to ``base``; ValueError
    says why none. An existing path is never read as a glob."""
    path = base / entry
    if os.path.isdir(path):
        return _specs_in(entry, base)
    if os.path.lexists(path) or not GLOB_CHARACTERS & set(entry):
        return [_joined(base, entry)]
    import glob  # only for a glob

    matches = sorted(glob.glob(entry, root_dir=base, recursive=True))
    if not matches:
        raise ValueError("matches no file")
    found = []
    for match in matches:
        found += _specs_in(match, base) if os.path.isdir(base / match) else [_joined(base, match)]
    return found


def _specs_in(directory: str, base: Path) -> list[str]:
    """A directory's backend specs: its ``*.toml`` files (not those of its
    subdirectories) that have a [backend] table or extend a spec, sorted. A file
    that cannot be read or parsed is kept: the loader says what is wrong with it."""
    try:
        names = sorted(entry.name for entry in os.scandir(base / directory)
                       if entry.name.endswith(".toml") and not entry.name.startswith(".") and entry.is_file())
    except OSError as error:
        raise ValueError(f"cannot be listed: {error.strerror or error}") from None
    specs = [_joined(base, os.path.join(directory, name)) for name in names if _is_backend_spec(base / directory / name)]
    if not specs:
        raise ValueError("holds no backend spec (a *.toml file with a [backend] table)")
    return specs


def _is_backend_spec(path: Path) -> bool:
    # Read as every spec is, bounds and the scan before parsing included (a hostile
    # file in the directory must cost no more here than in the loader).
    document = read_document(Location(path), Reporter())
    return document is None or "backend" in document.data or "extends" in document.data


def _read(path: Path) -> dict[str, Any]:
    try:
        raw = read_bounded(path, MAX_SPEC_BYTES)
    except OSError as error:
        raise _error(path, "", f"cannot read it: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _error(path, "", f"not UTF-8 text (byte {error.start}); expected a TOML file") from None
    # The scan before parsing, as for specs: tomllib is quadratic in a dotted key's parts.
    refused = refused_before_parsing(text)
    if refused is not None:
        raise ConfigurationError([Problem(user_path(path), "", refused[1], refused[0])])
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _error(path, "", f"not valid TOML: {error}") from None


def _joined(base: Path, name: str) -> str:
    """How the run names a spec: as given on the command line, else relative to
    the working directory when below it."""
    return name if base == Path() else user_path(base / name)


def _problem(path: Path, key: str, message: str) -> Problem:
    return Problem(user_path(path), key, message)


def _error(path: Path, key: str, message: str) -> ConfigurationError:
    return ConfigurationError([_problem(path, key, message)])


def _kind(value: object) -> str:
    return {str: "a string", int: "an integer", float: "a float", bool: "a boolean", list: "a list",
            dict: "a table"}.get(type(value), type(value).__name__)


def _shown(value: object) -> str:
    from .text import shown

    return shown(value)
