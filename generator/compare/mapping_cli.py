"""The QConfigMapping part of ``diff``: the sides' mappings as the child answers
them, and the report in the chosen format (mapping_report.py lays it out)."""

from __future__ import annotations

import json
from typing import Any, Sequence

from .codec import CodecError
from .mapping_compare import MappingsComparison, MappingSide, decode_named
from .mapping_report import (
    appended_text,
    json_section,
    json_side,
    mapping_only_markdown,
    mapping_only_text,
    markdown_section,
    summary_text,
)


def mapping_side(data: Any) -> MappingSide:
    """A side as tasks.diff answers it (mapping_sides.side_answer), checked."""
    if not isinstance(data, dict) or not isinstance(data.get("source"), str) or not isinstance(data.get("kind"), str):
        raise CodecError("a side: expected an object with a source and a kind")
    holds = None if data.get("holds") is None else decode_named(data["holds"])
    side = MappingSide(data["source"], data["kind"], holds)
    if side.single and len(holds or ()) != 1:
        raise CodecError("a side returning a QConfigMapping: expected exactly one mapping")
    return side


def mapping_report(form: str, old: MappingSide, new: MappingSide, comparison: MappingsComparison, notes: Sequence[str]) -> str:
    """The whole report of two QConfigMapping functions."""
    if form == "text":
        return mapping_only_text(old, new, comparison, notes)
    if form == "markdown":
        return mapping_only_markdown(old, new, comparison, notes)
    data = {
        "old": json_side(old),
        "new": json_side(new),
        "notes": list(notes),
        "equal": comparison.equal,
        "qconfig_mappings": json_section(comparison),
        "summary": {**comparison.counts(), "text": summary_text(comparison)},
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def with_mappings(form: str, report: str, comparison: MappingsComparison) -> str:
    """A BackendConfig report with the mapping part added; unchanged when no
    mappings are involved."""
    if not comparison.involved:
        return report
    if form == "text":
        return appended_text(report, comparison)
    if form == "markdown":
        return report + "\n".join(markdown_section(comparison)) + "\n"
    data = json.loads(report)
    data["equal"] = data["equal"] and comparison.equal
    data["qconfig_mappings"] = json_section(comparison)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
