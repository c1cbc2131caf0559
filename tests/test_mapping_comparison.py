"""The structural comparison of QConfigMappings (generator/compare/mapping_*.py)
catches each kind of difference, names the entry and the keyword, and its
descriptions survive JSON exactly. Each difference is planted in one of torch's
own mappings; torch's qconfig_equals is the second reference where it applies."""

from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import textwrap
from collections import OrderedDict

import pytest
import torch
from backends import REPO
from torch.ao.quantization import (
    QConfig,
    QConfigMapping,
    get_default_qat_qconfig_mapping,
    get_default_qconfig_mapping,
)
from torch.ao.quantization.fake_quantize import FakeQuantize, FixedQParamsFakeQuantize
from torch.ao.quantization.observer import (
    FixedQParamsObserver,
    HistogramObserver,
    MinMaxObserver,
    default_weight_observer,
)
from torch.ao.quantization.qconfig import QConfigDynamic, qconfig_equals

from generator.compare.mapping_describe import describe_qconfig_mapping
from generator.compare.mapping_description import (
    Items,
    Opaque,
    Table,
    from_json,
    to_json,
)
from generator.compare.mapping_differ import diff_mappings


def differences(old, new) -> list[str]:
    """Every difference from one live mapping to the other, as report lines."""
    return [str(change) for change in diff_mappings(describe_qconfig_mapping(old), describe_qconfig_mapping(new))]


# -- the comparison catches each kind of difference ------------------------------------


@pytest.fixture
def qat_mapping() -> QConfigMapping:
    return get_default_qat_qconfig_mapping("fbgemm", 1)


def test_a_changed_nested_keyword_is_named_with_its_path(qat_mapping):
    changed = copy.deepcopy(qat_mapping)
    weight = changed.object_type_qconfigs[torch.nn.Sigmoid].weight
    observer = FixedQParamsObserver.with_args(scale=2 / 256, zero_point=0, dtype=torch.quint8, quant_min=0, quant_max=255)
    changed.set_object_type(torch.nn.Sigmoid, QConfig(activation=FixedQParamsFakeQuantize.with_args(observer=observer), weight=weight))
    assert differences(qat_mapping, changed) == [
        "object_types[torch.nn.Sigmoid].activation.with_args.observer.with_args.scale: 0.00390625 -> 0.0078125"
    ]
    # torch's own reference agrees there is a difference, and only there.
    unequal = [key for key, qconfig in changed.object_type_qconfigs.items()
               if not qconfig_equals(qconfig, qat_mapping.object_type_qconfigs[key])]
    assert unequal == [torch.nn.Sigmoid]


def test_a_keyword_added_removed_or_retyped_is_caught(qat_mapping):
    """torch's qconfig_equals compares keywords with ==, so True == 1 passes there;
    the description compares types too."""
    global_activation = qat_mapping.global_qconfig.activation
    keywords = dict(global_activation.p.keywords)
    for change, expected in (
        ({**keywords, "reduce_range": 1}, "global.activation.with_args.reduce_range: true -> 1"),
        ({**keywords, "quant_max": 255.0}, "global.activation.with_args.quant_max: 255 -> 255.0"),
        ({k: v for k, v in keywords.items() if k != "reduce_range"}, "global.activation.with_args.reduce_range: true -> (absent)"),
        ({**keywords, "eps": 2**-12}, "global.activation.with_args.eps: (absent) -> 0.000244140625"),
        ({**keywords, "dtype": torch.qint8}, "global.activation.with_args.dtype: (absent) -> qint8"),
    ):
        changed = copy.deepcopy(qat_mapping)
        activation = global_activation.p.func.with_args(**change)
        changed.set_global(QConfig(activation=activation, weight=qat_mapping.global_qconfig.weight))
        assert differences(qat_mapping, changed) == [expected]


def test_a_removed_added_or_reordered_entry_is_caught(qat_mapping):
    removed = copy.deepcopy(qat_mapping)
    del removed.object_type_qconfigs[torch.nn.PReLU]
    (line,) = differences(qat_mapping, removed)
    assert line.startswith("object_types[torch.nn.PReLU]: {activation = torch.ao.quantization.observer.HistogramObserver, ")
    assert line.endswith(" (at 9) -> (absent)")

    added = copy.deepcopy(qat_mapping).set_object_type(torch.nn.Linear, None)
    assert differences(qat_mapping, added) == ["object_types[torch.nn.Linear]: (absent) -> None (at 23)"]

    reordered = copy.deepcopy(qat_mapping)
    reordered.object_type_qconfigs.move_to_end("reshape")
    assert differences(qat_mapping, reordered) == ['object_types[{method = "reshape"}]: moved from position 0 to 22']
    # Entry by entry, qconfig_equals finds nothing: only the order changed.
    assert all(qconfig_equals(reordered.object_type_qconfigs[key], qconfig)
               for key, qconfig in qat_mapping.object_type_qconfigs.items())


