"""Every generated module passes the linters and type checkers that vendoring
repositories run, with no exclusion and no configuration of theirs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

MODULES = sorted((REPO / "generated").glob("*.py"))
TOOLS = Path(sys.executable).parent


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_there_is_a_module_per_backend_spec():
    specs = sorted(path.stem for path in (REPO / "spec").glob("*.toml"))
    assert [module.stem for module in MODULES] == specs


@pytest.mark.parametrize(
    "selection",
    [[], ["--select", "E,F,W,I,UP,B,SIM", "--line-length", "88"]],
    ids=["ruff-defaults", "ruff-E,F,W,I,UP,B,SIM"],
)
def test_ruff_finds_nothing(selection, tmp_path):
    result = run(TOOLS / "ruff", "check", "--isolated", "--no-cache", *selection, *MODULES, cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_ruff_fix_changes_nothing(tmp_path):
    copies = []
    for module in MODULES:
        shutil.copy(module, tmp_path / module.name)
        copies.append(tmp_path / module.name)
    for selection in ([], ["--select", "E,F,W,I,UP,B,SIM,RUF", "--line-length", "88"]):
        run(TOOLS / "ruff", "check", "--isolated", "--no-cache", "--fix", *selection, *copies, cwd=tmp_path)
    for module, copy in zip(MODULES, copies, strict=True):
        assert copy.read_bytes() == module.read_bytes(), module.name


def test_mypy_strict_finds_nothing(tmp_path):
    # Copies, so that mypy sees each module as a top-level module of its own.
    for module in MODULES:
        shutil.copy(module, tmp_path / module.name)
    result = run(TOOLS / "mypy", "--strict", "--cache-dir", tmp_path / ".mypy_cache", *(m.name for m in MODULES), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert f"no issues found in {len(MODULES)} source files" in result.stdout
