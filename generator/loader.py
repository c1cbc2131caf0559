"""Load a backend spec (TOML) and its includes, validate it, and build the model.

Every problem in every file is collected and reported together in one SpecError,
each naming the file, the key path and what was expected. Nothing here imports
torch: symbols are checked by grammar, and resolved only by ``--verify`` and tests.
"""

from __future__ import annotations

import difflib
import keyword
import math
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

from .errors import Problem, SpecError
from .model import (
    DEFAULT_OBSERVATION_TYPE,
    DTYPE_NAMES,
    OBSERVATION_TYPES,
    SYMBOL_FIELDS,
    Backend,
    DTypeConfig,
    DTypeWithConstraints,
    MethodName,
    Origin,
    PatternConfig,
    SequentialFuser,
    SpecFile,
    Symbol,
    register,
)

MAX_SPEC_BYTES = 1_000_000
DEFAULT_ROOTS = ("torch", "operator")

# Names the generated module binds itself; a spec may not define constants with them.
RESERVED_NAMES = frozenset(
    {
        "BackendConfig",
        "BackendPatternConfig",
        "DTypeConfig",
        "DTypeWithConstraints",
        "ObservationType",
        "_sequential_fuser",
    }
)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}\Z")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*([a-z0-9.+-]*)\Z")

_TOP_KEYS = ("include", "allowed_roots", "backend", "dtype_configs", "op_groups", "constraints")
_INCLUDE_TOP_KEYS = ("op_groups", "constraints")
_BACKEND_KEYS = ("name", "getter", "output", "torch_version", "torch_getter", "doc", "op_groups")
_BACKEND_REQUIRED = ("name", "getter", "output", "torch_version", "op_groups")
_DTYPE_CONFIG_KEYS = ("input_dtype", "output_dtype", "weight_dtype", "bias_dtype", "is_dynamic")
_BOUND_KEYS = tuple(name for name, _ in DTypeWithConstraints().bounds())
# The fields torch's fixed-qparams helper copies from the constraints into a dtype config.
_ACTIVATION_CONSTRAINT_KEYS = (
    "quant_min_lower_bound",
    "quant_max_upper_bound",
    "scale_exact_match",
    "zero_point_exact_match",
)
_PATTERN_KEYS = (
    "pattern",
    "pattern_complex_format",
    "observation_type",
    *SYMBOL_FIELDS,
    "fuser_method",
    "num_tensor_args_to_observation_type",
    "input_type_to_index",
    "activation_constraints",
)

# What each required key holds, for "missing required key" messages.
_REQUIRED_HINTS = {
    "name": "a name (string)",
    "getter": "the name of the function the generated module defines, e.g. 'get_fbgemm_backend_config'",
    "output": "the default output path, relative to the spec, e.g. '../generated/fbgemm.py'",
    "torch_version": "the torch release the spec was verified against, e.g. '2.13.0'",
    "op_groups": "an array of [[backend.op_groups]] tables, each with name and dtype_configs",
    "dtype_configs": "an array of dtype config names",
    "dtype": "a dtype name, e.g. 'quint8'",
    "sections": "an array of [[op_groups.NAME.sections]] tables",
    "patterns": "an array of pattern entry tables",
}

_MISSING = object()


def load_backend(spec_path: str | Path) -> Backend:
    """Load and validate the backend spec at ``spec_path``; raise SpecError on any problem."""
    return _Loader(Path(spec_path)).load()


# Files that mark a project's root directory, nearest first.
ROOT_MARKERS = (".git", ".hg", "pyproject.toml")


def display_base(spec_path: Path) -> Path:
    """The directory paths in generated files are relative to: the project root
    (the nearest ancestor holding one of ROOT_MARKERS), else the spec's own directory.
    A marker other than .git keeps a checkout without history (an archive) generating
    the same bytes."""
    start = spec_path.resolve().parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in ROOT_MARKERS):
            return directory
    return start


def display_path(path: Path, base: Path) -> str:
    """How generated files name a path: relative to ``base`` (see display_base), so
    the same spec gives the same bytes from any working directory."""
    return Path(os.path.relpath(path.resolve(), base)).as_posix()


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "float", str: "string", list: "array", dict: "table"}.get(
        type(value), "date-time"
    )


