"""Quantized models give the same graphs and bit-identical outputs with each generated
config and with torch's own, run with the backend's engine, and really are quantized."""

from __future__ import annotations

import contextlib
import copy

import pytest
import torch
import torch.fx
from torch.ao.quantization.quantize_fx import convert_fx, convert_to_reference_fx, prepare_fx, prepare_qat_fx

import backends
import quantized_models
from backends import BACKENDS, IDS, MAPPINGS
from quantized_models import CASES_BY_BACKEND, LOWERED, REFERENCE, Case

QUANTIZED_MODULE_PREFIXES = ("torch.ao.nn.quantized", "torch.ao.nn.intrinsic.quantized")

# (backend, engine, case): each backend's cases, with each engine it runs with. A backend
# without a quantized engine (tensorrt) has only reference cases, run with none set.
RUNS = [
    (row, engine, case)
    for row in BACKENDS
    for engine in (row.engines or (None,))
    for case in CASES_BY_BACKEND[row.name]
]


@contextlib.contextmanager
def default_mappings(generated: bool, calls: list):
    """Within: each of torch's mapping functions quantized_models calls is recorded
    in ``calls``; with ``generated``, it returns the generated module's mapping that
    mirrors the call instead of torch's (the pair the tests compare: generated
    backend config and generated mapping against torch's two)."""
    functions = {id(backends.torch_function(row.torch_function)): row.torch_function for row in MAPPINGS}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in list(vars(quantized_models).items()):
            if id(value) in functions:
                patch.setattr(quantized_models, name, backends.mapping_builder(functions[id(value)], generated, calls))
        yield


def quantize(case: Case, float_model: torch.nn.Module, inputs: tuple, backend_config, engine: str | None,
             generated_mappings: bool = False, calls: list | None = None) -> torch.fx.GraphModule:
    model = copy.deepcopy(float_model)
    prepare = prepare_qat_fx if case.qat else prepare_fx
    with default_mappings(generated_mappings, [] if calls is None else calls):
        qconfig_mapping = case.qconfig_mapping(engine)
    prepared = prepare(model, qconfig_mapping, inputs, backend_config=backend_config)
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
    convert = convert_to_reference_fx if case.mode == REFERENCE else convert_fx
    return convert(prepared, backend_config=backend_config)


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


def node_name(module: torch.fx.GraphModule, node: torch.fx.Node) -> str:
    if node.op == "call_module":
        cls = type(module.get_submodule(node.target))
        return f"{cls.__module__}.{cls.__qualname__}"
    if node.op == "call_function":
        return getattr(node.target, "_qualified_op_name", None) or getattr(node.target, "__name__", str(node.target))
    return str(node.target)


class _QuantizedOpRecorder(torch.fx.Interpreter):
    """Runs a converted model and names every op that is quantized: a module from
    torch's quantized namespaces, or any op whose output is a quantized tensor."""

    def __init__(self, module):
        super().__init__(module)
        self.found: list[str] = []

    def run_node(self, node):
        result = super().run_node(node)
        name = node_name(self.module, node)
        if node.op == "call_module":
            cls = type(self.module.get_submodule(node.target))
            if cls.__module__.startswith(QUANTIZED_MODULE_PREFIXES):
                self.found.append(name)
                return result
        if node.op in ("call_module", "call_function", "call_method") and name != "quantize_per_tensor":
            if any(t.is_quantized for t in flat_tensors(result)):
                self.found.append(name)
        return result


def _is_quantize(node: torch.fx.Node) -> bool:
    """A node that quantizes an activation: quantize_per_tensor(_dynamic), or .to(float16)."""
    if node.op == "call_function":
        return node.target in (torch.quantize_per_tensor, torch.quantize_per_tensor_dynamic)
    return node.op == "call_method" and node.target == "to" and torch.float16 in node.args[1:]


def _is_dequantize(node: torch.fx.Node) -> bool:
    return node.op == "call_method" and node.target == "dequantize"


def _quantized_dtype(node: torch.fx.Node) -> torch.dtype | None:
    """The dtype a quantize node (of an activation or a weight) quantizes to; None for
    any other node."""
    if node.op == "call_function":
        if node.target is torch.quantize_per_tensor:
            return node.args[3]
        if node.target is torch.quantize_per_tensor_dynamic:
            return node.args[1]
        if node.target is torch.quantize_per_channel:
            return node.args[4]
    return torch.float16 if _is_quantize(node) else None


def _quantizes_a_parameter(node: torch.fx.Node) -> bool:
    """A quantize node of a weight (a parameter the graph reads), not of an activation."""
    return (
        _quantized_dtype(node) is not None
        and isinstance(node.args[0], torch.fx.Node)
        and node.args[0].op == "get_attr"
    )


def quantize_dtypes(module: torch.fx.GraphModule) -> list:
    """The dtype of each quantize node of an activation of a converted graph (the
    parameters a function takes, such as F.linear's weight, are not activations)."""
    return [
        dtype
        for node in module.graph.nodes
        if (dtype := _quantized_dtype(node)) is not None and not _quantizes_a_parameter(node)
    ]


