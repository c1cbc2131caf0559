"""Extract a spec from a live BackendConfig: ``extract(MODULE:FUNCTION)`` (needs torch).

The live config's patterns are described by the comparison engine; runs of them
that a shared op group expands to become uses of that group (matching.py), the
rest explicit pattern entries in op groups of the spec itself (patterns.py). Dtype
configs are declared once per value and named (dtypes.py). The result regenerates
an equal config: ``python -m generator diff SPEC MODULE:FUNCTION`` says so.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..checks import DEFAULT_ROOTS, is_identifier
from ..compare.sides import installed_torch
from ..header import TOOL_NAME
from ..loader import BACKEND_NAME
from ..names import ALIASES, FIXED_NAMES, HELPER_NAMES
from .callables import Namer
from .document import EXTRACTED_MARK, OwnGroup, SpecParts, Use, spec_text
from .dtypes import DTypeNames, config_table, constraints_table, identifier_prefix, model_config
from .groups import described_fields, shared_catalog
from .live import ExtractError, Target, load_target
from .matching import GroupRun, LivePattern, find_runs
from .patterns import entry_table, pattern_label


@dataclass(frozen=True)
class Extraction:
    target: Target
    text: str  # the spec
    warnings: tuple[str, ...]
    uses: tuple[tuple[str, int], ...]  # each op group use: (group, patterns), in order
    shared_groups: int  # uses of shared op groups
    explicit_patterns: int
    dtype_configs: tuple[str, ...]


def extract(label: str, spec_display: str, output: str, getter: str | None = None) -> Extraction:
    """The spec for ``MODULE:FUNCTION``. ``spec_display`` names the spec in its
    comments; ``output`` is backend.output (relative to the spec)."""
    target = load_target(label)
    return Extractor(target, spec_display, output, getter).run()


class Extractor:
    def __init__(self, target: Target, spec_display: str, output: str, getter: str | None):
        self.target = target
        self.spec_display = spec_display
        self.output = output
        self.getter = getter or target.function_name
        if not is_identifier(self.getter):
            raise ExtractError(f"--getter {self.getter!r} is not a Python identifier")
        name = target.config.name
        if not isinstance(name, str) or not BACKEND_NAME.match(name):
            raise ExtractError(f"{target.label}: the config's name {name!r} is not a backend name (letters, digits and _ . + -)")
        self.shared = shared_catalog()
        self.namer = Namer(self.shared.names, self.shared)
        self.prefix = identifier_prefix(name)
        # Names an included catalog file defines are taken (only files with op groups are included).
        included = set(self.shared.files.values())
        catalog_names = {name for (_, name), file in self.shared.catalog.defined_in.items() if file in included}
        taken = {*FIXED_NAMES, *HELPER_NAMES, *ALIASES.values(), self.getter, *catalog_names}
        self.dtypes = DTypeNames(target.constants, self.prefix, taken)

    def run(self) -> Extraction:
        try:
            return self._run()
        except ExtractError as error:
            raise ExtractError(f"{self.target.label}: {error}") from None

    def _run(self) -> Extraction:
        items = list(self.target.config._pattern_complex_format_to_config.items())
        patterns = []
        for index, (key, pattern_config) in enumerate(items):
            where = self.where(index, pattern_config, key)
            described_key, fields = described_fields(pattern_config, key, self.shared.names)
            configs = tuple(model_config(c, f"{where}: dtype_configs[{n}]") for n, c in enumerate(pattern_config.dtype_configs))
            patterns.append(LivePattern(described_key, fields, configs, tuple(pattern_config.dtype_configs)))
        uses: list[Use] = []
        own: list[OwnGroup] = []
        files: list[str] = []
        counts: list[tuple[str, int]] = []
        pending: list[int] = []
        for run in [*find_runs(patterns, self.shared), None]:
            if isinstance(run, int) and (not pending or patterns[pending[-1]].dtype_configs == patterns[run].dtype_configs):
                pending.append(run)
                continue
            if pending:
                own.append(self.own_group(pending, items, patterns, own))
                uses.append(self.own_use(own[-1], pending, patterns))
                counts.append((own[-1].name, len(pending)))
                pending = []
            if isinstance(run, int):
                pending.append(run)
            elif run is not None:
                uses.append(self.group_use(run))
                counts.append((run.variant.group.name, run.count))
                if run.variant.file not in files:
                    files.append(run.variant.file)
        include = [reference for reference in dict.fromkeys(self.shared.files.values()) if reference in files]
        parts = SpecParts(
            header=self.header(),
            include=include,
            allowed_roots=sorted(self.namer.roots | self.getter_roots()),
            backend=self.backend_table(),
            constraints=[(c.name or "", constraints_table(c)) for c in self.dtypes.constraints()],
            dtype_configs=[(c.name, config_table(c)) for c in self.dtypes.by_value.values()],
            own_groups=own,
            uses=uses,
        )
        return Extraction(
            self.target,
            spec_text(parts),
            tuple(self.namer.warnings),
            tuple(counts),
            sum(1 for use in uses if use.table["name"] not in {group.name for group in own}),
            sum(len(group.entries) for group in own),
            tuple(c.name for c in self.dtypes.by_value.values()),
        )

    def where(self, index: int, pattern_config: Any, key: Any) -> str:
        return f"configs[{index}] {pattern_label(pattern_config, key, self.namer)}"

    # -- uses ------------------------------------------------------------------

    def group_use(self, run: GroupRun) -> Use:
        configs = [self.dtypes.declare(config, live) for config, live in zip(run.configs, run.sources, strict=True)]
        group = run.variant.group
        table: dict[str, Any] = {"name": group.name}
        if run.variant.parts is not None:
            table["parts"] = list(run.variant.parts)
        if run.variant.where is not None:
            table["where"] = dict(run.variant.where)
        table["dtype_configs"] = [config.name for config in configs]
        comment = _wrapped(f"{group.name} ({run.variant.file}): {group.description}")
        return Use([*comment, _positions(run.start, run.count)], table)

    def own_group(self, indexes: list[int], items: list[tuple[Any, Any]], patterns: list[LivePattern], own: list[OwnGroup]) -> OwnGroup:
        entries = []
        for index in indexes:
            key, pattern_config = items[index]
            entries.append(entry_table(pattern_config, key, self.where(index, pattern_config, key), self.namer))
        first_key, first = items[indexes[0]]
        name = self.unique_group_name(f"{self.prefix}_{_snake(first_key)}", own)
        shown = pattern_label(first, first_key, self.namer)
        more = f" and {len(indexes) - 1} more" if len(indexes) > 1 else ""
        doc = f"Patterns of {self.target.label} no shared op group expands to: {shown}{more}."
        return OwnGroup(name, doc, entries)

    def own_use(self, group: OwnGroup, indexes: list[int], patterns: list[LivePattern]) -> Use:
        first = patterns[indexes[0]]
        configs = [self.dtypes.declare(config, live) for config, live in zip(first.dtype_configs, first.live_dtype_configs, strict=True)]
        comment = [f"{group.name} (this spec): patterns no shared op group expands to", _positions(indexes[0], len(indexes))]
        return Use(comment, {"name": group.name, "dtype_configs": [config.name for config in configs]})

    def unique_group_name(self, name: str, own: list[OwnGroup]) -> str:
        taken = {*self.shared.catalog.op_groups, *(group.name for group in own)}
        candidate, number = name, 2
        while candidate in taken:
            candidate, number = f"{name}_{number}", number + 1
        return candidate

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

    def backend_table(self) -> dict[str, str]:
        table = {
            "name": self.target.config.name,
            "getter": self.getter,
            "output": self.output,
            "torch_version": installed_torch(),
        }
        getter = self.torch_getter()
        if getter is not None:
            table["torch_getter"] = getter
        if self.target.doc:
            table["doc"] = self.target.doc
        return table

    def header(self) -> list[str]:
        label = self.target.label
        return [
            f"{EXTRACTED_MARK[2:]} {__version__} (torch {installed_torch()}) from",
            f"  {label}",
            "Edit it as any spec. Generate its module, then confirm that it builds the same config:",
            f"  {TOOL_NAME} {self.spec_display}",
            f"  {TOOL_NAME} diff {self.spec_display} {label}",
        ]


def _wrapped(text: str) -> list[str]:
    """Comment lines of at most 88 columns (with their "# ")."""
    return textwrap.wrap(text, width=86, break_long_words=False, break_on_hyphens=False) or [""]


def _positions(start: int, count: int) -> str:
    if count == 1:
        return f"configs[{start}], 1 pattern"
    return f"configs[{start}]..[{start + count - 1}], {count} patterns"


def _snake(key: Any) -> str:
    """A name for a group from its first pattern: (Linear, ReLU) -> linear_relu."""
    atoms: list[str] = []

    def visit(value: Any) -> None:
        if isinstance(value, tuple):
            for item in reversed(value) if len(value) == 2 and not isinstance(value[1], tuple) else value:
                visit(item)
        elif isinstance(value, str):
            atoms.append(value)
        else:
            atoms.append(getattr(value, "__name__", type(value).__name__))

    visit(key)
    words = [re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", atom.replace("ReLU", "Relu")).lower() for atom in atoms]
    name = re.sub(r"\W+", "_", "_".join(words)).strip("_")
    return name or "patterns"
