"""Find and read the input files of a spec: bounded, regular files only, parsed as TOML.

An input is named either by a path (relative to the file that names it) or by a
``builtin:`` reference to a spec shipped with the generator (``builtin:fbgemm.toml``,
``builtin:op_groups/common.toml``). Every problem becomes a message; nothing here
raises on bad input, however hostile (devices, FIFOs, symlink loops, deep nesting,
huge numbers).
"""

from __future__ import annotations

import errno
import math
import os
import re
import stat
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from .errors import Reporter
from .packaged import builtin_root
from .text import shown

MAX_SPEC_BYTES = 1_000_000
# Deeper than any real spec (a nested pattern inside an op group is ~10 levels);
# bounds the recursion of the TOML parser and of every reader after it.
MAX_NESTING = 32
BUILTIN_PREFIX = "builtin:"
# Files that mark a project's root directory.
ROOT_MARKERS = (".git", ".hg", "pyproject.toml")

_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_REFUSED_TREES = ("/proc/", "/sys/", "/dev/")
_INT64_TEXT = "-9223372036854775808 to 9223372036854775807"


def display_base(path: Path) -> Path:
    """The directory paths in generated files are relative to: the project root
    (the nearest ancestor of ``path`` holding one of ROOT_MARKERS), else the file's
    own directory. A marker other than .git keeps a checkout without history (an
    archive) generating the same bytes."""
    return project_root(path) or Path(os.path.realpath(path)).parent


def project_root(path: Path) -> Path | None:
    """The nearest ancestor of ``path`` holding one of ROOT_MARKERS, if any."""
    start = Path(os.path.realpath(path)).parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory
    return None


def display_path(path: Path, base: Path) -> str:
    """How generated files name a path: relative to ``base`` (see display_base), so
    the same spec gives the same bytes from any working directory."""
    return Path(os.path.relpath(os.path.realpath(path), base)).as_posix()


def user_path(path: Path) -> str:
    """A path for messages: relative to the working directory when below it."""
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return absolute.as_posix()


class Location(NamedTuple):  # see Note [No dataclasses on the fast path]
    """Where an input file is."""

    path: Path  # on disk
    builtin: str | None = None  # the name after "builtin:", for shipped files

    @property
    def name(self) -> str:
        """How messages name the file: as the user would type it."""
        return f"{BUILTIN_PREFIX}{self.builtin}" if self.builtin is not None else user_path(self.path)

    def display(self, base: Path) -> str:
        """How generated files name it: a builtin reference or a project-relative path."""
        return f"{BUILTIN_PREFIX}{self.builtin}" if self.builtin is not None else display_path(self.path, base)

    @property
    def identity(self) -> str:
        """The same file reached by two names has one identity."""
        return os.path.realpath(self.path)


def locate(reference: str, relative_to: Location | None = None) -> Location | str:
    """The file a reference names, or what is wrong with the reference.
    A relative path is relative to the directory of ``relative_to`` (a builtin
    file's relative references stay builtin)."""
    if not reference.strip() or "\0" in reference:
        return "expected a path to a TOML file, or builtin:NAME"
    if reference.startswith(BUILTIN_PREFIX):
        return _builtin(reference[len(BUILTIN_PREFIX) :])
    if relative_to is not None and relative_to.builtin is not None and not os.path.isabs(reference):
        return _builtin((PurePosixPath(relative_to.builtin).parent / reference).as_posix())
    base = relative_to.path.parent if relative_to is not None else Path()
    return Location(base / reference)


def _builtin(name: str) -> Location | str:
    parts = PurePosixPath(name).parts
    normalized: list[str] = []
    for part in parts:
        if part == "..":
            if not normalized:
                return f"{BUILTIN_PREFIX}{name} leaves the builtin specs; expected e.g. builtin:fbgemm.toml"
            normalized.pop()
        elif part not in ("", "."):
            normalized.append(part)
    if not normalized or PurePosixPath(name).is_absolute():
        return f"{BUILTIN_PREFIX}{name} is not a builtin spec name; expected e.g. builtin:fbgemm.toml"
    clean = "/".join(normalized)
    return Location(builtin_root().joinpath(*normalized), builtin=clean)


