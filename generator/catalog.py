"""The named definitions a spec and its includes make: constraints, fusers and op
groups. Op groups are kept as templates (sections of raw entries and their
``for_each`` rows): a backend may pick parts of a group or bind its rows before
it is expanded (see expand.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator

from .checks import Checker, key_path
from .dtypes import read_constraints
from .fusers import read_fuser
from .model import DTypeWithConstraints, FuserDef
from .sources import Document

GROUP_KEYS = ("doc", "sections", "optional_parts")
SECTION_KEYS = ("for_each", "patterns", "part")


@dataclass(frozen=True)
class Row:
    """One ``for_each`` row: variable values, and where they are written."""

    doc: Document
    key: str
    index: int
    values: dict[str, Any]


@dataclass(frozen=True)
class Entry:
    """A raw pattern entry of a section, with the part it belongs to."""

    key: str
    table: dict[str, Any]
    part: str | None


@dataclass(frozen=True)
class Section:
    doc: Document
    key: str
    rows: tuple[Row, ...] | None  # None: the section has no for_each
    entries: tuple[Entry, ...]

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(name for row in self.rows or () for name in row.values)

    @cached_property
    def _by_part(self) -> dict[str | None, list[int]]:
        positions: dict[str | None, list[int]] = {}
        for position, entry in enumerate(self.entries):
            positions.setdefault(entry.part, []).append(position)
        return positions

    def entries_in(self, parts: set[str | None]) -> list[Entry]:
        """The entries of these parts, in order; the cost follows the entries
        selected, not the section's size (a use may pick one part of thousands)."""
        if len(parts) >= len(self._by_part):
            return [entry for entry in self.entries if entry.part in parts]
        positions = sorted(position for part in parts for position in self._by_part.get(part, ()))
        return [self.entries[position] for position in positions]


@dataclass(frozen=True)
class OpGroup:
    name: str
    doc: Document
    key: str
    description: str
    sections: tuple[Section, ...]
    optional_parts: tuple[str, ...]

    @cached_property
    def parts(self) -> list[str]:
        """Computed once: every use of the group asks."""
        return list(dict.fromkeys(entry.part for section in self.sections for entry in section.entries if entry.part))

    @cached_property
    def part_names(self) -> frozenset[str]:
        return frozenset(self.parts)

    @cached_property
    def default_parts(self) -> frozenset[str | None]:
        """What a use that lists no parts keeps: every part but the optional ones."""
        optional = set(self.optional_parts)
        return frozenset({None, *(part for part in self.parts if part not in optional)})


@dataclass
class Catalog:
    """Definitions by name; a name maps to None when its definition is invalid
    (so references to it are not reported a second time)."""

    constraints: dict[str, DTypeWithConstraints | None] = field(default_factory=dict)
    fusers: dict[str, FuserDef | None] = field(default_factory=dict)
    op_groups: dict[str, OpGroup | None] = field(default_factory=dict)
    # Set when an input could not be read: references into it are then not reported.
    incomplete: bool = False
    defined_in: dict[tuple[str, str], str] = field(default_factory=dict)


