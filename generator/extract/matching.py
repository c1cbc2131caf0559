"""Find the runs of a live config's patterns that a shared op group expands to.

A group (with its default parts, all of them, or one part) matches a run of
consecutive live patterns when the run's descriptions equal the group's pattern by
pattern, every field but the dtype configs, and expanding the group with some list
of dtype configs gives exactly the run's dtype configs. That list is read off the
run's first pattern; a fixed-qparams group derives constrained configs from it as
the loader does, so the list is also tried with the constraints of the shared
catalog taken off again.

The scan is greedy, from the first pattern: at each position the longest group
that matches wins (the catalog's first on a tie); a pattern no group starts with is
an explicit one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..compare.differ import same
from ..model import DTypeConfig
from .dtypes import value_of, without_activation_constraints
from .groups import SharedCatalog, Variant


@dataclass(frozen=True)
class GroupRun:
    """Live patterns ``start`` .. ``start + count - 1`` are ``variant`` used with ``configs``."""

    variant: Variant
    start: int
    count: int
    configs: tuple[DTypeConfig, ...]  # the base dtype configs, unnamed values
    sources: tuple[Any, ...]  # the live DTypeConfig each came from, or None when derived


@dataclass(frozen=True)
class LivePattern:
    """One live pattern config, described for matching."""

    key: Any  # the description key
    fields: tuple  # the description's fields, dtype configs left out
    dtype_configs: tuple[DTypeConfig, ...]  # model values
    live_dtype_configs: tuple[Any, ...]  # the DTypeConfig objects


def find_runs(patterns: list[LivePattern], shared: SharedCatalog) -> list[GroupRun | int]:
    """The live config as group runs and explicit pattern positions, in order."""
    starting: dict[Any, list[Variant]] = {}
    for variant in shared.variants:
        starting.setdefault(variant.keys[0], []).append(variant)
    found: list[GroupRun | int] = []
    position = 0
    while position < len(patterns):
        best: GroupRun | None = None
        for variant in starting.get(patterns[position].key, ()):
            count = len(variant.keys)
            if (best is not None and count <= best.count) or position + count > len(patterns):
                continue
            run = patterns[position : position + count]
            if tuple(p.key for p in run) != variant.keys or not all(same(p.fields, f) for p, f in zip(run, variant.fields, strict=True)):
                continue
            best = _with_dtype_configs(variant, position, run, shared) or best
        if best is None:
            found.append(position)
            position += 1
        else:
            found.append(best)
            position += best.count
    return found


def _with_dtype_configs(variant: Variant, start: int, run: list[LivePattern], shared: SharedCatalog) -> GroupRun | None:
    first = run[0]
    candidates = []
    stripped = tuple(_unconstrained(config, shared) for config in first.dtype_configs)
    for configs in (stripped, first.dtype_configs):
        if configs not in candidates:
            candidates.append(configs)
    for configs in candidates:
        named = [replace(config, name=f"_extract_{index}") for index, config in enumerate(configs)]
        expanded = shared.expand(variant.group, variant.parts, named, variant.where)
        if expanded is None or len(expanded) != len(run):
            continue
        if all([value_of(c) for c in e.dtype_configs] == [value_of(c) for c in p.dtype_configs] for e, p in zip(expanded, run, strict=True)):
            sources = tuple(
                live if value_of(config) == value_of(original) else None
                for config, original, live in zip(configs, first.dtype_configs, first.live_dtype_configs, strict=True)
            )
            return GroupRun(variant, start, len(run), configs, sources)
    return None


def _unconstrained(config: DTypeConfig, shared: SharedCatalog) -> DTypeConfig:
    """``config`` without the activation bounds of a catalog [constraints] table it carries."""
    for constraints in shared.constraints().values():
        activations = [getattr(config, role) for role in ("input", "output") if getattr(config, role).dtype == constraints.dtype]
        bounds = ("quant_min_lower_bound", "quant_max_upper_bound", "scale_exact_match", "zero_point_exact_match")
        if activations and all(all(getattr(a, b) == getattr(constraints, b) for b in bounds) for a in activations):
            return without_activation_constraints(config, constraints)
    return config
