"""Patterns named as the spec writes them, to select, remove or override them.

A pattern reference is what a pattern entry's ``pattern`` key holds (a symbol,
``{method = "reshape"}``, or a list of 2 or 3 of those in forward order), or
``{pattern_complex_format = [...]}`` for a pattern written in torch's nested
format. A reference names the pattern configs whose key (torch's reversed nested
tuple, BackendConfig's own key) it has: every registration of that pattern.

Used by op group uses (``patterns``, ``exclude_patterns``, see expand.py) and by
the edits of a spec that extends another (``remove_patterns``,
``override_patterns``, see pattern_edits.py); extraction writes references with
``reference_value``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from .checks import key_path
from .entries import EntryReader, Scope
from .model import MethodName, Pattern, PatternConfig, Symbol, reversed_nested
from .sources import Document
from .suggest import one_of
from .text import shown

REFERENCE_FORMS = 'a symbol, {method = "name"}, a list of 2 or 3 of those, or {pattern_complex_format = [...]}'


def read_reference(reader: EntryReader, doc: Document, value: Any, key: str) -> Pattern | None:
    """The key of the pattern ``value`` names, or None (reported)."""
    if isinstance(value, dict) and set(value) == {"pattern_complex_format"}:
        return reader.complex_pattern(doc, value["pattern_complex_format"], f"{key}.pattern_complex_format", Scope(None))
    if isinstance(value, dict) and set(value) != {"method"}:
        reader.problem(doc, key, f"expected {REFERENCE_FORMS}, got {shown(value)}")
        return None
    return reversed_nested(reader.pattern(doc, value, key, Scope(None)))


@dataclass(frozen=True)
class Reference:
    """A pattern reference of a spec: the key it names, where it is written, and
    how it is written (for messages)."""

    pattern: Pattern
    key: str
    label: str


def read_references(reader: EntryReader, doc: Document, values: Any, key: str) -> list[Reference]:
    """Each valid reference of an array (the others are reported). A pattern named
    twice is a mistake."""
    if not reader.checker.check_type(doc, values, list, key):
        return []
    if not values:
        reader.problem(doc, key, "expected at least one pattern")
        return []
    found: list[Reference] = []
    first: dict[Pattern, int] = {}
    for index, value in enumerate(values):
        item_key = key_path(key, index)
        pattern = read_reference(reader, doc, value, item_key)
        if pattern is None:
            continue
        if pattern in first:
            reader.problem(doc, item_key, f"names the same pattern as {key_path(key, first[pattern])}")
            continue
        first[pattern] = index
        found.append(Reference(pattern, item_key, reference_label(value)))
    return found


def reference_value(config: PatternConfig) -> Any:
    """How a spec names ``config``'s pattern: a TOML value (str, list or dict)."""
    if config.pattern_complex_format is not None:
        return {"pattern_complex_format": _nested(config.pattern_complex_format)}
    if isinstance(config.pattern, tuple):
        return [_atom(item) for item in config.pattern]
    return _atom(config.pattern)


def reference_label(value: Any) -> str:
    """A reference as a message shows it: a symbol as is, anything else as TOML."""
    return value if isinstance(value, str) else _toml(value)


def atom_label(atom: Symbol | MethodName) -> str:
    """A symbol or tensor method as a message shows it: ``torch.nn.ReLU``,
    ``{method = "reshape"}`` (as the spec writes it)."""
    return reference_label(_atom(atom))


def unknown_reference(reference: Reference, known: dict[Pattern, str], owner: str) -> str:
    """'<owner> has no pattern X; did you mean Y? expected one of: ...'."""
    return f"{owner} has no pattern {reference.label}; {one_of(list(known.values()), reference.label)}"


def labels(configs: Iterable[PatternConfig]) -> dict[Pattern, str]:
    """Each distinct pattern of ``configs`` (by key, in order) -> its label."""
    found: dict[Pattern, str] = {}
    for config in configs:
        if config.key not in found:
            found[config.key] = reference_label(reference_value(config))
    return found


def _atom(value: Any) -> Any:
    if isinstance(value, Symbol):
        return value.path
    if isinstance(value, MethodName):
        return {"method": value.name}
    raise TypeError(f"not a pattern atom: {value!r}")


def _nested(value: Any) -> Any:
    return [_nested(item) for item in value] if isinstance(value, tuple) else _atom(value)


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{name} = {_toml(item)}" for name, item in value.items()) + "}"