def test_the_other_kinds_of_entries_are_compared():
    qconfig = get_default_qconfig_mapping("x86").global_qconfig
    base = QConfigMapping().set_module_name_regex("features.*", qconfig).set_module_name("head", None)
    base.set_module_name_object_type_order("blocks.0", torch.nn.functional.linear, 0, qconfig)
    changed = copy.deepcopy(base).set_module_name("head", qconfig)
    changed.module_name_object_type_order_qconfigs.clear()
    changed.set_module_name_object_type_order("blocks.0", torch.nn.functional.linear, 1, qconfig)
    changed.set_module_name_regex("classifier.*", None)
    # In spec terms: the spec's inline tables, dtypes and qschemes by name.
    x86_qconfig = (
        "{activation = {class = torch.ao.quantization.observer.HistogramObserver, with_args = {reduce_range = true}}, "
        "weight = {class = torch.ao.quantization.observer.PerChannelMinMaxObserver, "
        "with_args = {dtype = qint8, qscheme = per_channel_symmetric}}}"
    )
    assert differences(base, changed) == [
        'module_name_regexes["classifier.*"]: (absent) -> None (at 1)',
        f'module_names["head"]: None -> {x86_qconfig}',
        f'module_name_object_type_orders[("blocks.0", torch.nn.functional.linear, 0)]: {x86_qconfig} (at 0) -> (absent)',
        f'module_name_object_type_orders[("blocks.0", torch.nn.functional.linear, 1)]: (absent) -> {x86_qconfig} (at 0)',
    ]


def test_constructors_are_compared_by_class_arguments_and_callable_args():
    bare = QConfigMapping().set_global(QConfig(activation=HistogramObserver, weight=MinMaxObserver))
    for activation, expected in (
        (HistogramObserver.with_args(), "global.activation: torch.ao.quantization.observer.HistogramObserver -> "
                                        "{class = torch.ao.quantization.observer.HistogramObserver}"),
        (MinMaxObserver, "global.activation: torch.ao.quantization.observer.HistogramObserver -> "
                         "torch.ao.quantization.observer.MinMaxObserver"),
    ):
        changed = QConfigMapping().set_global(QConfig(activation=activation, weight=MinMaxObserver))
        assert differences(bare, changed) == [expected]
    partial = QConfigMapping().set_global(QConfig(activation=HistogramObserver.with_args(bins=8), weight=MinMaxObserver))
    for activation, expected in (
        (MinMaxObserver.with_args(bins=8), "global.activation.class: torch.ao.quantization.observer.HistogramObserver -> "
                                           "torch.ao.quantization.observer.MinMaxObserver"),
        (HistogramObserver.with_args(bins=8).with_callable_args(eps=lambda: 0.5),
         "global.activation.with_callable_args.eps: (absent) -> test_mapping_comparison."),
    ):
        changed = QConfigMapping().set_global(QConfig(activation=activation, weight=MinMaxObserver))
        (line,) = differences(partial, changed)
        assert line.startswith(expected), line
    # with_args on a partial: a constructor made from a constructor.
    nested = QConfigMapping().set_global(QConfig(activation=default_weight_observer.with_args(dtype=torch.quint8), weight=MinMaxObserver))
    plain = QConfigMapping().set_global(QConfig(activation=MinMaxObserver.with_args(dtype=torch.quint8), weight=MinMaxObserver))
    (line,) = differences(plain, nested)
    assert line.startswith("global.activation.class: torch.ao.quantization.observer.MinMaxObserver -> "
                           "{class = torch.ao.quantization.observer.MinMaxObserver, with_args = {dtype = qint8, ")


def test_qconfig_kinds_and_new_attributes_are_compared():
    qconfig = QConfig(activation=HistogramObserver, weight=MinMaxObserver)
    with pytest.warns(FutureWarning):
        dynamic = QConfigDynamic(activation=HistogramObserver, weight=MinMaxObserver)
    assert differences(QConfigMapping().set_global(qconfig), QConfigMapping().set_global(dynamic)) == [
        "global.type: torch.ao.quantization.qconfig.QConfig -> torch.ao.quantization.qconfig.QConfigDynamic"
    ]
    assert differences(QConfigMapping(), QConfigMapping().set_global(qconfig)) == [
        "global: None -> {activation = torch.ao.quantization.observer.HistogramObserver, "
        "weight = torch.ao.quantization.observer.MinMaxObserver}"
    ]
    later = QConfigMapping()
    later.added_by_a_later_torch = OrderedDict(a=1)
    assert differences(QConfigMapping(), later) == ['added_by_a_later_torch: (absent) -> {"a": 1}']


def test_torchs_partial_wrappers_compare_by_identity():
    """Why the comparison describes constructors rather than using ==."""
    assert MinMaxObserver.with_args(dtype=torch.qint8) != MinMaxObserver.with_args(dtype=torch.qint8)
    assert qconfig_equals(QConfig(activation=MinMaxObserver.with_args(dtype=torch.qint8), weight=MinMaxObserver),
                          QConfig(activation=MinMaxObserver.with_args(dtype=torch.qint8), weight=MinMaxObserver))


# -- descriptions survive JSON exactly ----------------------------------------------------


