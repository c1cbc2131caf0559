"""Read one pattern entry of an op group into PatternConfig fields.

An entry is read once per ``for_each`` row it is expanded with: a value that is
exactly ``"{name}"`` is that row's ``name`` (see Row and Scope). Problems in a row
value are reported where the row is written, which may be another file than the
entry (a backend can bind a shared group's rows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from .catalog import Catalog, Row
from .checks import Checker, is_identifier, key_path, type_name
from .model import (
    DEFAULT_OBSERVATION_TYPE,
    SYMBOL_FIELDS,
    DTypeWithConstraints,
    MethodName,
    NamedFuser,
    NodeAt,
    NodesAt,
    Pattern,
    SequentialFuser,
    Symbol,
    reversed_nested,
)
from .sources import Document
from .suggest import one_of
from .text import shown

PATTERN_KEYS = (
    "pattern",
    "pattern_complex_format",
    "observation_type",
    *SYMBOL_FIELDS,
    "fuser_method",
    "root_node_getter",
    "extra_inputs_getter",
    "num_tensor_args_to_observation_type",
    "input_type_to_index",
    "activation_constraints",
    "part",
    "replaces_earlier",
)

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}\Z")
_MISSING = object()


@dataclass
class Scope:
    """The row an entry is expanded with (None outside for_each), and which of its
    variables the entry used."""

    row: Row | None
    used: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class EntryFields:
    """A pattern entry read with one row: PatternConfig's fields but dtype_configs."""

    origin_key: str
    fields: dict[str, Any]
    activation_constraints: DTypeWithConstraints | None
    activation_constraints_name: str | None


