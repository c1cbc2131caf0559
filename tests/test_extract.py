"""python -m generator extract: a spec from an existing BackendConfig.

Every BackendConfig getter of torch 2.13.0 round-trips (extract -> load and generate
in memory -> run -> the comparison engine finds the configs equal), and so does a
user's config with a fuser function and a constrained dtype config of its own. The
extracted FBGEMM spec declares the dtype configs and uses the op groups that
spec/fbgemm.toml does. The spec is the same bytes on every run.
"""

from __future__ import annotations

import functools
import os
import tomllib
from pathlib import Path

import pytest

import backends
from conftest import REPO, run_generator
from generator.cli import main as generator_main
from generator.compare.differ import compare
from generator.compare.sides import describe_sides, load_function_side, load_generated
from generator.compare.text_report import text_report
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
    # Its partial uses (parts, where and rows of its own at once) are written out.
    "executorch": (3, 75),
}


@functools.cache
def extracted(target: str) -> Extraction:
    return extract(target, "spec/extracted.toml", "extracted.py")


def round_trip(target: str, directory: Path):
    """The extracted spec, loaded and generated as the CLI would, run and compared
    with the function's own config by the engine."""
    spec = directory / "extracted.toml"
    spec.write_text(extracted(target).text)
    backend = load_backend(spec)
    source = build_module(backend, "python -m generator extracted.toml")
    ours = load_generated(backend, source, str(spec), "spec")
    module, _, function = target.partition(":")
    theirs = load_function_side(module, function, target, "function")
    return compare(*describe_sides(ours, theirs)), backend


def test_every_torch_backend_config_getter_is_listed():
    """The round trips below cover every getter torch's backend_config package has."""
    import torch.ao.quantization.backend_config as package

    getters = {
        f"{module.__name__}:{name}"
        for module in vars(package).values()
        if getattr(module, "__name__", "").startswith(package.__name__ + ".")
        for name, value in vars(module).items()
        if name.startswith("get_") and name.endswith("_backend_config") and callable(value)
        and getattr(value, "__module__", "") == module.__name__
    }
    defined = {f"{module}:{name}" for module, name in (t.split(":") for t in TORCH_GETTERS.values())}
    named = {g.replace("torch.ao.quantization.backend_config:", f"torch.ao.quantization.backend_config.{_home(g)}:") for g in defined}
    assert getters <= named, sorted(getters - named)


def _home(target: str) -> str:
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name).__module__.rpartition(".")[2]


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


def test_the_cli_writes_the_user_spec_with_the_warning_and_diff_finds_it_equal(tmp_path):
    (tmp_path / ".git").mkdir()
    env = {"PYTHONPATH": os.pathsep.join([str(REPO), str(TESTS)])}
    result = run_generator("extract", USER_CONFIG, "-o", "spec/mine.toml", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("warning: configs[") and USER_FUSER in lines[0]
    assert lines[-1] == "wrote: spec/mine.toml"
    assert 'output = "../generated/mine.py"' in (tmp_path / "spec" / "mine.toml").read_text()
    diff = run_generator("diff", "spec/mine.toml", USER_CONFIG, cwd=tmp_path, env=env)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "every field equal" in diff.stdout


def test_the_same_spec_every_time_whatever_the_hash_seed(tmp_path):
    target = TORCH_GETTERS["onednn"]
    assert extract(target, "spec/extracted.toml", "extracted.py").text == extracted(target).text
    (tmp_path / ".git").mkdir()
    written = []
    for seed in ("0", "4242"):
        spec = f"spec/onednn_{seed}.toml"
        result = run_generator("extract", target, "-o", spec, "--output-module", "generated/onednn.py", cwd=tmp_path, env={"PYTHONHASHSEED": seed})
        assert result.returncode == 0, result.stderr
        written.append((tmp_path / spec).read_bytes())
    assert written[0].replace(b"onednn_0", b"onednn_4242") == written[1]
    assert b'output = "../generated/onednn.py"' in written[0]


def run_extract(*args: str, capsys) -> tuple[int, str, str]:
    status = generator_main(["extract", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    "target, message",
    [
        ("extract_user_config:get_config_with_a_lambda_fuser", "is a lambda, which cannot be imported"),
        ("extract_user_config:not_a_backend_config", "not_a_backend_config() returned str, not a BackendConfig"),
        ("extract_user_config:no_such_function", "extract_user_config has no function 'no_such_function'"),
        ("no_such_module_anywhere:get_config", "cannot import no_such_module_anywhere: ModuleNotFoundError"),
        ("torch.ao.quantization.backend_config", "expected MODULE:FUNCTION"),
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
    assert run_extract(target, "-o", str(spec), "--force", capsys=capsys)[0] == 0
    status, _, err = run_extract(target, "-o", str(spec), capsys=capsys)  # its own output: rewritten freely
    assert status == 0 and err.endswith("unchanged: " + spec.as_posix() + "\n")
    assert 'output = "fbgemm.py"' in spec.read_text()


def test_without_o_the_spec_is_printed(capsys):
    status, out, err = run_extract(TORCH_GETTERS["tensorrt"], "--getter", "get_trt", capsys=capsys)
    assert status == 0
    data = tomllib.loads(out)
    assert data["backend"]["getter"] == "get_trt" and data["backend"]["output"] == "tensorrt.py"
    assert "149 patterns: 6 uses of shared op groups, 1 explicit patterns" in err