def quantized_in_graph(module: torch.fx.GraphModule) -> list[str]:
    """Names the ops a reference (or float16) model quantizes: a module from torch's
    quantized namespaces (reference modules), or an op that takes a dequantized input
    and whose output is quantized again, directly or after one fused op (conv -> relu)."""
    found = []
    for node in module.graph.nodes:
        if node.op not in ("call_module", "call_function", "call_method") or _is_quantize(node) or _is_dequantize(node):
            continue
        name = node_name(module, node)
        if name.startswith(QUANTIZED_MODULE_PREFIXES):
            found.append(name)
            continue
        inputs: list[torch.fx.Node] = []
        torch.fx.node.map_arg((node.args, node.kwargs), inputs.append)
        if any(_is_dequantize(arg) for arg in inputs) and any(
            _is_quantize(user) or any(_is_quantize(next_user) for next_user in user.users) for user in node.users
        ):
            found.append(name)
    return found


def quantized_weights(module: torch.fx.GraphModule) -> list[tuple[str, torch.dtype]]:
    """(op, dtype) for each quantized weight of a reference model: a reference module's
    (its weight_dtype; for a fused module such as ConvReLU2d, its first module's), or a
    parameter quantized, dequantized and passed to a function."""
    found = []
    for node in module.graph.nodes:
        if node.op == "call_module":
            submodule = module.get_submodule(node.target)
            if isinstance(submodule, torch.nn.Sequential):
                submodule = submodule[0]
            if isinstance(getattr(submodule, "weight_dtype", None), torch.dtype):
                assert submodule.get_quantized_weight().dtype == submodule.weight_dtype
                found.append((node_name(module, node), submodule.weight_dtype))
        elif node.op in ("call_function", "call_method") and not _is_quantize(node) and not _is_dequantize(node):
            inputs: list[torch.fx.Node] = []
            torch.fx.node.map_arg((node.args, node.kwargs), inputs.append)
            for arg in inputs:
                quantize = arg.args[0] if _is_dequantize(arg) else None
                if isinstance(quantize, torch.fx.Node) and _quantizes_a_parameter(quantize):
                    found.append((node_name(module, node), _quantized_dtype(quantize)))
    return found


@pytest.fixture
def engine(request):
    previous = torch.backends.quantized.engine
    if request.param is not None:
        torch.backends.quantized.engine = request.param
    yield request.param
    torch.backends.quantized.engine = previous


@pytest.mark.parametrize(
    ("row", "engine", "case"),
    RUNS,
    ids=[f"{row.name}-{engine or 'no_engine'}-{case.name}" for row, engine, case in RUNS],
    indirect=["engine"],
)
def test_quantized_model_matches_torch_config(row, engine, case, measurements):
    torch.manual_seed(0)
    float_model = case.model()
    float_model = float_model.train() if case.qat else float_model.eval()
    inputs = case.inputs()

    # Ours: the generated backend config, and the generated mappings wherever the
    # case takes one of torch's (called with the same arguments).
    our_calls: list = []
    their_calls: list = []
    ours = quantize(case, float_model, inputs, backends.generated_config(row.name), engine, True, our_calls)
    theirs = quantize(case, float_model, inputs, backends.torch_config(row.name), engine, False, their_calls)
    assert our_calls == their_calls

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

    # The model really is quantized, where the case expects it.
    if case.mode == LOWERED:
        recorder = _QuantizedOpRecorder(ours)
        with torch.no_grad():
            recorder.run(*inputs)
        quantized = recorder.found
    else:
        quantized = quantized_in_graph(ours)
    for expected in case.expected_quantized:
        assert any(name.endswith(expected) for name in quantized), (expected, sorted(set(quantized)))
    if case.activation_dtype is not None:
        dtypes = quantize_dtypes(ours)
        assert dtypes and set(dtypes) == {case.activation_dtype}, dtypes
    if case.weight_dtype is not None:
        weights = quantized_weights(ours)
        assert weights and {dtype for _, dtype in weights} == {case.weight_dtype}, weights
        for expected in case.quantized_weights:
            assert any(name.endswith(expected) for name, _ in weights), (expected, weights)
    for path, expected in case.modules:
        cls = type(ours.get_submodule(path))
        assert f"{cls.__module__}.{cls.__qualname__}".endswith(expected), (path, cls)
    # The float model is not what was compared: its outputs differ from the quantized ones.
    with torch.no_grad():
        float_outputs = flat_tensors(float_model.eval()(*inputs))
    assert any(not torch.equal(f, q) for f, q in zip(float_outputs, flat_tensors(our_outputs)))

    compared = measurements.setdefault("models compared", {})
    compared[row.name] = compared.get(row.name, 0) + 1
    if our_calls:
        with_mappings = measurements.setdefault("models compared with generated qconfig mappings", {})
        with_mappings[engine] = with_mappings.get(engine, 0) + 1
        measurements.setdefault("generated qconfig mappings used", set()).update(
            f"{path.rpartition('.')[2]}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})" for path, arguments in our_calls)
    measurements["quantized ops found"] = measurements.get("quantized ops found", 0) + len(quantized)
    measurements.setdefault("op groups exercised", set()).update(case.op_groups)


def test_every_backend_has_cases():
    assert set(CASES_BY_BACKEND) == set(IDS)


@pytest.mark.parametrize("row", BACKENDS, ids=IDS)
def test_every_op_group_of_the_spec_has_a_model(row):
    used = {config.op_group for config in backends.loaded_spec(row.name).pattern_configs}
    cases = CASES_BY_BACKEND[row.name]
    exercised = {group for case in cases for group in case.op_groups}
    assert used <= exercised, sorted(used - exercised)
    # And no case is there for nothing: each exercises some op group of this backend.
    assert all(used & set(case.op_groups) for case in cases)
