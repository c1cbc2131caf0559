"""What a BackendConfig holds, in spec terms and without torch objects.

A description is plain frozen data: the differ compares two of them and the
reports lay them out, and neither needs torch. ``describe`` builds one from a
live BackendConfig. Every value is one of: None, bool, int, float, str, a tuple
of values, or one of the classes below; ``show`` writes a value the way a spec
would, ``to_json`` as JSON data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A Python object named by its dotted path: public where it has one."""

    path: str
    # A stand-in for a symbol the installed torch lacks (see sides.py).
    missing: bool = False


@dataclass(frozen=True)
class Method:
    """A tensor method matched by name in a pattern: ``{method = "reshape"}``."""

    name: str


@dataclass(frozen=True)
class Member:
    """An enum member, shown by its name (``OUTPUT_SHARE_OBSERVER_WITH_INPUT``)."""

    enum: str
    name: str


@dataclass(frozen=True)
class Dtype:
    """A torch dtype, by torch's own name for it (``quint8``, ``float32``)."""

    name: str


@dataclass(frozen=True)
class Opaque:
    """Any other object: its type and its repr, memory addresses removed."""

    type: str
    text: str


@dataclass(frozen=True)
class Record:
    """An object with named fields: a DTypeConfig or a DTypeWithConstraints.

    ``name`` is the module constant the object is bound to, where one is known
    (``fbgemm_default_op_quint8_dtype_config``); it labels the record and is not
    part of its value.
    """

    kind: str
    fields: tuple[tuple[str, Any], ...]
    name: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Mapping:
    """A dict whose key order carries no meaning (``input_type_to_index``)."""

    items: tuple[tuple[Any, Any], ...]  # sorted by the key's text


@dataclass(frozen=True)
class Outcome:
    """What a callable did for one input (``case``, e.g. ``is_qat=False``)."""

    case: str
    result: str  # "returns ..." or "raises Type: message"
    # Each tensor of a returned module: (name, digest of its dtype, shape and values).
    values: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Behaviour:
    """A fuser or node getter, described by what it does with the inputs FX passes.

    Two behaviours are the same when their outcomes are; the name only tells the
    reader which function it is. ``outcomes`` is None when the callable could not
    be run (``unprobed`` says why); then only the name can be compared.
    """

    name: str
    outcomes: tuple[Outcome, ...] | None
    unprobed: str | None = None


class _Absent:
    """A field one side does not have at all (torch added or dropped an attribute)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()


@dataclass(frozen=True)
class PatternDescription:
    """One BackendPatternConfig: its key, how a reader names it, and every field."""

    key: Any  # torch's reversed nested key, in description values: what sides are matched by
    label: str  # the pattern as a spec writes it
    fields: tuple[tuple[str, Any], ...]  # spec field name -> value, in torch's attribute order

    def field(self, name: str) -> Any:
        return dict(self.fields).get(name, ABSENT)


@dataclass(frozen=True)
class MissingSymbol:
    """A symbol the installed torch lacks; the side was built with a stand-in for it."""

    where: str  # "spec/op_groups/common.toml: op_groups.x.sections[0].patterns[1]" or "file.py:12"
    symbol: str
    problem: str

    def __str__(self) -> str:
        return f"{self.where}: {self.symbol}: {self.problem}"


@dataclass(frozen=True)
class ConfigDescription:
    """A whole BackendConfig, and where it came from."""

    source: str  # the side as the user named it
    kind: str  # what the source is: a spec, a generated module, a function, a spec at a git revision
    name: Any  # BackendConfig.name
    patterns: tuple[PatternDescription, ...]  # in BackendConfig's order
    # The torch release the source says it targets, if it says.
    torch_version: str | None = None
    missing: tuple[MissingSymbol, ...] = ()


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def without_addresses(text: str) -> str:
    """Text with ``at 0x7f...`` removed: the same object prints the same in any run."""
    return _ADDRESS.sub("", text)


def show(value: Any) -> str:
    """A value as a spec (TOML) would write it, for reports."""
    if value is ABSENT:
        return "(absent)"
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Ref):
        return f"{value.path} (missing)" if value.missing else value.path
    if isinstance(value, Method):
        return f"{{method = {toml_string(value.name)}}}"
    if isinstance(value, Member):
        return value.name
    if isinstance(value, Dtype):
        return value.name
    if isinstance(value, Opaque):
        return value.text
    if isinstance(value, Behaviour):
        return value.name
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(key)} = {show(item)}" for key, item in value.items) + "}"
    if isinstance(value, Record):
        return show_record(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(show(item) for item in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    return without_addresses(repr(value))


def show_record(record: Record, with_name: bool = False) -> str:
    """A DTypeConfig as a spec's inline table, unset fields left out; a
    DTypeWithConstraints without constraints as just its dtype."""
    fields = [(name, value) for name, value in record.fields if not is_unset(value)]
    if record.kind == "DTypeWithConstraints" and [name for name, _ in fields] in (["dtype"], []):
        text = show(fields[0][1]) if fields else "None"
    else:
        text = "{" + ", ".join(f"{name} = {show(value)}" for name, value in fields) + "}"
    if with_name and record.name:
        return f"{record.name} = {text}"
    return text


def is_unset(value: Any) -> bool:
    """None, empty, or a DTypeWithConstraints without a dtype or any constraint:
    what a spec leaves out."""
    if isinstance(value, Record) and value.kind == "DTypeWithConstraints":
        return all(item is None for _, item in value.fields)
    return value is None or value == () or value == Mapping(())


def pattern_label(pattern: Any, complex_format: Any) -> str:
    """How a reader names a pattern: forward order as ``pattern = [...]`` writes it;
    a complex-format pattern as nested lists, as ``pattern_complex_format`` writes it."""
    if pattern is not None or complex_format is None:
        return show(pattern)
    return _nested_list(complex_format) + " (complex format)"


def _nested_list(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_nested_list(item) for item in value) + "]"
    return show(value)


def toml_string(text: str) -> str:
    """A TOML basic string; Python's escapes where a terminal would act on a character."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"' if escaped.isprintable() else repr(text)


def _key(key: Any) -> str:
    if isinstance(key, str) and key.isidentifier():
        return key
    return show(key)


def to_json(value: Any) -> Any:
    """A value as JSON data, for tools."""
    if value is ABSENT:
        return {"absent": True}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Ref):
        return {"missing": value.path} if value.missing else value.path
    if isinstance(value, Method):
        return {"method": value.name}
    if isinstance(value, (Member, Dtype)):
        return value.name
    if isinstance(value, Opaque):
        return {"object": value.text, "type": value.type}
    if isinstance(value, Behaviour):
        result: dict[str, Any] = {"callable": value.name}
        if value.outcomes is None:
            result["not_run"] = value.unprobed
        else:
            result["behaviour"] = [{"case": outcome.case, "result": outcome.result} for outcome in value.outcomes]
        return result
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items}
    if isinstance(value, Record) and value.kind == "DTypeWithConstraints":
        # The dtype always; a constraint only when set.
        return {name: to_json(item) for name, item in value.fields if name == "dtype" or item is not None}
    if isinstance(value, Record):
        data = {name: to_json(item) for name, item in value.fields}
        return {"name": value.name, **data} if value.kind == "DTypeConfig" else data
    if isinstance(value, (tuple, list)):
        return [to_json(item) for item in value]
    return without_addresses(repr(value))
