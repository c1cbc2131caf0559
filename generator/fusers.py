"""Read fuser methods declared as data (``[fusers.NAME]`` tables).

torch builds some backends' fusers as private functions (onednn's conv-add and
linear-bn-leaky_relu fusers). A spec declares what such a fuser does, step by
step; the generated module defines it as a plain function of its own.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .checks import Checker, key_path
from .model import ArgumentShape, FoldBatchNorm, FuserDef, Origin
from .names import argument_problems, fuser_reserved_names
from .sources import Document
from .text import shown

FUSER_KEYS = (
    "doc",
    "arguments",
    "same_training_mode",
    "supports_qat",
    "error_modules",
    "eval_types",
    "fold_batch_norm",
    "fused_module",
    "fused_arguments",
)
_REQUIRED = ("arguments", "fused_module", "fused_arguments")
# Deep enough for any pattern FX matches; keeps generated code readable.
MAX_ARGUMENT_NESTING = 4
_RESERVED = fuser_reserved_names()


def argument_key(key: str, path: tuple[int, ...]) -> str:
    """The key of the argument at ``path`` (indexes, outermost first) of the array at ``key``."""
    for index in path:
        key = key_path(key, index)
    return key


def argument_names(arguments: tuple[ArgumentShape, ...]) -> list[str]:
    """Every name of a (nested) argument structure, in order."""
    names: list[str] = []
    for argument in arguments:
        if isinstance(argument, tuple):
            names.extend(argument_names(argument))
        else:
            names.append(argument)
    return names


def read_fuser(checker: Checker, doc: Document, name: str, table: dict[str, Any], key: str) -> FuserDef | None:
    checker.check_keys(doc, table, key, FUSER_KEYS, required=_REQUIRED)
    before = checker.reported
    arguments = _arguments(checker, doc, table.get("arguments"), f"{key}.arguments", 1) if "arguments" in table else None
    names = argument_names(arguments) if arguments else []
    known_names = set(names)
    if arguments is not None:
        for repeated in sorted(name for name, count in Counter(names).items() if count > 1):
            checker.problem(doc, f"{key}.arguments", f"argument {repeated!r} is named twice")
        for path, message in argument_problems(arguments, _RESERVED):
            checker.problem(doc, argument_key(f"{key}.arguments", path), message)

    def known(value: Any, value_key: str) -> str | None:
        found = checker.string(doc, value, value_key)
        if found is not None and arguments is not None and found not in known_names:
            checker.problem(doc, value_key, f"{shown(found)} is not one of the arguments: {', '.join(names)}")
            return None
        return found

    def known_list(value_key: str) -> tuple[str, ...]:
        values = checker.string_list(doc, table[value_key], f"{key}.{value_key}") if value_key in table else []
        return tuple(known(item, key_path(f"{key}.{value_key}", index)) or "" for index, item in enumerate(values or []))

    doc_text = checker.string(doc, table["doc"], f"{key}.doc") if "doc" in table else None
    same_mode = checker.string(doc, table["same_training_mode"], f"{key}.same_training_mode") if "same_training_mode" in table else None
    supports_qat = True
    if "supports_qat" in table and checker.check_type(doc, table["supports_qat"], bool, f"{key}.supports_qat"):
        supports_qat = table["supports_qat"]
    error_modules = known_list("error_modules")
    eval_types = []
    if "eval_types" in table and checker.check_type(doc, table["eval_types"], dict, f"{key}.eval_types"):
        for module, type_name in table["eval_types"].items():
            type_key = key_path(f"{key}.eval_types", module)
            symbol = checker.symbol(doc, type_name, type_key)
            if known(module, type_key) is not None and symbol is not None:
                eval_types.append((module, symbol))
    if (not supports_qat or eval_types) and not error_modules:
        checker.problem(doc, f"{key}.error_modules", "missing; expected the modules the NotImplementedError messages show, e.g. ['conv', 'bn', 'add']")
    fold = None
    if "fold_batch_norm" in table:
        fold = _fold(checker, doc, table["fold_batch_norm"], f"{key}.fold_batch_norm", known)
    fused = checker.symbol(doc, table["fused_module"], f"{key}.fused_module") if "fused_module" in table else None
    fused_arguments = known_list("fused_arguments")
    if "fused_arguments" in table and not fused_arguments:
        checker.problem(doc, f"{key}.fused_arguments", "expected at least one argument")
    if checker.reported > before or arguments is None or fused is None:
        return None
    return FuserDef(
        name=name,
        doc=doc_text or f"Fuse {', '.join(names)} into {fused.name}.",
        origin=Origin(doc.name, key),
        arguments=arguments,
        same_training_mode=same_mode,
        supports_qat=supports_qat,
        error_modules=error_modules,
        eval_types=tuple(eval_types),
        fold_batch_norm=fold,
        fused_module=fused,
        fused_arguments=fused_arguments,
    )


def _arguments(checker: Checker, doc: Document, value: Any, key: str, depth: int) -> tuple[ArgumentShape, ...] | None:
    """Argument names, nested like the modules FX passes (e.g. ["add", ["bn", "conv"], "extra"])."""
    if not checker.check_type(doc, value, list, key):
        return None
    if not value:
        checker.problem(doc, key, "expected at least one argument")
        return None
    if depth > MAX_ARGUMENT_NESTING:
        checker.problem(doc, key, f"arguments nest deeper than {MAX_ARGUMENT_NESTING}")
        return None
    found: list[ArgumentShape] = []
    for index, item in enumerate(value):
        item_key = key_path(key, index)
        if isinstance(item, list):
            nested = _arguments(checker, doc, item, item_key, depth + 1)
            if nested is None:
                return None
            found.append(nested)
        elif checker.identifier(doc, item, item_key) is not None:
            if item == "is_qat" or item.startswith("_"):
                checker.problem(doc, item_key, f"{item!r} is reserved; expected another argument name")
                return None
            found.append(item)
        else:
            return None
    return tuple(found)


def _fold(checker: Checker, doc: Document, value: Any, key: str, known: Any) -> FoldBatchNorm | None:
    if not checker.check_type(doc, value, dict, key):
        return None
    checker.check_keys(doc, value, key, ("into", "batch_norm", "using"), required=("into", "batch_norm", "using"))
    into = known(value["into"], f"{key}.into") if "into" in value else None
    batch_norm = known(value["batch_norm"], f"{key}.batch_norm") if "batch_norm" in value else None
    using = checker.symbol(doc, value["using"], f"{key}.using") if "using" in value else None
    if into is None or batch_norm is None or using is None:
        return None
    if into == batch_norm:
        checker.problem(doc, f"{key}.batch_norm", "expected a module other than 'into'")
        return None
    return FoldBatchNorm(into, batch_norm, using)

