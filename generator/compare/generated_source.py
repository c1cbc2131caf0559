"""Run a generated module's source even where the installed torch lacks a symbol it names.

A generated module refers to torch through imports (``import torch.ao.nn.intrinsic
as nni``, ``from torch import nn``, ``from torch.nn.utils.fusion import
fuse_conv_bn_eval``) and names built on them (``nni.ConvReLU2d``). Before running
it, each name whose full path does not resolve is replaced by a named stand-in (a
MissingObject), and each import that fails is dropped, so one missing symbol does
not stop the comparison of everything else: the stand-in shows up in the report as
``torch.nn.Foo (missing)``, by its full path.
"""

from __future__ import annotations

import ast
import importlib
import sys
import types
from dataclasses import dataclass
from typing import Any


class MissingObject:
    """Stands in for a symbol the installed torch lacks; fails if it is ever called."""

    def __init__(self, path: str):
        self.path = path

    def __repr__(self) -> str:
        return f"<missing {self.path}>"

    def __call__(self, *args, **kwargs):
        raise LookupError(f"{self.path} is missing from the installed torch")


@dataclass(frozen=True)
class GeneratedRun:
    """A generated module, run: what it defines, what was stood in for, and the
    object each dotted name in its code resolved to (the names it prefers)."""

    module: types.ModuleType
    unresolved: list[Unresolved]
    named: dict[str, Any]


@dataclass(frozen=True)
class Unresolved:
    """A dotted name (or an imported module) that the installed torch lacks."""

    path: str
    line: int
    problem: str


_STAND_IN_PREFIX = "__backendconfig_gen_missing_"


def run_generated_source(source: str, filename: str, module_name: str) -> GeneratedRun:
    """Execute ``source`` as a module named ``module_name``, standing in for every
    symbol that does not resolve."""
    tree = ast.parse(source, filename)
    bindings, failed_imports = _bindings(tree)
    unresolved: list[Unresolved] = []
    stand_ins: dict[str, str] = {}
    named: dict[str, Any] = {}

    def stand_in_for(full: str, node: ast.AST) -> ast.AST | None:
        """A stand-in name when ``full`` does not resolve; None when it does."""
        value, problem = _resolve(full)
        if problem is None:
            named.setdefault(full, value)
            return None
        if full not in stand_ins:
            stand_ins[full] = f"{_STAND_IN_PREFIX}{len(stand_ins)}"
            unresolved.append(Unresolved(full, getattr(node, "lineno", 0), problem))
        return ast.copy_location(ast.Name(stand_ins[full], ast.Load()), node)

    class StandIn(ast.NodeTransformer):
        def visit_Import(self, node: ast.Import):
            kept = [alias for alias in node.names if alias.name not in failed_imports]
            if not kept:
                return ast.Pass()
            node.names = kept
            return node

        def visit_ImportFrom(self, node: ast.ImportFrom):
            kept = [alias for alias in node.names if f"{node.module}.{alias.name}" not in failed_imports]
            if not kept:
                return ast.Pass()
            node.names = kept
            return node

        def visit_Attribute(self, node: ast.Attribute):
            dotted = _dotted(node)
            root = dotted.split(".")[0] if dotted else None
            if dotted is None or root not in bindings:
                return self.generic_visit(node)
            full = f"{bindings[root]}{dotted[len(root):]}"
            return stand_in_for(full, node) or node

        def visit_Name(self, node: ast.Name):
            # A name taken by a from-import: the module's own names are left alone.
            full = bindings.get(node.id)
            if not isinstance(node.ctx, ast.Load) or full is None or not _is_from_import(full, node.id):
                return node
            return stand_in_for(full, node) or node

    tree = ast.fix_missing_locations(StandIn().visit(tree))
    # A module that cannot be imported is reported through the symbols taken from
    # it; on its own only when the code names none of them.
    for name, (line, problem) in failed_imports.items():
        if name not in stand_ins and not any(path.startswith(f"{name}.") for path in stand_ins):
            unresolved.append(Unresolved(name, line, problem))
    module = types.ModuleType(module_name)
    module.__file__ = filename
    for dotted, variable in stand_ins.items():
        setattr(module, variable, MissingObject(dotted))
    # Registered while it runs, as an import would, for code that looks itself up.
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module
    try:
        exec(compile(tree, filename, "exec"), module.__dict__)
    finally:
        if previous is None:
            sys.modules.pop(module_name, None)
        else:
            sys.modules[module_name] = previous
    return GeneratedRun(module, sorted(unresolved, key=lambda item: (item.line, item.path)), named)


def resolve_problem(dotted: str) -> str | None:
    """Why ``dotted`` does not name an object of the installed torch; None when it does."""
    return _resolve(dotted)[1]


def _is_from_import(full: str, name: str) -> bool:
    return full.rpartition(".")[2] == name and "." in full


def _bindings(tree: ast.Module) -> tuple[dict[str, str], dict[str, tuple[int, str]]]:
    """Each top-level name an import binds -> the full path it stands for, and each
    import (module, or module.name of a from-import) that fails -> (line, why)."""
    bindings: dict[str, str] = {}
    failed: dict[str, tuple[int, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                bindings[bound] = alias.name if alias.asname else bound
                try:
                    importlib.import_module(alias.name)
                except ImportError as error:
                    failed[alias.name] = (node.lineno, f"cannot import {alias.name} ({error})")
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                bindings[alias.asname or alias.name] = full
                if _resolve(full)[1] is not None:
                    failed[full] = (node.lineno, _resolve(full)[1] or "")
    return bindings, failed


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a plain name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _resolve(dotted: str) -> tuple[Any, str | None]:
    """The object ``module.attribute`` names, or why it does not resolve (as the
    spec format splits a symbol)."""
    module_name, _, attribute = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        problem = f"cannot import {module_name} ({error})"
    else:
        if hasattr(module, attribute):
            return getattr(module, attribute), None
        problem = f"{module_name} has no attribute {attribute!r}"
    # Not module.attribute; maybe an attribute of an attribute (a class's method).
    parts = dotted.split(".")
    for split in range(len(parts) - 2, 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for name in parts[split:]:
            if not hasattr(value, name):
                return None, problem
            value = getattr(value, name)
        return value, None
    return None, problem