def _show(value: Any) -> str:
    """A value quoted for an error message, cut short if long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _one_of(choices: tuple[str, ...] | list[str], got: str) -> str:
    close = difflib.get_close_matches(got, choices, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"{hint}expected one of: {', '.join(choices)}"


@dataclass
class _Document:
    path: Path
    name: str  # how messages name the file: as the user would type it
    data: dict[str, Any]


@dataclass
class _OpGroupEntry:
    """A pattern entry of an op group, before a backend gives it dtype configs."""

    origin: Origin
    fields: dict[str, Any]  # PatternConfig fields, but dtype_configs
    activation_constraints: str | None


@dataclass
class _Scope:
    """The for_each row a pattern entry is expanded with (None outside for_each)."""

    row: dict[str, Any] | None
    row_key: str
    row_index: int = 0
    used: set[str] = field(default_factory=set)


class _Loader:
    def __init__(self, spec_path: Path):
        self.spec_path = spec_path
        self.base = display_base(spec_path)
        self.problems: list[Problem] = []
        # Counts every report, repeats included, so a caller can tell whether its
        # own checks failed even when the problem was already listed.
        self.reported = 0
        self.files: list[SpecFile] = []
        self.roots: tuple[str, ...] = DEFAULT_ROOTS
        # Set when a file could not be parsed: references into it are then not reported.
        self.incomplete = False
        self.constraints: dict[str, DTypeWithConstraints | None] = {}
        self.op_groups: dict[str, list[_OpGroupEntry] | None] = {}
        self.defined_in: dict[tuple[str, str], str] = {}

    # -- reporting -------------------------------------------------------------

    def problem(self, file: str, key: str, message: str, line: int | None = None) -> None:
        self.reported += 1
        found = Problem(file, key, message, line)
        if found not in self.problems:
            self.problems.append(found)

    def check_type(self, doc: _Document, value: Any, kind: type, key: str) -> bool:
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return True
        expected = {str: "a string", list: "an array", dict: "a table", bool: "a boolean", int: "an integer"}[kind]
        self.problem(doc.name, key, f"expected {expected}, got {_type_name(value)} {_show(value)}")
        return False

    def check_keys(
        self,
        doc: _Document,
        table: dict[str, Any],
        key: str,
        allowed: tuple[str, ...],
        required: tuple[str, ...] = (),
    ) -> None:
        for name in table:
            if name not in allowed:
                self.problem(doc.name, _key(key, name), f"unknown key; {_one_of(allowed, name)}")
        for name in required:
            if name not in table:
                self.problem(doc.name, _key(key, name), f"missing required key; expected {_REQUIRED_HINTS[name]}")

    # -- files -----------------------------------------------------------------

    def read(self, path: Path, allowed_top: tuple[str, ...]) -> _Document | None:
        """Read and parse one TOML file; report why not and return None if it cannot be."""
        name = _user_path(path)
        if not path.exists():
            self.problem(name, "", "file not found; expected a TOML spec")
            return None
        if path.is_dir():
            self.problem(name, "", "is a directory; expected a TOML spec file")
            return None
        try:
            size = path.stat().st_size
            if size > MAX_SPEC_BYTES:
                self.problem(name, "", f"file is {size} bytes; a spec may be at most {MAX_SPEC_BYTES} bytes")
                return None
            raw = path.read_bytes()
        except OSError as error:
            self.problem(name, "", f"cannot read file: {error.strerror or error}")
            return None
        if not raw.strip():
            self.problem(name, "", "file is empty; expected a TOML spec")
            return None
        if b"\0" in raw:
            self.problem(name, "", "file is binary (holds NUL bytes); expected a UTF-8 TOML spec")
            return None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            self.problem(name, "", f"file is not UTF-8 text (byte {error.start}); expected a UTF-8 TOML spec")
            return None
        self.files.append(SpecFile(display_path(path, self.base), raw))
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            message = str(error)
            line = _TOML_LINE.search(message)
            message = _TOML_LINE.sub("", message).strip()
            self.problem(name, "", f"TOML syntax error: {message}", int(line[1]) if line else None)
            return None
        doc = _Document(path, name, data)
        self.check_keys(doc, data, "", allowed_top)
        return doc

    # -- the whole spec --------------------------------------------------------

    def load(self) -> Backend:
        spec = self.read(self.spec_path, _TOP_KEYS)
        if spec is None:
            raise SpecError(self.problems)
        self.read_roots(spec)
        documents = [spec]
        for include in self.include_paths(spec):
            doc = self.read(include, _INCLUDE_TOP_KEYS)
            if doc is None:
                self.incomplete = True
            else:
                documents.append(doc)
        for doc in documents:
            self.read_constraints(doc)
        for doc in documents:
            self.read_op_groups(doc)
        dtype_configs = self.read_dtype_configs(spec)
        backend = self.read_backend(spec, dtype_configs)
        if self.problems:
            raise SpecError(self.problems)
        assert backend is not None
        return backend

    def read_roots(self, doc: _Document) -> None:
        roots = doc.data.get("allowed_roots", [])
        if not self.check_type(doc, roots, list, "allowed_roots"):
            return
        extra = []
        for index, root in enumerate(roots):
            key = f"allowed_roots[{index}]"
            if self.check_type(doc, root, str, key):
                if _is_identifier(root):
                    extra.append(root)
                else:
                    self.problem(doc.name, key, f"{_show(root)} is not a Python identifier; expected a top-level module name")
        self.roots = DEFAULT_ROOTS + tuple(root for root in extra if root not in DEFAULT_ROOTS)

    def include_paths(self, doc: _Document) -> list[Path]:
        includes = doc.data.get("include", [])
        if not self.check_type(doc, includes, list, "include"):
            return []
        paths: list[Path] = []
        for index, include in enumerate(includes):
            key = f"include[{index}]"
            if not self.check_type(doc, include, str, key):
                continue
            path = doc.path.parent / include
            if "\0" in include or not include.strip():
                self.problem(doc.name, key, "expected a path to a TOML file, relative to this spec")
            elif path.resolve() in [p.resolve() for p in (doc.path, *paths)]:
                self.problem(doc.name, key, f"{_show(include)} is included twice")
            else:
                paths.append(path)
        return paths

    def define(self, doc: _Document, kind: str, name: str, key: str) -> bool:
        """Record where ``name`` is defined; report it if another file already did."""
        first = self.defined_in.get((kind, name))
        if first is not None:
            self.problem(doc.name, key, f"duplicate {kind} {name!r}; already defined in {first}")
            return False
        self.defined_in[(kind, name)] = doc.name
        return True

    # -- constraints -----------------------------------------------------------

    def named_tables(
        self, doc: _Document, top_key: str, kind: str, registry: dict, module_level: bool = False
    ) -> Iterator[tuple[str, dict, str]]:
        """Each ``[top_key.NAME]`` table of ``doc`` whose name is new, registering the
        name (as None until it validates) so references to it are not reported twice.
        ``module_level`` names become names of the generated module."""
        tables = doc.data.get(top_key, {})
        if not self.check_type(doc, tables, dict, top_key):
            return
        for name, table in tables.items():
            key = _key(top_key, name)
            if not self.define(doc, kind, name, key):
                continue
            registry[name] = None
            problem = self.module_name_problem(name) if module_level else _identifier_problem(name)
            if problem:
                self.problem(doc.name, key, problem)
            if self.check_type(doc, table, dict, key):
                yield name, table, key

    def module_name_problem(self, name: str) -> str | None:
        """What is wrong with ``name`` as a module-level name of the generated module."""
        if name in RESERVED_NAMES or name in self.roots or name.startswith("__"):
            return f"name {name!r} is taken by the generated module's own imports or helpers"
        return _identifier_problem(name)

    def read_constraints(self, doc: _Document) -> None:
        for name, table, key in self.named_tables(doc, "constraints", "constraints", self.constraints):
            self.check_keys(doc, table, key, ("dtype", *_ACTIVATION_CONSTRAINT_KEYS), required=("dtype",))
            if "dtype" in table:
                self.constraints[name] = self.dtype_with_constraints(doc, table, key)

    # -- dtype configs ---------------------------------------------------------

    def dtype_name(self, doc: _Document, value: Any, key: str) -> str | None:
        if not self.check_type(doc, value, str, key):
            return None
        if value not in DTYPE_NAMES:
            self.problem(doc.name, key, f"unknown dtype {_show(value)}; {_one_of(DTYPE_NAMES, value)}")
            return None
        return value

    def number(self, doc: _Document, value: Any, key: str, integer: bool = False) -> int | float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and isinstance(value, float)):
            expected = "an integer" if integer else "a number"
            self.problem(doc.name, key, f"expected {expected}, got {_type_name(value)} {_show(value)}")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.problem(doc.name, key, f"expected a finite number, got {value}")
            return None
        return value

    def dtype_with_constraints(self, doc: _Document, value: Any, key: str) -> DTypeWithConstraints | None:
        """A dtype name, or a table with ``dtype`` and DTypeWithConstraints bounds."""
        if isinstance(value, str):
            name = self.dtype_name(doc, value, key)
            return None if name is None else DTypeWithConstraints(dtype=name)
        if not isinstance(value, dict):
            self.problem(doc.name, key, f"expected a dtype name or a table with 'dtype' and bounds, got {_type_name(value)} {_show(value)}")
            return None
        self.check_keys(doc, value, key, ("dtype", *_BOUND_KEYS), required=("dtype",))
        dtype = self.dtype_name(doc, value["dtype"], f"{key}.dtype") if "dtype" in value else None
        bounds = {
            name: self.number(doc, value[name], f"{key}.{name}", integer=name == "zero_point_exact_match")
            for name in _BOUND_KEYS
            if name in value
        }
        if dtype is None or None in bounds.values():
            return None
        return DTypeWithConstraints(dtype=dtype, **bounds)

    def read_dtype_configs(self, doc: _Document) -> dict[str, DTypeConfig | None]:
        configs: dict[str, DTypeConfig | None] = {}
        for name, table, key in self.named_tables(doc, "dtype_configs", "dtype config", configs, module_level=True):
            self.check_keys(doc, table, key, _DTYPE_CONFIG_KEYS)
            dtypes = {}
            valid = True
            for role in ("input", "output", "weight"):
                value = table.get(f"{role}_dtype")
                dtypes[role] = DTypeWithConstraints() if value is None else self.dtype_with_constraints(doc, value, f"{key}.{role}_dtype")
                valid = valid and dtypes[role] is not None
            bias = table.get("bias_dtype")
            if bias is not None:
                bias = self.dtype_name(doc, bias, f"{key}.bias_dtype")
                valid = valid and bias is not None
            is_dynamic = table.get("is_dynamic")
            if is_dynamic is not None and not self.check_type(doc, is_dynamic, bool, f"{key}.is_dynamic"):
                valid = False
            if valid:
                configs[name] = DTypeConfig(name, dtypes["input"], dtypes["output"], dtypes["weight"], bias, is_dynamic)
        return configs

    # -- op groups -------------------------------------------------------------

    def read_op_groups(self, doc: _Document) -> None:
        for name, group, key in self.named_tables(doc, "op_groups", "op group", self.op_groups):
            self.check_keys(doc, group, key, ("doc", "sections"), required=("sections",))
            if "doc" in group:
                self.check_type(doc, group["doc"], str, f"{key}.doc")
            sections = group.get("sections", [])
            if not self.check_type(doc, sections, list, f"{key}.sections"):
                continue
            if not sections and "sections" in group:
                self.problem(doc.name, f"{key}.sections", "expected at least one section")
            entries: list[_OpGroupEntry] = []
            for index, section in enumerate(sections):
                entries.extend(self.read_section(doc, name, section, f"{key}.sections[{index}]"))
            self.op_groups[name] = entries

    def read_section(self, doc: _Document, group: str, section: Any, key: str) -> list[_OpGroupEntry]:
        if not self.check_type(doc, section, dict, key):
            return []
        self.check_keys(doc, section, key, ("for_each", "patterns"), required=("patterns",))
        patterns = section.get("patterns", [])
        if not self.check_type(doc, patterns, list, f"{key}.patterns"):
            return []
        if not patterns and "patterns" in section:
            self.problem(doc.name, f"{key}.patterns", "expected at least one pattern entry")
        scopes = self.read_for_each(doc, section, key)
        entries = []
        for scope in scopes:
            for index, entry in enumerate(patterns):
                found = self.read_pattern_entry(doc, group, entry, f"{key}.patterns[{index}]", scope)
                if found is not None:
                    entries.append(found)
        if "for_each" in section:
            used = set().union(*(scope.used for scope in scopes))
            defined = [name for scope in scopes for name in (scope.row or {})]
            for name in dict.fromkeys(defined):
                if name not in used:
                    self.problem(doc.name, f"{key}.for_each", f"variable {name!r} is not used by any pattern entry as \"{{{name}}}\"")
        return entries

    def read_for_each(self, doc: _Document, section: dict[str, Any], key: str) -> list[_Scope]:
        if "for_each" not in section:
            return [_Scope(None, "")]
        rows = section["for_each"]
        if not self.check_type(doc, rows, list, f"{key}.for_each"):
            return []
        if not rows:
            self.problem(doc.name, f"{key}.for_each", "expected at least one row")
        scopes = []
        for index, row in enumerate(rows):
            row_key = f"{key}.for_each[{index}]"
            if not self.check_type(doc, row, dict, row_key):
                continue
            for name in row:
                if not _is_identifier(name):
                    self.problem(doc.name, _key(row_key, name), "variable name must be a Python identifier")
            scopes.append(_Scope(row, row_key, index))
        return scopes

    def deref(self, doc: _Document, value: Any, key: str, scope: _Scope) -> tuple[Any, str]:
        """Replace a "{name}" placeholder by the for_each row's value, and the key by where it is."""
        match = _PLACEHOLDER.match(value) if isinstance(value, str) else None
        if match is None:
            return value, key
        name = match[1]
        if scope.row is None:
            self.problem(doc.name, key, f"placeholder {value!r} needs a for_each row defining {name!r}; this section has no for_each")
            return _MISSING, key
        if name not in scope.row:
            self.problem(doc.name, key, f"{scope.row_key} does not define {name!r}; it defines: {', '.join(scope.row) or 'nothing'}")
            return _MISSING, key
        scope.used.add(name)
        return scope.row[name], _key(scope.row_key, name)

    def read_pattern_entry(self, doc: _Document, group: str, entry: Any, key: str, scope: _Scope) -> _OpGroupEntry | None:
        if not self.check_type(doc, entry, dict, key):
            return None
        self.check_keys(doc, entry, key, _PATTERN_KEYS)
        where = key if scope.row is None else f"{key} (for_each[{scope.row_index}])"
        before = self.reported
        fields: dict[str, Any] = {}
        if ("pattern" in entry) == ("pattern_complex_format" in entry):
            self.problem(doc.name, key, "expected exactly one of 'pattern' and 'pattern_complex_format'")
        fields["pattern"] = self.pattern(doc, entry["pattern"], f"{key}.pattern", scope) if "pattern" in entry else None
        fields["pattern_complex_format"] = (
            self.complex_pattern(doc, entry["pattern_complex_format"], f"{key}.pattern_complex_format", scope)
            if "pattern_complex_format" in entry
            else None
        )
        fields["observation_type"] = (
            self.observation_type(doc, entry["observation_type"], f"{key}.observation_type", scope)
            if "observation_type" in entry
            else DEFAULT_OBSERVATION_TYPE
        )
        for name in SYMBOL_FIELDS:
            fields[name] = self.symbol(doc, *self.deref(doc, entry[name], f"{key}.{name}", scope)) if name in entry else None
        fields["fuser_method"] = self.fuser_method(doc, entry["fuser_method"], f"{key}.fuser_method", scope) if "fuser_method" in entry else None
        fields["num_tensor_args_to_observation_type"] = self.num_tensor_args(doc, entry, key, scope)
        fields["input_type_to_index"] = self.input_type_to_index(doc, entry, key, scope)
        constraints = None
        if "activation_constraints" in entry:
            value, value_key = self.deref(doc, entry["activation_constraints"], f"{key}.activation_constraints", scope)
            if value is not _MISSING and self.check_type(doc, value, str, value_key):
                if value in self.constraints or self.incomplete:
                    constraints = value
                else:
                    self.problem(doc.name, value_key, f"unknown constraints {_show(value)}; {_one_of(sorted(self.constraints), value)}")
        if self.reported > before:
            return None
        return _OpGroupEntry(Origin(doc.name, where), fields, constraints)

    def pattern(self, doc: _Document, value: Any, key: str, scope: _Scope) -> Any:
        value, key = self.deref(doc, value, key, scope)
        if isinstance(value, list):
            if not 2 <= len(value) <= 3:
                self.problem(doc.name, key, f"a sequential pattern has 2 or 3 ops, got {len(value)}")
                return None
            return tuple(self.pattern_atom(doc, item, f"{key}[{index}]", scope) for index, item in enumerate(value))
        return self.pattern_atom(doc, value, key, scope)

    def complex_pattern(self, doc: _Document, value: Any, key: str, scope: _Scope) -> Any:
        value, key = self.deref(doc, value, key, scope)
        if isinstance(value, list):
            if len(value) < 2:
                self.problem(doc.name, key, "a nested pattern has an op and at least one argument pattern")
                return None
            return tuple(self.complex_pattern(doc, item, f"{key}[{index}]", scope) for index, item in enumerate(value))
        return self.pattern_atom(doc, value, key, scope)

    def pattern_atom(self, doc: _Document, value: Any, key: str, scope: _Scope) -> Symbol | MethodName | None:
        value, key = self.deref(doc, value, key, scope)
        if value is _MISSING:
            return None
        if isinstance(value, str):
            return self.symbol(doc, value, key)
        if isinstance(value, dict) and set(value) == {"method"}:
            name, name_key = self.deref(doc, value["method"], f"{key}.method", scope)
            if name is _MISSING or not self.check_type(doc, name, str, name_key):
                return None
            if not _is_identifier(name):
                self.problem(doc.name, name_key, f"{_show(name)} is not a method name; expected a Python identifier")
                return None
            return MethodName(name)
        self.problem(doc.name, key, f"expected a symbol (dotted path) or {{method = \"name\"}}, got {_type_name(value)} {_show(value)}")
        return None

    def symbol(self, doc: _Document, value: Any, key: str) -> Symbol | None:
        if value is _MISSING or not self.check_type(doc, value, str, key):
            return None
        parts = value.split(".")
        if len(parts) < 2 or not all(_is_identifier(part) for part in parts):
            self.problem(doc.name, key, f"{_show(value)} is not a dotted Python name; expected module.attribute, e.g. 'torch.nn.Conv2d'")
            return None
        if parts[0] not in self.roots:
            self.problem(doc.name, key, f"{_show(value)} starts from {parts[0]!r}; expected a symbol under {', '.join(self.roots)} (list other roots in allowed_roots)")
            return None
        if parts[0] == "torch" and any(part.startswith("_") for part in parts):
            self.problem(doc.name, key, f"{_show(value)} is private to torch; expected the object's public path")
            return None
        return Symbol(value)

    def observation_type(self, doc: _Document, value: Any, key: str, scope: _Scope) -> str | None:
        value, key = self.deref(doc, value, key, scope)
        if value is _MISSING or not self.check_type(doc, value, str, key):
            return None
        if value not in OBSERVATION_TYPES:
            self.problem(doc.name, key, f"unknown observation type {_show(value)}; {_one_of(OBSERVATION_TYPES, value)}")
            return None
        return value

    def fuser_method(self, doc: _Document, value: Any, key: str, scope: _Scope) -> Any:
        value, key = self.deref(doc, value, key, scope)
        if isinstance(value, dict) and set(value) == {"sequential"}:
            fused = self.symbol(doc, *self.deref(doc, value["sequential"], f"{key}.sequential", scope))
            return None if fused is None else SequentialFuser(fused)
        if isinstance(value, dict):
            self.problem(doc.name, key, "expected a symbol or {sequential = \"<fused module>\"}")
            return None
        return self.symbol(doc, value, key)

    def num_tensor_args(self, doc: _Document, entry: dict[str, Any], key: str, scope: _Scope) -> tuple[tuple[int, str], ...]:
        key = f"{key}.num_tensor_args_to_observation_type"
        table, key = self.deref(doc, entry.get("num_tensor_args_to_observation_type", {}), key, scope)
        if table is _MISSING or not self.check_type(doc, table, dict, key):
            return ()
        mapping = []
        for count, value in table.items():
            if not count.isdigit() or not count.isascii():
                self.problem(doc.name, _key(key, count), "expected a number of tensor arguments (0, 1, 2, ...) as key")
                continue
            observation_type = self.observation_type(doc, value, _key(key, count), scope)
            if observation_type is not None:
                mapping.append((int(count), observation_type))
        return tuple(mapping)

    def input_type_to_index(self, doc: _Document, entry: dict[str, Any], key: str, scope: _Scope) -> tuple[tuple[str, int], ...]:
        key = f"{key}.input_type_to_index"
        table, key = self.deref(doc, entry.get("input_type_to_index", {}), key, scope)
        if table is _MISSING or not self.check_type(doc, table, dict, key):
            return ()
        mapping = []
        for name, value in table.items():
            if not _is_identifier(name):
                self.problem(doc.name, _key(key, name), "expected an input name such as 'weight' or 'bias'")
                continue
            index, index_key = self.deref(doc, value, _key(key, name), scope)
            if index is _MISSING:
                continue
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                self.problem(doc.name, index_key, f"expected an argument index (integer >= 0), got {_type_name(index)} {_show(index)}")
                continue
            mapping.append((name, index))
        return tuple(mapping)

    # -- the backend -----------------------------------------------------------

    def read_backend(self, doc: _Document, dtype_configs: dict[str, DTypeConfig | None]) -> Backend | None:
        table = doc.data.get("backend")
        if table is None:
            self.problem(doc.name, "backend", "missing required table [backend]")
            return None
        if not self.check_type(doc, table, dict, "backend"):
            return None
        self.check_keys(doc, table, "backend", _BACKEND_KEYS, required=_BACKEND_REQUIRED)
        text = {}
        for name in ("name", "getter", "output", "torch_version", "doc"):
            if name in table and self.check_type(doc, table[name], str, f"backend.{name}"):
                text[name] = table[name]
        if "getter" in text:
            problem = self.module_name_problem(text["getter"])
            if problem is None and text["getter"] in dtype_configs:
                problem = f"{text['getter']!r} is also the name of a dtype config; expected a name of its own"
            if problem:
                self.problem(doc.name, "backend.getter", problem)
        if "torch_version" in text and not _VERSION.match(text["torch_version"]):
            self.problem(doc.name, "backend.torch_version", f"{_show(text['torch_version'])} is not a version; expected e.g. '2.13.0'")
        if "output" in text and (not text["output"].strip() or "\0" in text["output"]):
            self.problem(doc.name, "backend.output", "expected a file path, relative to this spec")
        torch_getter = self.symbol(doc, table["torch_getter"], "backend.torch_getter") if "torch_getter" in table else None
        entries = self.backend_entries(doc, table.get("op_groups", []), dtype_configs)
        if self.problems:
            return None
        pattern_configs, shadowed = register(entries)
        used = list(dict.fromkeys(config for pattern in pattern_configs for config in pattern.dtype_configs))
        declared = [config for config in dtype_configs.values() if config is not None]
        return Backend(
            name=text["name"],
            getter=text["getter"],
            doc=text.get("doc", f"Return the BackendConfig for the {text['name']!r} backend."),
            torch_version=text["torch_version"],
            torch_getter=torch_getter,
            default_output=(doc.path.parent / text["output"]).as_posix(),
            dtype_configs=tuple(declared + [config for config in used if config not in declared]),
            pattern_configs=pattern_configs,
            shadowed=shadowed,
            files=tuple(self.files),
        )

    def backend_entries(self, doc: _Document, uses: Any, dtype_configs: dict[str, DTypeConfig | None]) -> list[PatternConfig]:
        """Expand each op group the backend uses with its dtype configs, in order."""
        if not self.check_type(doc, uses, list, "backend.op_groups"):
            return []
        derived: dict[tuple[str, str], DTypeConfig] = {}
        entries: list[PatternConfig] = []
        for index, use in enumerate(uses):
            key = f"backend.op_groups[{index}]"
            if not self.check_type(doc, use, dict, key):
                continue
            self.check_keys(doc, use, key, ("name", "dtype_configs"), required=("name", "dtype_configs"))
            name = use.get("name")
            group = None
            if name is not None and self.check_type(doc, name, str, f"{key}.name"):
                if name not in self.op_groups:
                    if not self.incomplete:
                        self.problem(doc.name, f"{key}.name", f"unknown op group {_show(name)}; {_one_of(sorted(self.op_groups), name)}")
                else:
                    group = self.op_groups[name]
            configs = self.dtype_config_refs(doc, use.get("dtype_configs", []), f"{key}.dtype_configs", dtype_configs)
            if group is None or configs is None:
                continue
            for entry in group:
                entry_configs = configs
                if entry.activation_constraints is not None:
                    entry_configs = self.constrained(doc, configs, entry.activation_constraints, f"{key}.dtype_configs", derived, dtype_configs)
                entries.append(PatternConfig(op_group=name, origin=entry.origin, dtype_configs=entry_configs, **entry.fields))
        return entries

    def dtype_config_refs(self, doc: _Document, refs: Any, key: str, dtype_configs: dict[str, DTypeConfig | None]) -> tuple[DTypeConfig, ...] | None:
        if not self.check_type(doc, refs, list, key):
            return None
        configs = []
        for index, ref in enumerate(refs):
            ref_key = f"{key}[{index}]"
            if not self.check_type(doc, ref, str, ref_key):
                continue
            if ref not in dtype_configs:
                self.problem(doc.name, ref_key, f"undefined dtype config {_show(ref)}; {_one_of(list(dtype_configs), ref)}")
            elif ref in refs[:index]:
                self.problem(doc.name, ref_key, f"dtype config {ref!r} is listed twice")
            elif dtype_configs[ref] is not None:
                configs.append(dtype_configs[ref])
        return tuple(configs) if len(configs) == len(refs) else None

    def constrained(
        self,
        doc: _Document,
        configs: tuple[DTypeConfig, ...],
        constraints_name: str,
        key: str,
        derived: dict[tuple[str, str], DTypeConfig],
        declared: dict[str, DTypeConfig | None],
    ) -> tuple[DTypeConfig, ...]:
        """The dtype configs with activation constraints applied, as torch's fixed-qparams
        helper does: input and output activations of the constraints' dtype take its bounds."""
        constraints = self.constraints.get(constraints_name)
        if constraints is None:
            return configs
        result = []
        for config in configs:
            cache_key = (config.name, constraints_name)
            if cache_key not in derived:
                activations = {}
                for role in ("input", "output"):
                    current = getattr(config, role)
                    if current.dtype != constraints.dtype:
                        continue
                    for bound in ("scale_min_lower_bound", "scale_max_upper_bound"):
                        if getattr(current, bound) is not None:
                            self.problem(doc.name, key, f"dtype config {config.name!r} sets {role}_dtype.{bound}, which activation constraints {constraints_name!r} cannot be applied to")
                    activations[role] = replace(current, **{name: getattr(constraints, name) for name in _ACTIVATION_CONSTRAINT_KEYS})
                new = replace(config, **activations)
                if new != config:
                    name = f"{config.name}_with_{constraints_name}"
                    if name in declared or name in (other.name for other in derived.values()):
                        self.problem(doc.name, key, f"the name {name!r}, of {config.name!r} with activation constraints {constraints_name!r}, is already taken")
                    new = replace(new, name=name, base=config.name, activation_constraints=constraints_name)
                derived[cache_key] = new
            result.append(derived[cache_key])
        return tuple(result)


def _key(parent: str, name: str) -> str:
    """A dotted key path as TOML writes it: names that are not bare keys are quoted."""
    written = name if _BARE_KEY.match(name) else _show(name)
    return f"{parent}.{written}" if parent else written


def _user_path(path: Path) -> str:
    """A path for messages: relative to the working directory when below it."""
    try:
        return path.resolve().relative_to(Path.cwd()).as_posix()
    except (ValueError, OSError):
        return path.resolve().as_posix()


def _identifier_problem(name: str) -> str | None:
    if _is_identifier(name):
        return None
    return "name must be a Python identifier (letters, digits, _), not a keyword"


def _is_identifier(name: str) -> bool:
    return bool(_IDENTIFIER.match(name)) and not keyword.iskeyword(name)


