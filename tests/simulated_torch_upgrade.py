"""A simulated torch upgrade for the --verify test: imported at interpreter start
(tests/test_diff.py copies it as sitecustomize.py onto PYTHONPATH), it wraps torch's
FBGEMM getter and claims a newer torch version.

The changes are the ones the issue lists --verify used to report badly: a pattern
added under a private alias, a 3-tuple fusion (torch keys it reversed and nested),
a dtype config added, a changed constraint bound, a changed observation type, and
a new attribute on every pattern.
"""

import torch

torch.__version__ = "2.14.1"

import torch.ao.nn.intrinsic as nni  # noqa: E402
import torch.ao.quantization.backend_config as backend_config  # noqa: E402
import torch.ao.quantization.backend_config.utils  # noqa: E402,F401
from torch.ao.quantization.backend_config import BackendPatternConfig, DTypeConfig, ObservationType  # noqa: E402
from torch.nn.utils.fusion import fuse_linear_bn_eval  # noqa: E402

_torch_getter = backend_config.get_fbgemm_backend_config


def _fuse_linear_bn_relu(is_qat, linear, bn, relu):
    return nni.LinearReLU(fuse_linear_bn_eval(linear, bn), relu)


def get_fbgemm_backend_config():
    config = _torch_getter()
    by_key = config._pattern_complex_format_to_config
    default_op = by_key[torch.nn.ELU].dtype_configs[0]
    fp16 = DTypeConfig(input_dtype=torch.float16, output_dtype=torch.float16, weight_dtype=torch.float16, bias_dtype=torch.float16)
    by_key[torch.nn.Linear].set_dtype_configs([*by_key[torch.nn.Linear].dtype_configs, fp16])
    sigmoid = by_key[torch.sigmoid].dtype_configs[0]
    sigmoid.input_dtype_with_constraints.quant_max_upper_bound = 127  # torch's own object: only this pattern uses it
    by_key[torch.cat].set_observation_type(ObservationType.OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT)
    for pattern_config in config.configs:
        pattern_config._is_new_in_this_torch = False
    config.set_backend_pattern_config(BackendPatternConfig(torch._C._nn.gelu).set_dtype_configs([default_op]))
    config.set_backend_pattern_config(
        BackendPatternConfig((torch.nn.Linear, torch.nn.BatchNorm1d, torch.nn.ReLU))
        .set_dtype_configs([default_op])
        .set_fuser_method(_fuse_linear_bn_relu)
        .set_fused_module(nni.LinearReLU)
    )
    return config


backend_config.get_fbgemm_backend_config = get_fbgemm_backend_config
