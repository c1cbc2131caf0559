"""Read a backend's QConfigMappings (``[qconfig_mappings.NAME]``) into the model.

A backend spec defines mappings; a spec that extends it inherits them and may
change one by naming it again: ``global`` replaces the base's, entries are set
on top of the base's as QConfigMapping's setters do (a key already set keeps its
place and takes the new qconfig; a new key is appended), and
``remove_object_types`` removes object types first. An extending spec's mappings
keep no ``torch_getter``, ``torch_arguments`` or ``doc`` of the base (they
describe torch's mapping, not the customized one), as ``[backend]`` does.

Within one mapping table each key is set once: an object type a group use sets
cannot be set again by the same table (bind the group's placeholder instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .checks import Checker, RunningTotal, is_identifier, key_path, type_name
from .model import MethodName, Origin
from .pattern_refs import atom_label
from .qconfig_catalog import INVALID, CATALOG_KEYS, QConfigCatalog
from .qconfig_model import ObjectType, ObjectTypeEntry, QConfigMappingDef, QConfigRef, getter_name
from .sources import Document
from .suggest import one_of
from .text import shown

MAPPING_KEYS = (
    "doc",
    "torch_getter",
    "torch_arguments",
    "global",
    "object_types",
    "remove_object_types",
    "module_name_regexes",
    "module_names",
    "module_name_object_type_orders",
)
SPEC_MAPPING_KEYS = (*CATALOG_KEYS, "qconfig_mappings")
GROUP_USE_KEYS = ("group", "qconfigs")
REGEX_KEYS = ("regex", "qconfig")
MODULE_NAME_KEYS = ("module_name", "qconfig")
ORDER_KEYS = ("module_name", "object", "index", "qconfig")
# Object type entries all the group uses of a spec expand to, at most (torch's
# default mappings have 23 each).
MAX_OBJECT_TYPE_ENTRIES = 100_000


@dataclass
class _Draft:
    """A mapping as the specs of the extends chain build it up."""

    name: str
    origin: Origin
    inherited: bool = False  # defined by a spec the spec extends
    changed: bool = False  # ... and named again by an extending spec
    doc: str | None = None
    torch_getter: str | None = None
    torch_arguments: tuple[tuple[str, bool | int | float | str], ...] = ()
    global_qconfig: Any = None
    object_types: dict[ObjectType, ObjectTypeEntry] = field(default_factory=dict)
    module_name_regexes: dict[str, QConfigRef] = field(default_factory=dict)
    module_names: dict[str, QConfigRef] = field(default_factory=dict)
    orders: dict[tuple[str, ObjectType, int], QConfigRef] = field(default_factory=dict)


def read_qconfig_mappings(
    checker: Checker, chain: list[Document], includes: list[Document], incomplete: bool, customized_from: str | None
) -> tuple[QConfigMappingDef, ...]:
    """The mappings of a backend spec: ``chain`` is the spec and the specs it
    extends, base first; ``includes`` every file they include."""
    catalog = QConfigCatalog(checker, incomplete)
    for doc in includes:
        catalog.add(doc, redefine=False)
    for doc in chain:
        catalog.add(doc, redefine=True)
    catalog.validate()
    return MappingReader(checker, catalog).read(chain, customized_from)


class MappingReader:
    def __init__(self, checker: Checker, catalog: QConfigCatalog):
        self.checker = checker
        self.catalog = catalog
        self.object_types_set = RunningTotal(MAX_OBJECT_TYPE_ENTRIES)  # by every table and group use so far

    def read(self, chain: list[Document], customized_from: str | None) -> tuple[QConfigMappingDef, ...]:
        drafts: dict[str, _Draft] = {}
        for position, doc in enumerate(chain):
            if position:  # torch's mapping is described by its own spec, not the extending one
                for draft in drafts.values():
                    draft.doc, draft.torch_getter, draft.torch_arguments = None, None, ()
                    draft.inherited, draft.changed = True, False
            tables = doc.data.get("qconfig_mappings", {})
            if not self.checker.check_type(doc, tables, dict, "qconfig_mappings"):
                continue
            for name, table in tables.items():
                key = key_path("qconfig_mappings", name)
                if self.checker.identifier(doc, name, key) is None or not self.checker.check_type(doc, table, dict, key):
                    continue
                base = drafts.get(name)
                draft = base if base is not None else _Draft(name, Origin(doc.name, key))
                draft.changed = draft.inherited
                self.table(doc, table, key, draft)
                drafts[name] = draft
        return tuple(self.finish(draft, customized_from if draft.inherited else None) for draft in drafts.values())

    def finish(self, draft: _Draft, customized_from: str | None) -> QConfigMappingDef:
        doc = draft.doc
        if doc is None:
            doc = f"Return the QConfigMapping {draft.name!r}."
            if customized_from is not None:
                how = ", customized from" if draft.changed else " of"
                doc = f"Return the QConfigMapping {draft.name!r}{how} {customized_from}."
        return QConfigMappingDef(
            name=draft.name,
            getter=getter_name(draft.name),
            doc=doc,
            origin=draft.origin,
            torch_getter=draft.torch_getter,
            torch_arguments=draft.torch_arguments,
            global_qconfig=draft.global_qconfig,
            object_types=tuple(draft.object_types.values()),
            module_name_regexes=tuple(draft.module_name_regexes.items()),
            module_names=tuple(draft.module_names.items()),
            module_name_object_type_orders=tuple((*order, qconfig) for order, qconfig in draft.orders.items()),
        )

    # -- one table -------------------------------------------------------------

    def table(self, doc: Document, table: dict[str, Any], key: str, draft: _Draft) -> None:
        check = self.checker
        check.check_keys(doc, table, key, MAPPING_KEYS)
        if "doc" in table:
            text = check.string(doc, table["doc"], f"{key}.doc")
            if text is not None and not text.strip():
                check.problem(doc, f"{key}.doc", "expected a sentence describing the mapping")
            elif text is not None:
                draft.doc = text
        if "torch_getter" in table:
            draft.torch_getter = self.torch_getter(doc, table["torch_getter"], f"{key}.torch_getter")
        if "torch_arguments" in table:
            if "torch_getter" not in table:
                check.problem(doc, f"{key}.torch_arguments", "needs torch_getter: the torch function these are the arguments of")
            draft.torch_arguments = self.torch_arguments(doc, table["torch_arguments"], f"{key}.torch_arguments")
        if "global" in table:
            found = self.catalog.qconfig(doc, table["global"], f"{key}.global")
            draft.global_qconfig = None if found is INVALID else found
        if "remove_object_types" in table:
            self.remove_object_types(doc, table["remove_object_types"], f"{key}.remove_object_types", draft)
        set_here: dict[Any, str] = {}
        if "object_types" in table:
            self.object_types(doc, table["object_types"], f"{key}.object_types", draft, set_here)
        for section, keys, add in (
            ("module_name_regexes", REGEX_KEYS, self.regex),
            ("module_names", MODULE_NAME_KEYS, self.module_name),
            ("module_name_object_type_orders", ORDER_KEYS, self.order),
        ):
            items = table.get(section, [])
            if not check.check_type(doc, items, list, f"{key}.{section}"):
                continue
            for index, item in enumerate(items):
                item_key = key_path(f"{key}.{section}", index)
                if check.check_type(doc, item, dict, item_key):
                    check.check_keys(doc, item, item_key, keys, required=keys)
                    if all(name in item for name in keys):
                        add(doc, item, item_key, draft, set_here)

    def torch_getter(self, doc: Document, value: Any, key: str) -> str | None:
        """A dotted path, private parts allowed (torch's symmetric qnnpack mappings)."""
        symbol = self.checker.symbol(doc, value, key, private=True)
        return None if symbol is None else symbol.path

    def torch_arguments(self, doc: Document, value: Any, key: str) -> tuple[tuple[str, bool | int | float | str], ...]:
        if not self.checker.check_type(doc, value, dict, key):
            return ()
        found = []
        for word, argument in value.items():
            argument_key = key_path(key, word)
            if not is_identifier(word):
                self.checker.problem(doc, argument_key, f"{shown(word)} is not a keyword argument name; expected a Python identifier")
            elif isinstance(argument, (bool, str)):
                found.append((word, argument))
            elif isinstance(argument, (int, float)) and (number := self.checker.number(doc, argument, argument_key)) is not None:
                found.append((word, number))
            elif not isinstance(argument, (int, float)):
                self.checker.problem(doc, argument_key, f"expected a number, a boolean or a string, got {type_name(argument)} {shown(argument)}")
        return tuple(found)

    # -- object types ------------------------------------------------------------

    def remove_object_types(self, doc: Document, value: Any, key: str, draft: _Draft) -> None:
        if not draft.inherited:
            self.checker.problem(doc, key, f"qconfig mapping {draft.name!r} is not defined by a spec this one extends; only an inherited mapping can remove object types")
            return
        if not self.checker.check_type(doc, value, list, key):
            return
        for index, item in enumerate(value):
            object_type = self.catalog.object_type(doc, item, key_path(key, index))
            if object_type is None:
                continue
            if object_type not in draft.object_types:
                known = [atom_label(entry.object_type) for entry in draft.object_types.values()]
                self.checker.problem(doc, key_path(key, index), f"the inherited mapping sets no object type {atom_label(object_type)}; {one_of(known, atom_label(object_type))}")
                continue
            del draft.object_types[object_type]

    def object_types(self, doc: Document, items: Any, key: str, draft: _Draft, set_here: dict[Any, str]) -> None:
        check = self.checker
        if not check.check_type(doc, items, list, key):
            return
        for index, item in enumerate(items):
            item_key = key_path(key, index)
            if isinstance(item, dict) and "group" in item:
                for entry_key, entry in self.group_use(doc, item, item_key):
                    self.set_object_type(doc, entry_key, entry, draft, set_here)
                continue
            found = self.catalog.object_type_entry(doc, item, item_key, placeholders=False)
            if found is not None:
                assert not isinstance(found.qconfig, str)
                self.set_object_type(doc, item_key, ObjectTypeEntry(found.object_type, found.qconfig, None), draft, set_here)

    def set_object_type(self, doc: Document, key: str, entry: ObjectTypeEntry, draft: _Draft, set_here: dict[Any, str]) -> None:
        if self.object_types_set.exceeds(1, lambda: self.checker.problem(
                doc, key, f"the qconfig mappings set more than {MAX_OBJECT_TYPE_ENTRIES} object types; expected fewer group uses")):
            return
        if not self.once(doc, key, ("object type", entry.object_type), atom_label(entry.object_type), set_here):
            return
        draft.object_types[entry.object_type] = entry

    def once(self, doc: Document, key: str, identity: Any, text: str, set_here: dict[Any, str]) -> bool:
        """Whether this table sets ``identity`` for the first time (else reported)."""
        first = set_here.setdefault(identity, key)
        if first != key:
            self.checker.problem(doc, key, f"{text} is already set at {first} of this mapping; expected each key once per table")
            return False
        return True

    def group_use(self, doc: Document, item: dict[str, Any], key: str) -> list[tuple[str, ObjectTypeEntry]]:
        check = self.checker
        check.check_keys(doc, item, key, GROUP_USE_KEYS, required=("group",))
        name = item["group"]
        if not check.check_type(doc, name, str, f"{key}.group"):
            return []
        if name not in self.catalog.groups:
            if not self.catalog.incomplete:
                check.problem(doc, f"{key}.group", f"unknown object type group {shown(name)}; {one_of(list(self.catalog.groups), name, ordered=True)}")
            return []
        group = self.catalog.group(name)
        bindings = item.get("qconfigs", {})
        if group is None or not check.check_type(doc, bindings, dict, f"{key}.qconfigs"):
            return []
        placeholders = group.placeholders
        bound: dict[str, Any] = {}
        for placeholder, value in bindings.items():
            binding_key = key_path(f"{key}.qconfigs", placeholder)
            if placeholder not in placeholders:
                check.problem(doc, binding_key, f"object type group {name!r} has no placeholder {shown(placeholder)}; {one_of(placeholders, placeholder)}")
                continue
            bound[placeholder] = self.catalog.qconfig(doc, value, binding_key)
        missing = [placeholder for placeholder in placeholders if placeholder not in bindings]
        if missing:
            check.problem(doc, f"{key}.qconfigs", f"binds no qconfig to {', '.join(repr(p) for p in missing)}; object type group {name!r} needs every placeholder bound")
        if missing or INVALID in bound.values():
            return []
        return [
            (key, ObjectTypeEntry(entry.object_type, bound[entry.qconfig] if isinstance(entry.qconfig, str) else entry.qconfig, name))
            for entry in group.entries
        ]

    # -- module names ------------------------------------------------------------

    def regex(self, doc: Document, item: dict[str, Any], key: str, draft: _Draft, set_here: dict[Any, str]) -> None:
        pattern = item["regex"]
        if not self.checker.check_type(doc, pattern, str, f"{key}.regex"):
            return
        try:
            re.compile(pattern)
        except re.error as error:
            self.checker.problem(doc, f"{key}.regex", f"{shown(pattern)} is not a regular expression ({error}); expected one Python's re module compiles")
            return
        qconfig = self.catalog.qconfig(doc, item["qconfig"], f"{key}.qconfig")
        if qconfig is not INVALID and self.once(doc, key, ("regex", pattern), f"module name regex {shown(pattern)}", set_here):
            draft.module_name_regexes[pattern] = qconfig

    def module_name(self, doc: Document, item: dict[str, Any], key: str, draft: _Draft, set_here: dict[Any, str]) -> None:
        name = item["module_name"]
        if not self.checker.check_type(doc, name, str, f"{key}.module_name"):
            return
        qconfig = self.catalog.qconfig(doc, item["qconfig"], f"{key}.qconfig")
        if qconfig is not INVALID and self.once(doc, key, ("module name", name), f"module name {shown(name)}", set_here):
            draft.module_names[name] = qconfig

    def order(self, doc: Document, item: dict[str, Any], key: str, draft: _Draft, set_here: dict[Any, str]) -> None:
        check = self.checker
        before = check.reported
        name = check.string(doc, item["module_name"], f"{key}.module_name")
        object_type = self.catalog.object_type(doc, item["object"], f"{key}.object")
        if isinstance(object_type, MethodName):
            check.problem(doc, f"{key}.object", "a method name is not a callable, which set_module_name_object_type_order takes; expected a symbol (a function)")
            object_type = None
        index = item["index"]
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**63:
            check.problem(doc, f"{key}.index", f"expected the index of the call among those of its object type in the module (an integer from 0), got {type_name(index)} {shown(index)}")
        qconfig = self.catalog.qconfig(doc, item["qconfig"], f"{key}.qconfig")
        if check.reported > before or name is None or object_type is None or qconfig is INVALID:
            return
        order = (name, object_type, index)
        text = f"({shown(name)}, {atom_label(object_type)}, {index})"
        if self.once(doc, key, ("order", order), text, set_here):
            draft.orders[order] = qconfig
