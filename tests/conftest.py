"""Shared fixtures: the repository, the committed generated modules, torch's configs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import backends
from backends import REPO
from generator import child, isolation

# The FBGEMM backend, which the CLI and spec-error tests use as their example.
SPEC = backends.BY_NAME["fbgemm"].spec
GENERATED = backends.BY_NAME["fbgemm"].generated


def run_generator(*args: str, cwd: Path = REPO, env: dict | None = None, input: str | None = None):
    """Run the CLI as a user does: a fresh interpreter, ``python -m generator``."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=300,
    )


# The FBGEMM module and configs; the same objects the per-backend tests use (backends.py).
@pytest.fixture(scope="session")
def generated_module():
    return backends.generated_module("fbgemm")


@pytest.fixture(scope="session")
def torch_fbgemm_config():
    return backends.torch_config("fbgemm")


@pytest.fixture(scope="session")
def fbgemm_backend():
    return backends.loaded_spec("fbgemm")


@pytest.fixture(autouse=True)
def child_tasks_in_this_process(monkeypatch):
    """A test that calls the command line in this process (``main([...])``) gets its
    child process's task done here, where torch is imported already, through the
    same JSON messages and the same reading of them: a child per call would import
    torch again, some 80 times a run. Tests that run the command line as a user
    does (run_generator) get a real child; tests/test_isolation.py covers what only
    a real child does (exits, signals, limits, captured output)."""
    monkeypatch.setattr(isolation, "run_child", _run_child_here)


def _run_child_here(task: dict, limits: isolation.Limits) -> isolation.ChildRun:
    messages: list[bytes] = []
    child.perform(json.loads(json.dumps(task)), lambda message: messages.append(json.dumps(message).encode() + b"\n"))
    return isolation.read_answers(b"".join(messages), isolation.ProcessEnd(), limits)


_MEASUREMENTS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def measurements(request):
    """Counts tests record for the run's summary (models compared, ops found, ...)."""
    return request.config.stash.setdefault(_MEASUREMENTS, {})


# The files that take longest (seconds of one CI run, summed over their tests), run
# first: xdist hands whole files (--dist=loadfile) to the two workers in collection
# order, so a slow file collected last keeps one worker busy while the other idles.
# Measured with `pytest --durations=0`; a file missing here only runs later.
SLOWEST_FILES = (
    "test_adoption.py", "test_isolation.py", "test_outputs.py", "test_hardening.py", "test_formatters.py",
    "test_quantized_outputs.py", "test_diff.py", "test_cli.py", "test_shadowing.py", "test_golden.py",
    "test_scale.py", "test_lint.py", "test_benchmarks.py",
)


def pytest_collection_modifyitems(session, config, items):
    rank = {name: index for index, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def pytest_sessionfinish(session):
    """On a pytest-xdist worker, hand the measurements to the controller, which
    prints the summary (sets travel as lists: execnet sends only plain data)."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        found = session.config.stash.get(_MEASUREMENTS, {})
        output["measurements"] = [(name, sorted(value), "set") if isinstance(value, set) else (name, value, "value")
                                  for name, value in found.items()]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """On the controller: gather a worker's measurements. A file's tests run on one
    worker (--dist loadfile), so a name is usually measured by one worker; counts
    measured by several are added, sets joined."""
    found = node.config.stash.setdefault(_MEASUREMENTS, {})
    for name, value, kind in getattr(node, "workeroutput", {}).get("measurements", []):
        if kind == "set":
            found[name] = found.get(name, set()) | set(value)
        elif isinstance(value, dict) and isinstance(found.get(name), dict):
            merged = found[name]
            for key, number in value.items():
                merged[key] = merged.get(key, 0) + number if isinstance(number, int) else number
        else:
            found[name] = value


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    found = config.stash.get(_MEASUREMENTS, None)
    if found:
        terminalreporter.section("measured")
        for name, value in found.items():
            if isinstance(value, set):
                shown = ", ".join(sorted(value))
            elif isinstance(value, dict):
                shown = ", ".join(f"{key} {count}" for key, count in value.items())
            else:
                shown = value
            terminalreporter.write_line(f"{name}: {shown}")


@pytest.fixture
def workspace(tmp_path):
    """A throwaway repository holding a copy of spec/ and generated/."""
    import shutil

    (tmp_path / ".git").mkdir()  # marks the repository root, as in a real clone
    shutil.copytree(REPO / "spec", tmp_path / "spec")
    shutil.copytree(REPO / "generated", tmp_path / "generated")
    return tmp_path


def snapshot(directory: Path) -> dict:
    """Every file below ``directory`` with its bytes and mtime."""
    return {
        path.relative_to(directory).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and ".git" not in path.parts
    }


def replace_in(relative: str, old: str, new: str):
    """A mutation for a copy of the repository: the first ``old`` in a file, replaced."""

    def mutate(root: Path) -> None:
        path = root / relative
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new, 1))

    return mutate


# The user's side (see Note [What the user-side tests stand in for] in user_side.py):
# one published main, one user environment and one pre-commit home per run, shared
# by the xdist workers (each worker is a session of its own: built per worker, the
# environment and the hooks' environments cost each worker half a minute).
@pytest.fixture(scope="session")
def published_main(tmp_path_factory, worker_id):
    from user_side import Published, publish_main

    def build(directory: Path) -> list[str]:
        return [str(value) for value in publish_main(directory)]

    path, url, commit = _once_per_run(tmp_path_factory, worker_id, "published-main", build)
    return Published(Path(path), url, commit)


@pytest.fixture(scope="session")
def user_environment(published_main, tmp_path_factory, worker_id):
    from user_side import Environment, make_environment

    def build(directory: Path) -> list[str]:
        return [str(value) for value in make_environment(directory, published_main)]

    path, pre_commit_home = _once_per_run(tmp_path_factory, worker_id, "user", build)
    return Environment(Path(path), Path(pre_commit_home))


def _once_per_run(tmp_path_factory, worker_id: str, name: str, build) -> list[str]:
    """``build(directory)``'s answer, built by the first worker that asks, under a
    lock in the base directory all workers of a run share (pytest-xdist's recipe);
    the others wait and read what it recorded."""
    from filelock import FileLock

    if worker_id == "master":  # no xdist: this session is the run
        return build(tmp_path_factory.mktemp(name))
    shared = tmp_path_factory.getbasetemp().parent
    record = shared / f"{name}.json"
    with FileLock(shared / f"{name}.lock"):
        if not record.exists():
            directory = shared / name
            shutil.rmtree(directory, ignore_errors=True)  # what a worker that failed left
            directory.mkdir()
            record.write_text(json.dumps(build(directory)))
        return json.loads(record.read_text())


def pasted_output(page: Path, command: str) -> str:
    """The output pasted under ``$ command`` on ``page`` (README.md, docs/*.md),
    which the tests hold to the command's real output."""
    text = page.read_text(encoding="utf-8")
    start = text.index(f"$ {command}\n") + len(command) + 3
    return text[start : text.index("```", start)]