class CatalogReader:
    def __init__(self, checker: Checker, catalog: Catalog):
        self.checker = checker
        self.catalog = catalog

    def read(self, doc: Document) -> None:
        for name, table, key in self.named_tables(doc, "constraints", "constraints", self.catalog.constraints):
            self.catalog.constraints[name] = read_constraints(self.checker, doc, table, key, name)
        for name, table, key in self.named_tables(doc, "fusers", "fuser", self.catalog.fusers):
            self.catalog.fusers[name] = read_fuser(self.checker, doc, name, table, key)
        for name, table, key in self.named_tables(doc, "op_groups", "op group", self.catalog.op_groups):
            self.catalog.op_groups[name] = self.op_group(doc, name, table, key)

    def define(self, doc: Document, kind: str, name: str, key: str) -> bool:
        """Record where ``name`` is defined; report it if another file already did."""
        first = self.catalog.defined_in.get((kind, name))
        if first is not None:
            self.checker.problem(doc, key, f"duplicate {kind} {name!r}; already defined in {first}")
            return False
        self.catalog.defined_in[(kind, name)] = doc.name
        return True

    def named_tables(self, doc: Document, top_key: str, kind: str, registry: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], str]]:
        """Each ``[top_key.NAME]`` table of ``doc`` whose name is new, registering the
        name (as None until it validates)."""
        tables = doc.data.get(top_key, {})
        if not self.checker.check_type(doc, tables, dict, top_key):
            return
        for name, table in tables.items():
            key = key_path(top_key, name)
            if not self.define(doc, kind, name, key):
                continue
            registry[name] = None
            if self.checker.identifier(doc, name, key) is None:
                continue
            if self.checker.check_type(doc, table, dict, key):
                yield name, table, key

    def op_group(self, doc: Document, name: str, group: dict[str, Any], key: str) -> OpGroup | None:
        check = self.checker
        check.check_keys(doc, group, key, GROUP_KEYS, required=("sections",))
        before = check.reported
        description = check.string(doc, group["doc"], f"{key}.doc") if "doc" in group else None
        sections = group.get("sections", [])
        if not check.check_type(doc, sections, list, f"{key}.sections"):
            return None
        if not sections and "sections" in group:
            check.problem(doc, f"{key}.sections", "expected at least one section")
        read = [self.section(doc, section, key_path(f"{key}.sections", index)) for index, section in enumerate(sections)]
        optional = check.string_list(doc, group["optional_parts"], f"{key}.optional_parts") if "optional_parts" in group else []
        if check.reported > before or None in read or optional is None:
            return None
        found = OpGroup(name, doc, key, description or "", tuple(s for s in read if s is not None), tuple(optional))
        parts = set(found.parts)
        for index, part in enumerate(optional):
            if part not in parts:
                check.problem(doc, key_path(f"{key}.optional_parts", index), f"no pattern entry has part {part!r}")
        if found.parts and any(entry.part is None for section in found.sections for entry in section.entries):
            check.problem(doc, key, "some pattern entries have a part and others do not; expected a part for every entry (or none)")
        return None if check.reported > before else found

    def section(self, doc: Document, section: Any, key: str) -> Section | None:
        check = self.checker
        if not check.check_type(doc, section, dict, key):
            return None
        check.check_keys(doc, section, key, SECTION_KEYS, required=("patterns",))
        part = check.identifier(doc, section["part"], f"{key}.part") if "part" in section else None
        patterns = section.get("patterns", [])
        if not check.check_type(doc, patterns, list, f"{key}.patterns"):
            return None
        if not patterns and "patterns" in section:
            check.problem(doc, f"{key}.patterns", "expected at least one pattern entry")
        entries = []
        for index, entry in enumerate(patterns):
            entry_key = key_path(f"{key}.patterns", index)
            if check.check_type(doc, entry, dict, entry_key):
                entry_part = entry.get("part", part)
                entries.append(Entry(entry_key, entry, entry_part if isinstance(entry_part, str) else None))
        rows = read_rows(check, doc, section["for_each"], f"{key}.for_each") if "for_each" in section else None
        if "for_each" in section and rows is None:
            return None
        return Section(doc, key, rows, tuple(entries))


def read_rows(checker: Checker, doc: Document, rows: Any, key: str) -> tuple[Row, ...] | None:
    """``for_each`` rows: tables of variable values, all defining the same variables."""
    if not checker.check_type(doc, rows, list, key):
        return None
    if not rows:
        checker.problem(doc, key, "expected at least one row")
        return None
    found = []
    variables = None
    for index, row in enumerate(rows):
        row_key = key_path(key, index)
        if not checker.check_type(doc, row, dict, row_key):
            return None
        for name in row:
            if checker.identifier(doc, name, key_path(row_key, name)) is None:
                return None
        if variables is not None and set(row) != variables:
            checker.problem(doc, row_key, f"defines {', '.join(sorted(row)) or 'nothing'}; expected the same variables as the first row: {', '.join(sorted(variables))}")
            return None
        variables = set(row)
        found.append(Row(doc, row_key, index, row))
    return tuple(found)
