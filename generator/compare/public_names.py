"""Name a torch object by its public dotted path, the way a spec names it (needs torch).

Note [Naming objects in a comparison]
Torch stores what it was given: ``torch._C._nn.gelu`` (which is
``torch.nn.functional.gelu``), ``torch.nn.modules.conv.Conv2d`` (which is
``torch.nn.Conv2d``). Objects are looked up by identity: first among the names
the compared sides' own code uses (a spec writes ``torch.avg_pool1d`` but
``torch.nn.functional.conv1d``, though torch holds both functions under both
paths), then in torch's public modules, in PUBLIC_MODULES order. Patterns are
matched by these names, so both sides of a comparison share one PublicNames.
"""

from __future__ import annotations

import functools
import importlib
import types
from typing import Any

# Searched in this order; the first module holding an object names it. torch.nn
# and torch.nn.functional come before torch because the spec format names most
# functionals there (torch.nn.functional.conv1d is the same object as torch.conv1d);
# torch.ao.quantization.utils defines MatchAllNode, which fuser_method_mappings imports.
PUBLIC_MODULES = (
    "torch.nn",
    "torch.nn.functional",
    "torch",
    "torch.ao.nn.intrinsic",
    "torch.ao.nn.intrinsic.qat",
    "torch.ao.nn.intrinsic.quantized",
    "torch.ao.nn.intrinsic.quantized.dynamic",
    "torch.ao.nn.qat",
    "torch.ao.nn.qat.dynamic",
    "torch.ao.nn.quantizable",
    "torch.ao.nn.quantized",
    "torch.ao.nn.quantized.dynamic",
    "torch.ao.nn.quantized.reference",
    "torch.ao.quantization.utils",
    "torch.ao.quantization.fuser_method_mappings",
    "torch.ao.quantization.backend_config",
    "torch.nn.utils.fusion",
    "operator",
)


@functools.lru_cache(maxsize=1)
def _index() -> dict[int, tuple[Any, str]]:
    """id(object) -> (object, public path). The object is kept so its id stays its own."""
    index: dict[int, tuple[Any, str]] = {}
    for module_name in PUBLIC_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue  # an older or newer torch without this module
        # vars(), not dir(): only what the module already holds, so nothing lazy is imported.
        for name, value in sorted(vars(module).items()):
            if name.startswith("_") or isinstance(value, types.ModuleType):
                continue
            if not (callable(value) or isinstance(value, type)):
                continue  # constants (ints, strings) share identities with unrelated values
            index.setdefault(id(value), (value, f"{module_name}.{name}"))
    return index


class PublicNames:
    """Names for the objects of one comparison. Both sides must be named by the
    same instance: patterns are matched by the names of their objects."""

    def __init__(self) -> None:
        self._preferred: dict[int, tuple[Any, str]] = {}

    @classmethod
    def preferring(cls, *named: dict[str, Any]) -> PublicNames:
        """Names for the objects of one comparison: the paths the sides' own code
        uses (dotted path -> object; the first side's first), else torch's public
        paths; so that both sides name an object alike."""
        names = cls()
        for side in named:
            for path, value in side.items():
                names.prefer(value, path)
        return names

    def prefer(self, value: Any, path: str) -> None:
        """Name ``value`` ``path`` (a public path the side's code uses); the first
        preference for an object wins."""
        if not any(part.startswith("_") for part in path.split(".")):
            self._preferred.setdefault(id(value), (value, path))

    def public_name(self, value: Any) -> str | None:
        """The public dotted path of ``value``, or None when it has none."""
        for table in (self._preferred, _index()):
            found = table.get(id(value))
            if found is not None and found[0] is value:
                return found[1]
        return None

    def name_of(self, value: Any) -> str:
        """A dotted name for any function or class: public where possible, else where
        it is defined. A closure is named by the function that made it and what it
        closed over: ``..._sequential_wrapper2(torch.ao.nn.intrinsic.ConvReLU2d)``."""
        public = self.public_name(value)
        if public is not None:
            return public
        operator_name = _operator_name(value)
        if operator_name is not None:
            return operator_name
        module = getattr(value, "__module__", None) or ""
        qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        if qualname is None:
            return type(value).__qualname__
        outer, locals_marker, _ = qualname.partition(".<locals>.")
        closure = getattr(value, "__closure__", None)
        if locals_marker and closure:
            captured = ", ".join(self._captured(cell) for cell in closure)
            return f"{module}.{outer}({captured})" if module else f"{outer}({captured})"
        return f"{module}.{qualname}" if module else qualname

    def _captured(self, cell: Any) -> str:
        try:
            value = cell.cell_contents
        except ValueError:
            return "<empty>"
        if callable(value) or isinstance(value, type):
            return self.name_of(value)
        if isinstance(value, (bool, int, str, tuple)) and len(repr(value)) <= 40:
            return repr(value)  # a position, a name: what tells two closures of one maker apart
        return type(value).__qualname__


def _operator_name(value: Any) -> str | None:
    """``torch.ops.aten.add.Tensor`` for a dispatcher operator (an overload or its
    packet), the path code uses to reach it; None for anything else."""
    kind = type(value)
    if kind.__module__ != "torch._ops" or kind.__name__ not in ("OpOverload", "OpOverloadPacket"):
        return None
    namespace, _, operation = str(value.name() if kind.__name__ == "OpOverload" else value._qualified_op_name).partition("::")
    if kind.__name__ == "OpOverload" and "." not in operation:
        operation += ".default"
    return f"torch.ops.{namespace}.{operation}"
