"""python -m generator extract writes the shortest faithful spec: ``extends`` a base
(``--base``, by default the nearest builtin spec) plus what differs, or, without a
close base, the op-group cover. Every spec here is regenerated and compared with
the live config by the comparison engine (independently of the extractor's own
check), and its line count is held to the targets of issue 15.

The configs: torch 2.13.0's own; torch 2.0.1's, rebuilt (tests/old_torch_configs.py);
a team's x86 config (tests/team_config.py); configs of tests/extract_user_config.py.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

import backends
import pytest
from conftest import REPO

from generator.cli import main as generator_main
from generator.compare.differ import compare
from generator.compare.sides import describe_sides, load_function_side, load_generated
from generator.compare.text_report import text_report
from generator.extract.bases import NEAREST, NO_BASE
from generator.extract.extractor import Extraction, extract
from generator.loader import load_backend
from generator.render import ENTRIES_MARKER, render, unformatted_module

TORCH_GETTERS = {row.name: f"{row.torch_module}:{row.getter}" for row in backends.BACKENDS}
OLD_FBGEMM = "old_torch_configs:get_fbgemm_2_0_1"
TEAM = "team_config:get_team_backend_config"
ABSENT_IN_2_0_1 = [
    "torch.nn.functional.conv_transpose1d", "torch.nn.functional.conv_transpose2d", "torch.nn.functional.conv_transpose3d",
    "torch.nn.PixelShuffle", "torch.nn.PixelUnshuffle", "torch.nn.functional.pixel_shuffle",
    "torch.nn.functional.pixel_unshuffle", "torch.narrow",
]


@functools.cache
def extracted(target: str, base: str = NEAREST) -> Extraction:
    return extract(target, "spec/extracted.toml", "extracted.py", base=base, spec_dir=REPO / "spec")


def lines(text: str) -> int:
    return text.count("\n")


def _source(backend) -> str:
    """The generated module, unformatted (black changes no behaviour)."""
    rendered = render(backend, ["test"])
    entries = "".join(f"{source},\n" for _, source in rendered.entries)
    return unformatted_module(rendered).replace(f"{ENTRIES_MARKER},\n", entries)


def regenerated(text: str, target: str, directory: Path):
    """The spec, written beside this repository's specs (a relative extends resolves
    as in spec/), loaded, run, and compared with the live config by the engine."""
    spec = directory / "extracted.toml"
    spec.write_text(text.replace('extends = "../spec/', f'extends = "{(REPO / "spec").as_posix()}/'))
    backend = load_backend(spec)
    ours = load_generated(backend, _source(backend), str(spec), "spec")
    module, _, function = target.partition(":")
    return compare(*describe_sides(ours, load_function_side(module, function, target, "function")))


def assert_regenerates(extraction: Extraction, target: str, directory: Path) -> None:
    comparison = regenerated(extraction.text, target, directory)
    assert comparison.equal, text_report(comparison, [])


@pytest.mark.parametrize("name", list(TORCH_GETTERS))
def test_todays_torch_configs_extract_to_a_handful_of_lines_against_their_own_builtin(name):
    """Nothing differs from the builtin spec: the delta is extends, where the module
    goes, and the getter's own torch_getter and doc. (The builtin specs themselves are
    proven equal to torch's configs by test_equivalence.py.)"""
    extraction = extracted(TORCH_GETTERS[name])
    data = tomllib.loads(extraction.text)
    assert data["extends"] == f"builtin:{name}.toml"
    assert set(data) == {"extends", "backend"}
    assert set(data["backend"]) == {"output", "torch_getter", "doc"}
    assert lines(extraction.text) <= 12, extraction.text
    assert extraction.summary.endswith(f"builtin:{name}.toml with nothing changed")


def test_torch_2_0_1_fbgemm_is_todays_minus_8_patterns_in_at_most_30_lines(tmp_path):
    extraction = extracted(OLD_FBGEMM)
    data = tomllib.loads(extraction.text)
    assert data["extends"] == "builtin:fbgemm.toml"
    assert data["backend"]["remove_patterns"] == ABSENT_IN_2_0_1
    assert "op_groups" not in data["backend"] and "dtype_configs" not in data
    assert lines(extraction.text) <= 30, extraction.text
    assert_regenerates(extraction, OLD_FBGEMM, tmp_path)
    # Named as the base, the same delta.
    assert extracted(OLD_FBGEMM, "builtin:fbgemm.toml").text == extraction.text


@pytest.mark.parametrize("name, removed", [("onednn", 8), ("executorch", 55)])
def test_other_torch_2_0_1_configs_extend_their_own_builtin(name, removed, tmp_path):
    """(The extraction itself regenerates every delta it writes; here, for time, only
    the smaller config is regenerated again by the engine.)"""
    target = f"old_torch_configs:get_{name}_2_0_1"
    extraction = extracted(target)
    data = tomllib.loads(extraction.text)
    assert data["extends"] == f"builtin:{name}.toml"
    assert extraction.summary.endswith(f"with {removed} patterns removed"), extraction.summary
    if name == "executorch":
        assert_regenerates(extraction, target, tmp_path)


