"""Find the runs of a live config's patterns that a shared op group expands to.

A group (with its default parts, all of them, one part, or one ``where`` row)
matches a run of consecutive live patterns when the run is the group's patterns,
or some of them (the use then names the others in ``exclude_patterns``, or the
run's in ``patterns``, whichever is shorter), in the group's order: every field
but the dtype configs equal, pattern by pattern, and expanding the group with some
list of dtype configs gives exactly the run's dtype configs. That list is read off
the run's first pattern; a fixed-qparams group derives constrained configs from it
as the loader does, so the list is also tried with the constraints of the shared
catalog taken off again.

The scan is greedy, from the first pattern: at each position the variant that
covers the most consecutive patterns wins (fewer patterns left out on a tie, then
the catalog's first); a partial run must cover 2 patterns or more. A pattern no
group covers is an explicit one. Cost: for each position, the variants that have
its pattern (an index by key), each aligned in time linear in its length.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..compare.differ import same
from ..model import DTypeConfig
from ..pattern_refs import reference_value
from .dtypes import value_of, without_activation_constraints
from .groups import SharedCatalog, Variant


@dataclass(frozen=True)
class GroupRun:
    """Live patterns ``start`` .. ``start + count - 1`` are ``variant`` used with
    ``configs``: the variant's patterns at positions ``matched``."""

    variant: Variant
    start: int
    configs: tuple[DTypeConfig, ...]  # the base dtype configs, unnamed values
    sources: tuple[Any, ...]  # the live DTypeConfig each came from, or None when derived
    matched: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.matched)  # one live pattern per matched pattern of the variant

    @property
    def selection(self) -> dict[str, list[Any]]:
        """The use's ``patterns`` or ``exclude_patterns`` key (the shorter), or nothing."""
        return selection(self.variant, self.matched)


def selection(variant: Variant, matched: tuple[int, ...]) -> dict[str, list[Any]]:
    kept = set(matched)
    left = [index for index in range(len(variant.keys)) if index not in kept]
    if not left:
        return {}
    if len(matched) < len(left):
        return {"patterns": [reference_value(variant.entries[index]) for index in matched]}
    return {"exclude_patterns": [reference_value(variant.entries[index]) for index in left]}


@dataclass(frozen=True)
class LivePattern:
    """One live pattern config, described for matching."""

    key: Any  # the description key
    fields: tuple  # the description's fields, dtype configs left out
    dtype_configs: tuple[DTypeConfig, ...]  # model values
    live_dtype_configs: tuple[Any, ...]  # the DTypeConfig objects


def find_runs(patterns: list[LivePattern], shared: SharedCatalog, start: int = 0) -> list[GroupRun | int]:
    """The live config from ``start`` on as group runs and explicit pattern
    positions, in order."""
    found: list[GroupRun | int] = []
    position = start
    while position < len(patterns):
        candidates = []
        for order, variant in enumerate(shared.containing.get(patterns[position].key, ())):
            matched = _aligned(variant, patterns, position)
            left_out = len(variant.keys) - len(matched)
            if matched and (left_out == 0 or len(matched) >= 2):
                candidates.append((-len(matched), left_out, order, variant, matched))
        best = None
        for _, _, _, variant, matched in sorted(candidates, key=lambda c: c[:3]):
            best = _with_dtype_configs(variant, position, patterns[position : position + len(matched)], matched, shared)
            if best is not None:
                break
        if best is None:
            found.append(position)
            position += 1
        else:
            found.append(best)
            position += best.count
    return found


def _aligned(variant: Variant, patterns: list[LivePattern], start: int) -> tuple[int, ...]:
    """The variant positions of the longest run from ``start`` whose patterns the
    variant has, in its order and with equal fields."""
    matched: list[int] = []
    last = -1
    for pattern in patterns[start:]:
        index = variant.position.get(pattern.key)
        if index is None or index <= last or not same(pattern.fields, variant.fields[index]):
            break
        matched.append(index)
        last = index
    return tuple(matched)


def _with_dtype_configs(variant: Variant, start: int, run: list[LivePattern], matched: tuple[int, ...], shared: SharedCatalog) -> GroupRun | None:
    first = run[0]
    candidates = []
    stripped = tuple(_unconstrained(config, shared) for config in first.dtype_configs)
    for configs in (stripped, first.dtype_configs):
        if configs not in candidates:
            candidates.append(configs)
    chosen = selection(variant, matched)
    for configs in candidates:
        named = [replace(config, name=f"_extract_{index}") for index, config in enumerate(configs)]
        expanded = shared.expand(variant.group, variant.parts, named, variant.where, chosen)
        if expanded is None or len(expanded) != len(run):
            continue
        if all([value_of(c) for c in e.dtype_configs] == [value_of(c) for c in p.dtype_configs] for e, p in zip(expanded, run, strict=True)):
            sources = tuple(
                live if value_of(config) == value_of(original) else None
                for config, original, live in zip(configs, first.dtype_configs, first.live_dtype_configs, strict=True)
            )
            return GroupRun(variant, start, configs, sources, matched)
    return None


def _unconstrained(config: DTypeConfig, shared: SharedCatalog) -> DTypeConfig:
    """``config`` without the activation bounds of a catalog [constraints] table it carries."""
    for constraints in shared.constraints().values():
        activations = [getattr(config, role) for role in ("input", "output") if getattr(config, role).dtype == constraints.dtype]
        bounds = ("quant_min_lower_bound", "quant_max_upper_bound", "scale_exact_match", "zero_point_exact_match")
        if activations and all(all(getattr(a, b) == getattr(constraints, b) for b in bounds) for a in activations):
            return without_activation_constraints(config, constraints)
    return config
