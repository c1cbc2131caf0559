"""The functions a generated module defines for the fusers a spec declares as data
(``[fusers.NAME]``): each step of a FuserDef as the lines that do it."""

from __future__ import annotations

from dataclasses import dataclass

from .literals import docstring, wrapped_string_literal
from .model import FuserDef
from .names import ImportPlan, fuser_function, parameter_name


@dataclass(frozen=True)
class FuserCode:
    function: str
    parameters: tuple[str, ...]
    docstring: str
    unpacks: tuple[tuple[str, str], ...]  # (targets, source)
    fused_module: str
    training_check: tuple[str, str] | None  # (condition, message literal)
    qat_error: str | None  # the tuple the QAT NotImplementedError shows
    type_checks: tuple[str, ...]  # conditions under which eval fusion is refused
    eval_error: str | None
    fold: tuple[str, str] | None  # (target, call)
    result: str



def _parameter(argument: str | tuple, unpacks: list[tuple[str, str]], used: set[str]) -> tuple[str, str]:
    """(name, annotation) of one fuser parameter; a nested one is unpacked in the
    body (names it does not use get a leading underscore, as linters expect)."""
    if isinstance(argument, str):
        return argument, "Any"
    names = [_parameter(item, unpacks, used)[0] for item in argument]
    name = parameter_name(argument)  # the name the loader checked (names.fuser_parameters)
    targets = [target if target in used or "_" in target and isinstance(item, tuple) else f"_{target}" for target, item in zip(names, argument, strict=True)]
    unpacks.insert(0, (", ".join(targets), name))
    return name, f"tuple[{', '.join('Any' for _ in argument)}]"


def _used_names(fuser: FuserDef) -> set[str]:
    used = {*fuser.error_modules, *fuser.fused_arguments, *(name for name, _ in fuser.eval_types)}
    if fuser.fold_batch_norm is not None:
        used |= {fuser.fold_batch_norm.into, fuser.fold_batch_norm.batch_norm}
    if fuser.same_training_mode is not None:
        used |= set(_flat(fuser.arguments))
    return used


def fuser_code(fuser: FuserDef, plan: ImportPlan) -> FuserCode:
    unpacks: list[tuple[str, str]] = []
    parameters = ["is_qat: bool"]
    used = _used_names(fuser)
    for argument in fuser.arguments:
        name, annotation = _parameter(argument, unpacks, used)
        parameters.append(f"{name}: {annotation}")
    shown = f"{{({', '.join(fuser.error_modules)}{',' if len(fuser.error_modules) == 1 else ''})}}"
    training = None
    if fuser.same_training_mode is not None:
        modules = [name for name in _flat(fuser.arguments)]
        condition = " or ".join(f"{a}.training != {b}.training" for a, b in zip(modules, modules[1:]))
        # The message sits on a line of its own inside raise AssertionError(...).
        training = (condition or "False", wrapped_string_literal(fuser.same_training_mode, 12))
    type_checks = tuple(f"type({module}) is not {plan.expression(symbol)}" for module, symbol in fuser.eval_types)
    if type_checks and fuser.supports_qat:
        type_checks = tuple(f"not is_qat and {check}" for check in type_checks)
    fold = None
    if fuser.fold_batch_norm is not None:
        into, batch_norm = fuser.fold_batch_norm.into, fuser.fold_batch_norm.batch_norm
        fold = (into, f"{plan.expression(fuser.fold_batch_norm.using)}({into}, {batch_norm})")
    return FuserCode(
        function=fuser_function(fuser.name),
        parameters=tuple(parameters),
        docstring=docstring(fuser.doc),
        unpacks=tuple(unpacks),
        fused_module=plan.expression(fuser.fused_module),
        training_check=training,
        qat_error=None if fuser.supports_qat else f'f"Cannot fuse train modules: {shown}"',
        type_checks=type_checks,
        eval_error=f'f"Cannot fuse eval modules: {shown}"' if type_checks else None,
        fold=fold,
        result=f"fused_module({', '.join(fuser.fused_arguments)})",
    )


def _flat(arguments: tuple) -> list[str]:
    names: list[str] = []
    for argument in arguments:
        names.extend(_flat(argument) if isinstance(argument, tuple) else [argument])
    return names
