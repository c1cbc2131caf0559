"""Extract a spec from a live BackendConfig: ``extract(MODULE:FUNCTION)`` (needs torch).

The live config's patterns are described by the comparison engine. The spec is the
shortest of:

- a delta (delta.py): ``extends`` a base spec (``--base``, or by default the
  builtin spec nearest to the config, bases.py) and says what differs;
- a cover (cover.py): runs of patterns that a shared op group expands to (whole
  or in part) become uses of that group, the rest explicit pattern entries in op
  groups of the spec itself.

Dtype configs are declared once per value and named (dtypes.py). A delta is
written only when it regenerates the config exactly (faithful.py); the result of
``python -m generator diff SPEC MODULE:FUNCTION`` is then "no differences".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..checks import DEFAULT_ROOTS, is_identifier
from ..compare.describe import describe_pattern_config
from ..compare.sides import installed_torch
from ..loader import BACKEND_NAME
from ..names import ALIASES, FIXED_NAMES, HELPER_NAMES
from ..sources import BUILTIN_PREFIX
from ..text import count
from .bases import NEAREST, NO_BASE, Base, builtin_base, kept_prefix, load_base, nearest_builtin
from .callables import Namer
from .cover import Cover, Covered
from .delta import Delta, DeltaParts
from .document import SpecParts, extracted_header, spec_text
from .dtypes import DTypeNames, config_table, constraints_table, identifier_prefix, inline_single_use, model_config, value_of
from .faithful import mismatch
from .groups import shared_catalog
from .live import ExtractError, Target, load_target
from .matching import LivePattern
from .patterns import pattern_label


# No cover is shorter: a header (4 lines), include, [backend] with name, getter,
# output, torch_version and op_groups, and the blank lines between. A delta this
# short is written without computing the cover.
MIN_COVER_LINES = 13


@dataclass(frozen=True)
class Extraction:
    text: str  # the spec
    warnings: tuple[str, ...]
    shared_groups: int  # uses of shared op groups
    explicit_patterns: int
    summary: str = ""  # one line: what the spec says


def extract(label: str, spec_display: str, output: str, getter: str | None = None, base: str | None = NEAREST,
            spec_dir: Path | None = None) -> Extraction:
    """The spec for ``MODULE:FUNCTION``. ``spec_display`` names the spec in its
    comments; ``output`` is backend.output (relative to the spec); ``base`` is a spec
    to extend, NEAREST (the nearest builtin spec, when shorter than a cover) or
    None (a cover); ``spec_dir`` is the spec's directory (for a relative extends)."""
    target = load_target(label)
    return Extractor(target, spec_display, output, getter, base, spec_dir).run()


