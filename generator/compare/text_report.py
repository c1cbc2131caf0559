"""The comparison as plain text, for a terminal: ``diff --format text`` and ``--verify``.

Lines are kept within WIDTH columns where the data allows: a longer line is broken
after a comma (else a space), its continuation indented four more columns. A named
dtype config that several added or removed patterns use is shown once, in its own
section, and the patterns name it.
"""

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
    same,
)

# Pattern lists longer than this are cut short in text (JSON lists them all).
LISTED_PATTERNS = 3
# Fields every pattern's label already shows.
_LABEL_FIELDS = ("pattern", "pattern_complex_format")
# Columns of a terminal line; what is longer is wrapped (see wrapped).
WIDTH = 120
_HANGING = 4


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


def shared_dtype_configs(comparison: Comparison) -> dict[str, Record]:
    """Named dtype configs that two or more added or removed patterns use with one
    value: reports show each once and let the patterns name it."""
    found: dict[str, list[Record]] = {}
    for pattern in (*(added.pattern for added in comparison.added), *(removed.pattern for removed in comparison.removed)):
        configs = pattern.field("dtype_configs")
        for config in configs if isinstance(configs, tuple) else ():
            if isinstance(config, Record) and config.name:
                found.setdefault(config.name, []).append(config)
    return {name: records[0] for name, records in found.items() if len(records) >= 2 and all(same(r, records[0]) for r in records)}


def field_lines(pattern: PatternDescription, defined: dict[str, Record] | None = None) -> list[tuple[str, list[str]]]:
    """Every field a pattern sets, as ``name = value`` lines with detail lines under each.
    Unset fields (None, empty) are left out: they hold BackendPatternConfig's defaults.
    A dtype config in ``defined`` (shown once elsewhere) is named, not written out."""
    lines: list[tuple[str, list[str]]] = []
    for name, value in pattern.fields:
        if name in _LABEL_FIELDS or is_unset(value):
            continue
        if name == "dtype_configs" and isinstance(value, tuple):
            if value and all(isinstance(config, Record) and config.name in (defined or {}) for config in value):
                lines.append((f"dtype_configs = [{', '.join(config.name for config in value)}]", []))
                continue
            for index, config in enumerate(value):
                if isinstance(config, Record) and config.name in (defined or {}):
                    text = config.name
                else:
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
    defined = shared_dtype_configs(comparison)
    if defined:
        section("dtype configs of added and removed patterns", len(defined))
        lines.extend(f"  {show_record(record, with_name=True)}" for record in defined.values())
    if comparison.added:
        section("added patterns", len(comparison.added))
        for added in comparison.added:
            block(f"+ {added.pattern.label}  at configs[{added.position}]", field_lines(added.pattern, defined))
    if comparison.removed:
        section("removed patterns", len(comparison.removed))
        for removed in comparison.removed:
            block(f"- {removed.pattern.label}  at configs[{removed.position}]", field_lines(removed.pattern, defined))
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
    return text_lines(lines)


def text_lines(lines: list[str]) -> str:
    """Report lines as text: each wrapped at WIDTH columns."""
    return "".join(f"{part}\n" for line in lines for part in wrapped(line))


def wrapped(line: str, width: int = WIDTH) -> list[str]:
    """``line`` in pieces of at most ``width`` columns where it has room to break:
    after a comma, else at a space; each continuation indented four columns more
    than the line. A word longer than a line (a long path) is left whole."""
    if len(line) <= width:
        return [line]
    indent = " " * (len(line) - len(line.lstrip(" ")) + _HANGING)
    pieces: list[str] = []
    rest = line
    while len(rest) > width:
        floor = len(indent) + 8  # a break must leave more than the indent on the line
        comma, space = rest.rfind(", ", floor, width), rest.rfind(" ", floor, width + 1)
        if comma >= 0 and (comma >= width * 0.6 or space < 0):
            head, tail = rest[: comma + 1], rest[comma + 2 :]
        elif space >= 0:
            head, tail = rest[:space], rest[space + 1 :]
        else:
            break
        pieces.append(head)
        rest = indent + tail.lstrip(" ")
    return [*pieces, rest]
