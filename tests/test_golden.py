"""The committed generated/fbgemm.py is exactly what the spec generates, and stays so."""

from __future__ import annotations

import os
import shutil

import black
import pytest

from conftest import GENERATED, REPO, SPEC, run_generator
from generator.loader import load_backend
from generator.output import BLACK_MODE, format_source
from generator.render import render


def test_regenerating_reproduces_the_committed_file_byte_for_byte():
    source = format_source(render(load_backend(SPEC)))
    assert source == GENERATED.read_text(encoding="utf-8")


def test_black_leaves_the_generated_file_unchanged():
    text = GENERATED.read_text(encoding="utf-8")
    assert black.format_str(text, mode=BLACK_MODE) == text
    assert black.format_str(text, mode=black.Mode()) == text


def test_header_names_spec_command_digest_versions_and_no_local_details():
    header = [line for line in GENERATED.read_text().splitlines()[:8] if line.startswith("#")]
    text = "\n".join(header)
    assert "@generated" in text and "DO NOT EDIT" in text
    assert "Spec: spec/fbgemm.toml" in text
    assert "Regenerate: python -m generator spec/fbgemm.toml" in text
    assert "Inputs sha256: " in text
    assert "torch 2.13.0" in text
    assert str(REPO) not in GENERATED.read_text()
    assert not any(token in text for token in ("2026", "UTC", "/work", "/home", "/tmp"))


def test_spec_torch_version_is_the_installed_one(fbgemm_backend):
    """The header's "verified against" claim is checked by this very suite."""
    import torch

    assert torch.__version__.split("+")[0] == fbgemm_backend.torch_version


@pytest.mark.parametrize("seed", ["0", "1", "4242", "random"])
def test_output_is_the_same_for_any_hash_seed_and_locale(seed):
    result = run_generator(
        "spec/fbgemm.toml", "--stdout", env={"PYTHONHASHSEED": seed, "LC_ALL": "C", "LANG": "C"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == GENERATED.read_text(encoding="utf-8")


def test_output_does_not_depend_on_working_directory_or_spec_path(tmp_path):
    expected = GENERATED.read_text(encoding="utf-8")
    from_subdir = run_generator("../spec/fbgemm.toml", "--stdout", cwd=REPO / "tests")
    absolute = run_generator(str(SPEC), "--stdout", cwd=tmp_path)
    dotted = run_generator("./spec/../spec/fbgemm.toml", "--stdout")
    for result in (from_subdir, absolute, dotted):
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected


def test_generation_does_not_import_torch():
    result = run_generator("spec/fbgemm.toml", "--stdout", env={"PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests' / 'no_torch'}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == GENERATED.read_text(encoding="utf-8")


def test_an_archive_without_git_generates_the_same_bytes(tmp_path):
    """pyproject.toml marks the root too, so a checkout without .git agrees."""
    shutil.copytree(REPO / "spec", tmp_path / "spec")
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    result = run_generator("spec/fbgemm.toml", "--stdout", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == GENERATED.read_text(encoding="utf-8")


def test_black_configuration_of_the_surrounding_repository_is_ignored(workspace):
    (workspace / "pyproject.toml").write_text('[tool.black]\nline-length = 40\nskip-string-normalization = true\n')
    result = run_generator("spec/fbgemm.toml", "--check", cwd=workspace)
    assert result.returncode == 0, result.stderr


def test_templates_render_with_strict_undefined(tmp_path, monkeypatch):
    """A value the template needs but the renderer does not pass is an error, never ''."""
    import jinja2

    from generator import render as render_module

    (tmp_path / render_module.TEMPLATE_NAME).write_text("{{ header }}{{ no_such_value }}\n")
    monkeypatch.setattr(render_module, "templates_dir", lambda: tmp_path)
    with pytest.raises(jinja2.UndefinedError):
        render(load_backend(SPEC))


def test_the_wheel_ships_the_templates_and_works_outside_the_checkout(tmp_path):
    import subprocess
    import sys
    import zipfile

    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert "generator/templates/backend_config.py.j2" in archive.namelist()
        assert "generator/compare/differ.py" in archive.namelist()  # diff and --verify
        archive.extractall(tmp_path / "site")
    shutil.copytree(REPO / "spec", tmp_path / "project" / "spec")
    (tmp_path / "project" / ".git").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "generator", "spec/fbgemm.toml", "--stdout"],
        cwd=tmp_path / "project", env={**os.environ, "PYTHONPATH": str(tmp_path / "site")},
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == GENERATED.read_text(encoding="utf-8")
