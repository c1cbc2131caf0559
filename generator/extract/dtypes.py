"""Dtype configs of an extraction: live ones as the generator's model values,
de-duplicated by value and named.

A dtype config is named by the module-level constant of the function's module that
holds it (or an equal one), as torch's backend modules define theirs; otherwise by
a descriptive name. A DTypeWithConstraints with bounds becomes a named
[constraints] table when the module holds it as a constant, else an inline table.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import torch

from ..dtypes import ACTIVATION_CONSTRAINT_KEYS
from ..model import DTYPE_NAMES, DTypeConfig, DTypeWithConstraints
from .live import Constants, ExtractError

# How the spec writes a dtype whose torch name has a shorter alias, as the shipped specs do.
_SPELLING = {"float32": "float"}
_CONFIG_ATTRIBUTES = ("input_dtype_with_constraints", "output_dtype_with_constraints", "weight_dtype_with_constraints", "bias_dtype", "is_dynamic")
_BOUNDS = tuple(name for name, _ in DTypeWithConstraints().bounds())

Value = tuple  # (input, output, weight, bias_dtype, is_dynamic): a dtype config without its name


# Dtype names a spec may write for a dtype torch names otherwise (torch.float is torch.float32).
_TORCH_NAMES = {"float": "float32", "half": "float16", "double": "float64"}


def value_of(config: DTypeConfig) -> Value:
    """A dtype config's value, without its name: dtypes by torch's names, so that a
    spec's config (``bias_dtype = "float"``) and a live one compare equal."""
    return tuple(_torch_named(part) for part in (config.input, config.output, config.weight, config.bias_dtype)) + (config.is_dynamic,)


def _torch_named(part: Any) -> Any:
    if isinstance(part, str):
        return _TORCH_NAMES.get(part, part)
    if isinstance(part, DTypeWithConstraints) and part.dtype in _TORCH_NAMES:
        return replace(part, dtype=_TORCH_NAMES[part.dtype])
    return part


def dtype_name(dtype: Any, where: str) -> str | None:
    if dtype is None:
        return None
    if not isinstance(dtype, torch.dtype):
        raise ExtractError(f"{where}: {dtype!r} is not a torch dtype")
    name = str(dtype).removeprefix("torch.")
    if name not in DTYPE_NAMES:
        raise ExtractError(f"{where}: torch.{name} is not a dtype the spec format knows; expected one of: {', '.join(DTYPE_NAMES)}")
    return name


def model_dtype(live: Any, where: str) -> DTypeWithConstraints:
    """A live DTypeWithConstraints (or a bare dtype) as the model's."""
    if live is None or isinstance(live, torch.dtype):
        return DTypeWithConstraints(dtype_name(live, where))
    unknown = sorted(set(vars(live)) - {"dtype", *_BOUNDS})
    if unknown:
        raise ExtractError(f"{where}: DTypeWithConstraints field {unknown[0]!r} has no spec key")
    bounds = {name: getattr(live, name) for name in _BOUNDS}
    return DTypeWithConstraints(dtype_name(live.dtype, where), **bounds)


def model_config(live: Any, where: str) -> DTypeConfig:
    """A live DTypeConfig as the model's value (its name is given later)."""
    unknown = [name for name, value in vars(live).items() if name not in _CONFIG_ATTRIBUTES and value is not None]
    if unknown:
        raise ExtractError(f"{where}: DTypeConfig attribute {unknown[0]!r} has no spec key")
    config = DTypeConfig(
        "",
        model_dtype(live.input_dtype_with_constraints, f"{where}.input_dtype"),
        model_dtype(live.output_dtype_with_constraints, f"{where}.output_dtype"),
        model_dtype(live.weight_dtype_with_constraints, f"{where}.weight_dtype"),
        dtype_name(live.bias_dtype, f"{where}.bias_dtype"),
        live.is_dynamic,
    )
    for role in ("input", "output", "weight"):
        dtype = getattr(config, role)
        if dtype.dtype is None and dtype.has_constraints:
            raise ExtractError(f"{where}.{role}_dtype: bounds without a dtype have no spec form")
    return config


def without_activation_constraints(config: DTypeConfig, constraints: DTypeWithConstraints) -> DTypeConfig:
    """The base config a fixed-qparams group derives ``config`` from with
    ``constraints`` (its activations of that dtype lose the bounds torch copies in)."""
    activations = {}
    for role in ("input", "output"):
        current = getattr(config, role)
        if current.dtype == constraints.dtype:
            activations[role] = replace(current, **{name: None for name in ACTIVATION_CONSTRAINT_KEYS})
    return replace(config, **activations)


