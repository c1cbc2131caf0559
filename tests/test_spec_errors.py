"""Every bad spec exits 2 with one clear line per problem, no traceback, and
leaves every existing file exactly as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import replace_in, run_generator, snapshot
from generator.output import write_output

SPEC = "spec/fbgemm.toml"
COMMON = "spec/op_groups/common.toml"
REDUCED = "spec/fbgemm_reduce_range.toml"  # extends fbgemm.toml


def write(relative: str, content: bytes):
    def mutate(root: Path) -> None:
        (root / relative).write_bytes(content)

    return mutate


# (id, mutation, spec argument, expected message lines: each must appear in stderr)
CASES = [
    ("toml_syntax", replace_in(SPEC, '[backend]\n', '[backend\n'), SPEC,
     ["error: spec/fbgemm.toml:9: TOML syntax error: Expected ']' at the end of a table declaration"]),
    ("toml_syntax_in_include", replace_in(COMMON, "[constraints.fixed_qparams_0to1]", "[constraints.fixed_qparams_0to1"),
     SPEC, ["error: spec/op_groups/common.toml:36: TOML syntax error: "]),
    ("wrong_type", replace_in(SPEC, "is_dynamic = true", 'is_dynamic = "yes"'), SPEC,
     ["spec/fbgemm.toml: dtype_configs.fbgemm_default_dynamic_int8_dtype_config.is_dynamic: "
      "expected a boolean, got string 'yes'"]),
    ("wrong_type_in_pattern", replace_in(COMMON, "input_type_to_index = { weight = 1, bias = 2 }",
                                         'input_type_to_index = { weight = "1", bias = 2 }'), SPEC,
     ["spec/op_groups/common.toml: op_groups.conv.sections[0].patterns[2].input_type_to_index.weight: "
      "expected an argument index (integer from 0 to 1000), got string '1'"]),
    ("missing_key", replace_in(SPEC, 'getter = "get_fbgemm_backend_config"', ""), SPEC,
     ["spec/fbgemm.toml: backend.getter: missing required key; expected the name of the function"]),
    ("missing_backend", replace_in(SPEC, "[backend]\n", "[backend_]\n"), SPEC,
     ["spec/fbgemm.toml: backend_: unknown key; did you mean 'backend'?",
      # [[backend.op_groups]] still makes a [backend] table, without its other keys
      "spec/fbgemm.toml: backend.name: missing required key; expected a name (string)"]),
    ("no_backend_table", write(SPEC, b'[dtype_configs.a]\ninput_dtype = "quint8"\n'), SPEC,
     ["spec/fbgemm.toml: backend: missing required table [backend]"]),
    ("unknown_key_typo", replace_in(SPEC, 'weight_dtype = "qint8"', 'weigth_dtype = "qint8"'), SPEC,
     ["spec/fbgemm.toml: dtype_configs.fbgemm_weighted_op_quint8_dtype_config.weigth_dtype: "
      "unknown key; did you mean 'weight_dtype'?"]),
    ("unknown_pattern_key", replace_in(COMMON, "root_module = \"{conv}\"", "root_modul = \"{conv}\""), SPEC,
     ["spec/op_groups/common.toml: op_groups.conv.sections[0].patterns[0].root_modul: "
      "unknown key; did you mean 'root_module'?"]),
    ("unknown_dtype", replace_in(SPEC, 'weight_dtype = "quint4x2"', 'weight_dtype = "quint4x3"'), SPEC,
     ["spec/fbgemm.toml: dtype_configs.fbgemm_weight_only_quint4x2_dtype_config.weight_dtype: "
      "unknown dtype or constraints 'quint4x3'; did you mean 'quint4x2'?"]),
    ("unknown_op_group", replace_in(SPEC, 'name = "cat"', 'name = "kat"'), SPEC,
     ["spec/fbgemm.toml: backend.op_groups[3].name: unknown op group 'kat'; did you mean 'cat'?"]),
    ("undefined_dtype_config", replace_in(SPEC, 'name = "cat"\ndtype_configs = ["fbgemm_default_op_quint8_dtype_config"]',
                                          'name = "cat"\ndtype_configs = ["fbgemm_default_op_quint9_dtype_config"]'), SPEC,
     ["spec/fbgemm.toml: backend.op_groups[3].dtype_configs[0]: undefined dtype config "
      "'fbgemm_default_op_quint9_dtype_config'; did you mean 'fbgemm_default_op_quint8_dtype_config'?"]),
    ("unknown_constraints", replace_in(COMMON, 'range = "fixed_qparams_neg1to1" },\n  { op = "torch.tanh"',
                                       'range = "fixed_qparams_neg2to2" },\n  { op = "torch.tanh"'), SPEC,
     ["spec/op_groups/common.toml: op_groups.fixed_qparams_op.sections[0].for_each[9].range: "
      "unknown constraints 'fixed_qparams_neg2to2'"]),
    ("unknown_observation_type", replace_in(COMMON, 'observation_type = "INPUT_OUTPUT_NOT_OBSERVED"',
                                            'observation_type = "INPUT_OUTPUT_NOT_OBSERVD"'), SPEC,
     ["op_groups.tensor_info_op.sections[0].patterns[0].observation_type: unknown observation type "
      "'INPUT_OUTPUT_NOT_OBSERVD'; did you mean 'INPUT_OUTPUT_NOT_OBSERVED'?"]),
    ("duplicate_op_group", replace_in(SPEC, "[[backend.op_groups]]\nname = \"conv\"",
                                      "[op_groups.cat]\nsections = [{ patterns = [{ pattern = \"torch.cat\" }] }]\n\n"
                                      "[[backend.op_groups]]\nname = \"conv\""), SPEC,
     ["spec/op_groups/common.toml: op_groups.cat: duplicate op group 'cat'; already defined in spec/fbgemm.toml"]),
    ("duplicate_dtype_config_reference", replace_in(SPEC, 'dtype_configs = ["fbgemm_weighted_op_quint8_dtype_config"]',
                                                    'dtype_configs = ["fbgemm_weighted_op_quint8_dtype_config", '
                                                    '"fbgemm_weighted_op_quint8_dtype_config"]'), SPEC,
     ["spec/fbgemm.toml: backend.op_groups[0].dtype_configs[1]: "
      "'fbgemm_weighted_op_quint8_dtype_config' is listed twice"]),
    ("bad_dotted_path", replace_in(COMMON, 'pattern = "torch.matmul"', 'pattern = "torch..matmul"'), SPEC,
     ["spec/op_groups/common.toml: op_groups.binary_op.sections[1].patterns[0].pattern: 'torch..matmul' "
      "is not a dotted Python name"]),
    ("dotted_path_in_row", replace_in(COMMON, '{ op = "torch.nn.ELU" }', '{ op = "torch.nn.ELU()" }'), SPEC,
     ["spec/op_groups/common.toml: op_groups.default_op.sections[0].for_each[0].op: 'torch.nn.ELU()' "
      "is not a dotted Python name"]),
    ("root_not_allowed", replace_in(COMMON, 'pattern = "torch.matmul"', 'pattern = "os.system"'), SPEC,
     ["'os.system' starts from 'os'; expected a symbol under torch, operator (list other roots in allowed_roots)"]),
    ("private_torch_path", replace_in(COMMON, '{ op = "torch.nn.functional.avg_pool2d" }', '{ op = "torch._C._nn.avg_pool2d" }'),
     SPEC, ["'torch._C._nn.avg_pool2d' is private to torch; expected the object's public path"]),
    ("unknown_variable", replace_in(COMMON, 'root_module = "{conv}"', 'root_module = "{convv}"'), SPEC,
     ["op_groups.conv.sections[0].patterns[0].root_module: op_groups.conv.sections[0].for_each[0] does not define 'convv'"]),
    ("unused_variable", replace_in(COMMON, '{ bn_relu = "torch.ao.nn.intrinsic.BNReLU2d" },\n  { bn_relu = "torch.ao.nn.intrinsic.BNReLU3d" },',
                                   '{ bn_relu = "torch.ao.nn.intrinsic.BNReLU2d", extra = "x" },\n  { bn_relu = "torch.ao.nn.intrinsic.BNReLU3d", extra = "y" },'),
     SPEC, ["op_groups.bn.sections[1].for_each: variable 'extra' is not used by any pattern entry"]),
    ("bad_constant_name", replace_in(SPEC, "[dtype_configs.fbgemm_default_op_fp16_dtype_config]", '[dtype_configs."fp16 config"]'),
     SPEC, ["spec/fbgemm.toml: dtype_configs.'fp16 config': 'fp16 config' is not a Python identifier"]),
    ("reserved_constant_name", replace_in(SPEC, "[dtype_configs.fbgemm_default_op_fp16_dtype_config]", "[dtype_configs.torch]"),
     SPEC, ["spec/fbgemm.toml: dtype_configs.torch: name 'torch' of dtype config 'torch' is taken by an import (import torch)"]),
    ("getter_clashes_with_dtype_config", replace_in(SPEC, 'getter = "get_fbgemm_backend_config"',
                                                    'getter = "fbgemm_default_op_fp16_dtype_config"'), SPEC,
     ["spec/fbgemm.toml: backend.getter: dtype config 'fbgemm_default_op_fp16_dtype_config' and the getter are both "
      "named 'fbgemm_default_op_fp16_dtype_config'; expected a name of its own"]),
    ("derived_name_taken", replace_in(SPEC, "[dtype_configs.fbgemm_default_op_fp16_dtype_config]",
                                      "[dtype_configs.fbgemm_default_op_quint8_dtype_config_with_fixed_qparams_0to1]"), SPEC,
     ["spec/fbgemm.toml: backend.op_groups[5].dtype_configs: the name "
      "'fbgemm_default_op_quint8_dtype_config_with_fixed_qparams_0to1', of 'fbgemm_default_op_quint8_dtype_config' "
      "with activation constraints 'fixed_qparams_0to1', is already taken"]),
    ("include_twice", replace_in(SPEC, 'include = ["op_groups/common.toml", "qconfigs/common.toml"]',
                                 'include = ["op_groups/common.toml", "./op_groups/common.toml", "qconfigs/common.toml"]'), SPEC,
     ["error: spec/fbgemm.toml: include[1]: './op_groups/common.toml' is included twice"]),
    ("missing_include", replace_in(SPEC, '"op_groups/common.toml"', '"op_groups/missing.toml"'), SPEC,
     ["error: spec/op_groups/missing.toml: file not found; expected a TOML spec"]),
    ("empty_file", write(SPEC, b""), SPEC, ["error: spec/fbgemm.toml: file is empty; expected a TOML spec"]),
    ("binary_file", write(SPEC, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), SPEC,
     ["error: spec/fbgemm.toml: file is binary (holds NUL bytes); expected a UTF-8 TOML spec"]),
    ("not_utf8", write(SPEC, b'[backend]\nname = "\xff"\n'), SPEC,
     ["error: spec/fbgemm.toml: file is not UTF-8 text (byte 18); expected a UTF-8 TOML spec"]),
    ("huge_file", write(SPEC, b"# padding\n" * 200_000), SPEC,
     ["error: spec/fbgemm.toml: file is over 1000000 bytes; a spec may be at most 1000000 bytes"]),
    ("missing_file", lambda root: None, "spec/nothere.toml", ["error: spec/nothere.toml: file not found; expected a TOML spec"]),
    # A directory is a SPEC (its backend specs); one that holds none is an error.
    ("directory_without_a_spec", lambda root: None, "spec/op_groups",
     ["error: spec/op_groups: holds no backend spec (a *.toml file with a [backend] table)"]),
    # extends: what is extended must be a backend spec, found, and not extend back.
    ("extends_a_catalog", replace_in(REDUCED, 'extends = "fbgemm.toml"', 'extends = "op_groups/common.toml"'), REDUCED,
     ["error: spec/fbgemm_reduce_range.toml: extends: 'op_groups/common.toml' has no [backend] table; expected a backend "
      "spec to extend (a file of op groups or dtype configs is named in include)"]),
    ("extends_a_misspelled_builtin", replace_in(REDUCED, 'extends = "fbgemm.toml"', 'extends = "builtin:fbgem.toml"'), REDUCED,
     ["error: builtin:fbgem.toml: no such builtin spec; did you mean 'builtin:fbgemm.toml'? expected one of: "]),
    ("extends_in_a_cycle", replace_in(SPEC, "include = [", 'extends = "fbgemm_reduce_range.toml"\ninclude = ['), REDUCED,
     ["error: spec/fbgemm.toml: extends: 'fbgemm_reduce_range.toml' extends this spec again (a cycle)"]),
    # pattern-level edits name patterns that must be there
    ("remove_a_pattern_the_base_lacks", replace_in(REDUCED, 'output = "../generated/fbgemm_reduce_range.py"',
                                                   'output = "../generated/fbgemm_reduce_range.py"\nremove_patterns = ["torch.narow"]'), REDUCED,
     ["error: spec/fbgemm_reduce_range.toml: backend.remove_patterns[0]: spec/fbgemm.toml (the spec this one extends) has no "
      "pattern torch.narow; did you mean 'torch.narrow'? expected one of: torch.nn.Conv1d, "]),
    ("exclude_a_pattern_the_group_lacks", replace_in(SPEC, 'name = "cat"\n', 'name = "cat"\nexclude_patterns = ["torch.catt"]\n'), SPEC,
     ["error: spec/fbgemm.toml: backend.op_groups[3].exclude_patterns[0]: this use of op group 'cat' has no pattern torch.catt; "
      "did you mean 'torch.cat'? expected one of: torch.cat"]),
    ("extends_a_spec_that_sets_no_torch_version", replace_in(SPEC, 'torch_version = "2.13.0"', "#"), REDUCED,
     ["error: spec/fbgemm_reduce_range.toml: backend.torch_version: missing required key; neither this spec nor the "
      "spec it extends sets it"]),
]


@pytest.mark.parametrize("mutate, spec, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_spec_exits_2_with_a_clear_message_and_loses_nothing(mutate, spec, expected, workspace):
    mutate(workspace)
    before = snapshot(workspace)
    result = run_generator(spec, cwd=workspace)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    for line in expected:
        assert line in result.stderr, result.stderr
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    assert snapshot(workspace) == before


@pytest.mark.parametrize("mode", ["--check", "--diff", "--stdout", "--verify"])
def test_bad_spec_exits_2_in_every_mode(mode, workspace):
    replace_in(SPEC, "is_dynamic = true", 'is_dynamic = "yes"')(workspace)
    result = run_generator(mode, SPEC, cwd=workspace)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "is_dynamic" in result.stderr


def test_all_problems_of_a_spec_are_reported_together(workspace):
    replace_in(SPEC, 'weight_dtype = "qint8"', 'weigth_dtype = "qint8"')(workspace)
    replace_in(SPEC, 'name = "cat"', 'name = "kat"')(workspace)
    replace_in(COMMON, 'pattern = "torch.matmul"', 'pattern = "torch..matmul"')(workspace)
    result = run_generator(SPEC, cwd=workspace)
    assert result.returncode == 2
    for key in ("weigth_dtype", "backend.op_groups[3].name", "op_groups.binary_op.sections[1].patterns[0].pattern"):
        assert key in result.stderr


def test_one_bad_spec_among_several_writes_nothing(workspace):
    good = workspace / "spec" / "other.toml"
    good.write_text((workspace / SPEC).read_text().replace("../generated/fbgemm.py", "../generated/other.py"))
    replace_in(SPEC, "is_dynamic = true", 'is_dynamic = "yes"')(workspace)
    result = run_generator("spec/other.toml", SPEC, cwd=workspace)
    assert result.returncode == 2
    assert not (workspace / "generated" / "other.py").exists()


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "fbgemm.py"
    target.write_text("old\n")
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_output(target, "new\n", force=True)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["fbgemm.py"]


def test_write_keeps_the_mode_of_an_existing_file(tmp_path):
    target = tmp_path / "fbgemm.py"
    target.write_text("old\n")
    target.chmod(0o640)
    assert write_output(target, "new\n", force=True)
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o640
