"""The QConfigMapping spec format: specs that customize a builtin mapping generate
what torch's API builds by hand; bad mapping specs exit 2 with file, key and what
was expected; no spec value reaches the module as code."""

from __future__ import annotations

import ast
import json
import re
import textwrap
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from backends import import_path
from conftest import replace_in, run_generator, snapshot
from torch import nn
from torch.ao.quantization import QConfig, QConfigMapping, get_default_qconfig_mapping
from torch.ao.quantization.observer import (
    HistogramObserver,
    PlaceholderObserver,
    default_placeholder_observer,
    default_weight_observer,
)

from generator.compare.mapping_describe import describe_qconfig_mapping
from generator.compare.mapping_differ import diff_mappings
from generator.formatting import build_module
from generator.loader import load_backend


def generate(directory: Path, text: str, name: str = "custom"):
    """Write a spec, generate its module as the CLI would, import it: (module, source)."""
    (directory / "pyproject.toml").write_text("")
    spec = directory / f"{name}.toml"
    spec.write_text(textwrap.dedent(text))
    source = build_module(load_backend(spec), f"python -m generator {name}.toml")
    path = directory / f"{name}.py"
    path.write_text(source)
    return import_path(path, f"spec_test_{name}"), source


def differences(old, new) -> list[str]:
    return [str(change) for change in diff_mappings(describe_qconfig_mapping(old), describe_qconfig_mapping(new))]


CUSTOMIZED_X86 = """
    # x86's default mapping with Linear kept float, PReLU on the global qconfig, no
    # reshape or F.layer_norm entries, layer norm observed over the full range, and
    # module name entries of each kind.
    extends = "builtin:x86.toml"

    [backend]
    output = "custom.py"

    [qconfigs.x86_layer_norm_qconfig]
    activation = "full_range_histogram_observer"
    weight = "default_placeholder_observer"

    [qconfig_mappings.x86]
    remove_object_types = ["torch.nn.functional.layer_norm", { method = "reshape" }]
    object_types = [
      { object = "torch.nn.Linear", qconfig = "None" },
      { object = "torch.nn.PReLU", qconfig = "x86_qconfig" },
    ]
    module_name_regexes = [
      { regex = 'classifier\\..*', qconfig = "None" },
      { regex = 'features\\.[0-9]+', qconfig = "x86_layer_norm_qconfig" },
    ]
    module_names = [
      { module_name = "head", qconfig = { activation = "full_range_histogram_observer", weight = "default_weight_observer" } },
    ]
    module_name_object_type_orders = [
      { module_name = "blocks.0", object = "torch.nn.functional.linear", index = 1, qconfig = "None" },
    ]
"""


def test_a_customized_builtin_mapping_is_what_torchs_api_builds(tmp_path):
    module, _ = generate(tmp_path, CUSTOMIZED_X86)
    full_range = HistogramObserver.with_args(reduce_range=False)
    expected = get_default_qconfig_mapping("x86")
    del expected.object_type_qconfigs[F.layer_norm]
    del expected.object_type_qconfigs["reshape"]
    expected.set_object_type(nn.Linear, None)
    expected.set_object_type(nn.PReLU, expected.global_qconfig)
    expected.set_object_type(nn.LayerNorm, QConfig(activation=full_range, weight=default_placeholder_observer))
    expected.set_module_name_regex(r"classifier\..*", None)
    expected.set_module_name_regex(r"features\.[0-9]+", QConfig(activation=full_range, weight=default_placeholder_observer))
    expected.set_module_name("head", QConfig(activation=full_range, weight=default_weight_observer))
    expected.set_module_name_object_type_order("blocks.0", F.linear, 1, None)
    assert differences(expected, module.get_x86_qconfig_mapping()) == []
    # The other mappings are inherited as they are; the backend config too.
    assert [name for name in module.__all__ if name.endswith("_qconfig_mapping")] == [
        "get_x86_qat_qconfig_mapping", "get_x86_qat_v0_qconfig_mapping", "get_x86_qconfig_mapping"]
    assert len(module.get_x86_backend_config().configs) == 192
    # It no longer claims to be torch's mapping.
    assert module.get_x86_qconfig_mapping.__doc__ == "Return the QConfigMapping 'x86', customized from builtin:x86.toml."
    assert module.get_x86_qat_qconfig_mapping.__doc__ == "Return the QConfigMapping 'x86_qat' of builtin:x86.toml."


