"""The shared op groups an extraction matches against (needs torch).

The catalog is the builtin ``op_groups/*.toml`` files, read by the generator's own
catalog reader and expanded by its own Expander, exactly as a spec that includes
them would be. Each group is also built into live BackendPatternConfigs the way a
generated module builds them (rendered by render.py, run), so that the comparison
engine can describe its patterns, and its [fusers] become callables whose
behaviour a live fuser can be compared with.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..catalog import Catalog, CatalogReader, OpGroup
from ..checks import Checker
from ..compare.describe import describe_pattern_config
from ..compare.generated_source import run_generated_source
from ..compare.public_names import PublicNames
from ..errors import Reporter
from ..expand import Expander
from ..model import Backend, DTypeConfig, DTypeWithConstraints, FuserDef, PatternConfig, register
from ..render import render, unformatted_module
from ..sources import BUILTIN_PREFIX, Document, Location, builtin_names, locate, read_document

CATALOG_PREFIX = f"{BUILTIN_PREFIX}op_groups/"
_PLACEHOLDER = DTypeConfig(
    "_extract_placeholder",
    DTypeWithConstraints("quint8"),
    DTypeWithConstraints("quint8"),
    DTypeWithConstraints(),
    None,
    None,
)
_USE_DOC = Document(Location(Path("<extract>")), "<extract>", {}, b"")


class CatalogError(Exception):
    """The shipped catalog does not load: a bug of the package, not of the input."""


@dataclass(frozen=True)
class Variant:
    """One way a spec can use a group: its default parts, or the parts it lists."""

    group: OpGroup
    file: str  # the builtin reference of the file defining the group
    parts: tuple[str, ...] | None  # None: the group's default parts (no `parts` key)
    where: tuple[tuple[str, Any], ...] | None  # one for_each variable's value (the `where` key)
    keys: tuple[Any, ...]  # the description key of each effective pattern, in order
    fields: tuple[tuple[tuple[str, Any], ...], ...]  # each pattern's description, dtype configs left out
    entries: tuple[PatternConfig, ...]  # each effective pattern as the model has it (to name it in a spec)

    @functools.cached_property
    def position(self) -> dict[Any, int]:
        """Description key -> its position among the variant's patterns."""
        return {key: index for index, key in enumerate(self.keys)}


def described_fields(pattern_config: Any, key: Any, names: PublicNames) -> tuple[Any, tuple[tuple[str, Any], ...]]:
    """A live pattern config as the engine describes it: (key, fields without dtype_configs)."""
    description = describe_pattern_config(pattern_config, key, names)
    return description.key, tuple((name, value) for name, value in description.fields if name != "dtype_configs")


