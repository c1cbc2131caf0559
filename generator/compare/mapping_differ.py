"""Compare two MappingDescriptions, OLD -> NEW, into change records (pure, no torch).

Each change names the entry and, inside its qconfig, the path to what differs as
the spec writes it: ``object_types[torch.nn.Sigmoid].activation.with_args.observer
.with_args.scale: 0.00390625 -> 0.0078125``. Entries added, removed and moved
(their relative order changed) are reported with their positions. Values are
compared strictly: ``True`` is not ``1``, ``1`` is not ``1.0`` (their JSON forms
are compared).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .mapping_description import SECTIONS, Constructor, MappingDescription, QConfigValue, show, show_key, value_key
from .order import kept_in_order

ABSENT = "(absent)"


@dataclass(frozen=True)
class MappingChange:
    kind: str  # "changed", "added", "removed" or "moved"
    path: str
    old: str  # the old value as text, ABSENT when added; for "moved", the old position
    new: str

    def __str__(self) -> str:
        if self.kind == "moved":
            return f"{self.path}: moved from position {self.old} to {self.new}"
        return f"{self.path}: {self.old} -> {self.new}"


def diff_mappings(old: MappingDescription, new: MappingDescription) -> list[MappingChange]:
    """Every difference, in the order of the mapping's parts: its type, the global
    qconfig, then each kind of entry (removed, added, moved, changed), then any
    other attribute."""
    changes: list[MappingChange] = []
    if old.type != new.type:
        changes.append(MappingChange("changed", "type", old.type, new.type))
    _values(changes, "global", old.global_qconfig, new.global_qconfig)
    for section in SECTIONS:
        _section(changes, section, getattr(old, section), getattr(new, section))
    old_other, new_other = dict(old.other), dict(new.other)
    for name in sorted(set(old_other) | set(new_other)):
        _values(changes, name, old_other.get(name, _Absent), new_other.get(name, _Absent))
    return changes


class _Absent:
    """A keyword, attribute or field one side does not have."""


def _same(old: Any, new: Any) -> bool:
    if old is _Absent or new is _Absent:
        return old is new
    return value_key(old) == value_key(new)


def _text(value: Any) -> str:
    return ABSENT if value is _Absent else show(value)


def _section(changes: list[MappingChange], section: str, old: tuple[tuple[Any, Any], ...], new: tuple[tuple[Any, Any], ...]) -> None:
    old_keys = [value_key(key) for key, _ in old]
    new_keys = [value_key(key) for key, _ in new]
    old_by_key = {identity: (position, key, value) for position, (identity, (key, value)) in enumerate(zip(old_keys, old))}
    new_by_key = {identity: (position, key, value) for position, (identity, (key, value)) in enumerate(zip(new_keys, new))}
    for identity in old_keys:
        if identity not in new_by_key:
            position, key, value = old_by_key[identity]
            changes.append(MappingChange("removed", show_key(section, key), f"{_text(value)} (at {position})", ABSENT))
    for identity in new_keys:
        if identity not in old_by_key:
            position, key, value = new_by_key[identity]
            changes.append(MappingChange("added", show_key(section, key), ABSENT, f"{_text(value)} (at {position})"))
    common_old = [identity for identity in old_keys if identity in new_by_key]
    common_new = [identity for identity in new_keys if identity in old_by_key]
    kept = kept_in_order(common_old, common_new)
    for identity in common_new:
        if identity not in kept:
            changes.append(MappingChange("moved", show_key(section, new_by_key[identity][1]), str(old_by_key[identity][0]), str(new_by_key[identity][0])))
    for identity in common_new:
        _, key, new_value = new_by_key[identity]
        _values(changes, show_key(section, key), old_by_key[identity][2], new_value)


def _values(changes: list[MappingChange], path: str, old: Any, new: Any) -> None:
    """The differences between two values at ``path``, as deep as both have the
    same structure (a qconfig's sides, a constructor's function and arguments)."""
    if _same(old, new):
        return
    if isinstance(old, QConfigValue) and isinstance(new, QConfigValue):
        if old.type != new.type:
            changes.append(MappingChange("changed", f"{path}.type", old.type, new.type))
        _values(changes, f"{path}.activation", old.activation, new.activation)
        _values(changes, f"{path}.weight", old.weight, new.weight)
        return
    if isinstance(old, Constructor) and isinstance(new, Constructor):
        _values(changes, f"{path}.class", old.func, new.func)
        if not _same_sequence(old.args, new.args):
            changes.append(MappingChange("changed", f"{path}.args", _sequence_text(old.args), _sequence_text(new.args)))
        _named(changes, f"{path}.with_args", old.keywords, new.keywords)
        _named(changes, f"{path}.with_callable_args", old.callable_args, new.callable_args)
        return
    changes.append(MappingChange("changed", path, _text(old), _text(new)))


def _named(changes: list[MappingChange], path: str, old: tuple[tuple[str, Any], ...], new: tuple[tuple[str, Any], ...]) -> None:
    old_items, new_items = dict(old), dict(new)
    for name in sorted(set(old_items) | set(new_items)):
        _values(changes, f"{path}.{name}", old_items.get(name, _Absent), new_items.get(name, _Absent))


def _same_sequence(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    return len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new))


def _sequence_text(values: tuple[Any, ...]) -> str:
    return f"({', '.join(show(value) for value in values)})"
