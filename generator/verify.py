"""Compare a generated BackendConfig with torch's own, field by field (needs torch).

Used by ``--verify`` and by the tests. Fields are enumerated from the objects
themselves (``vars`` and dataclass fields), so a field torch adds later cannot
be skipped silently. Fuser methods that are not the same object are compared
by what they do to real modules, with ``is_qat`` True and False.
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import types
from dataclasses import dataclass
from typing import Any, Callable

import torch

# BackendConfig.set_backend_pattern_config needs this module loaded (torch 2.13).
import torch.ao.quantization.backend_config.utils  # noqa: F401
from torch.ao.quantization.backend_config import BackendConfig, DTypeConfig, DTypeWithConstraints

from .model import Backend, PatternConfig, Symbol
from .resolve import missing_symbols

# Constructor arguments for the modules fusion patterns are made of.
_EXAMPLE_ARGS: dict[str, tuple[int, ...]] = {
    "Conv1d": (2, 2, 1),
    "Conv2d": (2, 2, 1),
    "Conv3d": (2, 2, 1),
    "ConvTranspose1d": (2, 2, 1),
    "ConvTranspose2d": (2, 2, 1),
    "ConvTranspose3d": (2, 2, 1),
    "BatchNorm1d": (2,),
    "BatchNorm2d": (2,),
    "BatchNorm3d": (2,),
    "Linear": (2, 2),
}


@dataclass(frozen=True)
class Difference:
    pattern: str  # the pattern, as the report names it; "" for the config as a whole
    message: str

    def __str__(self) -> str:
        return f"{self.pattern}: {self.message}" if self.pattern else self.message


def describe(value: Any) -> str:
    """A readable name for a pattern element, field value or dtype."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, tuple):
        return f"({', '.join(describe(item) for item in value)})"
    if isinstance(value, list):
        return f"[{', '.join(describe(item) for item in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{describe(k)}: {describe(v)}" for k, v in value.items()) + "}"
    if isinstance(value, DTypeConfig):
        return f"DTypeConfig({', '.join(f'{k}={describe(v)}' for k, v in vars(value).items())})"
    if isinstance(value, type) or callable(value):
        module = getattr(value, "__module__", None) or ""
        name = getattr(value, "__qualname__", None) or getattr(value, "__name__", None) or repr(value)
        return f"{module}.{name}" if module else name
    return repr(value)


def compare_backend_configs(
    ours: BackendConfig, theirs: BackendConfig, names: dict[Any, str] | None = None
) -> list[Difference]:
    """Every difference between two BackendConfigs: name, pattern keys and their
    order, and every attribute of every BackendPatternConfig. ``theirs`` is the
    reference (old -> new reads theirs -> ours). ``names`` maps pattern keys to
    the names the report uses."""
    names = names or {}
    differences = []
    if ours.name != theirs.name:
        differences.append(Difference("", f"backend name: {theirs.name!r} -> {ours.name!r}"))
    our_configs = ours._pattern_complex_format_to_config
    their_configs = theirs._pattern_complex_format_to_config
    label = lambda key: names.get(key) or describe(key)  # noqa: E731
    for key in their_configs:
        if key not in our_configs:
            differences.append(Difference(label(key), "removed (torch has it, the generated config does not)"))
    for key in our_configs:
        if key not in their_configs:
            differences.append(Difference(label(key), "added (the generated config has it, torch does not)"))
    common_ours = [key for key in our_configs if key in their_configs]
    common_theirs = [key for key in their_configs if key in our_configs]
    if common_ours != common_theirs:
        first = next(i for i, (a, b) in enumerate(zip(common_ours, common_theirs, strict=True)) if a != b)
        differences.append(
            Difference("", f"pattern order differs from position {first}: {label(common_theirs[first])} -> {label(common_ours[first])}")
        )
    for key in common_theirs:
        for field, message in compare_pattern_configs(our_configs[key], their_configs[key]):
            differences.append(Difference(label(key), f"{field}: {message}"))
    return differences


def compare_pattern_configs(ours: Any, theirs: Any) -> list[tuple[str, str]]:
    """(field, "old -> new") for every attribute that differs."""
    ours_fields, theirs_fields = vars(ours), vars(theirs)
    differences = []
    for field in dict.fromkeys([*theirs_fields, *ours_fields]):
        if field not in ours_fields or field not in theirs_fields:
            differences.append((field, "present on only one side"))
            continue
        old, new = theirs_fields[field], ours_fields[field]
        if field == "dtype_configs":
            message = _compare_dtype_configs(new, old)
        elif field == "fuser_method" and callable(old) and callable(new) and old is not new:
            message = compare_fuser_methods(new, old, ours.pattern or ours._pattern_complex_format)
        else:
            message = None if _same(old, new) else f"{describe(old)} -> {describe(new)}"
        if message:
            differences.append((field, message))
    return differences


def _same(old: Any, new: Any) -> bool:
    """Equality that does not let 1 == True or 0.0 == 0 hide a changed type."""
    if type(old) is not type(new):
        return False
    if isinstance(old, (list, tuple)):
        return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new))
    if isinstance(old, dict):
        # Key order carries no meaning in these mappings (input_type_to_index, ...).
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    return old is new or old == new