def test_a_redefined_observer_changes_every_qconfig_that_uses_it(tmp_path):
    module, _ = generate(tmp_path, """
        extends = "builtin:x86.toml"
        [backend]
        output = "custom.py"
        [observers.reduce_range_histogram_observer]
        class = "torch.ao.quantization.observer.HistogramObserver"
        with_args = { reduce_range = true, bins = 1024 }
    """)
    found = differences(get_default_qconfig_mapping("x86"), module.get_x86_qconfig_mapping())
    users = ["global", *(f"object_types[{path}]" for path in (
        "torch.nn.ConvTranspose1d", "torch.nn.ConvTranspose2d", "torch.nn.ConvTranspose3d",
        "torch.nn.functional.conv_transpose1d", "torch.nn.functional.conv_transpose2d",
        "torch.nn.functional.conv_transpose3d", "torch.nn.functional.layer_norm", "torch.nn.LayerNorm"))]
    assert found == [f"{user}.activation.with_args.bins: (absent) -> 1024" for user in users]


def test_inline_constructors_names_with_args_and_typed_keywords(tmp_path):
    module, source = generate(tmp_path, """
        include = ["builtin:qconfigs/common.toml"]
        [backend]
        name = "mine"
        getter = "get_mine_backend_config"
        output = "custom.py"
        torch_version = "2.13.0"
        op_groups = []

        [observers.my_weight_observer]
        class = "default_weight_observer"
        with_args = { dtype = "quint8" }

        [qconfig_mappings.mine]
        global = { activation = "my_weight_observer", weight = { class = "torch.ao.quantization.observer.PlaceholderObserver", with_args = { dtype = "float16", compute_dtype = "float16", custom_op_name = "my \\"op\\"\\n" } } }
        object_types = [
          { object = "torch.nn.Conv2d", qconfig = { activation = "torch.ao.quantization.observer.HistogramObserver", weight = "default_per_channel_weight_observer" } },
          { object = { method = "relu" }, qconfig = "None" },
        ]
    """)
    expected = QConfigMapping().set_global(QConfig(
        activation=default_weight_observer.with_args(dtype=torch.quint8),
        weight=PlaceholderObserver.with_args(dtype=torch.float16, compute_dtype=torch.float16, custom_op_name='my "op"\n'),
    ))
    expected.set_object_type(nn.Conv2d, get_default_qconfig_mapping("x86").global_qconfig._replace(activation=HistogramObserver))
    expected.set_object_type("relu", None)
    assert differences(expected, module.get_mine_qconfig_mapping()) == []
    assert "my_weight_observer = default_weight_observer.with_args(dtype=torch.quint8)" in source
    # A mapping whose getter runs: its constructors build observers.
    weight = module.get_mine_qconfig_mapping().global_qconfig.weight()
    assert (type(weight), weight.dtype) == (PlaceholderObserver, torch.float16)


def test_strings_of_a_spec_reach_the_module_only_as_literals(tmp_path):
    hostile = '"); import os; os.system("touch PWNED"); ("'
    module, source = generate(tmp_path, f"""
        include = ["builtin:qconfigs/common.toml"]
        [backend]
        name = "mine"
        getter = "get_mine_backend_config"
        output = "custom.py"
        torch_version = "2.13.0"
        op_groups = []
        [qconfig_mappings.mine]
        doc = {json.dumps(hostile)}
        module_name_regexes = [{{ regex = {json.dumps(re.escape(hostile))}, qconfig = "None" }}]
        module_names = [{{ module_name = {json.dumps(hostile + chr(10))}, qconfig = "None" }}]
        global = {{ activation = {{ class = "torch.ao.quantization.observer.PlaceholderObserver", with_args = {{ custom_op_name = {json.dumps(hostile)} }} }}, weight = "default_weight_observer" }}
    """)
    tree = ast.parse(source)
    strings = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    assert {hostile, hostile + "\n", re.escape(hostile)} <= strings
    assert not (tmp_path / "PWNED").exists()
    mapping = module.get_mine_qconfig_mapping()
    assert list(mapping.module_name_regex_qconfigs) == [re.escape(hostile)] and list(mapping.module_name_qconfigs) == [hostile + "\n"]
    assert module.get_mine_qconfig_mapping.__doc__ == hostile


# -- bad mapping specs ------------------------------------------------------------------

X86 = "spec/x86.toml"
QCONFIGS = "spec/qconfigs/common.toml"


def append(relative: str, text: str):
    def mutate(root: Path) -> None:
        with open(root / relative, "a", encoding="utf-8") as file:
            file.write(textwrap.dedent(text))

    return mutate


