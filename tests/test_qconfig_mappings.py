"""Each generated QConfigMapping is torch's, entry by entry and in order, in this
interpreter and in a fresh one.

Two references: our description and differ (generator/compare/mapping_*.py, tested
in test_mapping_comparison.py), which name the entry and the keyword that differ,
and torch's own qconfig_equals. Keys are compared by identity (the same class or
function object), in order.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from torch.ao.quantization import QConfigMapping
from torch.ao.quantization.qconfig import qconfig_equals

import backends
from backends import MAPPING_IDS, MAPPINGS, REPO
from generator.compare.mapping_describe import describe_qconfig_mapping
from generator.compare.mapping_description import from_json, to_json
from generator.compare.mapping_differ import diff_mappings

SECTIONS = {
    "object_type_qconfigs": "object_types",
    "module_name_regex_qconfigs": "module_name_regexes",
    "module_name_qconfigs": "module_names",
    "module_name_object_type_order_qconfigs": "module_name_object_type_orders",
}


def differences(old, new) -> list[str]:
    """Every difference from one live mapping to the other, as report lines."""
    return [str(change) for change in diff_mappings(describe_qconfig_mapping(old), describe_qconfig_mapping(new))]


def _same_key(a, b) -> bool:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_key(x, y) for x, y in zip(a, b))
    return a == b if isinstance(a, (str, int)) else a is b


# -- the 14 builtin mappings -------------------------------------------------------


@pytest.mark.parametrize("row", MAPPINGS, ids=MAPPING_IDS)
def test_generated_mapping_is_torchs_entry_by_entry(row, measurements):
    ours, theirs = backends.generated_mapping(row), backends.torch_mapping(row)
    assert type(ours) is type(theirs) is QConfigMapping
    assert set(vars(ours)) == set(vars(theirs)) == {"global_qconfig", *SECTIONS}
    assert qconfig_equals(ours.global_qconfig, theirs.global_qconfig)
    for attribute, section in SECTIONS.items():
        our_entries, their_entries = getattr(ours, attribute), getattr(theirs, attribute)
        assert len(their_entries) == getattr(row, section)
        # The same keys, the same objects, in the same order; each qconfig equal.
        assert len(our_entries) == len(their_entries)
        for (our_key, our_qconfig), (their_key, their_qconfig) in zip(our_entries.items(), their_entries.items()):
            assert _same_key(our_key, their_key), (our_key, their_key)
            assert qconfig_equals(our_qconfig, their_qconfig), our_key
    assert differences(theirs, ours) == []
    measurements.setdefault("qconfig mappings equal to torch's, entries", {})[row.name] = len(ours.object_type_qconfigs)


@pytest.mark.parametrize("row", MAPPINGS, ids=MAPPING_IDS)
def test_each_spec_records_the_torch_function_it_mirrors(row):
    (mapping,) = [m for m in backends.loaded_spec(row.backend).qconfig_mappings if m.name == row.name]
    assert mapping.getter == row.getter
    assert (mapping.torch_getter, mapping.torch_arguments) == (row.torch_function, row.arguments)


def test_every_mapping_of_the_specs_has_a_row():
    found = {(row.name, m.name) for row in backends.BACKENDS for m in backends.loaded_spec(row.name).qconfig_mappings}
    assert found == {(row.backend, row.name) for row in MAPPINGS}
    assert len(MAPPINGS) == 14


def test_the_derived_spec_inherits_fbgemms_mappings_without_torchs_name():
    """fbgemm_reduce_range extends fbgemm.toml: the same mappings, but it no longer
    claims to be torch's (its torch_getter is not inherited)."""
    from generator.loader import load_backend

    derived = load_backend(REPO / "spec" / "fbgemm_reduce_range.toml").qconfig_mappings
    assert [m.name for m in derived] == ["fbgemm", "fbgemm_qat", "fbgemm_qat_v0"]
    assert all(m.torch_getter is None for m in derived)
    module = backends.import_path(REPO / "generated" / "fbgemm_reduce_range.py", "reduce_range_mappings")
    for row in MAPPINGS[:3]:
        assert differences(backends.torch_mapping(row), getattr(module, row.getter)()) == []


# Builds every generated mapping in a fresh interpreter, before anything but the
# generated modules has imported torch.ao.quantization's helpers, and prints their
# descriptions as JSON, which the test compares with torch's described here.
FRESH = textwrap.dedent(
    """
    import importlib.util, json, sys

    rows = json.loads(sys.argv[1])
    assert "torch.ao.quantization.backend_config.utils" not in sys.modules
    modules, built = {}, {}
    for backend, path, getter in rows:
        if backend not in modules:
            spec = importlib.util.spec_from_file_location(f"fresh_{backend}", path)
            modules[backend] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(modules[backend])
        built[getter] = getattr(modules[backend], getter)()

    from generator.compare.mapping_describe import describe_qconfig_mapping
    from generator.compare.mapping_description import to_json

    print(json.dumps({getter: to_json(describe_qconfig_mapping(mapping)) for getter, mapping in built.items()}))
    """
)


@pytest.fixture(scope="module")
def fresh_descriptions() -> dict:
    rows = [[row.backend, str(backends.BY_NAME[row.backend].generated), row.getter] for row in MAPPINGS]
    result = subprocess.run(
        [sys.executable, "-c", FRESH, json.dumps(rows)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("row", MAPPINGS, ids=MAPPING_IDS)
def test_same_as_torch_in_a_fresh_interpreter(row, fresh_descriptions):
    ours = from_json(fresh_descriptions[row.getter])
    theirs = describe_qconfig_mapping(backends.torch_mapping(row))
    assert [str(change) for change in diff_mappings(theirs, ours)] == []
    assert ours == theirs


# -- descriptions survive JSON exactly ----------------------------------------------------


@pytest.mark.parametrize("row", MAPPINGS[:3], ids=MAPPING_IDS[:3])
def test_descriptions_survive_json_exactly(row):
    description = describe_qconfig_mapping(backends.generated_mapping(row))
    assert from_json(json.loads(json.dumps(to_json(description), allow_nan=False))) == description
