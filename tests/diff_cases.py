"""BackendConfigs for the diff and --verify tests, as ``MODULE:FUNCTION`` sides.

- ``small_config`` is tests/diff_specs/small.toml built directly with torch's API
  (torch's own sequential fuser where the spec has ``{sequential = ...}``);
  ``small_upgraded`` and ``small_with_new_attribute`` are torch upgrades
  simulated on it.
- ``fusion_config`` is torch's real onednn configs for one pattern of each fusion
  shape (2-tuple, 3-tuple, nested complex format), with root-node getters added to
  the simple ones; the environment variable DIFF_CASES_MUTATION (``SHAPE:MUTATION``)
  breaks one of them, as a wrong torch (or a wrong spec) would.
  tests/diff_specs/fusions.toml is the same config as a spec, with this module's own
  implementations of onednn's private fusers and getters.
"""

from __future__ import annotations

import copy
import operator
import os

import torch
import torch.ao.nn.intrinsic as nni
import torch.ao.nn.qat as nnqat
import torch.ao.nn.quantized.reference as nnqr
import torch.ao.quantization.backend_config.utils  # noqa: F401
import torch.nn as nn
from torch.ao.quantization.backend_config import (
    BackendConfig,
    BackendPatternConfig,
    DTypeConfig,
    DTypeWithConstraints,
    ObservationType,
)
from torch.ao.quantization.backend_config.onednn import (
    _fuse_linear_bn_leaky_relu,
    get_onednn_backend_config,
)
from torch.ao.quantization.fuser_method_mappings import _sequential_wrapper2, fuse_conv_bn
from torch.ao.quantization.utils import MatchAllNode
from torch.nn.utils.fusion import fuse_conv_bn_eval

# -- tests/diff_specs/small.toml, built with torch's API ----------------------

small_weighted_dtype_config = DTypeConfig(
    input_dtype=torch.quint8, output_dtype=torch.quint8, weight_dtype=torch.qint8, bias_dtype=torch.float
)
small_dynamic_dtype_config = DTypeConfig(
    input_dtype=torch.quint8, output_dtype=torch.float, weight_dtype=torch.qint8, bias_dtype=torch.float, is_dynamic=True
)
small_default_dtype_config = DTypeConfig(input_dtype=torch.quint8, output_dtype=torch.quint8)

SHARE = ObservationType.OUTPUT_SHARE_OBSERVER_WITH_INPUT
DIFFERENT = ObservationType.OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT


def _small_patterns() -> list[BackendPatternConfig]:
    weighted = [small_weighted_dtype_config, small_dynamic_dtype_config]
    default = [small_default_dtype_config]
    return [
        BackendPatternConfig(nn.Conv2d)
        .set_dtype_configs(weighted)
        .set_root_module(nn.Conv2d)
        .set_qat_module(nnqat.Conv2d)
        .set_reference_quantized_module(nnqr.Conv2d),
        BackendPatternConfig((nn.Conv2d, nn.BatchNorm2d))
        .set_dtype_configs(weighted)
        .set_fuser_method(fuse_conv_bn)
        .set_fused_module(nni.ConvBn2d),
        BackendPatternConfig((nn.Conv2d, nn.ReLU))
        .set_dtype_configs(weighted)
        .set_fuser_method(_sequential_wrapper2(nni.ConvReLU2d))
        .set_fused_module(nni.ConvReLU2d),
        BackendPatternConfig(torch.nn.functional.linear)
        .set_dtype_configs(weighted)
        ._set_input_type_to_index({"weight": 1, "bias": 2}),
        BackendPatternConfig(nn.LSTM)
        .set_dtype_configs(weighted)
        .set_root_module(nn.LSTM)
        .set_reference_quantized_module(nnqr.LSTM),
        BackendPatternConfig(torch.cat).set_dtype_configs(default).set_observation_type(SHARE),
        BackendPatternConfig(torch.add)
        .set_dtype_configs(default)
        ._set_num_tensor_args_to_observation_type({0: SHARE, 1: DIFFERENT}),
        BackendPatternConfig(nn.ELU).set_dtype_configs(default),
        BackendPatternConfig(nn.Hardswish).set_dtype_configs(default),
        BackendPatternConfig("reshape").set_dtype_configs(default).set_observation_type(SHARE),
    ]


def small_config() -> BackendConfig:
    return BackendConfig("small").set_backend_pattern_configs(_small_patterns())


def _fuse_conv_bn_without_folding(is_qat, conv, bn):
    """A broken fuser: it wraps the modules instead of folding the batch norm into the conv."""
    return nni.ConvBn2d(conv, bn)


