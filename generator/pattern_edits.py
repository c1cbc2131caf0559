"""Pattern-level edits of a spec that extends another: ``backend.remove_patterns``
and ``[[backend.override_patterns]]``.

They act on the patterns the extended spec registers (its op group uses, expanded),
before the extending spec's own uses are added: a removed pattern is gone with
every registration of it; an overridden one keeps its place and gets the fields
the override sets (``dtype_configs`` by name, optionally with
``activation_constraints``; any pattern entry field; ``unset`` clears optional
fields). Each pattern is named as the spec writes patterns (pattern_refs.py), and
must be one the extended spec registers.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .checks import key_path
from .entries import PATTERN_KEYS, EntryReader, Scope
from .expand import Expander
from .model import SYMBOL_FIELDS, Pattern, PatternConfig
from .pattern_refs import Reference, labels, read_reference, read_references, reference_label, unknown_reference
from .sources import Document
from .suggest import one_of

# Fields an override may clear, and the value that means "not set".
UNSETTABLE = {
    **{name: None for name in SYMBOL_FIELDS},
    "fuser_method": None,
    "root_node_getter": None,
    "extra_inputs_getter": None,
    "num_tensor_args_to_observation_type": (),
    "input_type_to_index": (),
}
# A pattern entry's fields an override may set (besides dtype_configs).
_FIELDS = ("observation_type", *UNSETTABLE)
OVERRIDE_KEYS = ("pattern", "pattern_complex_format", "dtype_configs", "activation_constraints", *_FIELDS, "unset")
assert set(OVERRIDE_KEYS) - {"dtype_configs", "unset"} <= set(PATTERN_KEYS)


@dataclasses.dataclass
class _Override:
    key: str
    fields: dict[str, Any]


class PatternEdits:
    """Applies one spec's pattern edits to the patterns of the spec it extends."""

    def __init__(self, expander: Expander):
        self.expander = expander
        self.checker = expander.checker
        self.reader: EntryReader = expander.reader

    def apply(self, doc: Document, table: dict[str, Any], base: str, groups: list[list[PatternConfig]]) -> None:
        """Edit ``groups`` (the base's patterns, one list per op group use) in place."""
        known = labels(config for configs in groups for config in configs)
        owner = f"{base} (the spec this one extends)"
        removed: dict[Pattern, str] = {}
        if "remove_patterns" in table:
            references = read_references(self.reader, doc, table["remove_patterns"], "backend.remove_patterns")
            for reference in references:
                if self.known(doc, reference, known, owner):
                    removed[reference.pattern] = reference.key
        overrides = self.overrides(doc, table.get("override_patterns"), known, owner, removed) if "override_patterns" in table else {}
        for configs in groups:
            configs[:] = [
                dataclasses.replace(config, **overrides[config.key].fields) if config.key in overrides else config
                for config in configs
                if config.key not in removed
            ]

    def known(self, doc: Document, reference: Reference, known: dict[Pattern, str], owner: str) -> bool:
        if reference.pattern in known:
            return True
        self.checker.problem(doc, reference.key, unknown_reference(reference, known, owner))
        return False

    def overrides(self, doc: Document, tables: Any, known: dict[Pattern, str], owner: str, removed: dict[Pattern, str]) -> dict[Pattern, _Override]:
        check = self.checker
        if not check.check_type(doc, tables, list, "backend.override_patterns"):
            return {}
        found: dict[Pattern, _Override] = {}
        for index, table in enumerate(tables):
            key = key_path("backend.override_patterns", index)
            if not check.check_type(doc, table, dict, key):
                continue
            check.check_keys(doc, table, key, OVERRIDE_KEYS)
            table = {name: value for name, value in table.items() if name in OVERRIDE_KEYS}
            if ("pattern" in table) == ("pattern_complex_format" in table):
                check.problem(doc, key, "expected exactly one of 'pattern' and 'pattern_complex_format': the pattern to override")
                continue
            name = "pattern" if "pattern" in table else "pattern_complex_format"
            raw = table[name] if name == "pattern" else {name: table[name]}
            pattern = read_reference(self.reader, doc, raw, f"{key}.{name}")
            if pattern is None:
                continue
            reference = Reference(pattern, f"{key}.{name}", reference_label(raw))
            if not self.known(doc, reference, known, owner):
                continue
            if pattern in removed:
                check.problem(doc, reference.key, f"{reference.label} is also removed ({removed[pattern]}); expected a pattern this spec keeps")
                continue
            if pattern in found:
                check.problem(doc, reference.key, f"{reference.label} is already overridden by {found[pattern].key}; expected one override per pattern")
                continue
            fields = self.fields(doc, table, key, name)
            if fields is not None:
                found[pattern] = _Override(key, fields)
        return found

    def fields(self, doc: Document, table: dict[str, Any], key: str, name: str) -> dict[str, Any] | None:
        """The fields an override sets, read as a pattern entry's; None if any is wrong."""
        check = self.checker
        before = check.reported
        given = [field for field in _FIELDS if field in table]
        unset = self.unset(doc, table, key, given) if "unset" in table else []
        if not given and not unset and "dtype_configs" not in table:
            check.problem(doc, key, "overrides nothing; expected dtype_configs, unset or a field of a pattern entry (observation_type, qat_module, ...)")
            return None
        entry = {field: table[field] for field in (name, *given, "activation_constraints") if field in table}
        read = self.reader.read(doc, entry, key, Scope(None))
        if read is None:
            return None
        fields: dict[str, Any] = {field: read.fields[field] for field in given}
        fields.update({field: UNSETTABLE[field] for field in unset if field in UNSETTABLE})
        if "dtype_configs" in table:
            configs = self.expander.dtype_config_refs(doc, table["dtype_configs"], f"{key}.dtype_configs")
            if configs is not None and read.activation_constraints_name is not None:
                constraints = read.activation_constraints
                configs = tuple(self.expander.constrained(doc, config, read.activation_constraints_name, constraints, f"{key}.dtype_configs") for config in configs)
            fields["dtype_configs"] = configs
        elif "activation_constraints" in table:
            check.problem(doc, f"{key}.activation_constraints", "applies to the override's dtype_configs; expected dtype_configs beside it")
        return None if check.reported > before else fields

    def unset(self, doc: Document, table: dict[str, Any], key: str, given: list[str]) -> list[str]:
        names = self.checker.string_list(doc, table["unset"], f"{key}.unset") or []
        for index, name in enumerate(names):
            item = key_path(f"{key}.unset", index)
            if name not in UNSETTABLE:
                self.checker.problem(doc, item, f"cannot unset {name!r}; {one_of(list(UNSETTABLE), name)}")
            elif name in given:
                self.checker.problem(doc, item, f"{name!r} is also set by this override; expected one or the other")
        return names
