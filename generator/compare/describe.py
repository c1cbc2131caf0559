"""Turn a live BackendConfig into a torch-free ConfigDescription, in spec terms (needs torch).

Fields are enumerated from the objects themselves (``vars``), so an attribute a
later torch adds is described and compared too, under its own name. Torch's
private attribute names become the spec's keys (``_root_node_getter`` is
``root_node_getter``); every object is named by its public path.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any

import torch

# BackendConfig.set_backend_pattern_config needs this module loaded (torch 2.13).
import torch.ao.quantization.backend_config.utils  # noqa: F401
from torch.ao.quantization.backend_config import BackendConfig, DTypeConfig, DTypeWithConstraints

from .behaviour import fuser_behaviour, getter_behaviour
from .description import (
    ConfigDescription,
    Dtype,
    Mapping,
    Member,
    Method,
    MissingSymbol,
    Opaque,
    PatternDescription,
    Record,
    Ref,
    pattern_label,
    show,
    without_addresses,
)
from .generated_source import MissingObject
from .public_names import PublicNames

# BackendPatternConfig attributes whose spec key is another name.
SPEC_KEYS = {
    "_pattern_complex_format": "pattern_complex_format",
    "_root_node_getter": "root_node_getter",
    "_extra_inputs_getter": "extra_inputs_getter",
    "_num_tensor_args_to_observation_type": "num_tensor_args_to_observation_type",
    "_input_type_to_index": "input_type_to_index",
}
_GETTERS = ("_root_node_getter", "_extra_inputs_getter")
# DTypeConfig attributes whose spec key is another name.
_DTYPE_CONFIG_KEYS = {
    "input_dtype_with_constraints": "input_dtype",
    "output_dtype_with_constraints": "output_dtype",
    "weight_dtype_with_constraints": "weight_dtype",
}


def dtype_config_names(namespace: dict[str, Any]) -> dict[int, str]:
    """id -> name of every DTypeConfig a module binds to a name: torch's backend
    modules and generated modules define theirs as module constants."""
    found: dict[int, str] = {}
    for name, value in namespace.items():
        if isinstance(value, DTypeConfig) and not name.startswith("__"):
            found.setdefault(id(value), name)
    return found


def describe_backend_config(
    config: BackendConfig,
    source: str,
    kind: str,
    constants: dict[int, str] | None = None,
    torch_version: str | None = None,
    missing: tuple[MissingSymbol, ...] = (),
    names: PublicNames | None = None,
) -> ConfigDescription:
    """``constants`` names DTypeConfig objects (see dtype_config_names); ``names`` must
    be the same for both sides of a comparison."""
    describer = _Describer(constants or {}, names or PublicNames())
    patterns = tuple(
        describer.pattern_config(pattern_config, key)
        for key, pattern_config in config._pattern_complex_format_to_config.items()
    )
    return ConfigDescription(source, kind, describer.value(config.name), patterns, torch_version, missing)


def describe_pattern_config(pattern_config: Any, key: Any = None, names: PublicNames | None = None) -> PatternDescription:
    """One BackendPatternConfig; ``key`` is the one BackendConfig files it under
    (derived as torch does when not given)."""
    return _Describer({}, names or PublicNames()).pattern_config(pattern_config, key)


def describe_key(key: Any, names: PublicNames) -> Any:
    """BackendConfig's key of a pattern, as a description's ``key``: cheaper than
    describing the whole pattern config (no callable is run)."""
    return _Describer({}, names).pattern(key)


class _Describer:
    def __init__(self, constants: dict[int, str], names: PublicNames):
        self.constants = constants
        self.names = names

    def pattern_config(self, pattern_config: Any, key: Any) -> PatternDescription:
        attributes = vars(pattern_config)
        if key is None:
            key = _reversed_nested_key(pattern_config)
        # FX calls a simple pattern's fuser in forward order, a complex-format one as is.
        forward_order = attributes.get("_pattern_complex_format") is None and isinstance(attributes.get("pattern"), tuple)
        fields = []
        for attribute, value in attributes.items():
            # See Note [Comparing callables by behaviour] in behaviour.py.
            if attribute == "fuser_method" and callable(value):
                described: Any = fuser_behaviour(value, key, forward_order, self.names)
            elif attribute in _GETTERS and callable(value):
                described = getter_behaviour(value, key, self.names)
            elif attribute in ("pattern", "_pattern_complex_format"):
                described = self.pattern(value)
            else:
                described = self.value(value)
            fields.append((SPEC_KEYS.get(attribute, attribute), described))
        by_name = dict(fields)
        pattern, complex_format = by_name.get("pattern"), by_name.get("pattern_complex_format")
        label = pattern_label(pattern, complex_format) if (pattern, complex_format) != (None, None) else show(self.pattern(key))
        return PatternDescription(self.pattern(key), label, tuple(fields))

    def pattern(self, pattern: Any) -> Any:
        """A pattern: nested tuples of objects (by public path) and method names."""
        if isinstance(pattern, tuple):
            return tuple(self.pattern(item) for item in pattern)
        if isinstance(pattern, str):
            return Method(pattern)
        return self.value(pattern)

    def value(self, value: Any) -> Any:
        """Any field value, in description terms."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, torch.dtype):
            return Dtype(str(value).removeprefix("torch."))
        if isinstance(value, enum.Enum):
            return Member(type(value).__name__, value.name)
        if isinstance(value, MissingObject):
            return Ref(value.path, missing=True)
        if isinstance(value, DTypeConfig):
            fields = tuple((_DTYPE_CONFIG_KEYS.get(k, k), self.value(v)) for k, v in vars(value).items())
            return Record("DTypeConfig", fields, self.constants.get(id(value)))
        if isinstance(value, DTypeWithConstraints):
            fields = tuple((f.name, self.value(getattr(value, f.name))) for f in dataclasses.fields(value))
            return Record("DTypeWithConstraints", fields)
        if isinstance(value, dict):
            items = [(self.value(k), self.value(v)) for k, v in value.items()]
            return Mapping(tuple(sorted(items, key=lambda item: show(item[0]))))
        if isinstance(value, (list, tuple)):
            return tuple(self.value(item) for item in value)
        if isinstance(value, type) or callable(value):
            return Ref(self.names.name_of(value))
        return Opaque(self.names.name_of(type(value)), without_addresses(repr(value)))


def _reversed_nested_key(pattern_config: Any) -> Any:
    """The key BackendConfig files a config under (torch's reversed nested format)."""
    attributes = vars(pattern_config)
    if attributes.get("_pattern_complex_format") is not None:
        return attributes["_pattern_complex_format"]
    pattern = attributes.get("pattern")
    if isinstance(pattern, tuple) and len(pattern) == 2:
        return (pattern[1], pattern[0])
    if isinstance(pattern, tuple) and len(pattern) == 3:
        return (pattern[2], (pattern[1], pattern[0]))
    return pattern
