"""The committed generated/fbgemm.py is exactly what the spec generates, and stays so."""

from __future__ import annotations

import os
import shutil

import black
import pytest

from conftest import GENERATED, REPO, SPEC, run_generator
from generator.cli import main
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
