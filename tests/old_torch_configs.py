"""Torch 2.0.1's BackendConfigs, rebuilt from torch 2.13.0's, for delta extraction
and report tests (importable as old_torch_configs; no other torch can be installed
here).

Torch 2.0.1 lacks ``torch.nn.functional.conv_transpose1d/2d/3d``,
``torch.nn.PixelShuffle``, ``torch.nn.PixelUnshuffle``,
``torch.nn.functional.pixel_shuffle``, ``torch.nn.functional.pixel_unshuffle`` and
``torch.narrow`` on every backend, and its executorch config had 29 patterns (the 29
below, a subset of today's: its first linear, conv and binary configs, a few
share-qparams ops, cat and the embedding modules). The module defines no dtype
config of its own: extraction names dtype configs by the constants of the getter's
module, as it would torch 2.0.1's.
"""

from __future__ import annotations

import functools
from typing import Callable

import torch
import torch.ao.quantization.backend_config.utils  # noqa: F401
import torch.nn.functional as F
from torch import nn
from torch.ao.quantization import backend_config as torch_backend_config
from torch.ao.quantization.backend_config import BackendConfig
from torch.ao.quantization.backend_config.native import get_test_only_legacy_native_backend_config
from torch.ao.quantization.backend_config.x86 import get_x86_backend_config

ABSENT_IN_2_0_1 = (
    F.conv_transpose1d,
    F.conv_transpose2d,
    F.conv_transpose3d,
    nn.PixelShuffle,
    nn.PixelUnshuffle,
    F.pixel_shuffle,
    F.pixel_unshuffle,
    torch.narrow,
)
# Positions in torch 2.13.0's executorch config of the 29 patterns torch 2.0.1 had.
EXECUTORCH_2_0_1 = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 22, 26, 30, 34, 38, 42, 44, 47, 49, 53, 56, 62, 67, 69, 76, 79, 80)


def kept(config: BackendConfig, keep: Callable[[int, object], bool]) -> BackendConfig:
    items = config._pattern_complex_format_to_config.items()
    return BackendConfig(config.name).set_backend_pattern_configs(
        [pattern_config for index, (key, pattern_config) in enumerate(items) if keep(index, key)]
    )


def _as_in_2_0_1(getter: Callable[[], BackendConfig]) -> Callable[[], BackendConfig]:
    @functools.wraps(getter)  # torch's docstring, as torch 2.0.1's getter has
    def old() -> BackendConfig:
        return kept(getter(), lambda _, key: not any(key is absent for absent in ABSENT_IN_2_0_1))

    return old


get_fbgemm_2_0_1 = _as_in_2_0_1(torch_backend_config.get_fbgemm_backend_config)
get_x86_2_0_1 = _as_in_2_0_1(get_x86_backend_config)
get_qnnpack_2_0_1 = _as_in_2_0_1(torch_backend_config.get_qnnpack_backend_config)
get_native_2_0_1 = _as_in_2_0_1(torch_backend_config.get_native_backend_config)
get_native_legacy_2_0_1 = _as_in_2_0_1(get_test_only_legacy_native_backend_config)
get_tensorrt_2_0_1 = _as_in_2_0_1(torch_backend_config.get_tensorrt_backend_config)
get_onednn_2_0_1 = _as_in_2_0_1(torch_backend_config.get_onednn_backend_config)


def get_executorch_2_0_1() -> BackendConfig:
    """Return the BackendConfig for backends PyTorch lowers to through the Executorch stack."""
    return kept(torch_backend_config.get_executorch_backend_config(), lambda index, _: index in EXECUTORCH_2_0_1)