class SharedCatalog:
    """The builtin op groups, expandable with any dtype configs, and built once."""

    def __init__(self, names: PublicNames):
        self.names = names
        self.reporter = Reporter()
        self.checker = Checker(self.reporter)
        self.catalog = Catalog()
        self.files: dict[str, str] = {}  # op group -> builtin reference of its file
        self.docs: dict[str, str] = {}  # builtin reference -> file, for include order
        reader = CatalogReader(self.checker, self.catalog)
        for reference in builtin_names():
            if not reference.startswith(CATALOG_PREFIX):
                continue
            location = locate(reference)
            assert not isinstance(location, str)
            doc = read_document(location, self.reporter)
            if doc is None:
                continue
            before = set(self.catalog.op_groups)
            reader.read(doc)
            self.files.update({name: reference for name in self.catalog.op_groups if name not in before})
        if self.reporter:
            raise CatalogError("; ".join(str(problem) for problem in self.reporter.problems))
        self.groups = [group for group in self.catalog.op_groups.values() if group is not None]
        self.fuser_defs: dict[str, FuserDef] = {name: fuser for name, fuser in self.catalog.fusers.items() if fuser is not None}
        self.variants, self.module = self._build()

    # -- expansion -------------------------------------------------------------

    def expand(
        self,
        group: OpGroup,
        parts: tuple[str, ...] | None,
        configs: list[DTypeConfig],
        where: tuple[tuple[str, Any], ...] | None = None,
        selection: dict[str, list[Any]] | None = None,
    ) -> tuple[PatternConfig, ...] | None:
        """The effective pattern configs of a use of ``group`` with ``configs``
        (BackendConfig's last-wins registration applied), or None when the use is
        invalid. ``selection`` is the use's ``patterns`` or ``exclude_patterns`` key."""
        reporter = Reporter()
        checker = Checker(reporter)
        expander = Expander(checker, self.catalog, {config.name: config for config in configs})
        use: dict[str, Any] = {"name": group.name, "dtype_configs": [config.name for config in configs]}
        if parts is not None:
            use["parts"] = list(parts)
        if where is not None:
            use["where"] = dict(where)
        use.update(selection or {})
        entries = expander.expand(_USE_DOC, use, "backend.op_groups[0]")
        if reporter:
            return None
        return register(entries)[0]

    def constraints(self) -> dict[str, DTypeWithConstraints]:
        return {name: value for name, value in self.catalog.constraints.items() if value is not None}

    # -- built once ------------------------------------------------------------

    def _variants(self, group: OpGroup) -> list[tuple[tuple[str, ...] | None, tuple[tuple[str, Any], ...] | None]]:
        """Default parts, every part (when some are optional), each part alone, and
        the default parts with one value of a for_each variable (``where``): a part
        is kept when it is two patterns or more."""
        found: list[tuple[tuple[str, ...] | None, tuple[tuple[str, Any], ...] | None]] = [(None, None)]
        if group.optional_parts:
            found.append((tuple(group.parts), None))
        if len(group.parts) > 1:
            found.extend(((part,), None) for part in group.parts)
        for section in group.sections:
            if section.rows is None or len(section.rows) < 2:
                continue
            for variable in section.rows[0].values:
                for row in section.rows:
                    found.append((None, ((variable, row.values[variable]),)))
        return found

    def _build(self) -> tuple[list[Variant], Any]:
        expanded: list[tuple[OpGroup, Any, Any, tuple[PatternConfig, ...]]] = []
        for group in self.groups:
            seen: set[tuple] = set()
            for parts, where in self._variants(group):
                configs = self.expand(group, parts, [_PLACEHOLDER], where)
                if configs is None:
                    raise CatalogError(f"op group {group.name!r} does not expand with parts {parts} where {where}")
                signature = tuple(config.key for config in configs)
                # A part of a group that is one pattern would only cut explicit runs apart.
                partial = parts is not None or where is not None
                if signature not in seen and not (partial and len(configs) < 2):
                    seen.add(signature)
                    expanded.append((group, parts, where, configs))
        everything = [config for *_, configs in expanded for config in configs]
        live, module = _build_live(everything, tuple(self.fuser_defs.values()))
        variants = []
        position = 0
        for group, parts, where, configs in expanded:
            described = [described_fields(pattern_config, None, self.names) for pattern_config in live[position : position + len(configs)]]
            position += len(configs)
            keys, fields = tuple(k for k, _ in described), tuple(f for _, f in described)
            variants.append(Variant(group, self.files[group.name], parts, where, keys, fields, configs))
        return variants, module

    @functools.cached_property
    def containing(self) -> dict[Any, list[Variant]]:
        """Description key -> the variants that have the pattern, in catalog order."""
        found: dict[Any, list[Variant]] = {}
        for variant in self.variants:
            for key in variant.keys:
                found.setdefault(key, []).append(variant)
        return found

    def fuser(self, name: str) -> Callable:
        """The callable a [fusers.NAME] table becomes in a generated module."""
        return getattr(self.module, f"_{name}")

    def sequential_fuser(self, fused_module: Any) -> Callable:
        """What ``fuser_method = {sequential = ...}`` becomes in a generated module."""
        return self.module._sequential_fuser(fused_module)

    def node_at(self, path: tuple[int, ...]) -> Callable:
        return self.module._node_at(*path)

    def nodes_at(self, paths: tuple[tuple[int, ...], ...]) -> Callable:
        return self.module._nodes_at(*paths)


def _build_live(configs: list[PatternConfig], fusers: tuple[FuserDef, ...]) -> tuple[list[Any], Any]:
    """Each pattern config built as its generated module builds it (rendered, not
    formatted: black changes no behaviour), and the module holding the helpers."""
    dtype_configs = tuple(dict.fromkeys(config for pattern in configs for config in pattern.dtype_configs))
    backend = Backend(
        name="extract_catalog",
        getter="get_extract_catalog",
        doc="The shared op groups, for matching.",
        torch_version="0",
        torch_getter=None,
        default_output="extract_catalog.py",
        constraints=(),
        dtype_configs=dtype_configs,
        fusers=fusers,
        pattern_configs=tuple(configs),
        shadowed=(),
        files=(),
    )
    rendered = render(backend, ["the shared op groups, built for matching"])
    run = run_generated_source(unformatted_module(rendered), "<shared op groups>", "_backendconfig_gen_extract_catalog")
    namespace = vars(run.module)
    live = [eval(compile(source, "<shared op groups>", "eval"), namespace) for _, source in rendered.entries]  # noqa: S307 - our own rendered code
    return live, run.module


@functools.lru_cache(maxsize=1)
def shared_catalog() -> SharedCatalog:
    """Built once per process: every extraction matches against the same catalog."""
    return SharedCatalog(PublicNames())