class EntryReader:
    def __init__(self, checker: Checker, catalog: Catalog):
        self.checker = checker
        self.catalog = catalog

    def problem(self, doc: Document, key: str, message: str) -> None:
        self.checker.problem(doc, key, message)

    def deref(self, doc: Document, value: Any, key: str, scope: Scope) -> tuple[Any, Document, str]:
        """Replace a "{name}" placeholder by the row's value; also say where that value is."""
        match = _PLACEHOLDER.match(value) if isinstance(value, str) else None
        if match is None:
            return value, doc, key
        name = match[1]
        if scope.row is None:
            self.problem(doc, key, f"placeholder {value!r} needs a for_each row defining {name!r}; this section has no for_each")
            return _MISSING, doc, key
        if name not in scope.row.values:
            defined = ", ".join(scope.row.values) or "nothing"
            self.problem(doc, key, f"{scope.row.key} does not define {name!r}; it defines: {defined}")
            return _MISSING, doc, key
        scope.used.add(name)
        return scope.row.values[name], scope.row.doc, key_path(scope.row.key, name)

    def read(self, doc: Document, entry: dict[str, Any], key: str, scope: Scope) -> EntryFields | None:
        """The entry's fields with this row, or None when anything is wrong (reported)."""
        check = self.checker
        check.check_keys(doc, entry, key, PATTERN_KEYS)
        before = check.reported
        fields: dict[str, Any] = {"pattern": None, "pattern_complex_format": None}
        if ("pattern" in entry) == ("pattern_complex_format" in entry):
            self.problem(doc, key, "expected exactly one of 'pattern' and 'pattern_complex_format'")
        elif "pattern" in entry:
            fields["pattern"] = self.pattern(doc, entry["pattern"], f"{key}.pattern", scope)
        else:
            fields["pattern_complex_format"] = self.complex_pattern(doc, entry["pattern_complex_format"], f"{key}.pattern_complex_format", scope)
        fields["observation_type"] = self.value_at(doc, entry, "observation_type", key, scope, check.observation_type)
        if "observation_type" not in entry:
            fields["observation_type"] = DEFAULT_OBSERVATION_TYPE
        for name in SYMBOL_FIELDS:
            fields[name] = self.value_at(doc, entry, name, key, scope, check.symbol)
        fields["fuser_method"] = self.value_at(doc, entry, "fuser_method", key, scope, lambda *found: self.fuser_method(*found, scope))
        fields["root_node_getter"] = self.node_getter(doc, entry, "root_node_getter", key, scope, "node_at")
        fields["extra_inputs_getter"] = self.node_getter(doc, entry, "extra_inputs_getter", key, scope, "nodes_at")
        fields["num_tensor_args_to_observation_type"] = self.num_tensor_args(doc, entry, key, scope)
        fields["input_type_to_index"] = self.input_type_to_index(doc, entry, key, scope)
        fields["replaces_earlier"] = False
        if "replaces_earlier" in entry and check.check_type(doc, entry["replaces_earlier"], bool, f"{key}.replaces_earlier"):
            fields["replaces_earlier"] = entry["replaces_earlier"]
        if "part" in entry:
            check.identifier(doc, entry["part"], f"{key}.part")
        constraints_name, constraints = self.value_at(doc, entry, "activation_constraints", key, scope, self.activation_constraints) or (None, None)
        if check.reported > before:
            return None
        self.check_shapes(doc, key, fields)
        if check.reported > before:
            return None
        return EntryFields(key, fields, constraints, constraints_name)

    def at(self, doc: Document, entry: dict[str, Any], name: str, key: str, scope: Scope) -> tuple[Document, Any, str]:
        """The (doc, value, key) of ``entry[name]`` after placeholder replacement."""
        value, where, value_key = self.deref(doc, entry[name], f"{key}.{name}", scope)
        return where, value, value_key

    def value_at(self, doc: Document, entry: dict[str, Any], name: str, key: str, scope: Scope, read: Callable[[Document, Any, str], Any]) -> Any:
        """``read`` applied to ``entry[name]`` (placeholders replaced); None when absent."""
        if name not in entry:
            return None
        where, value, value_key = self.at(doc, entry, name, key, scope)
        return None if value is _MISSING else read(where, value, value_key)

    # -- patterns --------------------------------------------------------------

    def pattern(self, doc: Document, value: Any, key: str, scope: Scope) -> Pattern | None:
        value, doc, key = self.deref(doc, value, key, scope)
        if isinstance(value, list):
            if not 2 <= len(value) <= 3:
                self.problem(doc, key, f"a sequential pattern has 2 or 3 ops, got {len(value)}")
                return None
            atoms = tuple(self.pattern_atom(doc, item, key_path(key, index), scope) for index, item in enumerate(value))
            return None if None in atoms else atoms
        return self.pattern_atom(doc, value, key, scope)

    def complex_pattern(self, doc: Document, value: Any, key: str, scope: Scope) -> Pattern | None:
        value, doc, key = self.deref(doc, value, key, scope)
        if isinstance(value, list):
            if len(value) < 2:
                self.problem(doc, key, "a nested pattern has an op and at least one argument pattern")
                return None
            items = tuple(self.complex_pattern(doc, item, key_path(key, index), scope) for index, item in enumerate(value))
            return None if None in items else items
        return self.pattern_atom(doc, value, key, scope)

    def pattern_atom(self, doc: Document, value: Any, key: str, scope: Scope) -> Symbol | MethodName | None:
        value, doc, key = self.deref(doc, value, key, scope)
        if value is _MISSING:
            return None
        if isinstance(value, str):
            return self.checker.symbol(doc, value, key)
        if isinstance(value, dict) and set(value) == {"method"}:
            name, doc, name_key = self.deref(doc, value["method"], f"{key}.method", scope)
            if name is _MISSING or not self.checker.check_type(doc, name, str, name_key):
                return None
            if not is_identifier(name):
                self.problem(doc, name_key, f"{shown(name)} is not a method name; expected a Python identifier")
                return None
            return MethodName(name)
        self.problem(doc, key, f"expected a symbol (dotted path) or {{method = \"name\"}}, got {type_name(value)} {shown(value)}")
        return None

    # -- callables -------------------------------------------------------------

    def fuser_method(self, doc: Document, value: Any, key: str, scope: Scope) -> Any:
        if isinstance(value, dict) and len(value) == 1 and "sequential" in value:
            fused_value, fused_doc, fused_key = self.deref(doc, value["sequential"], f"{key}.sequential", scope)
            fused = None if fused_value is _MISSING else self.checker.symbol(fused_doc, fused_value, fused_key)
            return None if fused is None else SequentialFuser(fused)
        if isinstance(value, dict) and len(value) == 1 and "fuser" in value:
            name, doc, name_key = self.deref(doc, value["fuser"], f"{key}.fuser", scope)
            if name is _MISSING or not self.checker.check_type(doc, name, str, name_key):
                return None
            fuser = self.catalog.fusers.get(name)
            if fuser is None and name not in self.catalog.fusers:
                self.problem(doc, name_key, f"unknown fuser {shown(name)}; {one_of(self.catalog.fusers, name, ordered=True)}")
            return None if fuser is None else NamedFuser(fuser)
        if isinstance(value, dict):
            self.problem(doc, key, 'expected a symbol, {sequential = "<fused module>"} or {fuser = "<name of a [fusers] table>"}')
            return None
        return self.checker.symbol(doc, value, key)

    def node_getter(self, doc: Document, entry: dict[str, Any], name: str, key: str, scope: Scope, form: str) -> Any:
        if name not in entry:
            return None
        where, value, value_key = self.at(doc, entry, name, key, scope)
        if value is _MISSING:
            return None
        if isinstance(value, str):
            return self.checker.symbol(where, value, value_key)
        if not (isinstance(value, dict) and set(value) == {form}):
            example = "[1, 1]" if form == "node_at" else "[[1, 2]]"
            self.problem(where, value_key, f"expected a symbol or {{{form} = {example}}} (a position in the matched pattern)")
            return None
        positions = value[form] if form == "nodes_at" else [value[form]]
        positions_key = f"{value_key}.{form}"
        if form == "nodes_at" and (not self.checker.check_type(where, positions, list, positions_key) or not positions):
            if isinstance(positions, list):
                self.problem(where, positions_key, "expected at least one position")
            return None
        paths = []
        for index, path in enumerate(positions):
            path_key = positions_key if form == "node_at" else key_path(positions_key, index)
            if not self.checker.check_type(where, path, list, path_key):
                return None
            steps = [self.checker.index(where, step, key_path(path_key, i), "a position") for i, step in enumerate(path)]
            if None in steps:
                return None
            paths.append(tuple(steps))
        return NodeAt(paths[0]) if form == "node_at" else NodesAt(tuple(paths))

    def activation_constraints(self, doc: Document, value: Any, key: str) -> tuple[str | None, DTypeWithConstraints | None]:
        if not self.checker.check_type(doc, value, str, key):
            return None, None
        if value not in self.catalog.constraints:
            if not self.catalog.incomplete:
                self.problem(doc, key, f"unknown constraints {shown(value)}; {one_of(self.catalog.constraints, value, ordered=True)}")
            return None, None
        constraints = self.catalog.constraints[value]
        for bound in ("scale_min_lower_bound", "scale_max_upper_bound"):
            if constraints is not None and getattr(constraints, bound) is not None:
                self.problem(doc, key, f"constraints {value!r} set {bound}, which activation constraints do not apply (torch's fixed-qparams ops copy only the quant range and the exact scale and zero point)")
        return value, constraints

    # -- tables ----------------------------------------------------------------

    def num_tensor_args(self, doc: Document, entry: dict[str, Any], key: str, scope: Scope) -> tuple[tuple[int, str], ...]:
        if "num_tensor_args_to_observation_type" not in entry:
            return ()
        where, table, key = self.at(doc, entry, "num_tensor_args_to_observation_type", key, scope)
        if table is _MISSING or not self.checker.check_type(where, table, dict, key):
            return ()
        mapping: dict[int, str] = {}
        for count, value in table.items():
            count_key = key_path(key, count)
            if not (count.isascii() and count.isdigit() and len(count) <= 4) or (len(count) > 1 and count.startswith("0")):
                self.problem(where, count_key, "expected a number of tensor arguments (0, 1, 2, ..., no leading zeros) as key")
                continue
            value, value_doc, value_key = self.deref(where, value, count_key, scope)
            if value is _MISSING:
                continue
            observation_type = self.checker.observation_type(value_doc, value, value_key)
            if observation_type is not None:
                mapping[int(count)] = observation_type
        return tuple(mapping.items())

    def input_type_to_index(self, doc: Document, entry: dict[str, Any], key: str, scope: Scope) -> tuple[tuple[str, int], ...]:
        if "input_type_to_index" not in entry:
            return ()
        where, table, key = self.at(doc, entry, "input_type_to_index", key, scope)
        if table is _MISSING or not self.checker.check_type(where, table, dict, key):
            return ()
        mapping = []
        for name, value in table.items():
            if not is_identifier(name):
                self.problem(where, key_path(key, name), "expected an input name such as 'weight' or 'bias'")
                continue
            index, index_doc, index_key = self.deref(where, value, key_path(key, name), scope)
            if index is _MISSING:
                continue
            found = self.checker.index(index_doc, index, index_key)
            if found is not None:
                mapping.append((name, found))
        return tuple(mapping)

    # -- consistency -----------------------------------------------------------

    def check_shapes(self, doc: Document, key: str, fields: dict[str, Any]) -> None:
        """Getters must point into the pattern; a declared fuser must take the
        modules FX passes for this pattern."""
        matched = fields["pattern_complex_format"] or reversed_nested(fields["pattern"])
        for name in ("root_node_getter", "extra_inputs_getter"):
            getter = fields[name]
            paths = [getter.path] if isinstance(getter, NodeAt) else list(getter.paths) if isinstance(getter, NodesAt) else []
            for path in paths:
                if not _has_position(matched, path):
                    self.problem(doc, f"{key}.{name}", f"position {list(path)} is not in the pattern {_shape_text(matched)}")
        fuser = fields["fuser_method"]
        if isinstance(fuser, NamedFuser):
            called_with = fields["pattern_complex_format"] or fields["pattern"]
            expected = _shape(called_with) if isinstance(called_with, tuple) else None
            if expected is None or _shape(fuser.fuser.arguments) != expected:
                self.problem(doc, f"{key}.fuser_method", f"fuser {fuser.fuser.name!r} takes {_shape_text(fuser.fuser.arguments)}, but FX calls it with the modules of {_shape_text(called_with)}")


def _has_position(pattern: Any, path: tuple[int, ...]) -> bool:
    for step in path:
        if not isinstance(pattern, tuple) or step >= len(pattern):
            return False
        pattern = pattern[step]
    return True


def _shape(value: Any) -> Any:
    """The nesting of a pattern or an argument list, without the names."""
    if isinstance(value, tuple):
        return tuple(_shape(item) for item in value)
    return "*"


def _shape_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_shape_text(item) for item in value) + ")"
    if isinstance(value, Symbol):
        return value.name
    if isinstance(value, MethodName):
        return repr(value.name)
    return str(value)

