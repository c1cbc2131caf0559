"""Read a spec as it is at a git revision (``REV:path/to/spec.toml``), before regenerating.

The repository's tracked ``*.toml`` files at REV are written to a temporary
directory with a ``.git`` marker, so the spec, the files it includes, and the
paths the model records all read as they do in the repository.
"""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path


class RevisionError(Exception):
    """The revision or the path cannot be read; the message says why, in one line."""


def materialize(revision: str, path: str, into: Path) -> Path:
    """Write the tracked TOML files at ``revision`` below ``into``; return the spec's path there.

    ``path`` is relative to the repository root, or to the working directory when
    it starts with ``./`` or ``../``: git's own meaning of ``REV:path``.
    """
    _git("rev-parse", "--show-toplevel")  # fails clearly outside a repository
    commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", what=f"unknown revision {revision!r}")
    if path.startswith(("./", "../")):
        path = posixpath.normpath(_git("rev-parse", "--show-prefix") + path)
    # --full-tree: paths from the root even when run in a subdirectory.
    listing = _git_bytes("ls-tree", "--full-tree", "-r", "-z", "--name-only", commit).decode("utf-8", "surrogateescape")
    tracked = [name for name in listing.split("\0") if name]
    if path not in tracked:
        raise RevisionError(f"{path} is not a tracked file at revision {revision}")
    for name in tracked:
        if name.endswith(".toml"):
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_git_bytes("show", f"{commit}:{name}"))
    (into / ".git").mkdir(exist_ok=True)  # the project root, as in the repository
    return into / path


def _git(*arguments: str, what: str | None = None) -> str:
    return _git_bytes(*arguments, what=what).decode("utf-8", "surrogateescape").strip()


def _git_bytes(*arguments: str, what: str | None = None) -> bytes:
    try:
        result = subprocess.run(["git", *arguments], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise RevisionError("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise RevisionError(f"git {arguments[0]} timed out") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RevisionError(what or (message[0] if message else f"git {arguments[0]} failed"))
    return result.stdout
