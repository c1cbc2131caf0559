"""The names a generated module binds: its imports (with the short aliases torch's
own backend files use), its constants, helpers and getter; and the names its code
relies on, which no spec name may take: Python's builtins and dunder names, the
locals of its functions, and, for a declared fuser's arguments, every name the
fuser's body reads.

Both the loader (to report a spec name that would collide) and the renderer (to
write each symbol) use the one plan made here.
"""

from __future__ import annotations

import builtins
import sys
from dataclasses import dataclass

from .model import ArgumentShape, Backend, FuserDef, NamedFuser, NodeAt, NodesAt, SequentialFuser, Symbol
from .qconfig_model import module_names

BACKEND_CONFIG_MODULE = "torch.ao.quantization.backend_config"
BACKEND_CONFIG_NAMES = ("BackendConfig", "BackendPatternConfig", "DTypeConfig", "DTypeWithConstraints", "ObservationType")
# What a module with QConfigMappings imports from torch.ao.quantization.
QCONFIG_MODULE = "torch.ao.quantization"
QCONFIG_NAMES = ("QConfig", "QConfigMapping")

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
    # Observer and fake-quantize classes, as torch's qconfig.py imports them.
    "torch.ao.quantization.observer",
    "torch.ao.quantization.fake_quantize",
)
# Names the module's own helpers and typing imports take.
HELPER_NAMES = ("_sequential_fuser", "_node_at", "_nodes_at")
FIXED_NAMES = ("importlib", "Any", "Callable", "torch", "operator", *BACKEND_CONFIG_NAMES, *QCONFIG_NAMES)
# Python's builtins: the module's own code uses some (tuple, list and bool in
# annotations, type, AssertionError and NotImplementedError in fusers), and a
# module-level name that shadows one is a lint finding (ruff A001) even where it
# breaks nothing yet. The names site adds are listed too, so that the set is the
# same under python -S.
BUILTIN_NAMES = frozenset(dir(builtins)) | {"copyright", "credits", "exit", "help", "license", "quit"}
# The names a declared fuser's body binds besides its arguments (the template's
# `def _NAME(is_qat: bool, ...)` and `fused_module: ... = ...`).
FUSER_LOCALS = ("is_qat", "fused_module")
# The names the template binds inside the module's functions, by function. The
# getter reads module-level names (every dtype config), so a spec name that is one
# of its locals is unbound there; none of them is left to a spec, so that no
# template change can turn a spec name into a broken module (a test checks this
# list against what the template binds).
TEMPLATE_LOCALS = {
    "the getter": ("configs",),
    "_sequential_fuser": ("fused_module_class", "fuser_method", "is_qat", "module1", "module2"),
    "_node_at": ("path", "root_node_getter", "pattern", "index"),
    "_nodes_at": ("paths", "extra_inputs_getter", "pattern"),
    "each declared fuser": FUSER_LOCALS,
}


def fuser_function(name: str) -> str:
    """The function a [fusers.NAME] table becomes."""
    return f"_{name}"


def is_dunder(name: str) -> bool:
    """A name Python reserves for itself (__name__, __all__, __doc__, ...)."""
    return name.startswith("__") and name.endswith("__")


def reserved_names() -> dict[str, str]:
    """Name -> what takes it, for every name a spec may not give to anything the
    module binds at module level, whatever the spec uses (besides imports, see
    collisions): builtins, and the locals of the module's functions."""
    reserved = {name: "a Python builtin" for name in BUILTIN_NAMES}
    for function, names in TEMPLATE_LOCALS.items():
        for name in names:
            reserved.setdefault(name, f"a local variable of {function}")
    return reserved


_RESERVED = reserved_names()


@dataclass(frozen=True)
class Parameter:
    """A name a declared fuser binds from its arguments: each argument's own
    name, and the parameter a nested argument is passed as (unpacked in the body)."""

    name: str
    path: tuple[int, ...]  # where the argument is in `arguments`: indexes, outermost first
    nested: tuple[ArgumentShape, ...] | None  # the nested argument this parameter stands for


def parameter_name(argument: ArgumentShape) -> str:
    """The parameter an argument is passed as: a nested one, as its parts joined by _."""
    if isinstance(argument, str):
        return argument
    return "_".join(parameter_name(item) for item in argument)


def fuser_parameters(arguments: tuple[ArgumentShape, ...], path: tuple[int, ...] = ()) -> list[Parameter]:
    """Every name the fuser's arguments bind, in order."""
    found = []
    for index, argument in enumerate(arguments):
        where = (*path, index)
        if isinstance(argument, tuple):
            found.append(Parameter(parameter_name(argument), where, argument))
            found.extend(fuser_parameters(argument, where))
        else:
            found.append(Parameter(argument, where, None))
    return found


