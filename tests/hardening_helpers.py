"""Helpers for the hardening tests: run the CLI with a short timeout, and record
the exact state of every file involved, whatever its kind."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from conftest import REPO

# Well below run_generator's: a run that hangs on a FIFO or a device fails fast.
TIMEOUT = 60

SMALL_SPEC = """\
[backend]
name = "small"
getter = "get_small_backend_config"
output = "small.py"
torch_version = "2.13.0"
doc = "DOC"

[dtype_configs.small_config]
input_dtype = "quint8"
output_dtype = "quint8"

[op_groups.small_group]
sections = [{ patterns = [{ pattern = "torch.nn.ReLU" }] }]

[[backend.op_groups]]
name = "small_group"
dtype_configs = ["small_config"]
"""


def run(*args: str, cwd: Path, env: dict | None = None, timeout: float = TIMEOUT, prefix: tuple[str, ...] = ()):
    """python -m generator in a fresh interpreter, as a user runs it."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "generator", *args],
        cwd=cwd, env=full_env, capture_output=True, timeout=timeout,
    )


def node(path: Path | str) -> tuple:
    """What is at ``path``: its kind and everything that would show a change
    (bytes, mode and mtime of a file, the target of a symlink, the inode of a
    device or FIFO: replacing one gives another inode)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return ("missing",)
    mode = info.st_mode
    if stat.S_ISLNK(mode):
        return ("symlink", os.readlink(path))
    if stat.S_ISREG(mode):
        return ("file", Path(path).read_bytes(), stat.S_IMODE(mode), info.st_mtime_ns, info.st_ino)
    if stat.S_ISDIR(mode):
        return ("directory", stat.S_IMODE(mode), info.st_ino)
    if stat.S_ISFIFO(mode):
        return ("fifo", info.st_ino, info.st_mtime_ns)
    if stat.S_ISCHR(mode):
        return ("character device", info.st_rdev, info.st_ino)
    return ("other", mode, info.st_ino)


def tree(directory: Path) -> dict[str, tuple]:
    """``node`` of every entry below ``directory`` (symlinks not followed; .git skipped)."""
    found = {}
    for root, directories, files in os.walk(directory):
        directories[:] = [d for d in directories if d != ".git"]
        for name in [*directories, *files]:
            path = Path(root) / name
            found[path.relative_to(directory).as_posix()] = node(path)
    return found


def temporaries(directory: Path) -> list[str]:
    """Temporary files of the generator below ``directory``."""
    return sorted(p.name for p in directory.rglob("*.backendconfig-gen.tmp"))


def small_workspace(directory: Path, doc: str = "Return the small BackendConfig.") -> Path:
    """A project (a .git marker) holding small.toml; returns the spec's path."""
    (directory / ".git").mkdir(exist_ok=True)
    spec = directory / "small.toml"
    spec.write_text(SMALL_SPEC.replace("DOC", doc))
    return spec
