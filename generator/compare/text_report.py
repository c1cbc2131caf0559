"""The comparison as plain text, for a terminal: ``diff --format text`` and ``--verify``."""

from __future__ import annotations

from typing import Sequence

from ..text import count
from .description import ConfigDescription, PatternDescription, Record, is_unset, show, show_record
from .differ import (
    Comparison,
    DTypeConfigAdded,
    DTypeConfigRemoved,
    FieldChanged,
    PatternChange,
    PatternMoved,
)

# Pattern lists longer than this are cut short in text (JSON lists them all).
LISTED_PATTERNS = 3
# Fields every pattern's label already shows.
_LABEL_FIELDS = ("pattern", "pattern_complex_format")


def side_text(description: ConfigDescription) -> str:
    """``spec/fbgemm.toml (spec, targets torch 2.13.0): backend "fbgemm", 192 patterns``."""
    kind = description.kind
    if description.torch_version:
        verb = "installed" if kind.startswith("torch") else "targets"
        kind += f", {verb} torch {description.torch_version}"
    return f"{description.source} ({kind}): backend {show(description.name)}, {count(len(description.patterns), 'pattern')}"


def summary_text(comparison: Comparison) -> str:
    if comparison.equal:
        return f"no differences: {count(len(comparison.new.patterns), 'pattern')}, every field equal"
    counts = comparison.counts()
    parts = []
    if counts["backend_name"]:
        parts.append("backend name changed")
    for key, singular, plural in (
        ("added", "added", "added"),
        ("removed", "removed", "removed"),
        ("moved", "moved", "moved"),
        ("changed", "changed", "changed"),
    ):
        if counts[key]:
            parts.append(f"{counts[key]} {singular if counts[key] == 1 else plural}")
    if counts["shared_changes"]:
        # One pattern may carry several of the shared changes: count it once.
        patterns = len({label for shared in comparison.shared for label in shared.patterns})
        parts.append(f"{count(counts['shared_changes'], 'change')} shared by {count(patterns, 'pattern')}")
    if counts["named_dtype_configs"]:
        parts.append(f"{count(counts['named_dtype_configs'], 'named dtype config')} changed")
    if counts["missing_symbols"]:
        parts.append(count(counts["missing_symbols"], "missing symbol"))
    return ", ".join(parts)


def some_patterns(labels: Sequence[str], limit: int = LISTED_PATTERNS) -> str:
    shown = ", ".join(labels[:limit])
    return shown if len(labels) <= limit else f"{shown} and {len(labels) - limit} more"


def moved_where(moved: PatternMoved) -> str:
    return f"now after {moved.after}" if moved.after is not None else "now first"


def field_lines(pattern: PatternDescription) -> list[tuple[str, list[str]]]:
    """Every field a pattern sets, as ``name = value`` lines with detail lines under each.
    Unset fields (None, empty) are left out: they hold BackendPatternConfig's defaults."""
    lines: list[tuple[str, list[str]]] = []
    for name, value in pattern.fields:
        if name in _LABEL_FIELDS or is_unset(value):
            continue
        if name == "dtype_configs" and isinstance(value, tuple):
            for index, config in enumerate(value):
                text = show_record(config, with_name=True) if isinstance(config, Record) else show(config)
                lines.append((f"dtype_configs[{index}] = {text}", []))
            continue
        details = [f"{o.case}: {o.result}" for o in getattr(value, "outcomes", None) or ()]
        if getattr(value, "unprobed", None):
            details.append(f"not run: {value.unprobed}")
        lines.append((f"{name} = {show(value)}", details))
    return lines


def change_line(change: PatternChange) -> tuple[str, list[str]]:
    """One change to a pattern, and the lines explaining it."""
    if isinstance(change, FieldChanged):
        return f"{change.path}: {show(change.old)} -> {show(change.new)}", list(change.details)
    sign = "+" if isinstance(change, DTypeConfigAdded) else "-"
    assert isinstance(change, (DTypeConfigAdded, DTypeConfigRemoved))
    return f"{sign} dtype_configs[{change.index}] = {show_record(change.config, with_name=True)}", []


def text_report(comparison: Comparison, notes: Sequence[str] = ()) -> str:
    lines = [f"old: {side_text(comparison.old)}", f"new: {side_text(comparison.new)}"]
    lines += [f"note: {note}" for note in notes]

    def section(title: str, count: int) -> None:
        lines.extend(["", f"{title} ({count}):"])

    def block(head: str, body: list[tuple[str, list[str]]]) -> None:
        lines.append(f"  {head}")
        for line, details in body:
            lines.append(f"      {line}")
            lines.extend(f"          {detail}" for detail in details)

    if comparison.name is not None:
        lines.extend(["", f"backend name: {show(comparison.name.old)} -> {show(comparison.name.new)}"])
    if comparison.added:
        section("added patterns", len(comparison.added))
        for added in comparison.added:
            block(f"+ {added.pattern.label}  at configs[{added.position}]", field_lines(added.pattern))
    if comparison.removed:
        section("removed patterns", len(comparison.removed))
        for removed in comparison.removed:
            block(f"- {removed.pattern.label}  at configs[{removed.position}]", field_lines(removed.pattern))
    if comparison.moved:
        section("moved patterns", len(comparison.moved))
        for moved in comparison.moved:
            lines.append(f"  ~ {moved.label}: configs[{moved.old_position}] -> configs[{moved.new_position}] ({moved_where(moved)})")
    if comparison.changed:
        section("changed patterns", len(comparison.changed))
        for changed in comparison.changed:
            block(f"* {changed.label}", [change_line(change) for change in changed.changes])
    if comparison.shared:
        section("the same change on many patterns", len(comparison.shared))
        for shared in comparison.shared:
            line, details = change_line(shared.change)
            body = [(detail, []) for detail in details]
            body.append((f"on {count(len(shared.patterns), 'pattern')}: {some_patterns(shared.patterns)}", []))
            block(f"* {line}", body)
    if comparison.named:
        section("named dtype configs changed", len(comparison.named))
        for named in comparison.named:
            body = [change_line(change) for change in named.changes]
            body.append((f"used by {count(len(named.patterns), 'pattern')}: {some_patterns(named.patterns)}", []))
            block(f"* {named.name}", body)
    if comparison.missing:
        section("missing symbols, compared as named stand-ins", len(comparison.missing))
        for missing in comparison.missing:
            lines.append(f"  {missing.side}: {missing.symbol}")
    lines.extend(["", f"summary: {summary_text(comparison)}"])
    return "\n".join(lines) + "\n"
