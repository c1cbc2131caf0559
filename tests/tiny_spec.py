"""A small, self-contained backend spec that uses every spec feature, as a Python
dict: the seed for injection payloads and property-based mutations."""

from __future__ import annotations

import ast
import copy
from pathlib import Path
from typing import Any, Iterator

import tomli_w

TINY_SPEC: dict[str, Any] = {
    "allowed_roots": ["math"],
    "backend": {
        "name": "tiny",
        "getter": "get_tiny_backend_config",
        "output": "tiny.py",
        "torch_version": "2.13.0",
        "torch_getter": "torch.ao.quantization.backend_config.get_fbgemm_backend_config",
        "doc": "Return the tiny BackendConfig.",
        "op_groups": [
            {"name": "tiny_group", "dtype_configs": ["tiny_dtype_config", "tiny_dynamic_config"]},
            {"name": "tiny_fusions", "dtype_configs": ["tiny_symmetric_config"], "parts": ["conv_add"],
             "where": {"add": "operator.add"}},
        ],
    },
    "dtype_configs": {
        "tiny_dtype_config": {
            "input_dtype": "quint8",
            "output_dtype": {"dtype": "quint8", "quant_min_lower_bound": 0, "quant_max_upper_bound": 127},
            "weight_dtype": "qint8",
            "bias_dtype": "float",
        },
        "tiny_dynamic_config": {"input_dtype": "quint8", "output_dtype": "float", "weight_dtype": "qint8",
                                "bias_dtype": "float", "is_dynamic": True},
        "tiny_symmetric_config": {"input_dtype": "tiny_act", "output_dtype": "tiny_act", "weight_dtype": "qint8",
                                  "bias_dtype": "float"},
    },
    "fusers": {
        "tiny_fuser": {
            "doc": "Fold the batch norm into the conv, then add.",
            "arguments": ["add", ["bn", "conv"], "extra"],
            "same_training_mode": "Conv and BN must be in the same mode.",
            "supports_qat": False,
            "error_modules": ["conv", "bn", "add"],
            "fold_batch_norm": {"into": "conv", "batch_norm": "bn", "using": "torch.nn.utils.fusion.fuse_conv_bn_eval"},
            "fused_module": "torch.ao.nn.intrinsic.ConvAdd2d",
            "fused_arguments": ["conv", "add"],
        },
    },
    "constraints": {
        "tiny_act": {"dtype": "qint8", "scale_min_lower_bound": 0.000244140625},
        "tiny_range": {"dtype": "quint8", "quant_min_lower_bound": 0, "quant_max_upper_bound": 255,
                       "scale_exact_match": 0.00390625, "zero_point_exact_match": 0},
    },
    "op_groups": {
        "tiny_group": {
            "doc": "Linear, linear-relu fusion, and a few one-offs.",
            "sections": [
                {
                    "for_each": [{"linear": "torch.nn.Linear", "fused": "torch.ao.nn.intrinsic.LinearReLU"}],
                    "patterns": [
                        {"pattern": "{linear}", "observation_type": "OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT",
                         "root_module": "{linear}", "qat_module": "torch.ao.nn.qat.Linear",
                         "reference_quantized_module": "torch.ao.nn.quantized.reference.Linear"},
                        {"pattern": ["{linear}", "torch.nn.ReLU"], "fuser_method": {"sequential": "{fused}"},
                         "fused_module": "{fused}"},
                    ],
                },
                {
                    "patterns": [
                        {"pattern": {"method": "sigmoid"}, "activation_constraints": "tiny_range"},
                        {"pattern": "operator.add",
                         "num_tensor_args_to_observation_type": {"0": "OUTPUT_SHARE_OBSERVER_WITH_INPUT"}},
                        {"pattern": "torch.nn.functional.linear", "input_type_to_index": {"weight": 1, "bias": 2}},
                        {"pattern_complex_format": ["torch.nn.ReLU", ["torch.nn.Linear", "math.inf"]],
                         "root_node_getter": "math.floor", "extra_inputs_getter": "math.ceil",
                         "fuser_method": "torch.ao.quantization.fuser_method_mappings.fuse_linear_bn"},
                    ]
                },
            ],
        },
        "tiny_fusions": {
            "sections": [
                {
                    "part": "conv_add",
                    "for_each": [{"add": "operator.add"}, {"add": "torch.add"}],
                    "patterns": [
                        {"pattern_complex_format": ["{add}", ["torch.nn.BatchNorm2d", "torch.nn.Conv2d"],
                                                    "torch.ao.quantization.utils.MatchAllNode"],
                         "fuser_method": {"fuser": "tiny_fuser"}, "fused_module": "torch.ao.nn.intrinsic.ConvAdd2d",
                         "root_node_getter": {"node_at": [1, 1]}, "extra_inputs_getter": {"nodes_at": [[2]]}},
                    ],
                },
                {"part": "fused", "patterns": [{"pattern": "torch.ao.nn.intrinsic.ConvAdd2d", "root_module": "torch.nn.Conv2d"}]},
            ],
        },
    },
}


def write_spec(directory: Path, spec: dict[str, Any], name: str = "tiny.toml") -> Path:
    path = directory / name
    path.write_bytes(tomli_w.dumps(spec).encode("utf-8"))
    return path


def string_sites(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Every place a string sits in the spec: ("value", path) leaves and ("key", path) keys."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + (key,), "key"
            yield from string_sites(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from string_sites(item, path + (index,))
    elif isinstance(value, str):
        yield path, "value"


def substitute(spec: dict[str, Any], path: tuple, kind: str, new: Any) -> dict[str, Any]:
    """A copy of ``spec`` with the value (or the key) at ``path`` replaced by ``new``."""
    result = copy.deepcopy(spec)
    parent = result
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if kind == "key":
        parent[new] = parent.pop(last)
    else:
        parent[last] = new
    return result


# Calls a generated module may make: building configs, and its own fuser helper.
ALLOWED_CALLS = {
    "BackendConfig",
    "BackendConfig(...).set_backend_pattern_configs",
    "BackendPatternConfig.from_dict",
    "DTypeConfig",
    "DTypeWithConstraints",
    "importlib.import_module",
    "_sequential_fuser",
    "fused_module_class",
    "_node_at",
    "_node_at(*path)",
    "_nodes_at",
    # inside a declared fuser: its checks, the fold and the fused module of the tiny spec
    "AssertionError",
    "NotImplementedError",
    "type",
    "fuse_conv_bn_eval",
    "fused_module",
}


def calls_in(source: str) -> set[str]:
    """The callee of every call in ``source``, with nested calls folded to (...)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
                found.add(f"{ast.unparse(func.value.func)}(...).{func.attr}")
            else:
                found.add(ast.unparse(func))
    return found
