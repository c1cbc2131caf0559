"""What running a spec's generated module needs to know about the spec, as data.

``--verify`` loads a spec and generates its module in the parent process, then
runs the module in the child (see isolation.py): what the child needs of the spec
travels as JSON, so that the child neither reads nor parses the spec again. It is
the module's name, its getter, the torch release the spec targets, and where the
spec names each symbol (a symbol the installed torch lacks is reported there).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..model import Backend, Origin, Symbol


@dataclass(frozen=True)
class SpecModule:
    module_name: str
    getter: str
    torch_version: str | None
    # Symbol path -> "file: key" of each spec entry naming it, in the spec's order.
    origins: dict[str, list[str]]

    @classmethod
    def of(cls, backend: Backend) -> SpecModule:
        origins = {path: [f"{o.file}: {o.key}" for o in found] for path, found in _symbol_origins(backend).items()}
        return cls(identifier(Path(backend.default_output).stem), backend.getter, backend.torch_version, origins)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SpecModule:
        return cls(data["module_name"], data["getter"], data["torch_version"], data["origins"])

    def where(self, path: str, label: str, rename: tuple[str, str] | None) -> str:
        """Where the spec names ``path`` (or a symbol below it): the first entry, and
        how many more; ``label`` when none does."""
        found = self.origins.get(path) or [o for named, found in self.origins.items() if named.startswith(f"{path}.") for o in found]
        if not found:
            return label
        where = found[0].replace(*rename) if rename else found[0]
        return where + (f" (and {len(found) - 1} more)" if len(found) > 1 else "")


def identifier(text: str) -> str:
    """``text`` as a Python identifier (a module name)."""
    cleaned = re.sub(r"\W", "_", text)
    return cleaned if cleaned.isidentifier() else f"_{cleaned}"


def _symbol_origins(backend: Backend) -> dict[str, list[Origin]]:
    """Symbol path -> the spec entries naming it, found in any field of the model."""
    origins: dict[str, list[Origin]] = {}

    def visit(value: Any, origin: Origin) -> None:
        if isinstance(value, Symbol):
            origins.setdefault(value.path, []).append(origin)
        elif isinstance(value, (tuple, list)):
            for item in value:
                visit(item, origin)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                visit(getattr(value, field.name), origin)

    for config in backend.pattern_configs:
        visit(config, config.origin)
    return origins
