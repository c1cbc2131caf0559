"""Load a backend spec: read it, the spec it extends and the files they include,
validate everything, and build the model.

Every problem in every file is collected and reported together in one SpecError,
each naming the file, the key path and what was expected. Nothing here imports
torch: symbols are checked by grammar, and resolved only by ``--verify``,
``--resolve`` and the tests.

Pipeline: sources (files) -> catalog (named definitions) -> dtypes -> expand
(op groups x dtype configs) -> model.register (BackendConfig's last-wins rule).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog import Catalog, CatalogReader
from .checks import DEFAULT_ROOTS, Checker, key_path
from .dtypes import DTypeReader
from .errors import Problem, Reporter, SpecError
from .expand import Expander, OpGroupUse
from .fusers import argument_key
from .inputs import MAX_EXTENDS, MAX_INCLUDES, spec_files
from .model import Backend, DTypeConfig, NamedFuser, PatternConfig, SpecFile, register
from .names import collisions, fuser_argument_collisions
from .pattern_edits import PatternEdits
from .qconfig_catalog import CATALOG_KEYS
from .qconfig_model import module_names
from .qconfig_reader import SPEC_MAPPING_KEYS, read_qconfig_mappings
from .sources import MAX_TOTAL_BYTES, Document, Location, locate, read_document
from .suggest import one_of
from .text import shown

SPEC_KEYS = ("include", "extends", "allowed_roots", "backend", "dtype_configs", "constraints", "fusers", "op_groups", *SPEC_MAPPING_KEYS)
INCLUDE_KEYS = ("constraints", "dtype_configs", "fusers", "op_groups", *CATALOG_KEYS)
BACKEND_KEYS = (
    "name", "getter", "output", "torch_version", "torch_getter", "doc", "op_groups",
    "remove_op_groups", "remove_patterns", "override_patterns",
)
# What only a spec that extends another may do to what it inherits.
EDIT_KEYS = ("remove_op_groups", "remove_patterns", "override_patterns")
BACKEND_REQUIRED = ("name", "getter", "output", "torch_version", "op_groups")
# A spec that extends another inherits these; it must say where its own output goes
# (and its doc and torch_getter describe torch's config, not the customized one).
INHERITED = ("name", "getter", "torch_version")

BACKEND_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*\Z")
TORCH_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*((a|b|rc)[0-9]+)?(\.post[0-9]+)?(\.dev[0-9]+)?(\+[a-z0-9]+(\.[a-z0-9]+)*)?\Z")


def load_backend(spec: str | Path, documents: dict[str, Document | bytes] | None = None) -> Backend:
    """Load and validate the backend spec ``spec`` (a path, or ``builtin:NAME``);
    raise SpecError on any problem. ``documents`` are files already read and parsed
    (by find_inputs), by identity: they are not read again."""
    return Loader(documents).load(str(spec))


@dataclass
class _Spec:
    """One backend spec of the extends chain, with what it declares itself."""

    doc: Document
    base: _Spec | None
    includes: list[Document] = field(default_factory=list)


class Loader:
    def __init__(self, documents: dict[str, Document | bytes] | None = None) -> None:
        # Parsed files by identity: each file is read once, however often it is named.
        # What find_inputs read (parsed, or only read), by identity: never read twice.
        self.read_before: dict[str, Document | bytes] = {} if documents is None else documents
        self.documents: dict[str, Document] = {}
        self.reporter = Reporter()
        self.checker = Checker(self.reporter)
        self.catalog = Catalog()
        self.seen: dict[str, str] = {}  # identity of every file read -> its name
        self.own_dtype_configs: list[str] = []  # declared by the specs, not by included files
        self.total_bytes = 0  # of every file read (or reused), each once

    def load(self, reference: str) -> Backend:
        location = locate(reference)
        if isinstance(location, str):
            raise SpecError([Problem(reference, "", location)])
        spec = self.read_spec(location, chain=[])
        if spec is None:
            self.reporter.raise_if_any()
            raise SpecError([])  # pragma: no cover - read_spec reports why
        chain = _chain(spec)
        self.checker.roots = self.roots(chain)
        reader = CatalogReader(self.checker, self.catalog)
        for doc in [*(s.doc for s in reversed(chain)), *(inc for s in reversed(chain) for inc in s.includes)]:
            reader.read(doc)
        dtypes = DTypeReader(self.checker, lambda: self.catalog.constraints, lambda: self.catalog.incomplete)
        declared = self.dtype_configs(chain, dtypes)
        expander = Expander(self.checker, self.catalog, declared)
        expander.validate_groups()
        backend = self.backend(chain, declared, expander)
        self.reporter.raise_if_any()
        assert backend is not None
        return backend

    # -- files -----------------------------------------------------------------

    def read_spec(self, location: Location, chain: list[str]) -> _Spec | None:
        identity = location.identity  # a stat: asked once
        doc = self.read(location, SPEC_KEYS, identity)
        if doc is None:
            return None
        base = None
        if "extends" in doc.data:
            base_location = self.reference(doc, doc.data["extends"], "extends")
            if base_location is not None:
                if base_location.identity in [*chain, identity]:
                    self.checker.problem(doc, "extends", f"{shown(doc.data['extends'])} extends this spec again (a cycle)")
                elif len(chain) >= MAX_EXTENDS:
                    self.checker.problem(doc, "extends", f"specs extend each other more than {MAX_EXTENDS} deep")
                else:
                    base = self.read_spec(base_location, [*chain, identity])
                    if base is not None and "backend" not in base.doc.data:
                        self.checker.problem(
                            doc,
                            "extends",
                            f"{shown(doc.data['extends'])} has no [backend] table; expected a backend spec to extend "
                            "(a file of op groups or dtype configs is named in include)",
                        )
                        base = None
                    if base is None:
                        self.catalog.incomplete = True
        spec = _Spec(doc, base)
        includes = doc.data.get("include", [])
        if self.checker.check_type(doc, includes, list, "include"):
            if len(includes) > MAX_INCLUDES:
                self.checker.problem(doc, "include", f"{len(includes)} files; a spec may include at most {MAX_INCLUDES}")
                includes = []
            own: set[str] = set()
            for index, include in enumerate(includes):
                included = self.reference(doc, include, key_path("include", index))
                if included is None:
                    continue
                included_identity = included.identity
                if included_identity in self.seen:
                    # A file a base spec includes may be named again; nothing else may.
                    earlier = self.seen[included_identity]
                    if included_identity in own or included_identity == identity or not earlier.endswith(" (include)"):
                        earlier = earlier.removesuffix(" (include)")
                        same = "" if earlier == included.name else f" (it is the same file as {earlier})"
                        self.checker.problem(doc, key_path("include", index), f"{shown(include)} is included twice{same}")
                    continue
                own.add(included_identity)
                found = self.read(included, INCLUDE_KEYS, included_identity)
                if found is None:
                    self.catalog.incomplete = True
                else:
                    spec.includes.append(found)
        return spec

    def reference(self, doc: Document, value: Any, key: str) -> Location | None:
        if not self.checker.check_type(doc, value, str, key):
            return None
        found = locate(value, doc.location)
        if isinstance(found, str):
            self.checker.problem(doc, key, found)
            return None
        return found

    def read(self, location: Location, allowed: tuple[str, ...], identity: str) -> Document | None:
        found = self.read_before.get(identity)
        if isinstance(found, Document) and found.location == location:
            doc: Document | None = found
        else:  # not read yet, or read but not parsed (bytes), or read by another name
            if self.total_bytes > MAX_TOTAL_BYTES:
                return None  # reported: nothing more is read
            doc = read_document(location, self.reporter, found if isinstance(found, bytes) else None)
        if doc is not None:
            self.total_bytes += doc.size
            if self.total_bytes > MAX_TOTAL_BYTES:
                self.reporter.add(doc.name, "", f"the spec and the files it extends and includes are over {MAX_TOTAL_BYTES} bytes "
                                  f"with this file; together they may be at most {MAX_TOTAL_BYTES} bytes")
                return None
            self.documents[identity] = doc
            self.seen[identity] = location.name + (" (include)" if allowed is INCLUDE_KEYS else "")
            self.checker.check_keys(doc, doc.data, "", allowed)
        return doc

    def roots(self, chain: list[_Spec]) -> tuple[str, ...]:
        roots = list(DEFAULT_ROOTS)
        for spec in reversed(chain):
            found = spec.doc.data.get("allowed_roots", [])
            names = self.checker.string_list(spec.doc, found, "allowed_roots") or []
            for index, root in enumerate(names):
                if self.checker.identifier(spec.doc, root, key_path("allowed_roots", index)) and root not in roots:
                    roots.append(root)
        return tuple(roots)

    # -- dtype configs ---------------------------------------------------------

    def dtype_configs(self, chain: list[_Spec], reader: DTypeReader) -> dict[str, DTypeConfig | None]:
        """Declared dtype configs: the specs' (base specs first; a spec that extends
        another may redefine one of the base's, which keeps its place), then the
        included files' (a shared catalog; emitted only where used)."""
        configs: dict[str, DTypeConfig | None] = {}
        for spec in reversed(chain):
            self.read_dtype_configs(spec.doc, reader, configs, redefine=True)
        self.own_dtype_configs = list(configs)
        for spec in reversed(chain):
            for include in spec.includes:
                self.read_dtype_configs(include, reader, configs, redefine=False)
        return configs

    def read_dtype_configs(self, doc: Document, reader: DTypeReader, configs: dict[str, DTypeConfig | None], redefine: bool) -> None:
        tables = doc.data.get("dtype_configs", {})
        if not self.checker.check_type(doc, tables, dict, "dtype_configs"):
            return
        for name, table in tables.items():
            key = key_path("dtype_configs", name)
            if name in self.catalog.constraints:
                self.checker.problem(doc, key, f"{name!r} is also the name of a [constraints] table; expected a name of its own")
            if not redefine:
                first = self.catalog.defined_in.get(("dtype config", name))
                if first is not None or name in configs:
                    self.checker.problem(doc, key, f"duplicate dtype config {name!r}; already defined in {first or 'the spec'}")
                    continue
                self.catalog.defined_in[("dtype config", name)] = doc.name
            if self.checker.identifier(doc, name, key) is None or not self.checker.check_type(doc, table, dict, key):
                configs[name] = None
                continue
            configs[name] = reader.config(doc, name, table, key)

    # -- the backend -----------------------------------------------------------

    def backend(self, chain: list[_Spec], declared: dict[str, DTypeConfig | None], expander: Expander) -> Backend | None:
        check = self.checker
        spec = chain[0]
        doc = spec.doc
        tables = [(s.doc, s.doc.data.get("backend")) for s in chain]
        for table_doc, table in tables:
            if table is not None:
                check.check_type(table_doc, table, dict, "backend")
        table = tables[0][1]
        if not isinstance(table, dict):
            if table is None:
                check.problem(doc, "backend", "missing required table [backend]")
            return None
        required = ("output",) if "extends" in doc.data else BACKEND_REQUIRED
        check.check_keys(doc, table, "backend", BACKEND_KEYS, required=required)
        for name in EDIT_KEYS:
            if name in table and spec.base is None:
                check.problem(doc, f"backend.{name}", "only a spec that extends another can edit what it inherits; expected extends = \"<the spec to start from>\"")
        text: dict[str, str] = {}
        for name in ("name", "getter", "output", "torch_version", "doc"):
            for table_doc, found in tables:
                if isinstance(found, dict) and name in found and (found is table or name in INHERITED):
                    value = check.string(table_doc, found[name], f"backend.{name}")
                    if value is not None:
                        text[name] = value
                    break
        unset = [name for name in INHERITED if spec.base is not None and not any(isinstance(t, dict) and name in t for _, t in tables)]
        for name in unset:
            check.problem(doc, f"backend.{name}", "missing required key; neither this spec nor the spec it extends sets it")
        if unset:
            return None
        self.check_text(doc, text)
        torch_getter = check.symbol(doc, table["torch_getter"], "backend.torch_getter") if "torch_getter" in table else None
        entries = self.pattern_entries(chain, expander)
        output = spec.doc.location.directory / text.get("output", "")  # missing: reported, and no backend is built
        includes = [inc for s in reversed(chain) for inc in s.includes]
        files = self.files(chain, output)
        base = files[1].display_path if len(chain) > 1 else None  # the spec it extends, as the header names it
        mappings = read_qconfig_mappings(check, [s.doc for s in reversed(chain)], includes, self.catalog.incomplete, base)
        if self.reporter:
            return None
        pattern_configs, shadowed = register(entries)
        used = list(dict.fromkeys(config for pattern in pattern_configs for config in pattern.dtype_configs))
        present = [config for name in self.own_dtype_configs if (config := declared[name]) is not None]
        present_names = {config.name for config in present}
        dtype_configs = (*present, *(config for config in used if config.name not in present_names))
        constraints = {c.name: c for config in dtype_configs for c in config.named_constraints()}
        fusers = {c.fuser_method.fuser.name: c.fuser_method.fuser for c in pattern_configs if isinstance(c.fuser_method, NamedFuser)}
        backend = Backend(
            name=text["name"],
            getter=text["getter"],
            doc=text["doc"] if "doc" in text else _default_doc(text["name"], base),
            torch_version=text["torch_version"],
            torch_getter=torch_getter,
            default_output=output.as_posix(),
            constraints=tuple(constraints.values()),
            dtype_configs=dtype_configs,
            fusers=tuple(fusers.values()),
            pattern_configs=pattern_configs,
            shadowed=shadowed,
            files=files,
            allowed_roots=self.checker.roots[len(DEFAULT_ROOTS) :],
            qconfig_mappings=mappings,
        )
        for name, problem in collisions(backend):
            self.report_name(chain, backend, name, problem)
        for fuser, path, problem in fuser_argument_collisions(backend):
            self.reporter.add(fuser.origin.file, argument_key(f"{fuser.origin.key}.arguments", path), problem)
        return None if self.reporter else backend

    def report_name(self, chain: list[_Spec], backend: Backend, name: str, problem: str) -> None:
        """Report a name collision where the name is defined."""
        doc = chain[0].doc
        for spec in chain:
            roots = spec.doc.data.get("allowed_roots")
            if name in backend.allowed_roots and isinstance(roots, list) and name in roots:
                self.checker.problem(spec.doc, key_path("allowed_roots", roots.index(name)), problem)
                return
        if name == backend.getter:
            self.checker.problem(doc, "backend.getter", problem)
            return
        for spec in chain:
            if name in spec.doc.data.get("dtype_configs", {}):
                self.checker.problem(spec.doc, key_path("dtype_configs", name), problem)
                return
        for found, _, origin in module_names(backend.qconfig_mappings):
            if found == name:
                self.reporter.add(origin.file, origin.key, problem)
                return
        for kind, top in (("dtype config", "dtype_configs"), ("constraints", "constraints"), ("fuser", "fusers")):
            where = self.catalog.defined_in.get((kind, name.removeprefix("_") if kind == "fuser" else name))
            if where is not None:
                self.reporter.add(where, key_path(top, name.removeprefix("_") if kind == "fuser" else name), problem)
                return
        self.checker.problem(doc, "backend.op_groups", problem)

    def check_text(self, doc: Document, text: dict[str, str]) -> None:
        """Names and versions have a grammar; the getter is a Python name."""
        check = self.checker
        if "name" in text and not BACKEND_NAME.match(text["name"]):
            check.problem(doc, "backend.name", f"{shown(text['name'])} is not a backend name; expected letters, digits and _ . + - (e.g. 'fbgemm')")
        if "getter" in text:
            check.identifier(doc, text["getter"], "backend.getter")
        if "torch_version" in text and not TORCH_VERSION.match(text["torch_version"]):
            check.problem(doc, "backend.torch_version", f"{shown(text['torch_version'])} is not a release number; expected e.g. '2.13.0'")
        if "output" in text and (not text["output"].strip() or "\0" in text["output"]):
            check.problem(doc, "backend.output", "expected a file path, relative to this spec")
        if "doc" in text and not text["doc"].strip():
            check.problem(doc, "backend.doc", "expected a sentence describing the backend")

    def pattern_entries(self, chain: list[_Spec], expander: Expander) -> list[PatternConfig]:
        """The pattern entries of the op groups the backend uses, in order: the base's
        (minus the uses and patterns the extending spec removes, with its overrides),
        then its own. A use is expanded only once something needs its patterns."""
        uses: list[OpGroupUse] = []
        edits = PatternEdits(expander)
        for spec in reversed(chain):
            doc = spec.doc
            table = doc.data.get("backend")
            if not isinstance(table, dict):
                continue
            if "remove_op_groups" in table and spec.base is not None:
                listed = self.checker.string_list(doc, table["remove_op_groups"], "backend.remove_op_groups") or []
                removed = set(listed)
                names = [name for use in uses if isinstance(use.table, dict) and isinstance(name := use.table.get("name"), str)]
                known = set(names)
                for index, name in enumerate(listed):
                    if name not in known:
                        self.checker.problem(doc, key_path("backend.remove_op_groups", index), f"{spec.base.doc.name} uses no op group {shown(name)}; {one_of(names, name)}")
                uses = [use for use in uses if not (isinstance(use.table, dict) and use.table.get("name") in removed)]
            if spec.base is not None and ("remove_patterns" in table or "override_patterns" in table):
                edits.apply(doc, table, spec.base.doc.name, [use.expanded(expander) for use in uses])
            own = table.get("op_groups", [])
            if self.checker.check_type(doc, own, list, "backend.op_groups"):
                uses.extend(OpGroupUse(doc, use, key_path("backend.op_groups", index)) for index, use in enumerate(own))
        return [entry for use in uses for entry in use.expanded(expander)]

    def files(self, chain: list[_Spec], output: Path) -> tuple[SpecFile, ...]:
        """The inputs, as the header names them (see inputs.py)."""
        return spec_files([(spec.doc, [(i.location, i.content) for i in spec.includes]) for spec in chain], output)


def _default_doc(name: str, base: str | None) -> str:
    if base is None:
        return f"Return the BackendConfig for the {name!r} backend."
    return f"Return the BackendConfig {name!r}, customized from {base}."


def _chain(spec: _Spec) -> list[_Spec]:
    """The spec, then the spec it extends, and so on."""
    chain = [spec]
    while chain[-1].base is not None:
        chain.append(chain[-1].base)
    return chain