def small_upgraded() -> BackendConfig:
    """small_config as a newer torch might make it: one change of each kind."""
    patterns = {_key(config): config for config in _small_patterns()}
    del patterns["LSTM"]  # removed
    patterns["cat"].set_observation_type(DIFFERENT)  # an enum changed
    bounded = DTypeConfig(
        input_dtype=DTypeWithConstraints(dtype=torch.quint8, quant_max_upper_bound=127),
        output_dtype=torch.float,
        weight_dtype=torch.qint8,
        bias_dtype=torch.float,
        is_dynamic=True,
    )
    fp16 = DTypeConfig(input_dtype=torch.float16, output_dtype=torch.float16, weight_dtype=torch.float16, bias_dtype=torch.float16)
    # dtype_configs[1].input_dtype.quant_max_upper_bound changed, dtype_configs[2] added
    patterns["Conv2d"].set_dtype_configs([small_weighted_dtype_config, bounded, fp16])
    patterns[("Conv2d", "BatchNorm2d")].set_fuser_method(_fuse_conv_bn_without_folding)
    patterns["linear"]._set_input_type_to_index({"weight": 1, "bias": True})  # 2 -> true: a type change
    patterns["linear"].set_dtype_configs([small_weighted_dtype_config])  # dtype_configs[1] removed
    hardswish = patterns.pop("Hardswish")
    ordered = [hardswish, *patterns.values()]  # moved to the front
    added = [
        # Torch stores the private alias; the report names torch.nn.functional.gelu.
        BackendPatternConfig(torch._C._nn.gelu).set_dtype_configs([small_default_dtype_config]),
        # Torch keys it (LeakyReLU, (BatchNorm1d, Linear)); the report shows it forward.
        BackendPatternConfig((nn.Linear, nn.BatchNorm1d, nn.LeakyReLU))
        .set_dtype_configs([small_weighted_dtype_config])
        .set_fuser_method(_fuse_linear_bn_leaky_relu)
        .set_fused_module(nni.LinearLeakyReLU),
    ]
    return BackendConfig("small").set_backend_pattern_configs([*ordered, *added])


def small_with_new_attribute() -> BackendConfig:
    """A torch that adds an attribute to every pattern config, and a dtype config to
    every pattern using the default one."""
    fp16 = DTypeConfig(input_dtype=torch.float16, output_dtype=torch.float16)
    configs = _small_patterns()
    for config in configs:
        config._is_new_in_this_torch = False
        if config.dtype_configs == [small_default_dtype_config]:
            config.set_dtype_configs([small_default_dtype_config, fp16])
    return BackendConfig("small").set_backend_pattern_configs(configs)


def _key(config: BackendPatternConfig):
    pattern = config.pattern
    if isinstance(pattern, tuple):
        return tuple(item.__name__ for item in pattern)
    return pattern if isinstance(pattern, str) else pattern.__name__


# -- fusion shapes: torch's real onednn configs ------------------------------

CONV_BN = (nn.BatchNorm2d, nn.Conv2d)  # the 2-tuple (Conv2d, BatchNorm2d), as torch keys it
CONV_BN_RELU = (nn.ReLU, (nn.BatchNorm2d, nn.Conv2d))  # the 3-tuple (Conv2d, BatchNorm2d, ReLU)
CONV_BN_ADD_RELU = (nn.ReLU, (operator.add, (nn.BatchNorm2d, nn.Conv2d), MatchAllNode))  # complex format
SHAPES = {"two": CONV_BN, "three": CONV_BN_RELU, "nested": CONV_BN_ADD_RELU}
MUTATIONS = ("wrong_fuser", "wrong_getter", "swapped_fused_module", "missing_fusion")


# Root-node getters for the simple shapes: FX calls any config's getter with the
# matched node pattern, shaped like torch's key.
def conv_of_conv_bn(node_pattern):
    _bn, conv = node_pattern
    return conv


def conv_of_conv_bn_relu(node_pattern):
    _relu, (_bn, conv) = node_pattern
    return conv


# This project's own versions of onednn's private functions for the nested shape,
# so tests/diff_specs/fusions.toml can name them (a spec refuses private torch paths).
def fuse_conv_bn_add_relu(is_qat, relu, add_pattern):
    add, (bn, conv), _extra = add_pattern
    if is_qat:
        raise NotImplementedError(f"Cannot fuse train modules: {(conv, bn, add, relu)}")
    return nni.ConvAddReLU2d(fuse_conv_bn_eval(conv, bn), add, relu)


def conv_of_conv_bn_add_relu(node_pattern):
    _relu, (_add, (_bn, conv), _extra) = node_pattern
    return conv


