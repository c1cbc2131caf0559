"""ConfigDescriptions as JSON data and back, exactly: how the child process hands
its descriptions to the parent (see isolation.py).

``encode`` runs in the child, ``decode_config`` in the parent. A description
decodes to one equal to the original, field by field (``Record.name`` included,
which equality ignores), so the differ and the reports see in the parent what
they would have seen in the child.

The data is checked as it is decoded: the parent trusts nothing the child sends,
and anything other than a description is a ``CodecError``. Values that are
instances of subclasses of str, int or float (an IntEnum, a str with its own
``__eq__``) are sent as the plain value, read without calling the subclass's
methods: the parent never holds an object of the user's.

Encoding: None, booleans, numbers and strings as themselves; a tuple as a JSON
array; anything else as an object whose ``"$"`` names its kind.
"""

from __future__ import annotations

from typing import Any, Callable

from .description import (
    ABSENT,
    Behaviour,
    ConfigDescription,
    Dtype,
    Mapping,
    Member,
    Method,
    MissingSymbol,
    Opaque,
    Outcome,
    PatternDescription,
    Record,
    Ref,
)


class CodecError(Exception):
    """The data is not an encoded description; the message says what is wrong."""


def encode(value: Any) -> Any:
    """A description value (or a whole ConfigDescription) as JSON data."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str.__str__(value)  # the plain string, whatever the subclass says
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, tuple):
        return [encode(item) for item in value]
    if value is ABSENT:
        return {"$": "absent"}
    if isinstance(value, list):
        return {"$": "list", "items": [encode(item) for item in value]}
    encoder = _ENCODERS.get(type(value))
    if encoder is None:
        raise TypeError(f"a {type(value).__name__} is not a description value")
    return {"$": type(value).__name__, **encoder(value)}


_ENCODERS: dict[type, Callable[[Any], dict[str, Any]]] = {
    Ref: lambda v: {"path": encode(v.path), "missing": encode(v.missing)},
    Method: lambda v: {"name": encode(v.name)},
    Member: lambda v: {"enum": encode(v.enum), "name": encode(v.name)},
    Dtype: lambda v: {"name": encode(v.name)},
    Opaque: lambda v: {"type": encode(v.type), "text": encode(v.text)},
    Record: lambda v: {"kind": encode(v.kind), "fields": encode(v.fields), "name": encode(v.name)},
    Mapping: lambda v: {"items": encode(v.items)},
    Outcome: lambda v: {"case": encode(v.case), "result": encode(v.result), "values": encode(v.values)},
    Behaviour: lambda v: {"name": encode(v.name), "outcomes": encode(v.outcomes), "unprobed": encode(v.unprobed)},
    PatternDescription: lambda v: {"key": encode(v.key), "label": encode(v.label), "fields": encode(v.fields)},
    MissingSymbol: lambda v: {"where": encode(v.where), "symbol": encode(v.symbol), "problem": encode(v.problem)},
    ConfigDescription: lambda v: {
        "source": encode(v.source),
        "kind": encode(v.kind),
        "name": encode(v.name),
        "patterns": encode(v.patterns),
        "torch_version": encode(v.torch_version),
        "missing": encode(v.missing),
    },
}


def decode_config(data: Any) -> ConfigDescription:
    """The ConfigDescription ``data`` encodes; CodecError when it is anything else."""
    fields = _object(data, "ConfigDescription")
    return ConfigDescription(
        _text(fields, "source"),
        _text(fields, "kind"),
        decode(fields.get("name")),
        _sequence(fields.get("patterns"), _pattern),
        _text(fields, "torch_version", optional=True),
        _sequence(fields.get("missing"), _missing),
    )


def decode(data: Any) -> Any:
    """A description value from its JSON data."""
    if data is None or isinstance(data, (bool, int, float, str)):
        return data
    if isinstance(data, list):
        return tuple(decode(item) for item in data)
    if not isinstance(data, dict):
        raise CodecError(f"unexpected {type(data).__name__} in a description")
    kind = data.get("$")
    decoder = _DECODERS.get(kind) if isinstance(kind, str) else None
    if decoder is None:
        raise CodecError(f"unknown kind of value {str(kind)[:40]!r} in a description")
    return decoder(data)


def _pattern(data: Any) -> PatternDescription:
    fields = _object(data, "PatternDescription")
    return PatternDescription(decode(fields.get("key")), _text(fields, "label"), _pairs(fields.get("fields")))


def _missing(data: Any) -> MissingSymbol:
    fields = _object(data, "MissingSymbol")
    return MissingSymbol(_text(fields, "where"), _text(fields, "symbol"), _text(fields, "problem"))


def _outcome(data: Any) -> Outcome:
    fields = _object(data, "Outcome")
    values = _sequence(fields.get("values"), lambda pair: _pair(pair, str, str))
    return Outcome(_text(fields, "case"), _text(fields, "result"), values)


def _behaviour(data: dict) -> Behaviour:
    outcomes = data.get("outcomes")
    return Behaviour(
        _text(data, "name"),
        None if outcomes is None else _sequence(outcomes, _outcome),
        _text(data, "unprobed", optional=True),
    )


def _boolean(data: dict, key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise CodecError(f"{key}: expected true or false")
    return value


_DECODERS: dict[str, Callable[[dict], Any]] = {
    "absent": lambda data: ABSENT,
    "list": lambda data: [decode(item) for item in _list(data.get("items"))],
    "Ref": lambda data: Ref(_text(data, "path"), _boolean(data, "missing")),
    "Method": lambda data: Method(_text(data, "name")),
    "Member": lambda data: Member(_text(data, "enum"), _text(data, "name")),
    "Dtype": lambda data: Dtype(_text(data, "name")),
    "Opaque": lambda data: Opaque(_text(data, "type"), _text(data, "text")),
    "Record": lambda data: Record(_text(data, "kind"), _pairs(data.get("fields")), _text(data, "name", optional=True)),
    "Mapping": lambda data: Mapping(_sequence(data.get("items"), lambda pair: _pair(pair, object, object))),
    "Outcome": _outcome,
    "Behaviour": _behaviour,
    "PatternDescription": _pattern,
    "MissingSymbol": _missing,
}


def _object(data: Any, kind: str) -> dict:
    if not isinstance(data, dict) or data.get("$") != kind:
        raise CodecError(f"expected a {kind}")
    return data


def _text(data: dict, key: str, optional: bool = False) -> Any:
    value = data.get(key)
    if isinstance(value, str) or (optional and value is None):
        return value
    raise CodecError(f"{key}: expected a string")


def _list(data: Any) -> list:
    if not isinstance(data, list):
        raise CodecError("expected a list")
    return data


def _sequence(data: Any, item: Callable[[Any], Any]) -> tuple:
    return tuple(item(element) for element in _list(data))


def _pair(data: Any, first: type, second: type) -> tuple[Any, Any]:
    if not isinstance(data, list) or len(data) != 2:
        raise CodecError("expected a pair")
    key, value = decode(data[0]), decode(data[1])
    if not isinstance(key, first) or not isinstance(value, second):
        raise CodecError(f"expected a pair of {first.__name__} and {second.__name__}")
    return key, value


def _pairs(data: Any) -> tuple[tuple[str, Any], ...]:
    """(field name, value) pairs."""
    return _sequence(data, lambda pair: _pair(pair, str, object))
