"""Run fusers and node getters on the inputs FX gives them; describe what they do (needs torch).

Note [Comparing callables by behaviour]
A spec's fuser is rarely torch's object (``_sequential_fuser(ConvReLU2d)`` against
torch's private ``_sequential_wrapper2(ConvReLU2d)``), so callables are compared by
what they do, on the arguments FX itself passes (torch/ao/quantization/fx/fuse.py
and fuse_handler.py):

- a fuser gets ``is_qat``, then the matched modules, in each of the cases FX can
  produce (FUSER_CASES: inference on eval modules, QAT on training modules,
  inference on training modules, modules in mixed modes, only the first or only
  the last module training, convs and linears without bias): a module instance
  for a module type (built with non-default settings, NON_DEFAULT_SETTINGS, so a
  fuser that drops a stride or ignores an eps differs; seeded, every floating
  parameter and buffer randomized, so a BatchNorm that is not folded changes the
  weights), an ``nn.ReLU`` for ``F.relu``, the function itself for other
  functions and methods, ``MatchAllNode`` as is. A simple pattern's fuser is called in forward order
  ``fuser(is_qat, m1, m2[, m3])``; a complex-format one with the matched structure
  in torch's reversed nested format, ``fuser(is_qat, relu, (add, (bn, conv), extra))``.
  Two fusers agree when they return modules of the same structure, types, training
  flags, attributes, parameters and buffers, or raise the same exception type and
  message.
- a root-node or extra-inputs getter gets the matched node pattern: torch.fx Nodes
  in a nested tuple shaped like the pattern key. Two getters agree when they
  return the same positions of that structure.
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.fx
from torch.ao.quantization.utils import MatchAllNode

from ..user_code import running_user_code
from .description import Behaviour, Outcome, without_addresses
from .public_names import PublicNames

EXAMPLE_SEED = 0

# Constructor arguments for the modules fusion patterns are made of, by parameter
# name, so any conv, batch norm or linear variant can be built small.
_ARGUMENT_VALUES = {
    "in_channels": 2,
    "out_channels": 2,
    "kernel_size": 1,
    "num_features": 2,
    "in_features": 2,
    "out_features": 2,
    "normalized_shape": 2,
    "num_embeddings": 4,
    "embedding_dim": 2,
    "input_size": 2,
    "hidden_size": 2,
}


# Optional constructor arguments set away from their defaults, where a module type
# takes them (a type that refuses them is built with its defaults).
NON_DEFAULT_SETTINGS = {
    "stride": 2,
    "padding": 1,
    "dilation": 2,
    "groups": 2,
    "output_padding": 1,
    "eps": 1e-3,
    "momentum": 0.3,
    "negative_slope": 0.2,
}


@dataclass(frozen=True)
class FuserCase:
    label: str
    is_qat: bool
    # "eval", "train"; "mixed": the matched modules alternate, the last in forward
    # order training; "first", "last": only that module (in forward order) training.
    training: str
    bias: bool = True  # False: convs and linears are built without bias


# The training modes of up to three modules, up to flipping them all (a check
# compares modes): all alike, the middle one apart ("mixed"), the first apart, the
# last apart. A training-mode check that leaves out one pair, or joins the pairs
# with "and", differs from torch's in one of the last two.
FUSER_CASES = (
    FuserCase("is_qat=False", False, "eval"),
    FuserCase("is_qat=True", True, "train"),
    FuserCase("is_qat=False, modules training", False, "train"),
    FuserCase("is_qat=False, modules in mixed modes", False, "mixed"),
    FuserCase("is_qat=False, only the first module training", False, "first"),
    FuserCase("is_qat=False, only the last module training", False, "last"),
    FuserCase("is_qat=False, no bias", False, "eval", bias=False),
)


class _CannotBuild(Exception):
    """No example module can be built for a pattern element."""


def fuser_behaviour(fuser: Callable, key: Any, forward_order: bool, names: PublicNames) -> Behaviour:
    """What ``fuser`` does for the pattern keyed ``key`` (torch's reversed nested format).
    ``forward_order``: the fuser belongs to a simple pattern, so FX calls it in forward order."""
    name = names.name_of(fuser)
    outcomes = []
    for case in FUSER_CASES:
        with torch.random.fork_rng(devices=[]):
            # The CPU generator only (what the examples draw from): torch.manual_seed
            # also queues a lazy CUDA seeding, with a stack trace, on every call.
            torch.random.default_generator.manual_seed(EXAMPLE_SEED)
            try:
                matched = _Examples(case, names, _modules_in(key)).matched(key)
            except _CannotBuild as reason:
                return Behaviour(name, None, str(reason))
            arguments = _forward(matched) if forward_order else (matched if isinstance(matched, tuple) else (matched,))
            try:
                with running_user_code(f"calling fuser {name} ({case.label})"):
                    result = fuser(case.is_qat, *arguments)
            except Exception as error:  # noqa: BLE001 - raising the same error is the same behaviour
                outcomes.append(Outcome(case.label, _raised(error)))
                continue
            outcomes.append(_returned(case.label, result, names))
    return Behaviour(name, tuple(outcomes))


def getter_behaviour(getter: Callable, key: Any, names: PublicNames) -> Behaviour:
    """Which positions of the matched node pattern ``getter`` returns."""
    graph = torch.fx.Graph()
    positions: dict[torch.fx.Node, str] = {}

    def nodes(element: Any, position: str) -> Any:
        if isinstance(element, tuple):
            return tuple(nodes(item, f"{position}[{index}]") for index, item in enumerate(element))
        node = _node_for(graph, element, len(positions))
        positions[node] = f"{position} ({element if isinstance(element, str) else names.name_of(element)})"
        return node

    pattern = nodes(key, "node_pattern")
    try:
        with running_user_code(f"calling node getter {names.name_of(getter)}"):
            result = getter(pattern)
    except Exception as error:  # noqa: BLE001
        return Behaviour(names.name_of(getter), (Outcome("node_pattern", _raised(error)),))
    where = _positions(result, positions, names)
    return Behaviour(names.name_of(getter), (Outcome("node_pattern", f"returns {where}"),))


def _node_for(graph: torch.fx.Graph, element: Any, number: int) -> torch.fx.Node:
    """A node as FX would match ``element``: placeholder for MatchAllNode (any input)
    and for a literal (pt2e patterns hold the 0 of ``getitem(x, 0)``), call_module
    for a module type, call_method for a method name, call_function else."""
    name = f"n{number}"
    if element is MatchAllNode or not (callable(element) or isinstance(element, str)):
        return graph.create_node("placeholder", name, name=name)
    if isinstance(element, type) and issubclass(element, torch.nn.Module):
        return graph.create_node("call_module", f"module{number}", name=name)
    if isinstance(element, str):
        return graph.create_node("call_method", element, name=name)
    return graph.create_node("call_function", element, name=name)


def _positions(result: Any, positions: dict[torch.fx.Node, str], names: PublicNames) -> str:
    if isinstance(result, torch.fx.Node):
        return positions.get(result, f"a node not in the pattern ({result.op})")
    if isinstance(result, list):
        return "[" + ", ".join(_positions(item, positions, names) for item in result) + "]"
    if isinstance(result, tuple):
        return "(" + ", ".join(_positions(item, positions, names) for item in result) + ")"
    if result is None:
        return "None"
    return f"a {names.name_of(type(result))}"


def _forward(matched: Any) -> tuple:
    """Torch's reversed key structure back in forward order: (b, a) -> (a, b);
    (c, (b, a)) -> (a, b, c)."""
    if not isinstance(matched, tuple):
        return (matched,)
    last, rest = matched[0], matched[1:]
    if len(rest) == 1 and isinstance(rest[0], tuple):
        return (*_forward(rest[0]), last)
    return (*reversed(rest), last)


def _modules_in(key: Any) -> int:
    """How many module instances _Examples builds for ``key``."""
    if isinstance(key, tuple):
        return sum(_modules_in(item) for item in key)
    return int(key is not MatchAllNode and (key is torch.nn.functional.relu or isinstance(key, type) and issubclass(key, torch.nn.Module)))


class _Examples:
    """The matched modules FX would pass for a match of a key, in one FuserCase.
    They are built in the key's order, torch's reversed one: the last module in
    forward order first."""

    def __init__(self, case: FuserCase, names: PublicNames, modules: int):
        self.case = case
        self.names = names
        self.modules = modules
        self.built = 0

    def matched(self, key: Any) -> Any:
        if isinstance(key, tuple):
            return tuple(self.matched(item) for item in key)
        if key is MatchAllNode:
            return MatchAllNode
        if key is torch.nn.functional.relu:
            return torch.nn.ReLU().train(self.next_mode())
        if isinstance(key, type) and issubclass(key, torch.nn.Module):
            return self.module(key).train(self.next_mode())
        return key

    def next_mode(self) -> bool:
        training = {
            "eval": False,
            "train": True,
            "mixed": self.built % 2 == 0,
            "last": self.built == 0,
            "first": self.built == self.modules - 1,
        }[self.case.training]
        self.built += 1
        return training

    def module(self, module_type: type) -> torch.nn.Module:
        required: list[Any] = []
        optional: dict[str, Any] = {}
        for parameter in list(inspect.signature(module_type.__init__).parameters.values())[1:]:
            if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                continue
            if parameter.default is not inspect.Parameter.empty:
                if parameter.name in NON_DEFAULT_SETTINGS:
                    optional[parameter.name] = NON_DEFAULT_SETTINGS[parameter.name]
                elif parameter.name == "bias" and not self.case.bias:
                    optional["bias"] = False
                continue
            if parameter.name not in _ARGUMENT_VALUES:
                raise _CannotBuild(f"no example {self.names.name_of(module_type)}: unknown argument {parameter.name!r}")
            required.append(_ARGUMENT_VALUES[parameter.name])
        module = None
        for settings in (optional, {"bias": False} if "bias" in optional else {}, {}):
            try:
                module = module_type(*required, **settings)
                break
            except Exception as error:  # noqa: BLE001 - the next try has fewer settings
                failure = error
        if module is None:
            raise _CannotBuild(f"no example {self.names.name_of(module_type)}: {type(failure).__name__}: {failure}")
        with torch.no_grad():
            for tensor in (*module.parameters(), *module.buffers()):
                if tensor.is_floating_point():
                    # Away from BatchNorm's identity defaults (weight 1, mean 0, var 1).
                    tensor.uniform_(0.5, 1.5)
        return module


def _raised(error: Exception) -> str:
    return f"raises {type(error).__name__}: {without_addresses(str(error))}"


def _returned(case: str, result: Any, names: PublicNames) -> Outcome:
    if not isinstance(result, torch.nn.Module):
        return Outcome(case, f"returns {_value_text(result, names)}")
    values = []
    for prefix, module in result.named_modules():
        dot = f"{prefix}." if prefix else ""
        for name, tensor in (*module.named_parameters(recurse=False), *module.named_buffers(recurse=False)):
            values.append((f"{dot}{name}", _digest(tensor)))
        for name, value in sorted(vars(module).items()):
            if not name.startswith("_") and name != "training":
                values.append((f"{dot}{name}", _value_text(value, names)))
    return Outcome(case, f"returns {_module_text(result, names)}", tuple(values))


def _module_text(module: torch.nn.Module, names: PublicNames) -> str:
    """``torch.ao.nn.intrinsic.ConvReLU2d(0=torch.nn.Conv2d, 1=torch.nn.ReLU), eval``;
    training flags per module only when they are mixed."""
    modes = {submodule.training for submodule in module.modules()}

    def tree(current: torch.nn.Module) -> str:
        children = ", ".join(f"{name}={tree(child)}" for name, child in current.named_children())
        text = names.name_of(type(current)) + (f"({children})" if children else "")
        if len(modes) > 1:
            text += " [training]" if current.training else " [eval]"
        return text

    if len(modes) > 1:
        return tree(module)
    return f"{tree(module)}, {'training' if module.training else 'eval'}"


def _value_text(value: Any, names: PublicNames) -> str:
    if callable(value) or isinstance(value, type):
        return names.name_of(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_value_text(item, names) for item in value) + ")"
    return without_addresses(repr(value))


def _digest(tensor: torch.Tensor) -> str:
    content = f"{tensor.dtype}{tuple(tensor.shape)}{tensor.detach().flatten().tolist()}"
    return hashlib.sha256(content.encode()).hexdigest()[:16]
