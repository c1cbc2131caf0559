"""The typed model of a backend's QConfigMappings: what the spec means, not how it is written.

The mapping reader (qconfig_reader.py) builds it from TOML; the renderer
(qconfig_render.py) only reads it. Every value has been validated.

Note [Constructors]
torch's qconfigs hold observer and fake-quantize *constructors*: a class itself
(``NoopObserver``) or a ``_PartialWrapper`` made by ``Class.with_args(**keywords)``,
whose keywords may hold further constructors (``observer=...``). A Constructor is
either: ``keywords`` None is the class (or named constructor) itself, a tuple is
``with_args`` called with those keywords (possibly none). A named one
(``[observers.NAME]``, ``[fake_quantizes.NAME]``) becomes a module constant; an
inline one is written where it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .model import Origin, PatternAtom, Symbol

# Keyword arguments whose values are not plain numbers, booleans or strings, by the
# name torch gives them in every observer and fake quantize: the spec writes their
# values as names (see qconfig_reader.keyword_value).
KEYWORD_KINDS = {
    "dtype": "dtype",
    "compute_dtype": "dtype",
    "qscheme": "qscheme",
    "observer": "constructor",
}

# torch.<name> for every qscheme; generation does not import torch, so the list
# lives here and a test checks it against the installed torch.
QSCHEME_NAMES = (
    "per_tensor_affine",
    "per_tensor_symmetric",
    "per_channel_affine",
    "per_channel_symmetric",
    "per_channel_affine_float_qparams",
)

# The word a spec writes for a qconfig of None: the op (or module) stays float.
NONE = "None"


@dataclass(frozen=True)
class TorchConstant:
    """``torch.<name>``: a dtype (``qint8``) or a qscheme (``per_tensor_symmetric``)."""

    kind: str  # "dtype" or "qscheme"
    name: str


KeywordValue = Union[bool, int, float, str, TorchConstant, "Constructor"]


@dataclass(frozen=True)
class Constructor:
    """An observer or fake-quantize constructor (Note [Constructors])."""

    func: Symbol | Constructor  # a class, or a named constructor it calls with_args on
    keywords: tuple[tuple[str, KeywordValue], ...] | None  # None: func itself, no with_args
    name: str | None  # the module constant it is bound to; None when written inline
    origin: Origin

    def symbols(self) -> list[Symbol]:
        found: list[Symbol] = []
        if isinstance(self.func, Symbol):
            found.append(self.func)
        else:
            found.extend(self.func.symbols())
        for _, value in self.keywords or ():
            if isinstance(value, Constructor):
                found.extend(value.symbols())
        return found

    def dependencies(self) -> list[Constructor]:
        """The constructors this one refers to, in the order they are written."""
        found = [self.func] if isinstance(self.func, Constructor) else []
        found += [value for _, value in self.keywords or () if isinstance(value, Constructor)]
        return found


@dataclass(frozen=True)
class QConfigDef:
    """A ``QConfig(activation=..., weight=...)``; named ones become module constants."""

    activation: Constructor
    weight: Constructor
    name: str | None
    origin: Origin


# The qconfig an entry sets: a QConfig, or None (the op or module stays float).
QConfigRef = Union[QConfigDef, None]
# An object type is what a pattern's atom is: a symbol, or a tensor method by name.
ObjectType = PatternAtom


@dataclass(frozen=True)
class ObjectTypeEntry:
    object_type: ObjectType
    qconfig: QConfigRef
    group: str | None  # the object type group it came from, for comments and messages


@dataclass(frozen=True)
class QConfigMappingDef:
    """One ``[qconfig_mappings.NAME]``: the function ``getter`` returns this mapping."""

    name: str
    getter: str
    doc: str
    origin: Origin
    torch_getter: str | None  # the torch function it mirrors (may be private: only tests call it)
    torch_arguments: tuple[tuple[str, bool | int | float | str], ...]
    global_qconfig: QConfigRef
    object_types: tuple[ObjectTypeEntry, ...]
    module_name_regexes: tuple[tuple[str, QConfigRef], ...]
    module_names: tuple[tuple[str, QConfigRef], ...]
    module_name_object_type_orders: tuple[tuple[str, ObjectType, int, QConfigRef], ...]

    def qconfigs(self) -> list[QConfigDef]:
        """Every qconfig the mapping sets, in the order the getter sets them."""
        found = [self.global_qconfig]
        found += [entry.qconfig for entry in self.object_types]
        found += [qconfig for _, qconfig in self.module_name_regexes]
        found += [qconfig for _, qconfig in self.module_names]
        found += [entry[3] for entry in self.module_name_object_type_orders]
        return [qconfig for qconfig in found if qconfig is not None]

    def symbols(self) -> list[Symbol]:
        """Every symbol the getter and the constants it uses refer to."""
        found: list[Symbol] = []
        for entry in self.object_types:
            if isinstance(entry.object_type, Symbol):
                found.append(entry.object_type)
        for _, object_type, _, _ in self.module_name_object_type_orders:
            if isinstance(object_type, Symbol):
                found.append(object_type)
        for qconfig in self.qconfigs():
            found += qconfig.activation.symbols() + qconfig.weight.symbols()
        return found


def getter_name(mapping: str) -> str:
    """The function ``[qconfig_mappings.NAME]`` becomes."""
    return f"get_{mapping}_qconfig_mapping"


def module_constants(mappings: tuple[QConfigMappingDef, ...]) -> tuple[list[Constructor], list[QConfigDef]]:
    """The named constructors and qconfigs the mappings use: the module constants,
    each after those it refers to, in order of first use."""
    constructors: dict[str, Constructor] = {}
    qconfigs: dict[str, QConfigDef] = {}

    def visit(constructor: Constructor) -> None:
        for dependency in constructor.dependencies():
            visit(dependency)
        if constructor.name is not None:
            constructors.setdefault(constructor.name, constructor)

    for mapping in mappings:
        for qconfig in mapping.qconfigs():
            visit(qconfig.activation)
            visit(qconfig.weight)
            if qconfig.name is not None:
                qconfigs.setdefault(qconfig.name, qconfig)
    return list(constructors.values()), list(qconfigs.values())


def module_names(mappings: tuple[QConfigMappingDef, ...]) -> list[tuple[str, str, Origin]]:
    """(name, what it is, where it is defined) of every module-level name the
    mappings add: their getters and the constants they use."""
    constructors, qconfigs = module_constants(mappings)
    found = [(m.getter, f"the getter of qconfig mapping {m.name!r}", m.origin) for m in mappings]
    found += [(c.name, f"constructor {c.name!r}", c.origin) for c in constructors if c.name is not None]
    found += [(q.name, f"qconfig {q.name!r}", q.origin) for q in qconfigs if q.name is not None]
    return found
