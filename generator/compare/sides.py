"""Load the sides of a comparison and describe them (needs torch).

A side is a spec (``spec/fbgemm.toml``, or ``builtin:NAME``), a spec at a git
revision (``REV:path/to/spec.toml``), a generated module (``generated/fbgemm.py``),
or ``MODULE:FUNCTION`` returning a BackendConfig or a QConfigMapping. A spec is built as users get it:
its module generated in memory and run (its QConfigMapping getters too), with a named stand-in for each symbol the
installed torch lacks (see generated_source.py).

Sides are loaded first and described together (``describe_sides``): objects are
named by the paths the sides' own code uses, and both sides must agree on them.

The generator's pipeline is used only here, through two entry points:
``load_backend`` and ``build_module``.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch.ao.quantization import QConfigMapping
from torch.ao.quantization.backend_config import BackendConfig

from .. import user_code
from ..errors import SpecError
from ..formatting import build_module
from ..jobs import regenerate_command
from ..loader import load_backend
from ..model import Backend
from ..user_code import running_user_code
from .describe import describe_backend_config, dtype_config_names
from .description import ConfigDescription, MissingSymbol
from .generated_source import resolve_problem, run_generated_source
from .gitrev import RevisionError, materialize
from .mapping_sides import MappingError, call_mapping_getter, check_mapping, mapping_getters, returns_mapping
from .public_names import PublicNames
from .side_names import USAGE, module_source, side_name
from .spec_module import SpecModule, identifier

_TORCH_BACKENDS = "torch.ao.quantization.backend_config."
_TARGETS = re.compile(r"^# Targets: torch (\S+) ", re.MULTILINE)


def installed_torch() -> str:
    """The installed torch release: ``2.13.0`` for ``2.13.0+cpu`` and ``2.13.0+cu121``
    alike; the build variant does not change a config."""
    return torch.__version__.split("+")[0]


class SideError(Exception):
    """A side cannot be loaded: bad input. ``lines`` say why, one problem a line."""

    def __init__(self, lines: list[str]):
        super().__init__("\n".join(lines))
        self.lines = lines


class SideBuildError(SideError):
    """A side loaded, but building its BackendConfig with the installed torch failed."""


@dataclasses.dataclass(frozen=True)
class Side:
    """A loaded side: its live config and mappings, and what a report says about it."""

    config: BackendConfig | None  # None: a MODULE:FUNCTION returning a QConfigMapping
    source: str  # as the user named it
    kind: str
    constants: dict[int, str]  # DTypeConfig id -> the constant naming it
    torch_version: str | None
    missing: tuple[MissingSymbol, ...] = ()
    named: dict[str, Any] = dataclasses.field(default_factory=dict)  # dotted names its code uses
    mappings: tuple[tuple[str, Any], ...] = ()  # (getter, live QConfigMapping), in the module's order


def describe_sides(*sides: Side, names: PublicNames | None = None) -> list[ConfigDescription]:
    """Describe sides for one comparison: each object named the same on every side,
    by the first side whose code names it, else by torch's public path (see
    Note [Naming objects in a comparison] in public_names.py); ``names``, when the
    caller names the sides' mappings with them too."""
    names = names if names is not None else PublicNames.preferring(*(side.named for side in sides))
    described = []
    for side in sides:
        if side.config is None:
            continue
        # The config's objects are the user's: a __repr__ that raises fails here.
        with user_code.doing("describing its config", subject=side.source):
            described.append(
                describe_backend_config(side.config, side.source, side.kind, side.constants, side.torch_version, side.missing, names)
            )
    return described


def load_side(argument: str) -> Side:
    """The side an argument names; raises SideError."""
    name = side_name(argument)
    if name is None:
        raise SideError([f"{argument}: {USAGE}"])
    if name.kind == "packaged spec":
        # Packaged specs: the loader knows how to find them.
        return _spec_side(argument, argument, name.kind)
    if name.kind == "spec at git revision":
        return _revision_side(name.first, name.second, argument)
    if name.kind == "function":
        return load_function_side(name.first, name.second, argument, name.kind)
    if name.kind == "spec":
        return _spec_side(Path(argument), argument, name.kind)
    return _module_side(Path(argument), argument)


def _spec_side(spec: str | Path, label: str, kind: str, rename: tuple[str, str] | None = None) -> Side:
    try:
        backend = load_backend(spec)
    except SpecError as error:
        lines = [str(problem) for problem in error.problems]
        if rename:
            lines = [line.replace(*rename) for line in lines]
        raise SideError(lines) from None
    # Built as a plain run generates it: the same header, so the same module.
    source = build_module(backend, regenerate_command(backend.files[0].display_path, None))
    return load_generated(backend, source, label, kind, rename)


def _revision_side(revision: str, path: str, label: str) -> Side:
    with tempfile.TemporaryDirectory(prefix="backendconfig-gen-rev-") as directory:
        root = Path(directory).resolve()
        try:
            spec = materialize(revision, path, root)
        except RevisionError as error:
            raise SideError([f"{label}: {error}"]) from None
        # Files are named in reports as REV:path, never by the temporary directory.
        return _spec_side(spec, label, "spec at git revision", (f"{root.as_posix()}/", f"{revision}:"))


