"""Read a spec as it is at a git revision (``REV:path/to/spec.toml``), before regenerating.

Note [Reading a revision safely]
A revision is someone else's data: reviewing a pull request must not touch the
reviewer's files, and git stores trees that it would never check out (``git
fsck`` only warns). So a revision is never checked out. Its trees are read object
by object (``git cat-file``), and every entry of every tree is checked as git
checks a path before writing it: a name that is empty, ``.`` or ``..``, holds a
``/`` or a backslash, or is ``.git`` in any case or in a spelling that a
case-insensitive, HFS+ or NTFS file system takes for ``.git``, is refused, naming
the entry, before anything is written.

Then only the ``*.toml`` blobs are written, below ``into``: a directory the caller
has just created for this (a fresh temporary directory), with a ``.git`` marker so
that the spec, the files it includes and the paths the model records read as they
do in the repository. Each directory is created here and each file exclusively
(``O_EXCL | O_NOFOLLOW``): two entries that one file system takes for the same
name are refused, and nothing outside ``into`` can be written.

- Symlinks (mode 120000) are never followed: one named ``*.toml``, which the loader
  would read as a spec, is refused with its target named; any other is left out.
- Submodules (mode 160000) are left out: their files are another repository's,
  not part of this revision. A spec that includes one reports the file missing.
- Bounds: at most MAX_ENTRIES entries and MAX_DEPTH levels are walked, at most
  MAX_TOML_BYTES of TOML read; a blob over the loader's own limit is written as
  that many bytes plus one, which the loader refuses by size, as it would the file.
"""

from __future__ import annotations

import os
import posixpath
import stat
import subprocess
from pathlib import Path

from ..sources import MAX_SPEC_BYTES

MAX_ENTRIES = 200_000
MAX_DEPTH = 64
MAX_TOML_BYTES = 64 << 20
_GIT_TIMEOUT = 60
# Code points HFS+ ignores in names, so that ".g\u200cit" is ".git" there (git's is_hfs_dotgit).
_HFS_IGNORED = frozenset("\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u206a\u206b\u206c\u206d\u206e\u206f\ufeff")
# Entry modes by their file type bits, as git reads them (it also accepts "040000").
_TREE, _SYMLINK, _SUBMODULE, _BLOB = 0o040000, 0o120000, 0o160000, 0o100000


class RevisionError(Exception):
    """The revision or the path cannot be read; the message says why, in one line."""


def materialize(revision: str, path: str, into: Path) -> Path:
    """Write the TOML files of ``revision`` below ``into`` (see the Note); return
    the spec's path there.

    ``path`` is relative to the repository root, or to the working directory when
    it starts with ``./`` or ``../``: git's own meaning of ``REV:path``.
    """
    _git("rev-parse", "--show-toplevel")  # fails clearly outside a repository
    commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", what=f"unknown revision {revision!r}")
    if path.startswith(("./", "../")):
        path = posixpath.normpath(_git("rev-parse", "--show-prefix") + path)
    blobs = _toml_blobs(_git("rev-parse", f"{commit}^{{tree}}"))
    if path not in blobs:
        raise RevisionError(f"{path} is not a tracked file at revision {revision}")
    for name, content in zip(blobs, _contents(list(blobs.values()))):
        _write(into, name, content)
    (into / ".git").mkdir()  # the project root, as in the repository (no entry may be named .git)
    return into / path


def refused_name(name: str) -> str | None:
    """Why git would refuse to check out a tree entry named ``name``, or None."""
    if name in ("", ".", ".."):
        return "an empty, . or .. path component"
    if "/" in name:
        return "a name holding a /"
    if "\\" in name:
        return "a name holding a backslash, a separator on Windows"
    folded = "".join(char for char in name if char not in _HFS_IGNORED).lower()
    if folded == ".git" or folded.split(":")[0].rstrip(". ") in (".git", "git~1"):
        return "git's own directory"
    return None


