"""QConfigMapping comparisons in the three report formats of ``diff`` (and the text
of ``--verify``): a section after the BackendConfig report, or the whole report
when both sides are QConfigMappings. Each change is one line in spec terms
(mapping_differ.MappingChange): ``object_types[torch.nn.Sigmoid].activation
.with_args.observer.with_args.scale: 0.00390625 -> 0.0078125``.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..text import count
from .mapping_compare import MappingPair, MappingsComparison, MappingSide, contents
from .markdown_report import FOLD_AT, folded, inline_code, table_cell
from .text_report import text_lines


def summary_text(comparison: MappingsComparison) -> str:
    counts = comparison.counts()
    compared = counts["mappings_compared"]
    if comparison.equal:
        return f"no differences: {count(compared, 'qconfig mapping')}, every entry equal"
    parts = []
    if compared:
        parts.append(f"{counts['mappings_different']} of {count(compared, 'qconfig mapping')} {'differs' if counts['mappings_different'] == 1 else 'differ'}")
    kinds = (("entries_added", "added"), ("entries_removed", "removed"), ("entries_moved", "moved"), ("values_changed", "changed"))
    changes = [f"{counts[key]} {word}" for key, word in kinds if counts[key]]
    if changes:
        parts.append(f"entries: {', '.join(changes)}")
    for key, word in (("mappings_added", "added"), ("mappings_removed", "removed")):
        if counts[key]:
            parts.append(f"{count(counts[key], 'mapping')} {word}")
    return "; ".join(parts)


def side_text(side: MappingSide) -> str:
    """A side of a mapping-only report: ``diff_cases:mine (function): QConfigMapping:
    global, 2 object types``, or ``spec/x86.toml (spec): 3 qconfig mappings``."""
    return f"{side.source} ({side.kind}): {_holds(side)}"


def _holds(side: MappingSide) -> str:
    assert side.holds is not None
    if side.single:
        ((_, mapping),) = side.holds
        return f"QConfigMapping: {contents(mapping)}"
    return count(len(side.holds), "qconfig mapping")


def pair_line(pair: MappingPair) -> str:
    if not pair.changes:
        return f"= {pair.label}: equal: {contents(pair.new)}"
    return f"* {pair.label}: {count(len(pair.changes), 'change')}"


def text_section(comparison: MappingsComparison) -> list[str]:
    """The mapping section of a text report (without its summary line)."""
    listed = len(comparison.pairs) + len(comparison.added) + len(comparison.removed)
    lines = ["", f"qconfig mappings ({listed}):"]
    for pair in comparison.pairs:
        lines.append(f"  {pair_line(pair)}")
        lines.extend(f"      {change}" for change in pair.changes)
    lines += [f"  + {name} (new only): {contents(mapping)}" for name, mapping in comparison.added]
    lines += [f"  - {name} (old only): {contents(mapping)}" for name, mapping in comparison.removed]
    return lines


def mapping_only_text(old: MappingSide, new: MappingSide, comparison: MappingsComparison, notes: Sequence[str]) -> str:
    lines = [f"old: {side_text(old)}", f"new: {side_text(new)}", *(f"note: {note}" for note in notes)]
    lines += text_section(comparison)
    lines += ["", f"summary: {summary_text(comparison)}"]
    return text_lines(lines)


def appended_text(report: str, comparison: MappingsComparison) -> str:
    """A BackendConfig text report with the mapping section after it."""
    lines = [*text_section(comparison), "", f"summary of qconfig mappings: {summary_text(comparison)}"]
    return report + text_lines(lines)


# -- JSON ---------------------------------------------------------------------------


def json_section(comparison: MappingsComparison) -> dict[str, Any]:
    return {
        "equal": comparison.equal,
        "compared": [
            {
                "old": pair.old_name,
                "new": pair.new_name,
                "equal": not pair.changes,
                "contents": contents(pair.new),
                "changes": [{"kind": change.kind, "path": change.path, "old": change.old, "new": change.new} for change in pair.changes],
            }
            for pair in comparison.pairs
        ],
        "added": [{"name": name, "contents": contents(mapping)} for name, mapping in comparison.added],
        "removed": [{"name": name, "contents": contents(mapping)} for name, mapping in comparison.removed],
        "summary": {**comparison.counts(), "text": summary_text(comparison)},
    }


def json_side(side: MappingSide) -> dict[str, Any]:
    assert side.holds is not None
    return {"source": side.source, "kind": side.kind, "qconfig_mappings": [name for name, _ in side.holds], "contents": _holds(side)}


# -- Markdown -----------------------------------------------------------------------


def markdown_section(comparison: MappingsComparison, title: str = "#### QConfigMappings") -> list[str]:
    lines = ["", title, "", f"**Summary:** {summary_text(comparison)}", ""]
    for pair in comparison.pairs:
        if not pair.changes:
            lines.append(f"- {inline_code(pair.label)}: equal ({contents(pair.new)})")
            continue
        lines.append(f"- {inline_code(pair.label)}: {count(len(pair.changes), 'change')}")
        body = [f"  - {inline_code(str(change))}" for change in pair.changes]
        if len(body) > FOLD_AT:
            body = folded(body, count(len(pair.changes), "change"), "  ")
        lines.extend(body)
    lines += [f"- {inline_code(name)}: added ({contents(mapping)})" for name, mapping in comparison.added]
    lines += [f"- {inline_code(name)}: removed ({contents(mapping)})" for name, mapping in comparison.removed]
    return lines


def mapping_only_markdown(old: MappingSide, new: MappingSide, comparison: MappingsComparison, notes: Sequence[str]) -> str:
    lines = [
        "### QConfigMapping diff",
        "",
        "| side | source | kind | contents |",
        "| --- | --- | --- | --- |",
    ]
    for role, side in (("old", old), ("new", new)):
        data = json_side(side)
        lines.append(f"| {role} | {table_cell(side.source)} | {side.kind} | {data['contents']} |")
    lines.append("")
    lines += [f"> {note}" for note in notes]
    lines += markdown_section(comparison, "#### Entries")
    return "\n".join(lines) + "\n"
