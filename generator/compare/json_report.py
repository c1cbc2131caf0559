"""The comparison as JSON, for tools: ``diff --format json``. Every list is complete."""

from __future__ import annotations

import json
from typing import Any, Sequence

from .description import ConfigDescription, PatternDescription, to_json
from .differ import Comparison, DTypeConfigAdded, FieldChanged, PatternChange
from .text_report import summary_text


def _side(description: ConfigDescription) -> dict[str, Any]:
    return {
        "source": description.source,
        "kind": description.kind,
        "backend": to_json(description.name),
        "patterns": len(description.patterns),
        "torch_version": description.torch_version,
    }


def _pattern(pattern: PatternDescription, position: int) -> dict[str, Any]:
    return {
        "pattern": pattern.label,
        "key": to_json(pattern.key),
        "position": position,
        "fields": {name: to_json(value) for name, value in pattern.fields},
    }


def _change(change: PatternChange) -> dict[str, Any]:
    if isinstance(change, FieldChanged):
        return {
            "kind": "field",
            "path": change.path,
            "old": to_json(change.old),
            "new": to_json(change.new),
            "details": list(change.details),
        }
    kind = "dtype_config_added" if isinstance(change, DTypeConfigAdded) else "dtype_config_removed"
    return {"kind": kind, "index": change.index, "dtype_config": to_json(change.config)}


def json_report(comparison: Comparison, notes: Sequence[str] = ()) -> str:
    data = {
        "old": _side(comparison.old),
        "new": _side(comparison.new),
        "notes": list(notes),
        "equal": comparison.equal,
        "backend_name": None
        if comparison.name is None
        else {"old": to_json(comparison.name.old), "new": to_json(comparison.name.new)},
        "added": [_pattern(added.pattern, added.position) for added in comparison.added],
        "removed": [_pattern(removed.pattern, removed.position) for removed in comparison.removed],
        "moved": [
            {
                "pattern": moved.label,
                "old_position": moved.old_position,
                "new_position": moved.new_position,
                "after": moved.after,
            }
            for moved in comparison.moved
        ],
        "changed": [
            {"pattern": changed.label, "changes": [_change(change) for change in changed.changes]}
            for changed in comparison.changed
        ],
        "shared_changes": [
            {"change": _change(shared.change), "count": len(shared.patterns), "patterns": list(shared.patterns)}
            for shared in comparison.shared
        ],
        "named_dtype_configs": [
            {"name": named.name, "changes": [_change(change) for change in named.changes], "patterns": list(named.patterns)}
            for named in comparison.named
        ],
        "missing_symbols": [
            {"side": missing.side, "where": missing.symbol.where, "symbol": missing.symbol.symbol, "problem": missing.symbol.problem}
            for missing in comparison.missing
        ],
        "summary": {**comparison.counts(), "text": summary_text(comparison)},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
