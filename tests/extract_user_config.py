"""A user's own BackendConfig, as someone adopting specs has one: a fork of torch's
FBGEMM config with a fuser function of their own and a dtype config with constraints
of their own. The extract tests start from it (importable as extract_user_config)."""

from __future__ import annotations

import torch
import torch.ao.nn.intrinsic as nni
import torch.ao.nn.qat as nnqat
from torch import nn
from torch.ao.quantization.backend_config import (
    BackendConfig,
    BackendPatternConfig,
    DTypeConfig,
    DTypeWithConstraints,
    ObservationType,
    get_fbgemm_backend_config,
)
from torch.ao.quantization.backend_config.fbgemm import fbgemm_weighted_op_quint8_dtype_config

# Activations in [0, 127] (reduce_range), with a smallest scale.
my_act_quint8_0_to_127 = DTypeWithConstraints(
    dtype=torch.quint8, quant_min_lower_bound=0, quant_max_upper_bound=127, scale_min_lower_bound=2**-10
)

my_gelu_dtype_config = DTypeConfig(
    input_dtype=my_act_quint8_0_to_127,
    output_dtype=my_act_quint8_0_to_127,
)


def fuse_linear_relu_for_inference(is_qat: bool, linear: nn.Linear, relu: nn.ReLU) -> nn.Module:
    """The user's own fuser: linear + relu for inference only."""
    if is_qat:
        raise NotImplementedError("my backend fuses linear + relu for inference only")
    return nni.LinearReLU(linear, relu)


def get_my_backend_config() -> BackendConfig:
    """Return torch's FBGEMM config with my linear-relu fuser and a GELU of my own."""
    config = get_fbgemm_backend_config().set_name("my_backend")
    config.set_backend_pattern_config(
        BackendPatternConfig((nn.Linear, nn.ReLU))
        .set_dtype_configs([fbgemm_weighted_op_quint8_dtype_config])
        .set_fuser_method(fuse_linear_relu_for_inference)
        .set_fused_module(nni.LinearReLU)
    )
    config.set_backend_pattern_config(
        BackendPatternConfig(nn.GELU)
        .set_observation_type(ObservationType.OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT)
        .set_dtype_configs([my_gelu_dtype_config])
    )
    return config


def get_config_with_a_lambda_fuser() -> BackendConfig:
    """A fuser no spec can name: it cannot be imported."""
    return BackendConfig("lambda_backend").set_backend_pattern_config(
        BackendPatternConfig((nn.Linear, nn.ReLU))
        .set_dtype_configs([fbgemm_weighted_op_quint8_dtype_config])
        .set_fuser_method(lambda is_qat, linear, relu: nni.LinearReLU(linear, relu))
    )


def not_a_backend_config() -> str:
    return "fbgemm"


class MyBlock(nn.Module):
    """A module type of the user's own, quantized as one op."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 2)


def the_linear(pattern):
    """A root node getter of the user's own: the linear of (relu, linear)."""
    return pattern[1]


def get_config_with_my_module_and_getter() -> BackendConfig:
    return BackendConfig("mine").set_backend_pattern_configs(
        [
            BackendPatternConfig(MyBlock).set_dtype_configs([my_gelu_dtype_config]).set_root_module(MyBlock),
            BackendPatternConfig((nn.Linear, nn.ReLU))
            .set_dtype_configs([fbgemm_weighted_op_quint8_dtype_config])
            ._set_root_node_getter(the_linear),
        ]
    )


def get_empty_config() -> BackendConfig:
    return BackendConfig("empty")


def fuse_linear_relu_needing_bias(is_qat: bool, linear: nn.Linear, relu: nn.ReLU) -> nn.Module:
    """A fuser of the user's own that behaves as torch's sequential fuser on the
    modules FX passes (a Linear has a bias by default), but not on every model."""
    if linear.bias is None:
        raise ValueError("my backend needs a bias")
    return nni.LinearReLU(linear, relu)


def get_config_with_look_alike_callables() -> BackendConfig:
    """Importable functions of the user's that a probe cannot tell from declarations,
    and closures that behave as declarations."""

    def closure_fuser(is_qat: bool, conv: nn.Module, relu: nn.Module) -> nn.Module:
        return nni.ConvReLU2d(conv, relu)

    return BackendConfig("look_alike").set_backend_pattern_configs(
        [
            BackendPatternConfig((nn.Linear, nn.ReLU))
            .set_dtype_configs([fbgemm_weighted_op_quint8_dtype_config])
            .set_fuser_method(fuse_linear_relu_needing_bias)
            .set_fused_module(nni.LinearReLU),
            BackendPatternConfig((nn.Conv2d, nn.ReLU))
            .set_dtype_configs([fbgemm_weighted_op_quint8_dtype_config])
            .set_fuser_method(closure_fuser)
            .set_fused_module(nni.ConvReLU2d)
            ._set_root_node_getter(lambda pattern: pattern[1]),
        ]
    )


class MyQATLinear(nnqat.Linear):
    """A QAT linear module of the user's own."""


def get_fbgemm_with_my_qat_linear() -> BackendConfig:
    """Return torch's FBGEMM config, nn.Linear trained with my QAT module: the shared
    linear op group, whose nn.Linear has torch's QAT module, must not be used for it."""
    config = get_fbgemm_backend_config()
    config._pattern_complex_format_to_config[nn.Linear].set_qat_module(MyQATLinear)
    return config


def get_fbgemm_with_linear_last() -> BackendConfig:
    """Return torch's FBGEMM config with nn.Linear registered last: no spec that
    extends fbgemm.toml keeps it in place, so it is removed and added again."""
    configs = list(get_fbgemm_backend_config()._pattern_complex_format_to_config.items())
    linear = [config for key, config in configs if key is nn.Linear]
    rest = [config for key, config in configs if key is not nn.Linear]
    return BackendConfig("fbgemm").set_backend_pattern_configs([*rest, *linear])
