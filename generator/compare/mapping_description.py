"""What a QConfigMapping holds, as plain torch-free data that survives JSON exactly.

``mapping_describe.describe_qconfig_mapping`` builds a MappingDescription from a
live QConfigMapping (in whatever process runs torch); ``to_json`` and
``from_json`` carry it across a process boundary, ``from_json(to_json(d)) == d``
with every value's type kept (``True`` stays a bool, ``1.0`` a float); and
``mapping_differ`` compares two of them without torch.

Note [Describing constructors]
An observer or fake-quantize constructor is a class (a Ref) or a
``_PartialWrapper`` made by ``with_args`` (a Constructor: what it calls, its
positional and keyword arguments, and its ``with_callable_args``). torch compares
two wrappers by identity and ``qconfig_equals`` by ``func`` and ``keywords``; a
description holds all of it, keywords sorted by name (their order means nothing
to ``functools.partial``), nested constructors described the same way.

Values are: None, bool, int, float, str, and the classes below. JSON carries
None, bool, int, str and finite floats as themselves (a float keeps its ``.0``);
everything else as a one-key object naming its kind.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Union

# A class or function by its dotted path, and an object type given as a string (a
# tensor method name, "reshape"): the same as in a BackendConfig's description.
from .description import Method, Ref, toml_string


@dataclass(frozen=True)
class TorchName:
    """A torch dtype or qscheme, by torch's name for it (``torch.qint8``)."""

    kind: str  # "dtype" or "qscheme"
    name: str


@dataclass(frozen=True)
class Opaque:
    """Any other object: its type and its repr, memory addresses removed."""

    type: str
    text: str


@dataclass(frozen=True)
class Items:
    """A list or tuple (``kind``) of values, in order."""

    kind: str
    items: tuple[Any, ...]


@dataclass(frozen=True)
class Table:
    """A dict, its items sorted by the text of their keys."""

    items: tuple[tuple[Any, Any], ...]


@dataclass(frozen=True)
class Constructor:
    """``func.with_args(**keywords)`` (Note [Describing constructors])."""

    func: Any  # a Ref, or the Constructor it was made from
    args: tuple[Any, ...]
    keywords: tuple[tuple[str, Any], ...]  # sorted by name
    callable_args: tuple[tuple[str, Any], ...]  # sorted by name


@dataclass(frozen=True)
class QConfigValue:
    """A QConfig (or another namedtuple of the same two fields, ``type`` says which)."""

    type: str
    activation: Any
    weight: Any


Value = Union[None, bool, int, float, str, Ref, Method, TorchName, Opaque, Items, Table, Constructor, QConfigValue]


@dataclass(frozen=True)
class MappingDescription:
    """A QConfigMapping: its global qconfig and its four ordered kinds of entries."""

    type: str
    global_qconfig: Any
    object_types: tuple[tuple[Any, Any], ...]  # (Ref or Method, qconfig)
    module_name_regexes: tuple[tuple[str, Any], ...]
    module_names: tuple[tuple[str, Any], ...]
    module_name_object_type_orders: tuple[tuple[tuple[str, Any, int], Any], ...]
    # Attributes a later torch adds to QConfigMapping, by name: compared too.
    other: tuple[tuple[str, Any], ...] = ()


# The type of torch's QConfig: a qconfig of another type says which in reports.
QCONFIG_TYPE = "torch.ao.quantization.qconfig.QConfig"

SECTIONS = ("object_types", "module_name_regexes", "module_names", "module_name_object_type_orders")


# -- JSON --------------------------------------------------------------------------


def to_json(description: MappingDescription) -> dict[str, Any]:
    return {
        "type": description.type,
        "global": _value(description.global_qconfig),
        "object_types": [[_value(key), _value(qconfig)] for key, qconfig in description.object_types],
        "module_name_regexes": [[key, _value(qconfig)] for key, qconfig in description.module_name_regexes],
        "module_names": [[key, _value(qconfig)] for key, qconfig in description.module_names],
        "module_name_object_type_orders": [
            [[name, _value(object_type), index], _value(qconfig)]
            for (name, object_type, index), qconfig in description.module_name_object_type_orders
        ],
        "other": [[name, _value(value)] for name, value in description.other],
    }


def from_json(data: dict[str, Any]) -> MappingDescription:
    return MappingDescription(
        type=data["type"],
        global_qconfig=_parse(data["global"]),
        object_types=tuple((_parse(key), _parse(qconfig)) for key, qconfig in data["object_types"]),
        module_name_regexes=tuple((key, _parse(qconfig)) for key, qconfig in data["module_name_regexes"]),
        module_names=tuple((key, _parse(qconfig)) for key, qconfig in data["module_names"]),
        module_name_object_type_orders=tuple(
            ((name, _parse(object_type), index), _parse(qconfig))
            for (name, object_type, index), qconfig in data["module_name_object_type_orders"]
        ),
        other=tuple((name, _parse(value)) for name, value in data["other"]),
    )


