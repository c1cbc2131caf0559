"""A live BackendPatternConfig as a pattern entry of the spec format (needs torch).

The entry is the table an op group's ``[[...sections.patterns]]`` holds: the pattern
in forward order (or ``pattern_complex_format`` in torch's nested order), the
observation type by name, every symbol by its public path, callables as callables.py
names them. An attribute the format has no key for stops the extraction: nothing
the config holds is dropped.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from ..model import DEFAULT_OBSERVATION_TYPE, OBSERVATION_TYPES
from .callables import Namer
from .live import ExtractError

# BackendPatternConfig attributes, in the order an entry writes them; dtype_configs
# are the op group use's.
_SYMBOL_FIELDS = ("root_module", "qat_module", "reference_quantized_module", "fused_module")
KNOWN_ATTRIBUTES = (
    "pattern",
    "_pattern_complex_format",
    "observation_type",
    "dtype_configs",
    *_SYMBOL_FIELDS,
    "fuser_method",
    "_root_node_getter",
    "_extra_inputs_getter",
    "_num_tensor_args_to_observation_type",
    "_input_type_to_index",
)


def pattern_label(pattern_config: Any, key: Any, namer: Namer) -> str:
    """The pattern as a reader names it in messages: forward order, public paths."""
    attributes = vars(pattern_config)
    pattern = attributes.get("pattern")
    shown = pattern if attributes.get("_pattern_complex_format") is None and pattern is not None else key

    def text(value: Any) -> str:
        if isinstance(value, tuple):
            return "(" + ", ".join(text(item) for item in value) + ")"
        if isinstance(value, str):
            return repr(value)
        return namer.names.name_of(value)

    return text(shown)


def entry_table(pattern_config: Any, key: Any, where: str, namer: Namer) -> dict[str, Any]:
    """The pattern entry that builds ``pattern_config`` (its dtype configs aside)."""
    attributes = vars(pattern_config)
    for name, value in attributes.items():
        if name not in KNOWN_ATTRIBUTES and value not in (None, {}, (), []):
            raise ExtractError(f"{where}: attribute {name} = {value!r} has no key in the spec format")
    entry: dict[str, Any] = {}
    complex_format = attributes.get("_pattern_complex_format")
    pattern = attributes.get("pattern")
    if complex_format is not None:
        entry["pattern_complex_format"] = _nested(complex_format, where, namer)
    elif isinstance(pattern, tuple):
        if not 2 <= len(pattern) <= 3 or any(isinstance(item, tuple) for item in pattern):
            raise ExtractError(f"{where}: a simple pattern of {len(pattern)} ops has no spec form; expected 2 or 3 ops, or a pattern_complex_format")
        entry["pattern"] = [_atom(item, where, namer) for item in pattern]
    elif pattern is not None:
        entry["pattern"] = _atom(pattern, where, namer)
    else:
        raise ExtractError(f"{where}: the pattern config has no pattern")
    observation_type = _member(attributes.get("observation_type"), f"{where}: observation_type")
    if observation_type != DEFAULT_OBSERVATION_TYPE:
        entry["observation_type"] = observation_type
    for name in _SYMBOL_FIELDS:
        if attributes.get(name) is not None:
            entry[name] = namer.symbol(attributes[name], f"{where}: {name}")
    if attributes.get("fuser_method") is not None:
        entry["fuser_method"] = namer.fuser(pattern_config, key, where)
    if attributes.get("_root_node_getter") is not None:
        entry["root_node_getter"] = namer.root_node_getter(attributes["_root_node_getter"], key, where)
    if attributes.get("_extra_inputs_getter") is not None:
        entry["extra_inputs_getter"] = namer.extra_inputs_getter(attributes["_extra_inputs_getter"], key, where)
    counts = attributes.get("_num_tensor_args_to_observation_type") or {}
    if counts:
        entry["num_tensor_args_to_observation_type"] = {str(_count(count, where)): _member(value, f"{where}: num_tensor_args_to_observation_type") for count, value in counts.items()}
    indexes = attributes.get("_input_type_to_index") or {}
    if indexes:
        entry["input_type_to_index"] = {_input_name(name, where): _index(index, where) for name, index in indexes.items()}
    return entry


def _atom(value: Any, where: str, namer: Namer) -> Any:
    if isinstance(value, str):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ExtractError(f"{where}: method name {value!r} is not a Python identifier")
        return {"method": value}
    if isinstance(value, tuple):
        raise ExtractError(f"{where}: a nested pattern needs pattern_complex_format")
    return namer.symbol(value, f"{where}: pattern")


def _nested(value: Any, where: str, namer: Namer) -> Any:
    if isinstance(value, tuple):
        return [_nested(item, where, namer) for item in value]
    return _atom(value, where, namer)


def _member(value: Any, where: str) -> str:
    name = value.name if isinstance(value, enum.Enum) else None
    if name not in OBSERVATION_TYPES:
        raise ExtractError(f"{where}: {value!r} is not an ObservationType the spec format knows")
    return name


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 9999:
        raise ExtractError(f"{where}: num_tensor_args_to_observation_type key {value!r} is not a count of tensor arguments")
    return value


def _input_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ExtractError(f"{where}: input_type_to_index key {value!r} is not an input name")
    return value


def _index(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise ExtractError(f"{where}: input_type_to_index value {value!r} is not an argument index")
    return value
