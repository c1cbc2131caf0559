"""The backends this project generates, as the tests know them: one row per spec.

Every test that runs for each backend takes its parameters from BACKENDS; a spec
under spec/ without a row here fails test_every_spec_has_a_row_in_the_backends_table.
Counts are torch 2.13.0's (`len(config.configs)`, and one per registration).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class BackendRow:
    name: str  # spec/<name>.toml generates generated/<name>.py
    getter: str  # the function the generated module defines, named as torch's
    torch_module: str  # the torch module whose `getter` builds torch's own config
    backend_config_name: str  # BackendConfig(name)
    effective: int  # pattern configs BackendConfig keeps
    registered: int  # pattern configs torch registers (shadowed ones included)
    # Quantized engines the quantized-output tests run this backend's models with.
    # Empty: torch has no engine for it; its models are compared as reference models.
    engines: tuple[str, ...]

    @property
    def spec(self) -> Path:
        return REPO / "spec" / f"{self.name}.toml"

    @property
    def generated(self) -> Path:
        return REPO / "generated" / f"{self.name}.py"

    @property
    def spec_display(self) -> str:
        return f"spec/{self.name}.toml"

    @property
    def torch_getter(self) -> str:
        return f"{self.torch_module}.{self.getter}"


BACKENDS = (
    BackendRow("fbgemm", "get_fbgemm_backend_config", "torch.ao.quantization.backend_config",
               "fbgemm", 192, 198, ("fbgemm",)),
    BackendRow("x86", "get_x86_backend_config", "torch.ao.quantization.backend_config.x86",
               "x86", 192, 198, ("x86",)),
    BackendRow("qnnpack", "get_qnnpack_backend_config", "torch.ao.quantization.backend_config",
               "qnnpack", 190, 196, ("qnnpack",)),
    BackendRow("native", "get_native_backend_config", "torch.ao.quantization.backend_config",
               "native", 194, 200, ("fbgemm", "x86")),
    BackendRow("native_legacy", "get_test_only_legacy_native_backend_config",
               "torch.ao.quantization.backend_config.native", "_native_and_fp16", 194, 200, ("fbgemm",)),
    BackendRow("tensorrt", "get_tensorrt_backend_config", "torch.ao.quantization.backend_config",
               "tensorrt", 149, 155, ()),
    BackendRow("onednn", "get_onednn_backend_config", "torch.ao.quantization.backend_config",
               "onednn", 221, 227, ("onednn",)),
    BackendRow("executorch", "get_executorch_backend_config", "torch.ao.quantization.backend_config",
               "executorch", 84, 87, ()),
)
BY_NAME = {row.name: row for row in BACKENDS}


@dataclass(frozen=True)
class MappingRow:
    """A QConfigMapping a backend spec defines: ``[qconfig_mappings.<name>]`` in
    spec/<backend>.toml, ``get_<name>_qconfig_mapping()`` in generated/<backend>.py."""

    backend: str
    name: str
    torch_function: str  # the torch function it mirrors (module.function; may be private)
    arguments: tuple[tuple[str, object], ...]  # its keyword arguments
    object_types: int  # entries of each kind, in torch 2.13.0
    module_name_regexes: int = 0
    module_names: int = 0
    module_name_object_type_orders: int = 0

    @property
    def getter(self) -> str:
        return f"get_{self.name}_qconfig_mapping"

    @property
    def id(self) -> str:
        return self.name


_PTQ = "torch.ao.quantization.get_default_qconfig_mapping"
_QAT = "torch.ao.quantization.get_default_qat_qconfig_mapping"
MAPPINGS = (
    *(
        row
        for backend in ("fbgemm", "x86", "qnnpack", "onednn")
        for row in (
            MappingRow(backend, backend, _PTQ, (("backend", backend), ("version", 0)), 23),
            MappingRow(backend, f"{backend}_qat", _QAT, (("backend", backend), ("version", 1)), 23),
            MappingRow(backend, f"{backend}_qat_v0", _QAT, (("backend", backend), ("version", 0)), 23),
        )
    ),
    MappingRow("qnnpack", "qnnpack_symmetric", "torch.ao.quantization.qconfig_mapping._get_symmetric_qnnpack_qconfig_mapping", (), 23),
    MappingRow("qnnpack", "qnnpack_symmetric_qat", "torch.ao.quantization.qconfig_mapping._get_symmetric_qnnpack_qat_qconfig_mapping", (), 23),
)
MAPPING_IDS = [row.id for row in MAPPINGS]
MAPPING_BY_NAME = {row.name: row for row in MAPPINGS}
# Specs of configs torch does not have (a customized torch config): each has tests of
# its own, and is compared with torch only where it must agree.
DERIVED_SPECS = ("fbgemm_reduce_range",)
IDS = [row.name for row in BACKENDS]


def import_path(path: Path, name: str) -> ModuleType:
    """Import a Python file as a module without touching sys.path."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def generated_module(name: str) -> ModuleType:
    """The committed generated module of a backend, imported once per session."""
    return import_path(BY_NAME[name].generated, f"generated_{name}")


@functools.cache
def generated_config(name: str):
    """The generated module's BackendConfig, built once per session (treat it as read-only)."""
    row = BY_NAME[name]
    return getattr(generated_module(name), row.getter)()


def build_torch_config(name: str):
    """A new BackendConfig from torch's own getter for the backend."""
    # torch 2.13's getters need this module loaded first (see ../shared/README.md).
    import torch.ao.quantization.backend_config.utils  # noqa: F401

    row = BY_NAME[name]
    return getattr(importlib.import_module(row.torch_module), row.getter)()


@functools.cache
def torch_config(name: str):
    """torch's own BackendConfig for the backend, built once per session (read-only)."""
    return build_torch_config(name)


@functools.cache
def loaded_spec(name: str):
    """The spec's model, as the generator loads it."""
    from generator.loader import load_backend

    return load_backend(BY_NAME[name].spec)


def generated_mapping(row: MappingRow):
    """A new QConfigMapping from the committed generated module's getter."""
    return getattr(generated_module(row.backend), row.getter)()


def torch_mapping(row: MappingRow):
    """A new QConfigMapping from torch's own function, with the row's arguments."""
    module, _, function = row.torch_function.rpartition(".")
    return getattr(importlib.import_module(module), function)(**dict(row.arguments))


def torch_function(path: str):
    module, _, function = path.rpartition(".")
    return getattr(importlib.import_module(module), function)


def mapping_builder(path: str, generated: bool, calls: list):
    """A stand-in for torch's mapping function ``path`` that records each call's
    arguments in ``calls`` (defaults applied) and returns torch's mapping, or, with
    ``generated``, the generated module's mapping that mirrors this call (the row
    of MAPPINGS with this function and these arguments)."""
    function = torch_function(path)
    signature = inspect.signature(function)

    def build(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        calls.append((path, arguments))
        if not generated:
            return function(*args, **kwargs)
        (row,) = [row for row in MAPPINGS if row.torch_function == path and dict(row.arguments) == arguments]
        return generated_mapping(row)

    return build
