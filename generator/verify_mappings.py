"""``--verify`` of the QConfigMappings a spec defines: each generated mapping against
the torch function its ``torch_getter`` names, called with its ``torch_arguments``.

The child (tasks.verify, compare/mapping_sides.verify_mappings) builds and describes
both; here the descriptions are decoded, checked and compared (mapping_differ.py),
one line for an equal mapping, one line a difference otherwise.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from . import isolation
from .compare.mapping_compare import contents, decode_mapping
from .compare.mapping_differ import diff_mappings
from .compare.text_report import wrapped
from .model import Backend
from .text import call_text, count, printable

EXIT_SAME = 0
EXIT_DIFFERENT = 1
EXIT_BAD_INPUT = 2


@dataclass
class Verdicts:
    """How many of a run's comparisons came out which way."""

    equal: int = 0
    different: int = 0
    errors: int = 0
    not_compared: int = 0  # no torch_getter

    def total(self) -> int:
        return self.equal + self.different + self.errors + self.not_compared

    def summary(self, noun: str) -> str:
        """``verified 3 specs: 1 equal, 1 differs, 0 errors, 1 without a torch_getter``."""
        parts = [f"{self.equal} equal", f"{self.different} {'differs' if self.different == 1 else 'differ'}", count(self.errors, "error")]
        if self.not_compared:
            parts.append(f"{self.not_compared} without a torch_getter")
        return f"verified {count(self.total(), noun)}: {', '.join(parts)}"


def mapping_items(backend: Backend) -> list[dict[str, Any]]:
    """What the child needs to verify each of the spec's mappings."""
    return [
        {"name": m.name, "getter": m.getter, "torch_getter": m.torch_getter, "torch_arguments": dict(m.torch_arguments)}
        for m in backend.qconfig_mappings
    ]


def report_mappings(backend: Backend, spec: str, answer: dict, tally: Verdicts) -> int:
    """Print one verdict per mapping of the spec; the exit status they give."""
    found = isolation.answer_field(answer, "mappings", list)
    if len(found) != len(backend.qconfig_mappings):
        raise isolation.BadAnswer(f"mappings: expected {len(backend.qconfig_mappings)}, got {len(found)}")
    status = EXIT_SAME
    for mapping, item in zip(backend.qconfig_mappings, found):
        if not isinstance(item, dict) or item.get("name") != mapping.name:
            raise isolation.BadAnswer(f"mappings: expected the verdict of {mapping.name!r}")
        where = f"{spec}: qconfig_mappings.{mapping.name}"
        if "errors" in item:
            for line in isolation.answer_lines(item, "errors"):
                print(printable(f"error: {where}.torch_getter: {line}"), file=sys.stderr)
            tally.errors += 1
            status = max(status, EXIT_BAD_INPUT)
            continue
        ours = decode_mapping(item.get("ours"))
        if mapping.torch_getter is None:
            print_wrapped(f"qconfig mapping {mapping.name}: {contents(ours)}; no torch_getter to compare with")
            tally.not_compared += 1
            continue
        theirs = decode_mapping(item.get("torch"))
        changes = diff_mappings(ours, theirs)  # as for the backend config: OLD the spec, NEW torch's
        call = call_text(mapping.torch_getter, mapping.torch_arguments)
        if not changes:
            print_wrapped(f"qconfig mapping {mapping.name}: same as {call}: {contents(ours)}, every entry equal")
            tally.equal += 1
            continue
        print_wrapped(f"qconfig mapping {mapping.name}: differs from {call} ({count(len(changes), 'change')}, the spec's -> torch's):")
        for change in changes:
            print_wrapped(f"      {change}")
        tally.different += 1
        status = max(status, EXIT_DIFFERENT)
    return status


def print_wrapped(line: str) -> None:
    """One report line, wrapped at 120 columns, escaped for the terminal."""
    print(*(printable(part) for part in wrapped(line)), sep="\n")
