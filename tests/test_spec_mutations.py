"""Bugs that each passed the whole suite once (issue 17, item 7, a mutation
sample): every test here fails when its bug is planted back."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from generator.errors import SpecError
from generator.formatting import build_module
from generator.loader import load_backend
from generator.model import Symbol
from hardening_helpers import SMALL_SPEC
from tiny_spec import TINY_SPEC, write_spec

SMALL = SMALL_SPEC.replace("DOC", "Return the small BackendConfig.")


def _problems(spec: Path) -> list[str]:
    try:
        load_backend(spec)
    except SpecError as error:
        return [str(problem) for problem in error.problems]
    return []


def _built(backend, namespace: dict | None = None):
    """The config the module of ``backend`` builds (torch imported)."""
    namespace = {} if namespace is None else namespace
    exec(compile(build_module(backend, "python -m generator small.toml"), "small", "exec"), namespace)
    return namespace[backend.getter]()


def test_a_dtype_config_of_an_include_may_not_take_the_name_of_one_of_the_spec(tmp_path):
    """Bug: accepted, and the include's values replaced the spec's in the module."""
    (tmp_path / "small.toml").write_text('include = ["groups.toml"]\n' + SMALL)
    (tmp_path / "groups.toml").write_text('[dtype_configs.small_config]\ninput_dtype = "qint8"\noutput_dtype = "qint8"\n')
    assert _problems(tmp_path / "small.toml") == [
        f"{_named(tmp_path / 'groups.toml')}: dtype_configs.small_config: duplicate dtype config 'small_config'; "
        "already defined in the spec"
    ]


def _named(path: Path) -> str:
    """How messages name a file (relative to the working directory when below it)."""
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


@pytest.mark.parametrize("helper", ["_sequential_fuser", "_node_at", "_nodes_at"])
def test_the_names_of_the_modules_helpers_are_taken(helper, tmp_path):
    """Bug: a dtype config named like a helper was shadowed by it in a module whose
    __all__ listed it. The tiny spec uses every helper."""
    spec = copy.deepcopy(TINY_SPEC)
    spec["dtype_configs"][helper] = spec["dtype_configs"].pop("tiny_dtype_config")
    spec["backend"]["op_groups"][0]["dtype_configs"][0] = helper
    assert _problems(write_spec(tmp_path, spec)) == [
        f"{_named(tmp_path / 'tiny.toml')}: dtype_configs.{helper}: name {helper!r} of dtype config {helper!r} is taken by "
        "the module's own imports or helpers; expected another name"
    ]


def test_argument_indexes_go_up_to_1000_and_no_further(tmp_path):
    """Bug: the documented largest index refused (or the next one accepted), with
    no test at the boundary."""
    spec = tmp_path / "small.toml"
    entry = 'pattern = "torch.nn.ReLU"'
    spec.write_text(SMALL.replace(entry, f"{entry}, input_type_to_index = {{ weight = 1001 }}"))
    assert _problems(spec) == [
        f"{_named(spec)}: op_groups.small_group.sections[0].patterns[0].input_type_to_index.weight: expected an argument "
        "index (integer from 0 to 1000), got integer 1001"
    ]
    spec.write_text(SMALL.replace(entry, f"{entry}, input_type_to_index = {{ weight = 1000 }}"))
    (config,) = _built(load_backend(spec)).configs
    assert config._input_type_to_index == {"weight": 1000}


GROUP = """
[op_groups.sections]
[[op_groups.sections.sections]]
for_each = [{ op = "torch.nn.Conv1d" }, { op = "torch.nn.Conv2d" }]
patterns = [{ pattern = "{op}" }]
[[op_groups.sections.sections]]
patterns = [{ pattern = "torch.nn.Hardswish" }]
[[op_groups.sections.sections]]
for_each = [{ act = "torch.nn.Tanh" }, { act = "torch.nn.Sigmoid" }]
patterns = [{ pattern = "{act}" }]
"""


def test_where_keeps_the_sections_without_its_variable_whole(tmp_path):
    """`where` filters the rows of the sections that have its variable; a section
    without for_each, or with other variables, is kept as it is. Bug: dropped
    (only the extraction counts of another test saw it)."""
    spec = tmp_path / "small.toml"
    use = '\n[[backend.op_groups]]\nname = "sections"\ndtype_configs = ["small_config"]\nwhere = { op = "torch.nn.Conv2d" }\n'
    spec.write_text(SMALL + GROUP + use)
    patterns = [config.pattern for config in load_backend(spec).pattern_configs]
    assert patterns == [Symbol(f"torch.nn.{name}") for name in ("ReLU", "Conv2d", "Hardswish", "Tanh", "Sigmoid")]
