"""Read dtype configs and named constraints (``[dtype_configs]``, ``[constraints]``),
checking every bound against the others and against its dtype's range."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from .checks import Checker
from .model import BOUND_NAMES, DTYPE_NAMES, DTypeConfig, DTypeWithConstraints
from .sources import Document
from .suggest import one_of
from .text import shown

DTYPE_CONFIG_KEYS = ("input_dtype", "output_dtype", "weight_dtype", "bias_dtype", "is_dynamic")
ROLES = ("input", "output", "weight")
# The fields torch's fixed-qparams helper copies from the constraints into a dtype config.
ACTIVATION_CONSTRAINT_KEYS = (
    "quant_min_lower_bound",
    "quant_max_upper_bound",
    "scale_exact_match",
    "zero_point_exact_match",
)
# The quantized range of each integer dtype: quant bounds and zero points must lie in it.
INTEGER_RANGES = {
    "quint8": (0, 255),
    "qint8": (-128, 127),
    "qint32": (-(2**31), 2**31 - 1),
    "quint4x2": (0, 15),
    "quint2x4": (0, 3),
    "uint8": (0, 255),
    "int8": (-128, 127),
    "int16": (-(2**15), 2**15 - 1),
    "uint16": (0, 2**16 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "int4": (-8, 7),
    "bool": (0, 1),
}


def read_constraints(checker: Checker, doc: Document, table: dict[str, Any], key: str, name: str) -> DTypeWithConstraints | None:
    """A ``[constraints.NAME]`` table: a dtype and any of DTypeWithConstraints' bounds."""
    checker.check_keys(doc, table, key, ("dtype", *BOUND_NAMES), required=("dtype",))
    constraints = _dtype_with_bounds(checker, doc, table, key)
    return None if constraints is None else replace(constraints, name=name)


def _dtype_with_bounds(checker: Checker, doc: Document, table: dict[str, Any], key: str) -> DTypeWithConstraints | None:
    before = checker.reported
    dtype = checker.dtype_name(doc, table["dtype"], f"{key}.dtype") if "dtype" in table else None
    bounds = {
        name: checker.number(doc, table[name], f"{key}.{name}", integer=name == "zero_point_exact_match")
        for name in BOUND_NAMES
        if name in table
    }
    if checker.reported > before or dtype is None:
        return None
    constraints = DTypeWithConstraints(dtype=dtype, **bounds)
    _check_bounds(checker, doc, key, constraints)
    return None if checker.reported > before else constraints


def _check_bounds(checker: Checker, doc: Document, key: str, constraints: DTypeWithConstraints) -> None:
    """Bounds torch would accept but that can never be met, or that contradict each other."""
    low, high = constraints.quant_min_lower_bound, constraints.quant_max_upper_bound
    if low is not None and high is not None and low > high:
        checker.problem(doc, f"{key}.quant_min_lower_bound", f"{low} is above quant_max_upper_bound {high}; expected quant_min_lower_bound <= quant_max_upper_bound")
    scale_low, scale_high = constraints.scale_min_lower_bound, constraints.scale_max_upper_bound
    for name, value in (("scale_min_lower_bound", scale_low), ("scale_max_upper_bound", scale_high), ("scale_exact_match", constraints.scale_exact_match)):
        if value is not None and value <= 0:
            checker.problem(doc, f"{key}.{name}", f"{value} is not a scale; expected a number > 0")
    if scale_low is not None and scale_high is not None and 0 < scale_high < scale_low:
        checker.problem(doc, f"{key}.scale_min_lower_bound", f"{scale_low} is above scale_max_upper_bound {scale_high}; expected scale_min_lower_bound <= scale_max_upper_bound")
    # An exact value outside its own bounds can never be met by any qconfig.
    exact_zero_point, exact_scale = constraints.zero_point_exact_match, constraints.scale_exact_match
    if exact_zero_point is not None and not ((low is None or low <= exact_zero_point) and (high is None or exact_zero_point <= high)):
        checker.problem(doc, f"{key}.zero_point_exact_match", f"{exact_zero_point} is outside [quant_min_lower_bound, quant_max_upper_bound] = [{low}, {high}]; expected a zero point within them")
    if exact_scale is not None and exact_scale > 0 and not ((scale_low is None or scale_low <= exact_scale) and (scale_high is None or exact_scale <= scale_high)):
        checker.problem(doc, f"{key}.scale_exact_match", f"{exact_scale} is outside [scale_min_lower_bound, scale_max_upper_bound] = [{scale_low}, {scale_high}]; expected a scale within them")
    dtype_range = INTEGER_RANGES.get(constraints.dtype or "")
    for name in ("quant_min_lower_bound", "quant_max_upper_bound", "zero_point_exact_match"):
        value = getattr(constraints, name)
        if value is None:
            continue
        if dtype_range is None:
            checker.problem(doc, f"{key}.{name}", f"{constraints.dtype} is not an integer dtype and has no quantized range; expected no {name}")
        elif not dtype_range[0] <= value <= dtype_range[1]:
            checker.problem(doc, f"{key}.{name}", f"{value} is outside the range of {constraints.dtype}; expected a value from {dtype_range[0]} to {dtype_range[1]}")


