"""Name the objects of a live pattern config as the spec format writes them (needs torch).

A symbol is named by its public dotted path (the comparison engine's names). A
callable is recognized by what it does, run as FX runs it (compare/behaviour.py):

- a fuser that behaves as ``{sequential = FUSED}`` (returns FUSED(m1, m2), ignoring
  is_qat), or as a [fusers.NAME] declaration of the shared catalog;
- a root node getter that returns the node at a fixed position -> ``{node_at}``, an
  extra inputs getter that returns nodes at fixed positions -> ``{nodes_at}``.

Only callables torch defines (its private fusers and getters) and callables that
cannot be imported are recognized so: a probe shows what a callable does with the
arguments FX passes, not with every argument, so a user's own importable function
(which may check a bias, a shape, a flag) is always referenced by its import path
(``module.function``), with a warning naming it. A closure or lambda of the user's
that behaves as a declaration is written as that declaration, with a warning; one
that does not is refused, as it cannot be imported.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable

import torch.fx

from ..checks import DEFAULT_ROOTS, is_identifier
from ..compare.behaviour import fuser_behaviour, getter_behaviour
from ..compare.differ import same
from ..compare.public_names import PublicNames
from ..user_code import running_user_code
from .groups import SharedCatalog
from .live import ExtractError


class Namer:
    """Names objects for one extraction; collects its warnings and extra roots."""

    def __init__(self, names: PublicNames, shared: SharedCatalog):
        self.names = names
        self.shared = shared
        self.warnings: list[str] = []
        self.roots: set[str] = set()

    # -- symbols ---------------------------------------------------------------

    def symbol(self, value: Any, where: str) -> str:
        """The public dotted path of a class or function, else its import path."""
        public = self.names.public_name(value)
        return public if public is not None else self.import_path(value, where)

    def import_path(self, value: Any, where: str) -> str:
        """``module.name`` of a module-level function or class, checked by importing it."""
        module = getattr(value, "__module__", None)
        qualname = getattr(value, "__qualname__", None) or getattr(value, "__name__", None)
        shown = f"{module}.{qualname}" if module and qualname else repr(value)
        if qualname is None or module is None:
            raise ExtractError(f"{where}: {shown} has no import path (not a function or class); expected a module-level function")
        if qualname == "<lambda>" or "<lambda>" in qualname:
            raise ExtractError(f"{where}: {shown} is a lambda, which cannot be imported; define it as a module-level function")
        if "<locals>" in qualname:
            raise ExtractError(f"{where}: {shown} is defined inside a function (a closure), which cannot be imported; define it at module level")
        parts = f"{module}.{qualname}".split(".")
        if parts[0] == "torch" and any(part.startswith("_") for part in parts):
            raise ExtractError(f"{where}: {shown} is private to torch and has no public path the spec can name")
        if "." in qualname or module == "__main__" or not all(is_identifier(part) for part in f"{module}.{qualname}".split(".")):
            raise ExtractError(f"{where}: {shown} cannot be imported by a generated module; expected a module-level function of an importable module")
        try:
            with running_user_code():
                found = getattr(importlib.import_module(module), qualname, None)
        except Exception:  # noqa: BLE001
            found = None
        if found is not value:
            raise ExtractError(f"{where}: {shown} is not what importing {module}.{qualname} gives; expected a module-level function")
        root = module.split(".")[0]
        if root not in DEFAULT_ROOTS:
            self.roots.add(root)
        return f"{module}.{qualname}"

    def own_callable(self, value: Any, field: str, where: str) -> str:
        """A callable the format cannot express: its import path, and a warning."""
        path = self.symbol(value, f"{where}: {field}")
        if self.names.public_name(value) is None:
            root = path.split(".")[0]
            extra = f" (allowed_roots lists {root!r})" if root not in DEFAULT_ROOTS else ""
            self.warnings.append(
                f"{where}: {field} {path} is a function of your own, which the spec format cannot express: "
                f"the spec names it by its import path{extra}, the generated module imports it, "
                "and diff compares it by what it does"
            )
        return path

    # -- fusers ----------------------------------------------------------------

    def fuser(self, pattern_config: Any, key: Any, where: str) -> Any:
        fuser = pattern_config.fuser_method
        attributes = vars(pattern_config)
        complex_format = attributes.get("_pattern_complex_format")
        pattern = attributes.get("pattern")
        forward = complex_format is None and isinstance(pattern, tuple)
        public = self.names.public_name(fuser)
        if public is not None:
            return public
        if self.keeps_its_name(fuser, "fuser_method", where):
            return self.own_callable(fuser, "fuser_method", where)
        live = fuser_behaviour(fuser, key, forward, self.names)
        if live.outcomes is not None:
            fused = attributes.get("fused_module")
            if forward and len(pattern) == 2 and fused is not None:
                if same(live, self.behaviour_of(self.shared.sequential_fuser(fused), key, forward)):
                    return self.recognized(fuser, "fuser_method", where, {"sequential": self.symbol(fused, f"{where}: fused_module")})
            shape = _shape(complex_format if complex_format is not None else pattern)
            for name, definition in self.shared.fuser_defs.items():
                if _shape(definition.arguments) == shape and same(live, self.behaviour_of(self.shared.fuser(name), key, forward)):
                    return self.recognized(fuser, "fuser_method", where, {"fuser": name})
        return self.own_callable(fuser, "fuser_method", where)

    def behaviour_of(self, fuser: Callable, key: Any, forward: bool) -> Any:
        return fuser_behaviour(fuser, key, forward, self.names)

    def keeps_its_name(self, value: Any, field: str, where: str) -> bool:
        """Whether ``value`` is the user's own importable function: written by its
        import path, never replaced by a declaration that merely behaves alike."""
        if _defined_by_torch(value):
            return False
        try:
            self.import_path(value, f"{where}: {field}")  # imports it: own_callable then finds it in sys.modules
        except ExtractError:
            return False
        return True

    def recognized(self, value: Any, field: str, where: str, declaration: dict[str, Any]) -> dict[str, Any]:
        """``declaration`` for a callable that behaves as it; a warning when the
        callable is the user's (a closure or lambda), whose behaviour on other
        arguments no probe can show."""
        if not _defined_by_torch(value):
            written = ", ".join(f"{key} = {value!r}" for key, value in declaration.items()).replace("'", '"')
            self.warnings.append(
                f"{where}: {field} {self.names.name_of(value)} cannot be imported (a closure or lambda); "
                f"written as {{{written}}}, which does the same with the arguments FX passes: "
                "check that it does on your models too"
            )
        return declaration

    # -- node getters ----------------------------------------------------------

    def root_node_getter(self, getter: Any, key: Any, where: str) -> Any:
        field = "root_node_getter"
        paths = None if self.keeps_its_name(getter, field, where) else _probe(getter, key)
        if paths is not None and len(paths) == 1 and not paths[0][1]:
            candidate = self.shared.node_at(paths[0][0])
            if same(getter_behaviour(getter, key, self.names), getter_behaviour(candidate, key, self.names)):
                return self.recognized(getter, field, where, {"node_at": list(paths[0][0])})
        return self.own_callable(getter, field, where)

    def extra_inputs_getter(self, getter: Any, key: Any, where: str) -> Any:
        field = "extra_inputs_getter"
        paths = None if self.keeps_its_name(getter, field, where) else _probe(getter, key)
        if paths and all(in_list for _, in_list in paths):
            candidate = self.shared.nodes_at(tuple(path for path, _ in paths))
            if same(getter_behaviour(getter, key, self.names), getter_behaviour(candidate, key, self.names)):
                return self.recognized(getter, field, where, {"nodes_at": [list(path) for path, _ in paths]})
        return self.own_callable(getter, field, where)


def _defined_by_torch(value: Any) -> bool:
    """Whether torch defines ``value`` (a function, closure or partial of torch's)."""
    value = getattr(value, "func", value)  # functools.partial
    module = getattr(value, "__module__", None) or ""
    return module == "torch" or module.startswith("torch.")


def _shape(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_shape(item) for item in value)
    return "*"


def _probe(getter: Any, key: Any) -> list[tuple[tuple[int, ...], bool]] | None:
    """Call a node getter with placeholder nodes shaped like ``key``: the positions it
    returns, each with whether it came in a list; None when it returns anything else."""
    graph = torch.fx.Graph()
    positions: dict[torch.fx.Node, tuple[int, ...]] = {}

    def tagged(element: Any, path: tuple[int, ...]) -> Any:
        if isinstance(element, tuple):
            return tuple(tagged(item, (*path, index)) for index, item in enumerate(element))
        node = graph.placeholder(f"n{len(positions)}")
        positions[node] = path
        return node

    structure = tagged(key, ())
    try:
        with running_user_code():
            result = getter(structure)
    except Exception:  # noqa: BLE001 - a getter that needs more than positions is named, not probed
        return None
    if isinstance(result, torch.fx.Node) and result in positions:
        return [(positions[result], False)]
    if isinstance(result, list) and all(isinstance(item, torch.fx.Node) and item in positions for item in result):
        return [(positions[item], True) for item in result]
    return None
