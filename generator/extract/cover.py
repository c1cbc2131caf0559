"""Cover live patterns with op group uses: shared groups where a run of patterns is
(part of) one (matching.py), op groups of the spec's own for the rest.

A group of the spec's own says which shared group it is closest to (the one that
has most of its patterns) and how it differs: which of its patterns the shared
group lacks or has with other fields, and how many more the shared group has. It
is named after that group (``executorch_share_qparams_op``), else after its first
pattern.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from ..compare.description import ABSENT
from ..compare.differ import same
from ..text import count
from .callables import Namer
from .document import OwnGroup, Use
from .dtypes import DTypeNames
from .groups import SharedCatalog, Variant
from .matching import GroupRun, LivePattern, find_runs
from .patterns import entry_table, pattern_label

LISTED = 3  # patterns a comment names before "and N more"


@dataclass
class Covered:
    """What covering patterns gives: the uses in order and the spec's own groups."""

    uses: list[Use] = field(default_factory=list)
    own: list[OwnGroup] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # catalog files the shared uses need
    shared_uses: int = 0


class Cover:
    def __init__(self, label: str, prefix: str, items: list[tuple[Any, Any]], patterns: list[LivePattern],
                 shared: SharedCatalog, namer: Namer, dtypes: DTypeNames, taken: set[str]):
        self.label = label
        self.prefix = prefix
        self.items = items  # (live key, live pattern config), in the config's order
        self.patterns = patterns
        self.shared = shared
        self.namer = namer
        self.dtypes = dtypes
        self.taken = taken  # op group names in use

    def cover(self, start: int = 0) -> Covered:
        """Uses for the patterns from ``start`` on."""
        found = Covered()
        pending: list[int] = []
        for run in [*find_runs(self.patterns, self.shared, start), None]:
            if isinstance(run, int) and (not pending or self.patterns[pending[-1]].dtype_configs == self.patterns[run].dtype_configs):
                pending.append(run)
                continue
            if pending:
                found.own.append(self.own_group(pending))
                found.uses.append(self.own_use(found.own[-1], pending))
                pending = []
            if isinstance(run, int):
                pending.append(run)
            elif run is not None:
                found.uses.append(self.group_use(run))
                found.shared_uses += 1
                if run.variant.file not in found.files:
                    found.files.append(run.variant.file)
        return found

    def group_use(self, run: GroupRun) -> Use:
        configs = [self.dtypes.declare(config, live) for config, live in zip(run.configs, run.sources, strict=True)]
        group = run.variant.group
        table: dict[str, Any] = {"name": group.name}
        if run.variant.parts is not None:
            table["parts"] = list(run.variant.parts)
        if run.variant.where is not None:
            table["where"] = dict(run.variant.where)
        table.update(run.selection)
        table["dtype_configs"] = [config.name for config in configs]
        comment = wrapped(f"{group.name} ({run.variant.file}): {group.description}")
        return Use([*comment, positions(run.start, run.count)], table)

    def own_group(self, indexes: list[int]) -> OwnGroup:
        entries = []
        for index in indexes:
            key, pattern_config = self.items[index]
            entries.append(entry_table(pattern_config, key, self.where(index), self.namer))
        first_key, first = self.items[indexes[0]]
        closest = self.closest(indexes)
        stem = f"{self.prefix}_{closest.group.name}" if closest is not None else f"{self.prefix}_{_snake(first_key)}"
        name = self.unique(stem)
        shown = pattern_label(first, first_key, self.namer)
        more = f" and {len(indexes) - 1} more" if len(indexes) > 1 else ""
        doc = f"Patterns of {self.label} no shared op group expands to: {shown}{more}."
        return OwnGroup(name, doc, entries, self.closeness(indexes, closest))

    def own_use(self, group: OwnGroup, indexes: list[int]) -> Use:
        first = self.patterns[indexes[0]]
        configs = [self.dtypes.declare(config, live) for config, live in zip(first.dtype_configs, first.live_dtype_configs, strict=True)]
        comment = [f"{group.name} (this spec): patterns no shared op group expands to", positions(indexes[0], len(indexes))]
        return Use(comment, {"name": group.name, "dtype_configs": [config.name for config in configs]})

    def where(self, index: int) -> str:
        key, pattern_config = self.items[index]
        return f"configs[{index}] {pattern_label(pattern_config, key, self.namer)}"

    def unique(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.taken:
            candidate, number = f"{name}_{number}", number + 1
        self.taken.add(candidate)
        return candidate

    # -- the closest shared group ------------------------------------------------

    def closest(self, indexes: list[int]) -> Variant | None:
        """The shared group (its default use) that has most of these patterns; the
        catalog's first on a tie. Cost: one index look-up per pattern."""
        hits: dict[int, int] = {}
        defaults = {id(v): v for v in self.shared.variants if v.parts is None and v.where is None}
        for index in indexes:
            for variant in self.shared.containing.get(self.patterns[index].key, ()):
                if id(variant) in defaults:
                    hits[id(variant)] = hits.get(id(variant), 0) + 1
        if not hits:
            return None
        order = {id(v): n for n, v in enumerate(self.shared.variants)}
        best = min(hits, key=lambda found: (-hits[found], order[found]))
        return defaults[best]

    def closeness(self, indexes: list[int], closest: Variant | None) -> list[str]:
        """Comment lines: the closest shared group and how these patterns differ from it."""
        if closest is None:
            return wrapped("No shared op group has any of these patterns.")
        inside = [i for i in indexes if self.patterns[i].key in closest.position]
        other = [i for i in inside if not _same_fields(self.patterns[i], closest)]
        outside = [i for i in indexes if self.patterns[i].key not in closest.position]
        has = "this pattern" if len(indexes) == 1 else f"{len(inside)} of these {len(indexes)} patterns"
        text = f"Closest shared op group: {closest.group.name} ({closest.file}), which has {has}"
        if other:
            differing = sorted({name for i in other for name in _differing(self.patterns[i], closest)})
            which = "" if len(indexes) == 1 else f"{len(other)} "
            text += f" ({which}with other {', '.join(differing)}" + ("" if len(indexes) == 1 else f": {self.listed(other)}") + ")"
        if outside:
            text += f"; it lacks {self.listed(outside)}"
        extra = len(closest.keys) - len(inside)
        if extra:
            text += f"; it has {count(extra, 'more pattern')}"
        return wrapped(text + ".")

    def listed(self, indexes: list[int]) -> str:
        shown = [pattern_label(self.items[i][1], self.items[i][0], self.namer) for i in indexes[:LISTED]]
        more = f" and {len(indexes) - LISTED} more" if len(indexes) > LISTED else ""
        return ", ".join(shown) + more


def _same_fields(pattern: LivePattern, variant: Variant) -> bool:
    return same(pattern.fields, variant.fields[variant.position[pattern.key]])


def _differing(pattern: LivePattern, variant: Variant) -> list[str]:
    ours, theirs = dict(pattern.fields), dict(variant.fields[variant.position[pattern.key]])
    return [name for name in dict.fromkeys([*ours, *theirs]) if not same(ours.get(name, ABSENT), theirs.get(name, ABSENT))]


def wrapped(text: str) -> list[str]:
    """Comment lines of at most 88 columns (with their "# ")."""
    return textwrap.wrap(text, width=86, break_long_words=False, break_on_hyphens=False) or [""]


def positions(start: int, number: int) -> str:
    if number == 1:
        return f"configs[{start}], 1 pattern"
    return f"configs[{start}]..[{start + number - 1}], {number} patterns"


def _snake(key: Any) -> str:
    """A name for a group from its first pattern: (Linear, ReLU) -> linear_relu."""
    atoms: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, tuple):
            for item in reversed(value) if len(value) == 2 and not isinstance(value[1], tuple) else value:
                visit(item)
        elif isinstance(value, str):
            atoms.append(value)
        else:
            atoms.append(getattr(value, "__name__", type(value).__name__))

    visit(key)
    words = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", atom.replace("ReLU", "Relu")).lower() for atom in atoms]
    name = re.sub(r"\W+", "_", "_".join(words)).strip("_")
    return name or "patterns"
