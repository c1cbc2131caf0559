"""Run a generated module's source even where the installed torch lacks a symbol it names.

A generated module refers to torch only through ``import a.b`` statements and
dotted names (``torch.nn.Conv2d``). Before running it, each dotted name that does
not resolve is replaced by a named stand-in (a MissingObject), and each import that
fails is dropped, so one missing symbol does not stop the comparison of everything
else: the stand-in shows up in the report as ``torch.nn.Foo (missing)``.
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
    failed_imports = _failed_imports(tree)
    roots = _import_roots(tree)
    unresolved: list[Unresolved] = []
    stand_ins: dict[str, str] = {}
    named: dict[str, Any] = {}

    class StandIn(ast.NodeTransformer):
        def visit_Import(self, node: ast.Import):
            kept = [alias for alias in node.names if alias.name not in failed_imports]
            if not kept:
                return ast.Pass()
            node.names = kept
            return node

        def visit_Attribute(self, node: ast.Attribute):
            dotted = _dotted(node)
            if dotted is None or dotted.split(".")[0] not in roots:
                return self.generic_visit(node)
            value, problem = _resolve(dotted)
            if problem is None:
                named.setdefault(dotted, value)
                return node
            if dotted not in stand_ins:
                stand_ins[dotted] = f"{_STAND_IN_PREFIX}{len(stand_ins)}"
                unresolved.append(Unresolved(dotted, node.lineno, problem))
            return ast.copy_location(ast.Name(stand_ins[dotted], ast.Load()), node)

    tree = ast.fix_missing_locations(StandIn().visit(tree))
    # A module that cannot be imported is reported through the symbols taken from
    # it; on its own only when the code names none of them.
    for name, (line, problem) in failed_imports.items():
        if not any(path.startswith(f"{name}.") for path in stand_ins):
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


def _failed_imports(tree: ast.Module) -> dict[str, tuple[int, str]]:
    failed = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                try:
                    importlib.import_module(alias.name)
                except ImportError as error:
                    failed[alias.name] = (node.lineno, f"cannot import {alias.name} ({error})")
    return failed


def _import_roots(tree: ast.Module) -> set[str]:
    """Top-level names bound by ``import a.b.c`` statements: where dotted symbols start."""
    return {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }


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