class Extractor:
    def __init__(self, target: Target, spec_display: str, output: str, getter: str | None, base: str | None = NEAREST,
                 spec_dir: Path | None = None):
        self.target = target
        self.spec_display = spec_display
        self.output = output
        self.base = None if base == NO_BASE else base
        self.spec_dir = spec_dir if spec_dir is not None else Path.cwd()
        self.getter = getter or target.function_name
        if not is_identifier(self.getter):
            raise ExtractError(f"--getter {self.getter!r} is not a Python identifier")
        name = target.config.name
        if not isinstance(name, str) or not BACKEND_NAME.match(name):
            raise ExtractError(f"{target.label}: the config's name {name!r} is not a backend name (letters, digits and _ . + -)")
        self.shared = shared_catalog()
        self.prefix = identifier_prefix(name)

    def run(self) -> Extraction:
        try:
            return self._run()
        except ExtractError as error:
            raise ExtractError(f"{self.target.label}: {error}") from None

    def _run(self) -> Extraction:
        self.items = list(self.target.config._pattern_complex_format_to_config.items())
        self.patterns = [self.live_pattern(index) for index in range(len(self.items))]
        if self.base is None:
            return self.cover_spec()
        warnings: list[str] = []
        if self.base == NEAREST:
            base = nearest_builtin(self.patterns, self.target.config.name, self.shared.names)
            candidates = [] if base is None or not self.close(base) else [base]
        elif self.base.startswith(BUILTIN_PREFIX):
            candidates = [builtin_base(self.base, self.shared.names)]
        else:
            candidates = [load_base(self.base, self.shared.names)]
        for base in candidates:
            delta = self.delta_spec(base, whole_groups=True)
            problem = self.unfaithful(delta, base)
            if problem is not None:
                delta = self.delta_spec(base, whole_groups=False)  # removing op groups by name can move others
                problem = self.unfaithful(delta, base)
            if problem is not None:
                warnings.append(f"a spec extending {base.reference} would not regenerate the config ({problem}): written without extends")
            elif self.base != NEAREST or _lines(delta.text) <= MIN_COVER_LINES:
                return delta
            else:
                cover = self.cover_spec()
                return delta if _lines(delta.text) < _lines(cover.text) else cover
        cover = self.cover_spec()
        return replace(cover, warnings=(*cover.warnings, *warnings))

    def close(self, base: Base) -> bool:
        """Whether a base is close enough to start from by default: it has (in its
        order) most of the config's patterns, so that extending it says what the
        config is. (A spec that removes most of a base and adds the rest can be
        shorter than a cover, and says nothing true about the config.)"""
        return 2 * kept_prefix(self.patterns, base) > len(self.patterns)

    def live_pattern(self, index: int) -> LivePattern:
        key, pattern_config = self.items[index]
        description = describe_pattern_config(pattern_config, key, self.shared.names)
        fields = tuple((name, value) for name, value in description.fields if name != "dtype_configs")
        where = self.where(index)
        configs = tuple(model_config(c, f"{where}: dtype_configs[{n}]") for n, c in enumerate(pattern_config.dtype_configs))
        return LivePattern(description.key, fields, configs, tuple(pattern_config.dtype_configs))

    def where(self, index: int, namer: Namer | None = None) -> str:
        key, pattern_config = self.items[index]
        return f"configs[{index}] {pattern_label(pattern_config, key, namer or Namer(self.shared.names, self.shared))}"

    def unfaithful(self, extraction: Extraction, base: Base) -> str | None:
        return mismatch(extraction.text, base, self.target.config.name, self.patterns, self.shared.names)

    # -- the two kinds of spec -------------------------------------------------

    def tools(self, taken: set[str], groups: set[str], declare_constants: bool) -> tuple[Namer, DTypeNames, Cover]:
        """A namer, dtype config names and a cover for one candidate spec."""
        namer = Namer(self.shared.names, self.shared)
        included = set(self.shared.files.values())
        catalog_names = {name for (_, name), file in self.shared.catalog.defined_in.items() if file in included}
        dtypes = DTypeNames(self.target.constants, self.prefix, {*FIXED_NAMES, *HELPER_NAMES, *ALIASES.values(), self.getter, *catalog_names, *taken},
                            declare_constants)
        cover = Cover(self.target.label, self.prefix, self.items, self.patterns, self.shared, namer, dtypes, {*self.shared.catalog.op_groups, *groups})
        return namer, dtypes, cover

    def cover_spec(self) -> Extraction:
        namer, dtypes, cover = self.tools(set(), set(), declare_constants=True)
        covered = cover.cover()
        include = [reference for reference in dict.fromkeys(self.shared.files.values()) if reference in covered.files]
        parts = SpecParts(
            header=self.header(),
            include=include,
            allowed_roots=sorted(namer.roots | self.getter_roots()),
            backend=self.backend_table(),
            constraints=[(c.name or "", constraints_table(c)) for c in dtypes.constraints()],
            dtype_configs=[(c.name, config_table(c)) for c in dtypes.by_value.values()],
            own_groups=covered.own,
            uses=covered.uses,
        )
        extraction = self.extraction(parts, namer, covered, "")
        summary = (
            f"{count(len(self.patterns), 'pattern')}: {count(extraction.shared_groups, 'use')} of shared op groups"
            f", {count(extraction.explicit_patterns, 'explicit pattern')} in {count(len(covered.own), 'op group')} of the spec's own, "
            f"{count(len(dtypes.by_value), 'dtype config')}"
        )
        return replace(extraction, summary=summary)

    def delta_spec(self, base: Base, whole_groups: bool) -> Extraction:
        backend = base.backend
        taken = {c.name for c in backend.dtype_configs} | {c.name or "" for c in backend.constraints}
        taken |= {name for (_, name) in base.loader.catalog.defined_in}
        namer, dtypes, cover = self.tools(taken, set(base.loader.catalog.op_groups), declare_constants=False)
        for config in backend.dtype_configs:
            if config.base is None:
                dtypes.existing.setdefault(value_of(config), config)
        delta = Delta(base, self.items, self.patterns, cover, dtypes, whole_groups).compute()
        groups = set(base.loader.catalog.op_groups)
        needed = {use.table["name"] for use in delta.tail.uses} - {g.name for g in delta.tail.own} - groups
        include = [ref for ref in dict.fromkeys(self.shared.files.values()) if ref in delta.tail.files and any(self.shared.files[n] == ref for n in needed)]
        table = self.backend_table(base)
        if delta.remove_op_groups:
            table["remove_op_groups"] = delta.remove_op_groups
        if delta.remove_patterns:
            table["remove_patterns"] = delta.remove_patterns
        declared = inline_single_use([*delta.redefined, *dtypes.by_value.values()])
        parts = SpecParts(
            header=self.header(),
            include=include,
            allowed_roots=sorted((namer.roots | self.getter_roots()) - set(backend.allowed_roots)),
            backend=table,
            constraints=[(c.name or "", constraints_table(c)) for c in _named_constraints(declared) if c.name not in taken],
            dtype_configs=[(c.name, config_table(c)) for c in declared],
            own_groups=delta.tail.own,
            uses=delta.tail.uses,
            extends=base.extends(self.spec_dir),
            overrides=delta.overrides,
        )
        return self.extraction(parts, namer, delta.tail, self.delta_summary(base, delta))

    def extraction(self, parts: SpecParts, namer: Namer, covered: Covered, summary: str) -> Extraction:
        return Extraction(
            spec_text(parts),
            tuple(namer.warnings),
            covered.shared_uses,
            sum(len(group.entries) for group in covered.own),
            summary,
        )

    def delta_summary(self, base: Base, delta: DeltaParts) -> str:
        added = len(self.patterns) - delta.tail_start
        changes = [
            f"{count(delta.removed, 'pattern')} removed" if delta.removed else "",
            f"{count(len(delta.overrides), 'pattern')} overridden" if delta.overrides else "",
            f"{count(len(delta.redefined), 'dtype config')} redefined" if delta.redefined else "",
            f"{count(added, 'pattern')} added" if added else "",
        ]
        said = ", ".join(change for change in changes if change) or "nothing changed"
        return f"{count(len(self.patterns), 'pattern')}: {base.reference} with {said}"

    # -- backend ---------------------------------------------------------------

    def torch_getter(self) -> str | None:
        parts = self.target.dotted.split(".")
        if not all(is_identifier(part) for part in parts) or (parts[0] == "torch" and any(p.startswith("_") for p in parts)):
            return None
        return self.target.dotted

    def getter_roots(self) -> set[str]:
        getter = self.torch_getter()
        root = getter.split(".")[0] if getter else None
        return {root} if root and root not in DEFAULT_ROOTS else set()

    def backend_table(self, base: Base | None = None) -> dict[str, Any]:
        """[backend]: everything for a cover; for a delta, what differs from the base
        (and its own output, torch_getter and doc, which are never inherited)."""
        inherited = {} if base is None else {"name": base.backend.name, "getter": base.backend.getter, "torch_version": base.backend.torch_version}
        table: dict[str, Any] = {}
        for key, value in (("name", self.target.config.name), ("getter", self.getter)):
            if inherited.get(key) != value:
                table[key] = value
        table["output"] = self.output
        if inherited.get("torch_version") != installed_torch():
            table["torch_version"] = installed_torch()
        getter = self.torch_getter()
        if getter is not None:
            table["torch_getter"] = getter
        if self.target.doc:
            table["doc"] = self.target.doc
        return table

    def header(self) -> list[str]:
        label = self.target.label
        return extracted_header(label, installed_torch(), "config", [self.spec_display, f"diff {self.spec_display} {label}"])


def _named_constraints(configs: list[Any]) -> list[Any]:
    """The named constraints ``configs`` use, in first-use order."""
    found: dict[str, Any] = {}
    for config in configs:
        for dtype in config.named_constraints():
            found.setdefault(dtype.name, dtype)
    return list(found.values())


def _lines(text: str) -> int:
    return text.count("\n")