def _toml_blobs(root: str) -> dict[str, str]:
    """Every ``*.toml`` blob of the tree ``root``: path -> object id, each entry of
    every tree checked on the way."""
    found: dict[str, str] = {}
    level = [("", root)]
    walked = 0
    for _ in range(MAX_DEPTH):
        if not level:
            return found
        next_level = []
        for (directory, _), (kind, data) in zip(level, _objects([tree for _, tree in level])):
            if kind != "tree":
                raise RevisionError(f"{directory or '/'}: expected a tree, the object is a {kind}")
            for mode, name, object_id in _entries(data, len(root) // 2, directory):
                walked += 1
                if walked > MAX_ENTRIES:
                    raise RevisionError(f"the revision's tree has over {MAX_ENTRIES} entries; refusing to walk it")
                entry = f"{directory}{name}"
                problem = refused_name(name)
                if problem is not None:
                    raise RevisionError(f"the tree holds an entry git refuses to check out: {entry!r} ({problem}); nothing was read")
                kind = mode & 0o170000
                if kind == _TREE:
                    next_level.append((f"{entry}/", object_id))
                elif kind == _SYMLINK and name.endswith(".toml"):
                    ((_, target),) = _objects([object_id])
                    shown = target.decode("utf-8", "surrogateescape")
                    raise RevisionError(f"{entry} is a symlink (to {shown!r}); symlinks in a revision are not followed")
                elif kind == _BLOB and name.endswith(".toml"):
                    found[entry] = object_id
                elif kind not in (_BLOB, _SYMLINK, _SUBMODULE):
                    raise RevisionError(f"{entry}: a tree entry of unknown mode {mode:o}")
        level = next_level
    raise RevisionError(f"the revision's tree nests over {MAX_DEPTH} levels deep; refusing to walk it")


def _entries(data: bytes, id_bytes: int, directory: str) -> list[tuple[int, str, str]]:
    """(mode, name, object id) of each entry of a raw tree object."""
    entries = []
    position = 0
    while position < len(data):
        space = data.find(b" ", position)
        end = data.find(b"\0", space + 1)
        mode = data[position:space]
        if space < 0 or end < 0 or end + 1 + id_bytes > len(data) or not mode.isdigit() or set(mode) - set(b"01234567"):
            raise RevisionError(f"{directory or '/'}: a damaged tree object")
        name = data[space + 1 : end].decode("utf-8", "surrogateescape")
        entries.append((int(mode, 8), name, data[end + 1 : end + 1 + id_bytes].hex()))
        position = end + 1 + id_bytes
    return entries


def _contents(object_ids: list[str]) -> list[bytes]:
    """The blobs' bytes; one over the loader's limit as that limit plus one byte."""
    sizes = _sizes(object_ids)
    small = [object_id for object_id in object_ids if sizes[object_id] <= MAX_SPEC_BYTES]
    if sum(sizes[object_id] for object_id in small) > MAX_TOML_BYTES:
        raise RevisionError(f"the revision's TOML files hold over {MAX_TOML_BYTES >> 20} MB; refusing to read them")
    read = dict(zip(small, (data for _, data in _objects(small))))
    return [read.get(object_id, b"#" * (MAX_SPEC_BYTES + 1)) for object_id in object_ids]


def _sizes(object_ids: list[str]) -> dict[str, int]:
    lines = _git_bytes("cat-file", "--batch-check", input="".join(f"{i}\n" for i in object_ids)).splitlines()
    sizes = {}
    for object_id, line in zip(object_ids, lines):
        parts = line.split()
        if len(parts) != 3 or not parts[2].isdigit():
            raise RevisionError(f"object {object_id} cannot be read")
        sizes[object_id] = int(parts[2])
    return sizes


def _objects(object_ids: list[str]) -> list[tuple[str, bytes]]:
    """(type, bytes) of each object, read by one ``git cat-file --batch``."""
    total = sum(_sizes(object_ids).values())
    if total > MAX_TOML_BYTES:
        raise RevisionError(f"the revision's trees hold over {MAX_TOML_BYTES >> 20} MB; refusing to read them")
    output = _git_bytes("cat-file", "--batch", input="".join(f"{i}\n" for i in object_ids))
    found = []
    position = 0
    for object_id in object_ids:
        end = output.index(b"\n", position)
        _, kind, size = output[position:end].decode("ascii").split()
        start = end + 1
        found.append((kind, output[start : start + int(size)]))
        position = start + int(size) + 1
    return found


def _write(into: Path, path: str, content: bytes) -> None:
    """Create ``into/path`` and the directories to it, never through an existing one
    of another kind."""
    *directories, name = path.split("/")
    directory = into
    for part in directories:
        directory = directory / part
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(directory).st_mode):
                raise RevisionError(f"{path}: two entries of the revision have one name on this file system") from None
    try:
        descriptor = os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise RevisionError(f"{path}: two entries of the revision have one name on this file system") from None
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)


def _git(*arguments: str, what: str | None = None) -> str:
    return _git_bytes(*arguments, what=what).decode("utf-8", "surrogateescape").strip()


def _git_bytes(*arguments: str, what: str | None = None, input: str | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", *arguments], capture_output=True, timeout=_GIT_TIMEOUT, input=None if input is None else input.encode()
        )
    except FileNotFoundError:
        raise RevisionError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"git {arguments[0]} timed out") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RevisionError(what or (message[0] if message else f"git {arguments[0]} failed"))
    return result.stdout
