"""Every generated module passes the linters and type checkers that vendoring
repositories run, with no exclusion and no configuration of theirs: the committed
modules, and what a customized spec generates (each op group on its own, none at
all), since a module imports only what its pattern configs use."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO
from generator.formatting import build_module
from generator.loader import load_backend

MODULES = sorted((REPO / "generated").glob("*.py"))
TOOLS = Path(sys.executable).parent


def _customized_modules(directory: Path) -> list[Path]:
    """A module per op group of the builtin specs, each the only group its spec
    keeps (the first backend that uses a group), and one that keeps none."""
    (directory / "pyproject.toml").write_text("")
    specs: list[tuple[str, str, list[str]]] = []
    seen: set[str] = set()
    for spec in sorted((REPO / "spec").glob("*.toml")):
        uses = [use["name"] for use in tomllib.loads(spec.read_text())["backend"].get("op_groups", [])]
        for group in dict.fromkeys(uses):
            if group not in seen:
                seen.add(group)
                specs.append((f"only_{group}", spec.as_posix(), [other for other in uses if other != group]))
        if spec.stem == "fbgemm":
            specs.append(("no_op_groups", spec.as_posix(), uses))
    modules = []
    for name, base, removed in specs:
        path = directory / f"{name}.toml"
        path.write_text(f'extends = "{base}"\n[backend]\noutput = "{name}.py"\nremove_op_groups = {list(dict.fromkeys(removed))!r}\n'.replace("'", '"'))
        module = directory / f"{name}.py"
        module.write_text(build_module(load_backend(path), f"python -m generator {name}.toml"))
        modules.append(module)
    for name, text in MAPPING_SPECS.items():
        path = directory / f"{name}.toml"
        path.write_text(text)
        module = directory / f"{name}.py"
        module.write_text(build_module(load_backend(path), f"python -m generator {name}.toml"))
        modules.append(module)
    return modules


# QConfigMapping features the builtin mappings do not use: None, inline qconfigs and
# constructors, with_args on a named constructor, strings, every kind of entry; and
# a module whose only mapping sets no qconfig (no QConfig to import).
MAPPING_SPECS = {
    "mapping_features": f"""
extends = "{(REPO / "spec" / "qnnpack.toml").as_posix()}"
[backend]
output = "mapping_features.py"
[observers.my_observer]
class = "default_weight_observer"
with_args = {{ dtype = "quint8", custom_op_name = "it's \\"quoted\\"" }}
[qconfig_mappings.qnnpack]
remove_object_types = [{{ method = "reshape" }}]
object_types = [{{ object = "torch.nn.Linear", qconfig = "None" }}, {{ object = "torch.add", qconfig = {{ activation = "my_observer", weight = {{ class = "torch.ao.quantization.observer.MinMaxObserver", with_args = {{ eps = 0.000244140625 }} }} }} }}]
module_name_regexes = [{{ regex = 'features\\.[0-9]+', qconfig = "qnnpack_qconfig" }}]
module_names = [{{ module_name = "head", qconfig = "None" }}]
module_name_object_type_orders = [{{ module_name = "", object = "torch.add", index = 3, qconfig = "None" }}]
""",
    "mapping_without_qconfigs": f"""
extends = "{(REPO / "spec" / "tensorrt.toml").as_posix()}"
[backend]
output = "mapping_without_qconfigs.py"
[qconfig_mappings.floats]
module_names = [{{ module_name = "head", qconfig = "None" }}]
""",
}


@pytest.fixture(scope="module")
def customized(tmp_path_factory) -> list[Path]:
    return _customized_modules(tmp_path_factory.mktemp("customized"))


def test_every_op_group_is_covered_by_a_customized_module(customized):
    names = {module.stem for module in customized}
    assert {"only_conv", "only_linear", "only_conv_add", "only_layer_norm", "only_addmm", "no_op_groups", *MAPPING_SPECS} <= names, names


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, timeout=600)


def test_there_is_a_module_per_backend_spec():
    specs = sorted(path.stem for path in (REPO / "spec").glob("*.toml"))
    assert [module.stem for module in MODULES] == specs


@pytest.mark.parametrize(
    "selection",
    # 79 columns: PEP 8's, the narrowest line length repositories set; every wider
    # setting accepts what 79 does.
    [[], ["--select", "E,F,W,I,UP,B,SIM", "--line-length", "79"]],
    ids=["ruff-defaults", "ruff-E,F,W,I,UP,B,SIM-79"],
)
def test_ruff_finds_nothing(selection, customized, tmp_path):
    result = run(TOOLS / "ruff", "check", "--isolated", "--no-cache", *selection, *MODULES, *customized, cwd=tmp_path)
    assert result.returncode == 0, result.stdout


def test_ruff_fix_changes_nothing(tmp_path):
    copies = []
    for module in MODULES:
        shutil.copy(module, tmp_path / module.name)
        copies.append(tmp_path / module.name)
    for selection in ([], ["--select", "E,F,W,I,UP,B,SIM,RUF", "--line-length", "79"]):
        run(TOOLS / "ruff", "check", "--isolated", "--no-cache", "--fix", *selection, *copies, cwd=tmp_path)
    for module, copy in zip(MODULES, copies, strict=True):
        assert copy.read_bytes() == module.read_bytes(), module.name


def test_mypy_strict_finds_nothing(customized, tmp_path):
    # Copies, so that mypy sees each module as a top-level module of its own.
    modules = [*MODULES, *customized]
    for module in modules:
        shutil.copy(module, tmp_path / module.name)
    result = run(TOOLS / "mypy", "--strict", "--cache-dir", tmp_path / ".mypy_cache", *(m.name for m in modules), cwd=tmp_path)
    assert result.returncode == 0, result.stdout
    assert f"no issues found in {len(modules)} source files" in result.stdout


def test_docstrings_of_any_length_fit_the_line_length_after_black():
    """black may move a docstring's closing quotes up onto its last line, even past
    its line length (an 80-character one-line docstring became a 90-column line),
    so wrapping must leave room for them on every line."""
    import black

    from generator.formatting import BLACK_MODE
    from generator.literals import LINE_LENGTH, docstring

    prose = "Return the BackendConfig 'fbgemm', customized from ../spec/fbgemm.toml, as torch builds it. " * 3
    for length in range(40, 200):
        text = prose[:length].rstrip() + "."
        source = f"def f() -> None:\n    {docstring(text)}\n    return None\n"
        formatted = black.format_str(source, mode=BLACK_MODE)
        assert max(len(line) for line in formatted.splitlines()) <= LINE_LENGTH, formatted


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20), min_size=1, max_size=30))
def test_a_long_message_is_cut_into_literals_that_join_to_it_and_fit_after_black(words):
    """A declared fuser's error message (spec text) is written as adjacent string
    literals: together exactly the message, each on a line within the line length."""
    import black

    from generator.formatting import BLACK_MODE
    from generator.literals import LINE_LENGTH, wrapped_string_literal

    text = " ".join(words)
    literal = wrapped_string_literal(text, 12)
    assert eval(literal) == text  # noqa: S307 - our own literal, built from repr pieces
    source = f"def f() -> None:\n    if True:\n        raise AssertionError(\n            {literal}\n        )\n"
    formatted = black.format_str(source, mode=BLACK_MODE)
    assert max(len(line) for line in formatted.splitlines()) <= LINE_LENGTH, formatted
