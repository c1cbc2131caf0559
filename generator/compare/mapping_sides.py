"""The QConfigMappings of a side of ``diff`` or ``--verify`` (needs torch).

A generated module's mappings are its getters annotated to return a
QConfigMapping; a ``MODULE:FUNCTION`` side may return one instead of a
BackendConfig. Each mapping is checked before it is described: what the mapping
will do in ``prepare_fx`` must work, so that a mapping that cannot is bad input
(exit 2) rather than a difference. The checks are the ones a user meets first:
every regex compiles, and every observer and fake-quantize constructor builds
(an unknown keyword raises TypeError there, as it would in ``prepare_fx``).
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from typing import Any, Callable, Iterator

from torch.ao.quantization import QConfigMapping

from ..text import call_text
from ..user_code import doing, running_user_code
from .mapping_describe import SECTION_ATTRIBUTES, describe_qconfig_mapping
from .mapping_description import to_json
from .public_names import PublicNames


class MappingError(Exception):
    """A mapping cannot be used: one line, naming the side, the getter and the entry."""


def mapping_getters(namespace: dict[str, Any]) -> list[str]:
    """The functions a generated module exports (``__all__``) that are annotated to
    return a QConfigMapping, in the module's order."""
    return [name for name in namespace.get("__all__", None) or [] if returns_mapping(namespace.get(name))]


def returns_mapping(value: Any) -> bool:
    if not inspect.isfunction(value):
        return False
    returns = value.__annotations__.get("return")
    return getattr(returns, "__name__", returns) == "QConfigMapping"


def call_mapping_getter(function: Callable[..., Any], name: str, label: str, arguments: dict[str, Any] | None = None) -> Any:
    """``function(**arguments)``, checked to be a usable QConfigMapping (check_mapping)."""
    call = call_text(name, (arguments or {}).items())
    try:
        with running_user_code(f"calling {call}"):
            mapping = function(**(arguments or {}))
    except Exception as error:  # noqa: BLE001 - the function's own failure is bad input
        raise MappingError(f"{label}: {call} raised {type(error).__name__}: {error}") from None
    if not isinstance(mapping, QConfigMapping):
        raise MappingError(f"{label}: {call} returned {type(mapping).__name__}, not a QConfigMapping")
    with doing(f"checking {call}", subject=label):
        check_mapping(mapping, f"{label}: {call}")
    return mapping


def check_mapping(mapping: Any, where: str) -> None:
    """Raise MappingError, naming the entry, for a regex that does not compile or a
    constructor that does not build."""
    for regex in mapping.module_name_regex_qconfigs:
        try:
            re.compile(regex)
        except (re.error, TypeError) as error:
            raise MappingError(f"{where}: module_name_regexes[{regex!r}]: expected a regular expression ({error})") from None
    built: set[int] = set()
    with warnings.catch_warnings():
        # torch warns on every observer built with reduce_range; a check is no use of it.
        warnings.simplefilter("ignore")
        _build_constructors(mapping, where, built)


def _build_constructors(mapping: Any, where: str, built: set[int]) -> None:
    for key, qconfig in _qconfigs(mapping):
        for side in ("activation", "weight"):
            constructor = getattr(qconfig, side, None)
            if constructor is None or id(constructor) in built:
                continue
            try:
                with running_user_code(f"building {key}.{side}"):
                    constructor()
            except Exception as error:  # noqa: BLE001 - a bad keyword or class is bad input
                raise MappingError(
                    f"{where}: {key}.{side}: expected an observer or fake quantize constructor that builds; "
                    f"{_shown(constructor)}() raised {type(error).__name__}: {error}"
                ) from None
            built.add(id(constructor))


def _qconfigs(mapping: Any) -> list[tuple[str, Any]]:
    """Each qconfig the mapping sets, named by its entry."""
    found = [("global", mapping.global_qconfig)]
    for attribute, section in SECTION_ATTRIBUTES.items():
        entries = getattr(mapping, attribute, {}).items()
        found += [(f"{section}[{_object_type(key) if section == 'object_types' else repr(key)}]", qconfig) for key, qconfig in entries]
    return [(key, qconfig) for key, qconfig in found if qconfig is not None]


def _object_type(key: Any) -> str:
    if isinstance(key, str):
        return repr(key)
    return f"{getattr(key, '__module__', '?')}.{getattr(key, '__qualname__', type(key).__name__)}"


def _shown(constructor: Any) -> str:
    partial = getattr(constructor, "p", None)
    func = getattr(partial, "func", constructor)
    name = getattr(func, "__qualname__", type(func).__name__)
    return f"{name}.with_args" if partial is not None else name


def describe_mappings(mappings: tuple[tuple[str, Any], ...], names: PublicNames, label: str) -> list[list[Any]]:
    """``[[getter, description as JSON], ...]``."""
    described = []
    for name, mapping in mappings:
        with doing("describing its qconfig mappings", subject=label):
            described.append([name, to_json(describe_qconfig_mapping(mapping, names))])
    return described


def side_answer(side: Any, names: PublicNames) -> dict[str, Any]:
    """What the parent needs of a loaded side (sides.Side) to pair its mappings
    (Note [Pairing the mappings of two sides] in mapping_compare.py): ``holds`` is
    None for a BackendConfig function, which holds no mappings."""
    holds = None if side.kind == "function" and side.config is not None else describe_mappings(side.mappings, names, side.source)
    return {"source": side.source, "kind": side.kind, "holds": holds}


def torch_mapping(path: str, arguments: dict[str, Any]) -> Any:
    """The QConfigMapping torch's function at ``path`` (a mapping's torch_getter)
    returns for ``arguments``; raises MappingError."""
    module_name, _, function_name = path.rpartition(".")
    try:
        with running_user_code(f"importing {module_name}"):
            module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - a getter the installed torch lacks
        raise MappingError(f"cannot import {module_name}: {type(error).__name__}: {error}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise MappingError(f"{module_name} has no function {function_name!r} in the installed torch")
    with warnings.catch_warnings():
        # torch's onednn default warns about CPUs without VNNI to whoever builds it; a
        # comparison is no use of the mapping.
        warnings.simplefilter("ignore")
        return call_mapping_getter(function, function_name, path, arguments)


def verify_mappings(ours: Any, mappings: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """For each mapping a spec defines (``{"name", "getter", "torch_getter",
    "torch_arguments"}``), the generated one and torch's, described alike:
    ``{"name", "ours": description}`` without a torch_getter, ``{"name", "ours",
    "torch": description}``, or ``{"name", "errors": [line]}`` when torch's function
    cannot be called."""
    built = dict(ours.mappings)
    names = PublicNames.preferring(ours.named)
    for mapping in mappings:
        name, getter = mapping["name"], mapping["torch_getter"]
        if getter is None:
            ((_, description),) = describe_mappings(((name, built[mapping["getter"]]),), names, ours.source)
            yield {"name": name, "ours": description}
            continue
        with doing("loading it", subject=f"{getter}()"):
            try:
                theirs = torch_mapping(getter, mapping["torch_arguments"])
            except MappingError as error:
                yield {"name": name, "errors": [str(error)]}
                continue
        pair = ((name, built[mapping["getter"]]), (name, theirs))
        (_, ours_described), (_, theirs_described) = describe_mappings(pair, names, ours.source)
        yield {"name": name, "ours": ours_described, "torch": theirs_described}