def builtin_names() -> list[str]:
    """Every shipped spec file, as builtin references."""
    root = builtin_root()
    return sorted(f"{BUILTIN_PREFIX}{path.relative_to(root).as_posix()}" for path in root.rglob("*.toml"))


class UnrepresentableFloat(float):
    """A TOML float literal that a Python float cannot hold: it became 0.0 or inf."""

    literal: str


def _parse_float(literal: str) -> float:
    value = float(literal)
    mantissa = literal.lower().split("e")[0]
    underflow = value == 0.0 and any(digit in "123456789" for digit in mantissa)
    overflow = math.isinf(value) and "inf" not in literal
    if underflow or overflow:
        result = UnrepresentableFloat(value)
        result.literal = literal
        return result
    return value


class Document(NamedTuple):
    """One parsed input file."""

    location: Location
    name: str  # how messages name it
    data: dict[str, Any]
    content: bytes  # line endings normalized: what the inputs digest covers


class SpecFile(NamedTuple):
    """One input file: how the output names it (a project-relative path, or a
    ``builtin:`` reference for a file shipped with the generator), and its bytes
    with line endings normalized (so a CRLF checkout digests the same)."""

    display_path: str
    content: bytes
    role: str = "include"  # "spec", "extends" or "include"
    identity: str = ""  # the real path on disk


MAX_SYMLINK_HOPS = 40


def kernel_node(path: Path | str) -> str | None:
    """The path under /proc, /sys or /dev that resolving ``path`` passes through, if
    any. Every symlink is followed by hand: realpath() alone would resolve a magic
    link such as /proc/self/fd/1 to whatever that descriptor is open on, and a
    link to it would pass for that file."""
    pending = [part for part in reversed(os.fspath(path).split("/")) if part]
    current = "/" if os.fspath(path).startswith("/") else os.getcwd()
    if (current + "/").startswith(_REFUSED_TREES):
        return current
    hops = 0
    while pending:
        part = pending.pop()
        if part == ".":
            continue
        if part == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, part)
        if (candidate + "/").startswith(_REFUSED_TREES):
            return os.path.join(candidate, *reversed(pending))
        try:
            target = os.readlink(candidate)
        except OSError:  # not a symlink, or nothing there: the open says what
            current = candidate
            continue
        hops += 1
        if hops > MAX_SYMLINK_HOPS:
            return None  # a loop: opening the path reports it
        if target.startswith("/"):
            current = "/"
        pending.extend(part for part in reversed(target.split("/")) if part)
    return None


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, at most ``limit`` + 1 of them; OSError otherwise
    (a FIFO is opened without blocking, and refused with the rest)."""
    node = kernel_node(path)
    if node is not None:
        leads = "" if node == os.fspath(path) else f"leads to {node}, which "
        raise OSError(errno.EINVAL, f"{leads}is a device or kernel interface file, not a regular file")
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = _file_kind(info.st_mode)
            raise OSError(errno.EISDIR if kind == "a directory" else errno.EINVAL, f"is {kind}, not a regular file")
        chunks = []
        remaining = limit + 1
        while remaining > 0:
            chunk = os.read(descriptor, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(descriptor)


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def os_error_text(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "symlink loop"
    if error.errno == errno.ENOENT:
        return "file not found"
    return error.strerror or str(error)


def read_document(location: Location, reporter: Reporter, raw: bytes | None = None) -> Document | None:
    """Read and parse one TOML input; report why not and return None if it cannot be.
    ``raw``: the file's bytes, when they were read already."""
    name = location.name
    if not _is_utf8(os.fspath(location.path)):
        # Generated files name their inputs, in UTF-8 text.
        reporter.add(name, "", "file name is not UTF-8; expected a spec whose path is UTF-8 text")
        return None
    try:
        raw = read_bounded(location.path, MAX_SPEC_BYTES) if raw is None else raw
    except OSError as error:
        reason = os_error_text(error)
        if error.errno == errno.ENOENT and location.builtin is not None:
            from .suggest import one_of  # difflib: not on the fast path

            reporter.add(name, "", f"no such builtin spec; {one_of(builtin_names(), name, ordered=True)}")
        elif error.errno == errno.ENOENT:
            reporter.add(name, "", "file not found; expected a TOML spec")
        elif reason.startswith(("is ", "leads to ")):
            reporter.add(name, "", f"{reason.removesuffix(', not a regular file')}; expected a TOML spec file")
        else:
            reporter.add(name, "", f"cannot read file: {reason}")
        return None
    if len(raw) > MAX_SPEC_BYTES:
        reporter.add(name, "", f"file is over {MAX_SPEC_BYTES} bytes; a spec may be at most {MAX_SPEC_BYTES} bytes")
        return None
    if not raw.strip():
        reporter.add(name, "", "file is empty; expected a TOML spec")
        return None
    if b"\0" in raw:
        reporter.add(name, "", "file is binary (holds NUL bytes); expected a UTF-8 TOML spec")
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        reporter.add(name, "", f"file is not UTF-8 text (byte {error.start}); expected a UTF-8 TOML spec")
        return None
    deep_key = _deep_dotted_key(text)
    if deep_key is not None:
        # tomllib's time and memory grow with the square of a key's parts: refuse before parsing.
        reporter.add(name, "", f"a dotted key of more than {MAX_NESTING} parts; a spec may nest at most {MAX_NESTING} deep", deep_key)
        return None
    try:
        data = tomllib.loads(text, parse_float=_parse_float)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        line = _TOML_LINE.search(message)
        message = _TOML_LINE.sub("", message).strip()
        reporter.add(name, "", f"TOML syntax error: {message}", int(line[1]) if line else None)
        return None
    except RecursionError:
        # Arrays or inline tables nested deeper than tomllib's recursion can follow.
        reporter.add(name, "", f"values nest too deep to parse; a spec may nest at most {MAX_NESTING} deep")
        return None
    except ValueError as error:
        # Python refuses to convert integers of thousands of digits.
        long_number = _long_number(text)
        if long_number is None:
            reporter.add(name, "", f"cannot parse: {shown(str(error))}")
        else:
            line = text.count("\n", 0, long_number.start()) + 1
            reporter.add(name, "", f"an integer of {len(long_number[0].replace('_', ''))} digits; expected integers within 64 bits ({_INT64_TEXT})", line)
        return None
    except MemoryError:
        reporter.add(name, "", f"too large to parse; a spec may be at most {MAX_SPEC_BYTES} bytes")
        return None
    depth = _value_depth(data)
    if depth > MAX_NESTING:
        reporter.add(name, "", f"values nest {depth} deep; a spec may nest at most {MAX_NESTING} deep")
        return None
    return Document(location, name, data, text.replace("\r\n", "\n").encode("utf-8"))


