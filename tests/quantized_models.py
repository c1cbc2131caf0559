"""Small float models covering every op group of each backend, with the qconfig
mapping each is quantized with. Shared by the quantized-output tests.

CASES_BY_BACKEND says which cases run for which backend (tests/backends.py names
the backends and the engines they run with).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import (
    MinMaxObserver,
    QConfig,
    QConfigMapping,
    default_dynamic_qconfig,
    default_symmetric_qnnpack_qat_qconfig,
    default_symmetric_qnnpack_qconfig,
    default_weight_observer,
    float16_dynamic_qconfig,
    float16_static_qconfig,
    float_qparams_weight_only_qconfig,
    float_qparams_weight_only_qconfig_4bit,
    get_default_qat_qconfig_mapping,
    get_default_qconfig_mapping,
    weight_observer_range_neg_127_to_127,
)
from torch.ao.quantization.qconfig_mapping import (
    _get_symmetric_qnnpack_qat_qconfig_mapping,
    _get_symmetric_qnnpack_qconfig_mapping,
)

# How a case is converted, and how quantization shows in the result:
LOWERED = "lowered"  # convert_fx: quantized modules and ops, run with the engine's kernels
REFERENCE = "reference"  # convert_to_reference_fx: float ops between dequantize and quantize nodes
FLOAT16 = "float16"  # convert_fx with float16 static qconfigs: float ops between dequantize and .to(float16)


@dataclass(frozen=True)
class Case:
    name: str
    op_groups: tuple[str, ...]  # the op groups of the spec this model exercises
    model: Callable[[], nn.Module]
    inputs: Callable[[], tuple]
    # The qconfig mapping, given the engine the case runs with ("fbgemm", "x86", "qnnpack",
    # "onednn"; None for a backend without one).
    qconfig_mapping: Callable[[str | None], QConfigMapping]
    # Each must name (the end of) a quantized module type or op in the converted model:
    # LOWERED, one that runs quantized; otherwise one between dequantize and quantize nodes.
    expected_quantized: tuple[str, ...]
    qat: bool = False
    mode: str = LOWERED
    # When set, every quantize node of an activation in the converted graph quantizes to this dtype.
    activation_dtype: torch.dtype | None = None
    # When set (reference models), every quantized weight of the converted graph has this
    # dtype: a reference module's, or a quantized parameter a function takes (F.linear's weight).
    weight_dtype: torch.dtype | None = None
    # Each names (the end of) an op whose weight is quantized (needs weight_dtype).
    quantized_weights: tuple[str, ...] = ()
    # (path, end of its type's qualified name): submodules the converted model must hold,
    # e.g. each conv that must have been fused with its add.
    modules: tuple[tuple[str, str], ...] = ()


def static(engine: str | None) -> QConfigMapping:
    """The engine's default static mapping (quint8; FBGEMM and x86 with reduce_range)."""
    return get_default_qconfig_mapping(engine)


def qat(engine: str | None) -> QConfigMapping:
    return get_default_qat_qconfig_mapping(engine)


def qat_v0(engine: str | None) -> QConfigMapping:
    """The engine's QAT mapping of version 0: FakeQuantize with its own observer."""
    return get_default_qat_qconfig_mapping(engine, 0)


class ConvBnRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1d = nn.Conv1d(3, 4, 3)
        self.bn1d = nn.BatchNorm1d(4)
        self.relu1d = nn.ReLU()
        self.conv2d = nn.Conv2d(3, 4, 3)
        self.bn2d = nn.BatchNorm2d(4)
        self.conv2d_relu = nn.Conv2d(4, 4, 1)
        self.conv3d = nn.Conv3d(3, 4, 3)
        self.bn3d = nn.BatchNorm3d(4)
        self.relu3d = nn.ReLU()
        self.conv3d_alone = nn.Conv3d(4, 4, 1)

    def forward(self, x1, x2, x3):
        a = self.relu1d(self.bn1d(self.conv1d(x1)))
        b = F.relu(self.bn2d(self.conv2d(x2)))
        b = F.relu(self.conv2d_relu(b))
        c = self.conv3d_alone(self.relu3d(self.bn3d(self.conv3d(x3))))
        return a, b, c


class ConvTranspose(nn.Module):
    def __init__(self):
        super().__init__()
        self.t1 = nn.ConvTranspose1d(3, 4, 2)
        self.t2 = nn.ConvTranspose2d(3, 4, 2)
        self.bn2 = nn.BatchNorm2d(4)
        self.t3 = nn.ConvTranspose3d(3, 4, 2)

    def forward(self, x1, x2, x3):
        return self.t1(x1), self.bn2(self.t2(x2)), self.t3(x3)


class ConvTranspose1d2d(nn.Module):
    """ConvTranspose without its 3d form: with the qnnpack engine, a quantized
    ConvTranspose3d gives different outputs from one call to the next on this CPU."""

    def __init__(self):
        super().__init__()
        self.t1 = nn.ConvTranspose1d(3, 4, 2)
        self.t2 = nn.ConvTranspose2d(3, 4, 2)
        self.bn2 = nn.BatchNorm2d(4)

    def forward(self, x1, x2):
        return self.t1(x1), self.bn2(self.t2(x2))