def load_generated(
    backend: Backend, source: str, label: str, kind: str, rename: tuple[str, str] | None = None
) -> Side:
    """Run a spec's generated module source for its config; a symbol the installed
    torch lacks is reported with the spec file and key that name it."""
    return load_spec_module(SpecModule.of(backend), source, label, kind, rename)


def load_spec_module(
    spec: SpecModule, source: str, label: str, kind: str, rename: tuple[str, str] | None = None
) -> Side:
    """load_generated, from what the module needs of its spec (as --verify's child has it)."""
    try:
        with running_user_code("running its generated module"):
            run = run_generated_source(source, f"<generated from {label}>", spec.module_name)
            config = getattr(run.module, spec.getter)()
    except Exception as error:  # noqa: BLE001 - the installed torch rejects the config
        raise SideBuildError(
            [f"{label}: the generated module fails with torch {installed_torch()}: {type(error).__name__}: {error}"]
        ) from None
    missing = tuple(MissingSymbol(spec.where(item.path, label, rename), item.path, item.problem) for item in run.unresolved)
    constants = dtype_config_names(vars(run.module))
    try:
        mappings = _module_mappings(vars(run.module), label)
    except SideError as error:
        # A constructor the installed torch lacks fails only when a getter runs: name
        # the spec key that writes it.
        named = [item.symbol.removesuffix(".with_args") for item in missing if f"{item.symbol} is missing" in str(error)]
        raise SideError([f"{spec.where(path, label, rename)}: {path}: expected a class of the installed torch "
                         f"{installed_torch()}; {resolve_problem(path)}" for path in named] or error.lines) from None
    return Side(config, label, kind, constants, spec.torch_version, missing, run.named, mappings)


def _module_side(path: Path, label: str) -> Side:
    source, problems = module_source(path, label)  # a regular file, read with a bound
    if problems:
        raise SideError(problems)
    try:
        with running_user_code("running the module"):
            run = run_generated_source(source, str(path), identifier(path.stem))
    except Exception as error:  # noqa: BLE001
        raise SideError([f"{label}: cannot run it: {type(error).__name__}: {error}"]) from None
    # The getter is the one function the module exports that returns a BackendConfig;
    # the rest are dtype configs, and QConfigMapping getters and their constructors.
    exported = getattr(run.module, "__all__", None) or []
    getters = [name for name in exported if _is_backend_getter(getattr(run.module, name, None))]
    if len(getters) != 1:
        raise SideError([f"{label}: expected a generated module, whose __all__ names one getter function"])
    config = _call(getattr(run.module, getters[0]), getters[0], label)
    missing = tuple(MissingSymbol(f"{label}:{item.line}", item.path, item.problem) for item in run.unresolved)
    verified = _TARGETS.search(source)
    constants = dtype_config_names(vars(run.module))
    mappings = _module_mappings(vars(run.module), label)
    return Side(config, label, "generated module", constants, verified[1] if verified else None, missing, run.named, mappings)


def _module_mappings(namespace: dict[str, Any], label: str) -> tuple[tuple[str, Any], ...]:
    """The QConfigMappings a generated module's getters return, checked."""
    try:
        return tuple((name, call_mapping_getter(namespace[name], name, label)) for name in mapping_getters(namespace))
    except MappingError as error:
        raise SideError([str(error)]) from None


def _is_backend_getter(value: Any) -> bool:
    """A function that is not annotated to return a QConfigMapping."""
    return inspect.isfunction(value) and not returns_mapping(value)


def load_function_side(
    module_name: str, function_name: str, label: str, kind: str, torch_version: str | None = None
) -> Side:
    """``MODULE:FUNCTION``: import the module, call the function; it returns a
    BackendConfig, or a QConfigMapping (then the side's one mapping, named FUNCTION)."""
    try:
        with running_user_code(f"importing {module_name}"):
            module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any failure to import is bad input
        raise SideError([f"{label}: cannot import {module_name}: {type(error).__name__}: {error}"]) from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise SideError([f"{label}: {module_name} has no function {function_name!r}"])
    config = _call(function, function_name, label)
    if isinstance(config, QConfigMapping):
        try:
            with running_user_code("checking its QConfigMapping"):
                check_mapping(config, f"{label}: {function_name}()")
        except MappingError as error:
            raise SideError([str(error)]) from None
        return Side(None, label, kind, {}, torch_version, mappings=((function_name, config),))
    # DTypeConfigs are named by the module that defines them (torch's fbgemm.py for
    # the getter torch.ao.quantization.backend_config re-exports), then by the one
    # named, then by torch's backend modules (for a getter that wraps torch's).
    namespaces = [getattr(function, "__globals__", {}), vars(module)]
    namespaces += [vars(m) for name, m in sorted(sys.modules.items()) if name.startswith(_TORCH_BACKENDS)]
    constants: dict[int, str] = {}
    for namespace in namespaces:
        for identity, name in dtype_config_names(namespace).items():
            constants.setdefault(identity, name)
    return Side(config, label, kind, constants, torch_version)


def _call(function: Any, name: str, label: str) -> BackendConfig | QConfigMapping:
    try:
        with running_user_code(f"calling {name}()"):
            config = function()
    except Exception as error:  # noqa: BLE001
        raise SideError([f"{label}: {name}() raised {type(error).__name__}: {error}"]) from None
    if not isinstance(config, (BackendConfig, QConfigMapping)):
        raise SideError([f"{label}: {name}() returned {type(config).__name__}, not a BackendConfig or a QConfigMapping"])
    return config
