"""``python -m generator diff``: golden reports for hand-made pairs, exit codes, sides.

Each pair in CASES is one kind of review; together they cover every change kind
the report knows. The golden files under tests/golden/diff/ are the reviewed
reports; after a deliberate change of the report, regenerate them with

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_diff.py

and review the diff of tests/golden/diff/ like any other change.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, pasted_output, run_generator
from generator.cli import main
from generator.loader import load_backend

GOLDEN = REPO / "tests" / "golden" / "diff"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
FORMATS = {"text": "txt", "json": "json", "markdown": "md"}

# name: (OLD, NEW, exit status)
CASES = {
    # a torch upgrade: added (private alias, reversed 3-tuple), removed, moved, enum,
    # dtype_configs[1].input_dtype bound, dtype config added, fuser, mapping type change
    "upgrade": ("tests/diff_specs/small.toml", "diff_cases:small_upgraded", 1),
    # a spec change under review: backend name, and a named dtype config with its patterns
    "spec_change": ("tests/diff_specs/small.toml", "tests/diff_specs/small_changed.toml", 1),
    # the same change on every pattern, summarized once with the count
    "new_attribute": ("diff_cases:small_config", "diff_cases:small_with_new_attribute", 1),
    # symbols the installed torch lacks, reported beside the other changes
    "missing_symbol": ("tests/diff_specs/small_missing.toml", "tests/diff_specs/small.toml", 1),
    # complex-format patterns, fusers and getters compared by behaviour
    "fusions": ("tests/diff_specs/fusions.toml", "diff_cases:fusion_mistakes", 1),
    # a spec and the same config built with torch's API
    "equal": ("tests/diff_specs/small.toml", "diff_cases:small_config", 0),
}


def _diff(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["diff", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run UPDATE_GOLDEN=1 pytest {Path(__file__).name}"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file (see the module docstring)"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("report", sorted(FORMATS))
def test_report_matches_golden(case, report, capsys, monkeypatch):
    monkeypatch.chdir(REPO)  # sides are named as typed, relative to the repository
    old, new, expected_status = CASES[case]
    status, out, err = _diff(capsys, old, new, "--format", report)
    assert status == expected_status, err
    if report == "json":
        assert json.loads(out)["equal"] is (expected_status == 0)
    _check_golden(f"{case}.{FORMATS[report]}", out)


def test_goldens_cover_every_kind_of_change():
    """Each change kind the report knows appears in at least one reviewed golden."""
    found: dict[str, int] = {}
    for path in GOLDEN.glob("*.json"):
        if path.name.startswith("verify"):
            continue
        data = json.loads(path.read_text())
        for key in ("added", "removed", "moved", "changed", "shared_changes", "named_dtype_configs", "missing_symbols"):
            found[key] = found.get(key, 0) + len(data[key])
        found["backend_name"] = found.get("backend_name", 0) + (data["backend_name"] is not None)
        for changed in data["changed"]:
            for change in changed["changes"]:
                found[change["kind"]] = found.get(change["kind"], 0) + 1
                if change["kind"] == "field" and change["details"]:
                    found["behaviour details"] = found.get("behaviour details", 0) + 1
    assert all(found.get(kind) for kind in (
        "added", "removed", "moved", "changed", "shared_changes", "named_dtype_configs", "missing_symbols",
        "backend_name", "field", "dtype_config_added", "dtype_config_removed", "behaviour details",
    )), found


@pytest.mark.parametrize(
    "old, new",
    [
        ("no_such_module_anywhere:get_config", "tests/diff_specs/small.toml"),  # unknown module
        ("diff_cases:no_such_function", "tests/diff_specs/small.toml"),  # unknown function
        ("diff_cases:not_a_backend_config", "tests/diff_specs/small.toml"),  # not a BackendConfig
        ("tests/diff_specs/no_such_spec.toml", "tests/diff_specs/small.toml"),  # missing file
        ("tests/diff_specs/small.toml", "tests/diff_specs/bad.toml"),  # bad spec (two problems)
        ("tests/diff_specs/small.toml", "tests/diff_cases.py"),  # not a generated module
        ("tests/diff_specs/small.toml", "fbgemm"),  # not a side at all
        ("no_such_revision_xyz:tests/diff_specs/small.toml", "tests/diff_specs/small.toml"),  # unknown revision
    ],
)
def test_bad_input_exits_2_with_one_line_per_problem(old, new, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, out, err = _diff(capsys, old, new)
    assert status == 2
    assert out == ""
    lines = err.splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), err
    assert len(lines) == (2 if new.endswith("bad.toml") else 1), err
    assert "Traceback" not in err


@pytest.mark.parametrize("old, new, expected", [
    ("tests/diff_specs/no_such_spec.toml", "tests/diff_specs/small.toml",
     ["tests/diff_specs/no_such_spec.toml: file not found; expected a TOML spec"]),
    ("tests/diff_specs/small.toml", "no_such_module.py", ["no_such_module.py: file not found; expected a generated module"]),
    ("builtin:fbgemm.tom", "fbgemm", ["fbgemm: expected a spec (.toml), a generated module (.py), MODULE:FUNCTION, "
                                      "or REV:path/to/spec.toml"]),
])
def test_what_is_wrong_without_torch_is_said_before_the_child_starts(old, new, expected, capsys, monkeypatch):
    """The child imports torch, seconds before it loads anything: a mistyped path or a
    spec that does not load is refused at once, in the words the child would use."""
    from generator import isolation

    def no_child(task, limits):
        raise AssertionError("the child process was started")

    monkeypatch.chdir(REPO)
    monkeypatch.setattr(isolation, "run_child", no_child)
    status, out, err = _diff(capsys, old, new)
    assert (status, out) == (2, "")
    lines = [line.removeprefix("error: ") for line in err.splitlines()]
    assert lines[-len(expected):] == expected and len(lines) == (2 if old.startswith("builtin:") else 1), err


def test_a_side_that_calls_sys_exit_or_is_not_a_regular_file_is_bad_input(tmp_path):
    """Run as users run it: user code calling sys.exit(0) must not read as 'equal', and
    a module side is read as a bounded regular file (a FIFO would hang, /dev/zero fill
    the memory)."""
    os.mkfifo(tmp_path / "fifo.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "exits.py").write_text("raise SystemExit(0)\n")
    cases = [
        ("diff_cases:exits_quietly", "error: diff_cases:exits_quietly: calling exits_quietly(): it called sys.exit(0)"),
        (str(tmp_path / "fifo.py"), "is a FIFO"),
        (str(tmp_path / "zero.py"), "leads to /dev/zero, a device or kernel interface file; expected a regular file"),
        (str(tmp_path / "exits.py"), "exits.py: running the module: it called sys.exit(0)"),
    ]
    for side, message in cases:
        result = run_generator("diff", "tests/diff_specs/small.toml", side, env={"PYTHONPATH": f"{REPO}:{REPO / 'tests'}"})
        assert (result.returncode, result.stdout) == (2, ""), (side, result.stdout, result.stderr)
        assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ") and message in result.stderr, result.stderr


def test_bad_usage_exits_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", "tests/diff_specs/small.toml", "tests/diff_specs/small.toml", "--format", "html"])
    assert exit_info.value.code == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", "tests/diff_specs/small.toml"])
    assert exit_info.value.code == 2


def test_a_generated_module_side_equals_its_spec(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, out, err = _diff(capsys, "generated/fbgemm.py", "spec/fbgemm.toml", "--format", "json")
    assert status == 0, out + err
    report = json.loads(out)
    assert report["equal"] and report["old"]["patterns"] == report["new"]["patterns"] > 0
    # Read from the module's header: the spec's.
    assert report["old"]["torch_version"] == report["new"]["torch_version"] is not None


def test_the_command_line_runs_as_users_run_it(tmp_path):
    """A fresh interpreter, ``python -m generator diff``: exit codes and no traceback."""
    env = {"PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'tests'}"}
    different = run_generator("diff", "tests/diff_specs/small.toml", "diff_cases:small_upgraded", env=env)
    assert different.returncode == 1, different.stderr
    assert different.stdout == (GOLDEN / "upgrade.txt").read_text()
    bad = run_generator("diff", "no_such_module_anywhere:f", "tests/diff_specs/small.toml", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_help_names_every_kind_of_side_flag_and_exit_code(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["diff", "--help"])
    assert exit_info.value.code == 0
    usage = capsys.readouterr().out
    for text in ("OLD", "NEW", "--format", "MODULE:FUNCTION", "REV:", "builtin:", ".py", "\n  0 ", "\n  1 ", "\n  2 "):
        assert text in usage, text


def _git(repository: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    subprocess.run(["git", *args], cwd=repository, env=env, check=True, capture_output=True)


def test_a_spec_at_a_git_revision_is_reviewed_before_regenerating(tmp_path, capsys, monkeypatch):
    """REV:path reads the spec and the files it includes as they are at REV."""
    repository = tmp_path / "repository"
    (repository / "spec").mkdir(parents=True)
    for name in ("small.toml", "small_ops.toml"):
        shutil.copy(REPO / "tests" / "diff_specs" / name, repository / "spec" / name)
    _git(repository, "init", "-q")
    _git(repository, "add", ".")
    _git(repository, "commit", "-q", "-m", "small backend")
    # The pull request: an included file changes and a symbol torch lacks appears.
    ops = repository / "spec" / "small_ops.toml"
    ops.write_text(ops.read_text().replace('pattern = "torch.nn.ELU"', 'pattern = "torch.nn.ELUX"'))
    _git(repository, "commit", "-q", "-am", "rename ELU")
    monkeypatch.chdir(repository)

    status, out, err = _diff(capsys, "HEAD~1:spec/small.toml", "HEAD:spec/small.toml", "--format", "json")
    assert status == 1, err
    report = json.loads(out)
    assert report["old"]["source"] == "HEAD~1:spec/small.toml"
    assert [p["pattern"] for p in report["removed"]] == ["torch.nn.ELU"]
    assert [p["pattern"] for p in report["added"]] == ["torch.nn.ELUX (missing)"]
    # Files are named REV:path, never by the temporary directory they were read from.
    (missing,) = report["missing_symbols"]
    assert missing["side"] == "new" and missing["where"].startswith("HEAD:spec/small_ops.toml: op_groups.")
    assert str(tmp_path) not in out

    # A revision against the working tree: equal once the edit is undone there.
    ops.write_text(ops.read_text().replace('pattern = "torch.nn.ELUX"', 'pattern = "torch.nn.ELU"'))
    status, out, err = _diff(capsys, "HEAD~1:spec/small.toml", "spec/small.toml")
    assert status == 0, out + err
    status, out, err = _diff(capsys, "HEAD:spec/nope.toml", "spec/small.toml")
    assert status == 2 and "not a tracked file" in err

    # From a subdirectory: REV:path is from the root, REV:./path from here (git's meaning).
    monkeypatch.chdir(repository / "spec")
    status, out, err = _diff(capsys, "HEAD~1:spec/small.toml", "HEAD~1:./small.toml")
    assert status == 0, out + err


def test_verify_reports_a_simulated_torch_upgrade(tmp_path):
    """--verify on torch's own getter, wrapped as a newer torch would change it."""
    shutil.copy(REPO / "tests" / "simulated_torch_upgrade.py", tmp_path / "sitecustomize.py")
    result = run_generator("--verify", "spec/fbgemm.toml", env={"PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"})
    assert result.returncode == 1, result.stderr
    _check_golden("verify_upgrade.txt", result.stdout)


