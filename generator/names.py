"""The names a generated module binds: its imports (with the short aliases torch's
own backend files use), its constants, helpers and getter.

Both the loader (to report a spec name that would collide) and the renderer (to
write each symbol) use the one plan made here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .model import Backend, NamedFuser, NodeAt, NodesAt, SequentialFuser, Symbol

BACKEND_CONFIG_MODULE = "torch.ao.quantization.backend_config"
BACKEND_CONFIG_NAMES = ("BackendConfig", "BackendPatternConfig", "DTypeConfig", "DTypeWithConstraints", "ObservationType")

# Modules imported under a short alias, as torch's backend_config files do.
ALIASES = {
    "torch.nn": "nn",
    "torch.nn.functional": "F",
    "torch.ao.nn.intrinsic": "nni",
    "torch.ao.nn.intrinsic.qat": "nniqat",
    "torch.ao.nn.intrinsic.quantized": "nniq",
    "torch.ao.nn.qat": "nnqat",
    "torch.ao.nn.quantized": "nnq",
    "torch.ao.nn.quantized.dynamic": "nnqd",
    "torch.ao.nn.quantized.reference": "nnqr",
}
# Modules whose names are imported one by one (functions and classes a module uses
# by their own name in torch's code, e.g. fuse_conv_bn, MatchAllNode).
FROM_IMPORTED = (
    "torch.ao.quantization.fuser_method_mappings",
    "torch.ao.quantization.utils",
    "torch.nn.utils.fusion",
)
# Names the module's own helpers and typing imports take.
HELPER_NAMES = ("_sequential_fuser", "_node_at", "_nodes_at")
FIXED_NAMES = ("importlib", "Any", "Callable", "torch", "operator", *BACKEND_CONFIG_NAMES)


def fuser_function(name: str) -> str:
    """The function a [fusers.NAME] table becomes."""
    return f"_{name}"


@dataclass(frozen=True)
class ImportPlan:
    expressions: dict[str, str]  # symbol path -> how the module writes it
    plain: tuple[str, ...]  # `import X` lines
    aliased: tuple[tuple[str, str], ...]  # `import X as Y`
    from_imports: tuple[tuple[str, tuple[str, ...]], ...]  # `from X import a, b`
    bound: dict[str, str]  # name bound by an import -> what binds it

    def expression(self, symbol: Symbol) -> str:
        return self.expressions[symbol.path]


def used_symbols(backend: Backend) -> list[Symbol]:
    found = [symbol for config in backend.pattern_configs for symbol in config.symbols()]
    found += [symbol for fuser in backend.fusers for symbol in fuser.symbols()]
    return found


def plan_imports(symbols: list[Symbol]) -> ImportPlan:
    """How each symbol is imported and written. A from-imported name that two
    modules share is written by its module path instead."""
    expressions: dict[str, str] = {}
    plain: set[str] = {"torch"}
    aliased: dict[str, str] = {}
    wanted: dict[str, set[str]] = {}
    by_name: dict[str, set[str]] = {}
    for symbol in dict.fromkeys(symbols):
        if symbol.module in FROM_IMPORTED:
            by_name.setdefault(symbol.name, set()).add(symbol.module)
    for symbol in dict.fromkeys(symbols):
        module = symbol.module
        if module in ALIASES:
            aliased[module] = ALIASES[module]
            expressions[symbol.path] = f"{ALIASES[module]}.{symbol.name}"
        elif module in FROM_IMPORTED and len(by_name[symbol.name]) == 1:
            wanted.setdefault(module, set()).add(symbol.name)
            expressions[symbol.path] = symbol.name
        else:
            plain.add(module)
            expressions[symbol.path] = symbol.path
    # `import torch.nn as nn` is written `from torch import nn`, as linters prefer.
    for module, alias in list(aliased.items()):
        parent, _, last = module.rpartition(".")
        if alias == last:
            del aliased[module]
            wanted.setdefault(parent, set()).add(alias)
    bound = {name: f"import {module} as {name}" for module, name in aliased.items()}
    bound.update({module.split(".")[0]: f"import {module}" for module in plain})
    bound.update({name: f"from {module} import {name}" for module, names in wanted.items() for name in names})
    return ImportPlan(
        expressions=expressions,
        plain=tuple(sorted(plain)),
        aliased=tuple(sorted(aliased.items())),
        from_imports=tuple((module, tuple(sorted(names))) for module, names in sorted(wanted.items())),
        bound=bound,
    )


def collisions(backend: Backend) -> list[tuple[str, str]]:
    """(name, message) for each module-level name the spec chooses that something
    else in the module binds too."""
    plan = plan_imports(used_symbols(backend))
    taken = {name: "the module's own imports or helpers" for name in (*FIXED_NAMES, *HELPER_NAMES)}
    taken.update({name: f"an import ({line})" for name, line in plan.bound.items()})
    problems = []
    roots = set(backend.allowed_roots)
    # A root is imported as itself (`import root.module`): no other binding of the
    # module may have its name, whether or not a symbol under it is used yet.
    own_modules = ("importlib", "torch", "operator")  # bound to the module of that very name
    bound_otherwise = {name: "one of the module's own imports or helpers" for name in (*FIXED_NAMES, *HELPER_NAMES) if name not in own_modules}
    bound_otherwise.update({alias: f"an import alias (import {module} as {alias})" for module, alias in ALIASES.items()})
    bound_otherwise.update({name: f"an import (from {module} import {name})" for module, names in plan.from_imports for name in names})
    bound_otherwise.update({name: what for name, what in _all_spec_names(backend)})
    for root in backend.allowed_roots:
        if root in bound_otherwise:
            problems.append((root, f"allowed root {root!r} is also the name of {bound_otherwise[root]}; expected a top-level package the module binds no other way"))
    seen: dict[str, str] = {}
    for name, what in _all_spec_names(backend):
        if name in roots:
            continue  # reported above, where the root is listed
        if name in taken:
            problems.append((name, f"name {name!r} of {what} is taken by {taken[name]}; expected another name"))
        elif name in seen and seen[name] != what:
            problems.append((name, f"{what} and {seen[name]} are both named {name!r}; expected a name of its own"))
        else:
            seen[name] = what
    return problems


def _all_spec_names(backend: Backend) -> list[tuple[str, str]]:
    found = [(backend.getter, "the getter")]
    found += [(c.name, f"constraints {c.name!r}") for c in backend.constraints if c.name]
    found += [(c.name, f"dtype config {c.name!r}" if c.base is None else f"the dtype config derived from {c.base!r} with {c.activation_constraints!r}") for c in backend.dtype_configs]
    found += [(fuser_function(f.name), f"the function of fuser {f.name!r}") for f in backend.fusers]
    return found


def needs_helpers(backend: Backend) -> dict[str, bool]:
    configs = backend.pattern_configs
    return {
        "sequential_fuser": any(isinstance(c.fuser_method, SequentialFuser) for c in configs),
        "node_at": any(isinstance(c.root_node_getter, NodeAt) or isinstance(c.extra_inputs_getter, NodeAt) for c in configs),
        "nodes_at": any(isinstance(c.root_node_getter, NodesAt) or isinstance(c.extra_inputs_getter, NodesAt) for c in configs),
        "named_fusers": any(isinstance(c.fuser_method, NamedFuser) for c in configs),
    }


def is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names
