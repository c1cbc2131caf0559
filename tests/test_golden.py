"""Each committed generated/<backend>.py is exactly what its spec generates, and stays so."""

from __future__ import annotations

import os
import shutil

import black
import pytest

from backends import BACKENDS, DERIVED_SPECS, IDS, loaded_spec
from conftest import GENERATED, REPO, SPEC, run_generator
from generator.formatting import BLACK_MODE
from generator.header import FORMATTER_OFF
from generator.jobs import generate_source

# Every spec, and what generating them all to standard output prints.
ALL_SPECS = [row.spec_display for row in BACKENDS]


def all_generated() -> str:
    return "".join(row.generated.read_text(encoding="utf-8") for row in BACKENDS)


def test_every_spec_has_a_row_in_the_backends_table():
    specs = sorted(path.stem for path in (REPO / "spec").glob("*.toml"))
    assert specs == sorted([*IDS, *DERIVED_SPECS])
    assert sorted(path.stem for path in (REPO / "generated").glob("*.py")) == specs


@pytest.mark.parametrize("name", DERIVED_SPECS)
def test_a_derived_spec_regenerates_its_committed_file_byte_for_byte(name):
    assert generate_source(REPO / "spec" / f"{name}.toml") == (REPO / "generated" / f"{name}.py").read_text(encoding="utf-8")


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_regenerating_reproduces_the_committed_file_byte_for_byte(row):
    source = generate_source(row.spec)
    assert source == row.generated.read_text(encoding="utf-8")


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_the_generated_file_is_as_black_formats_it_and_formatters_leave_it(row):
    text = row.generated.read_text(encoding="utf-8")
    # Its layout is black's own at the generator's width ...
    off = f"\n{FORMATTER_OFF}\n"
    assert text.count(off) == 1
    unmarked = text.replace(off, "\n")
    assert black.format_str(unmarked, mode=BLACK_MODE) == unmarked
    # ... and the formatter-off line keeps a formatter of any other settings from changing it.
    assert black.format_str(unmarked, mode=black.Mode()) != unmarked
    assert black.format_str(text, mode=black.Mode()) == text
    assert black.format_str(text, mode=black.Mode(line_length=120, magic_trailing_comma=False)) == text


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_header_names_spec_command_digest_versions_and_no_local_details(row):
    header = [line for line in row.generated.read_text().splitlines()[:12] if line.startswith("#")]
    text = "\n".join(header)
    assert "@generated" in text and "DO NOT EDIT" in text
    assert f"Spec: {row.spec_display} (sha256:" in text
    assert "Include: spec/op_groups/common.toml (sha256:" in text
    assert f"Regenerate: backendconfig-gen {row.spec_display}" in text
    assert text.splitlines()[1].startswith("# Signature: ") and text.splitlines()[2].startswith("# Inputs: ")
    assert "Targets: torch 2.13.0" in text
    assert "Verified" not in text  # generation verifies nothing; --verify does
    assert str(REPO) not in row.generated.read_text()
    assert not any(token in text for token in ("2026", "UTC", "/work", "/home", "/tmp"))


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_spec_names_torchs_getter_and_the_installed_torch(row):
    """The release the header says the spec targets is the one this suite compares with."""
    import torch

    backend = loaded_spec(row.name)
    assert torch.__version__.split("+")[0] == backend.torch_version
    assert (backend.name, backend.getter) == (row.backend_config_name, row.getter)
    assert backend.torch_getter.path == row.torch_getter
    assert backend.default_output.endswith(f"/generated/{row.name}.py")


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
    """Every spec at once: generation never imports torch."""
    result = run_generator(*ALL_SPECS, "--stdout", env={"PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests' / 'no_torch'}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == all_generated()


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
    from generator.loader import load_backend

    (tmp_path / render_module.MODULE_TEMPLATE).write_text("{{ header }}{{ no_such_value }}\n")
    (tmp_path / render_module.ENTRY_TEMPLATE).write_text("{{ items }}\n")
    (tmp_path / render_module.MAPPING_TEMPLATE).write_text("{{ getter }}\n")
    monkeypatch.setattr(render_module, "templates_dir", lambda: tmp_path)
    with pytest.raises(jinja2.UndefinedError):
        render_module.render(load_backend(SPEC), ["header"])


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


def test_the_inputs_digest_covers_every_module_that_shapes_an_output():
    """header.OUTPUT_MODULES is exactly what the pipeline from spec to text imports: a
    module added to it without being listed would change outputs unnoticed by --check."""
    import subprocess
    import sys

    from generator.header import OUTPUT_MODULES

    code = "import sys, generator.formatting, generator.loader; print(' '.join(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    imported = {name.removeprefix("generator.") for name in result.stdout.split() if name.split(".")[0] == "generator"}
    assert imported == {"generator", *OUTPUT_MODULES} - {"__init__"}


def test_a_crlf_checkout_of_the_generator_digests_its_sources_as_an_lf_one(tmp_path):
    """git's autocrlf on Windows checks the generator out with CRLF line endings: its
    sources and templates must digest as in an LF checkout, or every committed
    module would be called stale there."""
    import subprocess
    import sys

    for directory in ("generator", "templates"):
        for path in (REPO / directory).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".j2"):
                copy = tmp_path / path.relative_to(REPO)
                copy.parent.mkdir(parents=True, exist_ok=True)
                copy.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    code = "from generator.header import generator_digest; print(generator_digest())"
    digests = [
        subprocess.run([sys.executable, "-c", code], cwd=cwd, env={**os.environ, "PYTHONPATH": str(cwd)},
                       capture_output=True, text=True, timeout=120)
        for cwd in (tmp_path, REPO)
    ]
    assert all(done.returncode == 0 for done in digests), [done.stderr for done in digests]
    assert b"\r\n" in (tmp_path / "generator" / "header.py").read_bytes()
    assert digests[0].stdout == digests[1].stdout


def test_a_fresh_check_imports_only_what_the_fast_path_needs(workspace):
    """--check of a fresh module runs in every pre-commit hook: it reads the header
    and the inputs, and imports neither the loader, the model, the renderer and
    their libraries, nor dataclasses (Note [No dataclasses on the fast path])."""
    import subprocess
    import sys

    code = (
        "import sys; from generator.cli import main; status = main(['--check', 'spec/fbgemm.toml']); "
        "print(status, ' '.join(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=workspace, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    status, modules = result.stdout.split(" ", 1)
    assert status == "0", result.stderr
    imported = set(modules.split())
    slow = {"generator.loader", "generator.model", "generator.render", "generator.formatting", "black", "jinja2",
            "dataclasses", "inspect", "difflib", "tempfile", "shutil", "torch"}
    assert imported & slow == set()


@pytest.mark.parametrize("spec", [*(row.spec for row in BACKENDS), *(REPO / "spec" / f"{name}.toml" for name in DERIVED_SPECS)],
                         ids=lambda path: path.stem)
def test_the_fast_path_finds_the_inputs_the_loader_reads(spec):
    """inputs.py reads the extends and include chain without the loader; it must
    name the same files, in the same order, with the same bytes."""
    from generator.inputs import find_inputs
    from generator.loader import load_backend

    found = find_inputs(str(spec), None)
    assert found is not None
    assert found.files == load_backend(spec).files