def value_json(value: Any) -> Any:
    """One value as JSON data (also the differ's strict identity of a value)."""
    return _value(value)


def value_key(value: Any) -> str:
    """A value (or a tuple of them: an entry's key) as a dict key: equal values,
    equal keys, types kept (``True`` is not ``1``, ``1`` is not ``1.0``)."""
    data = [_value(part) for part in value] if isinstance(value, tuple) else _value(value)
    return json.dumps(data, sort_keys=True)


def _value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, Ref):
        return {"ref": value.path}
    if isinstance(value, Method):
        return {"method": value.name}
    if isinstance(value, TorchName):
        return {value.kind: value.name}
    if isinstance(value, Opaque):
        return {"opaque": [value.type, value.text]}
    if isinstance(value, Items):
        return {value.kind: [_value(item) for item in value.items]}
    if isinstance(value, Table):
        return {"dict": [[_value(key), _value(item)] for key, item in value.items]}
    if isinstance(value, Constructor):
        return {
            "with_args": {
                "func": _value(value.func),
                "args": [_value(item) for item in value.args],
                "keywords": [[name, _value(item)] for name, item in value.keywords],
                "callable_args": [[name, _value(item)] for name, item in value.callable_args],
            }
        }
    if isinstance(value, QConfigValue):
        return {"qconfig": {"type": value.type, "activation": _value(value.activation), "weight": _value(value.weight)}}
    raise TypeError(f"not a description value: {value!r}")


def _parse(data: Any) -> Any:
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    ((kind, content),) = data.items()
    if kind == "float":
        return float(content)
    if kind == "ref":
        return Ref(content)
    if kind == "method":
        return Method(content)
    if kind in ("dtype", "qscheme"):
        return TorchName(kind, content)
    if kind == "opaque":
        return Opaque(*content)
    if kind in ("list", "tuple"):
        return Items(kind, tuple(_parse(item) for item in content))
    if kind == "dict":
        return Table(tuple((_parse(key), _parse(item)) for key, item in content))
    if kind == "with_args":
        return Constructor(
            func=_parse(content["func"]),
            args=tuple(_parse(item) for item in content["args"]),
            keywords=tuple((name, _parse(item)) for name, item in content["keywords"]),
            callable_args=tuple((name, _parse(item)) for name, item in content["callable_args"]),
        )
    if kind == "qconfig":
        return QConfigValue(content["type"], _parse(content["activation"]), _parse(content["weight"]))
    raise ValueError(f"unknown kind of value {kind!r}")


# -- text ----------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value in spec terms, as the BackendConfig reports write dtype configs:
    TOML scalars (``true``, ``0.00390625``, ``"reshape"``), dtypes and qschemes by
    name (``quint8``), classes by dotted path, a constructor and a qconfig as the
    spec's inline tables. What a spec cannot write (tuples, dicts, other objects)
    keeps Python's spelling, so no two different values read alike."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (int, float)):
        return repr(value)  # TOML spells them so too, inf and nan included
    if isinstance(value, Ref):
        return value.path
    if isinstance(value, Method):
        return f"{{method = {toml_string(value.name)}}}"
    if isinstance(value, TorchName):
        return value.name
    if isinstance(value, Opaque):
        return f"<{value.type}: {value.text}>"
    if isinstance(value, Items):
        inner = ", ".join(show(item) for item in value.items)
        return f"[{inner}]" if value.kind == "list" else f"({inner}{',' if len(value.items) == 1 else ''})"
    if isinstance(value, Table):
        return "{" + ", ".join(f"{show(key)}: {show(item)}" for key, item in value.items) + "}"
    if isinstance(value, Constructor):
        fields = [f"class = {show(value.func)}"]
        if value.args:
            fields.append(f"args = [{', '.join(show(item) for item in value.args)}]")
        if value.keywords:
            fields.append(f"with_args = {_inline(value.keywords)}")
        if value.callable_args:
            fields.append(f"with_callable_args = {_inline(value.callable_args)}")
        return "{" + ", ".join(fields) + "}"
    if isinstance(value, QConfigValue):
        kind = "" if value.type == QCONFIG_TYPE else f"type = {toml_string(value.type)}, "
        return f"{{{kind}activation = {show(value.activation)}, weight = {show(value.weight)}}}"
    raise TypeError(f"not a description value: {value!r}")


def _inline(items: tuple[tuple[str, Any], ...]) -> str:
    return "{" + ", ".join(f"{name} = {show(item)}" for name, item in items) + "}"


def show_key(section: str, key: Any) -> str:
    """An entry's key as reports name it: ``object_types[torch.nn.Sigmoid]``."""
    if section == "module_name_object_type_orders":
        name, object_type, index = key
        return f"{section}[({toml_string(name)}, {show(object_type)}, {index})]"
    return f"{section}[{show(key)}]"
