"""The benchmark's table, as text or Markdown, and the line naming the machine."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform

from .context import Context, Row
from .measure import Sample


def _number(value: float, unit: str) -> str:
    if unit == "MB":
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def _cell(sample: Sample) -> str:
    bound = "> " if sample.stopped else ""
    median = f"{bound}{_number(sample.median, sample.unit)} {sample.unit}"
    if len(sample) == 1:
        spread = "n=1, stopped" if sample.stopped else "n=1"
    else:
        spread = f"{_number(sample.low, sample.unit)}–{_number(sample.high, sample.unit)}, n={len(sample)}"
    return f"{median} ({spread})"


def _result(row: Row, enforce: bool) -> str:
    if not row.judged:
        return "(no target)"
    if not enforce:
        return "(smoke: not judged)"
    return {"met": "met", "missed": "**MISSED**", "not shown": "**not shown** (run stopped)"}[row.verdict()]


def _table(rows: list[Row], enforce: bool) -> list[list[str]]:
    header = ["measure", "ours: median (min–max, n)", "reference: median (min–max, n)", "ratio", "target",
              "result", "wall-time ratio"]
    lines = [header]
    for row in rows:
        bound = "> " if row.ours.stopped else ""
        target = row.target_text()
        wall = "" if row.wall_ratio is None else f"{bound}{row.wall_ratio:.2f}x"
        lines.append([row.label, _cell(row.ours), _cell(row.reference), f"{bound}{row.ratio:.2f}x",
                      target, _result(row, enforce), wall])
    return lines


def render_markdown(rows: list[Row], enforce: bool) -> str:
    table = _table(rows, enforce)
    out = [f"| {' | '.join(table[0])} |", f"|{'|'.join(['---'] * len(table[0]))}|"]
    out += [f"| {' | '.join(cells)} |" for cells in table[1:]]
    return "\n".join(out)


def render_text(rows: list[Row], enforce: bool) -> str:
    table = [[cell.replace("**", "").replace("`", "") for cell in cells] for cells in _table(rows, enforce)]
    widths = [max(len(cells[column]) for cells in table) for column in range(len(table[0]))]
    out = []
    for index, cells in enumerate(table):
        out.append("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip())
        if index == 0:
            out.append("  ".join("-" * width for width in widths))
    return "\n".join(out)


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment_line(context: Context, seconds: float) -> str:
    repetitions = context.settings.repetitions
    return (
        f"Times are CPU time (user + system) of the measured process; the last column compares wall times. "
        f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores ({platform.system()}, "
        f"1-minute load average up to {context.busiest:.1f}), Python {platform.python_version()}, "
        f"black {_version('black')}, torch {_version('torch')}; "
        f"{repetitions} repetition{'s' if repetitions != 1 else ''}; whole run {seconds:.0f} s."
    )
