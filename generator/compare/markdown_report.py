"""The comparison as Markdown, for a pull-request comment: ``diff --format markdown``.

A section whose list is longer than a screen (FOLD_AT lines) is folded into
``<details>`` with a one-line summary (``55 patterns added``); the pattern lists of
shared changes are always folded. A named dtype config that several added or
removed patterns use is shown once, and the patterns name it.
"""

from __future__ import annotations

from typing import Sequence

from ..text import count
from .description import ConfigDescription, show, show_record
from .differ import Comparison
from .text_report import change_line, field_lines, moved_where, shared_dtype_configs, summary_text

# Lines of a list shown as they are; a longer list is folded away.
FOLD_AT = 40


def inline_code(text: str) -> str:
    """Inline code that survives backticks in the text."""
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def table_cell(text: str) -> str:
    """Inline code in a table cell, where a pipe would end the cell."""
    return inline_code(text.replace("|", "\\|"))


def folded(body: list[str], summary: str, indent: str = "") -> list[str]:
    """``body`` in a ``<details>`` block that shows ``summary``; ``indent``: inside a
    list item."""
    return ["", f"{indent}<details><summary>{summary}</summary>", "", *body, "", f"{indent}</details>"]


def _patterns(labels: Sequence[str]) -> list[str]:
    """Every pattern, folded away (a PR comment can hold them all), as lines of a list item."""
    listed = ", ".join(inline_code(label) for label in labels)
    return folded([f"  {listed}"], count(len(labels), "pattern"), "  ")


def _side_row(role: str, description: ConfigDescription) -> str:
    torch_version = description.torch_version or ""
    return (
        f"| {role} | {table_cell(description.source)} | {description.kind} | {table_cell(show(description.name))} "
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

    def section(title: str, number: int, body: list[str], summary: str) -> None:
        lines.extend(["", f"#### {title} ({number})", ""])
        lines.extend(folded(body, summary)[1:] if len(body) > FOLD_AT else body)

    def item(body: list[str], head: str, fields: list[tuple[str, list[str]]]) -> None:
        body.append(f"- {head}")
        for line, details in fields:
            body.append(f"  - {inline_code(line)}")
            body.extend(f"    - {inline_code(detail)}" for detail in details)

    if comparison.name is not None:
        section("Backend name", 1, [f"- {inline_code(show(comparison.name.old))} → {inline_code(show(comparison.name.new))}"], "backend name")
    defined = shared_dtype_configs(comparison)
    if defined:
        body = [f"- {inline_code(show_record(record, with_name=True))}" for record in defined.values()]
        section("Dtype configs of added and removed patterns", len(defined), body, count(len(defined), "dtype config"))
    if comparison.added:
        body = []
        for added in comparison.added:
            item(body, f"{inline_code(added.pattern.label)} at `configs[{added.position}]`", field_lines(added.pattern, defined))
        section("Added patterns", len(comparison.added), body, f"{count(len(comparison.added), 'pattern')} added")
    if comparison.removed:
        body = []
        for removed in comparison.removed:
            item(body, f"{inline_code(removed.pattern.label)} at `configs[{removed.position}]`", field_lines(removed.pattern, defined))
        section("Removed patterns", len(comparison.removed), body, f"{count(len(comparison.removed), 'pattern')} removed")
    if comparison.moved:
        body = [
            f"- {inline_code(moved.label)}: `configs[{moved.old_position}]` → `configs[{moved.new_position}]` ({moved_where(moved)})"
            for moved in comparison.moved
        ]
        section("Moved patterns", len(comparison.moved), body, f"{count(len(comparison.moved), 'pattern')} moved")
    if comparison.changed:
        body = []
        for changed in comparison.changed:
            item(body, inline_code(changed.label), [change_line(change) for change in changed.changes])
        section("Changed patterns", len(comparison.changed), body, f"{count(len(comparison.changed), 'pattern')} changed")
    if comparison.shared:
        body = []
        for shared in comparison.shared:
            line, details = change_line(shared.change)
            item(body, f"{inline_code(line)} on {count(len(shared.patterns), 'pattern')}", [])
            body.extend(f"  - {inline_code(detail)}" for detail in details)
            body.extend(_patterns(shared.patterns))
        section("The same change on many patterns", len(comparison.shared), body, count(len(comparison.shared), "shared change"))
    if comparison.named:
        body = []
        for named in comparison.named:
            item(body, f"{inline_code(named.name)}, used by {count(len(named.patterns), 'pattern')}", [change_line(c) for c in named.changes])
            body.extend(_patterns(named.patterns))
        section("Named dtype configs changed", len(comparison.named), body, f"{count(len(comparison.named), 'named dtype config')} changed")
    if comparison.missing:
        body = ["Each side was compared with a named stand-in for these.", ""]
        body.extend(f"- {missing.side}: {inline_code(str(missing.symbol))}" for missing in comparison.missing)
        section("Symbols the installed torch lacks", len(comparison.missing), body, count(len(comparison.missing), "missing symbol"))
    return "\n".join(lines) + "\n"