# MAX_NESTING + 1 key parts in a row: bare or quoted.
_DOTTED_KEY = re.compile(r"""(?:(?:[A-Za-z0-9_-]+|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')[ \t]*\.[ \t]*){%d,}""" % MAX_NESTING)
_STRINGS_AND_COMMENTS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*')


def _deep_dotted_key(text: str) -> int | None:
    """The line of the first key (or table header) of more than MAX_NESTING dotted
    parts, found in linear time; strings and comments, which may hold dots, are
    blanked out first, when the raw text has such a run at all."""
    if _DOTTED_KEY.search(text) is None:
        return None

    def blank(token: re.Match[str]) -> str:
        return ("" if token[0].startswith("#") else '""') + "\n" * token[0].count("\n")

    stripped = _STRINGS_AND_COMMENTS.sub(blank, text)
    found = _DOTTED_KEY.search(stripped)
    return None if found is None else stripped.count("\n", 0, found.start()) + 1


def _is_utf8(text: str) -> bool:
    """False for a path holding bytes that are not UTF-8 (surrogate escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _long_number(text: str) -> re.Match[str] | None:
    """The first run of digits longer than Python converts from text."""
    limit = sys.get_int_max_str_digits() or 4300
    for found in re.finditer(r"[0-9][0-9_]*", text):
        if len(found[0]) > limit and len(found[0].replace("_", "")) > limit:
            return found
    return None


def _value_depth(data: Any) -> int:
    deepest = 0
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return deepest