class DTypeReader:
    """Reads dtype configs; ``constraints`` are the named [constraints] tables."""

    def __init__(self, checker: Checker, constraints: Callable[[], dict[str, DTypeWithConstraints | None]], incomplete: Callable[[], bool]):
        self.checker = checker
        self.constraints = constraints
        self.incomplete = incomplete
        self._choices: list[str] = []
        self._choices_of = -1

    def choices(self, constraints: dict[str, DTypeWithConstraints | None]) -> list[str]:
        """Dtype names, then constraints names: built once, not for every unknown name."""
        if self._choices_of != len(constraints):
            self._choices = [*DTYPE_NAMES, *sorted(constraints)]
            self._choices_of = len(constraints)
        return self._choices

    def dtype(self, doc: Document, value: Any, key: str) -> DTypeWithConstraints | None:
        """A dtype name, the name of a [constraints] table, or an inline table with
        ``dtype`` and bounds."""
        if isinstance(value, str):
            if value in DTYPE_NAMES:
                return DTypeWithConstraints(dtype=value)
            constraints = self.constraints()
            if value in constraints:
                return constraints[value]
            if not self.incomplete():
                self.checker.problem(doc, key, f"unknown dtype or constraints {shown(value)}; {one_of(self.choices(constraints), value)}")
            return None
        if not isinstance(value, dict):
            self.checker.problem(doc, key, f"expected a dtype name, a [constraints] name, or a table with 'dtype' and bounds, got {shown(value)}")
            return None
        self.checker.check_keys(doc, value, key, ("dtype", *BOUND_NAMES), required=("dtype",))
        return _dtype_with_bounds(self.checker, doc, value, key)

    def config(self, doc: Document, name: str, table: dict[str, Any], key: str) -> DTypeConfig | None:
        check = self.checker
        check.check_keys(doc, table, key, DTYPE_CONFIG_KEYS)
        before = check.reported
        dtypes = {}
        for role in ROLES:
            value = table.get(f"{role}_dtype")
            dtypes[role] = DTypeWithConstraints() if value is None else self.dtype(doc, value, f"{key}.{role}_dtype")
        bias = table.get("bias_dtype")
        if bias is not None:
            bias = check.dtype_name(doc, bias, f"{key}.bias_dtype")
        is_dynamic = table.get("is_dynamic")
        if is_dynamic is not None:
            check.check_type(doc, is_dynamic, bool, f"{key}.is_dynamic")
        if check.reported > before or None in dtypes.values():
            return None
        return DTypeConfig(name, dtypes["input"], dtypes["output"], dtypes["weight"], bias, is_dynamic)


def with_activation_constraints(config: DTypeConfig, constraints: DTypeWithConstraints, constraints_name: str) -> DTypeConfig | str:
    """``config`` with ``constraints`` applied as torch's fixed-qparams helper does:
    input and output activations of the constraints' dtype take its quant range and
    exact scale and zero point. The config itself when nothing applies; a message
    when torch's helper would raise."""
    activations = {}
    for role in ("input", "output"):
        current = getattr(config, role)
        if current.dtype != constraints.dtype:
            continue
        for bound in ("scale_min_lower_bound", "scale_max_upper_bound"):
            if getattr(current, bound) is not None:
                return f"dtype config {config.name!r} sets {role}_dtype.{bound}, which activation constraints {constraints_name!r} cannot be applied to"
        activations[role] = replace(current, name=None, **{name: getattr(constraints, name) for name in ACTIVATION_CONSTRAINT_KEYS})
    new = replace(config, **activations)
    if new == config:
        return config
    return replace(new, name=f"{config.name}_with_{constraints_name}", base=config.name, activation_constraints=constraints_name)

