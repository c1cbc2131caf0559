"""python -m generator extract: a spec from an existing BackendConfig.

Without a base (``--base none``), every BackendConfig getter of torch 2.13.0
round-trips as an op-group cover (extract -> load and generate in memory -> run ->
the comparison engine finds the configs equal), and so does a user's config with a
fuser function and a constrained dtype config of its own. The extracted FBGEMM
spec declares the dtype configs and uses the op groups that spec/fbgemm.toml does.
The spec is the same bytes on every run. Delta extraction (a spec that extends
another) is tested in test_extract_delta.py.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import backends
from conftest import REPO
from generator.cli import main as generator_main
from generator.compare.differ import compare
from generator.compare.sides import describe_sides, load_function_side, load_generated
from generator.compare.text_report import text_report
from generator.extract.bases import NO_BASE
from generator.extract.extractor import Extraction, extract
from generator.formatting import build_module
from generator.loader import load_backend

TESTS = Path(__file__).resolve().parent
USER_CONFIG = "extract_user_config:get_my_backend_config"
USER_FUSER = "extract_user_config.fuse_linear_relu_for_inference"
# Every BackendConfig getter torch 2.13.0 has, as MODULE:FUNCTION.
TORCH_GETTERS = {row.name: f"{row.torch_module}:{row.getter}" for row in backends.BACKENDS}
# What each extraction is, for the record: (shared op group uses, explicit patterns).
EXPECTED = {
    "fbgemm": (11, 0),
    "x86": (11, 0),
    "qnnpack": (10, 0),
    "native": (12, 0),
    "native_legacy": (12, 0),
    "tensorrt": (6, 1),
    "onednn": (16, 0),
    # Uses with rows of its own are written out; the rest are (parts of) shared groups.
    "executorch": (11, 25),
}


@functools.cache
def extracted(target: str, base: str = NO_BASE) -> Extraction:
    return extract(target, "spec/extracted.toml", "extracted.py", base=base)


def run_extract(*args: str, capsys) -> tuple[int, str, str]:
    status = generator_main(["extract", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def round_trip(target: str, directory: Path, base: str = NO_BASE):
    """The extracted spec, loaded and generated as the CLI would, run and compared
    with the function's own config by the engine."""
    spec = directory / "extracted.toml"
    spec.write_text(extracted(target, base).text)
    backend = load_backend(spec)
    source = build_module(backend, "python -m generator extracted.toml")
    ours = load_generated(backend, source, str(spec), "spec")
    module, _, function = target.partition(":")
    theirs = load_function_side(module, function, target, "function")
    return compare(*describe_sides(ours, theirs)), backend


def test_every_torch_backend_config_getter_is_listed():
    """The round trips below cover every getter of torch's backend_config modules."""
    import importlib
    import pkgutil

    import torch.ao.quantization.backend_config as package

    found = set()
    for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
        module = importlib.import_module(info.name)
        found |= {
            value
            for name, value in vars(module).items()
            if name.startswith("get_") and name.endswith("backend_config") and getattr(value, "__module__", None) == info.name
        }
    listed = {getattr(importlib.import_module(m), f) for m, f in (t.split(":") for t in TORCH_GETTERS.values())}
    assert {f.__name__ for f in found} - {f.__name__ for f in listed} <= {"get_qnnpack_pt2e_backend_config"}
    assert len(listed) == 8


def schema_problems(text: str) -> list[str]:
    """What an editor applying the spec schema (spec/backendconfig-spec.schema.json) flags."""
    import json

    from jsonschema import Draft202012Validator

    schema = json.loads((REPO / "spec" / "backendconfig-spec.schema.json").read_text(encoding="utf-8"))
    return [error.message for error in Draft202012Validator(schema).iter_errors(tomllib.loads(text))]


@pytest.mark.parametrize("name", list(TORCH_GETTERS))
def test_torch_config_round_trips(name, tmp_path):
    comparison, backend = round_trip(TORCH_GETTERS[name], tmp_path)
    assert comparison.equal, text_report(comparison, [])
    assert len(backend.pattern_configs) == backends.BY_NAME[name].effective
    extraction = extracted(TORCH_GETTERS[name])
    assert (extraction.shared_groups, extraction.explicit_patterns) == EXPECTED[name]
    assert extraction.warnings == ()
    # Nothing of torch's is named by a private path, and no root beyond torch's is needed.
    assert "._" not in extraction.text and "allowed_roots" not in extraction.text
    assert schema_problems(extraction.text) == []


