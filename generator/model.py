"""The typed in-memory model of a backend config: what a spec means, not how it is written.

The loader builds it from TOML; the renderer only reads it. Every value here has
already been validated, so the renderer never has to check anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from .qconfig_model import QConfigMappingDef

from .sources import SpecFile

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

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


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


# The argument structure of a fuser: names, nested like the matched pattern.
ArgumentShape = Union[str, tuple]


@dataclass(frozen=True)
class FoldBatchNorm:
    """Replace module ``into`` by ``using(into, batch_norm)`` (e.g. fuse_conv_bn_eval)."""

    into: str
    batch_norm: str
    using: Symbol


@dataclass(frozen=True)
class FuserDef:
    """A fuser method declared as data (``[fusers.NAME]``); the generated module
    defines it as a function. Its steps run in this order: the training-mode check,
    the QAT refusal, the module type check, the batch norm fold, the fused module."""

    name: str
    doc: str
    origin: Origin
    arguments: tuple[ArgumentShape, ...]
    same_training_mode: str | None  # AssertionError message when modes differ
    supports_qat: bool
    error_modules: tuple[str, ...]  # the modules NotImplementedError messages show
    eval_types: tuple[tuple[str, Symbol], ...]  # exact module types required in eval
    fold_batch_norm: FoldBatchNorm | None
    fused_module: Symbol
    fused_arguments: tuple[str, ...]

    def symbols(self) -> list[Symbol]:
        found = [symbol for _, symbol in self.eval_types]
        if self.fold_batch_norm is not None:
            found.append(self.fold_batch_norm.using)
        return [*found, self.fused_module]


@dataclass(frozen=True)
class NamedFuser:
    """A reference to a fuser declared in ``[fusers]``."""

    fuser: FuserDef


FuserMethod = Union[Symbol, SequentialFuser, NamedFuser]


@dataclass(frozen=True)
class NodeAt:
    """A root node getter: the node at ``path`` of the matched (reversed, nested) pattern."""

    path: tuple[int, ...]


@dataclass(frozen=True)
class NodesAt:
    """An extra inputs getter: the nodes at ``paths`` of the matched pattern, as a list."""

    paths: tuple[tuple[int, ...], ...]


NodeGetter = Union[Symbol, NodeAt, NodesAt]


@dataclass(frozen=True)
class DTypeWithConstraints:
    dtype: str | None = None
    quant_min_lower_bound: int | float | None = None
    quant_max_upper_bound: int | float | None = None
    scale_min_lower_bound: int | float | None = None
    scale_max_upper_bound: int | float | None = None
    scale_exact_match: float | None = None
    zero_point_exact_match: int | None = None
    # A named [constraints] table becomes a module-level constant of this name.
    name: str | None = field(default=None, compare=False)

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


BOUND_NAMES = tuple(name for name, _ in DTypeWithConstraints().bounds())


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

    def named_constraints(self) -> list[DTypeWithConstraints]:
        return [dtype for dtype in (self.input, self.output, self.weight) if dtype.name is not None]


@dataclass(frozen=True)
class Origin:
    """Where a pattern entry (or a declaration) was written: for messages and comments."""

    file: str
    key: str
    use: str = ""  # for a pattern entry: the op group use that expanded it ("spec.toml: backend.op_groups[2]")


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
    root_node_getter: NodeGetter | None
    extra_inputs_getter: NodeGetter | None
    num_tensor_args_to_observation_type: tuple[tuple[int, str], ...]
    input_type_to_index: tuple[tuple[str, int], ...]
    # The spec says this entry may replace an earlier registration of its pattern.
    replaces_earlier: bool = False

    @property
    def key(self) -> Pattern:
        """The pattern in torch's reversed nested tuple format: BackendConfig's key."""
        if self.pattern_complex_format is not None:
            return self.pattern_complex_format
        return reversed_nested(self.pattern)

    @property
    def pattern_text(self) -> str:
        """The pattern as the spec writes it: public paths, forward order."""
        return pattern_text(self.pattern if self.pattern is not None else self.pattern_complex_format)

    def symbols(self) -> list[Symbol]:
        """Every symbol this config refers to, in field order."""
        found: list[Symbol] = []

        def visit(value: object) -> None:
            if isinstance(value, Symbol):
                found.append(value)
            elif isinstance(value, SequentialFuser):
                found.append(value.fused_module)
            elif isinstance(value, NamedFuser):
                found.extend(value.fuser.symbols())
            elif isinstance(value, tuple):
                for item in value:
                    visit(item)

        visit(self.pattern)
        visit(self.pattern_complex_format)
        for name in SYMBOL_FIELDS:
            visit(getattr(self, name))
        visit(self.fuser_method)
        visit(self.root_node_getter)
        visit(self.extra_inputs_getter)
        return found


def pattern_text(pattern: object) -> str:
    if isinstance(pattern, Symbol):
        return pattern.path
    if isinstance(pattern, MethodName):
        return repr(pattern.name)
    assert isinstance(pattern, tuple)
    return f"({', '.join(pattern_text(item) for item in pattern)})"


def reversed_nested(pattern: Pattern | None) -> Pattern | None:
    """A forward-order sequential pattern in torch's reversed nested format:
    (a, b) -> (b, a); (a, b, c) -> (c, (b, a))."""
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
)


@dataclass(frozen=True)
class Shadowed:
    """A pattern registered twice: ``replaced`` lost to ``winner`` (BackendConfig keeps one)."""

    replaced: PatternConfig
    winner: PatternConfig

    @property
    def intended(self) -> bool:
        return self.winner.replaces_earlier


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
class Backend:
    """A whole backend: everything the generated module contains."""

    name: str
    getter: str
    doc: str
    torch_version: str
    torch_getter: Symbol | None
    default_output: str
    # Named DTypeWithConstraints the dtype configs refer to: module-level constants.
    constraints: tuple[DTypeWithConstraints, ...]
    dtype_configs: tuple[DTypeConfig, ...]
    fusers: tuple[FuserDef, ...]
    # Effective configs in BackendConfig's order: one per pattern, the last registration winning.
    pattern_configs: tuple[PatternConfig, ...]
    shadowed: tuple[Shadowed, ...]
    # The spec file first, then the specs it extends and the files they include.
    files: tuple[SpecFile, ...]
    # Extra top-level modules symbols may come from (besides torch and operator).
    allowed_roots: tuple[str, ...] = ()
    # The QConfigMappings the module also defines (qconfig_model.py), in spec order.
    qconfig_mappings: tuple[QConfigMappingDef, ...] = ()
