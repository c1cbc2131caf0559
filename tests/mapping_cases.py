"""QConfigMappings for the mapping diff, --verify and extract tests, as ``MODULE:FUNCTION`` sides.

- ``x86`` is torch's default post-training mapping for x86; ``planted_x86`` is it
  after three planted changes, one of each kind a review must see: an observer
  keyword changed (the global activation's ``reduce_range``), an entry removed
  (``PReLU``), and an order change (``"reshape"`` moved last).
- ``user_mapping`` is a team's own mapping in the style of PyTorch's BackendConfig
  tutorial, with every kind of entry: global, object types, module name regexes,
  module names and module name + object type + index.
- The rest are bad input: not a mapping, a keyword the observer does not accept,
  a regex that does not compile.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.ao.quantization import QConfig, QConfigMapping, get_default_qat_qconfig_mapping, get_default_qconfig_mapping
from torch.ao.quantization.observer import (
    HistogramObserver,
    MinMaxObserver,
    default_weight_observer,
)

# Planted in planted_x86 (the tests derive the expected report lines from these).
PLANTED_KEYWORD = ("reduce_range", True, False)
PLANTED_REMOVED = nn.PReLU
PLANTED_MOVED = "reshape"


def x86(backend: str = "x86", version: int = 0) -> QConfigMapping:
    return get_default_qconfig_mapping(backend, version)


def planted_x86(backend: str = "x86", version: int = 0) -> QConfigMapping:
    mapping = get_default_qconfig_mapping(backend, version)
    keyword, _, new = PLANTED_KEYWORD
    mapping.set_global(mapping.global_qconfig._replace(activation=HistogramObserver.with_args(**{keyword: new})))
    del mapping.object_type_qconfigs[PLANTED_REMOVED]
    mapping.object_type_qconfigs.move_to_end(PLANTED_MOVED)
    return mapping


# (keyword, value) set on the observer nested in Sigmoid's fake quantize by
# nested_mutation (tests/test_mapping_comparison.py sets it).
NESTED_MUTATION: tuple[str, object] | None = None


def nested_mutation(backend: str = "fbgemm", version: int = 1) -> QConfigMapping:
    """torch's QAT mapping with one keyword of a nested observer changed."""
    mapping = get_default_qat_qconfig_mapping(backend, version)
    assert NESTED_MUTATION is not None
    qconfig = mapping.object_type_qconfigs[nn.Sigmoid]
    fake_quant = qconfig.activation.p
    observer = fake_quant.keywords["observer"].p
    word, value = NESTED_MUTATION
    changed = observer.func.with_args(**{**observer.keywords, word: value})
    activation = fake_quant.func.with_args(**{**fake_quant.keywords, "observer": changed})
    return mapping.set_object_type(nn.Sigmoid, qconfig._replace(activation=activation))


def user_mapping() -> QConfigMapping:
    """A team's recipe: its own observer, some layers kept float by name and by regex."""
    activation = MinMaxObserver.with_args(quant_min=0, quant_max=127, eps=2**-12)
    qconfig = QConfig(activation=activation, weight=default_weight_observer)
    mapping = QConfigMapping().set_global(qconfig)
    for object_type in (nn.Linear, nn.Conv2d, nn.BatchNorm2d, nn.ReLU, F.relu, "add"):
        mapping.set_object_type(object_type, qconfig)
    mapping.set_module_name_regex(r"classifier\..*", None)
    mapping.set_module_name_regex(r"features\.[0-9]+\.conv", qconfig)
    mapping.set_module_name("features.0", None)
    mapping.set_module_name_object_type_order("features", torch.add, 0, None)
    return mapping


def not_a_mapping() -> int:
    return 42


def unknown_keyword() -> QConfigMapping:
    return QConfigMapping().set_global(QConfig(activation=MinMaxObserver.with_args(no_such_keyword=1), weight=default_weight_observer))


def bad_regex() -> QConfigMapping:
    qconfig = QConfig(activation=MinMaxObserver, weight=default_weight_observer)
    return QConfigMapping().set_module_name_regex("features.(", qconfig)


def __getattr__(name: str):
    """``torch_NAME``: torch's function for the builtin mapping NAME (a row of
    tests/backends.py's MAPPINGS), called with the row's arguments; so that
    ``extract mapping_cases:torch_x86_qat`` extracts each of the 14."""
    import backends

    row = backends.MAPPING_BY_NAME.get(name.removeprefix("torch_")) if name.startswith("torch_") else None
    if row is None:
        raise AttributeError(name)

    def torch_mapping() -> QConfigMapping:
        return backends.torch_mapping(row)

    torch_mapping.__name__ = name
    return torch_mapping