def test_every_kind_of_value_survives_json_with_its_type():
    weird = FakeQuantize.with_args(
        observer=MinMaxObserver, quant_min=0, quant_max=255.0, reduce_range=True, eps=float("inf"),
        factory_kwargs={"device": "cpu"}, bins=[1, 2.0], shape=(3,), lost=float("nan"), custom=object(),
    ).with_callable_args(seed=lambda: 0)
    mapping = QConfigMapping().set_global(QConfig(activation=weird, weight=MinMaxObserver))
    mapping.set_module_name_object_type_order("a", "relu", 0, None)
    description = describe_qconfig_mapping(mapping)
    keywords = dict(description.global_qconfig.activation.keywords)
    assert isinstance(keywords["factory_kwargs"], Table) and isinstance(keywords["bins"], Items)
    assert isinstance(keywords["custom"], Opaque) and "0x" not in keywords["custom"].text
    again = from_json(json.loads(json.dumps(to_json(description), allow_nan=False)))
    assert to_json(again) == to_json(description)
    found = dict(again.global_qconfig.activation.keywords)
    assert math.isinf(found["eps"]) and math.isnan(found["lost"])
    assert type(found["quant_max"]) is float and type(found["quant_min"]) is int and found["reduce_range"] is True


@pytest.mark.parametrize("backend", ["fbgemm", "qnnpack"])
def test_torchs_default_mappings_survive_json_exactly(backend):
    for mapping in (get_default_qconfig_mapping(backend), get_default_qat_qconfig_mapping(backend, 0)):
        description = describe_qconfig_mapping(mapping)
        assert from_json(json.loads(json.dumps(to_json(description), allow_nan=False))) == description


def test_the_mapping_differ_needs_no_torch():
    """A description travels as JSON from the process that runs torch; comparing needs none."""
    description = json.dumps({"type": "t", "global": None, "object_types": [[{"method": "relu"}, None]],
                              "module_name_regexes": [], "module_names": [], "module_name_object_type_orders": [], "other": []})
    code = textwrap.dedent(
        """
        import json, sys
        from generator.compare.mapping_description import from_json
        from generator.compare.mapping_differ import diff_mappings

        old = from_json(json.loads(sys.argv[1]))
        new = from_json(json.loads(sys.argv[1].replace('"relu"', '"gelu"')))
        print("\\n".join(str(change) for change in diff_mappings(old, new)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, description], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PYTHONPATH": f"{REPO / 'tests' / 'no_torch'}{os.pathsep}{REPO}"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ['object_types[{method = "relu"}]: None (at 0) -> (absent)', 'object_types[{method = "gelu"}]: (absent) -> None (at 0)']


# -- the commands catch a changed nested keyword, whichever it is ----------------------


def _mutations() -> list[tuple[str, object]]:
    """Each keyword of the observer nested in torch's QAT Sigmoid entry, changed to
    another value of its type."""
    import mapping_cases

    observer = get_default_qat_qconfig_mapping("fbgemm", 1).object_type_qconfigs[torch.nn.Sigmoid].activation.p.keywords["observer"].p
    other = {torch.quint8: torch.qint8, torch.qint8: torch.quint8}
    mutations = []
    for word, value in sorted(observer.keywords.items()):
        if isinstance(value, torch.dtype):
            mutations.append((word, other[value]))
        elif isinstance(value, float):
            mutations.append((word, value * 2))
        else:
            mutations.append((word, value + 1))
    assert mapping_cases.NESTED_MUTATION is None and len(mutations) == 5
    return mutations


@pytest.mark.parametrize("word, value", _mutations(), ids=[word for word, _ in _mutations()])
def test_diff_catches_each_changed_nested_keyword(word, value, capsys, monkeypatch):
    import mapping_cases
    from generator.cli import main

    monkeypatch.setattr(mapping_cases, "NESTED_MUTATION", (word, value))
    monkeypatch.chdir(REPO)
    assert main(["diff", "mapping_cases:torch_fbgemm_qat", "mapping_cases:nested_mutation", "--format", "json"]) == 1
    ((compared,),) = [json.loads(capsys.readouterr().out)["qconfig_mappings"]["compared"]]
    assert [change["path"] for change in compared["changes"]] == [
        f"object_types[torch.nn.Sigmoid].activation.with_args.observer.with_args.{word}"
    ]


def test_verify_catches_a_changed_nested_keyword_in_torchs_mapping(capsys, monkeypatch):
    import mapping_cases
    from generator.cli import main

    word, value = _mutations()[0]
    monkeypatch.setattr(mapping_cases, "NESTED_MUTATION", (word, value))
    monkeypatch.setattr(torch.ao.quantization, "get_default_qat_qconfig_mapping", mapping_cases.nested_mutation)
    monkeypatch.chdir(REPO)
    assert main(["--verify", "spec/fbgemm.toml"]) == 1
    out = capsys.readouterr().out
    assert f"\n      object_types[torch.nn.Sigmoid].activation.with_args.observer.with_args.{word}: " in out
    out = out.replace("\n    ", " ")  # lines wrapped at 120 columns, joined again
    assert "qconfig mapping fbgemm_qat: differs from torch.ao.quantization.get_default_qat_qconfig_mapping(backend='fbgemm', version=1) (1 change" in out
