"""The specs an extraction can start from (``extends``): a spec given with ``--base``,
or the builtin spec nearest to the live config (needs torch).

A base is loaded by the generator's own loader and, when a delta is computed
against it, built as its generated module builds it (rendered, run), so that its
patterns are described by the engine that describes the live config. Choosing the nearest builtin compares the live config
with every builtin spec by pattern keys and dtype config values only (nothing is
built, no callable is run): time O(S x P + B) for S builtin specs of B patterns in
all and a config of P patterns, each builtin loaded once per process. Only the
nearest one is built, and the full delta computed against it.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..compare.describe import describe_key, describe_pattern_config
from ..compare.description import PatternDescription
from ..compare.generated_source import MissingObject, run_generated_source
from ..compare.public_names import PublicNames
from ..errors import SpecError
from ..user_code import running_user_code
from ..loader import Loader
from ..model import Backend, MethodName, Origin, PatternConfig
from ..render import ENTRIES_MARKER, render, unformatted_module
from ..sources import BUILTIN_PREFIX, builtin_names
from .dtypes import value_of
from .live import ExtractError
from .matching import LivePattern

NEAREST = "nearest"  # --base default: the nearest builtin spec, if nearer than a cover
NO_BASE = "none"  # --base none: no extends, the op-group cover
_MODULE_NUMBER = itertools.count()


@dataclass
class Base:
    """A backend spec, loaded; built (its generated module run) only when needed."""

    reference: str  # as the user named it (a path, or builtin:NAME)
    location: Path | None  # the file, for a relative extends (None for builtin:)
    backend: Backend
    loader: Loader  # what the load found: its catalog and the specs' own dtype configs
    keys: tuple[Any, ...]  # description keys, in order
    names: PublicNames
    _described: dict[int, PatternDescription] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def position(self) -> dict[Any, int]:
        return {key: index for index, key in enumerate(self.keys)}

    @functools.cached_property
    def items(self) -> list[tuple[Any, Any]]:
        """The built config's (key, pattern config), in order."""
        try:
            config = build(self.backend, self.reference)
        except Exception as error:  # noqa: BLE001 - a base whose module cannot run is bad input
            raise ExtractError(f"--base {self.reference}: its generated module does not build: {type(error).__name__}: {error}") from None
        return list(config._pattern_complex_format_to_config.items())

    def described(self, index: int) -> PatternDescription:
        """Pattern ``index`` described in full (its callables run), once."""
        if index not in self._described:
            key, pattern_config = self.items[index]
            self._described[index] = describe_pattern_config(pattern_config, key, self.names)
        return self._described[index]

    @functools.cached_property
    def model_position(self) -> dict[Any, int]:
        """Model pattern key -> its position."""
        return {config.key: index for index, config in enumerate(self.backend.pattern_configs)}

    def fields_of(self, config: PatternConfig) -> tuple | None:
        """The described fields (dtype configs left out) of a pattern config another
        spec's model has, when the base has the same one: the same model (dtype configs
        aside) renders the same code, which behaves the same. None otherwise."""
        index = self.model_position.get(config.key)
        if index is None or _without_configs(self.backend.pattern_configs[index]) != _without_configs(config):
            return None
        return tuple((name, value) for name, value in self.described(index).fields if name != "dtype_configs")

    def extends(self, spec_dir: Path) -> str:
        """How a spec in ``spec_dir`` names this base in ``extends``."""
        if self.location is None:
            return self.reference
        return Path(os.path.relpath(os.path.abspath(self.location), os.path.abspath(spec_dir))).as_posix()


def _without_configs(config: PatternConfig) -> PatternConfig:
    return replace(config, dtype_configs=(), origin=Origin("", ""))


def load_base(reference: str, names: PublicNames) -> Base:
    """Load the spec ``reference``; ExtractError if it is not a valid backend spec.
    Its keys are described from the objects its symbols name (imported, not built)."""
    loader = Loader()
    try:
        backend = loader.load(reference)
    except SpecError as error:
        first = error.problems[0] if error.problems else "it does not load"
        raise ExtractError(f"--base {reference}: not a valid backend spec: {first}") from None
    location = None if reference.startswith(BUILTIN_PREFIX) else Path(reference)
    keys = tuple(describe_key(_live(config.key), names) for config in backend.pattern_configs)
    return Base(reference, location, backend, loader, keys, names)


def _live(pattern: Any) -> Any:
    """A model pattern key as the live key: the objects its symbols name."""
    if isinstance(pattern, tuple):
        return tuple(_live(item) for item in pattern)
    if isinstance(pattern, MethodName):
        return pattern.name
    return _resolved(pattern.path)


@functools.cache
def _resolved(path: str) -> Any:
    module, _, name = path.rpartition(".")
    try:
        with running_user_code():
            return getattr(importlib.import_module(module), name)
    except Exception:  # noqa: BLE001 - a symbol the installed packages lack
        return MissingObject(path)


def build(backend: Backend, label: str) -> Any:
    """The BackendConfig ``backend``'s generated module builds, from its unformatted
    source (black changes no behaviour)."""
    rendered = render(backend, [f"built for an extraction: {label}"])
    entries = "".join(f"{source},\n" for _, source in rendered.entries)
    source = unformatted_module(rendered).replace(f"{ENTRIES_MARKER},\n", entries)
    with running_user_code():
        run = run_generated_source(source, f"<{label}>", f"_backendconfig_gen_extract_{next(_MODULE_NUMBER)}")
        return getattr(run.module, backend.getter)()


@functools.cache
def builtin_base(reference: str, names: PublicNames) -> Base:
    """A builtin spec, loaded once per process."""
    return load_base(reference, names)


def builtin_specs() -> list[str]:
    """The builtin backend specs, in name order."""
    return [name for name in builtin_names() if "/" not in name.removeprefix(BUILTIN_PREFIX)]


def kept_prefix(patterns: list[LivePattern], base: Base) -> int:
    """How many patterns, from the first, are the base's in the base's order (each a
    later one of the base's than the one before): they are the base's patterns the
    extending spec keeps; every other pattern comes after them."""
    last = -1
    for number, pattern in enumerate(patterns):
        index = base.position.get(pattern.key)
        if index is None or index <= last:
            return number
        last = index
    return len(patterns)


def edits_estimate(patterns: list[LivePattern], name: Any, base: Base) -> int:
    """How many edits a delta against ``base`` makes, from keys and dtype config
    values alone: patterns removed, patterns added after the kept ones, distinct
    dtype config changes of kept patterns, and the backend's name."""
    kept = kept_prefix(patterns, base)
    changes = set()
    for pattern in patterns[:kept]:
        configs = base.backend.pattern_configs[base.position[pattern.key]].dtype_configs
        old = tuple(value_of(config) for config in configs)
        new = tuple(value_of(config) for config in pattern.dtype_configs)
        if old != new:
            changes.add((tuple(config.name for config in configs), new))
    removed = len(base.keys) - kept
    return removed + (len(patterns) - kept) + len(changes) + int(name != base.backend.name)


def nearest_builtin(patterns: list[LivePattern], name: Any, names: PublicNames) -> Base | None:
    """The builtin spec with the fewest estimated edits (the first by name on a tie)."""
    best: tuple[int, Base] | None = None
    for reference in builtin_specs():
        try:
            base = builtin_base(reference, names)
        except ExtractError:  # pragma: no cover - a builtin spec always loads
            continue
        estimate = edits_estimate(patterns, name, base)
        if best is None or estimate < best[0]:
            best = (estimate, base)
    return None if best is None else best[1]