def extra_input_of_conv_bn_add_relu(node_pattern):
    _relu, (_add, _bn_conv, extra) = node_pattern
    return [extra]


def _broken_fuser(shape: str):
    """Forgets to fold the batch norm: same module types, different weights."""
    if shape == "two":
        return lambda is_qat, conv, bn: nni.ConvBn2d(conv, bn) if is_qat else conv
    if shape == "three":
        return lambda is_qat, conv, bn, relu: nni.ConvBnReLU2d(conv, bn, relu) if is_qat else nni.ConvReLU2d(conv, relu)

    def forgets_batch_norm(is_qat, relu, add_pattern):
        add, (bn, conv), _extra = add_pattern
        if is_qat:
            raise NotImplementedError(f"Cannot fuse train modules: {(conv, bn, add, relu)}")
        return nni.ConvAddReLU2d(conv, add, relu)

    return forgets_batch_norm


def _swapping_fuser(shape: str):
    """Folds correctly, then builds the wrong kind of module around the same children."""
    if shape == "two":
        return lambda is_qat, conv, bn: nn.Sequential(conv, bn) if is_qat else fuse_conv_bn_eval(conv, bn)
    if shape == "three":
        return lambda is_qat, conv, bn, relu: (
            nni.ConvBnReLU2d(conv, bn, relu) if is_qat else nn.Sequential(fuse_conv_bn_eval(conv, bn), relu)
        )

    def builds_conv_add(is_qat, relu, add_pattern):
        add, (bn, conv), _extra = add_pattern
        if is_qat:
            raise NotImplementedError(f"Cannot fuse train modules: {(conv, bn, add, relu)}")
        return nni.ConvAdd2d(fuse_conv_bn_eval(conv, bn), add)

    return builds_conv_add


_WRONG_POSITIONS = {
    "two": lambda node_pattern: node_pattern[0],  # the batch norm, not the conv
    "three": lambda node_pattern: node_pattern[1][0],
    "nested": lambda node_pattern: node_pattern[1][1][0],
}


def fusion_patterns(shape: str | None = None, mutation: str | None = None) -> list[BackendPatternConfig]:
    """Copies of torch's onednn configs for the three shapes, ``mutation`` applied to ``shape``'s."""
    onednn = get_onednn_backend_config()._pattern_complex_format_to_config
    configs = {name: copy.copy(onednn[key]) for name, key in SHAPES.items()}
    configs["two"]._set_root_node_getter(conv_of_conv_bn)
    configs["three"]._set_root_node_getter(conv_of_conv_bn_relu)
    if shape is not None:
        config = configs[shape]
        if mutation == "wrong_fuser":
            config.set_fuser_method(_broken_fuser(shape))
        elif mutation == "wrong_getter":
            config._set_root_node_getter(_WRONG_POSITIONS[shape])
        elif mutation == "swapped_fused_module":
            config.set_fuser_method(_swapping_fuser(shape))
        elif mutation == "missing_fusion":
            config.fuser_method = None
        elif mutation == "wrong_extra_inputs":
            config._set_extra_inputs_getter(lambda node_pattern: [node_pattern[1][1]])
        elif mutation == "equivalent":
            # A different but equivalent fuser object: not a difference.
            original = config.fuser_method
            config.set_fuser_method(lambda is_qat, *modules: original(is_qat, *modules))
        else:
            raise ValueError(f"unknown mutation {mutation!r}")
    return list(configs.values())


def fusion_config() -> BackendConfig:
    """The three fusion shapes, with the mutation DIFF_CASES_MUTATION names, if any."""
    shape, _, mutation = os.environ.get("DIFF_CASES_MUTATION", "").partition(":")
    return BackendConfig("fusions").set_backend_pattern_configs(fusion_patterns(shape or None, mutation or None))


def fusion_baseline() -> BackendConfig:
    return BackendConfig("fusions").set_backend_pattern_configs(fusion_patterns())


def not_a_backend_config():
    return {"name": "fbgemm"}


def fusion_mistakes() -> BackendConfig:
    """The nested pattern's fuser forgets the batch norm and its root getter returns
    the batch norm; the 3-tuple no longer fuses."""
    configs = fusion_patterns("nested", "wrong_fuser")
    configs[2]._set_root_node_getter(_WRONG_POSITIONS["nested"])
    configs[1].fuser_method = None
    return BackendConfig("fusions").set_backend_pattern_configs(configs)


def exits_quietly():
    """A function that ends the process as if all were well: never 'no differences'."""
    raise SystemExit(0)
