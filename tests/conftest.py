"""Shared fixtures: the repository, the committed generated module, torch's config."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "spec" / "fbgemm.toml"
GENERATED = REPO / "generated" / "fbgemm.py"


def import_path(path: Path, name: str):
    """Import a Python file as a module without touching sys.path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


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


@pytest.fixture(scope="session")
def generated_module():
    return import_path(GENERATED, "generated_fbgemm")


@pytest.fixture(scope="session")
def torch_fbgemm_config():
    # torch 2.13's getter needs this module loaded first (see ../shared/README.md).
    import torch.ao.quantization.backend_config.utils  # noqa: F401
    from torch.ao.quantization.backend_config import get_fbgemm_backend_config

    return get_fbgemm_backend_config()


@pytest.fixture(scope="session")
def fbgemm_backend():
    from generator.loader import load_backend

    return load_backend(SPEC)


_MEASUREMENTS = pytest.StashKey[dict]()


@pytest.fixture(scope="session")
def measurements(request):
    """Counts tests record for the run's summary (models compared, ops found, ...)."""
    return request.config.stash.setdefault(_MEASUREMENTS, {})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    found = config.stash.get(_MEASUREMENTS, None)
    if found:
        terminalreporter.section("measured")
        for name, value in found.items():
            shown = ", ".join(sorted(value)) if isinstance(value, set) else value
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
