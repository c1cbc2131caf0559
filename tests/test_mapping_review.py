"""``diff`` and ``--verify`` of QConfigMappings: planted changes are reported entry by
entry and keyword by keyword in text, json and markdown (golden files under
tests/golden/mappings/, regenerated as tests/test_diff.py says); sides pair their
mappings as Note [Pairing the mappings of two sides] says; bad input is one line
and exit 2.
"""

from __future__ import annotations

import json
import re

import mapping_cases
import pytest
import torch.ao.quantization
from conftest import REPO, pasted_output
from test_diff import FORMATS, _check_golden, _git

from generator.cli import main

GOLDEN_DIRECTORY = "../mappings"  # tests/golden/mappings/, beside the diff goldens

# name: (OLD, NEW, exit status)
CASES = {
    # torch's x86 mapping against the same with a keyword changed, an entry removed, one moved
    "planted": ("mapping_cases:x86", "mapping_cases:planted_x86", 1),
    # two specs: a shared observer's keyword, a nested keyword, added, removed, moved, a mapping added
    "spec_change": ("tests/diff_specs/mapped.toml", "tests/diff_specs/mapped_changed.toml", 1),
}


def _run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("report", sorted(FORMATS))
def test_mapping_report_matches_golden(case, report, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    old, new, expected_status = CASES[case]
    status, out, err = _run(capsys, "diff", old, new, "--format", report)
    assert status == expected_status, err
    _check_golden(f"{GOLDEN_DIRECTORY}/{case}.{FORMATS[report]}", out)


def test_mapping_goldens_cover_every_kind_of_change():
    """Each kind of mapping change the report knows is in a reviewed golden."""
    found: dict[str, int] = {}
    for path in (REPO / "tests" / "golden" / "mappings").glob("*.json"):
        section = json.loads(path.read_text())["qconfig_mappings"]
        for key in ("added", "removed"):
            found[f"mapping {key}"] = found.get(f"mapping {key}", 0) + len(section[key])
        for change in (change for compared in section["compared"] for change in compared["changes"]):
            found[change["kind"]] = found.get(change["kind"], 0) + 1
            if ".observer.with_args." in change["path"]:
                found["nested keyword"] = found.get("nested keyword", 0) + 1
    # A mapping removed is a mapping added read backwards; every other kind must appear.
    assert all(found.get(kind) for kind in ("changed", "added", "removed", "moved", "nested keyword", "mapping added")), found


def _planted_lines() -> list[str]:
    """The lines the planted changes must give, from what mapping_cases plants and
    where torch's mapping holds it."""
    keys = list(mapping_cases.x86().object_type_qconfigs)
    keyword, old, new = mapping_cases.PLANTED_KEYWORD
    # Values in spec terms: TOML writes True as true, a method name {method = "..."}.
    return [
        f"global.activation.with_args.{keyword}: {json.dumps(old)} -> {json.dumps(new)}",
        f"object_types[torch.nn.{mapping_cases.PLANTED_REMOVED.__name__}]",
        f"object_types[{{method = {json.dumps(mapping_cases.PLANTED_MOVED)}}}]: moved from position {keys.index(mapping_cases.PLANTED_MOVED)} to {len(keys) - 2}",
    ]


def test_diff_reports_each_planted_change_once_in_every_format(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, out, _ = _run(capsys, "diff", "mapping_cases:x86", "mapping_cases:planted_x86", "--format", "json")
    assert status == 1
    data = json.loads(out)
    ((compared,),) = [data["qconfig_mappings"]["compared"]]
    changes = [f"{c['path']}: {c['old']} -> {c['new']}" if c["kind"] != "moved" else f"{c['path']}: moved from position {c['old']} to {c['new']}"
               for c in compared["changes"]]
    assert len(changes) == 3
    for expected, found in zip(_planted_lines(), changes):
        assert found.startswith(expected), (expected, found)
    assert [c["kind"] for c in compared["changes"]] == ["changed", "removed", "moved"]
    assert data["equal"] is False and data["summary"]["mappings_different"] == 1
    for report in ("text", "markdown"):
        _, text, _ = _run(capsys, "diff", "mapping_cases:x86", "mapping_cases:planted_x86", "--format", report)
        for expected in _planted_lines():
            assert text.count(expected) == 1, (report, expected)


def test_equal_mappings_exit_0(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, out, err = _run(capsys, "diff", "torch.ao.quantization:get_default_qconfig_mapping", "generated.x86:get_x86_qconfig_mapping")
    assert status == 0, err
    assert "= get_default_qconfig_mapping -> get_x86_qconfig_mapping: equal: global, 23 object types" in out


def test_a_mapping_side_pairs_with_the_other_sides_only_or_same_named_mapping(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO)
    # The generated function of the same name as a spec's getter: compared with that one.
    status, out, err = _run(capsys, "diff", "generated.x86:get_x86_qat_qconfig_mapping", "spec/x86.toml")
    assert status == 0, err
    assert "= get_x86_qat_qconfig_mapping: equal: global, 23 object types" in out
    # A spec of one mapping: the function's is compared with it, whatever their names.
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "mine.toml").write_text(SPEC_HEAD + 'global = "x86_qconfig"\n')
    status, out, _ = _run(capsys, "diff", str(tmp_path / "mine.toml"), "mapping_cases:x86")
    assert status == 1 and "* get_mine_qconfig_mapping -> x86: 23 changes" in out
    # x86.toml defines three, none named like the function: ambiguous, bad input.
    status, out, err = _run(capsys, "diff", "mapping_cases:x86", "spec/x86.toml")
    assert (status, out) == (2, "")
    assert err == ("error: mapping_cases:x86 returns one QConfigMapping and spec/x86.toml defines 3 qconfig mappings "
                   "(get_x86_qat_qconfig_mapping, get_x86_qat_v0_qconfig_mapping, get_x86_qconfig_mapping), none named x86: "
                   "expected a side with one mapping, or one of the same name\n")


def test_a_backend_config_function_is_not_compared_with_a_mapping(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, out, err = _run(capsys, "diff", "mapping_cases:x86", "diff_cases:small_config")
    assert (status, out) == (2, "")
    assert err == ("error: mapping_cases:x86 returns a QConfigMapping and diff_cases:small_config a BackendConfig: "
                   "expected two of a kind\n")


def test_verify_reports_planted_changes_in_torchs_mapping(capsys, monkeypatch):
    """torch's function, as a newer torch might change it: --verify of spec/x86.toml
    names each planted change under the mapping that mirrors it, and exits 1."""
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(torch.ao.quantization, "get_default_qconfig_mapping", mapping_cases.planted_x86)
    status, out, _ = _run(capsys, "--verify", "spec/x86.toml")
    assert status == 1
    _check_golden(f"{GOLDEN_DIRECTORY}/verify_planted.txt", out)
    joined = out.replace("\n    ", " ")
    # The spec is OLD, torch's is NEW: the planted changes read backwards.
    keyword, old, new = mapping_cases.PLANTED_KEYWORD
    old, new = json.dumps(old), json.dumps(new)  # in spec terms: true, false
    assert f"global.activation.with_args.{keyword}: {new} -> {old}" not in joined
    assert f"global.activation.with_args.{keyword}: {old} -> {new}" in joined
    assert "qconfig mapping x86: differs from torch.ao.quantization.get_default_qconfig_mapping(backend='x86', version=0) (3 changes" in joined
    assert "qconfig mapping x86_qat: same as" in joined


def _regex_error(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as error:
        return str(error)
    raise AssertionError(f"{pattern!r} compiles")


BAD_SIDES = [
    ("mapping_cases:not_a_mapping", "mapping_cases:not_a_mapping: not_a_mapping() returned int, not a BackendConfig or a QConfigMapping"),
    ("mapping_cases:unknown_keyword", "mapping_cases:unknown_keyword: unknown_keyword(): global.activation: expected an observer or "
     "fake quantize constructor that builds; MinMaxObserver.with_args() raised TypeError: ObserverBase.__init__() got an "
     "unexpected keyword argument 'no_such_keyword'"),
    ("mapping_cases:bad_regex", "mapping_cases:bad_regex: bad_regex(): module_name_regexes['features.(']: expected a regular "
     f"expression ({_regex_error('features.(')})"),
]


@pytest.mark.parametrize("side, message", BAD_SIDES)
def test_a_bad_mapping_side_is_one_line_and_exit_2(side, message, capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    status, out, err = _run(capsys, "diff", side, "mapping_cases:x86")
    assert (status, out, err) == (2, "", f"error: {message}\n")


SPEC_HEAD = """\
include = ["builtin:qconfigs/common.toml"]

[backend]
name = "mine"
getter = "get_mine_backend_config"
output = "mine.py"
torch_version = "2.13.0"
op_groups = []

[qconfig_mappings.mine]
"""


@pytest.mark.parametrize("mapping, message", [
    ('global = { activation = { class = "torch.ao.quantization.observer.NoSuchObserver", with_args = {} }, weight = "default_weight_observer" }\n',
     "mine.toml: qconfig_mappings.mine.global.activation: torch.ao.quantization.observer.NoSuchObserver: expected a class of "
     "the installed torch 2.13.0; torch.ao.quantization.observer has no attribute 'NoSuchObserver'"),
    ('global = { activation = { class = "torch.ao.quantization.observer.MinMaxObserver", with_args = { no_such_keyword = 1 } }, weight = "default_weight_observer" }\n',
     "mine.toml: get_mine_qconfig_mapping(): global.activation: expected an observer or fake quantize constructor that builds; "
     "MinMaxObserver.with_args() raised TypeError: ObserverBase.__init__() got an unexpected keyword argument 'no_such_keyword'"),
])
def test_a_spec_whose_mapping_cannot_build_is_bad_input_for_diff_and_verify(mapping, message, capsys, monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "mine.toml").write_text(SPEC_HEAD + mapping)
    monkeypatch.chdir(tmp_path)
    status, out, err = _run(capsys, "diff", "mine.toml", "mapping_cases:user_mapping")
    assert (status, out, err) == (2, "", f"error: {message}\n")
    status, out, err = _run(capsys, "--verify", "mine.toml")
    assert (status, out, err) == (2, "", f"error: {message}\n")  # errors on stderr, as diff's
    assert not (tmp_path / "mine.py").exists()


def docs_block(command: str) -> str:
    return pasted_output(REPO / "docs" / "qconfig-mappings.md", command)


def test_the_docs_paste_real_diff_and_verify_output(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    for command in ("diff mapping_cases:x86 mapping_cases:planted_x86", "--verify spec/x86.toml"):
        status, out, err = _run(capsys, *command.split())
        assert status in (0, 1), err
        assert docs_block(f"python -m generator {command}") == out, command


def test_a_spec_at_a_git_revision_compares_its_mappings(tmp_path, capsys, monkeypatch):
    """REV:path: a pull request that edits a mapping is reviewed before regenerating,
    its changes named as the working-tree spec's are."""
    repository = tmp_path / "repository"
    repository.mkdir()
    (repository / "mapped.toml").write_text((REPO / "tests" / "diff_specs" / "mapped.toml").read_text())
    _git(repository, "init", "-q")
    _git(repository, "add", ".")
    _git(repository, "commit", "-q", "-m", "mapped")
    (repository / "mapped.toml").write_text((REPO / "tests" / "diff_specs" / "mapped_changed.toml").read_text().replace(
        'extends = "mapped.toml"', 'extends = "base.toml"'))
    (repository / "base.toml").write_text((REPO / "tests" / "diff_specs" / "mapped.toml").read_text())
    _git(repository, "add", ".")
    _git(repository, "commit", "-q", "-m", "change the mapping")
    monkeypatch.chdir(repository)
    status, at_revisions, err = _run(capsys, "diff", "HEAD~1:mapped.toml", "HEAD:mapped.toml", "--format", "json")
    assert status == 1, err
    monkeypatch.chdir(REPO)
    status, in_tree, err = _run(capsys, "diff", *CASES["spec_change"][:2], "--format", "json")
    assert status == 1, err
    assert json.loads(at_revisions)["qconfig_mappings"] == json.loads(in_tree)["qconfig_mappings"]
