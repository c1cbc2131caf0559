"""Where torch refuses a model, or leaves part of it float, each generated config does
exactly the same: the same exception with the same message, or the same float graph.

These are the paths tests/test_quantized_outputs.py cannot take: its cases must end
quantized. Each also shows a limit of torch's own config that users of ours inherit.
"""

from __future__ import annotations

import copy
from typing import Callable

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import (
    MinMaxObserver,
    PlaceholderObserver,
    QConfig,
    QConfigMapping,
    float_qparams_weight_only_qconfig,
    get_default_qat_qconfig_mapping,
    get_default_qconfig_mapping,
    weight_observer_range_neg_127_to_127,
)
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx, prepare_qat_fx

import backends
from quantized_models import CONV_ADD_VARIANTS, ConvAdds, Embeddings, onednn_embedding_qint8


def _raised_with_each_config(backend: str, build: Callable) -> list[tuple[type, str]]:
    """What ``build(config)`` raises with the generated config, then with torch's."""
    raised = []
    for config in (backends.generated_config(backend), backends.torch_config(backend)):
        torch.manual_seed(0)
        with pytest.raises(Exception) as info:  # any exception: its type is compared below
            build(config)
        raised.append((type(info.value), str(info.value)))
    return raised


@pytest.fixture
def onednn_engine():
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = "onednn"
    yield
    torch.backends.quantized.engine = previous


CONV_BN_ADD_VARIANTS = [name for name in CONV_ADD_VARIANTS if "_bn_" in name]


@pytest.mark.parametrize("relu", [False, True], ids=["conv_bn_add", "conv_bn_add_relu"])
@pytest.mark.parametrize("variant", CONV_BN_ADD_VARIANTS)
def test_onednn_qat_conv_bn_add_raises_like_torch(variant, relu):
    """onednn's conv + bn + add (+ relu) fusers are eval only: QAT preparation raises."""
    inputs = (torch.randn(2, 3, 4, 4), torch.randn(2, 4, 4, 4))

    def build(config):
        model = ConvAdds((variant,), relu=relu).train()
        prepare_qat_fx(model, get_default_qat_qconfig_mapping("onednn"), inputs, backend_config=config)

    ours, theirs = _raised_with_each_config("onednn", build)
    assert ours == theirs
    assert ours[0] is NotImplementedError and ours[1].startswith("Cannot fuse train modules: (Conv2d(")


class LinearBnLeakyReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.bn = nn.BatchNorm1d(4)
        self.leaky = nn.LeakyReLU()

    def forward(self, x):
        return self.leaky(self.bn(self.linear(x)))


def test_onednn_qat_linear_bn_leaky_relu_raises_like_torch():
    def build(config):
        prepare_qat_fx(LinearBnLeakyReLU().train(), get_default_qat_qconfig_mapping("onednn"),
                       (torch.randn(3, 4),), backend_config=config)

    ours, theirs = _raised_with_each_config("onednn", build)
    assert ours == theirs
    assert ours[0] is NotImplementedError and ours[1].startswith("Cannot fuse train modules: (Linear(")


def test_onednn_linear_bn_leaky_relu_in_mixed_training_modes_raises_like_torch():
    def build(config):
        model = LinearBnLeakyReLU().eval()
        model.bn.train()
        prepare_fx(model, get_default_qconfig_mapping("onednn"), (torch.randn(3, 4),), backend_config=config)

    expected = (AssertionError, "Linear, BN and LeakyReLU all must be in the same mode (train or eval).")
    assert _raised_with_each_config("onednn", build) == [expected] * 2


class LinearThen(nn.Module):
    def __init__(self, function):
        super().__init__()
        self.linear = nn.Linear(4, 4)
        self.function = function

    def forward(self, x):
        return self.function(self.linear(x))


@pytest.mark.parametrize(("function", "kind"), [(F.leaky_relu, "function"), (torch.tanh, "builtin_function_or_method")],
                         ids=["leaky_relu", "tanh"])