# (id, mutation, expected stderr lines after "error: ")
CASES = [
    ("unknown_qconfig", replace_in(X86, 'global = "x86_qconfig"', 'global = "x86_qconfg"'),
     ["spec/x86.toml: qconfig_mappings.x86.global: unknown qconfig 'x86_qconfg'; did you mean 'x86_qconfig'?"]),
    ("unknown_group", replace_in(X86, 'group = "default_object_types"', 'group = "default_objects_types"'),
     ["spec/x86.toml: qconfig_mappings.x86.object_types[0].group: unknown object type group 'default_objects_types'; "
      "did you mean 'default_object_types'?"]),
    ("unknown_placeholder", replace_in(X86, 'prelu = "default_quint8_weight_qconfig"', 'prelo = "default_quint8_weight_qconfig"'),
     ["spec/x86.toml: qconfig_mappings.x86.object_types[0].qconfigs.prelo: object type group 'default_object_types' has "
      "no placeholder 'prelo'; did you mean 'prelu'?",
      "spec/x86.toml: qconfig_mappings.x86.object_types[0].qconfigs: binds no qconfig to 'prelu'"]),
    ("unknown_qscheme", replace_in(QCONFIGS, 'qscheme = "per_tensor_symmetric" }', 'qscheme = "per_tensor_symetric" }'),
     ["spec/qconfigs/common.toml: observers.default_weight_observer.with_args.qscheme: unknown qscheme "
      "'per_tensor_symetric'; did you mean 'per_tensor_symmetric'?"]),
    ("unknown_dtype", replace_in(QCONFIGS, 'with_args = { dtype = "qint8", qscheme = "per_tensor_symmetric" }',
                                 'with_args = { dtype = "qint9", qscheme = "per_tensor_symmetric" }'),
     ["spec/qconfigs/common.toml: observers.default_weight_observer.with_args.dtype: unknown dtype 'qint9'; did you mean"]),
    ("array_keyword", replace_in(QCONFIGS, "with_args = { reduce_range = true }", "with_args = { reduce_range = [true] }"),
     ["spec/qconfigs/common.toml: observers.reduce_range_histogram_observer.with_args.reduce_range: expected a number, "
      "a boolean or a string, got array [True]"]),
    ("unknown_observer", replace_in(QCONFIGS, 'observer = "default_fixed_qparams_range_0to1_observer"',
                                    'observer = "default_fixed_qparams_range_01_observer"'),
     ["spec/qconfigs/common.toml: fake_quantizes.default_fixed_qparams_range_0to1_fake_quant.with_args.observer: unknown "
      "constructor 'default_fixed_qparams_range_01_observer'; did you mean 'default_fixed_qparams_range_0to1_observer'?"]),
    ("cycle", replace_in(QCONFIGS, 'class = "torch.ao.quantization.observer.PlaceholderObserver"', 'class = "default_placeholder_observer"'),
     ["spec/qconfigs/common.toml: observers.default_placeholder_observer: refers to itself: default_placeholder_observer "
      "-> default_placeholder_observer"]),
    ("missing_weight", replace_in(QCONFIGS, 'activation = "reduce_range_histogram_observer"\nweight = "default_per_channel_weight_observer"\n\n[qconfigs.fbgemm_conv',
                                  'activation = "reduce_range_histogram_observer"\n\n[qconfigs.fbgemm_conv'),
     ["spec/qconfigs/common.toml: qconfigs.fbgemm_qconfig.weight: missing required key"]),
    ("duplicate_in_includes", append("spec/op_groups/common.toml", '[qconfigs.x86_qconfig]\nactivation = "a"\nweight = "b"\n'),
     ["spec/qconfigs/common.toml: qconfigs.x86_qconfig: duplicate qconfig 'x86_qconfig'; already defined in "
      "spec/op_groups/common.toml"]),
    ("placeholder_outside_a_group", append(X86, '[qconfig_mappings.extra]\nobject_types = [{ object = "torch.nn.Linear", qconfig = "{linear}" }]\n'),
     ["spec/x86.toml: qconfig_mappings.extra.object_types[0].qconfig: placeholder '{linear}' is only for the entries of an "
      "[object_type_groups] table; expected a qconfig"]),
    ("remove_without_extends", append(X86, '[qconfig_mappings.extra]\nremove_object_types = ["torch.nn.Linear"]\n'),
     ["spec/x86.toml: qconfig_mappings.extra.remove_object_types: qconfig mapping 'extra' is not defined by a spec this one "
      "extends; only an inherited mapping can remove object types"]),
    ("set_twice", append(X86, '[qconfig_mappings.extra]\nobject_types = [{ object = "torch.nn.Linear", qconfig = "None" }, '
                              '{ object = "torch.nn.Linear", qconfig = "x86_qconfig" }]\n'),
     ["spec/x86.toml: qconfig_mappings.extra.object_types[1]: torch.nn.Linear is already set at "
      "qconfig_mappings.extra.object_types[0] of this mapping; expected each key once per table"]),
    ("method_set_twice", append(X86, '[qconfig_mappings.extra]\nobject_types = [{ object = { method = "reshape" }, qconfig = "None" }, '
                                     '{ object = { method = "reshape" }, qconfig = "x86_qconfig" }]\n'),
     ['spec/x86.toml: qconfig_mappings.extra.object_types[1]: {method = "reshape"} is already set at '
      "qconfig_mappings.extra.object_types[0] of this mapping; expected each key once per table"]),
    ("bad_regex", append(X86, "[qconfig_mappings.extra]\nmodule_name_regexes = [{ regex = 'features.(', qconfig = \"None\" }]\n"),
     ["spec/x86.toml: qconfig_mappings.extra.module_name_regexes[0].regex: 'features.(' is not a regular expression "
      "(missing ), unterminated subpattern at position 9)"]),
    ("negative_index", append(X86, '[qconfig_mappings.extra]\nmodule_name_object_type_orders = [{ module_name = "a", '
                                   'object = "torch.nn.functional.linear", index = -1, qconfig = "None" }]\n'),
     ["spec/x86.toml: qconfig_mappings.extra.module_name_object_type_orders[0].index: expected the index of the call among "
      "those of its object type in the module (an integer from 0), got integer -1"]),
    ("name_taken_by_an_import", append(X86, '[qconfigs.nn]\nactivation = "default_weight_observer"\nweight = "default_weight_observer"\n'
                                            '[qconfig_mappings.extra]\nglobal = "nn"\n'),
     ["spec/x86.toml: qconfigs.nn: name 'nn' of qconfig 'nn' is taken by an import (from torch import nn); expected another name"]),
    ("arguments_without_getter", replace_in(X86, 'torch_getter = "torch.ao.quantization.get_default_qconfig_mapping"\n', ""),
     ["spec/x86.toml: qconfig_mappings.x86.torch_arguments: needs torch_getter: the torch function these are the arguments of"]),
    ("getter_outside_the_roots", replace_in(X86, 'torch_getter = "torch.ao.quantization.get_default_qconfig_mapping"',
                                            'torch_getter = "tourch.ao.quantization.get_default_qconfig_mapping"'),
     ["spec/x86.toml: qconfig_mappings.x86.torch_getter: 'tourch.ao.quantization.get_default_qconfig_mapping' starts from "
      "'tourch'; expected a symbol under torch, operator (list other roots in allowed_roots)"]),
    ("unknown_mapping_key", replace_in(X86, 'global = "x86_qconfig"', 'globl = "x86_qconfig"'),
     ["spec/x86.toml: qconfig_mappings.x86.globl: unknown key; did you mean 'global'?"]),
    ("private_class", replace_in(QCONFIGS, 'class = "torch.ao.quantization.observer.PlaceholderObserver"',
                                 'class = "torch.ao.quantization.observer._PartialWrapper"'),
     ["spec/qconfigs/common.toml: observers.default_placeholder_observer.class: 'torch.ao.quantization.observer._PartialWrapper' "
      "is private to torch; expected the object's public path"]),
]


@pytest.mark.parametrize("mutate, expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_a_bad_mapping_spec_exits_2_naming_file_key_and_expectation(mutate, expected, workspace):
    mutate(workspace)
    before = snapshot(workspace)
    result = run_generator(X86, cwd=workspace)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    for line in expected:
        assert f"error: {line}" in result.stderr, result.stderr
    assert snapshot(workspace) == before


def test_every_problem_of_a_mapping_spec_is_reported_at_once(workspace):
    for mutate, _ in (case[1:] for case in CASES if case[0] in ("unknown_qconfig", "unknown_qscheme", "bad_regex", "cycle")):
        mutate(workspace)
    result = run_generator(X86, cwd=workspace)
    assert result.returncode == 2
    for key in ("qconfig_mappings.x86.global", "default_weight_observer.with_args.qscheme",
                "module_name_regexes[0].regex", "observers.default_placeholder_observer"):
        assert key in result.stderr, result.stderr
