"""FBGEMM-quantized models give the same graphs and bit-identical outputs with the
generated config and with torch's own, and really are quantized."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.fx
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx, prepare_qat_fx

from quantized_models import CASES, Case

QUANTIZED_MODULE_PREFIXES = ("torch.ao.nn.quantized", "torch.ao.nn.intrinsic.quantized")


@pytest.fixture(autouse=True, scope="module")
def fbgemm_engine():
    previous = torch.backends.quantized.engine
    torch.backends.quantized.engine = "fbgemm"
    yield
    torch.backends.quantized.engine = previous


def quantize(case: Case, float_model: torch.nn.Module, inputs: tuple, backend_config) -> torch.fx.GraphModule:
    model = copy.deepcopy(float_model)
    prepare = prepare_qat_fx if case.qat else prepare_fx
    prepared = prepare(model, case.qconfig_mapping(), inputs, backend_config=backend_config)
    torch.manual_seed(1)
    if case.qat:
        optimizer = torch.optim.SGD(prepared.parameters(), lr=0.01)
        for _ in range(2):
            optimizer.zero_grad()
            sum(out.sum() for out in flat_tensors(prepared(*inputs))).backward()
            optimizer.step()
        prepared.eval()
    with torch.no_grad():
        for _ in range(3):
            prepared(*[t + 0.1 * torch.randn_like(t) if t.is_floating_point() else t for t in inputs])
    return convert_fx(prepared, backend_config=backend_config)


def submodule_types(model: torch.nn.Module) -> list:
    # The root is skipped: every GraphModule instance gets a class of its own.
    return [(name, type(module)) for name, module in model.named_modules() if name]


def flat_tensors(value) -> list:
    if isinstance(value, (tuple, list)):
        return [item for element in value for item in flat_tensors(element)]
    return [value] if isinstance(value, torch.Tensor) else []


def flat_values(value) -> list:
    if isinstance(value, (tuple, list)):
        return [item for element in value for item in flat_values(element)]
    return [value]


class _QuantizedOpRecorder(torch.fx.Interpreter):
    """Runs a converted model and names every op that is quantized: a module from
    torch's quantized namespaces, or any op whose output is a quantized tensor."""

    def __init__(self, module):
        super().__init__(module)
        self.found: list[str] = []

    def run_node(self, node):
        result = super().run_node(node)
        name = self._name(node)
        if node.op == "call_module":
            cls = type(self.module.get_submodule(node.target))
            if cls.__module__.startswith(QUANTIZED_MODULE_PREFIXES):
                self.found.append(name)
                return result
        if node.op in ("call_module", "call_function", "call_method") and name != "quantize_per_tensor":
            if any(t.is_quantized for t in flat_tensors(result)):
                self.found.append(name)
        return result

    def _name(self, node) -> str:
        if node.op == "call_module":
            cls = type(self.module.get_submodule(node.target))
            return f"{cls.__module__}.{cls.__qualname__}"
        if node.op == "call_function":
            return getattr(node.target, "_qualified_op_name", None) or getattr(node.target, "__name__", str(node.target))
        return str(node.target)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_quantized_model_matches_torch_config(case, generated_module, torch_fbgemm_config, measurements):
    torch.manual_seed(0)
    float_model = case.model()
    float_model = float_model.train() if case.qat else float_model.eval()
    inputs = case.inputs()

    ours = quantize(case, float_model, inputs, generated_module.get_fbgemm_backend_config())
    theirs = quantize(case, float_model, inputs, torch_fbgemm_config)

    assert ours.code == theirs.code
    assert submodule_types(ours) == submodule_types(theirs)

    with torch.no_grad():
        our_outputs, their_outputs = flat_values(ours(*inputs)), flat_values(theirs(*inputs))
    assert len(our_outputs) == len(their_outputs) > 0
    for a, b in zip(our_outputs, their_outputs, strict=True):
        if isinstance(a, torch.Tensor):
            assert a.dtype == b.dtype and torch.equal(a, b)
        else:
            assert a == b

    recorder = _QuantizedOpRecorder(ours)
    with torch.no_grad():
        recorder.run(*inputs)
    quantized = recorder.found
    for expected in case.expected_quantized:
        assert any(name.endswith(expected) for name in quantized), (expected, sorted(set(quantized)))
    # The float model is not what was compared: its outputs differ from the quantized ones.
    with torch.no_grad():
        float_outputs = flat_tensors(float_model.eval()(*inputs))
    assert any(not torch.equal(f, q) for f, q in zip(float_outputs, flat_tensors(our_outputs)))

    measurements["models compared"] = measurements.get("models compared", 0) + 1
    measurements["quantized ops found"] = measurements.get("quantized ops found", 0) + len(quantized)
    measurements.setdefault("op groups exercised", set()).update(case.op_groups)


def test_every_op_group_of_the_spec_has_a_model(fbgemm_backend):
    exercised = {group for case in CASES for group in case.op_groups}
    assert exercised == {config.op_group for config in fbgemm_backend.pattern_configs}
