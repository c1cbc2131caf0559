"""``extract MODULE:FUNCTION`` of a function returning a QConfigMapping: the spec it
writes regenerates an equal mapping (entry by entry, in order, by the structural
differ) for torch's 14 default mappings and for a user's mapping with module name
and regex entries; it names the shared catalog's definitions and groups where they
match; bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import importlib
import tomllib

import backends
import mapping_cases
import pytest
from test_mapping_review import docs_block
from test_schema import validator

from generator.cli import main
from generator.compare.mapping_describe import describe_qconfig_mapping
from generator.compare.mapping_differ import diff_mappings
from generator.formatting import build_module
from generator.loader import load_backend


def _extract(target: str, directory, capsys) -> tuple[int, str, str]:
    (directory / "pyproject.toml").write_text("")
    status = main(["extract", target, "-o", str(directory / "extracted.toml")])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _regenerated(spec):
    """The mapping the spec's module builds (a module run from its source, as generated)."""
    backend = load_backend(spec)
    (mapping,) = backend.qconfig_mappings
    namespace: dict = {}
    exec(compile(build_module(backend, "python -m generator extracted.toml"), str(spec), "exec"), namespace)
    return namespace[mapping.getter]()


def _live(target: str):
    module, _, function = target.partition(":")
    return getattr(importlib.import_module(module), function)()


def _differences(target: str, spec) -> list[str]:
    return [str(c) for c in diff_mappings(describe_qconfig_mapping(_live(target)), describe_qconfig_mapping(_regenerated(spec)))]


@pytest.mark.parametrize("row", backends.MAPPINGS, ids=backends.MAPPING_IDS)
def test_each_builtin_mapping_round_trips_through_catalog_names_only(row, tmp_path, capsys):
    target = f"mapping_cases:torch_{row.name}"
    status, out, err = _extract(target, tmp_path, capsys)
    assert status == 0, err
    spec = tmp_path / "extracted.toml"
    assert _differences(target, spec) == []
    data = tomllib.loads(spec.read_text())
    assert [error.message for error in validator().iter_errors(data)] == []  # what an editor checks too
    # Everything torch's defaults hold is in the catalog: no definitions of its own,
    # and both of the catalog's object type groups used.
    assert not {"qconfigs", "observers", "fake_quantizes"} & set(data)
    ((_, mapping),) = data["qconfig_mappings"].items()
    assert [use.get("group") for use in mapping["object_types"]] == ["default_object_types", "fixed_qparams_object_types"]


def test_a_users_mapping_with_module_name_and_regex_entries_round_trips(tmp_path, capsys):
    target = "mapping_cases:user_mapping"
    status, out, err = _extract(target, tmp_path, capsys)
    assert status == 0, err
    spec = tmp_path / "extracted.toml"
    assert _differences(target, spec) == []
    live = mapping_cases.user_mapping()
    assert [error.message for error in validator().iter_errors(tomllib.loads(spec.read_text()))] == []
    mapping = tomllib.loads(spec.read_text())["qconfig_mappings"]["user_mapping"]
    assert [entry["regex"] for entry in mapping["module_name_regexes"]] == list(live.module_name_regex_qconfigs)
    assert [entry["module_name"] for entry in mapping["module_names"]] == list(live.module_name_qconfigs)
    assert len(mapping["module_name_object_type_orders"]) == len(live.module_name_object_type_order_qconfigs)
    # The weight observer is torch's default_weight_observer: named as the catalog names it.
    (own,) = tomllib.loads(spec.read_text())["qconfigs"].values()
    assert own["weight"] == "default_weight_observer"
    # The spec names the function as torch_getter: --verify compares the two.
    assert main(["--verify", str(spec)]) == 0
    assert "qconfig mapping user_mapping: same as mapping_cases.user_mapping(): global, 6 object types" in capsys.readouterr().out.replace("\n    ", " ")


@pytest.mark.parametrize("target, message", [
    ("mapping_cases:not_a_mapping", "not_a_mapping() returned int, not a BackendConfig or a QConfigMapping"),
    ("mapping_cases:unknown_keyword", "unknown_keyword(): global.activation: expected an observer or fake quantize constructor "
     "that builds; MinMaxObserver.with_args() raised TypeError"),
    ("mapping_cases:bad_regex", "bad_regex(): module_name_regexes['features.(']: expected a regular expression"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(target, message, tmp_path, capsys):
    status, out, err = _extract(target, tmp_path, capsys)
    assert (status, out) == (2, "")
    assert err.startswith(f"error: {target}: {message}") and err.count("\n") == 1, err
    assert not (tmp_path / "extracted.toml").exists()


def test_the_docs_paste_real_extract_output(capsys):
    status = main(["extract", "mapping_cases:user_mapping"])
    assert status == 0
    assert docs_block("python -m generator extract mapping_cases:user_mapping") == capsys.readouterr().out
