"""Pattern-level edits (docs/spec-edits.md): an op group use keeps (``patterns``) or
leaves out (``exclude_patterns``) patterns of its group; a spec that extends another
removes patterns (``remove_patterns``) and overrides their fields
(``[[backend.override_patterns]]``). Each edit names patterns as the spec writes them,
and naming one that is not there is an error with did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import REPO

from generator.errors import SpecError
from generator.loader import load_backend
from generator.model import MethodName, NodeAt, Symbol

FBGEMM = (REPO / "spec" / "fbgemm.toml").as_posix()
ONEDNN = (REPO / "spec" / "onednn.toml").as_posix()


def load(tmp_path: Path, text: str, extends: str | None = FBGEMM):
    spec = tmp_path / "edited.toml"
    head = f'extends = "{extends}"\n' if extends else 'include = ["builtin:op_groups/common.toml"]\n'
    spec.write_text(head + text)
    return load_backend(spec)


def problems(tmp_path: Path, text: str, extends: str | None = FBGEMM) -> list[str]:
    with pytest.raises(SpecError) as error:
        load(tmp_path, text, extends)
    return [f"{problem.key}: {problem.message}" for problem in error.value.problems]


def labels(backend) -> list[str]:
    return [config.pattern_text for config in backend.pattern_configs]


def test_removed_patterns_are_gone_with_every_registration_and_the_rest_keeps_its_order(tmp_path):
    base = load_backend(FBGEMM)
    edited = load(tmp_path, """
[backend]
output = "edited.py"
remove_patterns = ["torch.narrow", "torch.ao.nn.intrinsic.ConvReLU2d", ["torch.nn.Conv2d", "torch.nn.ReLU"], {method = "reshape"}]
""")
    gone = {"torch.narrow", "torch.ao.nn.intrinsic.ConvReLU2d", "(torch.nn.Conv2d, torch.nn.ReLU)", "'reshape'"}
    assert labels(edited) == [label for label in labels(base) if label not in gone]
    assert len(labels(edited)) == 192 - 4  # ConvReLU2d, registered twice, is gone twice


def test_an_override_keeps_the_place_and_sets_only_what_it_names(tmp_path):
    base = load_backend(FBGEMM)
    edited = load(tmp_path, """
[backend]
output = "edited.py"

[[backend.override_patterns]]
pattern = "torch.nn.Linear"
qat_module = "torch.ao.nn.qat.Conv2d"
unset = ["reference_quantized_module"]

[[backend.override_patterns]]
pattern = "torch.cat"
observation_type = "OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT"
dtype_configs = ["fbgemm_weighted_op_quint8_dtype_config", "fbgemm_default_op_fp16_dtype_config"]

[[backend.override_patterns]]
pattern = "torch.tanh"
dtype_configs = ["fbgemm_default_op_fp16_dtype_config", "fbgemm_default_op_quint8_dtype_config"]
activation_constraints = "fixed_qparams_0to1"
""")
    assert labels(edited) == labels(base)
    by_label = dict(zip(labels(edited), edited.pattern_configs))
    before = dict(zip(labels(base), base.pattern_configs))
    linear = by_label["torch.nn.Linear"]
    assert linear.qat_module == Symbol("torch.ao.nn.qat.Conv2d") and linear.reference_quantized_module is None
    assert (linear.root_module, linear.dtype_configs) == (before["torch.nn.Linear"].root_module, before["torch.nn.Linear"].dtype_configs)
    cat = by_label["torch.cat"]
    assert cat.observation_type == "OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT"
    assert [c.name for c in cat.dtype_configs] == ["fbgemm_weighted_op_quint8_dtype_config", "fbgemm_default_op_fp16_dtype_config"]
    # The constraints apply where the dtype matches (quint8), as a fixed-qparams group applies them.
    assert [c.name for c in by_label["torch.tanh"].dtype_configs] == [
        "fbgemm_default_op_fp16_dtype_config", "fbgemm_default_op_quint8_dtype_config_with_fixed_qparams_0to1",
    ]
    assert by_label["torch.tanh"].dtype_configs[1].output.scale_exact_match == 0.00390625


def test_a_complex_format_pattern_is_named_by_its_nested_form(tmp_path):
    edited = load(tmp_path, """
[backend]
output = "edited.py"
remove_patterns = [{pattern_complex_format = ["operator.add", "torch.nn.Conv2d", "torch.ao.quantization.utils.MatchAllNode"]}]

[[backend.override_patterns]]
pattern_complex_format = ["torch.nn.ReLU", ["operator.add", "torch.nn.Conv2d", "torch.ao.quantization.utils.MatchAllNode"]]
root_node_getter = {node_at = [1, 1]}
""", extends=ONEDNN)
    complex_patterns = [c for c in edited.pattern_configs if c.pattern_complex_format is not None]
    assert len(complex_patterns) == 16 - 1
    add_conv = (Symbol("operator.add"), Symbol("torch.nn.Conv2d"), Symbol("torch.ao.quantization.utils.MatchAllNode"))
    assert add_conv not in [c.pattern_complex_format for c in complex_patterns]
    (relu_add,) = [c for c in complex_patterns if c.pattern_complex_format == (Symbol("torch.nn.ReLU"), add_conv)]
    assert relu_add.root_node_getter == NodeAt((1, 1))


def test_a_use_keeps_or_leaves_out_patterns_of_its_group(tmp_path):
    edited = load(tmp_path, """
