"""The named definitions QConfigMappings are made of: observer and fake-quantize
constructors (``[observers.NAME]``, ``[fake_quantizes.NAME]``), qconfigs
(``[qconfigs.NAME]``) and object type groups (``[object_type_groups.NAME]``), and
the values that refer to them.

Included files define each name once. A backend spec (and a spec it extends) may
redefine a name its includes or its base define; the latest definition is used
everywhere. Every definition is validated, used or not; references are resolved
on demand, once, with cycles reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .checks import Checker, is_identifier, key_path, type_name
from .model import MethodName, Origin
from .qconfig_model import KEYWORD_KINDS, NONE, QSCHEME_NAMES, Constructor, KeywordValue, ObjectType, QConfigDef, TorchConstant
from .pattern_refs import atom_label
from .sources import Document
from .suggest import one_of
from .text import shown

CATALOG_KEYS = ("observers", "fake_quantizes", "qconfigs", "object_type_groups")
CONSTRUCTOR_KEYS = ("class", "with_args")
QCONFIG_KEYS = ("activation", "weight")
GROUP_KEYS = ("doc", "object_types")
OBJECT_TYPE_KEYS = ("object", "qconfig")
_KINDS = {"observers": "constructor", "fake_quantizes": "constructor", "qconfigs": "qconfig", "object_type_groups": "object type group"}
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}\Z")
# A value that failed to read (already reported): not None, which is a qconfig.
INVALID: Any = object()


@dataclass(frozen=True)
class _Definition:
    doc: Document
    key: str
    table: dict[str, Any]
    table_kind: str  # the top-level table: observers, fake_quantizes, ...


@dataclass(frozen=True)
class GroupEntry:
    key: str
    object_type: ObjectType
    qconfig: QConfigDef | None | str  # a str is a placeholder's name


@dataclass(frozen=True)
class ObjectTypeGroup:
    name: str
    doc: Document
    key: str
    entries: tuple[GroupEntry, ...]

    @property
    def placeholders(self) -> list[str]:
        return list(dict.fromkeys(entry.qconfig for entry in self.entries if isinstance(entry.qconfig, str)))


class QConfigCatalog:
    def __init__(self, checker: Checker, incomplete: bool = False):
        self.checker = checker
        self.incomplete = incomplete  # an input could not be read: unknown names are not reported
        self.definitions: dict[str, _Definition] = {}  # constructors and qconfigs share module names
        self.groups: dict[str, _Definition] = {}
        self.resolved: dict[str, Any] = {}
        self.resolving: list[str] = []

    # -- definitions -------------------------------------------------------------

    def add(self, doc: Document, redefine: bool) -> None:
        """The definitions of one file: an included file's (``redefine`` False: a name
        already defined is a duplicate) or a backend spec's (it may redefine one)."""
        check = self.checker
        in_this_file: dict[bool, dict[str, str]] = {True: {}, False: {}}  # by registry: groups or not
        for top in CATALOG_KEYS:
            tables = doc.data.get(top, {})
            if not check.check_type(doc, tables, dict, top):
                continue
            is_group = top == "object_type_groups"
            registry = self.groups if is_group else self.definitions
            seen = in_this_file[is_group]
            for name, table in tables.items():
                key = key_path(top, name)
                if check.identifier(doc, name, key) is None or not check.check_type(doc, table, dict, key):
                    registry[name] = _Definition(doc, key, {}, "invalid")
                    continue
                first = registry.get(name)
                if name in seen:
                    check.problem(doc, key, f"{name!r} is also defined as {seen[name]}; qconfigs and constructors become module constants and need names of their own")
                    continue
                if first is not None and (not redefine or _KINDS.get(first.table_kind, _KINDS[top]) != _KINDS[top]):
                    why = "a spec may redefine a name only as the same kind of thing" if redefine else f"already defined in {first.doc.name}"
                    check.problem(doc, key, f"duplicate {_KINDS[top]} {name!r}; {why} ({key_path(first.table_kind, name)})")
                    continue
                seen[name] = key
                registry[name] = _Definition(doc, key, table, top)

    def validate(self) -> None:
        """Read every definition, used or not, so that each mistake is reported."""
        for name in list(self.definitions):
            self.named(name)
        for name in list(self.groups):
            self.group(name)

    def named(self, name: str) -> Any:
        """The constructor or qconfig defined as ``name`` (INVALID if it is not valid)."""
        if name in self.resolved:
            return self.resolved[name]
        definition = self.definitions[name]
        if definition.table_kind == "invalid":
            return INVALID
        if name in self.resolving:
            cycle = " -> ".join([*self.resolving[self.resolving.index(name) :], name])
            self.checker.problem(definition.doc, definition.key, f"refers to itself: {cycle}; expected definitions that do not form a cycle")
            self.resolved[name] = INVALID
            return INVALID
        self.resolving.append(name)
        try:
            if definition.table_kind == "qconfigs":
                found = self.qconfig_table(definition.doc, definition.table, definition.key, name)
            else:
                found = self.constructor_table(definition.doc, definition.table, definition.key, name)
        finally:
            self.resolving.pop()
        self.resolved.setdefault(name, found)
        return self.resolved[name]

    # -- constructors ------------------------------------------------------------

    def constructor(self, doc: Document, value: Any, key: str) -> Constructor | Any:
        """A constructor: a class's public path, the name of an [observers] or
        [fake_quantizes] table, or an inline table {class, with_args}."""
        if isinstance(value, dict):
            return self.constructor_table(doc, value, key, None)
        if not isinstance(value, str):
            self.checker.problem(doc, key, f"expected a constructor: a class's dotted path, the name of an [observers] or [fake_quantizes] table, or {{class = ..., with_args = {{...}}}}; got {type_name(value)} {shown(value)}")
            return INVALID
        if "." in value:
            symbol = self.checker.symbol(doc, value, key)
            return INVALID if symbol is None else Constructor(symbol, None, None, Origin(doc.name, key))
        return self.reference(doc, value, key, "constructor")

    def reference(self, doc: Document, name: str, key: str, kind: str) -> Any:
        """The named definition of ``kind`` (constructor or qconfig) ``name`` refers to."""
        definition = self.definitions.get(name)
        if definition is None or _KINDS.get(definition.table_kind, kind) != kind:
            if not self.incomplete:
                known = [n for n, d in self.definitions.items() if _KINDS.get(d.table_kind) == kind]
                known += [NONE] if kind == "qconfig" else []
                tables = "[observers] or [fake_quantizes] table" if kind == "constructor" else "[qconfigs] table"
                also = " or a class's dotted path" if kind == "constructor" else ", None, or an inline {activation, weight} table"
                self.checker.problem(doc, key, f"unknown {kind} {shown(name)}; {one_of(known, name, ordered=True)} (the name of a {tables}{also})")
            return INVALID
        return self.named(name)

    def constructor_table(self, doc: Document, table: dict[str, Any], key: str, name: str | None) -> Constructor | Any:
        check = self.checker
        check.check_keys(doc, table, key, CONSTRUCTOR_KEYS, required=("class",))
        before = check.reported
        func: Any = INVALID
        if "class" in table:
            value = table["class"]
            if isinstance(value, str) and "." not in value and is_identifier(value):
                func = self.reference(doc, value, f"{key}.class", "constructor")
            elif check.check_type(doc, value, str, f"{key}.class"):
                func = check.symbol(doc, value, f"{key}.class")
        keywords = None
        if "with_args" in table and check.check_type(doc, table["with_args"], dict, f"{key}.with_args"):
            keywords = tuple((word, self.keyword_value(doc, word, value, key_path(f"{key}.with_args", word))) for word, value in table["with_args"].items())
        if check.reported > before or func in (INVALID, None) or any(value is INVALID for _, value in keywords or ()):
            return INVALID
        if keywords is None and isinstance(func, Constructor):
            return func if name is None else Constructor(func, None, name, Origin(doc.name, key))
        return Constructor(func, keywords, name, Origin(doc.name, key))

    def keyword_value(self, doc: Document, word: str, value: Any, key: str) -> KeywordValue | Any:
        """A with_args value, typed by its keyword's name (KEYWORD_KINDS)."""
        check = self.checker
        if not is_identifier(word):
            check.problem(doc, key, f"{shown(word)} is not a keyword argument name; expected a Python identifier")
            return INVALID
        kind = KEYWORD_KINDS.get(word)
        if kind == "dtype":
            name = check.dtype_name(doc, value, key)
            return INVALID if name is None else TorchConstant("dtype", name)
        if kind == "qscheme":
            if not check.check_type(doc, value, str, key):
                return INVALID
            if value not in QSCHEME_NAMES:
                check.problem(doc, key, f"unknown qscheme {shown(value)}; {one_of(QSCHEME_NAMES, value)}")
                return INVALID
            return TorchConstant("qscheme", value)
        if kind == "constructor":
            return self.constructor(doc, value, key)
        if isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)):
            number = check.number(doc, value, key)
            return INVALID if number is None else number
        check.problem(doc, key, f"expected a number, a boolean or a string, got {type_name(value)} {shown(value)} ({', '.join(KEYWORD_KINDS)} take names)")
        return INVALID

    # -- qconfigs ----------------------------------------------------------------

    def qconfig(self, doc: Document, value: Any, key: str) -> QConfigDef | None | Any:
        """A qconfig: the name of a [qconfigs] table, "None" (the op stays float), or
        an inline table {activation, weight}."""
        if isinstance(value, dict):
            return self.qconfig_table(doc, value, key, None)
        if value == NONE:
            return None
        if isinstance(value, str) and is_identifier(value):
            return self.reference(doc, value, key, "qconfig")
        self.checker.problem(doc, key, f"expected a qconfig: the name of a [qconfigs] table, {NONE!r}, or {{activation = ..., weight = ...}}; got {type_name(value)} {shown(value)}")
        return INVALID

    def qconfig_table(self, doc: Document, table: dict[str, Any], key: str, name: str | None) -> QConfigDef | Any:
        check = self.checker
        check.check_keys(doc, table, key, QCONFIG_KEYS, required=QCONFIG_KEYS)
        before = check.reported
        sides = [self.constructor(doc, table[side], f"{key}.{side}") if side in table else INVALID for side in QCONFIG_KEYS]
        if check.reported > before or INVALID in sides:
            return INVALID
        return QConfigDef(sides[0], sides[1], name, Origin(doc.name, key))

    # -- object types and their groups -----------------------------------------------

    def object_type(self, doc: Document, value: Any, key: str) -> ObjectType | None:
        """A symbol, or {method = "name"} for a tensor method."""
        if isinstance(value, str):
            return self.checker.symbol(doc, value, key)
        if isinstance(value, dict) and set(value) == {"method"}:
            name = value["method"]
            if isinstance(name, str) and is_identifier(name):
                return MethodName(name)
            self.checker.problem(doc, f"{key}.method", f"{shown(name)} is not a method name; expected a Python identifier")
            return None
        self.checker.problem(doc, key, f"expected a symbol (dotted path) or {{method = \"name\"}}, got {type_name(value)} {shown(value)}")
        return None

    def group(self, name: str) -> ObjectTypeGroup | None:
        if name in self.resolved:
            return self.resolved[name]
        definition = self.groups[name]
        found = None if definition.table_kind == "invalid" else self.group_table(name, definition)
        self.resolved[name] = found
        return found

    def group_table(self, name: str, definition: _Definition) -> ObjectTypeGroup | None:
        check = self.checker
        doc, key, table = definition.doc, definition.key, definition.table
        check.check_keys(doc, table, key, GROUP_KEYS, required=("object_types",))
        before = check.reported
        if "doc" in table:
            check.string(doc, table["doc"], f"{key}.doc")
        entries = []
        items = table.get("object_types", [])
        if check.check_type(doc, items, list, f"{key}.object_types"):
            if not items and "object_types" in table:
                check.problem(doc, f"{key}.object_types", "expected at least one {object, qconfig} entry")
            seen: dict[ObjectType, str] = {}
            for index, item in enumerate(items):
                entry = self.object_type_entry(doc, item, key_path(f"{key}.object_types", index), placeholders=True)
                if entry is None:
                    continue
                if entry.object_type in seen:
                    check.problem(doc, entry.key, f"{atom_label(entry.object_type)} is already set at {seen[entry.object_type]}; expected each object type once")
                seen.setdefault(entry.object_type, entry.key)
                entries.append(entry)
        return None if check.reported > before else ObjectTypeGroup(name, doc, key, tuple(entries))

    def object_type_entry(self, doc: Document, item: Any, key: str, placeholders: bool) -> GroupEntry | None:
        check = self.checker
        if not check.check_type(doc, item, dict, key):
            return None
        check.check_keys(doc, item, key, OBJECT_TYPE_KEYS, required=OBJECT_TYPE_KEYS)
        before = check.reported
        object_type = self.object_type(doc, item["object"], f"{key}.object") if "object" in item else None
        qconfig: Any = INVALID
        if "qconfig" in item:
            value = item["qconfig"]
            match = PLACEHOLDER.match(value) if isinstance(value, str) else None
            if match is not None and placeholders:
                qconfig = match[1]
            elif match is not None:
                check.problem(doc, f"{key}.qconfig", f"placeholder {value!r} is only for the entries of an [object_type_groups] table; expected a qconfig")
            else:
                qconfig = self.qconfig(doc, value, f"{key}.qconfig")
        if check.reported > before or object_type is None or qconfig is INVALID:
            return None
        return GroupEntry(key, object_type, qconfig)
