"""The JSON Schema of the spec format (spec/backendconfig-spec.schema.json), which
editors use to complete and check spec files.

The schema is a second description of what the loader accepts, so these tests hold
the two together: every shipped spec validates; the keys the schema allows at each
level are the loader's key tuples; each mistake below is refused by both the schema
and the loader, at the same key; and whatever the loader accepts, the schema accepts
(an editor never flags a spec the generator takes).
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import keyword
import re
import shutil
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from conftest import REPO
from generator.catalog import GROUP_KEYS, SECTION_KEYS
from generator.checks import key_path
from generator.dtypes import DTYPE_CONFIG_KEYS, INTEGER_RANGES
from generator.entries import _PLACEHOLDER, PATTERN_KEYS
from generator.errors import SpecError
from generator.expand import USE_KEYS
from generator.fusers import FUSER_KEYS, MAX_ARGUMENT_NESTING
from generator.loader import BACKEND_NAME, TORCH_VERSION, BACKEND_KEYS, BACKEND_REQUIRED, INCLUDE_KEYS, SPEC_KEYS, load_backend
from generator.model import BOUND_NAMES, DTYPE_NAMES, OBSERVATION_TYPES
from generator.names import FUSER_LOCALS
from generator.pattern_edits import OVERRIDE_KEYS
from generator.qconfig_catalog import CONSTRUCTOR_KEYS, OBJECT_TYPE_KEYS, QCONFIG_KEYS
from generator.qconfig_catalog import GROUP_KEYS as OBJECT_TYPE_GROUP_KEYS
from generator.qconfig_model import KEYWORD_KINDS, QSCHEME_NAMES
from generator.qconfig_reader import GROUP_USE_KEYS, MAPPING_KEYS, MODULE_NAME_KEYS, ORDER_KEYS, REGEX_KEYS
from test_spec_properties import mutated_specs
from tiny_spec import TINY_SPEC, write_spec

SPEC_DIR = REPO / "spec"
SCHEMA_PATH = SPEC_DIR / "backendconfig-spec.schema.json"
SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
DEFS = SCHEMA["$defs"]
REGISTRY = Resource.from_contents(SCHEMA) @ Registry()
BACKEND_SPECS = sorted(path.name for path in SPEC_DIR.glob("*.toml"))


@functools.cache
def validator(definition: str | None = None) -> Draft202012Validator:
    """The whole schema (what an editor applies), or one of its definitions."""
    schema = SCHEMA if definition is None else {"$ref": f"{SCHEMA['$id']}#/$defs/{definition}"}
    return Draft202012Validator(schema, registry=REGISTRY)


@functools.cache
def readers() -> dict[str, str]:
    """Each file under spec/ (relative path) -> the backend spec that reads it, as
    the loader finds them: a backend spec reads itself, an included file is read by
    a spec that includes it."""
    found = {name: name for name in BACKEND_SPECS}
    for name in BACKEND_SPECS:
        for file in load_backend(SPEC_DIR / name).files:
            relative = Path(file.identity).relative_to(SPEC_DIR.resolve()).as_posix()
            found.setdefault(relative, name)
    return found


def definition_of(relative: str) -> str:
    return "backend_spec" if relative in BACKEND_SPECS else "included_file"


def load(relative: str) -> dict[str, Any]:
    return tomllib.loads((SPEC_DIR / relative).read_text(encoding="utf-8"))


# -- the schema and the shipped specs -----------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"] and SCHEMA["title"] and SCHEMA["description"]


def test_every_spec_file_is_read_by_a_backend_spec():
    """So the next test covers every spec, each with the right definition."""
    on_disk = {path.relative_to(SPEC_DIR).as_posix() for path in SPEC_DIR.rglob("*.toml")}
    assert on_disk == set(readers())


@pytest.mark.parametrize("relative", sorted(path.relative_to(SPEC_DIR).as_posix() for path in SPEC_DIR.rglob("*.toml")))
def test_every_spec_validates(relative):
    data = load(relative)
    for definition in (None, definition_of(relative)):
        errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator(definition).iter_errors(data)]
        assert not errors, errors
    if definition_of(relative) == "backend_spec":
        assert not validator("included_file").is_valid(data), "a backend spec is not an included file"


def test_the_tiny_spec_with_every_feature_validates():
    assert not list(validator("backend_spec").iter_errors(TINY_SPEC))


CONDITIONS = ("if", "then", "else", "not")


def walk(schema: Any, path: str = "", skip: tuple[str, ...] = ()):
    """Every (path, subschema) of the schema, but those under the keywords ``skip``."""
    if isinstance(schema, dict):
        yield path, schema
        for key, value in schema.items():
            if key in skip or key in ("enum", "const", "required"):
                continue
            if key in ("properties", "$defs"):
                for name, item in value.items():
                    yield from walk(item, f"{path}/{key}/{name}", skip)
            elif isinstance(value, (dict, list)):
                yield from walk(value, f"{path}/{key}", skip)
    elif isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from walk(item, f"{path}/{index}", skip)


def test_every_definition_and_property_has_a_description():
    """Editors show them on hover. (Conditions only tighten what is described elsewhere.)"""
    missing = [path for path in DEFS if "description" not in DEFS[path]]
    for path, schema in walk(SCHEMA, skip=CONDITIONS):
        for name, item in schema.get("properties", {}).items():
            if "description" not in item:
                missing.append(f"{path}/properties/{name}")
    assert not missing


# Keywords of draft 2019-09 and later that draft-7 validators (taplo's) skip: the
# schema does without them, so editors check what the tests check.
NEWER_KEYWORDS = {
    "prefixItems", "dependentRequired", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems",
    "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", "$anchor", "minContains", "maxContains",
}


def test_the_schema_means_the_same_to_draft_7_validators():
    for path, schema in walk(SCHEMA):
        assert not NEWER_KEYWORDS & set(schema), path
        if "$ref" in schema and path:
            # Draft 7 ignores whatever stands beside a $ref; only a description may.
            assert set(schema) <= {"$ref", "description"}, path


def test_the_wheel_ships_the_schema_with_the_specs():
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert setuptools["package-dir"]["generator.specs"] == "spec"
    assert "generator.specs" in setuptools["packages"]
    assert "*.json" in setuptools["package-data"]["generator.specs"]
    assert SCHEMA_PATH.parent == SPEC_DIR


# -- the schema says what the loader says ---------------------------------------

# definition -> the keys the loader allows there
KEY_TUPLES = {
    "spec_file": SPEC_KEYS,
    "included_file": INCLUDE_KEYS,
    "backend": BACKEND_KEYS,
    "op_group_use": USE_KEYS,
    "dtype_config": DTYPE_CONFIG_KEYS,
    "dtype_with_constraints": ("dtype", *BOUND_NAMES),
    "fuser": FUSER_KEYS,
    "op_group": GROUP_KEYS,
    "section": SECTION_KEYS,
    "pattern_entry": PATTERN_KEYS,
    "pattern_override": OVERRIDE_KEYS,
    "constructor_table": CONSTRUCTOR_KEYS,
    "qconfig_table": QCONFIG_KEYS,
    "object_type_group": OBJECT_TYPE_GROUP_KEYS,
    "object_type_entry": OBJECT_TYPE_KEYS,
    "group_object_type_entry": OBJECT_TYPE_KEYS,
    "group_use": GROUP_USE_KEYS,
    "qconfig_mapping": MAPPING_KEYS,
    "module_name_regex_entry": REGEX_KEYS,
    "module_name_entry": MODULE_NAME_KEYS,
    "module_name_object_type_order_entry": ORDER_KEYS,
}


@pytest.mark.parametrize("definition", list(KEY_TUPLES))
def test_the_schema_allows_the_keys_the_loader_allows(definition):
    schema = DEFS[definition]
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(KEY_TUPLES[definition])


def test_backend_requires_what_the_loader_requires():
    (rule,) = [rule for rule in DEFS["spec_file"]["allOf"] if rule["if"] == {"required": ["extends"]}]
    assert rule["then"]["properties"]["backend"]["required"] == ["output"]
    assert rule["else"]["properties"]["backend"]["required"] == list(BACKEND_REQUIRED)


def test_the_names_are_the_loaders():
    assert DEFS["dtype_name"]["enum"] == list(DTYPE_NAMES)
    assert DEFS["observation_type"]["anyOf"][0]["enum"] == list(OBSERVATION_TYPES)
    assert DEFS["identifier"]["not"]["enum"] == keyword.kwlist
    assert DEFS["qscheme_name"]["enum"] == list(QSCHEME_NAMES)
    typed = DEFS["constructor_table"]["properties"]["with_args"]["properties"]
    kinds = {"dtype_name": "dtype", "qscheme_name": "qscheme", "constructor": "constructor"}
    assert {word: kinds[rule["$ref"].rpartition("/")[2]] for word, rule in typed.items()} == KEYWORD_KINDS
    # The names a fuser's body binds itself (the schema leaves builtins, which vary
    # with Python's release, and the module's names to the loader).
    assert DEFS["argument_name"]["not"]["enum"] == [*keyword.kwlist, *FUSER_LOCALS]
    assert DEFS["symbol"]["not"]["anyOf"][0]["pattern"] == r"(^|\.)(" + "|".join(keyword.kwlist) + r")(\.|$)"
    # A fuser's arguments nest as deep as the loader allows, and no deeper.
    assert {name for name in DEFS if name.startswith("fuser_arguments")} == {
        "fuser_arguments", *(f"fuser_arguments_{depth}" for depth in range(2, MAX_ARGUMENT_NESTING + 1))
    }


def test_the_grammars_are_the_loaders():
    def schema_form(pattern: re.Pattern) -> str:
        return "^" + pattern.pattern.removesuffix(r"\Z") + "$"

    assert DEFS["backend"]["properties"]["name"]["pattern"] == schema_form(BACKEND_NAME)
    assert DEFS["backend"]["properties"]["torch_version"]["pattern"] == schema_form(TORCH_VERSION)
    assert DEFS["placeholder"]["pattern"] == schema_form(_PLACEHOLDER).replace("(", "").replace(")", "")


def test_quantized_ranges_are_the_loaders():
    rules = DEFS["dtype_with_constraints"]["allOf"]
    ranges = {}
    for rule in rules[1:]:
        dtype = rule["if"]["properties"]["dtype"]["const"]
        limits = {(bounds["minimum"], bounds["maximum"]) for bounds in rule["then"]["properties"].values()}
        (ranges[dtype],) = limits
    assert ranges == INTEGER_RANGES
    assert rules[0]["if"]["properties"]["dtype"]["enum"] == [name for name in DTYPE_NAMES if name not in INTEGER_RANGES]


# -- mistakes both refuse ------------------------------------------------------

DELETE = object()
FBGEMM, ONEDNN, EXECUTORCH = "fbgemm.toml", "onednn.toml", "executorch.toml"
REDUCED = "fbgemm_reduce_range.toml"  # extends fbgemm.toml
OVERRIDES = ["backend", "override_patterns"]
CAT_USE = ["backend", "op_groups", 3]
QCONFIGS = "qconfigs/common.toml"
MAPPING = ["qconfig_mappings", "fbgemm"]
COMMON, ONEDNN_GROUPS, QNNPACK = "op_groups/common.toml", "op_groups/onednn.toml", "op_groups/qnnpack_symmetric.toml"
WEIGHTED = ["dtype_configs", "fbgemm_weighted_op_quint8_dtype_config"]
LINEAR = ["op_groups", "linear", "sections", 0, "patterns"]
CAT = ["op_groups", "cat", "sections", 0]
BN_ADD_FUSER = ["fusers", "fuse_conv_bn_add_left"]
CONV_ADD_ENTRY = ["op_groups", "conv_add", "sections", 0, "patterns", 0]
ACT_CONSTRAINTS = ["constraints", "qnnpack_act_qint8_scale_min_2_neg_12"]

# (id, file, path, new value or DELETE)
REFUSED = [
    # an unknown key at each level
    ("unknown_top_key", FBGEMM, ["bogus"], 1),
    ("backend_key_in_included_file", COMMON, ["include"], ["other.toml"]),
    ("extends_in_included_file", COMMON, ["extends"], "../fbgemm.toml"),
    ("unknown_backend_key", FBGEMM, ["backend", "bogus"], "x"),
    ("unknown_use_key", FBGEMM, ["backend", "op_groups", 0, "bogus"], 1),
    ("unknown_dtype_config_key", FBGEMM, [*WEIGHTED, "weigth_dtype"], "qint8"),
    ("unknown_inline_dtype_key", FBGEMM, [*WEIGHTED, "input_dtype"], {"dtype": "quint8", "bogus": 1}),
    ("unknown_constraints_key", COMMON, ["constraints", "fixed_qparams_0to1", "bogus"], 1),
    ("unknown_fuser_key", ONEDNN_GROUPS, [*BN_ADD_FUSER, "bogus"], 1),
    ("unknown_fold_key", ONEDNN_GROUPS, [*BN_ADD_FUSER, "fold_batch_norm", "bogus"], 1),
    ("unknown_op_group_key", COMMON, ["op_groups", "conv", "bogus"], 1),
    ("unknown_section_key", COMMON, ["op_groups", "conv", "sections", 0, "bogus"], 1),
    ("unknown_pattern_entry_key", COMMON, ["op_groups", "conv", "sections", 0, "patterns", 0, "root_modul"], "{conv}"),
    ("unknown_method_key", COMMON, [*LINEAR, 0, "pattern"], {"method": "relu", "bogus": 1}),
    ("unknown_fuser_method_form", COMMON, [*LINEAR, 3, "fuser_method"], {"sequentail": "torch.ao.nn.intrinsic.LinearReLU"}),
    ("unknown_node_getter_key", ONEDNN_GROUPS, [*CONV_ADD_ENTRY, "root_node_getter"], {"node_at": [1, 1], "bogus": 1}),
    # a wrong type at each level
    ("include_not_array", FBGEMM, ["include"], "op_groups/common.toml"),
    ("dtype_configs_not_table", FBGEMM, ["dtype_configs"], ["fbgemm_weighted_op_quint8_dtype_config"]),
    ("backend_not_table", FBGEMM, ["backend"], "fbgemm"),
    ("backend_name_not_string", FBGEMM, ["backend", "name"], 1),
    ("backend_op_groups_not_array", FBGEMM, ["backend", "op_groups"], {"name": "conv"}),
    ("use_not_table", FBGEMM, ["backend", "op_groups", 0], "conv"),
    ("use_dtype_configs_not_array", FBGEMM, ["backend", "op_groups", 0, "dtype_configs"], "fbgemm_weighted_op_quint8_dtype_config"),
    ("dtype_config_not_table", FBGEMM, WEIGHTED, "quint8"),
    ("is_dynamic_not_boolean", FBGEMM, ["dtype_configs", "fbgemm_default_dynamic_int8_dtype_config", "is_dynamic"], "yes"),
    ("bound_not_number", COMMON, ["constraints", "fixed_qparams_0to1", "scale_exact_match"], "0.00390625"),
    ("zero_point_not_integer", COMMON, ["constraints", "fixed_qparams_0to1", "zero_point_exact_match"], 0.5),
    ("fuser_not_table", ONEDNN_GROUPS, BN_ADD_FUSER, "torch.ao.nn.intrinsic.ConvAdd2d"),
    ("supports_qat_not_boolean", ONEDNN_GROUPS, [*BN_ADD_FUSER, "supports_qat"], "no"),
    ("fuser_arguments_not_array", ONEDNN_GROUPS, ["fusers", "fuse_conv_add_left", "arguments"], "add"),
    ("op_group_not_table", COMMON, ["op_groups", "cat"], "torch.cat"),
    ("sections_not_array", COMMON, ["op_groups", "cat", "sections"], {"patterns": [{"pattern": "torch.cat"}]}),
    ("section_not_table", COMMON, ["op_groups", "cat", "sections", 0], "torch.cat"),
    ("patterns_not_array", COMMON, [*CAT, "patterns"], "torch.cat"),
    ("for_each_not_array", COMMON, [*CAT, "for_each"], {"op": "torch.cat"}),
    ("pattern_entry_not_table", COMMON, [*CAT, "patterns", 0], "torch.cat"),
    ("pattern_not_symbol", COMMON, [*LINEAR, 0, "pattern"], 1),
    ("replaces_earlier_not_boolean", COMMON, ["op_groups", "embedding_op", "sections", 0, "patterns", 2, "replaces_earlier"], "yes"),
    ("index_not_integer", COMMON, [*LINEAR, 2, "input_type_to_index", "weight"], "1"),
    ("node_at_not_array", ONEDNN_GROUPS, [*CONV_ADD_ENTRY, "root_node_getter"], {"node_at": "1"}),
    # unknown names
    ("unknown_bias_dtype", FBGEMM, [*WEIGHTED, "bias_dtype"], "floot"),
    ("unknown_constraints_dtype", QNNPACK, [*ACT_CONSTRAINTS, "dtype"], "qint9"),
    ("unknown_inline_dtype", FBGEMM, [*WEIGHTED, "input_dtype"], {"dtype": "quint9"}),
    ("unknown_observation_type", COMMON, ["op_groups", "tensor_info_op", "sections", 0, "patterns", 0, "observation_type"],
     "INPUT_OUTPUT_NOT_OBSERVD"),
    ("unknown_observation_type_by_count", COMMON, ["op_groups", "binary_op", "sections", 0, "patterns", 3,
                                                   "num_tensor_args_to_observation_type", "1"], "OUTPUT_SHARE_OBSERVER"),
    # patterns
    ("pattern_of_4_ops", COMMON, [*LINEAR, 3, "pattern"], ["torch.nn.Linear", "torch.nn.ReLU", "torch.nn.ReLU", "torch.nn.ReLU"]),
    ("pattern_of_1_op", COMMON, [*LINEAR, 3, "pattern"], ["torch.nn.Linear"]),
    ("pattern_and_complex_format", COMMON, [*LINEAR, 0, "pattern_complex_format"], "torch.nn.Linear"),
    ("no_pattern", COMMON, [*LINEAR, 0, "pattern"], DELETE),
    ("complex_format_without_arguments", ONEDNN_GROUPS, [*CONV_ADD_ENTRY, "pattern_complex_format", 1], ["torch.nn.BatchNorm2d"]),
    # grammars
    ("symbol_not_dotted", COMMON, [*LINEAR, 0, "root_module"], "Linear"),
    ("symbol_with_keyword", COMMON, [*LINEAR, 0, "root_module"], "torch.nn.class"),
    ("private_torch_symbol", COMMON, [*LINEAR, 2, "pattern"], "torch._C._nn.linear"),
    ("placeholder_as_part", COMMON, ["op_groups", "conv", "sections", 0, "patterns", 0, "part"], "{conv}"),
    ("method_not_identifier", COMMON, [*LINEAR, 0, "pattern"], {"method": "re-shape"}),
    ("backend_name_grammar", FBGEMM, ["backend", "name"], "fb gemm"),
    ("torch_version_grammar", FBGEMM, ["backend", "torch_version"], "v2.13.0"),
    ("getter_is_keyword", FBGEMM, ["backend", "getter"], "class"),
    ("blank_output", FBGEMM, ["backend", "output"], " "),
    ("blank_doc", FBGEMM, ["backend", "doc"], ""),
    ("op_group_name_not_identifier", COMMON, ["op_groups", "my-group"], {"sections": [{"patterns": [{"pattern": "torch.cat"}]}]}),
    ("allowed_root_not_identifier", FBGEMM, ["allowed_roots"], ["my-package"]),
    ("empty_include_path", FBGEMM, ["include"], [""]),
    ("count_with_leading_zero", COMMON, ["op_groups", "binary_op", "sections", 0, "patterns", 3,
                                        "num_tensor_args_to_observation_type", "01"], "OUTPUT_SHARE_OBSERVER_WITH_INPUT"),
    ("input_name_not_identifier", COMMON, [*LINEAR, 2, "input_type_to_index", "the weight"], 1),
    ("index_out_of_range", COMMON, [*LINEAR, 2, "input_type_to_index", "weight"], 1001),
    ("no_extra_input_positions", ONEDNN_GROUPS, [*CONV_ADD_ENTRY, "extra_inputs_getter"], {"nodes_at": []}),
    # required keys and empty arrays
    ("missing_backend", FBGEMM, ["backend"], DELETE),
    ("missing_getter", FBGEMM, ["backend", "getter"], DELETE),
    ("missing_use_name", FBGEMM, ["backend", "op_groups", 0, "name"], DELETE),
    ("missing_constraints_dtype", QNNPACK, [*ACT_CONSTRAINTS, "dtype"], DELETE),
    ("missing_fused_module", ONEDNN_GROUPS, [*BN_ADD_FUSER, "fused_module"], DELETE),
    ("missing_patterns", COMMON, [*CAT, "patterns"], DELETE),
    ("no_sections", COMMON, ["op_groups", "cat", "sections"], []),
    ("no_patterns", COMMON, [*CAT, "patterns"], []),
    ("no_for_each_rows", COMMON, [*CAT, "for_each"], []),
    ("no_where_values", ONEDNN, ["backend", "op_groups", 4, "where", "post_module"], []),
    ("dtype_config_listed_twice", FBGEMM, ["backend", "op_groups", 0, "dtype_configs"],
     ["fbgemm_weighted_op_quint8_dtype_config", "fbgemm_weighted_op_quint8_dtype_config"]),
    ("remove_op_groups_without_extends", FBGEMM, ["backend", "remove_op_groups"], ["rnn_op"]),
    # pattern-level edits
    ("remove_patterns_without_extends", FBGEMM, ["backend", "remove_patterns"], ["torch.narrow"]),
    ("override_patterns_without_extends", FBGEMM, OVERRIDES, [{"pattern": "torch.cat", "observation_type": "INPUT_OUTPUT_NOT_OBSERVED"}]),
    ("remove_patterns_not_array", REDUCED, ["backend", "remove_patterns"], "torch.narrow"),
    ("no_patterns_removed", REDUCED, ["backend", "remove_patterns"], []),
    ("removed_pattern_is_a_placeholder", REDUCED, ["backend", "remove_patterns"], ["{op}"]),
    ("removed_pattern_of_4_ops", REDUCED, ["backend", "remove_patterns"], [["torch.nn.Linear", "torch.nn.ReLU", "torch.nn.ReLU", "torch.nn.ReLU"]]),
    ("removed_pattern_named_twice", REDUCED, ["backend", "remove_patterns"], ["torch.narrow", "torch.narrow"]),
    ("override_unknown_key", REDUCED, OVERRIDES, [{"pattern": "torch.cat", "qat_modul": "torch.nn.Linear"}]),
    ("override_without_pattern", REDUCED, OVERRIDES, [{"observation_type": "INPUT_OUTPUT_NOT_OBSERVED"}]),
    ("override_of_nothing", REDUCED, OVERRIDES, [{"pattern": "torch.cat"}]),
    ("override_unsets_the_pattern", REDUCED, OVERRIDES, [{"pattern": "torch.cat", "unset": ["pattern"]}]),
    ("override_constraints_without_dtype_configs", REDUCED, OVERRIDES, [{"pattern": "torch.sigmoid", "activation_constraints": "fixed_qparams_0to1"}]),
    ("use_keeps_and_excludes_patterns", FBGEMM, CAT_USE, {"name": "cat", "dtype_configs": ["fbgemm_default_op_quint8_dtype_config"],
                                                           "patterns": ["torch.cat"], "exclude_patterns": ["torch.cat"]}),
    ("use_excludes_no_pattern", FBGEMM, [*CAT_USE, "exclude_patterns"], []),
    ("use_excludes_a_number", FBGEMM, [*CAT_USE, "exclude_patterns"], [1]),
    # bounds
    ("quant_bound_out_of_range", COMMON, ["constraints", "fixed_qparams_0to1", "quant_max_upper_bound"], 256),
    ("quant_bound_of_float_dtype", FBGEMM, [*WEIGHTED, "input_dtype"], {"dtype": "float", "quant_min_lower_bound": 0}),
    ("zero_scale", QNNPACK, [*ACT_CONSTRAINTS, "scale_min_lower_bound"], 0),
    # fusers
    ("fuser_arguments_too_deep", ONEDNN_GROUPS, ["fusers", "fuse_conv_add_left", "arguments"], ["add", [[[["conv"]]]], "extra"]),
    ("fuser_argument_reserved", ONEDNN_GROUPS, ["fusers", "fuse_conv_add_left", "arguments"], ["add", "is_qat", "extra"]),
    ("fuser_argument_named_twice", ONEDNN_GROUPS, ["fusers", "fuse_conv_add_left", "arguments"], ["add", "conv", "conv"]),
    ("fuser_argument_is_the_body_local", ONEDNN_GROUPS, ["fusers", "fuse_conv_add_left", "arguments"], ["add", "fused_module", "extra"]),
    ("no_error_modules_without_qat", ONEDNN_GROUPS, [*BN_ADD_FUSER, "error_modules"], DELETE),
    ("no_fused_arguments", ONEDNN_GROUPS, [*BN_ADD_FUSER, "fused_arguments"], []),
    # qconfig mappings and what they are made of
    ("unknown_mapping_key", FBGEMM, [*MAPPING, "globl"], "fbgemm_qconfig"),
    ("mapping_in_included_file", QCONFIGS, ["qconfig_mappings"], {"mine": {"global": "fbgemm_qconfig"}}),
    ("unknown_constructor_key", QCONFIGS, ["observers", "default_weight_observer", "with_arg"], {}),
    ("unknown_qscheme", QCONFIGS, ["observers", "default_weight_observer", "with_args", "qscheme"], "per_tensor_symetric"),
    ("keyword_dtype_unknown", QCONFIGS, ["observers", "default_weight_observer", "with_args", "dtype"], "qint9"),
    ("keyword_array", QCONFIGS, ["observers", "reduce_range_histogram_observer", "with_args", "reduce_range"], [True]),
    ("constructor_not_a_name", QCONFIGS, ["qconfigs", "fbgemm_qconfig", "activation"], 1),
    ("qconfig_without_weight", QCONFIGS, ["qconfigs", "fbgemm_qconfig", "weight"], DELETE),
    ("qconfig_not_a_name", FBGEMM, [*MAPPING, "global"], 1),
    ("group_without_entries", QCONFIGS, ["object_type_groups", "default_object_types", "object_types"], []),
    ("method_not_an_identifier", QCONFIGS, ["object_type_groups", "default_object_types", "object_types", 0, "object"], {"method": "{m}"}),
    ("group_use_with_a_qconfig", FBGEMM, [*MAPPING, "object_types", 0, "qconfig"], "None"),
    ("regex_not_a_string", FBGEMM, [*MAPPING, "module_name_regexes"], [{"regex": 1, "qconfig": "None"}]),
    ("method_in_an_order", FBGEMM, [*MAPPING, "module_name_object_type_orders"],
     [{"module_name": "a", "object": {"method": "add"}, "index": 0, "qconfig": "None"}]),
    ("negative_order_index", FBGEMM, [*MAPPING, "module_name_object_type_orders"],
     [{"module_name": "a", "object": "torch.nn.Linear", "index": -1, "qconfig": "None"}]),
]


def mutated(data: dict[str, Any], path: list, value: Any) -> dict[str, Any]:
    result = copy.deepcopy(data)
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def as_key(path: list) -> str:
    key = ""
    for step in path:
        key = key_path(key, step)
    return key


def related(a: str, b: str) -> bool:
    """One key path is the other or inside it."""
    def inside(inner: str, outer: str) -> bool:
        return inner == outer or outer == "" or inner.startswith(outer + ".") or inner.startswith(outer + "[")

    return inside(a, b) or inside(b, a)


def loader_problems(tmp_path: Path, files: dict[str, dict[str, Any]], spec: str) -> list:
    """Load ``spec`` from a copy of spec/ with ``files`` written over it; the problems."""
    root = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, root)
    for relative, data in files.items():
        (root / relative).write_text(tomli_w.dumps(data), encoding="utf-8")
    try:
        load_backend(root / spec)
    except SpecError as error:
        return error.problems
    return []


@pytest.mark.parametrize("relative, path, value", [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED])
def test_a_mistake_is_refused_by_the_schema_and_by_the_loader(relative, path, value, tmp_path):
    data = mutated(load(relative), path, value)
    key = as_key(path)
    for definition in (None, definition_of(relative)):
        # Lazily: the first error at the mutated key is enough.
        errors = validator(definition).iter_errors(data)
        first = next(errors, None)
        assert first is not None, f"the schema ({definition or 'root'}) accepts it"
        at_key = (error for error in itertools.chain([first], errors) if related(as_key(list(error.absolute_path)), key))
        assert next(at_key, None) is not None, f"the schema refuses it elsewhere: {first.message}"
    problems = loader_problems(tmp_path, {relative: data}, readers()[relative])
    assert problems, "the loader accepts it"
    assert any(problem.file.endswith(relative) and related(problem.key, key) for problem in problems), problems


# -- what the loader accepts, the schema accepts ----------------------------------

# (id, {file: [(path, new value or DELETE), ...]}, the backend spec to load)
ACCEPTED = [
    ("extending_spec", {"extended.toml": [([], {
        "extends": "fbgemm.toml",
        "backend": {
            "output": "../generated/extended.py",
            "remove_op_groups": ["rnn_op"],
            "op_groups": [{"name": "layer_norm", "dtype_configs": ["fbgemm_default_op_quint8_dtype_config"]}],
        },
    })]}, "extended.toml"),
    ("pattern_edits", {"edited.toml": [([], {
        "extends": "onednn.toml",
        "backend": {
            "output": "../generated/edited.py",
            "remove_patterns": ["torch.narrow", ["torch.nn.Conv2d", "torch.nn.ReLU"], {"method": "reshape"}],
            "override_patterns": [
                {"pattern": "torch.nn.Linear", "qat_module": "torch.ao.nn.qat.Linear", "unset": ["reference_quantized_module"]},
                {"pattern": "torch.sigmoid", "dtype_configs": ["onednn_op_quint8_dtype_config"], "activation_constraints": "fixed_qparams_0to1"},
                {"pattern_complex_format": ["torch.nn.ReLU", ["operator.add", "torch.nn.Conv2d", "torch.ao.quantization.utils.MatchAllNode"]],
                 "observation_type": "OUTPUT_SHARE_OBSERVER_WITH_INPUT"},
                {"pattern": "torch.cat", "dtype_configs": []},
            ],
            "op_groups": [{"name": "layer_norm", "dtype_configs": ["onednn_op_quint8_dtype_config"],
                           "exclude_patterns": [{"pattern_complex_format": "torch.nn.functional.layer_norm"}]}],
        },
    })], ONEDNN: [([*CAT_USE[:2], 0, "patterns"], ["torch.nn.Conv1d", ["torch.nn.Conv2d", "torch.nn.ReLU"]])]}, "edited.toml"),
    ("where_with_values", {ONEDNN: [(["backend", "op_groups", 4, "where", "post_module"], ["torch.nn.LeakyReLU", "torch.nn.Tanh"])]},
     ONEDNN),
    ("inline_bounds", {FBGEMM: [([*WEIGHTED, "input_dtype"], {"dtype": "quint8", "quant_min_lower_bound": 0, "quant_max_upper_bound": 127})]},
     FBGEMM),
    ("integer_scale", {QNNPACK: [([*ACT_CONSTRAINTS, "scale_min_lower_bound"], 1)]}, EXECUTORCH),
    ("count_of_two_digits", {COMMON: [(["op_groups", "binary_op", "sections", 0, "patterns", 3, "num_tensor_args_to_observation_type", "10"],
                                       "OUTPUT_SHARE_OBSERVER_WITH_INPUT")]}, FBGEMM),
    ("root_node_at_the_root", {ONEDNN_GROUPS: [([*CONV_ADD_ENTRY, "root_node_getter"], {"node_at": []})]}, ONEDNN),
    ("placeholders_inside_tables", {COMMON: [
        (["op_groups", "tensor_info_op", "sections", 0, "for_each"], [{"name": "shape", "kind": "INPUT_OUTPUT_NOT_OBSERVED"}]),
        (["op_groups", "tensor_info_op", "sections", 0, "patterns", 0, "pattern"], {"method": "{name}"}),
        (["op_groups", "tensor_info_op", "sections", 0, "patterns", 0, "num_tensor_args_to_observation_type"], {"1": "{kind}"}),
    ]}, FBGEMM),
    ("placeholder_for_a_whole_pattern", {COMMON: [
        (["op_groups", "cat", "sections", 0, "for_each"], [{"op": ["torch.cat", "torch.nn.ReLU"]}]),
    ]}, FBGEMM),
    ("customized_mapping", {"extended.toml": [([], {
        "extends": "fbgemm.toml",
        "backend": {"output": "../generated/extended.py"},
        "observers": {"mine": {"class": "default_weight_observer", "with_args": {"dtype": "quint8", "custom_op_name": "x"}}},
        "qconfigs": {"fbgemm_qconfig": {"activation": "mine", "weight": {"class": "torch.ao.quantization.observer.MinMaxObserver"}}},
        "qconfig_mappings": {
            "fbgemm": {
                "remove_object_types": ["torch.nn.PReLU", {"method": "reshape"}],
                "object_types": [{"object": "torch.nn.Linear", "qconfig": "None"}],
                "module_name_regexes": [{"regex": "a.*", "qconfig": {"activation": "mine", "weight": "mine"}}],
                "module_names": [{"module_name": "b", "qconfig": "fbgemm_qconfig"}],
                "module_name_object_type_orders": [{"module_name": "", "object": "torch.add", "index": 0, "qconfig": "None"}],
            },
            "new": {"global": "None", "torch_getter": "torch.ao.quantization.qconfig_mapping._private", "torch_arguments": {"a": 1.5}},
        },
    })]}, "extended.toml"),
    ("symbol_from_an_allowed_root", {FBGEMM: [(["allowed_roots"], ["mypackage"])],
                                     COMMON: [([*LINEAR, 0, "root_node_getter"], "mypackage.nodes.root")]}, FBGEMM),
]


@pytest.mark.parametrize("changes, spec", [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_what_the_loader_accepts_the_schema_accepts(changes, spec, tmp_path):
    files = {}
    for relative, edits in changes.items():
        data = load(relative) if (SPEC_DIR / relative).exists() else {}
        for path, value in edits:
            data = value if not path else mutated(data, path, value)
        files[relative] = data
        for definition in (None, "backend_spec" if relative in (*BACKEND_SPECS, spec) else "included_file"):
            errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator(definition).iter_errors(data)]
            assert not errors, errors
    assert loader_problems(tmp_path, files, spec) == []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_specs())
def test_the_schema_accepts_any_mutated_spec_the_loader_accepts(spec):
    with tempfile.TemporaryDirectory() as directory:
        try:
            load_backend(write_spec(Path(directory), spec))
        except SpecError:
            event("refused by the loader")
            return
    event("accepted by the loader")
    errors = [f"{list(error.absolute_path)}: {error.message}" for error in validator("backend_spec").iter_errors(spec)]
    assert not errors, errors
