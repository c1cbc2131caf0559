"""--verify and diff cannot be fooled: fusers and node getters are compared by what they do.

tests/diff_cases.py copies torch's real onednn configs for one fusion pattern of
each shape (2-tuple, 3-tuple, nested complex format) and breaks one thing in one
of them; tests/diff_specs/fusions.toml is the unbroken config as a spec, with its
own implementations of onednn's private fuser and getters. Each broken case must
be reported, on the broken pattern and field, by the engine, by ``diff`` and by
``--verify`` (exit 1); an equivalent but different fuser object must not be.
"""

from __future__ import annotations

import json

import pytest
from torch.ao.quantization.backend_config import BackendConfig

import diff_cases
from conftest import REPO
from generator.cli import main
from generator.compare.describe import describe_backend_config
from generator.compare.description import Behaviour
from generator.compare.differ import compare

FUSIONS_SPEC = "tests/diff_specs/fusions.toml"
# The field each mutation breaks; the report must name it.
BROKEN_FIELD = {
    "wrong_fuser": "fuser_method",
    "wrong_getter": "root_node_getter",
    "swapped_fused_module": "fuser_method",
    "missing_fusion": "fuser_method",
    "wrong_extra_inputs": "extra_inputs_getter",
}
CASES = [(shape, mutation) for shape in diff_cases.SHAPES for mutation in diff_cases.MUTATIONS]
CASES.append(("nested", "wrong_extra_inputs"))  # only the nested shape has extra inputs


def _describe(configs) -> object:
    return describe_backend_config(BackendConfig("fusions").set_backend_pattern_configs(configs), "test", "function")


@pytest.fixture(scope="module")
def baseline():
    return _describe(diff_cases.fusion_patterns())


def test_every_fuser_and_getter_of_the_baseline_is_run(baseline):
    """Compared by behaviour, never by name alone: each callable was actually called."""
    behaviours = [value for pattern in baseline.patterns for _, value in pattern.fields if isinstance(value, Behaviour)]
    assert len(behaviours) == 3 + 2 + 2  # a fuser per shape, root getters, the nested extra-inputs getter
    assert all(behaviour.outcomes for behaviour in behaviours), [b.unprobed for b in behaviours]


@pytest.mark.parametrize("shape, mutation", CASES)
def test_the_engine_reports_the_broken_field_of_the_broken_pattern(shape, mutation, baseline):
    broken = _describe(diff_cases.fusion_patterns(shape, mutation))
    comparison = compare(baseline, broken)
    (changed,) = comparison.changed
    broken_pattern = list(diff_cases.SHAPES).index(shape)
    assert changed.label == baseline.patterns[broken_pattern].label
    (change,) = changed.changes
    assert change.path == BROKEN_FIELD[mutation]
    if mutation != "missing_fusion":
        assert change.details, "a behaviour difference says how the results differ"
    assert comparison.counts()["changed"] == 1 and not comparison.equal


@pytest.mark.parametrize("shape", sorted(diff_cases.SHAPES))
def test_an_equivalent_fuser_object_is_no_difference(shape, baseline):
    assert compare(baseline, _describe(diff_cases.fusion_patterns(shape, "equivalent"))).equal


