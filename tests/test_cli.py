"""The command line, run as a user runs it: python -m generator in a subprocess."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from backends import BACKENDS
from conftest import GENERATED, REPO, run_generator, snapshot


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_help_documents_every_flag_exit_code_and_command():
    result = run_generator("--help")
    assert result.returncode == 0
    for flag in ("SPEC", "-o", "--output", "--check", "--diff", "--stdout", "--verify", "-V", "--version",
                 "-q", "--quiet", "pyproject.toml", "[tool.backendconfig-gen]"):
        assert flag in result.stdout
    for code in ("0 ", "1 ", "2 ", "123 "):
        assert f"\n  {code}" in result.stdout
    assert result.stdout.startswith("usage: python -m generator [options] [SPEC ...]\n"
                                    "       python -m generator diff OLD NEW [--format text|json|markdown]\n"
                                    "       python -m generator extract MODULE:FUNCTION ")
    assert "\ncommands:\n" in result.stdout
    assert "\n  diff OLD NEW " in result.stdout and "\n  extract MODULE:FUNCTION " in result.stdout


def _console_script(*args: str, cwd: Path = REPO):
    import subprocess

    script = Path(sys.executable).with_name("backendconfig-gen")
    return subprocess.run([str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("command", [[], ["diff"], ["extract"]], ids=["generate", "diff", "extract"])
def test_usage_and_examples_name_the_command_as_invoked(command):
    """Run as the console script, no help text recommends python -m generator, which
    in a repository with its own generator.py runs that instead."""
    result = _console_script(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: {' '.join(['backendconfig-gen', *command])} ")
    assert "python -m generator" not in result.stdout
    examples = result.stdout.split("\nexamples:\n", 1)[1]
    commands = [line.strip() for line in examples.splitlines() if not line.startswith("      ")]
    assert commands and all(line.startswith("backendconfig-gen ") or line == "backendconfig-gen" for line in commands)
    as_module = run_generator(*command, "--help")
    assert as_module.stdout.startswith(f"usage: {' '.join(['python -m generator', *command])} ")


def test_diff_help_says_which_function_of_a_generated_module_is_its_getter():
    """Its __all__ is sorted, so the getter is not its first name, and it also names
    the QConfigMapping getters: the help names the one that returns a BackendConfig."""
    text = " ".join(run_generator("diff", "--help").stdout.split())
    assert "(its getter: the one function in its __all__ that returns a BackendConfig, not a QConfigMapping)" in text
    assert "first name" not in text
    exported = [name.strip('",') for name in GENERATED.read_text().split("__all__ = [\n", 1)[1].split("]", 1)[0].split()]
    functions = [name for name in exported if name.startswith("get_")]
    assert exported[0] != "get_fbgemm_backend_config" and "get_fbgemm_backend_config" in functions
    assert len(functions) > 1 and all(name.endswith("_qconfig_mapping") for name in functions if "backend" not in name)


def test_version_flags():
    from generator import __version__

    for flag in ("-V", "--version"):
        result = run_generator(flag)
        assert (result.returncode, result.stdout) == (0, f"backendconfig-gen {__version__}\n")


def test_quiet_prints_no_progress_but_every_problem(workspace):
    output = workspace / "generated" / "fbgemm.py"
    output.unlink()
    written = run_generator("-q", "spec/fbgemm.toml", cwd=workspace)
    assert (written.returncode, written.stderr) == (0, "")
    assert output.read_bytes() == GENERATED.read_bytes()
    assert run_generator("--quiet", "spec/fbgemm.toml", cwd=workspace).stderr == ""
    assert run_generator("--check", "-q", "spec/fbgemm.toml", cwd=workspace).stderr == ""
    edit(output, "nn.Conv1d,", "nn.Conv2d,")
    check = run_generator("--check", "-q", "spec/fbgemm.toml", cwd=workspace)
    assert check.returncode == 1
    assert check.stderr == ("generated/fbgemm.py: hand-edited (it no longer matches its signature); "
                            "regenerate with: backendconfig-gen spec/fbgemm.toml\n")
    edit(workspace / "spec" / "fbgemm.toml", 'name = "fbgemm"', "name = 3")
    bad = run_generator("-q", "spec/fbgemm.toml", cwd=workspace)
    assert bad.returncode == 2 and bad.stderr.startswith("error: spec/fbgemm.toml")


def test_generate_writes_only_when_content_changed(workspace):
    output = workspace / "generated" / "fbgemm.py"
    files = sorted(p.name for p in output.parent.iterdir())
    output.unlink()
    first = run_generator("spec/fbgemm.toml", cwd=workspace)
    assert first.returncode == 0, first.stderr
    assert output.read_bytes() == GENERATED.read_bytes()
    assert "wrote: generated/fbgemm.py" in first.stderr
    os.utime(output, ns=(1, 1))
    second = run_generator("spec/fbgemm.toml", cwd=workspace)
    assert second.returncode == 0
    assert "unchanged: generated/fbgemm.py" in second.stderr
    assert output.stat().st_mtime_ns == 1
    assert sorted(p.name for p in output.parent.iterdir()) == files  # no temporary file left


def test_torchs_known_re_registrations_are_marked_so_a_plain_run_is_quiet(workspace):
    result = run_generator("spec/fbgemm.toml", "--no-cache", cwd=workspace)
    assert result.returncode == 0
    assert "warning" not in result.stderr, result.stderr


def test_an_unmarked_re_registration_is_warned_about_and_generation_succeeds(workspace):
    edit(workspace / "spec" / "op_groups" / "common.toml", 'qat_module = "{qat_conv_relu}"\nreplaces_earlier = true\n',
         'qat_module = "{qat_conv_relu}"\n')
    result = run_generator("spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 3, result.stderr  # the fused conv-relu module of each of conv 1d, 2d, 3d
    assert all("registered again" in line and "spec/op_groups/common.toml" in line for line in warnings)
    assert any("torch.ao.nn.intrinsic.ConvReLU2d" in line for line in warnings)
    assert all("replaces_earlier = true" in line for line in warnings)
    # Both registrations come from the conv group's one use: the warning says which.
    assert all("(from spec/fbgemm.toml: backend.op_groups[0]) is registered again and replaces the one "
               "from spec/fbgemm.toml: backend.op_groups[0] (op_groups.conv.sections[" in line for line in warnings), warnings


def test_check_passes_when_fresh(workspace):
    before = snapshot(workspace)
    result = run_generator("--check", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "0 stale, 1 fresh" in result.stderr
    assert snapshot(workspace) == before


def test_check_reports_a_stale_output_with_the_command_that_regenerates_it(workspace):
    edit(workspace / "spec" / "fbgemm.toml", 'bias_dtype = "float16"', 'bias_dtype = "float"')
    before = snapshot(workspace)
    result = run_generator("--check", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 1
    assert "generated/fbgemm.py: stale (spec/fbgemm.toml changed since it was generated)" in result.stderr
    assert "regenerate with: backendconfig-gen spec/fbgemm.toml" in result.stderr
    assert snapshot(workspace) == before


def test_check_reports_a_change_in_an_included_file_as_stale(workspace):
    edit(workspace / "spec" / "op_groups" / "common.toml", 'doc = "torch.cat', 'doc = "The torch.cat')
    result = run_generator("--check", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 1
    assert "stale (spec/op_groups/common.toml changed since it was generated)" in result.stderr


def test_check_reports_a_hand_edited_output(workspace):
    edit(workspace / "generated" / "fbgemm.py", "nn.Conv1d,", "nn.Conv2d,")
    result = run_generator("--check", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 1
    assert "generated/fbgemm.py: hand-edited" in result.stderr


def test_check_reports_a_missing_output(workspace):
    (workspace / "generated" / "fbgemm.py").unlink()
    result = run_generator("--check", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 1
    assert "generated/fbgemm.py: missing" in result.stderr
    assert not (workspace / "generated" / "fbgemm.py").exists()


def test_diff_shows_the_change_with_repository_paths(workspace):
    edit(workspace / "spec" / "fbgemm.toml", 'name = "fbgemm"', 'name = "fbgemm_v2"')
    before = snapshot(workspace)
    result = run_generator("--diff", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 0
    assert result.stdout.startswith("--- a/generated/fbgemm.py\n+++ b/generated/fbgemm.py\n")
    assert '-    return BackendConfig("fbgemm")' in result.stdout
    assert '+    return BackendConfig("fbgemm_v2")' in result.stdout
    assert snapshot(workspace) == before
    combined = run_generator("--check", "--diff", "spec/fbgemm.toml", cwd=workspace)
    assert combined.returncode == 1 and combined.stdout == result.stdout


def test_diff_prints_nothing_when_fresh(workspace):
    result = run_generator("--diff", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 0 and result.stdout == ""


def test_stdout_prints_the_module_and_writes_nothing(workspace):
    (workspace / "generated" / "fbgemm.py").unlink()
    result = run_generator("--stdout", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 0
    assert result.stdout == GENERATED.read_text()
    assert not (workspace / "generated" / "fbgemm.py").exists()


def test_output_flag_writes_elsewhere_and_names_itself_in_the_header(workspace):
    result = run_generator("spec/fbgemm.toml", "-o", "vendor/qconfig/fbgemm_config.py", cwd=workspace)
    assert result.returncode == 0, result.stderr
    written = (workspace / "vendor" / "qconfig" / "fbgemm_config.py").read_text()
    # On a line of its own when it does not fit after the label.
    assert "# Regenerate:\n#   backendconfig-gen spec/fbgemm.toml -o vendor/qconfig/fbgemm_config.py\n" in written
    check = run_generator("--check", "spec/fbgemm.toml", "-o", "vendor/qconfig/fbgemm_config.py", cwd=workspace)
    assert check.returncode == 0, check.stderr


def test_output_flag_takes_one_spec_only(workspace):
    shutil.copy(workspace / "spec" / "fbgemm.toml", workspace / "spec" / "other.toml")
    result = run_generator("spec/fbgemm.toml", "spec/other.toml", "-o", "x.py", cwd=workspace)
    assert result.returncode == 2
    assert "-o/--output takes one SPEC only" in result.stderr
    assert not (workspace / "x.py").exists()


@pytest.mark.parametrize(
    "args",
    [[], ["--bogus", "spec/fbgemm.toml"], ["--stdout", "--check", "spec/fbgemm.toml"], ["--stdout", "--verify", "spec/fbgemm.toml"]],
)
def test_usage_errors_exit_2(args, workspace):
    result = run_generator(*args, cwd=workspace)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_several_specs_are_checked_together(workspace):
    spec = workspace / "spec" / "other.toml"
    shutil.copy(workspace / "spec" / "fbgemm.toml", spec)
    edit(spec, 'output = "../generated/fbgemm.py"', 'output = "../generated/other.py"')
    result = run_generator("--check", "spec/fbgemm.toml", "spec/other.toml", cwd=workspace)
    assert result.returncode == 1
    assert "generated/other.py: missing" in result.stderr and "1 stale, 1 fresh" in result.stderr
    assert run_generator("spec/fbgemm.toml", "spec/other.toml", cwd=workspace).returncode == 0
    assert run_generator("--check", "spec/fbgemm.toml", "spec/other.toml", cwd=workspace).returncode == 0


def test_verify_passes_for_every_spec(workspace):
    result = run_generator("--verify", *(row.spec_display for row in BACKENDS), cwd=workspace)
    assert result.returncode == 0, result.stdout + result.stderr
    import torch

    release = torch.__version__.split("+")[0]
    lines = result.stdout.replace("\n    ", " ").splitlines()  # long lines wrapped at 120 columns, joined again
    for row in BACKENDS:
        assert (f"{row.spec_display} (torch_version 2.13.0): same as {row.torch_getter}() of the installed torch "
                f"{release}: {row.effective} pattern configs, every field equal") in lines
    assert lines[-1] == f"verified {len(BACKENDS)} specs: {len(BACKENDS)} equal, 0 differ, 0 errors"
    # torch's re-registrations are marked in the specs: no warning.
    assert "warning" not in result.stderr


def test_verify_reports_each_difference_per_pattern(workspace):
    common = workspace / "spec" / "op_groups" / "common.toml"
    edit(common, 'pattern = "{op}"\nobservation_type = "OUTPUT_SHARE_OBSERVER_WITH_INPUT"\n\n\n# -----',
         'pattern = "{op}"\nobservation_type = "OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT"\n\n\n# -----')
    edit(common, '  { op = "torch.nn.ELU" },\n', '  { op = "torch.nn.ELU" },\n  { op = "torch.nn.Softplus" },\n')
    edit(common, '  { rnn = "torch.nn.GRU", reference = "torch.ao.nn.quantized.reference.GRU" },\n', "")
    result = run_generator("--verify", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 1
    report = result.stdout
    # OLD is the spec, NEW is torch: what only torch has is "added".
    assert "summary: 1 added, 1 removed, 1 changed" in report
    assert ("  * torch.cat\n      observation_type: OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT -> "
            "OUTPUT_SHARE_OBSERVER_WITH_INPUT") in report
    assert "\n  - torch.nn.Softplus  at configs[" in report
    assert "\n  + torch.nn.GRU  at configs[" in report


def test_verify_names_the_spec_key_of_a_symbol_torch_lacks(workspace):
    edit(workspace / "spec" / "op_groups" / "common.toml", '{ op = "torch.nn.ELU" }', '{ op = "torch.nn.ELUX" }')
    result = run_generator("--verify", "spec/fbgemm.toml", cwd=workspace)
    assert result.returncode == 1
    assert ("old: spec/op_groups/common.toml: op_groups.default_op.sections[0].patterns[0] (for_each[0]): "
            "torch.nn.ELUX: torch.nn has no attribute 'ELUX'") in " ".join(result.stdout.split())
    # One missing symbol does not stop the comparison of everything else.
    assert "\n  - torch.nn.ELUX (missing)  at configs[" in result.stdout
    assert "\n  + torch.nn.ELU  at configs[" in result.stdout
    assert "Traceback" not in result.stderr


def test_verify_of_a_torch_getter_that_does_not_exist_is_bad_input_on_stderr(workspace):
    """Exit 2, one error line per spec key on stderr; stdout, the report, holds only the
    verdicts (a script reading stdout must never take an error for one)."""
    spec = workspace / "spec" / "x86.toml"
    spec.write_text(spec.read_text().replace(
        'torch_getter = "torch.ao.quantization.backend_config.x86.get_x86_backend_config"',
        'torch_getter = "torch.ao.quantization.backend_config.x86.get_x68_backend_config"'))
    spec.write_text(spec.read_text().replace(
        'torch_getter = "torch.ao.quantization.get_default_qat_qconfig_mapping"',
        'torch_getter = "torch.ao.quantization.get_default_qat_qconfig_mappin"'))
    result = run_generator("--verify", "spec/x86.toml", cwd=workspace)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.replace("\n    ", " ").splitlines() == [
        "qconfig mapping x86: same as torch.ao.quantization.get_default_qconfig_mapping(backend='x86', version=0): "
        "global, 23 object types, every entry equal"]
    errors = result.stderr.splitlines()
    assert errors[0].startswith("error: spec/x86.toml: backend.torch_getter: ") and "get_x68_backend_config" in errors[0]
    assert [line.split(": ")[2] for line in errors[1:]] == [
        "qconfig_mappings.x86_qat.torch_getter", "qconfig_mappings.x86_qat_v0.torch_getter"]
    assert all("get_default_qat_qconfig_mappin'" in line for line in errors[1:])


def test_console_script_behaves_like_the_module(workspace):
    script = Path(sys.executable).with_name("backendconfig-gen")
    if not script.exists():
        pytest.fail(f"console script not installed next to {sys.executable}; run the README's set-up")
    import subprocess

    result = subprocess.run([str(script), "--check", "spec/fbgemm.toml"], cwd=workspace, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    (workspace / "generated" / "fbgemm.py").write_text("# stale\n")
    result = subprocess.run([str(script), "--check", "spec/fbgemm.toml"], cwd=workspace, capture_output=True, text=True)
    assert result.returncode == 1


def test_an_output_that_cannot_be_written_is_a_clean_error(workspace):
    (workspace / "out").mkdir()
    result = run_generator("spec/fbgemm.toml", "-o", "out", cwd=workspace)
    assert result.returncode == 2
    assert "error: out: is a directory; expected a regular file" in result.stderr
    assert "Traceback" not in result.stderr
    readonly = workspace / "readonly"
    readonly.mkdir()
    readonly.chmod(0o500)
    result = run_generator("spec/fbgemm.toml", "-o", "readonly/fbgemm.py", cwd=workspace)
    if os.geteuid() != 0:  # root writes anywhere
        assert result.returncode == 2 and "cannot write: Permission denied" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in readonly.iterdir()) in ([], ["fbgemm.py"])


@pytest.mark.parametrize("args", [["spec/fbgemm.toml"], ["--no-cache", "--check", "spec/fbgemm.toml"],
                                  ["--verify", "spec/fbgemm.toml"]])
def test_each_input_is_read_and_parsed_once_per_run(args, workspace, monkeypatch, capsys):
    """The fast path's reading is the full load's: a stale output costs no second read
    or parse, and a job loaded while planning is not loaded again."""
    import tomllib

    from generator import inputs, sources
    from generator.cli import main

    edit(workspace / "spec" / "fbgemm.toml", 'name = "fbgemm"', 'name = "fbgemm_v2"')  # stale: the full path runs
    reads, parses = [], []
    read_bounded, loads = sources.read_bounded, tomllib.loads

    def reading(path, limit):
        if str(path).endswith(".toml"):
            reads.append(f"{Path(path).parent.name}/{Path(path).name}")
        return read_bounded(path, limit)

    def parsing(text, **options):
        parses.append(text.split("\n", 1)[0])
        return loads(text, **options)

    for module in (sources, inputs):
        monkeypatch.setattr(module, "read_bounded", reading)
    monkeypatch.setattr(tomllib, "loads", parsing)
    monkeypatch.chdir(workspace)
    main(args)
    capsys.readouterr()
    assert sorted(reads) == ["op_groups/common.toml", "qconfigs/common.toml", "spec/fbgemm.toml"]
    assert len(parses) == 3 and len(set(parses)) == 3
