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
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from .errors import Reporter
from .packaged import builtin_root
from .text import shown

MAX_SPEC_BYTES = 1_000_000
# All the files of one spec together (it, the specs it extends, their includes):
# a few files of MAX_SPEC_BYTES, not thousands (the loader's MAX_INCLUDES).
MAX_TOTAL_BYTES = 4_000_000
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

    # Each of these asks the file system: callers in loops keep the answer.
    @property
    def identity(self) -> str:
        """The same file reached by any name (a symlink, a hard link, a bind mount)
        has one identity: its device and inode; its real path while there is no
        file to inspect."""
        try:
            info = os.stat(self.path)
        except (OSError, ValueError):
            return self.real_path
        return f"{info.st_dev}:{info.st_ino}"

    @property
    def real_path(self) -> str:
        return os.path.realpath(self.path)

    @property
    def directory(self) -> Path:
        """Where the file's relative references (include, extends, backend.output)
        start from: the real file's directory, so that a spec named through a
        symlink reads the files it names itself, as its header says. (Only the
        last part of the path needs resolving: the system resolves directories,
        `..` included, as realpath does.)"""
        return Path(self.real_path).parent if os.path.islink(self.path) else self.path.parent


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
    base = relative_to.directory if relative_to is not None else Path()
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
    size: int = 0  # bytes read


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
    refused = refused_before_parsing(text)
    if refused is not None:
        reporter.add(name, "", refused[1], refused[0])
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
    except ValueError as error:  # pragma: no cover - the scan refuses the integers int() would
        reporter.add(name, "", f"cannot parse: {shown(str(error))}")
        return None
    except MemoryError:
        reporter.add(name, "", f"too large to parse; a spec may be at most {MAX_SPEC_BYTES} bytes")
        return None
    depth = _value_depth(data)
    if depth > MAX_NESTING:
        reporter.add(name, "", f"values nest {depth} deep; a spec may nest at most {MAX_NESTING} deep")
        return None
    return Document(location, name, data, text.replace("\r\n", "\n").encode("utf-8"), len(raw))


# Note [The scan before parsing]
# tomllib's time and memory grow with the square of a dotted key's parts (20,000
# parts: 9 s and 2.3 GB), and Python converts an integer of thousands of digits
# slowly, or not at all. One pass over the text finds both before tomllib runs.
# It reads the text as tokens, each consumed once, left to right: strings and
# comments (skipped whole: they may hold dots and digits), integer literals, and
# runs of key parts joined by dots. Every pattern is possessive (it never
# backtracks), a run of key parts starts only where a key can (not after a key
# character, a dot or a quote), and a string that is not closed ends where
# tomllib stops reading it, so the scan is linear whatever the text (tomllib then
# reports what is malformed). Refused: integers of more digits than any 64-bit
# integer has (64, in binary), and keys of more parts than MAX_NESTING.
MAX_INTEGER_DIGITS = 64
_KEY_CHARACTER = r"A-Za-z0-9_\-"
_BASIC_STRING = r'"(?:[^"\\\n]++|\\[^\n])*+"?+'
_LITERAL_STRING = r"'[^'\n]*+'?+"
_KEY_PART = rf"(?:[{_KEY_CHARACTER}]++|{_BASIC_STRING}|{_LITERAL_STRING})"
_LONG = "{%d,}+" % (MAX_INTEGER_DIGITS + 1)
_SCAN = re.compile(
    r'"""(?:[^"\\]++|\\[\s\S]|""?+(?!"))*+(?:"{3,5}+)?+'
    r"|'''(?:[^']++|''?+(?!'))*+(?:'{3,5}+)?+"
    # Not followed by = or a dot: a key of digits, or a float, is not an integer.
    rf"|(?P<integer>(?<![{_KEY_CHARACTER}.])[+-]?+(?:0x[0-9A-Fa-f_]{_LONG}|0o[0-7_]{_LONG}|0b[01_]{_LONG}|[0-9_]{_LONG})"
    rf"(?![{_KEY_CHARACTER}.]|[ \t]*+[=.]))"
    rf"|(?P<key>(?<![{_KEY_CHARACTER}.\"']){_KEY_PART}(?:[ \t]*+\.[ \t]*+{_KEY_PART}){{{MAX_NESTING},}}+)"
    rf"|{_BASIC_STRING}|{_LITERAL_STRING}|#[^\n]*+"
)


def refused_before_parsing(text: str) -> tuple[int, str] | None:
    """(line, message) for the first integer or dotted key that must not reach the
    parser (see Note [The scan before parsing]), or None."""
    for token in _SCAN.finditer(text):
        kind = token.lastgroup
        if kind is None:
            continue  # a string or a comment
        line = text.count("\n", 0, token.start()) + 1
        if kind == "key":
            return line, f"a dotted key of more than {MAX_NESTING} parts; a spec may nest at most {MAX_NESTING} deep"
        digits = token[0].lstrip("+-")
        digits = digits[2:] if digits[1:2] in ("x", "o", "b") else digits
        count = len(digits.replace("_", ""))
        if count > MAX_INTEGER_DIGITS:  # else underscores made it long: tomllib reads it
            return line, f"an integer of {count} digits; expected integers within 64 bits ({_INT64_TEXT})"
    return None


def _is_utf8(text: str) -> bool:
    """False for a path holding bytes that are not UTF-8 (surrogate escapes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