class LinearReluBn(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.relu = nn.ReLU()
        self.fc2 = nn.Linear(16, 16)
        self.bn = nn.BatchNorm1d(16)
        self.fc3 = nn.Linear(16, 4)

    def forward(self, x):
        x = self.relu(self.fc1(x))
        x = self.bn(self.fc2(x))
        return F.relu(self.fc3(x))


class FunctionalConvLinear(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_weight = nn.Parameter(torch.randn(4, 3, 3, 3))
        self.conv_bias = nn.Parameter(torch.randn(4))
        self.conv1d_weight = nn.Parameter(torch.randn(4, 3, 3))
        self.linear_weight = nn.Parameter(torch.randn(5, 4 * 6 * 6))
        self.linear_bias = nn.Parameter(torch.randn(5))

    def forward(self, x, y):
        # quantized conv prepacking needs stride, padding, dilation and groups spelled out
        x = F.relu(F.conv2d(x, self.conv_weight, self.conv_bias, [1, 1], [0, 0], [1, 1], 1))
        x = torch.flatten(x, 1)
        x = F.linear(x, self.linear_weight, self.linear_bias)
        y = F.conv1d(y, self.conv1d_weight, None, [1], [0], [1], 1)
        return F.relu(x), y


class AddMulRelu(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_a = nn.Conv2d(3, 3, 1)
        self.conv_b = nn.Conv2d(3, 3, 1)
        self.relu = nn.ReLU()

    def forward(self, x):
        a, b = self.conv_a(x), self.conv_b(x)
        s = self.relu(a + b)
        t = F.relu(torch.add(a, b))
        u = torch.relu(a * b)
        v = torch.mul(s, t)
        w = u + 1.0
        return s, t, u, v, w


class CatMatmul(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc_a = nn.Linear(4, 4)
        self.fc_b = nn.Linear(4, 4)

    def forward(self, x):
        a, b = self.fc_a(x), self.fc_b(x)
        return torch.cat([a, b], dim=1), torch.matmul(a, b.transpose(0, 1))


class FixedQParams(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.sigmoid = nn.Sigmoid()
        self.tanh = nn.Tanh()
        self.hardsigmoid = nn.Hardsigmoid()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.conv(x)
        return (
            self.sigmoid(x),
            self.tanh(x),
            self.hardsigmoid(x),
            self.softmax(x),
            torch.sigmoid(x),
            torch.tanh(x),
            F.hardsigmoid(x),
            x.sigmoid(),
        )


class PoolingReshaping(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.max_pool = nn.MaxPool2d(2)
        self.avg_pool = nn.AdaptiveAvgPool2d((2, 2))
        self.hardtanh = nn.Hardtanh()
        self.relu6 = nn.ReLU6()
        self.linear = nn.Linear(16, 4)

    def forward(self, x):
        x = self.conv(x)
        a = self.avg_pool(self.max_pool(x))
        b = F.avg_pool2d(x, 2)
        b = F.max_pool2d(b, 2)
        c = self.relu6(self.hardtanh(b))
        d = torch.flatten(a, 1)
        e = c.reshape(c.shape[0], -1).view(c.shape[0], 16)
        f = torch.transpose(a, 2, 3).contiguous()
        g = torch.mean(f, dim=1)
        h = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.linear(d), e, g, h, torch.clamp(x, -1.0, 1.0), x.size(0)


class Norms(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(4)
        self.bn_relu_input = nn.BatchNorm2d(4)
        self.instance_norm = nn.InstanceNorm2d(4, affine=True)
        self.group_norm_weight = nn.Parameter(torch.rand(4) + 0.5)
        self.group_norm_bias = nn.Parameter(torch.rand(4))
        self.elu = nn.ELU()
        self.leaky = nn.LeakyReLU()
        self.hardswish = nn.Hardswish()
        self.dropout = nn.Dropout()

    def forward(self, x):
        x = self.conv(x)
        a = self.bn(torch.flatten(x, 2).view(x.shape))  # bn not directly after conv: not fused
        b = F.relu(self.bn_relu_input(a))
        c = self.instance_norm(x)
        d = F.group_norm(x, 2, self.group_norm_weight, self.group_norm_bias)
        e = self.hardswish(self.leaky(self.elu(x)))
        return b, c, d, self.dropout(e)


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8, num_layers=1)
        self.gru = nn.GRU(4, 8)
        self.linear = nn.Linear(8, 3)

    def forward(self, x):
        lstm_out, _ = self.lstm(x)
        gru_out, _ = self.gru(x)
        return self.linear(lstm_out + gru_out)


def dynamic(qconfig) -> Callable[[str | None], QConfigMapping]:
    def mapping(engine: str | None) -> QConfigMapping:
        return (
            QConfigMapping()
            .set_object_type(nn.LSTM, qconfig)
            .set_object_type(nn.GRU, qconfig)
            .set_object_type(nn.Linear, qconfig)
        )

    return mapping


class Embeddings(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.bag = nn.EmbeddingBag(20, 8, mode="sum")

    def forward(self, indices, offsets):
        return self.embedding(indices), self.bag(indices.flatten(), offsets)


def weight_only(qconfig) -> Callable[[str | None], QConfigMapping]:
    def mapping(engine: str | None) -> QConfigMapping:
        return QConfigMapping().set_object_type(nn.Embedding, qconfig).set_object_type(nn.EmbeddingBag, qconfig)

    return mapping


class QatModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 1)
        self.bn2 = nn.BatchNorm2d(4)
        self.linear = nn.Linear(4 * 6 * 6, 5)
        self.linear_relu = nn.ReLU()

    def forward(self, x):
        x = self.relu(self.bn(self.conv(x)))
        x = self.bn2(self.conv2(x))
        return self.linear_relu(self.linear(torch.flatten(x, 1)))


def _randn(*shape):
    return lambda: tuple(torch.randn(*s) for s in shape)


CASES = (
    Case(
        "conv_bn_relu_1d_2d_3d",
        ("conv", "share_qparams_op"),
        ConvBnRelu,
        _randn((2, 3, 10), (2, 3, 8, 8), (1, 3, 5, 5, 5)),
        static,
        ("intrinsic.quantized.modules.conv_relu.ConvReLU1d", "intrinsic.quantized.modules.conv_relu.ConvReLU2d",
         "intrinsic.quantized.modules.conv_relu.ConvReLU3d", "quantized.modules.conv.Conv3d"),
    ),
    Case(
        "conv_transpose_and_bn",
        ("conv",),
        ConvTranspose,
        _randn((2, 3, 6), (2, 3, 6, 6), (1, 3, 4, 4, 4)),
        static,
        ("quantized.modules.conv.ConvTranspose1d", "quantized.modules.conv.ConvTranspose2d",
         "quantized.modules.conv.ConvTranspose3d"),
    ),
    Case(
        "linear_relu_bn",
        ("linear", "share_qparams_op"),
        LinearReluBn,
        _randn((6, 8)),
        static,
        ("intrinsic.quantized.modules.linear_relu.LinearReLU", "quantized.modules.linear.Linear"),
    ),
    Case(
        "functional_conv_linear",
        ("conv", "linear", "share_qparams_op"),
        FunctionalConvLinear,
        _randn((2, 3, 8, 8), (2, 3, 10)),
        static,
        ("quantized::conv2d_relu", "quantized::linear_relu", "quantized::conv1d"),
    ),
    Case(
        "add_mul_relu",
        ("binary_op", "conv", "share_qparams_op"),
        AddMulRelu,
        _randn((2, 3, 4, 4)),
        static,
        ("quantized::add_relu", "quantized::mul_relu", "quantized::mul", "quantized::add"),
    ),
    Case(
        "cat_matmul",
        ("cat", "binary_op", "linear", "share_qparams_op"),
        CatMatmul,
        _randn((3, 4)),
        static,
        ("cat", "quantized::matmul", "quantized.modules.linear.Linear"),
    ),
    Case(
        "fixed_qparams_ops",
        ("fixed_qparams_op", "conv"),
        FixedQParams,
        _randn((2, 3, 4, 4)),
        static,
        ("quantized.modules.activation.Softmax", "torch.nn.modules.activation.Sigmoid",
         "torch.nn.modules.activation.Tanh", "torch.nn.modules.activation.Hardsigmoid", "sigmoid", "tanh",
         "hardsigmoid"),
    ),
    Case(
        "pooling_reshaping_tensor_info",
        ("share_qparams_op", "tensor_info_op", "conv", "linear"),
        PoolingReshaping,
        _randn((2, 3, 8, 8)),
        static,
        ("quantized.modules.conv.Conv2d", "quantized.modules.linear.Linear", "MaxPool2d", "AdaptiveAvgPool2d",
         "max_pool2d", "avg_pool2d", "Hardtanh", "ReLU6", "flatten", "reshape", "view", "transpose",
         "contiguous", "mean", "interpolate", "clamp"),
    ),
    Case(
        "norms_and_default_ops",
        ("bn", "default_op", "conv", "share_qparams_op"),
        Norms,
        _randn((2, 3, 4, 4)),
        static,
        ("quantized.modules.batchnorm.BatchNorm2d", "intrinsic.quantized.modules.bn_relu.BNReLU2d",
         # F.group_norm has no FBGEMM lowering: it stays a float op between quantize and
         # dequantize (the graph comparison covers it), so it is not listed here.
         "quantized.modules.normalization.InstanceNorm2d",
         "quantized.modules.activation.ELU", "quantized.modules.activation.Hardswish",
         "quantized.modules.activation.LeakyReLU"),
    ),
    Case(
        "lstm_gru_dynamic_int8",
        ("rnn_op", "linear"),
        Recurrent,
        _randn((5, 2, 4)),
        dynamic(default_dynamic_qconfig),
        ("quantized.dynamic.modules.rnn.LSTM", "quantized.dynamic.modules.rnn.GRU",
         "quantized.dynamic.modules.linear.Linear"),
    ),
    Case(
        "lstm_gru_dynamic_float16",
        ("rnn_op", "linear"),
        Recurrent,
        _randn((5, 2, 4)),
        dynamic(float16_dynamic_qconfig),
        ("quantized.dynamic.modules.rnn.LSTM", "quantized.dynamic.modules.rnn.GRU",
         "quantized.dynamic.modules.linear.Linear"),
    ),
    Case(
        "embedding_weight_only_quint8",
        ("embedding_op",),
        Embeddings,
        lambda: (torch.randint(0, 20, (3, 4)), torch.tensor([0, 4, 8])),
        weight_only(float_qparams_weight_only_qconfig),
        ("quantized.modules.embedding_ops.Embedding", "quantized.modules.embedding_ops.EmbeddingBag"),
    ),
    Case(
        "embedding_weight_only_quint4x2",
        ("embedding_op",),
        Embeddings,
        lambda: (torch.randint(0, 20, (3, 4)), torch.tensor([0, 4, 8])),
        weight_only(float_qparams_weight_only_qconfig_4bit),
        ("quantized.modules.embedding_ops.Embedding", "quantized.modules.embedding_ops.EmbeddingBag"),
    ),
    Case(
        "qat_conv_bn_relu_linear",
        ("conv", "linear"),
        QatModel,
        _randn((2, 3, 8, 8)),
        qat,
        ("intrinsic.quantized.modules.conv_relu.ConvReLU2d", "quantized.modules.conv.Conv2d",
         "intrinsic.quantized.modules.linear_relu.LinearReLU"),
        qat=True,
    ),
)


# --- Models and cases for ops and dtypes beyond FBGEMM's -----------------------------


class LayerNorms(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.layer_norm = nn.LayerNorm([4, 4, 4])
        self.weight = nn.Parameter(torch.rand(4) + 0.5)
        self.bias = nn.Parameter(torch.rand(4))

    def forward(self, x):
        x = self.conv(x)
        return self.layer_norm(x), F.layer_norm(x, [4], self.weight, self.bias)


LAYER_NORM_CASES = (
    Case(
        "layer_norm",
        ("layer_norm", "conv"),
        LayerNorms,
        _randn((2, 3, 4, 4)),
        static,
        ("quantized.modules.normalization.LayerNorm", "quantized::layer_norm", "quantized.modules.conv.Conv2d"),
    ),
)


class Float16Ops(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 4)

    def forward(self, x):
        y = torch.sigmoid(self.linear(x) + x)
        return y.reshape(-1)


def float16_static(engine: str | None) -> QConfigMapping:
    return QConfigMapping().set_global(float16_static_qconfig)


# The legacy native config adds float16 static dtype configs (torch's float16_static_qconfig).
FLOAT16_STATIC_CASES = (
    Case(
        "float16_static_linear_add_sigmoid_reshape",
        ("linear", "binary_op", "fixed_qparams_op", "share_qparams_op"),
        Float16Ops,
        _randn((3, 4)),
        float16_static,
        ("quantized.reference.modules.linear.Linear", "add", "sigmoid"),
        mode=FLOAT16,
        activation_dtype=torch.float16,
    ),
)


def symmetric_qnnpack(engine: str | None) -> QConfigMapping:
    """torch's XNNPACK-compatible qint8 symmetric qconfig for every op."""
    return QConfigMapping().set_global(default_symmetric_qnnpack_qconfig)


def symmetric_qnnpack_qat(engine: str | None) -> QConfigMapping:
    return QConfigMapping().set_global(default_symmetric_qnnpack_qat_qconfig)


def tensorrt_qint8(engine: str | None) -> QConfigMapping:
    """qint8 activations and weights, symmetric, as tensorrt's dtype configs ask. Weights
    use [-127, 127], activations [-128, 127]: an argument observed as the wrong kind
    (say addmm's weight as an activation) changes the outputs."""
    activation = MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    weight = MinMaxObserver.with_args(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric,
                                      quant_min=-127, quant_max=127)
    return QConfigMapping().set_global(QConfig(activation=activation, weight=weight))


class AddMm(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 2)
        self.weight = nn.Parameter(torch.randn(4 * 3 * 3, 5))
        self.bias = nn.Parameter(torch.randn(5))

    def forward(self, x):
        return torch.addmm(self.bias, torch.flatten(self.conv(x), 1), self.weight)


def _by_name(name: str) -> Case:
    (case,) = (case for case in CASES if case.name == name)
    return case


def _reference(case: Case, mapping, expected: tuple[str, ...], suffix: str) -> Case:
    """``case`` converted to a reference model with qint8 activations."""
    return replace(case, name=f"{case.name}_{suffix}", qconfig_mapping=mapping, expected_quantized=expected,
                   mode=REFERENCE, activation_dtype=torch.qint8)


# Reference-model expectations for the models of CASES, when their activations are qint8.
_REFERENCE_EXPECTED = {
    "conv_bn_relu_1d_2d_3d": ("intrinsic.modules.fused.ConvReLU1d", "intrinsic.modules.fused.ConvReLU2d",
                              "intrinsic.modules.fused.ConvReLU3d", "quantized.reference.modules.conv.Conv3d"),
    "conv_transpose_and_bn": ("quantized.reference.modules.conv.ConvTranspose1d",
                              "quantized.reference.modules.conv.ConvTranspose2d",
                              "quantized.reference.modules.conv.ConvTranspose3d"),
    "linear_relu_bn": ("intrinsic.modules.fused.LinearReLU", "quantized.reference.modules.linear.Linear"),
    "functional_conv_linear": ("conv2d", "linear", "conv1d"),
    "add_mul_relu": ("quantized.reference.modules.conv.Conv2d", "add", "mul"),
    "cat_matmul": ("quantized.reference.modules.linear.Linear", "cat", "matmul"),
    "fixed_qparams_ops": ("activation.Sigmoid", "activation.Tanh", "activation.Hardsigmoid", "activation.Softmax",
                          "sigmoid", "tanh", "hardsigmoid"),
    "pooling_reshaping_tensor_info": ("quantized.reference.modules.conv.Conv2d",
                                      "quantized.reference.modules.linear.Linear", "MaxPool2d", "AdaptiveAvgPool2d",
                                      "max_pool2d", "avg_pool2d", "Hardtanh", "ReLU6", "flatten", "reshape", "view",
                                      "transpose", "contiguous", "mean", "interpolate", "clamp"),
    "norms_and_default_ops": ("batchnorm.BatchNorm2d", "fused.BNReLU2d", "instancenorm.InstanceNorm2d", "group_norm",
                              "activation.ELU", "activation.LeakyReLU", "activation.Hardswish"),
    "qat_conv_bn_relu_linear": ("intrinsic.modules.fused.ConvReLU2d", "quantized.reference.modules.conv.Conv2d",
                                "intrinsic.modules.fused.LinearReLU"),
}

# QNNPACK's qint8 symmetric dtype configs (listed before its quint8 ones). This CPU's
# torch has no XNNPACK, whose kernels run them, so the models are compared as reference
# models: the qint8 quantize nodes show the symmetric configs matched.
QNNPACK_SYMMETRIC_CASES = tuple(
    _reference(_by_name(name), symmetric_qnnpack_qat if _by_name(name).qat else symmetric_qnnpack,
               _REFERENCE_EXPECTED[name], "qint8_symmetric")
    for name in ("conv_bn_relu_1d_2d_3d", "conv_transpose_and_bn", "linear_relu_bn", "functional_conv_linear",
                 "add_mul_relu", "cat_matmul", "fixed_qparams_ops", "pooling_reshaping_tensor_info",
                 "norms_and_default_ops", "qat_conv_bn_relu_linear")
)

QNNPACK_CASES = (
    *(case for case in CASES if case.name not in ("conv_transpose_and_bn", "lstm_gru_dynamic_float16")),
    replace(
        _by_name("conv_transpose_and_bn"),
        name="conv_transpose_1d_2d_and_bn",
        model=ConvTranspose1d2d,
        inputs=_randn((2, 3, 6), (2, 3, 6, 6)),
        expected_quantized=("quantized.modules.conv.ConvTranspose1d", "quantized.modules.conv.ConvTranspose2d"),
    ),
    # QNNPACK has no float16 kernels (quantized::linear_prepack_fp16 refuses): compare
    # the reference models, whose reference modules hold float16 weights.
    replace(
        _by_name("lstm_gru_dynamic_float16"),
        name="lstm_gru_dynamic_float16_reference",
        mode=REFERENCE,
        expected_quantized=("quantized.reference.modules.rnn.LSTM", "quantized.reference.modules.rnn.GRU",
                            "quantized.reference.modules.linear.Linear"),
    ),
    *QNNPACK_SYMMETRIC_CASES,
)

# TensorRT has no quantized engine in torch: its models are compared as reference models.
TENSORRT_CASES = (
    *(
        _reference(_by_name(name), tensorrt_qint8, _REFERENCE_EXPECTED[name], "qint8")
        for name in ("conv_bn_relu_1d_2d_3d", "conv_transpose_and_bn", "linear_relu_bn", "functional_conv_linear",
                     "add_mul_relu", "cat_matmul", "pooling_reshaping_tensor_info")
    ),
    Case(
        "addmm_qint8",
        ("addmm", "conv", "share_qparams_op"),
        AddMm,
        _randn((2, 3, 4, 4)),
        tensorrt_qint8,
        ("quantized.reference.modules.conv.Conv2d", "flatten", "addmm"),
        mode=REFERENCE,
        activation_dtype=torch.qint8,
    ),
)

# --- onednn: its own fusions, and the shared op groups run with its engine -----------


# Every way onednn fuses a conv with an add: the conv on the left or on the right of
# the add, without or with a BatchNorm2d between them, with `+` or torch.add.
CONV_ADD_VARIANTS = tuple(f"{side}_{norm}_{add}" for side in ("left", "right") for norm in ("conv", "bn")
                          for add in ("plus", "torch_add"))
CONV_ADD_VARIANTS_WITHOUT_BN = tuple(name for name in CONV_ADD_VARIANTS if "_bn_" not in name)


class ConvAdds(nn.Module):
    """For each variant (CONV_ADD_VARIANTS), a Conv2d output added to another input.
    With ``relu``, each sum goes through an nn.ReLU of its own, and one more sum (of the
    conv ``conv_functional_relu``) through F.relu, which onednn does not fuse."""

    def __init__(self, variants: tuple[str, ...] = CONV_ADD_VARIANTS, relu: bool = False):
        super().__init__()
        self.variants = variants
        self.relu = relu
        self.conv = nn.ModuleDict({name: nn.Conv2d(3, 4, 1) for name in variants})
        self.bn = nn.ModuleDict({name: nn.BatchNorm2d(4) for name in variants if "_bn_" in name})
        if relu:
            self.relus = nn.ModuleDict({name: nn.ReLU() for name in variants})
            self.conv_functional_relu = nn.Conv2d(3, 4, 1)

    def forward(self, x, y):
        outputs = []
        for name in self.variants:
            out = self.conv[name](x)
            if name in self.bn:
                out = self.bn[name](out)
            left, right = (out, y) if name.startswith("left") else (y, out)
            out = left + right if name.endswith("plus") else torch.add(left, right)
            outputs.append(self.relus[name](out) if self.relu else out)
        if self.relu:
            outputs.append(F.relu(self.conv_functional_relu(x) + y))
        return tuple(outputs)


def _conv_add_modules(fused: str, variants: tuple[str, ...] = CONV_ADD_VARIANTS) -> tuple[tuple[str, str], ...]:
    """Each conv of ConvAdds, fused with its add (and relu) into ``fused``."""
    return tuple((f"conv.{name}", f"intrinsic.quantized.modules.conv_add.{fused}") for name in variants)


class LinearEltwise(nn.Module):
    """onednn's linear fusions: Linear + LeakyReLU, Linear + Tanh, and Linear +
    BatchNorm1d + LeakyReLU (in eval, the batch norm is folded into the linear); then
    F.linear followed by each elementwise op, which onednn observes as one pattern and
    its engine does not lower: the linear and the op run in float between a dequantize
    and a quantize."""

    def __init__(self):
        super().__init__()
        self.fc_leaky = nn.Linear(8, 8)
        self.leaky = nn.LeakyReLU(0.2)
        self.fc_tanh = nn.Linear(8, 8)
        self.tanh = nn.Tanh()
        self.fc_bn_leaky = nn.Linear(8, 8)
        self.bn = nn.BatchNorm1d(8)
        self.bn_leaky = nn.LeakyReLU(0.1)
        self.weight = nn.Parameter(torch.randn(8, 8))
        self.bias = nn.Parameter(torch.randn(8))
        self.functional_leaky = nn.LeakyReLU()
        self.functional_tanh = nn.Tanh()

    def forward(self, x):
        a = self.leaky(self.fc_leaky(x))
        b = self.tanh(self.fc_tanh(a))
        c = self.bn_leaky(self.bn(self.fc_bn_leaky(b)))
        d = self.functional_leaky(F.linear(x, self.weight, self.bias))
        e = self.functional_tanh(F.linear(x, self.weight, self.bias))
        f = F.leaky_relu(F.linear(x, self.weight, self.bias))
        g = torch.tanh(F.linear(x, self.weight, self.bias))
        return c, d, e, f, g


_LINEAR_ELTWISE_FUSED = (("fc_leaky", "LinearLeakyReLU"), ("fc_tanh", "LinearTanh"), ("fc_bn_leaky", "LinearLeakyReLU"))


def linear_eltwise(engine: str | None) -> QConfigMapping:
    """The engine's default mapping, but Linear, LeakyReLU and Tanh all take its global
    qconfig: prepare_fx raises a LookupError for a fused module whose modules have
    different qconfigs, and the default mapping gives Tanh a fixed-qparams one."""
    mapping = get_default_qconfig_mapping(engine)
    for module in (nn.Linear, nn.LeakyReLU, nn.Tanh):
        mapping.set_object_type(module, mapping.global_qconfig)
    return mapping


def linear_eltwise_dynamic(engine: str | None) -> QConfigMapping:
    mapping = QConfigMapping()
    for module in (nn.Linear, nn.LeakyReLU, nn.Tanh):
        mapping.set_object_type(module, default_dynamic_qconfig)
    return mapping


def per_tensor_conv_transpose(engine: str | None) -> QConfigMapping:
    """The engine's default mapping with per-tensor weights for ConvTranspose: onednn's
    default mapping observes them per channel, which ConvTranspose does not support."""
    mapping = get_default_qconfig_mapping(engine)
    qconfig = QConfig(activation=mapping.global_qconfig.activation, weight=default_weight_observer)
    for module in (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d):
        mapping.set_object_type(module, qconfig)
    return mapping


# onednn's embedding config takes qint8 weights (no quantized embedding kernel does:
# nnq.Embedding takes quint8 and quint4x2), so the model is compared as a reference model.
onednn_embedding_qint8 = weight_only(QConfig(activation=float_qparams_weight_only_qconfig.activation,
                                             weight=float_qparams_weight_only_qconfig.weight.with_args(dtype=torch.qint8)))

ONEDNN_CASES = (
    *(case for case in CASES + LAYER_NORM_CASES if case.name in (
        "conv_bn_relu_1d_2d_3d", "linear_relu_bn", "functional_conv_linear", "add_mul_relu", "cat_matmul",
        "fixed_qparams_ops", "pooling_reshaping_tensor_info", "norms_and_default_ops", "lstm_gru_dynamic_int8",
        "qat_conv_bn_relu_linear", "layer_norm")),
    replace(_by_name("conv_transpose_and_bn"), name="conv_transpose_and_bn_per_tensor",
            qconfig_mapping=per_tensor_conv_transpose),
    Case(
        "conv_add",
        ("conv_add",),
        ConvAdds,
        _randn((2, 3, 4, 4), (2, 4, 4, 4)),
        static,
        ("intrinsic.quantized.modules.conv_add.ConvAdd2d",),
        modules=_conv_add_modules("ConvAdd2d"),
    ),
    Case(
        "conv_add_relu",
        ("conv_add_relu", "conv_add", "share_qparams_op"),
        lambda: ConvAdds(relu=True),
        _randn((2, 3, 4, 4), (2, 4, 4, 4)),
        static,
        ("intrinsic.quantized.modules.conv_add.ConvAddReLU2d", "intrinsic.quantized.modules.conv_add.ConvAdd2d",
         "relu"),
        # F.relu is not fused: the sum is a ConvAdd2d, then a quantized relu.
        modules=(*_conv_add_modules("ConvAddReLU2d"),
                 ("conv_functional_relu", "intrinsic.quantized.modules.conv_add.ConvAdd2d")),
    ),
    # QAT fuses conv + add (+ relu) without a batch norm (with one, the fuser raises:
    # see test_same_refusals.py); ConvAdd2d has no QAT module, so the conv trains unobserved.
    Case(
        "qat_conv_add_relu",
        ("conv_add_relu", "conv_add", "share_qparams_op"),
        lambda: ConvAdds(CONV_ADD_VARIANTS_WITHOUT_BN, relu=True),
        _randn((2, 3, 4, 4), (2, 4, 4, 4)),
        qat,
        ("intrinsic.quantized.modules.conv_add.ConvAddReLU2d", "intrinsic.quantized.modules.conv_add.ConvAdd2d"),
        qat=True,
        modules=(*_conv_add_modules("ConvAddReLU2d", CONV_ADD_VARIANTS_WITHOUT_BN),
                 ("conv_functional_relu", "intrinsic.quantized.modules.conv_add.ConvAdd2d")),
    ),
    Case(
        "linear_leaky_relu_tanh_bn",
        ("linear_eltwise", "linear_bn_leaky_relu"),
        LinearEltwise,
        _randn((4, 8)),
        linear_eltwise,
        ("intrinsic.quantized.modules.linear_relu.LinearLeakyReLU",
         "intrinsic.quantized.modules.linear_relu.LinearTanh"),
        modules=tuple((path, f"intrinsic.quantized.modules.linear_relu.{fused}")
                      for path, fused in _LINEAR_ELTWISE_FUSED),
    ),
    # Dynamic: fused the same way, but not lowered. Each fused module keeps a reference
    # Linear, with its weight quantized, and runs in float after a dynamic quantize.
    Case(
        "linear_leaky_relu_tanh_bn_dynamic_int8",
        ("linear_eltwise", "linear_bn_leaky_relu"),
        LinearEltwise,
        _randn((4, 8)),
        linear_eltwise_dynamic,
        ("quantize_per_tensor_dynamic",),
        modules=tuple(module for path, fused in _LINEAR_ELTWISE_FUSED
                      for module in ((path, f"intrinsic.modules.fused.{fused}"),
                                     (f"{path}.0", "quantized.reference.modules.linear.Linear"))),
    ),
    Case(
        "embedding_weight_only_qint8_reference",
        ("embedding_op",),
        Embeddings,
        lambda: (torch.randint(0, 20, (3, 4)), torch.tensor([0, 4, 8])),
        onednn_embedding_qint8,
        ("quantized.reference.modules.sparse.Embedding", "quantized.reference.modules.sparse.EmbeddingBag"),
        mode=REFERENCE,
        weight_dtype=torch.qint8,
        quantized_weights=("sparse.Embedding", "sparse.EmbeddingBag"),
    ),
)

# --- executorch: no quantized engine in torch; compared as reference models ----------


class ExecutorchConvLinear(nn.Module):
    """Executorch's weighted ops: Conv2d alone, with nn.ReLU and F.relu, with BatchNorm2d
    (and ReLU), functional conv2d + relu; Linear and F.linear."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.conv_relu = nn.Conv2d(4, 4, 1)
        self.relu = nn.ReLU()
        self.conv_functional_relu = nn.Conv2d(4, 4, 1)
        self.conv_bn = nn.Conv2d(4, 4, 1)
        self.bn = nn.BatchNorm2d(4)
        self.conv_bn_relu = nn.Conv2d(4, 4, 1)
        self.bn_relu = nn.BatchNorm2d(4)
        self.bn_relu_relu = nn.ReLU()
        self.conv_weight = nn.Parameter(torch.randn(4, 4, 1, 1))
        self.conv_bias = nn.Parameter(torch.randn(4))
        self.linear = nn.Linear(4 * 4 * 4, 8)
        self.linear_weight = nn.Parameter(torch.randn(5, 8))

    def forward(self, x):
        x = self.conv(x)
        x = self.relu(self.conv_relu(x))
        x = F.relu(self.conv_functional_relu(x))
        x = self.bn(self.conv_bn(x))
        x = self.bn_relu_relu(self.bn_relu(self.conv_bn_relu(x)))
        x = F.relu(F.conv2d(x, self.conv_weight, self.conv_bias, [1, 1], [0, 0], [1, 1], 1))
        return F.linear(self.linear(torch.flatten(x, 1)), self.linear_weight)


class ExecutorchElementwise(nn.Module):
    """Executorch's binary ops (+, -, * as operators and torch functions, alone and with
    each relu), a BatchNorm2d of its own, its share-qparams ops, and cat/concat/concatenate."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(4)
        self.relu = nn.ReLU()
        self.constant_pad = nn.ConstantPad2d(1, 0.5)
        self.max_pool = nn.MaxPool2d(2)
        self.adaptive_avg_pool = nn.AdaptiveAvgPool2d(2)
        self.elu = nn.ELU()
        self.hardtanh = nn.Hardtanh()
        self.relu6 = nn.ReLU6()
        self.leaky = nn.LeakyReLU()
        self.flatten = nn.Flatten()

    def forward(self, x, y):
        a, b = self.conv(x), self.bn(y)
        binary = (
            a + b, torch.add(a, b), a - b, torch.sub(a, b), a * b, torch.mul(a, b), a - 1.0,
            self.relu(a + b), F.relu(torch.sub(a, b)), torch.relu(a * b), F.relu(torch.mul(a, b)),
        )
        h = F.pad(self.constant_pad(a), [1, 1, 1, 1])  # 4x4 -> 8x8
        h = F.max_pool2d(self.max_pool(h), 2)  # -> 2x2
        h = F.adaptive_avg_pool2d(self.adaptive_avg_pool(h), 2)
        h = F.elu(self.elu(h))
        h = F.hardtanh(self.hardtanh(h))
        h = F.relu6(self.relu6(h))
        h = F.leaky_relu(self.leaky(h))
        h = F.relu(h).relu()
        h = torch.clamp(h, -1.0, 1.0).clamp(-0.5, 0.5)
        h = torch.permute(h, (0, 1, 3, 2)).permute(0, 1, 3, 2)
        h = torch.permute_copy(h, (0, 2, 3, 1)).reshape(2, 4, 2, 2)
        m = torch.squeeze(torch.mean(h, 3, keepdim=True), 3)
        m = m.mean(2, keepdim=True).squeeze(2)
        cat = (
            torch.cat([binary[0], binary[1]], 1),
            torch.concat([binary[2], binary[3]], 1),
            torch.concatenate([binary[4], binary[5]], 1),
        )
        return *binary, m, self.flatten(h), torch.flatten(h, 1), *cat


class LinearAndFunctional(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(8, 8)
        self.weight = nn.Parameter(torch.randn(4, 8))
        self.bias = nn.Parameter(torch.randn(4))

    def forward(self, x):
        return F.linear(self.linear(x), self.weight, self.bias)


class EmbeddingsAndFunctional(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(20, 8)
        self.bag = nn.EmbeddingBag(20, 8, mode="sum")
        self.weight = nn.Parameter(torch.randn(20, 8))

    def forward(self, indices, offsets):
        return self.embedding(indices), self.bag(indices.flatten(), offsets), F.embedding(indices, self.weight)


# Executorch's static dtype configs, each matched by a qconfig observed with min/max
# observers: a dtype config matches a qconfig's dtypes, ranges and eps, whatever kind of
# observer it names (torch's default qnnpack qconfigs use histogram observers, which
# take a second or so per model to compute their qparams).
executorch_qint8_symmetric_qconfig = QConfig(
    activation=MinMaxObserver.with_args(dtype=torch.qint8, eps=2**-12),
    weight=weight_observer_range_neg_127_to_127,
)
executorch_quint8_qconfig = QConfig(activation=MinMaxObserver.with_args(dtype=torch.quint8),
                                    weight=default_weight_observer)


def global_qconfig(qconfig: QConfig) -> Callable[[str | None], QConfigMapping]:
    return lambda engine: QConfigMapping().set_global(qconfig)


def object_types(qconfig: QConfig, *types) -> Callable[[str | None], QConfigMapping]:
    def mapping(engine: str | None) -> QConfigMapping:
        result = QConfigMapping()
        for object_type in types:
            result.set_object_type(object_type, qconfig)
        return result

    return mapping


# Dynamic qint8 activations within executorch's symmetric constraints: a scale of at
# least 2 ** -12 (the observer's eps), and weights in [-127, 127]. Without the eps the
# config does not match, and the linear stays float (test_same_refusals.py).
dynamic_qint8_symmetric_qconfig = QConfig(
    activation=MinMaxObserver.with_args(dtype=torch.qint8, is_dynamic=True, eps=2**-12),
    weight=weight_observer_range_neg_127_to_127,
)

_EXECUTORCH_CONV_LINEAR = ("quantized.reference.modules.conv.Conv2d", "intrinsic.modules.fused.ConvReLU2d", "conv2d",
                           "quantized.reference.modules.linear.Linear", "linear", "flatten")
_EXECUTORCH_CONV_LINEAR_MODULES = (
    ("conv_relu", "intrinsic.modules.fused.ConvReLU2d"),
    ("conv_functional_relu", "intrinsic.modules.fused.ConvReLU2d"),
    ("conv_bn", "quantized.reference.modules.conv.Conv2d"),  # the batch norm folded in
    ("conv_bn_relu", "intrinsic.modules.fused.ConvReLU2d"),
)
_EXECUTORCH_ELEMENTWISE = (
    "quantized.reference.modules.conv.Conv2d", "batchnorm.BatchNorm2d", "add", "sub", "mul",
    "ConstantPad2d", "pad", "MaxPool2d", "max_pool2d", "AdaptiveAvgPool2d", "adaptive_avg_pool2d",
    "activation.ELU", "elu", "activation.Hardtanh", "hardtanh", "activation.ReLU6", "relu6",
    "activation.LeakyReLU", "leaky_relu", "relu", "clamp", "permute", "permute_copy", "reshape", "mean", "squeeze",
    "flatten.Flatten", "flatten", "cat", "concat", "concatenate",
)


EXECUTORCH_CASES = (
    Case(
        "conv_linear_qint8_symmetric",
        ("conv", "linear", "share_qparams_op"),
        ExecutorchConvLinear,
        _randn((2, 3, 6, 6)),
        global_qconfig(executorch_qint8_symmetric_qconfig),
        _EXECUTORCH_CONV_LINEAR,
        mode=REFERENCE,
        activation_dtype=torch.qint8,
        weight_dtype=torch.qint8,
        quantized_weights=("conv.Conv2d", "ConvReLU2d", "conv2d", "linear.Linear", "linear"),
        modules=_EXECUTORCH_CONV_LINEAR_MODULES,
    ),
    Case(
        "conv_linear_quint8",
        ("conv", "linear", "share_qparams_op"),
        ExecutorchConvLinear,
        _randn((2, 3, 6, 6)),
        global_qconfig(executorch_quint8_qconfig),
        _EXECUTORCH_CONV_LINEAR,
        mode=REFERENCE,
        activation_dtype=torch.quint8,
        weight_dtype=torch.qint8,
        quantized_weights=("conv.Conv2d", "ConvReLU2d", "conv2d", "linear.Linear", "linear"),
        modules=_EXECUTORCH_CONV_LINEAR_MODULES,
    ),
    Case(
        "binary_share_qparams_bn_cat_qint8_symmetric",
        ("binary_op", "share_qparams_op", "bn", "cat", "conv"),
        ExecutorchElementwise,
        _randn((2, 3, 4, 4), (2, 4, 4, 4)),
        global_qconfig(executorch_qint8_symmetric_qconfig),
        _EXECUTORCH_ELEMENTWISE,
        mode=REFERENCE,
        activation_dtype=torch.qint8,
    ),
    Case(
        "binary_share_qparams_bn_cat_quint8",
        ("binary_op", "share_qparams_op", "bn", "cat", "conv"),
        ExecutorchElementwise,
        _randn((2, 3, 4, 4), (2, 4, 4, 4)),
        global_qconfig(executorch_quint8_qconfig),
        _EXECUTORCH_ELEMENTWISE,
        mode=REFERENCE,
        activation_dtype=torch.quint8,
    ),
    Case(
        "linear_dynamic_quint8",
        ("linear",),
        LinearAndFunctional,
        _randn((3, 8)),
        global_qconfig(default_dynamic_qconfig),
        ("quantized.reference.modules.linear.Linear",),
        mode=REFERENCE,
        activation_dtype=torch.quint8,
        weight_dtype=torch.qint8,
        quantized_weights=("linear.Linear", "linear"),
    ),
    Case(
        "linear_dynamic_qint8_symmetric",
        ("linear",),
        LinearAndFunctional,
        _randn((3, 8)),
        global_qconfig(dynamic_qint8_symmetric_qconfig),
        ("quantized.reference.modules.linear.Linear",),
        mode=REFERENCE,
        activation_dtype=torch.qint8,
        weight_dtype=torch.qint8,
        quantized_weights=("linear.Linear", "linear"),
    ),
    Case(
        "linear_dynamic_float16",
        ("linear",),
        LinearAndFunctional,
        _randn((3, 8)),
        global_qconfig(float16_dynamic_qconfig),
        ("quantized.reference.modules.linear.Linear",),
        mode=REFERENCE,
        activation_dtype=torch.float16,
        weight_dtype=torch.float16,
        quantized_weights=("linear.Linear", "linear"),
    ),
    Case(
        "embedding_weight_only_quint8",
        ("embedding_op",),
        EmbeddingsAndFunctional,
        lambda: (torch.randint(0, 20, (3, 4)), torch.tensor([0, 4, 8])),
        object_types(float_qparams_weight_only_qconfig, nn.Embedding, nn.EmbeddingBag, F.embedding),
        ("quantized.reference.modules.sparse.Embedding", "quantized.reference.modules.sparse.EmbeddingBag"),
        mode=REFERENCE,
        weight_dtype=torch.quint8,
        quantized_weights=("sparse.Embedding", "sparse.EmbeddingBag", "embedding"),
    ),
    Case(
        "qat_conv_bn_relu_linear_qint8_symmetric",
        ("conv", "linear"),
        QatModel,
        _randn((2, 3, 8, 8)),
        symmetric_qnnpack_qat,
        ("intrinsic.modules.fused.ConvReLU2d", "quantized.reference.modules.conv.Conv2d",
         "quantized.reference.modules.linear.Linear"),
        qat=True,
        mode=REFERENCE,
        activation_dtype=torch.qint8,
        weight_dtype=torch.qint8,
    ),
)

# --- the object types of torch's default QConfigMappings ----------------------------


class MappingOps(nn.Module):
    """Every object type torch's default mappings give a qconfig of its own: conv
    transpose (modules and a functional), layer norm (module and functional), PReLU,
    the fixed-qparams ops (modules, functions and methods) and reshape."""

    def __init__(self, transpose: bool = True):
        super().__init__()
        self.transpose = transpose
        self.conv = nn.Conv2d(3, 4, 1)
        if transpose:
            self.transpose1d = nn.ConvTranspose1d(4, 4, 2)
            self.transpose2d = nn.ConvTranspose2d(4, 4, 2)
            self.transpose_weight = nn.Parameter(torch.randn(4, 4, 2))
            self.transpose_bias = nn.Parameter(torch.randn(4))
        self.layer_norm = nn.LayerNorm([4, 4, 4])
        self.norm_weight = nn.Parameter(torch.rand(4) + 0.5)
        self.norm_bias = nn.Parameter(torch.rand(4))
        self.prelu = nn.PReLU()
        self.sigmoid = nn.Sigmoid()
        self.tanh = nn.Tanh()
        self.hardsigmoid = nn.Hardsigmoid()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = self.conv(x)
        outputs = []
        if self.transpose:
            flat = x.reshape(2, 4, 16)
            # quantized conv transpose prepacking needs every argument spelled out
            outputs += [self.transpose1d(flat), self.transpose2d(x),
                        F.conv_transpose1d(flat, self.transpose_weight, self.transpose_bias, [1], [0], [0], 1, [1])]
        y = self.layer_norm(x)
        z = F.layer_norm(x, [4], self.norm_weight, self.norm_bias)
        p = self.prelu(x)
        return (*outputs, y, z, p, self.sigmoid(x), self.tanh(y), self.hardsigmoid(z), self.softmax(x), torch.sigmoid(p),
                torch.tanh(x), F.hardsigmoid(x), x.sigmoid(), x.tanh(), x.reshape(2, -1).relu())


_MAPPING_OPS_GROUPS = ("conv", "default_op", "fixed_qparams_op", "share_qparams_op")
_MAPPING_OPS_QUANTIZED = ("normalization.LayerNorm", "quantized::layer_norm", "activation.PReLU", "activation.Softmax",
                          "activation.Sigmoid", "activation.Tanh", "activation.Hardsigmoid", "sigmoid", "tanh", "hardsigmoid",
                          "reshape")
_TRANSPOSE_QUANTIZED = ("conv.ConvTranspose1d", "conv.ConvTranspose2d", "quantized::conv_transpose1d")
MAPPING_OPS_PTQ = Case("mapping_ops", _MAPPING_OPS_GROUPS, MappingOps, _randn((2, 3, 4, 4)), static,
                       _TRANSPOSE_QUANTIZED + _MAPPING_OPS_QUANTIZED)
MAPPING_OPS_QAT = replace(MAPPING_OPS_PTQ, name="qat_mapping_ops", qconfig_mapping=qat, qat=True)
MAPPING_OPS_QAT_V0 = replace(MAPPING_OPS_PTQ, name="qat_v0_mapping_ops", qconfig_mapping=qat_v0, qat=True)
# onednn's default mappings observe conv transpose weights per channel, which its
# kernels refuse (see per_tensor_conv_transpose): the model leaves them out there.
ONEDNN_MAPPING_CASES = tuple(
    replace(case, model=lambda: MappingOps(transpose=False), expected_quantized=_MAPPING_OPS_QUANTIZED,
            op_groups=("conv", "layer_norm", "default_op", "fixed_qparams_op", "share_qparams_op"))
    for case in (MAPPING_OPS_PTQ, MAPPING_OPS_QAT)
)


def symmetric_qnnpack_mapping(engine: str | None) -> QConfigMapping:
    """torch's qint8 symmetric mapping: qint8 for every op but the fixed-qparams ones."""
    return _get_symmetric_qnnpack_qconfig_mapping()


def symmetric_qnnpack_qat_mapping(engine: str | None) -> QConfigMapping:
    return _get_symmetric_qnnpack_qat_qconfig_mapping()


# No XNNPACK on this CPU: the symmetric mappings are compared as reference models.
QNNPACK_SYMMETRIC_MAPPING_CASES = (
    replace(MAPPING_OPS_PTQ, name="symmetric_mapping_ops", qconfig_mapping=symmetric_qnnpack_mapping, mode=REFERENCE,
            expected_quantized=("reference.modules.conv.Conv2d", "reference.modules.conv.ConvTranspose1d",
                                "reference.modules.conv.ConvTranspose2d")),
    replace(MAPPING_OPS_QAT, name="qat_symmetric_mapping_ops", qconfig_mapping=symmetric_qnnpack_qat_mapping, mode=REFERENCE,
            expected_quantized=("reference.modules.conv.Conv2d", "reference.modules.conv.ConvTranspose1d",
                                "reference.modules.conv.ConvTranspose2d")),
)

CASES_BY_BACKEND = {
    "fbgemm": CASES + (MAPPING_OPS_PTQ, MAPPING_OPS_QAT),
    # QAT version 0 runs once, with torch's default engine.
    "x86": CASES + (MAPPING_OPS_PTQ, MAPPING_OPS_QAT, MAPPING_OPS_QAT_V0),
    "qnnpack": QNNPACK_CASES + (MAPPING_OPS_PTQ, MAPPING_OPS_QAT, *QNNPACK_SYMMETRIC_MAPPING_CASES),
    "native": CASES + LAYER_NORM_CASES,
    "native_legacy": CASES + LAYER_NORM_CASES + FLOAT16_STATIC_CASES,
    "tensorrt": TENSORRT_CASES,
    "onednn": ONEDNN_CASES + ONEDNN_MAPPING_CASES,
    "executorch": EXECUTORCH_CASES,
}
