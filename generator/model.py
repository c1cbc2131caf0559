"""The typed in-memory model of a backend config: what a spec means, not how it is written.

The loader builds it from TOML; the renderer only reads it. Every value here has
already been validated, so the renderer never has to check anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

# BackendPatternConfig's default observation type.
DEFAULT_OBSERVATION_TYPE = "OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT"

OBSERVATION_TYPES = (
    "OUTPUT_USE_DIFFERENT_OBSERVER_AS_INPUT",
    "OUTPUT_SHARE_OBSERVER_WITH_INPUT",
    "INPUT_OUTPUT_NOT_OBSERVED",
)

# torch.<name> for every dtype a spec may name. Generation must not import torch,
# so the list lives here; a test checks each name against the installed torch.
DTYPE_NAMES = (
    "bfloat16",
    "bool",
    "double",
    "float",
    "float16",
    "float32",
    "float64",
    "float8_e4m3fn",
    "float8_e5m2",
    "half",
    "int16",
    "int32",
    "int4",
    "int64",
    "int8",
    "qint32",
    "qint8",
    "quint2x4",
    "quint4x2",
    "quint8",
    "uint16",
    "uint8",
)


@dataclass(frozen=True)
class Symbol:
    """A Python object named by its public dotted path, e.g. ``torch.nn.Conv2d``."""

    path: str

    @property
    def module(self) -> str:
        """The module to import for this symbol: everything before the last dot."""
        return self.path.rpartition(".")[0]


@dataclass(frozen=True)
class MethodName:
    """A tensor method matched by name in a pattern, e.g. ``"reshape"``."""

    name: str


PatternAtom = Union[Symbol, MethodName]
# A pattern is an atom or a (nested) tuple of patterns.
Pattern = Union[PatternAtom, tuple]


@dataclass(frozen=True)
class SequentialFuser:
    """A fuser method that ignores ``is_qat`` and returns ``fused_module(m1, m2)``."""

    fused_module: Symbol


FuserMethod = Union[Symbol, SequentialFuser]


@dataclass(frozen=True)
class DTypeWithConstraints:
    dtype: str | None = None
    quant_min_lower_bound: int | float | None = None
    quant_max_upper_bound: int | float | None = None
    scale_min_lower_bound: int | float | None = None
    scale_max_upper_bound: int | float | None = None
    scale_exact_match: float | None = None
    zero_point_exact_match: int | None = None

    @property
    def has_constraints(self) -> bool:
        return any(value is not None for name, value in self.bounds())

    def bounds(self) -> tuple[tuple[str, int | float | None], ...]:
        """Every constraint field but ``dtype``, in torch's declaration order."""
        return (
            ("quant_min_lower_bound", self.quant_min_lower_bound),
            ("quant_max_upper_bound", self.quant_max_upper_bound),
            ("scale_min_lower_bound", self.scale_min_lower_bound),
            ("scale_max_upper_bound", self.scale_max_upper_bound),
            ("scale_exact_match", self.scale_exact_match),
            ("zero_point_exact_match", self.zero_point_exact_match),
        )


@dataclass(frozen=True)
class DTypeConfig:
    """A named DTypeConfig; ``name`` is the module-level constant it becomes."""

    name: str
    input: DTypeWithConstraints
    output: DTypeWithConstraints
    weight: DTypeWithConstraints
    bias_dtype: str | None
    is_dynamic: bool | None
    # Set on configs derived for one op: ``base`` with ``activation_constraints`` applied.
    base: str | None = None
    activation_constraints: str | None = None


@dataclass(frozen=True)
class Origin:
    """Where a pattern entry was written: for warnings and generated comments."""

    file: str
    key: str


@dataclass(frozen=True)
class PatternConfig:
    """One BackendPatternConfig, with every field torch's class carries."""

    op_group: str
    origin: Origin
    pattern: Pattern | None
    pattern_complex_format: Pattern | None
    observation_type: str
    dtype_configs: tuple[DTypeConfig, ...]
    root_module: Symbol | None
    qat_module: Symbol | None
    reference_quantized_module: Symbol | None
    fused_module: Symbol | None
    fuser_method: FuserMethod | None
    root_node_getter: Symbol | None
    extra_inputs_getter: Symbol | None
    num_tensor_args_to_observation_type: tuple[tuple[int, str], ...]
    input_type_to_index: tuple[tuple[str, int], ...]

    @property
    def key(self) -> Pattern:
        """The pattern in torch's reversed nested tuple format: BackendConfig's key."""
        if self.pattern_complex_format is not None:
            return self.pattern_complex_format
        pattern = self.pattern
        if not isinstance(pattern, tuple):
            return pattern
        if len(pattern) == 2:
            return (pattern[1], pattern[0])
        return (pattern[2], (pattern[1], pattern[0]))


# PatternConfig fields that hold a plain Symbol; the spec uses the same keys.
SYMBOL_FIELDS = (
    "root_module",
    "qat_module",
    "reference_quantized_module",
    "fused_module",
    "root_node_getter",
    "extra_inputs_getter",
)


@dataclass(frozen=True)
class Shadowed:
    """A pattern registered twice: ``replaced`` lost to ``winner`` (BackendConfig keeps one)."""

    replaced: PatternConfig
    winner: PatternConfig


def register(entries: list[PatternConfig]) -> tuple[tuple[PatternConfig, ...], tuple[Shadowed, ...]]:
    """Register entries as BackendConfig does: one config per pattern key, the last
    registration winning at the first one's position."""
    by_key: dict[Pattern, PatternConfig] = {}
    shadowed = []
    for entry in entries:
        previous = by_key.get(entry.key)
        if previous is not None:
            shadowed.append(Shadowed(previous, entry))
        by_key[entry.key] = entry
    return tuple(by_key.values()), tuple(shadowed)


@dataclass(frozen=True)
class SpecFile:
    """One input file: how the output names it, and its exact bytes."""

    display_path: str
    content: bytes


@dataclass(frozen=True)
class Backend:
    """A whole backend: everything the generated module contains."""

    name: str
    getter: str
    doc: str
    torch_version: str
    torch_getter: Symbol | None
    default_output: str
    dtype_configs: tuple[DTypeConfig, ...]
    # Effective configs in BackendConfig's order: one per pattern, the last registration winning.
    pattern_configs: tuple[PatternConfig, ...]
    shadowed: tuple[Shadowed, ...]
    # The spec file first, then the files it includes.
    files: tuple[SpecFile, ...]
