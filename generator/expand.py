"""Expand the op groups a backend uses into pattern configs.

A use (``[[backend.op_groups]]``) names a group and its dtype configs, and may pick
part of the group: ``parts`` (entries labelled with those parts), ``where``
(only the for_each rows whose variable has one of the given values) and
``for_each`` (rows of its own, replacing the rows of the group's sections that
use the same variables). Each entry is then read once per row and given the dtype
configs, with its activation constraints applied. Last, ``patterns`` keeps only
the patterns it names, ``exclude_patterns`` leaves out those it names (see
pattern_refs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalog import Catalog, Entry, OpGroup, Row, Section, read_rows
from .checks import Checker, RunningTotal, key_path
from .dtypes import with_activation_constraints
from .entries import EntryReader, Scope
from .model import DTypeConfig, MethodName, Origin, PatternConfig
from .pattern_refs import labels, read_references, unknown_reference
from .sources import Document
from .suggest import one_of
from .text import count as counted  # (expand() has a local named count)
from .text import shown

USE_KEYS = ("name", "dtype_configs", "parts", "where", "for_each", "patterns", "exclude_patterns")
# A few kilobytes of for_each rows times pattern entries can ask for millions of
# pattern configs; the largest backend torch ships has 227.
MAX_PATTERN_ENTRIES = 100_000
# Each dtype config of each pattern config is a line of the module: 1,000 rows
# used with 1,000 dtype configs (a 73 KB spec) made a 52 MB module in 4 minutes.
# Torch's backends have at most 404, the benchmarks' largest spec 40,000.
MAX_DTYPE_CONFIG_ENTRIES = 100_000
# What the pattern configs write besides their layout: names of symbols, tensor
# methods and dtype configs, which rows can make long without adding lines. A
# module is this plus a few hundred bytes per pattern config. Torch's backends
# write at most 21,000 bytes of them, the benchmarks' largest spec 2,000,000.
MAX_NAME_BYTES = 16_000_000


@dataclass
class OpGroupUse:
    """One [[backend.op_groups]] table, and its pattern entries once expanded (a spec
    that extends another may remove the use before, or edit its patterns after)."""

    doc: Document
    table: Any
    key: str
    entries: list[PatternConfig] | None = None

    def expanded(self, expander: Expander) -> list[PatternConfig]:
        if self.entries is None:
            self.entries = expander.expand(self.doc, self.table, self.key)
        return self.entries


class Expander:
    def __init__(self, checker: Checker, catalog: Catalog, declared: dict[str, DTypeConfig | None]):
        self.checker = checker
        self.catalog = catalog
        self.declared = declared
        self.reader = EntryReader(checker, catalog)
        # Configs derived with activation constraints, by (config, constraints) name.
        self.derived: dict[tuple[str, str], DTypeConfig] = {}
        self.derived_names: dict[str, tuple[str, str]] = {}
        self.expanded = RunningTotal(MAX_PATTERN_ENTRIES)  # pattern configs the uses expanded to so far
        self.dtype_config_entries = RunningTotal(MAX_DTYPE_CONFIG_ENTRIES)  # and the dtype configs they list
        self.name_bytes = RunningTotal(MAX_NAME_BYTES)  # and the names they write

    # -- every group, as written -----------------------------------------------

    def validate_groups(self) -> None:
        """Read every entry of every group with its own rows, used or not, so that a
        mistake in a group no backend uses is reported too."""
        total = 0
        for group in self.catalog.op_groups.values():
            if group is None:
                continue
            for section in group.sections:
                total += len(section.rows or (None,)) * len(section.entries)
                if total > MAX_PATTERN_ENTRIES:
                    self.checker.problem(section.doc, section.key, _too_many("the op groups, with their own for_each rows,"))
                    return
                used: set[str] = set()
                for row in section.rows or (None,):
                    for entry in section.entries:
                        scope = Scope(row)
                        self.reader.read(section.doc, entry.table, entry.key, scope)
                        used |= scope.used
                for name in sorted(section.variables - used):
                    self.checker.problem(section.doc, f"{section.key}.for_each", f'variable {name!r} is not used by any pattern entry as "{{{name}}}"')

    # -- one use ---------------------------------------------------------------

    def expand(self, doc: Document, use: Any, key: str) -> list[PatternConfig]:
        check = self.checker
        if not check.check_type(doc, use, dict, key):
            return []
        check.check_keys(doc, use, key, USE_KEYS, required=("name", "dtype_configs"))
        before = check.reported
        group = self.group(doc, use.get("name"), f"{key}.name")
        configs = self.dtype_config_refs(doc, use.get("dtype_configs", []), f"{key}.dtype_configs")
        if group is None or configs is None or check.reported > before:
            return []
        parts = self.parts(doc, group, use, key)
        sections = self.bound_sections(doc, group, use, key)
        if parts is None or sections is None:
            return []
        selected = [(section, section.entries_in(parts)) for section in sections]
        count = sum(len(section.rows or (None,)) * len(chosen) for section, chosen in selected)
        if self.expanded.exceeds(count, lambda: check.problem(doc, key, _too_many("the backend's op group uses"))):
            return []
        # Checked before the entries are built, and their names before rendering.
        listed = count * len(configs)
        if self.dtype_config_entries.exceeds(listed, lambda: check.problem(
                doc, key, f"op group {group.name!r} expands to {_expansion(count, selected)}, each with {len(configs)} dtype "
                f"configs: {listed} dtype config entries{_so_far(listed, self.dtype_config_entries.total)}; a module may hold at "
                f"most {MAX_DTYPE_CONFIG_ENTRIES} (pattern configs x their dtype configs)")):
            return []
        entries = []
        for section, chosen in selected:
            for row in section.rows or (None,):
                for entry in chosen:
                    if entry.part in parts:
                        entries.append(self.pattern_config(doc, group, section, entry.table, entry.key, row, configs, f"{key}.dtype_configs"))
        found = [entry for entry in entries if entry is not None]
        if not entries:
            check.problem(doc, key, f"selects no pattern entry of op group {group.name!r}")
        elif ("patterns" in use or "exclude_patterns" in use) and len(found) == len(entries):
            found = self.select_patterns(doc, group, use, key, found)
            if not found:
                check.problem(doc, f"{key}.exclude_patterns", f"leaves out every pattern of this use of op group {group.name!r}")
        written = sum(_name_bytes(entry) for entry in found)
        if self.name_bytes.exceeds(written, lambda: check.problem(
                doc, key, f"op group {group.name!r} expands to {_expansion(count, selected)} that write {written} bytes of "
                f"names (symbols, methods, dtype configs){_so_far(written, self.name_bytes.total)}; the pattern configs of a "
                f"module may write at most {MAX_NAME_BYTES}")):
            return []
        return found

    def select_patterns(self, doc: Document, group: OpGroup, use: dict[str, Any], key: str, entries: list[PatternConfig]) -> list[PatternConfig]:
        """The entries ``patterns`` keeps, or those ``exclude_patterns`` leaves; every
        pattern named must be one the use expands to (with every other key applied)."""
        if "patterns" in use and "exclude_patterns" in use:
            self.checker.problem(doc, f"{key}.exclude_patterns", "expected one of 'patterns' (the patterns to keep) and 'exclude_patterns' (those to leave out), not both")
            return entries
        name = "patterns" if "patterns" in use else "exclude_patterns"
        before = self.checker.reported
        references = read_references(self.reader, doc, use[name], f"{key}.{name}")
        known = labels(entries)
        for reference in references:
            if reference.pattern not in known:
                self.checker.problem(doc, reference.key, unknown_reference(reference, known, f"this use of op group {group.name!r}"))
        if self.checker.reported > before:
            return entries
        named = {reference.pattern for reference in references}
        keep = name == "patterns"
        return [entry for entry in entries if (entry.key in named) == keep]

    def group(self, doc: Document, name: Any, key: str) -> OpGroup | None:
        if name is None or not self.checker.check_type(doc, name, str, key):
            return None
        if name not in self.catalog.op_groups:
            if not self.catalog.incomplete:
                self.checker.problem(doc, key, f"unknown op group {shown(name)}; {one_of(self.catalog.op_groups, name, ordered=True)}")
            return None
        return self.catalog.op_groups[name]

    def dtype_config_refs(self, doc: Document, refs: Any, key: str) -> tuple[DTypeConfig, ...] | None:
        names = self.checker.string_list(doc, refs, key)
        if names is None:
            return None
        configs = []
        for index, name in enumerate(names):
            if name not in self.declared:
                self.checker.problem(doc, key_path(key, index), f"undefined dtype config {shown(name)}; {one_of(self.declared, name)}")
            elif self.declared[name] is not None:
                configs.append(self.declared[name])
        return tuple(c for c in configs if c is not None) if len(configs) == len(names) else None

    def parts(self, doc: Document, group: OpGroup, use: dict[str, Any], key: str) -> set[str | None] | None:
        """The parts the use keeps: those it lists, or every part but the optional ones."""
        if "parts" not in use:
            return set(group.default_parts)
        listed = self.checker.string_list(doc, use["parts"], f"{key}.parts")
        if listed is None:
            return None
        for index, part in enumerate(listed):
            if part not in group.part_names:
                choices = group.parts or ["(this group has no parts)"]
                self.checker.problem(doc, key_path(f"{key}.parts", index), f"op group {group.name!r} has no part {shown(part)}; {one_of(choices, part)}")
                return None
        return set(listed)

    def bound_sections(self, doc: Document, group: OpGroup, use: dict[str, Any], key: str) -> list[Section] | None:
        """The group's sections with the use's for_each rows bound and where applied."""
        sections = list(group.sections)
        if "for_each" in use:
            rows = read_rows(self.checker, doc, use["for_each"], f"{key}.for_each")
            if rows is None:
                return None
            variables = frozenset(name for row in rows for name in row.values)
            matching = [index for index, section in enumerate(sections) if section.rows is not None and section.variables == variables]
            if not matching:
                known = sorted({", ".join(sorted(s.variables)) for s in sections if s.rows}) or ["(none)"]
                self.checker.problem(doc, f"{key}.for_each", f"no section of op group {group.name!r} has the variables {', '.join(sorted(variables))}; its sections have: {'; '.join(known)}")
                return None
            for index in matching:
                sections[index] = Section(sections[index].doc, sections[index].key, rows, sections[index].entries)
        if "where" in use:
            where = use["where"]
            if not self.checker.check_type(doc, where, dict, f"{key}.where"):
                return None
            for variable, wanted in where.items():
                sections = self.filter_rows(doc, group, sections, variable, wanted, key_path(f"{key}.where", variable))
                if sections is None:
                    return None
        return sections

    def filter_rows(self, doc: Document, group: OpGroup, sections: list[Section], variable: str, wanted: Any, key: str) -> list[Section] | None:
        values = wanted if isinstance(wanted, list) else [wanted]
        if not values:
            self.checker.problem(doc, key, "expected at least one value")
            return None
        if variable not in {name for section in sections for name in section.variables}:
            self.checker.problem(doc, key, f"no section of op group {group.name!r} has a for_each variable {variable!r}")
            return None
        matched = [False] * len(values)
        # Rows are matched through a table of the wanted values, not by comparing
        # every row with every value.
        positions: dict[object, list[int]] = {}
        for index, value in enumerate(values):
            positions.setdefault(_hashable(value), []).append(index)
        result = []
        for section in sections:
            if variable not in section.variables or section.rows is None:
                result.append(section)
                continue
            kept = []
            for row in section.rows:
                hits = positions.get(_hashable(row.values[variable]), ())
                for index in hits:
                    matched[index] = True
                if hits:
                    kept.append(row)
            if kept:
                result.append(Section(section.doc, section.key, tuple(kept), section.entries))
        for index, hit in enumerate(matched):
            if not hit:
                self.checker.problem(doc, key if not isinstance(wanted, list) else key_path(key, index), f"no for_each row of op group {group.name!r} has {variable} = {shown(values[index])}")
                return None
        return result

    # -- one entry with one row ------------------------------------------------

    def pattern_config(
        self,
        doc: Document,
        group: OpGroup,
        section: Section,
        table: dict[str, Any],
        key: str,
        row: Row | None,
        configs: tuple[DTypeConfig, ...],
        configs_key: str,
    ) -> PatternConfig | None:
        found = self.reader.read(section.doc, table, key, Scope(row))
        if found is None:
            return None
        if found.activation_constraints is not None and found.activation_constraints_name is not None:
            configs = tuple(self.constrained(doc, config, found.activation_constraints_name, found.activation_constraints, configs_key) for config in configs)
        where = key
        if row is not None:
            where += f" (for_each[{row.index}])" if row.doc is section.doc else f" (with {row.doc.name}: {row.key})"
        use = f"{doc.name}: {configs_key.removesuffix('.dtype_configs')}"
        return PatternConfig(op_group=group.name, origin=Origin(section.doc.name, where, use), dtype_configs=configs, **found.fields)

    def constrained(self, doc: Document, config: DTypeConfig, name: str, constraints: Any, key: str) -> DTypeConfig:
        cache_key = (config.name, name)
        if cache_key not in self.derived:
            derived = with_activation_constraints(config, constraints, name)
            if isinstance(derived, str):
                self.checker.problem(doc, key, derived)
                derived = config
            elif derived is not config:
                if derived.name in self.declared or derived.name in self.derived_names:
                    self.checker.problem(doc, key, f"the name {derived.name!r}, of {config.name!r} with activation constraints {name!r}, is already taken")
                self.derived_names[derived.name] = cache_key
            self.derived[cache_key] = derived
        return self.derived[cache_key]


def _hashable(value: Any) -> object:
    """A TOML value as a dict key: equal values give equal keys (1 and 1.0 and
    True stay distinct, as they do in TOML)."""
    if isinstance(value, dict):
        return ("table", tuple((key, _hashable(item)) for key, item in value.items()))
    if isinstance(value, list):
        return ("array", tuple(_hashable(item) for item in value))
    return (type(value).__name__, value)


def _expansion(configs: int, selected: list[tuple[Section, list[Entry]]]) -> str:
    """``N pattern configs (R for_each rows x E pattern entries + ...)``."""
    parts = []
    for section, chosen in selected:
        if chosen:
            entries = f"{len(chosen)} pattern {'entry' if len(chosen) == 1 else 'entries'}"
            parts.append(entries if section.rows is None else f"{counted(len(section.rows), 'for_each row')} x {entries}")
    return f"{configs} pattern configs ({' + '.join(parts)})"


def _so_far(this_use: int, total: int) -> str:
    return "" if this_use == total else f" ({total} with the uses before it)"


def _name_bytes(config: PatternConfig) -> int:
    """Bytes of the names a pattern config writes: every symbol's own name (its
    module is imported once), tensor method and dtype config."""
    methods = []

    def visit(value: object) -> None:
        if isinstance(value, MethodName):
            methods.append(value.name)
        elif isinstance(value, tuple):
            for item in value:
                visit(item)

    visit(config.pattern)
    visit(config.pattern_complex_format)
    names = [*(symbol.name for symbol in config.symbols()), *methods, *(dtype.name for dtype in config.dtype_configs)]
    return sum(len(name) for name in names)  # identifiers: ASCII


def _too_many(what: str) -> str:
    return f"{what} expand to more than {MAX_PATTERN_ENTRIES} pattern entries; a spec may expand to at most {MAX_PATTERN_ENTRIES}"
