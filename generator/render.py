"""Render a Backend model into Python source with the Jinja2 templates.

Every Python expression is built here from validated model values: identifiers
and dotted names have passed their grammar, and every other string becomes a
literal through ``repr``. The templates only lay the pieces out.

The module is rendered in two kinds of pieces, so that formatting stays linear in
the number of pattern configs (see output.py): the module around the pattern
configs, with ENTRIES_MARKER where they go, and one piece per pattern config.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jinja2

from .fuser_code import fuser_code
from .literals import LINE_LENGTH, comment_text, docstring, number_literal, string_literal
from .model import (
    SYMBOL_FIELDS,
    Backend,
    DTypeConfig,
    DTypeWithConstraints,
    MethodName,
    NamedFuser,
    NodeAt,
    NodesAt,
    PatternConfig,
    SequentialFuser,
    Symbol,
)
from .names import (
    BACKEND_CONFIG_MODULE,
    BACKEND_CONFIG_NAMES,
    QCONFIG_MODULE,
    ImportPlan,
    fuser_function,
    is_stdlib,
    needs_helpers,
    plan_imports,
    used_symbols,
)
from .packaged import templates_dir
from .qconfig_render import MAPPING_TEMPLATE, mapping_view

MODULE_TEMPLATE = "backend_config.py.j2"
ENTRY_TEMPLATE = "pattern_config.py.j2"
# Stands for the pattern configs in the rendered module until they are spliced in.
ENTRIES_MARKER = "_PATTERN_CONFIGS_GO_HERE_"
# Where __all__'s names and the module's constants go: black's time grows faster
# than linearly with the statements (or list items) of one call, so these are
# spliced in after it formatted the rest, as the pattern configs are.
ALL_NAMES_MARKER = "_ALL_NAMES_GO_HERE_"
CONSTANTS_MARKER = "_CONSTANTS_GO_HERE_"
# BackendPatternConfig.from_dict keys that differ from the model's field names.
_TORCH_DICT_KEYS = {"reference_quantized_module": "reference_quantized_module_for_root"}
DEFAULT_OBSERVATION_TYPE = "OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT"


@cache
def _environment(directory: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def environment() -> jinja2.Environment:
    return _environment(templates_dir())


@dataclass(frozen=True)
class _Constant:
    name: str
    expression: str
    comment: list[str]  # comment lines above it


@dataclass(frozen=True)
class RenderedModule:
    """The module with ENTRIES_MARKER in place of its pattern configs, and each
    pattern config with the comment that goes above it, rendered as it is asked
    for (so that a large spec never holds all of them at once)."""

    module: str
    entries: Iterator[tuple[str, str]]  # (comment, BackendPatternConfig.from_dict(...) source)
    has_entries: bool  # without any, the module has no ENTRIES_MARKER
    all_names: list[str]  # __all__, in order
    constants: list[str]  # each constant's source: its comment lines and its assignment


def render(backend: Backend, header: list[str]) -> RenderedModule:
    """The generated module's pieces, before formatting; ``header`` are its first
    comment lines (see output.py)."""
    plan = plan_imports(used_symbols(backend))
    helpers = needs_helpers(backend)
    mappings = mapping_view(backend, plan)
    constants = [*(_constraints_constant(c) for c in backend.constraints), *(_constant(c) for c in backend.dtype_configs)]
    constants += [_Constant(name, expression, comment) for name, expression, comment in mappings.constants]
    getter_template = environment().get_template(MAPPING_TEMPLATE)
    module = environment().get_template(MODULE_TEMPLATE).render(
        header=header,
        stdlib_imports=_stdlib_imports(plan, helpers),
        imports=_third_party_imports(plan, _backend_config_names(backend), mappings.import_names),
        qconfig_mappings=[getter_template.render(**getter) for getter in mappings.getters],
        untyped_calls="QConfig" in mappings.import_names,
        all_names_marker=ALL_NAMES_MARKER,
        constants_marker=CONSTANTS_MARKER if constants else None,
        helpers=helpers,
        fusers=[fuser_code(fuser, plan) for fuser in backend.fusers],
        getter=backend.getter,
        getter_doc=docstring(backend.doc),
        backend_name=string_literal(backend.name),
        entries_marker=ENTRIES_MARKER if backend.pattern_configs else None,
    )
    entry = environment().get_template(ENTRY_TEMPLATE)
    replacing = {id(shadowed.winner) for shadowed in backend.shadowed}
    entries = ((_comment(config, id(config) in replacing), entry.render(items=_items(config, plan))) for config in backend.pattern_configs)
    return RenderedModule(
        module,
        entries,
        has_entries=bool(backend.pattern_configs),
        all_names=_sorted_names(
            [backend.getter, *(c.name for c in backend.constraints if c.name), *(c.name for c in backend.dtype_configs), *mappings.names]
        ),
        constants=["".join(f"# {line}\n" for line in c.comment) + f"{c.name} = {c.expression}\n" for c in constants],
    )


def unformatted_module(rendered: RenderedModule) -> str:
    """The module as rendered, its names and constants in place (the pattern configs
    stay out): code to run, for what its helpers and constants do, which black,
    changing no behaviour, need not format first."""
    names = ", ".join(string_literal(name) for name in rendered.all_names)
    return rendered.module.replace(ALL_NAMES_MARKER, names).replace(CONSTANTS_MARKER, "\n".join(rendered.constants))


def _sorted_names(names: list[str]) -> list[str]:
    """__all__ in the order linters keep it: constants, classes, then the rest."""
    return sorted(dict.fromkeys(names), key=lambda name: (0 if name.isupper() else 1 if name[:1].isupper() else 2, name))


def _stdlib_imports(plan: ImportPlan, helpers: dict[str, bool]) -> list[str]:
    lines = ["import importlib"]
    lines += [f"import {module}" for module in plan.plain if is_stdlib(module)]
    typing = []
    if any(helpers.values()):  # every helper, and every declared fuser, annotates with Callable
        lines.append("from collections.abc import Callable")
    if any(helpers.values()):
        typing.append("Any")
    if typing:
        lines.append(f"from typing import {', '.join(typing)}")
    straight = sorted((line for line in lines if line.startswith("import ")), key=str.lower)
    return straight + sorted((line for line in lines if line.startswith("from ")), key=str.lower)


def _third_party_imports(plan: ImportPlan, backend_config_names: tuple[str, ...], qconfig_names: tuple[str, ...] = ()) -> list[str]:
    """``import`` lines, then ``from ... import`` lines, each sorted by module, as isort does."""
    straight = [(module, f"import {module}") for module in plan.plain if not is_stdlib(module)]
    straight += [(module, f"import {module} as {alias}") for module, alias in plan.aliased]
    lines = [line for _, line in sorted(straight, key=lambda item: item[0].lower())]
    from_imports = [*plan.from_imports, (BACKEND_CONFIG_MODULE, backend_config_names)]
    if qconfig_names:
        from_imports.append((QCONFIG_MODULE, qconfig_names))
    # Without brackets: black puts the names on one line when they fit, as a person
    # writes them (``from torch import nn``), and one per line when they do not.
    return lines + [f"from {module} import {', '.join(names)}" for module, names in sorted(from_imports)]


def _backend_config_names(backend: Backend) -> tuple[str, ...]:
    """The names the module uses: importing one it never uses is a lint finding."""
    configs = backend.pattern_configs
    used = {
        "BackendConfig": True,
        "BackendPatternConfig": bool(configs),
        "DTypeConfig": bool(backend.dtype_configs),
        "DTypeWithConstraints": bool(backend.constraints) or any(_has_constraints(config) for config in backend.dtype_configs),
        "ObservationType": any(
            config.observation_type != DEFAULT_OBSERVATION_TYPE or config.num_tensor_args_to_observation_type for config in configs
        ),
    }
    assert set(used) == set(BACKEND_CONFIG_NAMES)
    return tuple(sorted(name for name, wanted in used.items() if wanted))


def _has_constraints(config: DTypeConfig) -> bool:
    return any(dtype.has_constraints for dtype in (config.input, config.output, config.weight))


def _dtype(name: str | None) -> str:
    return "None" if name is None else f"torch.{name}"


_number = number_literal  # a bound as torch's sources write it


def _constraints_arguments(dtype: DTypeWithConstraints) -> str:
    arguments = [f"dtype={_dtype(dtype.dtype)}"]
    arguments += [f"{name}={_number(value)}" for name, value in dtype.bounds() if value is not None]
    return ", ".join(arguments)


def _dtype_with_constraints(dtype: DTypeWithConstraints) -> str:
    if dtype.name is not None:
        return dtype.name
    if not dtype.has_constraints:
        return _dtype(dtype.dtype)
    return f"DTypeWithConstraints({_constraints_arguments(dtype)})"


def _constraints_constant(constraints: DTypeWithConstraints) -> _Constant:
    assert constraints.name is not None
    return _Constant(constraints.name, f"DTypeWithConstraints({_constraints_arguments(constraints)})", [])


def _constant(config: DTypeConfig) -> _Constant:
    arguments = []
    for role in ("input", "output", "weight"):
        dtype = getattr(config, role)
        if dtype != DTypeWithConstraints() or dtype.name is not None:
            arguments.append(f"{role}_dtype={_dtype_with_constraints(dtype)}")
    if config.bias_dtype is not None:
        arguments.append(f"bias_dtype={_dtype(config.bias_dtype)}")
    if config.is_dynamic is not None:
        arguments.append(f"is_dynamic={config.is_dynamic!r}")
    comment = []
    if config.base is not None:
        text = f"{config.base} with activation constraints {config.activation_constraints}"
        comment = textwrap.wrap(comment_text(text), width=LINE_LENGTH - 2, break_long_words=False)
    return _Constant(config.name, f"DTypeConfig({', '.join(arguments)})", comment)


# A Python expression, laid out by _layout: an atom, or a bracketed collection of
# expressions: (open, items, close), or (open, items, close, comma) where ``comma``
# is what follows a lone item ("" for an expression in parentheses, not a tuple).
Expression = str | tuple


def _pattern(pattern: object, plan: ImportPlan) -> Expression:
    if isinstance(pattern, Symbol):
        return plan.expression(pattern)
    if isinstance(pattern, MethodName):
        return string_literal(pattern.name)
    assert isinstance(pattern, tuple)
    return ("(", tuple(_pattern(item, plan) for item in pattern), ")")


# Where a pattern config's dict items sit in the final module, and how far black lets them run.
_ITEM_COLUMN = 16
_TEMPLATE_ITEM_COLUMN = 8


def _one_line(expression: Expression) -> str:
    if isinstance(expression, str):
        return expression
    open_, items, close, *lone_comma = expression
    inner = ", ".join(_one_line(item) for item in items)
    return f"{open_}{inner}{_lone_comma(expression) if len(items) == 1 else ''}{close}"


def _lone_comma(expression: tuple) -> str:
    """What follows the only item of a collection: a one-element tuple keeps its comma."""
    open_, _, _, *lone_comma = expression
    return lone_comma[0] if lone_comma else "," if open_ == "(" else ""


def _layout(expression: Expression, column: int, indent: int, trail: int) -> str:
    """``expression`` as black lays out a collection literal: on one line if it fits
    (starting at ``column``, followed by ``trail`` characters), else one element per
    line with a trailing comma, each laid out the same way. Black still formats the
    result; this only spares it a second pass (see formatting.py)."""
    flat = _one_line(expression)
    if isinstance(expression, str) or column + len(flat) + trail <= LINE_LENGTH:
        return flat
    open_, items, close, *_ = expression
    inner = indent + 4
    shift = _ITEM_COLUMN - _TEMPLATE_ITEM_COLUMN
    # Black adds the trailing comma when it splits at commas; a lone element of a
    # list or dict has none to split at (a one-element tuple keeps its comma).
    comma = "," if len(items) > 1 else _lone_comma(expression)
    lines = [f"{' ' * (inner - shift)}{_layout(item, inner, inner, len(comma))}{comma}" for item in items]
    return f"{open_}\n" + "\n".join(lines) + f"\n{' ' * (indent - shift)}{close}"


def _fuser_method(fuser: Symbol | SequentialFuser | NamedFuser, plan: ImportPlan) -> str:
    if isinstance(fuser, SequentialFuser):
        return f"_sequential_fuser({plan.expression(fuser.fused_module)})"
    if isinstance(fuser, NamedFuser):
        return fuser_function(fuser.fuser.name)
    return plan.expression(fuser)


def _getter(getter: Symbol | NodeAt | NodesAt, plan: ImportPlan) -> str:
    if isinstance(getter, NodeAt):
        return f"_node_at({', '.join(map(str, getter.path))})"
    if isinstance(getter, NodesAt):
        return f"_nodes_at({', '.join(_int_tuple(path) for path in getter.paths)})"
    return plan.expression(getter)


def _int_tuple(path: tuple[int, ...]) -> str:
    return f"({path[0]},)" if len(path) == 1 else f"({', '.join(map(str, path))})"


def _items(config: PatternConfig, plan: ImportPlan) -> list[tuple[str, str]]:
    """(from_dict key literal, expression) pairs, in torch's dict key names. The
    default observation type is left out (from_dict sets it), which keeps every
    line within LINE_LENGTH columns."""
    items: list[tuple[str, Expression]] = []
    if config.pattern is not None:
        items.append(("pattern", _pattern(config.pattern, plan)))
    else:
        items.append(("pattern_complex_format", _pattern(config.pattern_complex_format, plan)))
    if config.observation_type != DEFAULT_OBSERVATION_TYPE:
        items.append(("observation_type", f"ObservationType.{config.observation_type}"))
    items.append(("dtype_configs", ("[", tuple(c.name for c in config.dtype_configs), "]")))
    for name in SYMBOL_FIELDS:
        value = getattr(config, name)
        if value is not None:
            items.append((_TORCH_DICT_KEYS.get(name, name), plan.expression(value)))
    if config.fuser_method is not None:
        items.append(("fuser_method", _fuser_method(config.fuser_method, plan)))
    for name in ("root_node_getter", "extra_inputs_getter"):
        getter = getattr(config, name)
        if getter is not None:
            items.append((name, _getter(getter, plan)))
    if config.num_tensor_args_to_observation_type:
        pairs = tuple(f"{count}: ObservationType.{name}" for count, name in config.num_tensor_args_to_observation_type)
        items.append(("num_tensor_args_to_observation_type", ("{", pairs, "}")))
    if config.input_type_to_index:
        pairs = tuple(f"{string_literal(name)}: {index}" for name, index in config.input_type_to_index)
        items.append(("input_type_to_index", ("{", pairs, "}")))
    laid_out = []
    for key, expression in items:
        literal = string_literal(key)
        column = _ITEM_COLUMN + len(literal) + 2
        laid_out.append((literal, _layout(_bracketed(expression, column), column, _ITEM_COLUMN, 1)))
    return laid_out


def _bracketed(expression: Expression, column: int) -> Expression:
    """A name too long for its line (``ObservationType.OUTPUT_SHARE_OBSERVER_WITH_INPUT``
    after its key) in parentheses, which black splits at and keeps."""
    if isinstance(expression, str) and column + len(expression) + 1 > LINE_LENGTH:
        return ("(", (expression,), ")", "")
    return expression


def _comment(config: PatternConfig, replaced: bool) -> str:
    text = config.op_group + (" (replaces an earlier registration of this pattern)" if replaced else "")
    return comment_text(text)
