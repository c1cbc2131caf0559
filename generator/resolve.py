"""Resolve the symbols a spec names against the installed Python packages.

Generation never imports what a spec names; ``--resolve``, ``--verify`` and the
tests do, through this module.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from .errors import running_user_code
from .model import Backend, Origin, Symbol


def resolve(symbol: Symbol) -> Any:
    """The object a symbol names; ImportError or AttributeError when there is none."""
    module = importlib.import_module(symbol.module)
    return getattr(module, symbol.name)


def problem(symbol: Symbol) -> str | None:
    """Why ``symbol`` does not resolve, or None when it does."""
    try:
        with running_user_code():
            module = importlib.import_module(symbol.module)
    except ImportError as error:
        return f"cannot import {symbol.module} ({error})"
    except Exception as error:  # importing a user's module may fail in any way
        return f"importing {symbol.module} fails: {type(error).__name__}: {error}"
    if not hasattr(module, symbol.name):
        return f"{symbol.module} has no attribute {symbol.name!r}"
    return None


def symbol_origins(backend: Backend) -> dict[str, Origin]:
    """Every symbol the backend names, with where it is first named."""
    found: dict[str, Origin] = {}
    for config in [*backend.pattern_configs, *(shadowed.replaced for shadowed in backend.shadowed)]:
        for symbol in config.symbols():
            found.setdefault(symbol.path, config.origin)
    for fuser in backend.fusers:
        for symbol in fuser.symbols():
            found.setdefault(symbol.path, fuser.origin)
    return found


def missing_symbols(backend: Backend) -> list[str]:
    """Each symbol that does not resolve, with the spec file and key that name it; a
    top-level package that is not installed at all is one message, not one per symbol."""
    missing = []
    absent: set[str] = set()
    for path, origin in symbol_origins(backend).items():
        symbol = Symbol(path)
        root = symbol.module.split(".")[0]
        if root in absent:
            continue
        if importlib.util.find_spec(root) is None:
            absent.add(root)
            missing.append(f"{origin.file}: {origin.key}: {path}: {root} is not installed; resolving a spec's symbols needs it importable here")
            continue
        found = problem(symbol)
        if found:
            missing.append(f"{origin.file}: {origin.key}: {path}: {found}")
    return missing
