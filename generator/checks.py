"""Checks of single spec values: types, keys, names, numbers, symbols.

Every reader of the spec validates through one Checker, which reports each
problem with the file, the key path and what was expected.
"""

from __future__ import annotations

import keyword
import math
import re
from typing import Any, Callable

from .errors import Reporter
from .model import DTYPE_NAMES, OBSERVATION_TYPES, Symbol
from .sources import Document, UnrepresentableFloat
from .suggest import one_of
from .text import shown

DEFAULT_ROOTS = ("torch", "operator")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")

# What each required key holds, for "missing required key" messages.
REQUIRED_HINTS = {
    "name": "a name (string)",
    "getter": "the name of the function the generated module defines, e.g. 'get_fbgemm_backend_config'",
    "output": "the default output path, relative to the spec, e.g. '../generated/fbgemm.py'",
    "torch_version": "the torch release the spec targets, e.g. '2.13.0'",
    "op_groups": "an array of [[backend.op_groups]] tables, each with name and dtype_configs",
    "dtype_configs": "an array of dtype config names",
    "dtype": "a dtype name, e.g. 'quint8'",
    "sections": "an array of [[op_groups.NAME.sections]] tables",
    "patterns": "an array of pattern entry tables",
    "arguments": "the modules the fuser is called with, e.g. ['conv', 'bn']",
    "fused_module": "the fused module class, e.g. 'torch.ao.nn.intrinsic.ConvAdd2d'",
    "fused_arguments": "the arguments of the fused module, e.g. ['conv', 'add']",
    "into": "the name of the module the batch norm is folded into",
    "batch_norm": "the name of the batch norm module",
    "using": "the folding function, e.g. 'torch.nn.utils.fusion.fuse_conv_bn_eval'",
    # QConfigMappings (qconfig_catalog.py, qconfig_reader.py)
    "class": "a class's dotted path, e.g. 'torch.ao.quantization.observer.MinMaxObserver', or a constructor's name",
    "activation": "the activation's constructor: a name, a class's dotted path or {class, with_args}",
    "weight": "the weight's constructor: a name, a class's dotted path or {class, with_args}",
    "object_types": "an array of {object, qconfig} entries",
    "object": "a symbol, e.g. 'torch.nn.Linear', or {method = 'reshape'}",
    "qconfig": "a qconfig: the name of a [qconfigs] table, 'None', or {activation, weight}",
    "group": "the name of an [object_type_groups] table",
    "regex": "a regular expression of module names, e.g. 'features\\..*'",
    "module_name": "a module's name in the model, e.g. 'features.0'",
    "index": "the index of the call among those of its object type in the module, e.g. 0",
}


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return {str: "string", list: "array", dict: "table"}.get(type(value), "date-time")


def key_path(parent: str, name: str | int) -> str:
    """A dotted key path as TOML writes it: names that are not bare keys are quoted."""
    if isinstance(name, int):
        return f"{parent}[{name}]"
    written = name if _BARE_KEY.match(name) else shown(name)
    return f"{parent}.{written}" if parent else written


def is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.match(name)) and not keyword.iskeyword(name)


def identifier_problem(name: str) -> str | None:
    if is_identifier(name):
        return None
    return "name must be a Python identifier (letters, digits, _), not a keyword"


_EXPECTED = {str: "a string", list: "an array", dict: "a table", bool: "a boolean", int: "an integer"}


