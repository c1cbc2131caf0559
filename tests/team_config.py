"""A team's own BackendConfig (importable as team_config): torch's x86 config
without its RNN and embedding op groups, and with its default quint8 op config
restricted to [0, 127], as a team that copied torch's x86.py and changed it would
write it."""

from __future__ import annotations

import torch
import torch.ao.quantization.backend_config.utils  # noqa: F401
from torch import nn
from torch.ao.nn import qat as nnqat
from torch.ao.quantization.backend_config import BackendConfig, DTypeConfig, DTypeWithConstraints, x86

team_act_quint8_0_to_127 = DTypeWithConstraints(dtype=torch.quint8, quant_min_lower_bound=0, quant_max_upper_bound=127)
team_default_op_quint8_dtype_config = DTypeConfig(input_dtype=team_act_quint8_0_to_127, output_dtype=team_act_quint8_0_to_127)
_LEFT_OUT = (nn.GRUCell, nn.LSTMCell, nn.RNNCell, nn.LSTM, nn.GRU, nn.Embedding, nnqat.Embedding, nn.EmbeddingBag, nnqat.EmbeddingBag)


def get_team_backend_config() -> BackendConfig:
    """Return our x86 config: no RNN or embedding quantization, default ops in [0, 127]."""
    configs = []
    for key, pattern_config in x86.get_x86_backend_config()._pattern_complex_format_to_config.items():
        if any(key is left for left in _LEFT_OUT):
            continue
        dtype_configs = pattern_config.dtype_configs
        configs.append(pattern_config.set_dtype_configs(
            [team_default_op_quint8_dtype_config if c is x86.x86_default_op_quint8_dtype_config else c for c in dtype_configs]
        ))
    return BackendConfig("team_x86").set_backend_pattern_configs(configs)
