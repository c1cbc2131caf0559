"""Which QConfigMappings of two sides are compared with which (pure, no torch).

Note [Pairing the mappings of two sides]
A side holds mappings in one of three ways, and the child says which:
- a spec, builtin:, REV:path or generated module: every getter its module defines
  (possibly none), named by the getter (``get_x86_qconfig_mapping``);
- MODULE:FUNCTION returning a QConfigMapping: that one mapping, named FUNCTION;
- MODULE:FUNCTION returning a BackendConfig: none, and it could not hold any
  (``holds`` is None).
Two module sides pair their mappings by getter name; a getter on one side only is
a mapping added or removed. A single-mapping side pairs with the other side's
mapping of the same name, else with its only mapping; with several and none of
that name the pairing is ambiguous: bad input, the message names the candidates.
A BackendConfig function has no mappings to compare: a module side's mappings are
then not compared, and the report is the BackendConfig report alone (``diff
spec/x86.toml torch...:get_x86_backend_config`` reviews the backend config, as it
did before specs held mappings; ``--verify`` compares the mappings with torch's
own functions, ``diff spec/x86.toml torch.ao.quantization:get_default_qconfig_mapping``
one of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..text import count
from .codec import CodecError
from .mapping_description import SECTIONS, MappingDescription, from_json, to_json
from .mapping_differ import MappingChange, diff_mappings


@dataclass(frozen=True)
class MappingSide:
    """What a side holds of mappings, as the child described it."""

    source: str
    kind: str
    holds: tuple[tuple[str, MappingDescription], ...] | None  # None: a BackendConfig function

    @property
    def single(self) -> bool:
        """A MODULE:FUNCTION returning a QConfigMapping: the one mapping it holds."""
        return self.kind == "function" and self.holds is not None


@dataclass(frozen=True)
class MappingPair:
    old_name: str
    new_name: str
    old: MappingDescription
    new: MappingDescription
    changes: tuple[MappingChange, ...]

    @property
    def label(self) -> str:
        return self.old_name if self.old_name == self.new_name else f"{self.old_name} -> {self.new_name}"


@dataclass(frozen=True)
class MappingsComparison:
    pairs: tuple[MappingPair, ...]
    added: tuple[tuple[str, MappingDescription], ...]
    removed: tuple[tuple[str, MappingDescription], ...]

    @property
    def equal(self) -> bool:
        return not self.added and not self.removed and all(not pair.changes for pair in self.pairs)

    @property
    def involved(self) -> bool:
        """Whether the report has anything to say about mappings."""
        return bool(self.pairs or self.added or self.removed)

    def counts(self) -> dict[str, int]:
        changes = [change for pair in self.pairs for change in pair.changes]
        found = {kind: sum(change.kind == kind for change in changes) for kind in ("added", "removed", "moved", "changed")}
        return {
            "mappings_compared": len(self.pairs),
            "mappings_different": sum(bool(pair.changes) for pair in self.pairs),
            "mappings_added": len(self.added),
            "mappings_removed": len(self.removed),
            "entries_added": found["added"],
            "entries_removed": found["removed"],
            "entries_moved": found["moved"],
            "values_changed": found["changed"],
        }


class PairingError(Exception):
    """The sides' mappings cannot be paired: bad input, one line."""


def decode_mapping(data: Any) -> MappingDescription:
    """A MappingDescription from the child's JSON, checked: it must encode back to
    exactly what was sent."""
    try:
        description = from_json(data)
        same = to_json(description) == data
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise CodecError(f"not a qconfig mapping description ({type(error).__name__}: {error})") from None
    if not same:
        raise CodecError("a qconfig mapping description that does not encode back to itself")
    return description


def decode_named(data: Any) -> tuple[tuple[str, MappingDescription], ...]:
    """``[[name, description], ...]`` from the child."""
    if not isinstance(data, list) or not all(isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) for item in data):
        raise CodecError("expected a list of [name, qconfig mapping description] pairs")
    return tuple((name, decode_mapping(description)) for name, description in data)


def pair_sides(old: MappingSide, new: MappingSide) -> MappingsComparison:
    """Note [Pairing the mappings of two sides]; raises PairingError."""
    if old.holds is None or new.holds is None:
        if old.single or new.single:
            raise PairingError(f"{(old if old.single else new).source} returns a QConfigMapping and "
                               f"{(new if old.single else old).source} a BackendConfig: expected two of a kind")
        return MappingsComparison((), (), ())
    if old.single or new.single:
        return MappingsComparison((_single_pair(old, new),), (), ())
    old_names, new_names = dict(old.holds), dict(new.holds)
    pairs = tuple(_pair(name, name, old_names[name], new_names[name]) for name in new_names if name in old_names)
    added = tuple((name, mapping) for name, mapping in new.holds if name not in old_names)
    removed = tuple((name, mapping) for name, mapping in old.holds if name not in new_names)
    return MappingsComparison(pairs, added, removed)


def _single_pair(old: MappingSide, new: MappingSide) -> MappingPair:
    single, other = (old, new) if old.single else (new, old)
    assert single.holds is not None and other.holds is not None
    ((name, mapping),) = single.holds
    candidates = dict(other.holds)
    if name in candidates:
        chosen = name
    elif len(candidates) == 1:
        (chosen,) = candidates
    else:
        held = ", ".join(candidates) if candidates else "none"
        raise PairingError(f"{single.source} returns one QConfigMapping and {other.source} defines "
                           f"{count(len(candidates), 'qconfig mapping')} ({held}), none named {name}: "
                           "expected a side with one mapping, or one of the same name")
    if single is old:
        return _pair(name, chosen, mapping, candidates[chosen])
    return _pair(chosen, name, candidates[chosen], mapping)


def _pair(old_name: str, new_name: str, old: MappingDescription, new: MappingDescription) -> MappingPair:
    return MappingPair(old_name, new_name, old, new, tuple(diff_mappings(old, new)))


def contents(mapping: MappingDescription) -> str:
    """What a mapping sets: ``global, 23 object types``."""
    parts = ["global"] if mapping.global_qconfig is not None else []
    words = {
        "object_types": ("object type", "object types"),
        "module_name_regexes": ("module name regex", "module name regexes"),
        "module_names": ("module name", "module names"),
        "module_name_object_type_orders": ("module name object type order", "module name object type orders"),
    }
    for section in SECTIONS:
        entries = getattr(mapping, section)
        if entries:
            parts.append(f"{len(entries)} {words[section][len(entries) != 1]}")
    return ", ".join(parts) or "no entries"
