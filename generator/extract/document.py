"""Write an extracted spec as TOML, with tomlkit: comments kept, bytes deterministic.

The layout follows the shipped specs: a header comment, ``extends`` (a delta),
``include``, [backend], [constraints], [dtype_configs], the spec's own [op_groups]
(patterns no shared group expands to), each [[backend.override_patterns]] (a
delta), then each [[backend.op_groups]] use with a comment naming the group and
what it holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import Array, InlineTable, Table

from .. import __version__
from ..header import TOOL_NAME

EXTRACTED_MARK = "# Extracted by backendconfig-gen"


@dataclass
class OwnGroup:
    """An op group of the extracted spec itself: explicit patterns, in order."""

    name: str
    doc: str
    entries: list[dict[str, Any]]
    comment: list[str] = field(default_factory=list)  # above its keys: how it differs from a shared group


@dataclass
class Use:
    """A [[backend.op_groups]] table and the comment above its keys."""

    comment: list[str]
    table: dict[str, Any]


@dataclass
class SpecParts:
    header: list[str]
    include: list[str]
    allowed_roots: list[str]
    backend: dict[str, str]
    constraints: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    dtype_configs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    own_groups: list[OwnGroup] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    extends: str | None = None
    overrides: list[dict[str, Any]] = field(default_factory=list)


def extracted_header(label: str, torch_release: str, what: str, commands: list[str], *notes: str) -> list[str]:
    """The comment an extracted spec starts with: where it came from, and the
    commands (``SPEC`` standing for its path) that generate its module and confirm
    it builds the same ``what``; run through the console script, which works in
    any repository (python -m generator may run a repository's own generator.py)."""
    return [
        f"{EXTRACTED_MARK[2:]} {__version__} (torch {torch_release}) from {label}",
        f"Edit it as any spec. Generate its module, then confirm that it builds the same {what}:",
        *(f"  {TOOL_NAME} {command}" for command in commands),
        *notes,
    ]


def is_extracted(content: bytes) -> bool:
    """Whether a file is a spec this command wrote (and may write again)."""
    return content.startswith(EXTRACTED_MARK.encode())


def spec_text(parts: SpecParts) -> str:
    doc = tomlkit.document()
    for line in parts.header:
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    if parts.extends is not None:
        doc.add("extends", parts.extends)
    if parts.include or parts.extends is None:
        doc.add("include", _array(parts.include, multiline=len(parts.include) > 2))
    if parts.allowed_roots:
        if parts.extends is None:
            doc.add(tomlkit.comment("Top-level packages of the functions the config uses besides torch's."))
        doc.add("allowed_roots", _array(parts.allowed_roots))
    doc.add(tomlkit.nl())
    backend = tomlkit.table()
    for key, value in parts.backend.items():
        backend.add(key, toml_value(value, multiline=isinstance(value, list) and _long(value)))
    doc.add("backend", backend)
    if parts.constraints:
        doc.add("constraints", _named_tables(parts.constraints, _with_power_comments))
    if parts.dtype_configs:
        doc.add("dtype_configs", _named_tables(parts.dtype_configs, _with_power_comments))
    if parts.own_groups:
        groups = tomlkit.table(is_super_table=True)
        for group in parts.own_groups:
            table = tomlkit.table()
            for line in group.comment:
                table.add(tomlkit.comment(line))
            table.add("doc", group.doc)
            section = tomlkit.table()
            section.add("patterns", _entries(group.entries))
            sections = tomlkit.aot()
            sections.append(section)
            table.add("sections", sections)
            groups.add(group.name, table)
        doc.add("op_groups", groups)
    if not parts.uses and parts.extends is None:
        # An empty array of tables writes nothing; the key is required.
        backend.add("op_groups", tomlkit.array())
        return tomlkit.dumps(doc)
    tail = tomlkit.table(is_super_table=True)
    if parts.overrides:
        overrides = tomlkit.aot()
        for override in parts.overrides:
            table = tomlkit.table()
            for key, value in override.items():
                table.add(key, toml_value(value, multiline=isinstance(value, list) and key != "pattern" and _long(value)))
            overrides.append(table)
        tail.add("override_patterns", overrides)
    if parts.uses:
        uses = tomlkit.aot()
        for use in parts.uses:
            table = tomlkit.table()
            for line in use.comment:
                table.add(tomlkit.comment(line))
            for key, value in use.table.items():
                multiline = key in ("patterns", "exclude_patterns") and _long(value)
                table.add(key, toml_value(value, multiline=multiline or (key == "dtype_configs" and len(value) > 1)))
            uses.append(table)
        tail.add("op_groups", uses)
    if parts.overrides or parts.uses:
        doc.append("backend", tail)
    return tomlkit.dumps(doc)


def _long(values: list[Any]) -> bool:
    """Whether an array is written one item a line: when it would not fit a line of 88."""
    return len(values) > 1 and len(_array(values).as_string()) > 60


def _named_tables(tables: list[tuple[str, dict[str, Any]]], finish: Any) -> Table:
    parent = tomlkit.table(is_super_table=True)
    for name, values in tables:
        table = tomlkit.table()
        for key, value in values.items():
            table.add(key, finish(toml_value(value)))
        parent.add(name, table)
    return parent


def _entries(entries: list[dict[str, Any]]) -> Any:
    array = tomlkit.aot()
    for entry in entries:
        table = tomlkit.table()
        for key, value in entry.items():
            table.add(key, toml_value(value))
        array.append(table)
    return array


def toml_value(value: Any, multiline: bool = False) -> Any:
    """A TOML item: dicts as inline tables, lists as arrays (one item a line when asked)."""
    if isinstance(value, dict):
        table: InlineTable = tomlkit.inline_table()
        for key, item in value.items():
            table.append(key, toml_value(item))
        return table
    if isinstance(value, list):
        return _array(value, multiline)
    return tomlkit.item(value)


def _array(values: list[Any], multiline: bool = False) -> Array:
    array = tomlkit.array()
    for item in values:
        array.append(toml_value(item))
    if multiline:
        array.multiline(True)
    return array


def _with_power_comments(item: Any) -> Any:
    """A bound such as 0.000244140625 gets a comment saying it is 2 ** -12."""
    if isinstance(item, float) and item > 0:
        mantissa, exponent = math.frexp(item)
        if mantissa == 0.5 and exponent - 1 <= -4:
            item.comment(f"2 ** {exponent - 1}")
    return item
