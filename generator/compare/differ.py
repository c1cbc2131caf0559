"""Compare two config descriptions into typed change records. Pure: no torch, no I/O.

Direction is always OLD -> NEW. Patterns are matched by torch's key (what
BackendConfig itself keys them by), so a pattern written in the simple format on
one side and in the complex format on the other is one pattern whose fields differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from .description import (
    ABSENT,
    Behaviour,
    ConfigDescription,
    Mapping,
    MissingSymbol,
    PatternDescription,
    Record,
    show,
)
from .order import kept_in_order

# The same change on at least this many patterns is reported once, with the count.
SHARED_AT = 3


@dataclass(frozen=True)
class FieldChanged:
    path: str  # e.g. "observation_type", "dtype_configs[1].input_dtype.quant_max_upper_bound"
    old: Any
    new: Any
    details: tuple[str, ...] = ()  # how two behaviours differ


@dataclass(frozen=True)
class DTypeConfigAdded:
    index: int  # in NEW's dtype_configs
    config: Record


@dataclass(frozen=True)
class DTypeConfigRemoved:
    index: int  # in OLD's dtype_configs
    config: Record


PatternChange = Union[FieldChanged, DTypeConfigAdded, DTypeConfigRemoved]


@dataclass(frozen=True)
class PatternAdded:
    pattern: PatternDescription
    position: int  # in NEW's configs


@dataclass(frozen=True)
class PatternRemoved:
    pattern: PatternDescription
    position: int  # in OLD's configs


@dataclass(frozen=True)
class PatternMoved:
    label: str
    old_position: int
    new_position: int
    after: str | None  # the pattern it now follows in NEW; None when it is now first


@dataclass(frozen=True)
class PatternChanged:
    label: str
    changes: tuple[PatternChange, ...]


@dataclass(frozen=True)
class SharedChange:
    """One change made to many patterns, reported once."""

    change: PatternChange
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class NamedDTypeConfigChanged:
    """A dtype config bound to the same name on both sides whose value changed."""

    name: str
    changes: tuple[FieldChanged, ...]  # paths relative to the dtype config
    patterns: tuple[str, ...]  # every pattern using it, on either side


@dataclass(frozen=True)
class SideMissing:
    side: str  # "old" or "new"
    symbol: MissingSymbol


@dataclass(frozen=True)
class Comparison:
    old: ConfigDescription
    new: ConfigDescription
    name: FieldChanged | None
    added: tuple[PatternAdded, ...]
    removed: tuple[PatternRemoved, ...]
    moved: tuple[PatternMoved, ...]
    changed: tuple[PatternChanged, ...]
    shared: tuple[SharedChange, ...]
    named: tuple[NamedDTypeConfigChanged, ...]
    missing: tuple[SideMissing, ...]

    @property
    def equal(self) -> bool:
        # A side built with stand-ins for missing symbols is not proven equal to anything.
        return not any(
            (self.name, self.added, self.removed, self.moved, self.changed, self.shared, self.named, self.missing)
        )

    def counts(self) -> dict[str, int]:
        return {
            "backend_name": int(self.name is not None),
            "added": len(self.added),
            "removed": len(self.removed),
            "moved": len(self.moved),
            "changed": len(self.changed),
            "shared_changes": len(self.shared),
            "named_dtype_configs": len(self.named),
            "missing_symbols": len(self.missing),
        }


def same(old: Any, new: Any) -> bool:
    """Equality that does not let 1 == True or 0 == 0.0 hide a changed type, and
    compares behaviours by what they do rather than by name."""
    if type(old) is not type(new):
        return False
    if isinstance(old, (tuple, list)):
        return len(old) == len(new) and all(same(a, b) for a, b in zip(old, new))
    if isinstance(old, Record):
        return old.kind == new.kind and same(old.fields, new.fields)
    if isinstance(old, Mapping):
        return same(old.items, new.items)
    if isinstance(old, Behaviour):
        if old.outcomes is not None and new.outcomes is not None:
            return old.outcomes == new.outcomes
        return old.outcomes is None and new.outcomes is None and old.name == new.name
    return old == new


def compare(old: ConfigDescription, new: ConfigDescription) -> Comparison:
    old_positions = {pattern.key: index for index, pattern in enumerate(old.patterns)}
    new_positions = {pattern.key: index for index, pattern in enumerate(new.patterns)}
    removed = tuple(PatternRemoved(p, i) for i, p in enumerate(old.patterns) if p.key not in new_positions)
    added = tuple(PatternAdded(p, i) for i, p in enumerate(new.patterns) if p.key not in old_positions)
    common_old = [p.key for p in old.patterns if p.key in new_positions]
    common_new = [p.key for p in new.patterns if p.key in old_positions]
    kept = kept_in_order(common_old, common_new)
    labels = {p.key: p.label for p in (*new.patterns, *old.patterns)}  # OLD's label wins
    moved = tuple(
        PatternMoved(
            labels[key],
            old_positions[key],
            new_positions[key],
            labels[new.patterns[new_positions[key] - 1].key] if new_positions[key] else None,
        )
        for key in common_old
        if key not in kept
    )

    named, named_patterns = _named_dtype_config_changes(old, new)
    per_pattern: list[tuple[str, list[PatternChange]]] = []
    for key in common_old:
        old_pattern = old.patterns[old_positions[key]]
        new_pattern = new.patterns[new_positions[key]]
        per_pattern.append((labels[key], pattern_changes(old_pattern, new_pattern, set(named))))

    shared, changed = _share_repeated(per_pattern)
    name_change = None if same(old.name, new.name) else FieldChanged("name", old.name, new.name)
    return Comparison(
        old=old,
        new=new,
        name=name_change,
        added=added,
        removed=removed,
        moved=moved,
        changed=changed,
        shared=shared,
        named=tuple(
            NamedDTypeConfigChanged(name, tuple(changes), named_patterns[name]) for name, changes in named.items()
        ),
        missing=tuple(SideMissing("old", m) for m in old.missing) + tuple(SideMissing("new", m) for m in new.missing),
    )


def _common_in_order(old: list | tuple, new: list | tuple, equal=lambda a, b: a == b) -> list[tuple[int, int]]:
    """Index pairs of equal items kept in the same relative order on both sides: a
    longest common subsequence, for lists that may hold equal items more than once
    (dtype configs). Of two as long, the one leaving out the earlier item of OLD wins,
    as in order.kept_in_order, which keyed entries use."""
    lengths = [[0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for i in range(len(old) - 1, -1, -1):
        for j in range(len(new) - 1, -1, -1):
            if equal(old[i], new[j]):
                lengths[i][j] = lengths[i + 1][j + 1] + 1
            else:
                lengths[i][j] = max(lengths[i + 1][j], lengths[i][j + 1])
    pairs, i, j = [], 0, 0
    while i < len(old) and j < len(new):
        if equal(old[i], new[j]):
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


def _dtype_configs(pattern: PatternDescription) -> tuple:
    value = pattern.field("dtype_configs")
    return value if isinstance(value, tuple) else ()


def _named_dtype_config_changes(
    old: ConfigDescription, new: ConfigDescription
) -> tuple[dict[str, list[FieldChanged]], dict[str, tuple[str, ...]]]:
    """Dtype configs bound to one name on both sides whose values differ, and the
    patterns that use each (either side, OLD's order first)."""

    def by_name(description: ConfigDescription) -> dict[str, Record]:
        found: dict[str, Record] = {}
        for pattern in description.patterns:
            for config in _dtype_configs(pattern):
                if isinstance(config, Record) and config.name and config.name not in found:
                    found[config.name] = config
        return found

    old_named, new_named = by_name(old), by_name(new)
    changes = {
        name: _value_changes("", old_named[name], new_named[name])
        for name in old_named
        if name in new_named and not same(old_named[name], new_named[name])
    }
    patterns: dict[str, tuple[str, ...]] = {}
    for name in changes:
        users = [
            pattern.label
            for pattern in (*old.patterns, *new.patterns)
            if any(getattr(config, "name", None) == name for config in _dtype_configs(pattern))
        ]
        patterns[name] = tuple(dict.fromkeys(users))
    return changes, patterns


def pattern_changes(
    old: PatternDescription, new: PatternDescription, named: frozenset[str] | set[str] = frozenset()
) -> list[PatternChange]:
    """Every change from one pattern's fields to the other's; changes of the dtype
    configs named in ``named`` are left to their NamedDTypeConfigChanged."""
    old_fields, new_fields = dict(old.fields), dict(new.fields)
    changes: list[PatternChange] = []
    for name in dict.fromkeys([*old_fields, *new_fields]):
        old_value, new_value = old_fields.get(name, ABSENT), new_fields.get(name, ABSENT)
        if name == "dtype_configs" and isinstance(old_value, tuple) and isinstance(new_value, tuple):
            changes.extend(_dtype_config_changes(old_value, new_value, named))
        else:
            changes.extend(_value_changes(name, old_value, new_value))
    return changes


def _value_changes(path: str, old: Any, new: Any) -> list[FieldChanged]:
    """Every leaf that differs below ``path``: records and mappings field by field."""
    if same(old, new):
        return []
    if isinstance(old, Record) and isinstance(new, Record) and old.kind == new.kind:
        old_fields, new_fields = dict(old.fields), dict(new.fields)
        changes = []
        for name in dict.fromkeys([*old_fields, *new_fields]):
            changes.extend(
                _value_changes(_join(path, name), old_fields.get(name, ABSENT), new_fields.get(name, ABSENT))
            )
        return changes
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        old_items, new_items = dict(old.items), dict(new.items)
        changes = []
        for key in dict.fromkeys([*old_items, *new_items]):
            changes.extend(
                _value_changes(_join(path, str(key)), old_items.get(key, ABSENT), new_items.get(key, ABSENT))
            )
        return changes
    if isinstance(old, Behaviour) and isinstance(new, Behaviour):
        return [FieldChanged(path, old, new, explain_behaviours(old, new))]
    return [FieldChanged(path, old, new)]


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _dtype_config_changes(old: tuple, new: tuple, named: set[str]) -> list[PatternChange]:
    """Align two dtype config lists: equal configs in order first; between them,
    configs of the same name, then position by position; the rest added or removed."""
    matches = _common_in_order(old, new, same)
    changes: list[PatternChange] = []
    bounds = [(-1, -1), *matches, (len(old), len(new))]
    for (old_start, new_start), (old_end, new_end) in zip(bounds, bounds[1:]):
        old_gap = list(range(old_start + 1, old_end))
        new_gap = list(range(new_start + 1, new_end))
        pairs = []
        for i in list(old_gap):
            name = getattr(old[i], "name", None)
            j = next((j for j in new_gap if name and getattr(new[j], "name", None) == name), None)
            if j is not None:
                pairs.append((i, j))
                old_gap.remove(i)
                new_gap.remove(j)
        pairs.extend(zip(old_gap, new_gap))
        for i, j in sorted(pairs):
            if getattr(old[i], "name", None) in named and getattr(old[i], "name", None) == getattr(new[j], "name", None):
                continue  # reported once, as a change of the named dtype config
            index = f"{i}" if i == j else f"{i} -> {j}"
            changes.extend(_value_changes(f"dtype_configs[{index}]", old[i], new[j]))
        paired_old = {i for i, _ in pairs}
        paired_new = {j for _, j in pairs}
        changes.extend(DTypeConfigRemoved(i, old[i]) for i in old_gap if i not in paired_old)
        changes.extend(DTypeConfigAdded(j, new[j]) for j in new_gap if j not in paired_new)
    return changes


def _signature(change: PatternChange) -> tuple:
    """What makes two pattern changes "the same change": kind, path and values,
    with types (show tells 1 from true)."""
    if isinstance(change, FieldChanged):
        return ("field", change.path, show(change.old), show(change.new), change.details, change.old, change.new)
    return (type(change).__name__, change.index, show(change.config), change.config.name, change.config)


def _share_repeated(
    per_pattern: list[tuple[str, list[PatternChange]]],
) -> tuple[tuple[SharedChange, ...], tuple[PatternChanged, ...]]:
    """Pull a change made to SHARED_AT or more patterns out into one SharedChange."""
    users: dict[tuple, list[str]] = {}
    examples: dict[tuple, PatternChange] = {}
    for label, changes in per_pattern:
        for change in changes:
            signature = _signature(change)
            users.setdefault(signature, []).append(label)
            examples.setdefault(signature, change)
    shared_signatures = {signature for signature, labels in users.items() if len(labels) >= SHARED_AT}
    shared = tuple(SharedChange(examples[s], tuple(users[s])) for s in users if s in shared_signatures)
    changed = []
    for label, changes in per_pattern:
        remaining = tuple(change for change in changes if _signature(change) not in shared_signatures)
        if remaining:
            changed.append(PatternChanged(label, remaining))
    return shared, tuple(changed)


def explain_behaviours(old: Behaviour, new: Behaviour) -> tuple[str, ...]:
    """How two callables' behaviours differ, one line per differing input."""
    if old.outcomes is None or new.outcomes is None:
        return tuple(
            f"{side}: not run ({behaviour.unprobed}); compared by name"
            for side, behaviour in (("old", old), ("new", new))
            if behaviour.outcomes is None
        )
    lines = []
    new_by_case = {outcome.case: outcome for outcome in new.outcomes}
    for outcome in old.outcomes:
        other = new_by_case.get(outcome.case)
        if other is None or other == outcome:
            continue
        if other.result != outcome.result:
            lines.append(f"{outcome.case}: {outcome.result} -> {other.result}")
        else:
            old_values, new_values = dict(outcome.values), dict(other.values)
            differing = [name for name in dict.fromkeys([*old_values, *new_values]) if old_values.get(name) != new_values.get(name)]
            lines.append(f"{outcome.case}: {outcome.result}, with different values of {', '.join(differing)}")
    return tuple(lines)