def test_onednn_linear_then_the_function_form_raises_like_torch(function, kind):
    """onednn registers (Linear, F.leaky_relu) and (Linear, torch.tanh) with a fuser
    that takes modules; FX hands it the function, and torch's own fuser raises."""

    def build(config):
        prepare_fx(LinearThen(function).eval(), get_default_qconfig_mapping("onednn"), (torch.randn(3, 4),),
                   backend_config=config)

    expected = (AssertionError, f"Incorrect types for input modules: Linear and {kind}")
    assert _raised_with_each_config("onednn", build) == [expected] * 2


def test_onednn_qint8_embeddings_have_no_quantized_kernel(onednn_engine):
    """onednn's embedding config takes qint8 weights; torch's quantized Embedding takes
    quint8 or quint4x2, so convert_fx raises (its reference model is compared in
    test_quantized_outputs.py)."""
    inputs = (torch.randint(0, 20, (3, 4)), torch.tensor([0, 4, 8]))

    def build(config):
        prepared = prepare_fx(Embeddings().eval(), onednn_embedding_qint8(None), inputs, backend_config=config)
        prepared(*inputs)
        convert_fx(prepared, backend_config=config)

    ours, theirs = _raised_with_each_config("onednn", build)
    assert ours == theirs
    assert ours[0] is NotImplementedError and "Supports quint8 and quint4x2. Got dtype: torch.qint8" in ours[1]


def _converted_with_each_config(backend: str, model: nn.Module, mapping: QConfigMapping, inputs: tuple) -> list:
    converted = []
    for config in (backends.generated_config(backend), backends.torch_config(backend)):
        prepared = prepare_fx(copy.deepcopy(model), mapping, inputs, backend_config=config)
        prepared(*inputs)
        converted.append(convert_fx(prepared, backend_config=config))
    return converted


def _module_types(model: nn.Module) -> list:
    return [(name, type(module)) for name, module in model.named_modules() if name]


def test_onednn_quint8_embeddings_stay_float(onednn_engine):
    """torch's quint8 weight-only qconfig, which FBGEMM's embeddings take, does not match
    onednn's qint8 config: the embeddings stay float with either config."""
    torch.manual_seed(0)
    model = Embeddings().eval()
    inputs = (torch.randint(0, 20, (3, 4)), torch.tensor([0, 4, 8]))
    mapping = (QConfigMapping().set_object_type(nn.Embedding, float_qparams_weight_only_qconfig)
               .set_object_type(nn.EmbeddingBag, float_qparams_weight_only_qconfig))
    ours, theirs = _converted_with_each_config("onednn", model, mapping, inputs)
    assert ours.code == theirs.code
    assert _module_types(ours) == _module_types(theirs) == _module_types(model)
    assert all(torch.equal(a, b) for a, b in zip(ours(*inputs), model(*inputs), strict=True))


class TwoLinears(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)
        self.weight = nn.Parameter(torch.randn(4, 8))

    def forward(self, x):
        return F.linear(self.linear(x), self.weight)


def test_executorch_dynamic_qint8_needs_its_minimum_scale():
    """Executorch's dynamic qint8 config bounds the scale below by 2 ** -12: a qconfig
    whose observer does not say so (no eps) leaves the linears float, with either config."""
    torch.manual_seed(0)
    model = TwoLinears().eval()
    inputs = (torch.randn(3, 8),)
    without_eps = QConfig(activation=PlaceholderObserver.with_args(dtype=torch.qint8, is_dynamic=True),
                          weight=weight_observer_range_neg_127_to_127)
    ours, theirs = _converted_with_each_config("executorch", model, QConfigMapping().set_global(without_eps), inputs)
    assert ours.code == theirs.code
    assert _module_types(ours) == _module_types(theirs) == _module_types(model)
    assert not any("quantize" in str(node.target) for node in ours.graph.nodes)

    # The same qconfig with the bound does quantize them.
    with_eps = QConfig(activation=MinMaxObserver.with_args(dtype=torch.qint8, is_dynamic=True, eps=2**-12),
                       weight=weight_observer_range_neg_127_to_127)
    ours, theirs = _converted_with_each_config("executorch", model, QConfigMapping().set_global(with_eps), inputs)
    assert ours.code == theirs.code
    assert "quantize_per_tensor_dynamic" in ours.code