def test_fbgemm_extraction_names_the_dtype_configs_and_op_groups_of_the_fbgemm_spec():
    ours = tomllib.loads(extracted(TORCH_GETTERS["fbgemm"]).text)
    spec = tomllib.loads(backends.BY_NAME["fbgemm"].spec.read_text())
    assert list(ours["dtype_configs"]) == list(spec["dtype_configs"])  # the same 7, in torch's order
    assert ours["dtype_configs"] == spec["dtype_configs"]
    assert ours["backend"]["op_groups"] == spec["backend"]["op_groups"]  # the same 11, lists and all
    assert len(ours["backend"]["op_groups"]) == 11
    assert ours["include"] == ["builtin:op_groups/common.toml"]
    for key in ("name", "getter", "torch_version", "torch_getter", "doc"):
        assert ours["backend"][key] == spec["backend"][key]


def test_onednn_fusers_and_node_getters_are_recognized_by_behaviour():
    """onednn's private fusers become the catalog's [fusers], its getters positions:
    the extraction uses the groups spec/onednn.toml uses."""
    ours = tomllib.loads(extracted(TORCH_GETTERS["onednn"]).text)
    spec = tomllib.loads(backends.BY_NAME["onednn"].spec.read_text())
    assert ours["backend"]["op_groups"] == spec["backend"]["op_groups"]
    assert ours["include"] == ["builtin:op_groups/common.toml", "builtin:op_groups/onednn.toml"]


def test_qnnpack_constraints_are_named_by_torch_constants():
    text = extracted(TORCH_GETTERS["qnnpack"]).text
    ours = tomllib.loads(text)
    assert list(ours["constraints"]) == [
        "qnnpack_act_qint8_scale_min_2_neg_12",
        "qnnpack_weight_qint8_neg_127_to_127_scale_min_2_neg_12",
    ]
    assert ours["constraints"]["qnnpack_act_qint8_scale_min_2_neg_12"]["scale_min_lower_bound"] == 2**-12
    assert "scale_min_lower_bound = 0.000244140625 # 2 ** -12" in text
    symmetric = ours["dtype_configs"]["qnnpack_weighted_op_qint8_symmetric_dtype_config"]
    assert symmetric["weight_dtype"] == "qnnpack_weight_qint8_neg_127_to_127_scale_min_2_neg_12"


def test_tensorrt_local_dtype_configs_get_descriptive_names_and_addmm_is_explicit():
    ours = tomllib.loads(extracted(TORCH_GETTERS["tensorrt"]).text)
    assert list(ours["dtype_configs"]) == ["tensorrt_weighted_op_qint8_dtype_config", "tensorrt_op_qint8_dtype_config"]
    (group,) = ours["op_groups"].values()
    assert group["sections"] == [
        {"patterns": [{"pattern": "torch.addmm", "input_type_to_index": {"bias": 0, "input": 1, "weight": 2}}]}
    ]


def test_a_user_config_with_its_own_fuser_round_trips_with_a_warning(tmp_path):
    comparison, backend = round_trip(USER_CONFIG, tmp_path)
    assert comparison.equal, text_report(comparison, [])
    extraction = extracted(USER_CONFIG)
    assert schema_problems(extraction.text) == []
    (warning,) = extraction.warnings
    assert USER_FUSER in warning and "(torch.nn.Linear, torch.nn.ReLU)" in warning
    ours = tomllib.loads(extraction.text)
    assert ours["allowed_roots"] == ["extract_user_config"]
    assert ours["backend"]["torch_getter"] == "extract_user_config.get_my_backend_config"
    # The constrained dtype config and its constraints keep the module's names.
    assert ours["constraints"]["my_act_quint8_0_to_127"] == {
        "dtype": "quint8", "quant_min_lower_bound": 0, "quant_max_upper_bound": 127, "scale_min_lower_bound": 2**-10,
    }
    assert ours["dtype_configs"]["my_gelu_dtype_config"] == {
        "input_dtype": "my_act_quint8_0_to_127", "output_dtype": "my_act_quint8_0_to_127",
    }
    # A constant the module imports names the config too.
    assert "fbgemm_weighted_op_quint8_dtype_config" in ours["dtype_configs"]
    entries = [entry for group in ours["op_groups"].values() for s in group["sections"] for entry in s["patterns"]]
    assert {"pattern": ["torch.nn.Linear", "torch.nn.ReLU"], "fused_module": "torch.ao.nn.intrinsic.LinearReLU",
            "fuser_method": USER_FUSER} in entries


