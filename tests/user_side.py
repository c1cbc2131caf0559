"""The user's side: what the README's front page tells a user to type, and the
places it runs in (a published ``main``, a user's environment, their repository).

Note [What the user-side tests stand in for]
- **A fresh clone of main.** What this repository publishes is the commits of
  ``main``, without tags: the stand-in is this worktree's files (tracked and new,
  as the working tree has them) committed on a branch named ``main`` of a scratch
  repository. Nothing here creates a tag.
- **The user's environment.** The README installs backendconfig-gen "in your
  project's environment (the one with torch)". Installing a 900 MB torch wheel
  would cost minutes per run, so the stand-in is a new virtual environment that
  sees this environment's torch, and what torch needs, through a ``.pth`` file:
  only those distributions, so everything the README installs (backendconfig-gen,
  black, pre-commit) is installed there for real, by the README's own command.
- **The user's repository.** An empty git repository; commits need an identity,
  which the environment gives (``GIT_AUTHOR_NAME``, ...), as a user's git config would.
- ``<REPOSITORY>``, the README's placeholder for where backendconfig-gen comes
  from, becomes the stand-in's ``file://`` URL: the only substitution.

One published repository, one environment and one pre-commit home serve every
test of a run (session fixtures in conftest.py), so the package is built, and
pre-commit's hook environment made, once.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from backends import REPO

PLACEHOLDER = "<REPOSITORY>"
README = REPO / "README.md"
IDENTITY = {"GIT_AUTHOR_NAME": "A User", "GIT_AUTHOR_EMAIL": "user@example.com",
            "GIT_COMMITTER_NAME": "A User", "GIT_COMMITTER_EMAIL": "user@example.com"}
# What the user's environment sees of this one: torch, what it needs, and numpy
# (without which importing torch warns).
TORCH_DISTRIBUTIONS = ("torch", "numpy")
# The tools a repository's own formatter hooks run (this environment's).
TOOLS = Path(sys.executable).parent
# A user's spec and configuration, as the README's walkthrough writes them (the
# walkthrough test reads the README itself; the other user-side tests start here).
MY_SPEC = """extends = "builtin:fbgemm.toml"

[backend]
getter = "get_my_fbgemm_backend_config"
output = "../my_project/fbgemm_backend_config.py"
remove_op_groups = ["rnn_op", "embedding_op"]
"""
MY_SPEC_MODULE = "my_project/fbgemm_backend_config.py"
CONFIGURED = '[tool.backendconfig-gen]\nspecs = ["spec/*.toml"]\n'
# A typo'd symbol appended to such a spec, and what --resolve says about it.
TYPO = """
[[backend.op_groups]]
name = "hardswish"
dtype_configs = ["fbgemm_default_op_quint8_dtype_config"]

[op_groups.hardswish]
[[op_groups.hardswish.sections]]
[[op_groups.hardswish.sections.patterns]]
pattern = "torch.nn.Hardswishh"
"""
TYPO_ERROR = ("error: spec/my_fbgemm.toml: op_groups.hardswish.sections[0].patterns[0]: torch.nn.Hardswishh: "
              "torch.nn has no attribute 'Hardswishh'")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: int = 600,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, input=input)


def commit_all(repository: Path, variables: dict[str, str], message: str) -> tuple[int, str]:
    """``git add -A && git commit``, pre-commit's hooks running; the status, and what
    was printed (git shows the hooks' output on stderr)."""
    git("add", "-A", cwd=repository)
    result = run("git", "commit", "-q", "-m", message, cwd=repository, env=variables)
    return result.returncode, result.stdout + result.stderr


def git(*args: str, cwd: Path) -> str:
    result = run("git", *args, cwd=cwd, env={**os.environ, **IDENTITY})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


class Published(NamedTuple):
    path: Path
    url: str  # what the README's <REPOSITORY> stands for
    commit: str  # the commit main is at


class Environment(NamedTuple):
    """The user's environment, after the README's install step."""

    path: Path
    pre_commit_home: Path

    def variables(self, path: list[str] | None = None) -> dict[str, str]:
        """A shell with this environment activated: its bin first on PATH, and no
        other backendconfig-gen (nor this checkout on PYTHONPATH)."""
        inherited = [directory for directory in os.environ.get("PATH", "").split(os.pathsep)
                     if directory and not (Path(directory) / "backendconfig-gen").exists()]
        variables = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        entries = [str(self.path / "bin"), *inherited] if path is None else path
        return {**variables, **IDENTITY, "PATH": os.pathsep.join(entries), "VIRTUAL_ENV": str(self.path),
                "PRE_COMMIT_HOME": str(self.pre_commit_home)}

    def script(self, name: str) -> Path:
        return self.path / "bin" / name


def publish_main(directory: Path) -> Published:
    """This worktree's files committed on ``main`` of a repository of their own."""
    files = git("ls-files", "--cached", "--others", "--exclude-standard", cwd=REPO).splitlines()
    for name in files:
        source = REPO / name
        if source.is_file():
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, directory / name)
    git("init", "-q", "-b", "main", cwd=directory)
    git("add", "-A", cwd=directory)
    git("commit", "-q", "-m", "The published state: main", cwd=directory)
    assert git("tag", "-l", cwd=directory) == ""
    return Published(directory, directory.as_uri(), git("rev-parse", "HEAD", cwd=directory))


