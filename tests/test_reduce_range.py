"""spec/fbgemm_reduce_range.toml: FBGEMM with quint8 activations restricted to [0, 127],
the constraint torch's fbgemm.py leaves as a TODO. Its effect on real models: with
torch's default FBGEMM qconfig (reduce_range=True) conv and linear are quantized, as
with torch's config; with a full-range activation qconfig (quant_max 255) they stay
float, where torch's config quantizes them."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn
from torch.ao.quantization import QConfig, QConfigMapping, get_default_qconfig_mapping
from torch.ao.quantization.observer import HistogramObserver, default_per_channel_weight_observer
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

import backends
from backends import import_path
from conftest import REPO

SPEC = REPO / "spec" / "fbgemm_reduce_range.toml"
GENERATED = REPO / "generated" / "fbgemm_reduce_range.py"


class ConvLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.linear = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        return self.linear(torch.flatten(torch.relu(self.conv(x)), 1))


def full_range_mapping() -> QConfigMapping:
    """Activations observed over all of quint8, [0, 255]: what the constraint refuses."""
    activation = HistogramObserver.with_args(reduce_range=False)
    return QConfigMapping().set_global(QConfig(activation=activation, weight=default_per_channel_weight_observer))


@pytest.fixture(scope="module")
def reduce_range_config():
    module = import_path(GENERATED, "generated_fbgemm_reduce_range")
    return module.get_fbgemm_reduce_range_backend_config()


@pytest.fixture(autouse=True)
def fbgemm_engine():
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = "fbgemm"
    yield
    torch.backends.quantized.engine = previous


def quantize(mapping: QConfigMapping, backend_config) -> tuple[torch.fx.GraphModule, torch.Tensor]:
    torch.manual_seed(0)
    model = ConvLinear().eval()
    inputs = torch.randn(2, 3, 8, 8)
    prepared = prepare_fx(copy.deepcopy(model), mapping, (inputs,), backend_config=backend_config)
    with torch.no_grad():
        for _ in range(3):
            prepared(inputs + 0.1 * torch.randn_like(inputs))
        converted = convert_fx(prepared, backend_config=backend_config)
        return converted, converted(inputs)


def module_types(model: torch.fx.GraphModule) -> dict[str, str]:
    return {name: f"{type(module).__module__}.{type(module).__name__}" for name, module in model.named_modules() if name}


def test_the_spec_changes_only_the_activation_range_of_fbgemms_static_dtype_configs():
    from generator.loader import load_backend

    ours = load_backend(SPEC)
    fbgemm = backends.loaded_spec("fbgemm")
    assert [c.pattern_text for c in ours.pattern_configs] == [c.pattern_text for c in fbgemm.pattern_configs]
    changed = {c.name for c in ours.dtype_configs} & {c.name for c in fbgemm.dtype_configs}
    for name in changed:
        (mine,) = (c for c in ours.dtype_configs if c.name == name)
        (theirs,) = (c for c in fbgemm.dtype_configs if c.name == name)
        if name in ("fbgemm_weighted_op_quint8_dtype_config", "fbgemm_default_op_quint8_dtype_config"):
            for role in ("input", "output"):
                bounds = getattr(mine, role)
                assert (bounds.dtype, bounds.quant_min_lower_bound, bounds.quant_max_upper_bound) == ("quint8", 0, 127)
            assert mine.weight == theirs.weight and mine.bias_dtype == theirs.bias_dtype
        else:
            assert mine == theirs, name


def test_with_torchs_default_fbgemm_qconfig_conv_and_linear_are_quantized_as_with_torchs_config(reduce_range_config):
    mapping = get_default_qconfig_mapping("fbgemm")  # activations observed with reduce_range=True: [0, 127]
    ours, our_output = quantize(mapping, reduce_range_config)
    theirs, their_output = quantize(mapping, backends.torch_config("fbgemm"))
    types = module_types(ours)
    assert types["conv"].endswith("intrinsic.quantized.modules.conv_relu.ConvReLU2d") or types["conv"].endswith(
        "quantized.modules.conv.Conv2d"
    ), types
    assert types["linear"].startswith("torch.ao.nn.quantized"), types
    assert ours.code == theirs.code and torch.equal(our_output, their_output)


def test_with_a_full_range_activation_qconfig_conv_and_linear_stay_float(reduce_range_config):
    mapping = full_range_mapping()
    ours, our_output = quantize(mapping, reduce_range_config)
    theirs, _ = quantize(mapping, backends.torch_config("fbgemm"))
    our_types, their_types = module_types(ours), module_types(theirs)
    # The constraint refuses the [0, 255] observers: the patterns stay float.
    assert our_types["conv"] == "torch.nn.modules.conv.Conv2d", our_types
    assert our_types["linear"] == "torch.nn.modules.linear.Linear", our_types
    assert "quantize_per_tensor" not in ours.code
    # torch's own FBGEMM config, without the constraint, quantizes them.
    assert their_types["linear"].startswith("torch.ao.nn.quantized"), their_types
    assert "quantize_per_tensor" in theirs.code
    with torch.no_grad():
        torch.manual_seed(0)
        float_model = ConvLinear().eval()
        expected = float_model(torch.randn(2, 3, 8, 8))
    assert torch.equal(our_output, expected)  # float all the way: the float model's output
