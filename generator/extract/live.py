"""Load the function an extraction starts from: ``MODULE:FUNCTION`` returning a
BackendConfig (needs torch), and the module-level constants of the module that
defines it, which name the extracted dtype configs and constraints."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

# BackendConfig.set_backend_pattern_config needs this module loaded (torch 2.13).
import torch.ao.quantization.backend_config.utils  # noqa: F401
from torch.ao.quantization.backend_config import BackendConfig, DTypeConfig, DTypeWithConstraints

from ..user_code import running_user_code

USAGE = "expected MODULE:FUNCTION, a function returning a BackendConfig, e.g. torch.ao.quantization.backend_config:get_fbgemm_backend_config"


class ExtractError(Exception):
    """Bad input: the target cannot be loaded, or the config holds something the spec
    format cannot express. One problem, one line."""


@dataclass(frozen=True)
class Constants:
    """The module-level objects of the function's module, in the module's order."""

    dtype_configs: tuple[tuple[str, Any], ...]  # (name, DTypeConfig)
    constraints: tuple[tuple[str, Any], ...]  # (name, DTypeWithConstraints with bounds)
    # Names the module assigns itself (not imports): its own dtype configs are
    # declared in the spec even when the config does not use them.
    defined: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Target:
    """The loaded function and the config it returned."""

    label: str  # MODULE:FUNCTION as the user wrote it
    module: str
    function_name: str
    function: Callable[[], Any]
    config: BackendConfig
    constants: Constants

    @property
    def dotted(self) -> str:
        """The function's import path, as backend.torch_getter names it."""
        return f"{self.module}.{self.function_name}"

    @property
    def doc(self) -> str | None:
        """The first sentence of the function's docstring (up to the first line that
        ends one), on one line."""
        text = inspect.getdoc(self.function)
        if not text:
            return None
        lines = []
        for line in text.strip().split("\n\n")[0].splitlines():
            lines.append(line.strip())
            if line.rstrip().endswith("."):
                break
        return " ".join(" ".join(lines).split()).replace("`", "") or None


def load_target(label: str) -> Target:
    """Import ``MODULE:FUNCTION``, call it and check it returns a BackendConfig."""
    module_name, colon, function_name = label.partition(":")
    if not colon or not module_name or not function_name or ":" in function_name:
        raise ExtractError(f"{label}: {USAGE}")
    try:
        with running_user_code(f"importing {module_name}"):
            module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any failure to import is bad input
        raise ExtractError(f"{label}: cannot import {module_name}: {type(error).__name__}: {error}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ExtractError(f"{label}: {module_name} has no function {function_name!r}")
    try:
        with running_user_code(f"calling {function_name}()"):
            config = function()
    except Exception as error:  # noqa: BLE001
        raise ExtractError(f"{label}: {function_name}() raised {type(error).__name__}: {error}") from None
    if not isinstance(config, BackendConfig):
        raise ExtractError(f"{label}: {function_name}() returned {type(config).__name__}, not a BackendConfig")
    return Target(label, module_name, function_name, function, config, module_constants(function, module))


def module_constants(function: Any, fallback: Any) -> Constants:
    """The constants of the module that defines ``function`` (torch's
    ``get_fbgemm_backend_config``, re-exported by its package, is defined in fbgemm.py)."""
    defining = sys.modules.get(getattr(function, "__module__", None) or "")
    namespace = vars(defining) if defining is not None else getattr(function, "__globals__", None) or vars(fallback)
    dtype_configs = []
    constraints = []
    for name, value in namespace.items():
        if name.startswith("__"):
            continue
        if isinstance(value, DTypeConfig):
            dtype_configs.append((name, value))
        elif isinstance(value, DTypeWithConstraints) and _has_bounds(value):
            constraints.append((name, value))
    return Constants(tuple(dtype_configs), tuple(constraints), _assigned_names(defining))


def _has_bounds(value: Any) -> bool:
    return any(getattr(value, name) is not None for name in vars(value) if name != "dtype")


def _assigned_names(module: Any) -> frozenset[str]:
    """Names bound by a top-level assignment in the module's source (not by an
    import); empty when the source cannot be read."""
    if module is None:
        return frozenset()
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError, SyntaxError, ValueError):
        return frozenset()
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return frozenset(names)