def expose_torch(environment: Path, directory: Path) -> None:
    """Make this environment's torch (and what it requires) importable in
    ``environment``: links to their files in ``directory``, named by a .pth file."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    directory.mkdir()
    seen: set[str] = set()
    pending = list(TORCH_DISTRIBUTIONS)
    while pending:
        name = canonicalize_name(pending.pop())
        if name in seen:
            continue
        seen.add(name)
        distribution = importlib.metadata.distribution(name)
        for requirement in map(Requirement, distribution.requires or []):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
        site = Path(str(distribution.locate_file("")))
        for top in {file.parts[0] for file in distribution.files or []} - {"..", "__pycache__"}:
            if not (directory / top).exists() and (site / top).exists():
                (directory / top).symlink_to(site / top)
    (site_packages,) = environment.glob("lib/python3*/site-packages")
    (site_packages / "torch-from-the-test-environment.pth").write_text(f"{directory}\n")


# The README, read as a walkthrough.

class Step(NamedTuple):
    kind: str  # "file", "command" (expected output or None), "python"
    text: str  # the file's path, the command, or the code
    body: str | None = None  # the file's content, or the command's expected output


_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)
_FILE_LABEL = re.compile(r"`([^`\s]+)`:$")


def readme_section(title: str) -> str:
    """The README's ``## title`` section, up to the next ``## ``."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def steps(section: str, published: Published) -> list[Step]:
    """What a section tells the user to do, in order: a block after a line that
    ends in `PATH`: is that file's content; ``sh`` blocks are commands, one a line;
    ``console`` blocks are ``$ command`` lines, each followed by its output;
    ``python`` blocks are code to run. <REPOSITORY> is the published URL."""
    found = []
    for match in _FENCE.finditer(section):
        language, block = match[1], match[2].replace(PLACEHOLDER, published.url)
        before = section[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        label = _FILE_LABEL.search(before)
        if label:
            found.append(Step("file", label[1], block))
        elif language == "sh":
            found += [Step("command", line) for line in block.splitlines() if line.strip() and not line.startswith("#")]
        elif language == "console":
            for chunk in block.split("$ ")[1:]:
                command, _, output = chunk.partition("\n")
                found.append(Step("command", command, output))
        elif language == "python":
            found.append(Step("python", block))
    return found


def perform(step: Step, repository: Path, environment: Environment) -> subprocess.CompletedProcess[str]:
    """Do one step in ``repository``, with the user's environment activated."""
    variables = environment.variables()
    if step.kind == "file":
        target = repository / step.text
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.body or "")
        return subprocess.CompletedProcess([], 0, "", "")
    if step.kind == "python":
        return run("python", "-c", step.text, cwd=repository, env=variables)
    return run("bash", "-c", step.text, cwd=repository, env=variables)


def walk(section: str, repository: Path, environment: Environment, published: Published) -> list[tuple[Step, str]]:
    """Do every step of a README section; each must succeed and print what the README
    shows. Returns each step with what it printed."""
    done = []
    for step in steps(section, published):
        result = perform(step, repository, environment)
        printed = result.stdout + result.stderr
        assert result.returncode == 0, f"README step failed: {step.text}\n{printed}"
        if step.body is not None and step.kind == "command":
            assert printed == step.body, f"README step {step.text!r} printed:\n{printed}"
        done.append((step, printed))
    return done


def make_environment(directory: Path, published: Published) -> Environment:
    """A user's environment that has torch, where the README's install step ran."""
    environment = Environment(directory / "environment", directory / "pre-commit-home")
    created = run(sys.executable, "-m", "venv", environment.path, cwd=directory)
    assert created.returncode == 0, created.stderr
    expose_torch(environment.path, directory / "torch-site")
    walk(readme_section("Install"), directory, environment, published)
    return environment


def pre_commit_config(published: Published, local_hooks: str = "", first: bool = True) -> str:
    """A .pre-commit-config.yaml with the README's three hooks at the published
    commit, and (first or last) a repository's own local hooks."""
    ours = (f"  - repo: {published.url}\n    rev: {published.commit}\n    hooks:\n"
            "      - id: backendconfig-gen\n      - id: backendconfig-gen-check\n      - id: backendconfig-gen-resolve\n")
    local = f"  - repo: local\n    hooks:\n{local_hooks}" if local_hooks else ""
    return "repos:\n" + (local + ours if first else ours + local)


def needs_tools(*names: str) -> None:
    for name in names:
        if not (TOOLS / name).exists():
            pytest.fail(f"{name} is not installed next to {sys.executable}; run the README's set-up")
