"""The view of a backend's QConfigMappings for the templates: module constants
(named constructors and qconfigs), and each getter's docstring and setter calls.

Every expression is built here from validated model values: symbols through the
module's import plan, strings through string_literal, numbers as torch's sources
write them. The template (qconfig_mapping.py.j2) only lays a getter out.
"""

from __future__ import annotations

from dataclasses import dataclass

from .literals import docstring, number_literal, string_literal
from .model import Backend, Symbol
from .names import QCONFIG_NAMES, ImportPlan
from .qconfig_model import (
    Constructor,
    KeywordValue,
    ObjectType,
    QConfigMappingDef,
    QConfigRef,
    TorchConstant,
    module_constants,
)
from .text import call_text

MAPPING_TEMPLATE = "qconfig_mapping.py.j2"
CONSTRUCTORS_COMMENT = "Observer and fake-quantize constructors of the QConfigMappings."
QCONFIGS_COMMENT = "QConfigs of the QConfigMappings."


@dataclass(frozen=True)
class MappingView:
    constants: list[tuple[str, str, list[str]]]  # (name, expression, comment lines above it)
    names: list[str]  # the module-level names the mappings add
    getters: list[dict[str, object]]  # what the template needs for each getter
    import_names: tuple[str, ...]  # from torch.ao.quantization import ...


def mapping_view(backend: Backend, plan: ImportPlan) -> MappingView:
    mappings = backend.qconfig_mappings
    if not mappings:
        return MappingView([], [], [], ())
    writer = _Writer(plan)
    constructors, qconfigs = module_constants(mappings)
    constants: list[tuple[str, str, list[str]]] = []
    for index, constructor in enumerate(constructors):
        assert constructor.name is not None
        constants.append((constructor.name, writer.constructor(constructor, defining=True), [CONSTRUCTORS_COMMENT] if index == 0 else []))
    for index, qconfig in enumerate(qconfigs):
        assert qconfig.name is not None
        constants.append((qconfig.name, writer.qconfig(qconfig, defining=True), [QCONFIGS_COMMENT] if index == 0 else []))
    getters = [{"getter": m.getter, "docstring": _docstring(m), "calls": writer.calls(m)} for m in mappings]
    names = [m.getter for m in mappings] + [name for name, _, _ in constants]
    uses_qconfig = bool(qconfigs) or writer.inline_qconfigs
    import_names = QCONFIG_NAMES if uses_qconfig else tuple(name for name in QCONFIG_NAMES if name != "QConfig")
    return MappingView(constants, names, getters, import_names)


class _Writer:
    def __init__(self, plan: ImportPlan):
        self.plan = plan
        self.inline_qconfigs = False

    def calls(self, mapping: QConfigMappingDef) -> list[str]:
        """The setter calls of the getter's chain, in torch's order of kinds."""
        calls = []
        if mapping.global_qconfig is not None:
            calls.append(f"set_global({self.qconfig(mapping.global_qconfig)})")
        for entry in mapping.object_types:
            calls.append(f"set_object_type({self.object_type(entry.object_type)}, {self.qconfig(entry.qconfig)})")
        for regex, qconfig in mapping.module_name_regexes:
            calls.append(f"set_module_name_regex({string_literal(regex)}, {self.qconfig(qconfig)})")
        for name, qconfig in mapping.module_names:
            calls.append(f"set_module_name({string_literal(name)}, {self.qconfig(qconfig)})")
        for name, object_type, index, qconfig in mapping.module_name_object_type_orders:
            arguments = f"{string_literal(name)}, {self.object_type(object_type)}, {index}, {self.qconfig(qconfig)}"
            calls.append(f"set_module_name_object_type_order({arguments})")
        return calls

    def object_type(self, object_type: ObjectType) -> str:
        if isinstance(object_type, Symbol):
            return self.plan.expression(object_type)
        return string_literal(object_type.name)

    def qconfig(self, qconfig: QConfigRef, defining: bool = False) -> str:
        if qconfig is None:
            return "None"
        if qconfig.name is not None and not defining:
            return qconfig.name
        if qconfig.name is None:
            self.inline_qconfigs = True
        return f"QConfig(activation={self.constructor(qconfig.activation)}, weight={self.constructor(qconfig.weight)})"

    def constructor(self, constructor: Constructor, defining: bool = False) -> str:
        if constructor.name is not None and not defining:
            return constructor.name
        func = constructor.func
        if isinstance(func, Symbol):
            written = self.plan.expression(func)
        else:
            assert func.name is not None  # a constructor is called through its name
            written = func.name
        if constructor.keywords is None:
            return written
        arguments = ", ".join(f"{word}={self.value(value)}" for word, value in constructor.keywords)
        return f"{written}.with_args({arguments})"

    def value(self, value: KeywordValue) -> str:
        if isinstance(value, Constructor):
            return self.constructor(value)
        if isinstance(value, TorchConstant):
            return f"torch.{value.name}"
        if isinstance(value, str):
            return string_literal(value)
        if isinstance(value, bool):
            return repr(value)
        return number_literal(value)


def _docstring(mapping: QConfigMappingDef) -> str:
    """The getter's docstring: its doc, then the torch function it mirrors (wrapped
    between words, so that a long dotted name stands alone on its line)."""
    if mapping.torch_getter is None:
        return docstring(mapping.doc)
    return docstring(mapping.doc, f"Mirrors {call_text(mapping.torch_getter, mapping.torch_arguments)}.")