class Checker:
    """Validates values of one spec (and the files it includes) into one Reporter."""

    def __init__(self, reporter: Reporter, roots: tuple[str, ...] = DEFAULT_ROOTS):
        self.reporter = reporter
        self.roots = roots

    def problem(self, doc: Document, key: str, message: str) -> None:
        self.reporter.add(doc.name, key, message)

    @property
    def reported(self) -> int:
        return self.reporter.reported

    def check_type(self, doc: Document, value: Any, kind: type, key: str) -> bool:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return True
        self.problem(doc, key, f"expected {_EXPECTED[kind]}, got {type_name(value)} {shown(value)}")
        return False

    def check_keys(
        self,
        doc: Document,
        table: dict[str, Any],
        key: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> None:
        for name in table:
            if name not in allowed:
                self.problem(doc, key_path(key, name), f"unknown key; {one_of(allowed, name)}")
        for name in required:
            if name not in table:
                self.problem(doc, key_path(key, name), f"missing required key; expected {REQUIRED_HINTS[name]}")

    def string(self, doc: Document, value: Any, key: str) -> str | None:
        return value if self.check_type(doc, value, str, key) else None

    def identifier(self, doc: Document, value: Any, key: str) -> str | None:
        if not self.check_type(doc, value, str, key):
            return None
        if not is_identifier(value):
            self.problem(doc, key, f"{shown(value)} is not a Python identifier (letters, digits, _; not a keyword)")
            return None
        return value

    def string_list(self, doc: Document, value: Any, key: str) -> list[str] | None:
        """An array of distinct strings."""
        if not self.check_type(doc, value, list, key):
            return None
        items: list[str] = []
        seen: set[str] = set()
        for index, item in enumerate(value):
            item_key = key_path(key, index)
            if not self.check_type(doc, item, str, item_key):
                continue
            if item in seen:
                self.problem(doc, item_key, f"{shown(item)} is listed twice")
                continue
            seen.add(item)
            items.append(item)
        return items if len(items) == len(value) else None

    def dtype_name(self, doc: Document, value: Any, key: str) -> str | None:
        if not self.check_type(doc, value, str, key):
            return None
        if value not in DTYPE_NAMES:
            self.problem(doc, key, f"unknown dtype {shown(value)}; {one_of(DTYPE_NAMES, value)}")
            return None
        return value

    def number(self, doc: Document, value: Any, key: str, integer: bool = False) -> int | float | None:
        """A finite number torch can store: a float a Python float holds exactly as
        written (no silent underflow to 0.0), or an integer within int64."""
        expected = "an integer" if integer else "a number"
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and isinstance(value, float)):
            self.problem(doc, key, f"expected {expected}, got {type_name(value)} {shown(value)}")
            return None
        if isinstance(value, UnrepresentableFloat):
            self.problem(doc, key, f"{value.literal} cannot be stored as a float (it would become {float(value)}); expected {expected} within float range")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(doc, key, f"expected a finite number, got {value}")
            return None
        if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
            self.problem(doc, key, f"{shown(value)} does not fit in 64 bits; expected an integer between {INT64_MIN} and {INT64_MAX}")
            return None
        return value

    def index(self, doc: Document, value: Any, key: str, what: str = "an argument index") -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            self.problem(doc, key, f"expected {what} (integer from 0 to 1000), got {type_name(value)} {shown(value)}")
            return None
        return value

    def symbol(self, doc: Document, value: Any, key: str, private: bool = False) -> Symbol | None:
        """A dotted path under an allowed root; of torch's, a public one unless
        ``private`` (a torch function only --verify and the tests call)."""
        if not self.check_type(doc, value, str, key):
            return None
        parts = value.split(".")
        if len(parts) < 2 or not all(is_identifier(part) for part in parts):
            self.problem(doc, key, f"{shown(value)} is not a dotted Python name; expected module.attribute, e.g. 'torch.nn.Conv2d'")
            return None
        if parts[0] not in self.roots:
            self.problem(doc, key, f"{shown(value)} starts from {parts[0]!r}; expected a symbol under {', '.join(self.roots)} (list other roots in allowed_roots)")
            return None
        if not private and parts[0] == "torch" and any(part.startswith("_") for part in parts):
            self.problem(doc, key, f"{shown(value)} is private to torch; expected the object's public path")
            return None
        return Symbol(value)

    def observation_type(self, doc: Document, value: Any, key: str) -> str | None:
        if not self.check_type(doc, value, str, key):
            return None
        if value not in OBSERVATION_TYPES:
            self.problem(doc, key, f"unknown observation type {shown(value)}; {one_of(OBSERVATION_TYPES, value)}")
            return None
        return value


class RunningTotal:
    """A count over a spec's uses (of op groups, of object type groups) and its
    bound: reported once, at the use that crosses it; every use after it is refused
    too, without a message."""

    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.total = 0

    def exceeds(self, amount: int, report: Callable[[], None]) -> bool:
        """Count ``amount``; whether the total is now beyond the bound, calling
        ``report`` for the use that crosses it."""
        before = self.total
        self.total += amount
        if self.total <= self.bound:
            return False
        if before <= self.bound:
            report()
        return True
