"""The comparison as Markdown, for a pull-request comment: ``diff --format markdown``."""

from __future__ import annotations

from typing import Sequence

from ..text import count
from .description import ConfigDescription, show
from .differ import Comparison
from .text_report import change_line, field_lines, moved_where, summary_text


def _code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def _cell(text: str) -> str:
    """Inline code in a table cell, where a pipe would end the cell."""
    return _code(text.replace("|", "\\|"))


def _patterns(labels: Sequence[str]) -> list[str]:
    """Every pattern, folded away (a PR comment can hold them all), as lines of a list item."""
    listed = ", ".join(_code(label) for label in labels)
    return ["", f"  <details><summary>{count(len(labels), 'pattern')}</summary>", "", f"  {listed}", "", "  </details>"]


def _side_row(role: str, description: ConfigDescription) -> str:
    torch_version = description.torch_version or ""
    return (
        f"| {role} | {_cell(description.source)} | {description.kind} | {_cell(show(description.name))} "
        f"| {len(description.patterns)} | {torch_version} |"
    )


def markdown_report(comparison: Comparison, notes: Sequence[str] = ()) -> str:
    lines = [
        "### BackendConfig diff",
        "",
        "| side | source | kind | backend | patterns | torch |",
        "| --- | --- | --- | --- | --- | --- |",
        _side_row("old", comparison.old),
        _side_row("new", comparison.new),
        "",
    ]
    lines += [f"> {note}" for note in notes]
    if notes:
        lines.append("")
    lines += [f"**Summary:** {summary_text(comparison)}"]

    def section(title: str, count: int) -> None:
        lines.extend(["", f"#### {title} ({count})", ""])

    def item(head: str, body: list[tuple[str, list[str]]]) -> None:
        lines.append(f"- {head}")
        for line, details in body:
            lines.append(f"  - {_code(line)}")
            lines.extend(f"    - {_code(detail)}" for detail in details)

    if comparison.name is not None:
        section("Backend name", 1)
        lines.append(f"- {_code(show(comparison.name.old))} → {_code(show(comparison.name.new))}")
    if comparison.added:
        section("Added patterns", len(comparison.added))
        for added in comparison.added:
            item(f"{_code(added.pattern.label)} at `configs[{added.position}]`", field_lines(added.pattern))
    if comparison.removed:
        section("Removed patterns", len(comparison.removed))
        for removed in comparison.removed:
            item(f"{_code(removed.pattern.label)} at `configs[{removed.position}]`", field_lines(removed.pattern))
    if comparison.moved:
        section("Moved patterns", len(comparison.moved))
        for moved in comparison.moved:
            lines.append(
                f"- {_code(moved.label)}: `configs[{moved.old_position}]` → `configs[{moved.new_position}]` "
                f"({moved_where(moved)})"
            )
    if comparison.changed:
        section("Changed patterns", len(comparison.changed))
        for changed in comparison.changed:
            item(_code(changed.label), [change_line(change) for change in changed.changes])
    if comparison.shared:
        section("The same change on many patterns", len(comparison.shared))
        for shared in comparison.shared:
            line, details = change_line(shared.change)
            item(f"{_code(line)} on {count(len(shared.patterns), 'pattern')}", [])
            lines.extend(f"  - {_code(detail)}" for detail in details)
            lines.extend(_patterns(shared.patterns))
    if comparison.named:
        section("Named dtype configs changed", len(comparison.named))
        for named in comparison.named:
            item(f"{_code(named.name)}, used by {count(len(named.patterns), 'pattern')}", [change_line(c) for c in named.changes])
            lines.extend(_patterns(named.patterns))
    if comparison.missing:
        section("Symbols the installed torch lacks", len(comparison.missing))
        lines.append("Each side was compared with a named stand-in for these.")
        lines.append("")
        for missing in comparison.missing:
            lines.append(f"- {missing.side}: {_code(str(missing.symbol))}")
    return "\n".join(lines) + "\n"