[backend]
name = "uses"
getter = "get_uses"
output = "edited.py"
torch_version = "2.13.0"

[dtype_configs.default]
input_dtype = "quint8"
output_dtype = "quint8"

[[backend.op_groups]]
name = "conv"
exclude_patterns = ["torch.nn.functional.conv_transpose1d", "torch.nn.functional.conv_transpose2d", "torch.nn.functional.conv_transpose3d"]
dtype_configs = ["default"]

[[backend.op_groups]]
name = "share_qparams_op"
patterns = [{method = "view"}, "torch.nn.ReLU", "torch.narrow"]
dtype_configs = ["default"]
""", extends=None)
    found = labels(edited)
    assert len(found) == 57 - 3 + 3
    assert not any("conv_transpose" in label and "functional" in label for label in found)
    # Kept in the group's order, not the list's.
    assert found[-3:] == ["torch.nn.ReLU", "torch.narrow", "'view'"]
    assert edited.pattern_configs[-1].pattern == MethodName("view")


def test_every_edit_naming_something_that_is_not_there_is_an_error_with_did_you_mean(tmp_path):
    found = problems(tmp_path, """
[backend]
output = "edited.py"
remove_patterns = ["torch.narow", ["torch.nn.Conv2d", "torch.nn.Relu"], "torch.cat", "torch.cat"]

[[backend.override_patterns]]
pattern = "torch.nn.Linearr"
qat_module = "torch.ao.nn.qat.Linear"

[[backend.override_patterns]]
pattern = "torch.cat"
observation_type = "INPUT_OUTPUT_NOT_OBSERVED"

[[backend.override_patterns]]
pattern = "torch.nn.Linear"
qat_modul = "torch.ao.nn.qat.Linear"
qat_module = "torch.ao.nn.qat.Linear"
unset = ["qat_module", "pattern"]
dtype_configs = ["fbgemm_weighted_op_quint8_dtype_confi"]

[[backend.override_patterns]]
pattern = "torch.nn.LSTM"

[[backend.op_groups]]
name = "layer_norm"
exclude_patterns = ["torch.nn.functional.layernorm"]
dtype_configs = ["fbgemm_default_op_quint8_dtype_config"]

[[backend.op_groups]]
name = "layer_norm"
patterns = ["torch.nn.LayerNorm"]
exclude_patterns = ["torch.nn.functional.layer_norm"]
dtype_configs = ["fbgemm_default_op_quint8_dtype_config"]
""")
    base = "spec/fbgemm.toml (the spec this one extends) has no pattern"
    expected = [
        "backend.remove_patterns[3]: names the same pattern as backend.remove_patterns[2]",
        f"backend.remove_patterns[0]: {base} torch.narow; did you mean 'torch.narrow'?",
        f'backend.remove_patterns[1]: {base} ["torch.nn.Conv2d", "torch.nn.Relu"]; did you mean \'["torch.nn.Conv2d", "torch.nn.ReLU"]\'?',
        f"backend.override_patterns[0].pattern: {base} torch.nn.Linearr; did you mean 'torch.nn.Linear'?",
        "backend.override_patterns[1].pattern: torch.cat is also removed (backend.remove_patterns[2]); expected a pattern this spec keeps",
        "backend.override_patterns[2].qat_modul: unknown key; did you mean 'qat_module'?",
        "backend.override_patterns[2].unset[1]: cannot unset 'pattern'; expected one of: root_module,",
        "backend.override_patterns[2].unset[0]: 'qat_module' is also set by this override; expected one or the other",
        ("backend.override_patterns[2].dtype_configs[0]: undefined dtype config 'fbgemm_weighted_op_quint8_dtype_confi'; "
         "did you mean 'fbgemm_weighted_op_quint8_dtype_config'?"),
        "backend.override_patterns[3]: overrides nothing; expected dtype_configs, unset or a field of a pattern entry",
        ("backend.op_groups[0].exclude_patterns[0]: this use of op group 'layer_norm' has no pattern "
         "torch.nn.functional.layernorm; did you mean 'torch.nn.functional.layer_norm'?"),
        ("backend.op_groups[1].exclude_patterns: expected one of 'patterns' (the patterns to keep) and 'exclude_patterns' "
         "(those to leave out), not both"),
    ]
    for line in expected:
        assert any(problem.startswith(line) for problem in found), (line, found)
    assert len(found) == len(expected), found


def test_edits_of_what_is_inherited_need_extends_and_a_use_must_keep_a_pattern(tmp_path):
    found = problems(tmp_path, """
[backend]
name = "uses"
getter = "get_uses"
output = "edited.py"
torch_version = "2.13.0"
remove_patterns = ["torch.cat"]

[dtype_configs.default]
input_dtype = "quint8"
output_dtype = "quint8"

[[backend.op_groups]]
name = "cat"
exclude_patterns = ["torch.cat"]
dtype_configs = ["default"]
""", extends=None)
    assert found == [
        'backend.remove_patterns: only a spec that extends another can edit what it inherits; expected extends = "<the spec to start from>"',
        "backend.op_groups[0].exclude_patterns: leaves out every pattern of this use of op group 'cat'",
    ]
