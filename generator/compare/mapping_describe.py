"""Turn a live QConfigMapping into a torch-free MappingDescription (needs torch).

Every attribute of the mapping is described (``vars``): the five torch has, and
any a later torch adds, under its own name. Objects are named by their public
path (public_names.PublicNames); constructors by what they call and with which
arguments (Note [Describing constructors]).
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

import torch
from torch.ao.quantization.observer import _PartialWrapper

from .description import without_addresses
from .mapping_description import (
    Constructor,
    Items,
    MappingDescription,
    Method,
    Opaque,
    QConfigValue,
    Ref,
    Table,
    TorchName,
    show,
)
from .public_names import PublicNames

SECTION_ATTRIBUTES = {
    "object_type_qconfigs": "object_types",
    "module_name_regex_qconfigs": "module_name_regexes",
    "module_name_qconfigs": "module_names",
    "module_name_object_type_order_qconfigs": "module_name_object_type_orders",
}


def describe_qconfig_mapping(mapping: Any, names: PublicNames | None = None) -> MappingDescription:
    names = names if names is not None else PublicNames()
    describe = _Describer(names)
    attributes = dict(vars(mapping))
    sections: dict[str, tuple[tuple[Any, Any], ...]] = {}
    for attribute, section in SECTION_ATTRIBUTES.items():
        entries = attributes.pop(attribute, OrderedDict())
        if section == "module_name_object_type_orders":
            sections[section] = tuple(
                ((name, describe.key(object_type), index), describe.qconfig(qconfig)) for (name, object_type, index), qconfig in entries.items()
            )
        elif section == "object_types":
            sections[section] = tuple((describe.key(key), describe.qconfig(qconfig)) for key, qconfig in entries.items())
        else:
            sections[section] = tuple((key, describe.qconfig(qconfig)) for key, qconfig in entries.items())
    global_qconfig = describe.qconfig(attributes.pop("global_qconfig", None))
    other = tuple(sorted((name, describe.value(value)) for name, value in attributes.items()))
    return MappingDescription(
        type=_type_path(type(mapping)),
        global_qconfig=global_qconfig,
        object_types=sections["object_types"],
        module_name_regexes=sections["module_name_regexes"],
        module_names=sections["module_names"],
        module_name_object_type_orders=sections["module_name_object_type_orders"],
        other=other,
    )


class _Describer:
    def __init__(self, names: PublicNames):
        self.names = names

    def key(self, object_type: Any) -> Any:
        """An object type: a method name (a string) or an object by its path."""
        return Method(object_type) if isinstance(object_type, str) else self.value(object_type)

    def qconfig(self, qconfig: Any) -> Any:
        if _is_qconfig(qconfig):
            return QConfigValue(_type_path(type(qconfig)), self.value(qconfig.activation), self.value(qconfig.weight))
        return self.value(qconfig)

    def value(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, torch.dtype):
            return TorchName("dtype", str(value).removeprefix("torch."))
        if isinstance(value, torch.qscheme):
            return TorchName("qscheme", str(value).removeprefix("torch."))
        if isinstance(value, _PartialWrapper):
            return self.constructor(value.p, value.callable_args)
        if _is_qconfig(value):
            return self.qconfig(value)
        if isinstance(value, (list, tuple)) and type(value) in (list, tuple):
            return Items(type(value).__name__, tuple(self.value(item) for item in value))
        if isinstance(value, dict) and type(value) in (dict, OrderedDict):
            items = [(self.value(key), self.value(item)) for key, item in value.items()]
            return Table(tuple(sorted(items, key=lambda pair: show(pair[0]))))
        if isinstance(value, functools.partial):
            return Opaque(_type_path(type(value)), without_addresses(repr(value)))
        if isinstance(value, type) or callable(value):
            return Ref(self.names.name_of(value))
        return Opaque(_type_path(type(value)), without_addresses(repr(value)))

    def constructor(self, partial: functools.partial, callable_args: dict[str, Any]) -> Constructor:
        return Constructor(
            func=self.value(partial.func),
            args=tuple(self.value(item) for item in partial.args),
            keywords=tuple(sorted((name, self.value(item)) for name, item in partial.keywords.items())),
            callable_args=tuple(sorted((name, self.value(item)) for name, item in callable_args.items())),
        )


def _is_qconfig(value: Any) -> bool:
    """A QConfig, or another namedtuple of its two fields (QConfigDynamic); asked of
    the class's own tuple of fields, whatever the user's class defines as _fields."""
    fields = getattr(type(value), "_fields", None)
    return isinstance(value, tuple) and type(fields) is tuple and fields == ("activation", "weight")


def _type_path(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"
