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