def _compare_dtype_configs(ours: list[DTypeConfig], theirs: list[DTypeConfig]) -> str | None:
    if not isinstance(ours, list) or not isinstance(theirs, list):
        return None if _same(theirs, ours) else f"{describe(theirs)} -> {describe(ours)}"
    if len(ours) != len(theirs):
        return f"{len(theirs)} dtype configs -> {len(ours)}"
    for index, (new, old) in enumerate(zip(ours, theirs, strict=True)):
        for field in dict.fromkeys([*vars(old), *vars(new)]):
            old_value, new_value = getattr(old, field, None), getattr(new, field, None)
            if isinstance(old_value, DTypeWithConstraints) and isinstance(new_value, DTypeWithConstraints):
                for constraint in dataclasses.fields(DTypeWithConstraints):
                    a, b = getattr(old_value, constraint.name), getattr(new_value, constraint.name)
                    if not _same(a, b):
                        return f"[{index}].{field}.{constraint.name}: {describe(a)} -> {describe(b)}"
            elif not _same(old_value, new_value):
                return f"[{index}].{field}: {describe(old_value)} -> {describe(new_value)}"
    return None


def _example_module(element: Any, training: bool) -> torch.nn.Module:
    """A small real module for one element of a fusion pattern. Functional relu
    stands in as nn.ReLU, as torch's fuse handler does."""
    if isinstance(element, type) and issubclass(element, torch.nn.Module):
        module = element(*_EXAMPLE_ARGS.get(element.__name__, ()))
    else:
        module = torch.nn.ReLU()
    return module.train(training)


def _outcome(fuser: Callable, pattern: tuple, is_qat: bool) -> Any:
    """What ``fuser`` returns for fresh, seeded modules: a comparable fingerprint."""
    torch.manual_seed(0)
    modules = [_example_module(element, training=is_qat) for element in pattern]
    for module in modules:
        for buffer_name in ("running_mean", "running_var"):
            buffer = getattr(module, buffer_name, None)
            if buffer is not None:
                buffer.uniform_(0.5, 1.5)
    try:
        result = fuser(is_qat, *modules)
    except Exception as error:  # both sides raising the same error is the same behaviour
        return ("raises", type(error).__name__, str(error))
    if not isinstance(result, torch.nn.Module):
        return ("returns", describe(type(result)))
    structure = tuple((name, type(module).__qualname__, module.training) for name, module in result.named_modules())
    state = tuple((name, tuple(tensor.shape), tensor.detach().flatten().tolist()) for name, tensor in result.state_dict().items())
    return ("module", structure, state)


def compare_fuser_methods(ours: Callable, theirs: Callable, pattern: Any) -> str | None:
    """None when both fuse the pattern's modules into the same thing, for is_qat True and False."""
    if not isinstance(pattern, tuple):
        return f"cannot compare fuser methods by behaviour for non-sequence pattern {describe(pattern)}"
    for is_qat in (False, True):
        old, new = _outcome(theirs, pattern, is_qat), _outcome(ours, pattern, is_qat)
        if old != new:
            return f"fuser behaves differently with is_qat={is_qat}: {describe(theirs)} -> {describe(ours)}"
    return None


def load_generated_module(source: str, name: str) -> types.ModuleType:
    """Execute generated source as a module, without writing it anywhere."""
    module = types.ModuleType(name)
    exec(compile(source, f"<generated {name}>", "exec"), module.__dict__)
    return module


def verify_source(backend: Backend, source: str) -> bool:
    """``--verify``: import the generated source and compare it with torch's config.
    Prints a report; returns whether they are the same."""
    spec = backend.files[0].display_path
    missing = missing_symbols(backend)
    if missing:
        for line in missing:
            print(f"error: {line} (torch {torch.__version__})", file=sys.stderr)
        return False
    try:
        module = load_generated_module(source, backend.getter)
        ours = getattr(module, backend.getter)()
    except Exception as error:  # the installed torch rejects the config: report, don't crash
        print(f"error: {spec}: the generated module fails with torch {torch.__version__}: "
              f"{type(error).__name__}: {error}", file=sys.stderr)
        return False
    if backend.torch_getter is None:
        print(f"{spec}: builds {len(ours.configs)} pattern configs; no torch_getter to compare with")
        return True
    theirs = getattr(importlib.import_module(backend.torch_getter.module), backend.torch_getter.path.rpartition(".")[2])()
    # Our keys are torch objects in the model's order: name them as the spec does.
    names = {key: config.pattern_text for key, config in zip(ours._pattern_complex_format_to_config, backend.pattern_configs, strict=True)}
    differences = compare_backend_configs(ours, theirs, names)
    reference = f"{backend.torch_getter.path}() of torch {torch.__version__}"
    if not differences:
        print(f"{spec}: same as {reference}: {len(ours.configs)} pattern configs, every field equal")
        return True
    print(f"{spec}: {len(differences)} difference(s) from {reference} (old -> new is torch -> spec):")
    for difference in differences:
        print(f"  {difference}")
    return False
