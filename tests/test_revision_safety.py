"""``diff REV:path`` reads someone else's revision without writing anything outside
a private directory (see Note [Reading a revision safely] in generator/compare/gitrev.py).

Each case is a commit whose tree holds one entry git would not check out, built
with ``git hash-object --literally`` (git stores such trees; ``git fsck`` only
warns): ``..``, a name holding ``/`` (an absolute path), ``.git`` in several
spellings, a backslash, a symlink to a file outside. The diff exits 2 naming the
entry, and no file around the repository changes. A submodule is left out: the
diff goes on.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import REPO, run_generator, snapshot
from generator.cli import main

SPEC = "spec/small.toml"
BLOB, TREE, SYMLINK, SUBMODULE = "100644", "40000", "120000", "160000"
HFS_GIT = ".g\u200cit"  # HFS+ ignores the zero-width non-joiner: it is .git there
BACKSLASHED = "spec\\evil.toml"


def _git(repository: Path, *args: str, input: bytes | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    result = subprocess.run(["git", *args], cwd=repository, env=env, check=True, capture_output=True, input=input)
    return result.stdout.decode().strip()


def _tree(repository: Path, *entries: tuple[str, str, str]) -> str:
    """A tree object holding exactly ``entries`` (mode, name, object id), whatever the names."""
    raw = b"".join(f"{mode} {name}".encode() + b"\0" + bytes.fromhex(object_id) for mode, name, object_id in entries)
    return _git(repository, "hash-object", "-t", "tree", "--literally", "-w", "--stdin", input=raw)


def _blob(repository: Path, content: str) -> str:
    return _git(repository, "hash-object", "-w", "--stdin", input=content.encode())


@pytest.fixture
def around(tmp_path) -> Path:
    """tmp_path: a repository with the small spec, a file beside it that a hostile
    tree aims at, and ``private/``, the temporary directory the run may use."""
    repository = tmp_path / "repository"
    (repository / "spec").mkdir(parents=True)
    for name in ("small.toml", "small_ops.toml"):
        shutil.copy(REPO / "tests" / "diff_specs" / name, repository / "spec" / name)
    _git(repository, "init", "-q")
    _git(repository, "add", ".")
    _git(repository, "commit", "-q", "-m", "small backend")
    (tmp_path / "outside.toml").write_text("precious = true\n")
    (tmp_path / "private").mkdir()
    return tmp_path


def _commit_with(repository: Path, name: str, tmp_path: Path) -> str:
    """HEAD's tree plus the hostile entry ``name`` (a case of CASES), committed."""
    blob = _blob(repository, 'escaped = "yes"\n')
    one_up = _tree(repository, (BLOB, "outside.toml", blob))
    entry = {
        "dot-dot": (TREE, "..", _tree(repository, (TREE, "..", one_up))),
        "absolute": (BLOB, str(tmp_path / "abs.toml"), blob),
        ".git": (TREE, ".git", _tree(repository, (BLOB, "config.toml", blob))),
        ".GIT": (TREE, ".GIT", _tree(repository, (BLOB, "config.toml", blob))),
        "HFS .git": (TREE, HFS_GIT, _tree(repository, (BLOB, "config.toml", blob))),
        "backslash": (BLOB, BACKSLASHED, blob),
        "symlink": (SYMLINK, "x.toml", _blob(repository, "../../outside.toml")),
        "submodule": (SUBMODULE, "vendor.toml", "1" * 40),
    }[name]
    root = [line.split(None, 3) for line in _git(repository, "ls-tree", "HEAD").splitlines()]
    tree = _tree(repository, *((mode.lstrip("0"), path, object_id) for mode, _, object_id, path in root), entry)
    return _git(repository, "commit-tree", tree, "-p", "HEAD", "-m", f"hostile: {name}")


REFUSED = {
    "dot-dot": "the tree holds an entry git refuses to check out: '..' (an empty, . or .. path component); nothing was read",
    "absolute": "the tree holds an entry git refuses to check out: {abs!r} (a name holding a /); nothing was read",
    ".git": "the tree holds an entry git refuses to check out: '.git' (git's own directory); nothing was read",
    ".GIT": "the tree holds an entry git refuses to check out: '.GIT' (git's own directory); nothing was read",
    "HFS .git": f"the tree holds an entry git refuses to check out: {HFS_GIT!r} (git's own directory); nothing was read",
    "backslash": f"the tree holds an entry git refuses to check out: {BACKSLASHED!r} (a name holding a backslash, a separator on Windows); nothing was read",
    "symlink": "x.toml is a symlink (to '../../outside.toml'); symlinks in a revision are not followed",
}


def _outside_private(tmp_path: Path) -> dict:
    return {path: content for path, content in snapshot(tmp_path).items() if not path.startswith("private/")}


@pytest.mark.parametrize("case", [*REFUSED, "submodule"])
def test_a_hostile_tree_writes_nothing_outside_a_private_directory(case, around, capsys, monkeypatch):
    repository = around / "repository"
    commit = _commit_with(repository, case, around)
    monkeypatch.chdir(repository)
    monkeypatch.setattr(tempfile, "tempdir", str(around / "private"))
    before = _outside_private(around)
    status = main(["diff", f"{commit}:{SPEC}", SPEC])
    out, err = capsys.readouterr()
    assert _outside_private(around) == before
    if case == "submodule":  # left out: the spec reads as it does in the working tree
        assert (status, err) == (0, ""), err
        assert out.endswith("every field equal\n")
        return
    assert (status, out) == (2, "")
    assert err == f"error: {commit}:{SPEC}: {REFUSED[case].format(abs=str(around / 'abs.toml'))}\n"


def test_the_command_line_refuses_a_tree_that_climbs_out(around):
    """As a user runs it: the parent and a real child, their TMPDIR private/."""
    repository = around / "repository"
    commit = _commit_with(repository, "dot-dot", around)
    before = _outside_private(around)
    result = run_generator("diff", f"{commit}:{SPEC}", SPEC, cwd=repository, env={"TMPDIR": str(around / "private")})
    assert _outside_private(around) == before
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"error: {commit}:{SPEC}: {REFUSED['dot-dot']}\n"
    assert list((around / "private").iterdir()) == []  # and the private directory is removed
