"""Whether an extracted spec regenerates the live config exactly (needs torch).

The spec is loaded by the generator's loader (from a temporary copy: a relative
``extends`` is written as the base's absolute path there), its module rendered and
run, and every pattern described by the engine that described the live config:
the same name, the same patterns in the same order, every field equal, the same
dtype config values. A delta that does not pass is never written.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import tomlkit

from ..compare.describe import describe_key
from ..compare.differ import same
from ..compare.public_names import PublicNames
from ..errors import SpecError
from ..loader import load_backend
from .bases import Base, build
from .dtypes import model_config, value_of
from .groups import described_fields
from .matching import LivePattern


def mismatch(text: str, base: Base, name: Any, patterns: list[LivePattern], names: PublicNames) -> str | None:
    """None when ``text`` regenerates the config, else what differs first. A pattern
    the spec has as the base has it (dtype configs aside) is known by the base's
    description: its callables are not run a second time."""
    document = tomlkit.parse(text)
    if base.location is not None:
        document["extends"] = str(base.location.resolve())
    with tempfile.TemporaryDirectory(prefix="backendconfig-gen-extract-") as directory:
        spec = Path(directory) / "extracted.toml"
        spec.write_text(tomlkit.dumps(document), encoding="utf-8")
        try:
            backend = load_backend(spec)
        except SpecError as error:
            return f"it does not load: {error.problems[0] if error.problems else error}"
    try:
        config = build(backend, "the extracted spec")
    except Exception as error:  # noqa: BLE001 - reported as a mismatch, the spec is not written
        return f"its module does not build: {type(error).__name__}: {error}"
    if config.name != name:
        return f"backend name {config.name!r}, expected {name!r}"
    items = list(config._pattern_complex_format_to_config.items())
    if len(items) != len(patterns) or len(backend.pattern_configs) != len(patterns):
        return f"{len(items)} patterns, expected {len(patterns)}"
    for index, ((key, pattern_config), pattern, model) in enumerate(zip(items, patterns, backend.pattern_configs)):
        if not same(describe_key(key, names), pattern.key):
            return f"configs[{index}] is another pattern"
        fields = base.fields_of(model)
        if fields is None:
            fields = described_fields(pattern_config, key, names)[1]
        if not same(fields, pattern.fields):
            return f"configs[{index}] has other fields"
        values = [value_of(model_config(c, f"configs[{index}]")) for c in pattern_config.dtype_configs]
        if values != [value_of(c) for c in pattern.dtype_configs]:
            return f"configs[{index}] has other dtype configs"
    return None