class DTypeNames:
    """Registers the dtype configs a spec declares, one per value, and names them."""

    def __init__(self, constants: Constants, prefix: str, taken: set[str], declare_constants: bool = True):
        self.prefix = prefix
        self.taken = taken
        self.by_value: dict[Value, DTypeConfig] = {}  # declared, in declaration order
        # Configs a spec this one extends declares: used by name, never declared again.
        self.existing: dict[Value, DTypeConfig] = {}
        self.constant_of: dict[int, str] = {}  # id of a live module constant -> its name
        self.constant_values: list[tuple[Value, str]] = []
        for name, live in constants.dtype_configs:
            try:
                value = value_of(model_config(live, name))
            except ExtractError:
                continue  # a constant the spec cannot write is only a problem when used
            self.constant_of.setdefault(id(live), name)
            self.constant_values.append((value, name))
        self.constraint_names: list[tuple[DTypeWithConstraints, str]] = []
        self.assigned: list[tuple[DTypeWithConstraints, str]] = []  # named so far
        for name, live in constants.constraints:
            try:
                self.constraint_names.append((model_dtype(live, name), name))
            except ExtractError:
                continue
        # The module's own constants first, in its order, used or not: the generated
        # module then defines every dtype config the original module did (a spec that
        # extends another declares only what it changes).
        for name, live in constants.dtype_configs if declare_constants else ():
            if name in constants.defined and id(live) in self.constant_of and self.constant_of[id(live)] == name:
                self.declare(model_config(live, name), live)

    def declare(self, config: DTypeConfig, live: Any = None) -> DTypeConfig:
        """The declared config with ``config``'s value, declared (and named) if new."""
        value = value_of(config)
        if value in self.existing:
            return self.existing[value]
        if value in self.by_value:
            return self.by_value[value]
        name = self.constant_of.get(id(live)) if live is not None else None
        if name is None:
            name = next((constant for found, constant in self.constant_values if found == value), None)
        if name is None or name in self.taken:
            name = self.unique(self.descriptive(config))
        self.taken.add(name)
        named = replace(config, name=name, input=self.named(config.input), output=self.named(config.output), weight=self.named(config.weight))
        self.by_value[value] = named
        return named

    def named_config(self, config: DTypeConfig) -> DTypeConfig:
        """``config`` (named already) with its constrained dtypes named as the module names them."""
        return replace(config, input=self.named(config.input), output=self.named(config.output), weight=self.named(config.weight))

    def named(self, dtype: DTypeWithConstraints) -> DTypeWithConstraints:
        """A DTypeWithConstraints with bounds named by the module's equal constant, if any."""
        if not dtype.has_constraints:
            return dtype
        name = next((constant for found, constant in self.assigned if found == dtype), None)
        if name is None:
            name = next((constant for found, constant in self.constraint_names if found == dtype), None)
            if name is None:
                return dtype
            name = self.unique(name)
            self.taken.add(name)
            self.assigned.append((dtype, name))
        return replace(dtype, name=name)

    def constraints(self) -> list[DTypeWithConstraints]:
        """The named constraints the declared configs use, in first-use order."""
        found: dict[str, DTypeWithConstraints] = {}
        for config in self.by_value.values():
            for dtype in (config.input, config.output, config.weight):
                if dtype.name is not None:
                    found.setdefault(dtype.name, dtype)
        return list(found.values())

    def unique(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.taken:
            candidate, number = f"{name}_{number}", number + 1
        return candidate

    def descriptive(self, config: DTypeConfig) -> str:
        """e.g. ``tensorrt_weighted_op_qint8_dtype_config``, ``x_dynamic_quint8_dtype_config``."""
        input_, output, weight = (getattr(config, role).dtype or "none" for role in ("input", "output", "weight"))
        floating = ("float32", "float16", "bfloat16", "float64", "none")
        if config.is_dynamic:
            core = f"dynamic_{input_}"
        elif config.weight.dtype is not None and input_ in floating and output in floating:
            core = f"weight_only_{weight}"
        elif config.weight.dtype is not None:
            core = f"weighted_op_{input_}"
        else:
            core = f"op_{input_}" if output == input_ else f"op_{input_}_to_{output}"
        if any(getattr(config, role).has_constraints for role in ("input", "output", "weight")):
            core += "_constrained"
        return f"{self.prefix}_{core}_dtype_config" if self.prefix else f"{core}_dtype_config"


def inline_single_use(configs: list[DTypeConfig]) -> list[DTypeConfig]:
    """``configs`` with the named constraints only one of them uses written inline
    (a delta keeps a change to one dtype config in one place)."""
    users: dict[str, set[str]] = {}
    for config in configs:
        for dtype in config.named_constraints():
            users.setdefault(dtype.name or "", set()).add(config.name)
    single = {name for name, found in users.items() if len(found) == 1}
    return [
        replace(config, **{role: replace(getattr(config, role), name=None) for role in ("input", "output", "weight") if getattr(config, role).name in single})
        for config in configs
    ]


def identifier_prefix(text: str) -> str:
    """A backend name as the start of Python names: ``_native_and_fp16`` -> ``native_and_fp16``."""
    cleaned = re.sub(r"\W+", "_", text).strip("_").lower()
    return cleaned if cleaned and not cleaned[0].isdigit() else f"backend_{cleaned}".rstrip("_")


# -- TOML values ---------------------------------------------------------------


def spelled(name: str | None) -> str | None:
    return None if name is None else _SPELLING.get(name, name)


def dtype_value(dtype: DTypeWithConstraints) -> Any:
    """How a dtype config's *_dtype key writes ``dtype``: a dtype name, a
    [constraints] name, or an inline table with the dtype and its bounds."""
    if dtype.name is not None:
        return dtype.name
    if not dtype.has_constraints:
        return spelled(dtype.dtype)
    return {"dtype": spelled(dtype.dtype), **{name: value for name, value in dtype.bounds() if value is not None}}


def config_table(config: DTypeConfig) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for role in ("input", "output", "weight"):
        dtype = getattr(config, role)
        if dtype.dtype is not None:
            table[f"{role}_dtype"] = dtype_value(dtype)
    if config.bias_dtype is not None:
        table["bias_dtype"] = spelled(config.bias_dtype)
    if config.is_dynamic is not None:
        table["is_dynamic"] = config.is_dynamic
    return table


def constraints_table(constraints: DTypeWithConstraints) -> dict[str, Any]:
    return {"dtype": spelled(constraints.dtype), **{name: value for name, value in constraints.bounds() if value is not None}}