@pytest.mark.parametrize("shape, mutation", CASES)
def test_verify_and_diff_exit_1(shape, mutation, monkeypatch, capsys):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("DIFF_CASES_MUTATION", f"{shape}:{mutation}")
    assert main(["--verify", FUSIONS_SPEC]) == 1
    assert BROKEN_FIELD[mutation] in capsys.readouterr().out
    assert main(["diff", FUSIONS_SPEC, "diff_cases:fusion_config", "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    (changed,) = report["changed"]
    assert [change["path"] for change in changed["changes"]] == [BROKEN_FIELD[mutation]]
    assert not (report["added"] or report["removed"] or report["moved"] or report["shared_changes"])


def test_verify_and_diff_exit_0_without_a_mutation(monkeypatch, capsys):
    """The spec's own fuser and getters behave as torch's private onednn ones."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("DIFF_CASES_MUTATION", raising=False)
    assert main(["--verify", FUSIONS_SPEC]) == 0
    monkeypatch.setenv("DIFF_CASES_MUTATION", "nested:equivalent")
    assert main(["--verify", FUSIONS_SPEC]) == 0
    assert main(["diff", FUSIONS_SPEC, "diff_cases:fusion_baseline"]) == 0
    assert "every field equal" in capsys.readouterr().out


def test_torchs_whole_onednn_config_equals_a_fresh_copy_of_itself():
    """Every onednn pattern, including fusers that raise (torch's own (Linear,
    F.leaky_relu) fuser is given the function, not a module): raising the same
    exception type and message is the same behaviour."""
    from torch.ao.quantization.backend_config.onednn import get_onednn_backend_config

    first, second = get_onednn_backend_config(), get_onednn_backend_config()
    old = describe_backend_config(first, "first", "function")
    new = describe_backend_config(second, "second", "function")
    assert compare(old, new).equal
    behaviours = [v for pattern in old.patterns for _, v in pattern.fields if isinstance(v, Behaviour)]
    assert all(behaviour.outcomes for behaviour in behaviours)
    raised = [b for b in behaviours if any(o.result.startswith("raises ") for o in b.outcomes)]
    returned = [b for b in behaviours if any(o.result.startswith("returns torch.") for o in b.outcomes)]
    assert raised and returned


# Breaks planted in the onednn spec's own declarations ([fusers], node_at, nodes_at,
# sequential), one at a time: (name, text in spec/op_groups/onednn.toml, replacement,
# a pattern the report must name, the field it must name). Each shape occurs:
# nested complex format (conv + bn + add), 3-tuple (linear, bn, leaky relu), 2-tuple.
_FOLD = 'fold_batch_norm = { into = "conv", batch_norm = "bn", using = "torch.nn.utils.fusion.fuse_conv_bn_eval" }\n'
_NESTED = "[torch.add, [torch.nn.BatchNorm2d, torch.nn.Conv2d], torch.ao.quantization.utils.MatchAllNode] (complex format)"
_NESTED_NO_BN = "[torch.add, torch.nn.Conv2d, torch.ao.quantization.utils.MatchAllNode] (complex format)"
_TRIPLE = "(torch.nn.Linear, torch.nn.BatchNorm1d, torch.nn.LeakyReLU)"
SPEC_MUTATIONS = [
    ("nested fuser forgets the batch norm", _FOLD, "", _NESTED, "fuser_method"),
    ("nested getter at the wrong position", "root_node_getter = { node_at = [1, 1] }", "root_node_getter = { node_at = [1, 0] }", _NESTED, "root_node_getter"),
    ("nested extra inputs at the wrong position", "extra_inputs_getter = { nodes_at = [[2]] }", "extra_inputs_getter = { nodes_at = [[0]] }", _NESTED, "extra_inputs_getter"),
    ("nested fuser returns the wrong fused module", 'fused_module = "torch.ao.nn.intrinsic.ConvAdd2d"\nfused_arguments', 'fused_module = "torch.ao.nn.intrinsic.ConvAddReLU2d"\nfused_arguments', _NESTED_NO_BN, "fuser_method"),
    ("nested fusion missing", 'fuser_method = { fuser = "fuse_conv_bn_add_left" }\n', "", _NESTED, "fuser_method"),
    ("triple fuser forgets the batch norm", 'fold_batch_norm = { into = "linear", batch_norm = "bn", using = "torch.nn.utils.fusion.fuse_linear_bn_eval" }\n', "", _TRIPLE, "fuser_method"),
    ("triple fuser loses its training-mode check", 'same_training_mode = "Linear, BN and LeakyReLU all must be in the same mode (train or eval)."\n', "", _TRIPLE, "fuser_method"),
    ("triple fuser accepts QAT", "supports_qat = false\nerror_modules = [\"linear\"", "error_modules = [\"linear\"", _TRIPLE, "fuser_method"),
    ("triple fusion missing", 'fuser_method = { fuser = "fuse_linear_bn_leaky_relu" }\n', "", _TRIPLE, "fuser_method"),
    ("pair fuses into the wrong module", 'fuser_method = { sequential = "{fused}" }\nfused_module = "{fused}"\n\n[[op_groups.linear_eltwise.sections.patterns]]\npattern = ["torch.nn.Linear", "{post_op}"]', 'fuser_method = { sequential = "torch.ao.nn.intrinsic.LinearReLU" }\nfused_module = "{fused}"\n\n[[op_groups.linear_eltwise.sections.patterns]]\npattern = ["torch.nn.Linear", "{post_op}"]', "(torch.nn.Linear, torch.nn.LeakyReLU)", "fuser_method"),
]


@pytest.mark.parametrize("name, text, replacement, pattern, field", SPEC_MUTATIONS, ids=[m[0] for m in SPEC_MUTATIONS])
def test_verify_catches_a_break_in_the_specs_own_fusers_and_getters(name, text, replacement, pattern, field, tmp_path, monkeypatch, capsys):
    import shutil

    shutil.copytree(REPO / "spec", tmp_path / "spec")
    (tmp_path / "pyproject.toml").write_text("")
    catalog = tmp_path / "spec" / "op_groups" / "onednn.toml"
    source = catalog.read_text()
    assert source.count(text) >= 1, name
    catalog.write_text(source.replace(text, replacement, 1))
    monkeypatch.chdir(tmp_path)
    assert main(["--verify", "spec/onednn.toml"]) == 1
    out = capsys.readouterr().out
    changed = out.split("changed patterns", 1)[1]
    block = changed.split(f"* {pattern}\n", 1)[1].split("\n  * ", 1)[0]
    assert block.lstrip().startswith(f"{field}:"), out