def test_a_module_type_and_a_getter_of_the_users_own_round_trip(tmp_path):
    """A class is a symbol under an allowed root (no warning); the user's getter is
    named by its import path with a warning, even though it returns a fixed position."""
    target = "extract_user_config:get_config_with_my_module_and_getter"
    comparison, _ = round_trip(target, tmp_path)
    assert comparison.equal, text_report(comparison, [])
    extraction = extracted(target)
    (warning,) = extraction.warnings
    assert "root_node_getter extract_user_config.the_linear is a function of your own" in warning
    ours = tomllib.loads(extraction.text)
    # Two op groups of its own: the patterns have different dtype configs.
    entries = [entry for group in ours["op_groups"].values() for entry in group["sections"][0]["patterns"]]
    assert entries == [
        {"pattern": "extract_user_config.MyBlock", "root_module": "extract_user_config.MyBlock"},
        {"pattern": ["torch.nn.Linear", "torch.nn.ReLU"], "root_node_getter": "extract_user_config.the_linear"},
    ]


def test_a_users_function_is_never_replaced_by_a_declaration_that_merely_behaves_alike(tmp_path):
    """A probe with FX's arguments cannot tell fuse_linear_relu_needing_bias from
    {sequential = LinearReLU} (they differ on a Linear without bias): it keeps its import
    path. Closures, which cannot be imported, become the declaration they behave as,
    each with a warning saying so."""
    target = "extract_user_config:get_config_with_look_alike_callables"
    comparison, _ = round_trip(target, tmp_path)
    assert comparison.equal, text_report(comparison, [])
    extraction = extracted(target)
    entries = [entry for group in tomllib.loads(extraction.text)["op_groups"].values()
               for section in group["sections"] for entry in section["patterns"]]
    assert [entry.get("fuser_method") for entry in entries] == [
        "extract_user_config.fuse_linear_relu_needing_bias",
        {"sequential": "torch.ao.nn.intrinsic.ConvReLU2d"},
    ]
    assert entries[1]["root_node_getter"] == {"node_at": [1]}
    own, closure, lam = extraction.warnings
    assert "fuser_method extract_user_config.fuse_linear_relu_needing_bias is a function of your own" in own
    assert "cannot be imported (a closure or lambda); written as {sequential = " in closure
    assert "root_node_getter" in lam and "written as {node_at = [1]}" in lam


def test_an_empty_config_round_trips(tmp_path):
    comparison, backend = round_trip("extract_user_config:get_empty_config", tmp_path)
    assert comparison.equal and backend.pattern_configs == ()