def _documented_block(command: str) -> str:
    return pasted_output(REPO / "docs" / "diff.md", command)


def test_the_documentation_pastes_real_output(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    native = "torch.ao.quantization.backend_config:get_native_backend_config"
    status, out, _ = _diff(capsys, "spec/fbgemm.toml", native)
    assert status == 1
    assert _documented_block(f"backendconfig-gen diff spec/fbgemm.toml {native}") == out
    verify = _documented_block("backendconfig-gen --verify spec/fbgemm.toml")
    assert verify == (GOLDEN / "verify_upgrade.txt").read_text(encoding="utf-8")


def test_verify_without_a_torch_getter_still_reports_missing_symbols(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    assert main(["--verify", "tests/diff_specs/small.toml"]) == 0
    assert "no torch_getter to compare with" in capsys.readouterr().out
    assert main(["--verify", "tests/diff_specs/small_missing.toml"]) == 1
    out, err = capsys.readouterr()
    assert "error" not in out  # the report; each error is a line of its own on stderr
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert [line.split(": ")[1] for line in errors] == ["tests/diff_specs/small_ops_missing.toml"] * 2


# -- what a reviewer reads: order, width, folding, a run over several specs ------


def _description(*labels: str):
    from generator.compare.description import ConfigDescription, PatternDescription, Ref

    patterns = tuple(PatternDescription(Ref(label), label, (("pattern", Ref(label)),)) for label in labels)
    return ConfigDescription("side", "spec", "b", patterns)


def test_of_two_swapped_neighbours_the_one_first_in_old_is_reported_moved():
    """Either reading of a swap is true; the report must not change between versions
    (issue 17): the pattern that came first in OLD is the one that moved, after the other."""
    from generator.compare.differ import compare

    for old, new, moved in [
        (("A", "B"), ("B", "A"), ("A", 0, 1, "B")),
        (("A", "B", "C", "D"), ("A", "C", "B", "D"), ("B", 1, 2, "C")),
        (("A", "B", "C"), ("A", "C", "B"), ("B", 1, 2, "C")),
    ]:
        (found,) = compare(_description(*old), _description(*new)).moved
        assert (found.label, found.old_position, found.new_position, found.after) == moved, (old, new)


def test_what_kept_its_order_is_the_longest_common_subsequence_with_the_same_tie_break():
    """order.kept_in_order (O(n log n), for keyed patterns and mapping entries) keeps,
    for every reordering of up to 7 keys, what the quadratic longest-common-subsequence
    table keeps, ties broken alike; a QConfigMapping's swap reads as a BackendConfig's."""
    import itertools

    from generator.compare.differ import _common_in_order
    from generator.compare.mapping_description import MappingDescription, Method
    from generator.compare.mapping_differ import diff_mappings
    from generator.compare.order import kept_in_order

    for size in range(8):
        old = list(range(size))
        for new in itertools.permutations(old):
            assert kept_in_order(old, new) == {old[i] for i, _ in _common_in_order(old, list(new))}, new

    def mapping(*names: str) -> MappingDescription:
        return MappingDescription("QConfigMapping", None, tuple((Method(name), None) for name in names), (), (), ())

    assert [str(change) for change in diff_mappings(mapping("a", "b", "c"), mapping("b", "a", "c"))] == [
        'object_types[{method = "a"}]: moved from position 0 to 1']


def test_long_lines_wrap_at_120_columns_with_a_hanging_indent():
    from generator.compare.text_report import wrapped

    line = "      dtype_configs[1] = name = {" + ", ".join(f"field_{n} = value_{n}" for n in range(12)) + "}"
    pieces = wrapped(line)
    assert len(pieces) > 1 and all(len(piece) <= 120 for piece in pieces)
    assert all(piece.startswith(" " * 10) and not piece.startswith(" " * 11) for piece in pieces[1:])
    assert " ".join(piece.strip() for piece in pieces) == line.strip()
    # A word longer than a line is left whole: the data does not allow a break.
    assert wrapped("x" * 130) == ["x" * 130]


def test_a_large_change_fits_the_width_names_shared_dtype_configs_once_and_folds_in_markdown(capsys, monkeypatch):
    """torch 2.0.1's executorch config (29 patterns) against today's (84): 55 added
    patterns that use 5 named dtype configs (golden files executorch_2_0_1.*)."""
    monkeypatch.chdir(REPO)
    old, new = "old_torch_configs:get_executorch_2_0_1", "torch.ao.quantization.backend_config:get_executorch_backend_config"
    status, text, _ = _diff(capsys, old, new)
    assert status == 1 and "\nadded patterns (55):" in text
    assert max(len(line) for line in text.splitlines()) <= 120
    definitions = text.split("dtype configs of added and removed patterns (5):\n", 1)[1].split("\n\n", 1)[0]
    assert definitions.startswith("  qnnpack_weighted_op_qint8_symmetric_dtype_config = {input_dtype = {dtype = qint8,")
    assert text.count("executorch_default_op_quint8_dtype_config = {") == 1
    assert "      dtype_configs = [qnnpack_default_op_qint8_symmetric_dtype_config, executorch_default_op_quint8_dtype_config]" in text
    _check_golden("executorch_2_0_1.txt", text)
    status, markdown, _ = _diff(capsys, old, new, "--format", "markdown")
    assert "#### Added patterns (55)\n\n<details><summary>55 patterns added</summary>\n" in markdown
    assert markdown.count("<details>") == markdown.count("</details>")
    _check_golden("executorch_2_0_1.md", markdown)
    status, data, _ = _diff(capsys, old, new, "--format", "json")
    added = json.loads(data)["added"]
    assert len(added) == 55 and all(isinstance(c, dict) and "input_dtype" in c for a in added for c in a["fields"]["dtype_configs"])


def test_a_short_list_is_not_folded():
    from generator.compare.differ import compare
    from generator.compare.markdown_report import FOLD_AT, markdown_report

    few = markdown_report(compare(_description("A"), _description("A", *(f"P{n}" for n in range(5)))))
    assert "<details>" not in few and "#### Added patterns (5)" in few
    many = markdown_report(compare(_description("A"), _description("A", *(f"P{n}" for n in range(FOLD_AT + 1)))))
    assert f"<details><summary>{FOLD_AT + 1} patterns added</summary>" in many


def test_a_verify_run_over_several_specs_separates_them_and_ends_with_a_tally(capsys, monkeypatch, tmp_path):
    """An equal spec that targets another torch gets one line of advice, given once
    for all at the end; a user's spec is never told to update this project's test pin."""
    import generator.compare.sides

    monkeypatch.chdir(REPO)
    # The child (run in this process by conftest) says which torch is installed.
    monkeypatch.setattr(generator.compare.sides, "installed_torch", lambda: "2.14.1")
    user = tmp_path / "mine.toml"
    user.write_text('extends = "builtin:fbgemm.toml"\n\n[backend]\noutput = "mine.py"\nremove_patterns = ["torch.narrow"]\n'
                    'torch_getter = "torch.ao.quantization.backend_config.get_fbgemm_backend_config"\n')
    assert main(["--verify", "spec/x86.toml", str(user), "tests/diff_specs/small.toml"]) == 1
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 120
    blocks = out.replace("\n    ", " ").split("\n\n")  # wrapped lines joined again
    assert blocks[-2] == "tests/diff_specs/small.toml: builds 10 pattern configs; no torch_getter to compare with"
    assert blocks[0].startswith("spec/x86.toml (torch_version 2.13.0): same as ") and "note:" not in blocks[0]
    assert (f"note: the spec targets torch 2.13.0, the installed torch is 2.14.1. If these differences are torch's, change "
            'the spec to match, set backend.torch_version = "2.14.1" and regenerate') in blocks[1]
    assert "test pin" not in out
    # x86's mappings name torch's functions; those mine.toml inherits do not (they may be customized).
    x86_mappings, inherited = (len(load_backend(spec).qconfig_mappings) for spec in ("spec/x86.toml", user))
    assert blocks[-1] == (
        'note: 1 equal spec (spec/x86.toml) targets another torch than the installed 2.14.1: set backend.torch_version = '
        f'"2.14.1" in them\nverified {x86_mappings + inherited} qconfig mappings: {x86_mappings} equal, 0 differ, 0 errors, '
        f'{inherited} without a torch_getter\nverified 3 specs: 1 equal, 1 differs, 0 errors, 1 without a torch_getter\n'
    )
    # One spec: no tally, and one line of advice, after the backend config's verdict.
    assert main(["--verify", "spec/x86.toml"]) == 0
    lines = capsys.readouterr().out.replace("\n    ", " ").splitlines()
    assert lines[1] == 'note: unchanged in torch 2.14.1: set backend.torch_version = "2.14.1" (the spec targets 2.13.0)'
    assert len(lines) == 2 + x86_mappings and all(line.startswith("qconfig mapping x86") for line in lines[2:])
