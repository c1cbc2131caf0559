"""Write a spec from a live QConfigMapping (``extract MODULE:FUNCTION`` when FUNCTION
returns one): the mapping part, over a backend config without patterns.

Works on the mapping's description (compare/mapping_description.py), named like
the catalog's (mapping_catalog.py):
- a qconfig or constructor the catalog defines is named by its catalog name (of
  equal definitions, one whose name starts with the mapping's name, else the first);
- a run of object types that an object type group of the catalog sets, whole and
  in order, becomes a use of the group, each placeholder bound;
- any other qconfig becomes a ``[qconfigs.NAME_qconfig_N]`` table of the spec's
  own, its constructors written inline (a constructor made from another
  constructor with ``with_args`` names it: ``[observers.NAME_observer_N]``).
The spec names FUNCTION as the mapping's ``torch_getter``, so that ``--verify``
compares the generated mapping with it. What the spec format cannot write
(``with_callable_args``, positional arguments, a QConfigDynamic, a keyword value
that is a list, a dict or another object) is an ExtractError naming the entry.
"""

from __future__ import annotations

import math
from typing import Any

import tomlkit

from ..checks import DEFAULT_ROOTS
from ..compare.mapping_description import (
    Constructor,
    MappingDescription,
    Method,
    QCONFIG_TYPE,
    QConfigValue,
    Ref,
    TorchName,
    show,
    show_key,
    value_key,
)
from ..qconfig_model import KEYWORD_KINDS, NONE
from .document import toml_value
from .live import ExtractError
from .mapping_catalog import CATALOG_INCLUDE, CatalogGroup, MappingCatalog



def mapping_name(function_name: str) -> str:
    """``get_x86_qconfig_mapping`` -> ``x86``; any other function keeps its name."""
    name = function_name.strip("_").removeprefix("get_").removesuffix("_qconfig_mapping")
    return name if name.isidentifier() and not name[0].isdigit() else f"mapping_{function_name.strip('_')}"