def test_the_cli_writes_the_user_spec_with_the_warning_and_diff_finds_it_equal(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    status, _, err = run_extract(USER_CONFIG, "-o", "spec/mine.toml", capsys=capsys)
    assert status == 0, err
    lines = err.splitlines()
    assert lines[0].startswith("warning: configs[60] (torch.nn.Linear, torch.nn.ReLU): fuser_method " + USER_FUSER)
    assert lines[-1] == "wrote: spec/mine.toml"
    assert 'output = "../generated/mine.py"' in (tmp_path / "spec" / "mine.toml").read_text()
    assert generator_main(["diff", "spec/mine.toml", USER_CONFIG]) == 0
    assert "every field equal" in capsys.readouterr().out


def test_the_same_spec_every_time_whatever_the_hash_seed(tmp_path):
    """In this process and in another with another hash seed: the same bytes, for a
    cover (onednn's: fusers, complex patterns) and a delta (a team's x86 fork:
    removed op groups, a redefined dtype config)."""
    onednn, team = TORCH_GETTERS["onednn"], "team_config:get_team_backend_config"
    ours = [extract(onednn, "spec/x.toml", "x.py", base=NO_BASE).text, extract(team, "spec/x.toml", "x.py").text]
    assert extract(onednn, "spec/x.toml", "x.py", base=NO_BASE).text == ours[0]
    seed = "4242" if os.environ.get("PYTHONHASHSEED") != "4242" else "17"
    code = (
        "import sys; from generator.extract.extractor import extract; "
        f"sys.stdout.write(extract({onednn!r}, 'spec/x.toml', 'x.py', base='none').text + '\\0' + extract({team!r}, 'spec/x.toml', 'x.py').text)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": f"{REPO}{os.pathsep}{TESTS}"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\0") == ours


@pytest.mark.parametrize(
    "target, message",
    [
        ("extract_user_config:get_config_with_a_lambda_fuser", "is a lambda, which cannot be imported"),
        ("extract_user_config:not_a_backend_config", "not_a_backend_config() returned str, not a BackendConfig"),
        ("extract_user_config:no_such_function", "extract_user_config has no function 'no_such_function'"),
        ("no_such_module_anywhere:get_config", "cannot import no_such_module_anywhere: ModuleNotFoundError"),
        ("torch.ao.quantization.backend_config", "expected MODULE:FUNCTION"),
        # torch's private pt2e config: aten operator overloads and literals, no public paths.
        (
            "torch.ao.quantization.backend_config._qnnpack_pt2e:get_qnnpack_pt2e_backend_config",
            "is private to torch and has no public path the spec can name",
        ),
    ],
)
def test_bad_input_exits_2_with_one_error_line(target, message, capsys, tmp_path):
    status, out, err = run_extract(target, "-o", str(tmp_path / "x.toml"), capsys=capsys)
    assert status == 2
    assert out == "" and err.count("\n") == 1 and err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and not (tmp_path / "x.toml").exists()


def test_the_lambda_error_names_the_pattern(capsys):
    status, _, err = run_extract("extract_user_config:get_config_with_a_lambda_fuser", capsys=capsys)
    assert status == 2
    assert err == (
        "error: extract_user_config:get_config_with_a_lambda_fuser: configs[0] (torch.nn.Linear, torch.nn.ReLU): "
        "fuser_method: extract_user_config.get_config_with_a_lambda_fuser.<locals>.<lambda> is a lambda, "
        "which cannot be imported; define it as a module-level function\n"
    )


def test_an_existing_file_that_is_not_an_extracted_spec_is_kept_unless_forced(capsys, tmp_path):
    spec = tmp_path / "fbgemm.toml"
    spec.write_text(backends.BY_NAME["fbgemm"].spec.read_text())
    before = spec.read_bytes()
    target = TORCH_GETTERS["tensorrt"]
    status, _, err = run_extract(target, "-o", str(spec), capsys=capsys)
    assert status == 2 and "exists and is not a spec written by extract; pass --force" in err
    assert spec.read_bytes() == before
    assert run_extract(target, "-o", str(spec), "--force", "--base", "none", capsys=capsys)[0] == 0
    status, _, err = run_extract(target, "-o", str(spec), "--base", "none", capsys=capsys)  # its own output: rewritten freely
    assert status == 0 and err.endswith("unchanged: " + spec.as_posix() + "\n")
    assert 'output = "fbgemm.py"' in spec.read_text()


def test_without_o_the_spec_is_printed(capsys):
    status, out, err = run_extract(TORCH_GETTERS["tensorrt"], "--getter", "get_trt", capsys=capsys)
    assert status == 0
    data = tomllib.loads(out)
    assert data["backend"]["getter"] == "get_trt" and data["backend"]["output"] == "tensorrt.py"
    assert "149 patterns: builtin:tensorrt.toml with nothing changed" in err
    assert data["extends"] == "builtin:tensorrt.toml"
    assert data["backend"]["doc"] == "Return the BackendConfig for the TensorRT backend."  # its docstring's first sentence


def test_the_documentation_pastes_real_output(capsys, tmp_path, monkeypatch):
    section = (REPO / "docs" / "extract.md").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".git").mkdir()
    target = TORCH_GETTERS["tensorrt"]
    commands = [
        ["extract", target, "-o", "spec/my_tensorrt.toml"],
        ["spec/my_tensorrt.toml"],
        ["diff", "spec/my_tensorrt.toml", target],
        ["extract", USER_CONFIG, "-o", "spec/my_backend.toml"],
        ["extract", "extract_user_config:get_config_with_a_lambda_fuser", "-o", "spec/lambda.toml"],
    ]
    for command in commands:
        generator_main(command)
        captured = capsys.readouterr()
        assert f"$ backendconfig-gen {' '.join(command)}\n{captured.err}{captured.out}" in section
    spec = (tmp_path / "spec" / "my_tensorrt.toml").read_text()
    start = section.index("```toml\n") + len("```toml\n")
    for chunk in section[start : section.index("```", start)].split("...\n"):
        assert chunk in spec