def test_a_team_config_is_x86_minus_two_op_groups_with_one_dtype_config_redefined(tmp_path):
    extraction = extracted(TEAM)
    data = tomllib.loads(extraction.text)
    assert data["extends"] == "builtin:x86.toml"
    assert data["backend"]["remove_op_groups"] == ["rnn_op", "embedding_op"]
    assert data["dtype_configs"] == {"x86_default_op_quint8_dtype_config": {
        "input_dtype": {"dtype": "quint8", "quant_min_lower_bound": 0, "quant_max_upper_bound": 127},
        "output_dtype": {"dtype": "quint8", "quant_min_lower_bound": 0, "quant_max_upper_bound": 127},
    }}
    assert lines(extraction.text) <= 20, extraction.text
    assert_regenerates(extraction, TEAM, tmp_path)
    # --base by path: the same delta, extending that file by its path from the new spec.
    by_path = extract(TEAM, "spec/extracted.toml", "extracted.py", base=str(REPO / "spec" / "x86.toml"), spec_dir=tmp_path / "spec")
    relative = os.path.relpath(REPO / "spec" / "x86.toml", tmp_path / "spec")
    assert by_path.text == extraction.text.replace('extends = "builtin:x86.toml"', f'extends = "{relative}"')
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "team.toml").write_text(by_path.text)
    assert [file.role for file in load_backend(tmp_path / "spec" / "team.toml").files[:2]] == ["spec", "extends"]


def test_a_changed_qat_module_is_never_lost(tmp_path):
    """The config's nn.Linear has a QAT module of the user's own: the shared linear op
    group must not be used for it (issue 17: a cover comparing pattern keys only lost
    the change), and a delta overrides just that field."""
    target = "extract_user_config:get_fbgemm_with_my_qat_linear"
    cover = extracted(target, NO_BASE)
    uses = tomllib.loads(cover.text)["backend"]["op_groups"]
    assert {"name": "linear", "dtype_configs": uses[1]["dtype_configs"]} not in uses
    assert_regenerates(cover, target, tmp_path)
    delta = extracted(target)  # regenerated and compared by the extraction itself
    assert tomllib.loads(delta.text)["backend"]["override_patterns"] == [
        {"pattern": "torch.nn.Linear", "qat_module": "extract_user_config.MyQATLinear"}
    ]
    assert delta.warnings == ()


def test_a_pattern_the_base_has_elsewhere_is_removed_and_added_again(tmp_path):
    target = "extract_user_config:get_fbgemm_with_linear_last"
    extraction = extracted(target)
    data = tomllib.loads(extraction.text)
    assert data["backend"]["remove_patterns"] == ["torch.nn.Linear"]
    assert [use["name"] for use in data["backend"]["op_groups"]] == ["fbgemm_linear"]
    assert_regenerates(extraction, target, tmp_path)


def test_a_users_fork_overrides_one_fusion_and_adds_a_pattern(tmp_path):
    target = "extract_user_config:get_my_backend_config"
    extraction = extracted(target)
    data = tomllib.loads(extraction.text)
    assert data["backend"]["override_patterns"] == [{
        "pattern": ["torch.nn.Linear", "torch.nn.ReLU"],
        "fuser_method": "extract_user_config.fuse_linear_relu_for_inference",
        "dtype_configs": ["fbgemm_weighted_op_quint8_dtype_config"],
    }]
    (warning,) = extraction.warnings
    assert "fuse_linear_relu_for_inference is a function of your own" in warning
    assert_regenerates(extraction, target, tmp_path)


def test_without_a_close_base_the_cover_says_which_shared_group_each_own_group_is_closest_to(tmp_path):
    target = "extract_user_config:get_config_with_my_module_and_getter"
    extraction = extracted(target)
    assert "extends" not in tomllib.loads(extraction.text)
    assert "# No shared op group has any of these patterns." in extraction.text
    assert "# Closest shared op group: linear (builtin:op_groups/common.toml), which has this\n# pattern (with other" in extraction.text
    assert "[op_groups.mine_linear]" in extraction.text
    assert_regenerates(extraction, target, tmp_path)


def test_the_executorch_cover_uses_parts_of_shared_groups_and_names_its_own_by_them():
    text = extracted(TORCH_GETTERS["executorch"], NO_BASE).text
    data = tomllib.loads(text)
    conv = next(use for use in data["backend"]["op_groups"] if use["name"] == "conv")
    assert conv["where"] == {"conv": "torch.nn.Conv2d"} and len(conv["exclude_patterns"]) == 3
    assert "executorch_default_op" in data["op_groups"] and "executorch_sub_relu" in data["op_groups"]
    assert "# Closest shared op group: default_op (builtin:op_groups/common.toml), which has 1 of" in text


def test_the_cli_refuses_a_bad_base_in_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert generator_main(["extract", TEAM, "--base", "builtin:x86.tom", "-o", "spec/team.toml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {TEAM}: --base builtin:x86.tom: not a valid backend spec: ")
    assert "did you mean 'builtin:x86.toml'?" in err and not (tmp_path / "spec" / "team.toml").exists()


def test_docs_extract_pastes_real_output(capsys, tmp_path, monkeypatch):
    """docs/extract.md shows what these commands print and write, in a new repository."""
    docs = (REPO / "docs" / "extract.md").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    for command in (
        ["extract", OLD_FBGEMM, "-o", "spec/fbgemm_2_0_1.toml"],
        ["extract", TEAM, "-o", "spec/team.toml"],
        ["diff", "spec/team.toml", TEAM],
    ):
        generator_main(command)
        captured = capsys.readouterr()
        assert f"$ backendconfig-gen {' '.join(command)}\n{captured.err}{captured.out}" in docs
    for spec in ("fbgemm_2_0_1.toml", "team.toml"):
        assert f"```toml\n{(tmp_path / 'spec' / spec).read_text()}```" in docs