class MappingSpecWriter:
    def __init__(self, catalog: MappingCatalog, name: str, label: str):
        self.catalog = catalog
        self.name = name
        self.label = label
        self.own: dict[str, str] = {}  # identity -> a name of the spec's own
        self.tables: list[tuple[str, str, dict[str, Any]]] = []  # (top-level table, name, keys)
        self.roots: set[str] = set()
        self.reused: set[str] = set()  # catalog names used

    # -- names ---------------------------------------------------------------------

    def catalog_name(self, value: Any) -> str | None:
        names = self.catalog.names.get(value_key(value), ())
        preferred = [name for name in names if name.startswith(f"{self.name}_")]
        chosen = (preferred or list(names) or [None])[0]
        if chosen is not None:
            self.reused.add(chosen)
        return chosen

    def symbol(self, ref: Any, where: str) -> str:
        if not isinstance(ref, Ref) or not all(part.isidentifier() for part in ref.path.split(".")):
            raise ExtractError(f"{self.label}: {where}: {show(ref)} has no import path a spec can name")
        root = ref.path.split(".")[0]
        if root not in DEFAULT_ROOTS:
            self.roots.add(root)
        return ref.path

    # -- values --------------------------------------------------------------------

    def qconfig(self, value: Any, where: str) -> Any:
        if value is None:
            return NONE
        named = self.catalog_name(value)
        if named is not None:
            return named
        if not isinstance(value, QConfigValue) or value.type != QCONFIG_TYPE:
            raise ExtractError(f"{self.label}: {where}: {show(value)}: expected a QConfig(activation, weight) or None")
        key = value_key(value)
        if key not in self.own:
            table = {"activation": self.constructor(value.activation, f"{where}.activation"), "weight": self.constructor(value.weight, f"{where}.weight")}
            self.own[key] = self._define("qconfigs", "qconfig", table)
        return self.own[key]

    def constructor(self, value: Any, where: str, named: bool = False) -> Any:
        found = self.catalog_name(value)
        if found is not None:
            return found
        if isinstance(value, Ref):
            return self.symbol(value, where)
        if not isinstance(value, Constructor):
            raise ExtractError(f"{self.label}: {where}: {show(value)}: expected an observer or fake quantize class, or Class.with_args(...)")
        if value.args or value.callable_args:
            raise ExtractError(f"{self.label}: {where}: {show(value)}: positional arguments and with_callable_args are not in the spec format")
        func = self.constructor(value.func, where, named=True) if isinstance(value.func, Constructor) else self.symbol(value.func, where)
        table = {"class": func, "with_args": {word: self.keyword(word, item, f"{where}.with_args.{word}") for word, item in value.keywords}}
        if not named:
            return table
        key = value_key(value)
        if key not in self.own:
            self.own[key] = self._define("observers", "observer", table)
        return self.own[key]

    def keyword(self, word: str, value: Any, where: str) -> Any:
        kind = KEYWORD_KINDS.get(word)
        if kind == "constructor":
            return self.constructor(value, where)
        if kind in ("dtype", "qscheme"):
            if isinstance(value, TorchName) and value.kind == kind:
                return value.name
        elif isinstance(value, (bool, int, str)) or isinstance(value, float) and math.isfinite(value):
            return value
        raise ExtractError(f"{self.label}: {where}: {show(value)} is not a value the spec format writes for {word!r}")

    def _define(self, top: str, noun: str, table: dict[str, Any]) -> str:
        name = f"{self.name}_{noun}_{sum(kind == top for kind, _, _ in self.tables) + 1}"
        self.tables.append((top, name, table))
        return name

    # -- entries -------------------------------------------------------------------

    def object_type(self, key: Any, where: str) -> Any:
        return {"method": key.name} if isinstance(key, Method) else self.symbol(key, where)

    def object_types(self, entries: tuple[tuple[Any, Any], ...]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        index = 0
        while index < len(entries):
            use = self.group_use(entries, index)
            if use is not None:
                group, bound = use
                where = show_key("object_types", entries[index][0])
                found.append({"group": group.name, "qconfigs": {name: self.qconfig(value, where) for name, value in bound.items()}})
                index += len(group.entries)
                continue
            key, qconfig = entries[index]
            where = show_key("object_types", key)
            found.append({"object": self.object_type(key, where), "qconfig": self.qconfig(qconfig, where)})
            index += 1
        return found

    def group_use(self, entries: tuple[tuple[Any, Any], ...], start: int) -> tuple[CatalogGroup, dict[str, Any]] | None:
        """The catalog group whose entries ``entries[start:]`` begin with, and what
        its placeholders are bound to; None when none does."""
        for group in self.catalog.groups:
            run = entries[start : start + len(group.entries)]
            if len(run) != len(group.entries):
                continue
            bound: dict[str, Any] = {}
            for (key, value), (object_type, setting) in zip(run, group.entries):
                if value_key(key) != value_key(object_type):
                    break
                if setting is None or not setting.startswith("{"):
                    if (value is None) != (setting is None) or value is not None and setting not in self.catalog.names.get(value_key(value), ()):
                        break
                    continue
                placeholder = setting[1:-1]
                if placeholder in bound and value_key(bound[placeholder]) != value_key(value):
                    break
                bound.setdefault(placeholder, value)
            else:
                return group, bound
        return None

    def mapping_table(self, mapping: MappingDescription, doc: str | None, torch_getter: str | None) -> dict[str, Any]:
        table: dict[str, Any] = {}
        if doc:
            table["doc"] = doc
        if torch_getter:
            table["torch_getter"] = torch_getter
        if mapping.global_qconfig is not None:
            table["global"] = self.qconfig(mapping.global_qconfig, "global")
        if mapping.object_types:
            table["object_types"] = self.object_types(mapping.object_types)
        if mapping.module_name_regexes:
            table["module_name_regexes"] = [
                {"regex": regex, "qconfig": self.qconfig(qconfig, show_key("module_name_regexes", regex))} for regex, qconfig in mapping.module_name_regexes
            ]
        if mapping.module_names:
            table["module_names"] = [
                {"module_name": name, "qconfig": self.qconfig(qconfig, show_key("module_names", name))} for name, qconfig in mapping.module_names
            ]
        orders = []
        for (name, object_type, index), qconfig in mapping.module_name_object_type_orders:
            where = show_key("module_name_object_type_orders", (name, object_type, index))
            orders.append({"module_name": name, "object": self.object_type(object_type, where), "index": index, "qconfig": self.qconfig(qconfig, where)})
        if orders:
            table["module_name_object_type_orders"] = orders
        if mapping.other:
            names = ", ".join(name for name, _ in mapping.other)
            raise ExtractError(f"{self.label}: the mapping has attributes the spec format does not know: {names}")
        return table


def mapping_spec_text(header: list[str], backend: dict[str, Any], writer: MappingSpecWriter, name: str, table: dict[str, Any]) -> str:
    """The spec: header, include, allowed_roots, [backend], the spec's own
    constructors and qconfigs, then the mapping, one entry a line."""
    doc = tomlkit.document()
    for line in header:
        doc.add(tomlkit.comment(line))
    doc.add(tomlkit.nl())
    doc.add("include", [CATALOG_INCLUDE])
    if writer.roots:
        doc.add("allowed_roots", sorted(writer.roots))
    doc.add("backend", _table(backend))
    for top in dict.fromkeys(top for top, _, _ in writer.tables):
        doc.add(top, _super_table({own: keys for kind, own, keys in writer.tables if kind == top}))
    doc.add("qconfig_mappings", _super_table({name: table}))
    return tomlkit.dumps(doc).rstrip("\n") + "\n"


def _super_table(tables: dict[str, dict[str, Any]]) -> Any:
    """``[TOP.NAME]`` tables, without a ``[TOP]`` header of their own."""
    outer = tomlkit.table(is_super_table=True)
    for name, keys in tables.items():
        outer.add(name, _table(keys))
    return outer


def _table(keys: dict[str, Any]) -> Any:
    table = tomlkit.table()
    for key, value in keys.items():
        table.add(key, toml_value(value, multiline=isinstance(value, list) and bool(value)))
    table.add(tomlkit.nl())
    return table
