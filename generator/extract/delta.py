"""A live config as a spec that extends another: the base, and what differs (needs torch).

The live config must be the base's patterns it keeps, in the base's order, then
patterns of its own (bases.kept_prefix finds the longest such start). The delta:

- ``remove_op_groups`` for op groups none of whose patterns is kept, and
  ``remove_patterns`` for the other patterns the base has and the kept start lacks
  (a pattern of the base that comes later in the live config is removed, then
  added again at its place);
- ``[dtype_configs.NAME]`` redefining a dtype config of the base wherever every
  kept pattern using it now has one same other value (fixed-qparams configs
  derived from it included);
- ``[[backend.override_patterns]]`` for kept patterns whose fields differ: the
  differing fields, ``unset`` for those no longer set, dtype configs by name;
- the patterns after the kept ones, covered by op group uses (cover.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..compare.description import ABSENT, is_unset
from ..compare.differ import same
from ..dtypes import with_activation_constraints
from ..model import DEFAULT_OBSERVATION_TYPE, DTypeConfig
from ..pattern_edits import UNSETTABLE
from ..pattern_refs import reference_value
from .bases import Base, kept_prefix
from .cover import Cover, Covered
from .dtypes import DTypeNames, Value, value_of
from .live import ExtractError
from .matching import LivePattern
from .patterns import entry_table

_IDENTITY = ("pattern", "pattern_complex_format")


@dataclass
class DeltaParts:
    """What the extending spec says, before it is written."""

    remove_op_groups: list[str] = field(default_factory=list)
    remove_patterns: list[Any] = field(default_factory=list)
    redefined: list[DTypeConfig] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)
    tail: Covered = field(default_factory=Covered)
    tail_start: int = 0
    removed: int = 0  # patterns of the base the live config lacks (or has later)


class Delta:
    def __init__(self, base: Base, items: list[tuple[Any, Any]], patterns: list[LivePattern], cover: Cover,
                 dtypes: DTypeNames, whole_groups: bool = True):
        self.base = base
        self.items = items
        self.patterns = patterns
        self.cover = cover
        self.dtypes = dtypes
        self.whole_groups = whole_groups  # remove whole op groups by name where possible

    def compute(self) -> DeltaParts:
        kept = self.kept()
        parts = DeltaParts(tail_start=kept)
        pairs = [(index, self.base.position[self.patterns[index].key]) for index in range(kept)]
        matched = {base_index for _, base_index in pairs}
        self.removals(parts, matched)
        redefined = self.redefinitions(pairs)
        parts.redefined = list(redefined.values())
        for name, config in redefined.items():
            for value in [value for value, known in self.dtypes.existing.items() if known.name == name]:
                del self.dtypes.existing[value]
            self.dtypes.existing[value_of(config)] = config
        for index, base_index in pairs:
            override = self.override(index, base_index, redefined)
            if override:
                parts.overrides.append(override)
        parts.tail = self.cover.cover(kept)
        return parts

    def kept(self) -> int:
        """The kept start, ending early where a pattern is written in the other
        format (simple vs complex) than the base's: an override cannot change it."""
        kept = kept_prefix(self.patterns, self.base)
        for index in range(kept):
            ours = dict(self.patterns[index].fields)
            theirs = dict(self.base.described(self.base.position[self.patterns[index].key]).fields)
            if not all(same(ours.get(name, ABSENT), theirs.get(name, ABSENT)) for name in _IDENTITY):
                return index
        return kept

    # -- removals ------------------------------------------------------------------

    def removals(self, parts: DeltaParts, matched: set[int]) -> None:
        configs = self.base.backend.pattern_configs
        removed = [index for index in range(len(configs)) if index not in matched]
        parts.removed = len(removed)
        whole: set[str] = set()
        if self.whole_groups:
            kept_groups = {configs[index].op_group for index in matched}
            whole = {configs[index].op_group for index in removed} - kept_groups
        parts.remove_op_groups = sorted(whole, key=lambda name: min(i for i in removed if configs[i].op_group == name))
        parts.remove_patterns = [reference_value(configs[index]) for index in removed if configs[index].op_group not in whole]

    # -- dtype configs -------------------------------------------------------------

    def redefinitions(self, pairs: list[tuple[int, int]]) -> dict[str, DTypeConfig]:
        """Dtype configs of the base that every kept pattern now uses with one other value."""
        own = set(self.base.loader.own_dtype_configs)
        declared = {config.name: config for config in self.base.backend.dtype_configs if config.base is None}
        plain: dict[str, set[Value]] = {}
        values: dict[Value, DTypeConfig] = {}
        derived: dict[str, list[tuple[str, Value]]] = {}
        for index, base_index in pairs:
            old, new = self.base.backend.pattern_configs[base_index].dtype_configs, self.patterns[index].dtype_configs
            if len(old) != len(new):
                continue
            for config, value in zip(old, new):
                if config.base is None:
                    plain.setdefault(config.name, set()).add(value_of(value))
                    values[value_of(value)] = value
                else:
                    derived.setdefault(config.base, []).append((config.activation_constraints or "", value_of(value)))
        constraints = self.base.loader.catalog.constraints
        found: dict[str, DTypeConfig] = {}
        for name, wanted in plain.items():
            if len(wanted) != 1 or name not in own or name not in declared:
                continue
            (value,) = wanted
            if value == value_of(declared[name]):
                continue
            config = self.dtypes.named_config(replace(values[value], name=name))
            if all(self.derives(config, constraints.get(cname), cname, target) for cname, target in derived.get(name, ())):
                found[name] = config
        return found

    @staticmethod
    def derives(config: DTypeConfig, constraints: Any, name: str, target: Value) -> bool:
        derived = with_activation_constraints(config, constraints, name) if constraints is not None else None
        return isinstance(derived, DTypeConfig) and value_of(derived) == target

    def expected(self, config: DTypeConfig, redefined: dict[str, DTypeConfig]) -> Value:
        """A base pattern's dtype config as it is once ``redefined`` applies."""
        if config.base is None:
            return value_of(redefined.get(config.name, config))
        if config.base in redefined:
            constraints = self.base.loader.catalog.constraints.get(config.activation_constraints or "")
            derived = with_activation_constraints(redefined[config.base], constraints, config.activation_constraints or "")
            if isinstance(derived, DTypeConfig):
                return value_of(derived)
        return value_of(config)

    # -- overrides -----------------------------------------------------------------

    def override(self, index: int, base_index: int, redefined: dict[str, DTypeConfig]) -> dict[str, Any]:
        ours = dict(self.patterns[index].fields)
        theirs = {name: value for name, value in self.base.described(base_index).fields if name != "dtype_configs"}
        differing = [name for name in dict.fromkeys([*theirs, *ours]) if name not in _IDENTITY and not same(theirs.get(name, ABSENT), ours.get(name, ABSENT))]
        base_config = self.base.backend.pattern_configs[base_index]
        new_configs = self.patterns[index].dtype_configs
        configs_differ = [self.expected(config, redefined) for config in base_config.dtype_configs] != [value_of(c) for c in new_configs]
        if not differing and not configs_differ:
            return {}
        reference = reference_value(base_config)
        table: dict[str, Any] = dict(reference) if isinstance(reference, dict) and "pattern_complex_format" in reference else {"pattern": reference}
        if differing:
            key, pattern_config = self.items[index]
            entry = entry_table(pattern_config, key, self.cover.where(index), self.cover.namer)
            unset = []
            for name in differing:
                if name in entry:
                    table[name] = entry[name]
                elif name == "observation_type":
                    table[name] = DEFAULT_OBSERVATION_TYPE
                elif name in UNSETTABLE and is_unset(ours.get(name)):
                    unset.append(name)
                else:
                    raise ExtractError(f"{self.cover.where(index)}: {name} differs from {self.base.reference}'s, which the spec format cannot say")
            if unset:
                table["unset"] = unset
        if configs_differ:
            live = self.patterns[index].live_dtype_configs
            table["dtype_configs"] = [self.dtypes.declare(config, source).name for config, source in zip(new_configs, live, strict=True)]
        return table
