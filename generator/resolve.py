"""Resolve the symbols a spec names against the installed Python packages.

Generation never imports what a spec names; ``--resolve``, ``--verify`` and the
tests do, through this module: ``resolution`` in the child process (the modules a
spec names are the user's code, see isolation.py), ``missing_symbols`` in the parent.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from .child_limits import Limits
from .isolation import run_each
from .model import Backend, Origin, Symbol
from .user_code import running_user_code


def resolve(symbol: Symbol) -> Any:
    """The object a symbol names; ImportError or AttributeError when there is none."""
    module = importlib.import_module(symbol.module)
    return getattr(module, symbol.name)


def problem(symbol: Symbol) -> str | None:
    """Why ``symbol`` does not resolve, or None when it does."""
    try:
        with running_user_code(f"importing {symbol.module}"):
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


def resolution(path: str) -> list[str] | None:
    """Whether the symbol ``path`` resolves, as JSON data: None when it does,
    ``["absent", root]`` when its top-level package is not installed, else
    ``["problem", why]`` (in the child process)."""
    symbol = Symbol(path)
    root = symbol.module.split(".")[0]
    if importlib.util.find_spec(root) is None:
        return ["absent", root]
    found = problem(symbol)
    return None if found is None else ["problem", found]


def missing_symbols(backends: list[Backend], limits: Limits) -> list[str]:
    """Each symbol that does not resolve, with the spec file and key that name it; a
    top-level package that is not installed at all is one message per spec, not one
    per symbol. The symbols of every spec are imported in one child process; one
    whose import ends it is reported with how."""
    paths = list(dict.fromkeys(path for backend in backends for path in symbol_origins(backend)))
    run = run_each("resolve", paths, limits)
    resolved = dict(zip(paths, run.results))
    missing = []
    for backend in backends:
        absent: set[str] = set()
        for path, origin in symbol_origins(backend).items():
            if path not in resolved:
                continue  # not done: the child stopped (below)
            answer, failure = resolved[path]
            where = f"{origin.file}: {origin.key}: {path}"
            if failure is not None:
                missing.append(f"{where}: {failure.detail}")
            elif answer is None:
                continue
            elif not (isinstance(answer, list) and len(answer) == 2 and answer[0] in ("absent", "problem") and isinstance(answer[1], str)):
                missing.append(f"{where}: the child process answered {str(answer)[:80]!r}, not a resolution")
            elif answer[0] == "problem":
                missing.append(f"{where}: {answer[1]}")
            elif answer[1] not in absent:
                absent.add(answer[1])
                missing.append(f"{where}: {answer[1]} is not installed; resolving a spec's symbols needs it importable here")
    if run.stopped is not None:
        missing.append(run.stopped.line("--resolve"))
    return missing