def fuser_reserved_names() -> dict[str, str]:
    """Name -> what takes it, for the names a fuser's arguments may not have in
    any module: the builtins its body reads (type, AssertionError, ...; all of
    them, as ruff's A002 asks) and the body's own names."""
    reserved = {name: "a Python builtin" for name in BUILTIN_NAMES}
    reserved.update({name: "a local variable of the fuser's body" for name in FUSER_LOCALS})
    reserved["is_qat"] = "the fuser's is_qat parameter"
    return reserved


def argument_problems(arguments: tuple[ArgumentShape, ...], taken: dict[str, str]) -> list[tuple[tuple[int, ...], str]]:
    """(path of the argument, message) for each name the arguments bind twice
    (once the names of nested arguments are derived) or that ``taken`` holds.
    Two plain arguments of one name are left to the caller (reported once, as
    named twice)."""
    problems = []
    seen: dict[str, Parameter] = {}
    for parameter in fuser_parameters(arguments):
        name = parameter.name
        first = seen.setdefault(name, parameter)
        if name in taken:
            if parameter.nested is None:
                problems.append((parameter.path, f"argument {name!r} is taken by {taken[name]}; expected another argument name"))
            else:
                problems.append((parameter.path, f"{_nested(parameter)} is passed as {name!r}, which is taken by {taken[name]}; expected other argument names"))
        elif first is not parameter and (first.nested is not None or parameter.nested is not None):
            if parameter.nested is None:
                problems.append((parameter.path, f"argument {name!r} is also the name {_nested(first)} is passed as; expected another argument name"))
            elif first.nested is None:
                problems.append((first.path, f"argument {name!r} is also the name {_nested(parameter)} is passed as; expected another argument name"))
            else:
                problems.append((parameter.path, f"{_nested(first)} and {_nested(parameter)} are both passed as {name!r}; expected other argument names"))
    return problems


def _nested(parameter: Parameter) -> str:
    where = "".join(f"[{index}]" for index in parameter.path)
    return f"the nested argument {_shape(parameter.nested)} (arguments{where})"


def _shape(argument: ArgumentShape | None) -> str:
    if isinstance(argument, tuple):
        return f"[{', '.join(_shape(item) for item in argument)}]"
    return repr(argument)


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
    found += [symbol for mapping in backend.qconfig_mappings for symbol in mapping.symbols()]
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
    else in the module binds too, or that Python or the module's code needs
    (builtins, dunder names, the locals of its functions)."""
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
        needed = bound_otherwise.get(root) or _needed(root)
        if needed is not None:
            problems.append((root, f"allowed root {root!r} is also the name of {needed}; expected a top-level package the module binds no other way"))
    seen: dict[str, str] = {}
    for name, what in _all_spec_names(backend):
        if name in roots:
            continue  # reported above, where the root is listed
        needed = taken.get(name) or _needed(name)
        if needed is not None:
            problems.append((name, f"name {name!r} of {what} is taken by {needed}; expected another name"))
        elif name in seen and seen[name] != what:
            problems.append((name, f"{what} and {seen[name]} are both named {name!r}; expected a name of its own"))
        else:
            seen[name] = what
    return problems


def _needed(name: str) -> str | None:
    """What takes ``name`` whatever the spec uses, or None."""
    if is_dunder(name):
        return "Python's own module attributes (dunder names such as __name__ and __all__)"
    return _RESERVED.get(name)


def fuser_argument_collisions(backend: Backend) -> list[tuple[FuserDef, tuple[int, ...], str]]:
    """(fuser, path of the argument, message) for each argument of a declared
    fuser that a module-level name takes: its body reads module-level names
    (imports, aliases, helpers) and an argument of that name would hide one.
    What no module can give an argument (builtins, the body's locals, a name bound
    twice) is refused where the fuser is read (see fusers.py)."""
    plan = plan_imports(used_symbols(backend))
    bound = {name: "one of the module's own imports or helpers" for name in (*FIXED_NAMES, *HELPER_NAMES)}
    bound.update({alias: f"an import alias (import {module} as {alias})" for module, alias in ALIASES.items()})
    bound.update({name: f"an import ({line})" for name, line in plan.bound.items()})
    bound.update({name: what for name, what in _all_spec_names(backend)})
    return [(fuser, path, message) for fuser in backend.fusers for path, message in argument_problems(fuser.arguments, bound)]


def _all_spec_names(backend: Backend) -> list[tuple[str, str]]:
    found = [(backend.getter, "the getter")]
    found += [(c.name, f"constraints {c.name!r}") for c in backend.constraints if c.name]
    found += [(c.name, f"dtype config {c.name!r}" if c.base is None else f"the dtype config derived from {c.base!r} with {c.activation_constraints!r}") for c in backend.dtype_configs]
    found += [(fuser_function(f.name), f"the function of fuser {f.name!r}") for f in backend.fusers]
    found += [(name, what) for name, what, _ in module_names(backend.qconfig_mappings)]
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
